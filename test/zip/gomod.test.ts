import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashGoModFile } from '../../src/zip/index.ts';

const vectors = JSON.parse(
  fs.readFileSync(new URL('../vectors/go-reference.json', import.meta.url), 'utf8'),
) as { gomod_hash: Array<{ content: string; h1: string }> };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-gomod-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('hashGoModFile', () => {
  vectors.gomod_hash.forEach((v, i) => {
    it(`gives Go's go.mod hash for vector ${i}`, async () => {
      const file = path.join(dir, `go${i}.mod`);
      fs.writeFileSync(file, v.content);
      assert.equal(await hashGoModFile(file), v.h1);
    });
  });
  it('reports a missing file as bad input', async () => {
    await assert.rejects(hashGoModFile(path.join(dir, 'missing.mod')), { code: 'bad_input' });
  });
});
