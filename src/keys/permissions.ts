/**
 * File-mode checks for secrets on the online server. `serve` refuses a private key file, a PIN file
 * or a key directory that anyone but its owner can use, and names the chmod that fixes it: a key
 * another local account can read is a key that account can copy. The ceremony creates private files
 * 0600 (0400 for the root key) and key directories 0700, so its output always passes.
 *
 * What counts: any permission bit for group or others (mode & 0o077). For a file that is read or
 * write access; for a directory, listing or entering it. POSIX modes only: on a file system without
 * them (Windows) the check is skipped.
 */
import { statSync } from 'node:fs';
import { SumkeepError } from '../core/errors.ts';

const GROUP_OTHER = 0o077;

/** A path as it can be pasted into a POSIX shell: bare when it is plain, else single-quoted. */
export function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function modeOf(path: string): number | null {
  if (process.platform === 'win32') return null;
  try {
    return statSync(path).mode & 0o777;
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/**
 * Refuses (config) a secret file that group or others have any access to, e.g.
 * "keys/note.key is readable by group or others (mode 0644): run `chmod 600 keys/note.key`".
 * `what` names the kind of file in the message ("private key", "PIN file").
 */
export function checkSecretFile(file: string, what = 'private key file'): void {
  const mode = modeOf(file);
  if (mode === null || (mode & GROUP_OTHER) === 0) return;
  throw new SumkeepError(
    'config',
    `${what} ${file} is open to group or others (mode ${octal(mode)}): run \`chmod 600 ${shellQuote(file)}\``,
  );
}

/** Refuses (config) a directory of private keys that group or others may list or enter. */
export function checkKeyDirectory(dir: string): void {
  const mode = modeOf(dir);
  if (mode === null || (mode & GROUP_OTHER) === 0) return;
  throw new SumkeepError(
    'config',
    `key directory ${dir} is open to group or others (mode ${octal(mode)}): run \`chmod 700 ${shellQuote(dir)}\``,
  );
}
