/**
 * Key files on disk. Files are created exclusively (O_EXCL) with the mode given (0600 or 0400 for
 * private keys, 0644 for public files) and are never overwritten; directories holding keys are
 * created 0700, and an existing one that group or others could use is narrowed to 0700 (serve
 * refuses anything wider, see permissions.ts).
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';

export function ensureKeyDir(dir: string, mode = 0o700): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
    // mkdir leaves an existing directory (e.g. keys/ as git checks it out, 0755) as it was.
    if (mode === 0o700 && (statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch (e) {
    throw new SumkeepError('config', `cannot create ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes a new file; refuses (key_exists) if it is already there, so key material is never replaced. */
export function writeNewFile(dir: string, name: string, content: string, mode: number): string {
  const file = join(dir, name);
  try {
    writeFileSync(file, content, { flag: 'wx', mode });
    // The umask may have cleared bits of `mode`; set exactly what we promise.
    chmodSync(file, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SumkeepError('key_exists', `${file} already exists; sumkeep never overwrites key material`);
    }
    throw new SumkeepError('config', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return file;
}

/** The files one ceremony step created, with their modes, in order (for what the CLI prints). */
export class CreatedFiles {
  readonly list: { file: string; mode: number }[] = [];

  write(dir: string, name: string, content: string, mode: number): string {
    const file = writeNewFile(dir, name, content, mode);
    this.list.push({ file, mode });
    return file;
  }

  /** Records a file another function created. */
  add(file: string, mode: number): void {
    this.list.push({ file, mode });
  }
}

/** Refuses (key_exists) when any of `names` exists in `dir`: checked before a step writes anything. */
export function refuseExisting(dir: string, names: readonly string[], hint: string): void {
  for (const name of names) {
    const file = join(dir, name);
    if (existsSync(file)) throw new SumkeepError('key_exists', `${file} already exists; ${hint}`);
  }
}

export function readKeyFile(dir: string, name: string): string | null {
  const file = join(dir, name);
  if (!existsSync(file)) return null;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}
