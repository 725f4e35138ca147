/**
 * The state file of `sumkeep verify --proofs`: the latest signed tree head it verified for one log,
 * kept as the exact note bytes (like the go command's $GOPATH/pkg/sumdb/<name>/latest), so that
 * every later run can prove the server's tree extends it. Default place:
 *
 *     ${XDG_CONFIG_HOME:-~/.config}/sumkeep/verify-state/<log name>.latest
 *
 * The file is replaced atomically (write a temporary file, rename) and only by a larger tree: it
 * is re-read just before writing, so a concurrent run that stored a newer head is not rolled back
 * (the window between that read and the rename is the one race left, and it can only keep an
 * older, still consistent head).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { open, type VerifierSet } from '../core/note.ts';
import { parseTree, type Tree } from '../core/tlog/index.ts';
import { utf8 } from '../core/bytes.ts';

export interface RememberedTree {
  tree: Tree;
  /** The signed note, exact bytes. */
  note: Uint8Array;
}

/** The default state file for a log name; characters outside [A-Za-z0-9._-] become "_". */
export function defaultStateFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : join(homedir(), '.config');
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  return join(base, 'sumkeep', 'verify-state', `${safe}.latest`);
}

/** Opens note bytes as a tree head signed by one of `verifiers`; throws SumkeepError. */
export function openTreeNote(note: Uint8Array, verifiers: VerifierSet): Tree {
  return parseTree(utf8(open(note, verifiers).text));
}

/**
 * The tree remembered in `file`, or null when there is no file. A file that cannot be read, or
 * whose note does not verify with `verifiers`, is a `config` error naming the file: it belongs to
 * another log or was damaged, and silently starting over would forget what it protects.
 */
export function loadState(file: string, verifiers: VerifierSet): RememberedTree | null {
  let note: Uint8Array;
  try {
    note = new Uint8Array(readFileSync(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SumkeepError('config', `cannot read state file ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return { tree: openTreeNote(note, verifiers), note };
  } catch (e) {
    if (!isSumkeepError(e)) throw e;
    throw new SumkeepError(
      'config',
      `state file ${file} does not hold a tree head signed by this log's key (${e.message}); ` +
        'if it belongs to another log, pass --state <file>',
      { cause: e },
    );
  }
}

/**
 * Stores `latest` in `file` unless the file already holds a tree at least as large. Returns true
 * when it wrote. Directories are created with mode 0700.
 */
export function saveState(file: string, latest: RememberedTree, verifiers: VerifierSet): boolean {
  const current = loadState(file, verifiers);
  if (current !== null && current.tree.N >= latest.tree.N) return false;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, latest.note, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    throw new SumkeepError('config', `cannot write state file ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return true;
}
