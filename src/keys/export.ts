/**
 * `ceremony export-public`: copies the public material of a key directory into another directory,
 * to publish it or carry it to the online server: trust.json, root-ca.pem, every *.crt and the note
 * verifier keys (note.pub, note-<n>.pub). Nothing else is ever copied; a file that holds anything
 * that looks like private key material is refused rather than copied.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { readTextFile } from './authority.ts';
import { CreatedFiles, ensureKeyDir, refuseExisting } from './files.ts';
import { MODE_PUBLIC, ROOT_CERT_FILE, TRUST_FILE, noteGenerationOf } from './layout.ts';
import { readTrustFile } from './trust.ts';

/** Whether `file` (a bare name) is public material export-public copies. */
export function isPublicFile(file: string): boolean {
  if (file === TRUST_FILE || file === ROOT_CERT_FILE) return true;
  if (file.endsWith('.crt') && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(file)) return true;
  return noteGenerationOf(file) !== null && file.endsWith('.pub');
}

export function exportPublic(o: { keysDir: string; outDir: string }): {
  created: { file: string; mode: number }[];
} {
  if (resolve(o.keysDir) === resolve(o.outDir)) {
    throw new SumkeepError('config', '--out must be another directory than --keys');
  }
  if (readTrustFile(o.keysDir) === null) {
    throw new SumkeepError('config', `no ${TRUST_FILE} in ${o.keysDir}: run \`sumkeep ceremony init\` first`);
  }
  let names: string[];
  try {
    names = readdirSync(o.keysDir).filter(isPublicFile).sort();
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${o.keysDir}: ${(e as Error).message}`, { cause: e });
  }
  const contents = names.map((name) => {
    const text = readTextFile(join(o.keysDir, name));
    if (/PRIVATE/.test(text)) {
      throw new SumkeepError(
        'config',
        `${join(o.keysDir, name)} holds private key material; refusing to export it`,
      );
    }
    return { name, text };
  });
  refuseExisting(o.outDir, names, 'export-public never overwrites; use an empty --out directory');
  // The export is public: a world-readable directory, so that it can be served as is.
  ensureKeyDir(o.outDir, 0o755);
  const files = new CreatedFiles();
  for (const { name, text } of contents) files.write(o.outDir, name, text, MODE_PUBLIC);
  return { created: files.list };
}
