/**
 * The memory bound of hashing a large module zip: a fresh `sumkeep hash zip` process hashing a
 * 200 MiB zip of incompressible content peaks under 100 MiB RSS (VmHWM), whether the content is
 * stored or deflated. This is a bound on memory, not on time. The CLI runs as JavaScript
 * transpiled from src/ (test/helpers/compiled.ts), as bin/sumkeep.js runs dist/: tsx would add its
 * own loader to the figure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hash1 } from '../../src/core/dirhash.ts';
import { peakRssKib, transpileSources, writePeakRssPreload } from '../helpers/compiled.ts';
import { ZipWriter, incompressible } from '../helpers/zipwriter.ts';

const MiB = 1 << 20;
const LIMIT_MIB = 100;
const P = 'example.com/blob@v1.0.0/';
const GO_MOD = 'module example.com/blob\n';

describe(`sumkeep hash zip of a 200 MiB incompressible zip`, { timeout: 300_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-zip-memory-'));
  let cli = '';
  let preload = '';
  before(() => {
    cli = path.join(transpileSources(path.join(dir, 'js')), 'cli', 'main.js');
    preload = writePeakRssPreload(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Method 8 at level 0: zlib writes stored deflate blocks, as it does (mostly) at any level for
  // incompressible bytes, but without spending seconds on a search that cannot succeed.
  for (const [what, method] of [
    ['deflated', 8],
    ['stored', 0],
  ] as const) {
    it(`peaks under ${LIMIT_MIB} MiB RSS with the content ${what}`, async () => {
      const zip = path.join(dir, `${what}.zip`);
      const content = createHash('sha256');
      const w = new ZipWriter(zip);
      w.add({ name: P + 'go.mod', content: GO_MOD });
      await w.addStream(
        { name: P + 'blob.bin', method, level: 0 },
        (function* () {
          for (const chunk of incompressible(200 * MiB, 7)) {
            content.update(chunk);
            yield chunk;
          }
        })(),
      );
      w.close();
      assert.ok(fs.statSync(zip).size > 200 * MiB, 'the zip is as large as its content');
      try {
        const r = spawnSync(process.execPath, ['--import', preload, cli, 'hash', 'zip', zip], {
          encoding: 'utf8',
          timeout: 240_000,
        });
        assert.equal(r.status, 0, r.stderr);
        const want = hash1([
          { name: P + 'go.mod', sha256: createHash('sha256').update(GO_MOD).digest() },
          { name: P + 'blob.bin', sha256: content.digest() },
        ]);
        assert.equal(r.stdout.trim(), want);
        const peak = peakRssKib(r.stderr) / 1024;
        assert.ok(peak < LIMIT_MIB, `peak RSS ${peak.toFixed(1)} MiB, limit ${LIMIT_MIB} MiB`);
      } finally {
        fs.rmSync(zip, { force: true });
      }
    });
  }
});
