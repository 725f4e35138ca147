/**
 * The go.sum hash of a go.mod file on disk (the `M V/go.mod h1:` line): Hash1 over one file named
 * "go.mod". The file is streamed through SHA-256, so its size does not matter here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { hash1 } from '../core/dirhash.ts';
import { SumkeepError } from '../core/errors.ts';

export async function hashGoModFile(file: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file, {
      highWaterMark: 1 << 20,
    }) as AsyncIterable<Buffer>) {
      h.update(chunk);
    }
  } catch (e) {
    throw new SumkeepError(
      'bad_input',
      `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  return hash1([{ name: 'go.mod', sha256: new Uint8Array(h.digest()) }]);
}
