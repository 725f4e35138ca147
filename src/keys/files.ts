/**
 * Key files on disk. Private files are created exclusively (O_EXCL) with mode 0600 and are never
 * overwritten; directories holding them are 0700. Public files are 0644.
 */
import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';

export function ensureKeyDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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

export function readKeyFile(dir: string, name: string): string | null {
  const file = join(dir, name);
  if (!existsSync(file)) return null;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}
