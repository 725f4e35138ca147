import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { formatRecord, tilePath } from '../../src/core/tlog/index.ts';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService } from '../../src/log/service.ts';
import { Publisher, tilesOfHead } from '../../src/log/publish.ts';
import { tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');

describe('tilesOfHead', () => {
  it('lists the full tiles completed since the old size and one partial per level', () => {
    assert.deepEqual(tilesOfHead(0, 3), [{ H: 8, L: 0, N: 0, W: 3 }]);
    assert.deepEqual(tilesOfHead(3, 256), [
      { H: 8, L: 0, N: 0, W: 256 },
      { H: 8, L: 1, N: 0, W: 1 },
    ]);
    assert.deepEqual(tilesOfHead(256, 600), [
      { H: 8, L: 0, N: 1, W: 256 },
      { H: 8, L: 0, N: 2, W: 88 },
      { H: 8, L: 1, N: 0, W: 2 },
    ]);
    assert.deepEqual(tilesOfHead(600, 600), []);
    // Level 1 did not change between 600 and 601 (still 2 level-1 hashes).
    assert.deepEqual(tilesOfHead(600, 601), [{ H: 8, L: 0, N: 2, W: 89 }]);
  });
});

describe('Publisher', () => {
  it('writes, for every signed head, byte for byte what the routes serve, and lookups that never change', async () => {
    const dir = tempDir('publish');
    const out = join(dir, 'pub');
    const { skey } = generateKey('publish.test');
    const store = await openSqliteStore(join(dir, 'log.db'));
    const seq = await Sequencer.open(store, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 37 });
    const service = new LogService(store, seq, null);
    const add = (i: number) =>
      seq.add({
        path: `example.com/Pub${i}`,
        version: `v1.0.${i}`,
        text: utf8(formatRecordLines(`example.com/Pub${i}`, `v1.0.${i}`, H(String(i % 7)), H('m'))),
        source: 't',
      });
    const pub = new Publisher(out, store);
    // Published as it grows (what serve --publish does), then resumed from a fresh publisher
    // after more records (what a restart or `sumkeep publish` does).
    await Promise.all(Array.from({ length: 300 }, (_, i) => add(i)));
    await pub.sync(await store.latestHead());
    await Promise.all(Array.from({ length: 500 }, (_, i) => add(300 + i)));
    await new Publisher(out, store).sync(await store.latestHead());

    const heads = await store.heads();
    assert.ok(heads.length > 20);
    const latest = heads[heads.length - 1]!;
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'latest'))), latest.note);
    for (const h of heads) {
      for (const t of tilesOfHead(0, h.size)) {
        for (const tile of t.L === 0 ? [t, { ...t, L: -1 }] : [t]) {
          const path = tilePath(tile);
          const full = tilePath({ ...tile, W: 256 });
          const served = await service.readTile(path);
          const file = existsSync(join(out, path)) ? join(out, path) : join(out, full);
          assert.ok(existsSync(file), `${path} (head ${h.size}) is published`);
          const bytes = readFileSync(file).subarray(0, served.data.length);
          assert.deepEqual(new Uint8Array(bytes), new Uint8Array(served.data), `${path} of head ${h.size}`);
          if (tile.W < 256 && existsSync(join(out, full))) {
            assert.ok(!existsSync(join(out, path)), `${path} removed once ${full} exists`);
          }
        }
      }
    }
    // Every record's lookup: its id, its text, the first head that includes it.
    for (const id of [0, 36, 37, 299, 300, 799]) {
      const rec = (await store.recordById(id))!;
      const first = heads.find((h) => h.size > id)!;
      const file = join(out, 'lookup', `${escapePath(rec.path)}@${escapeVersion(rec.version)}`);
      assert.deepEqual(
        new Uint8Array(readFileSync(file)),
        new Uint8Array(Buffer.concat([formatRecord(id, rec.text), first.note])),
      );
    }
    assert.ok(!existsSync(join(out, 'lookup', 'example.com', 'Pub1@v1.0.1')), 'paths are escaped');
    await seq.close();
    await store.close();
  });

  it('refuses a directory that published a larger tree than the database holds', async () => {
    const dir = tempDir('publish');
    const { skey } = generateKey('publish.test');
    const big = await openSqliteStore(join(dir, 'big.db'));
    const seq = await Sequencer.open(big, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 10 });
    for (let i = 0; i < 20; i++) {
      await seq.add({
        path: `example.com/r${i}`,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(`example.com/r${i}`, 'v1.0.0', H('a'), H('b'))),
        source: 't',
      });
    }
    await new Publisher(join(dir, 'pub'), big).sync(await big.latestHead());
    const small = await openSqliteStore(join(dir, 'small.db'));
    const seq2 = await Sequencer.open(small, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 10 });
    await seq2.add({
      path: 'example.com/r0',
      version: 'v1.0.0',
      text: utf8(formatRecordLines('example.com/r0', 'v1.0.0', H('a'), H('b'))),
      source: 't',
    });
    await assert.rejects(
      new Publisher(join(dir, 'pub'), small).sync(await small.latestHead()),
      /holds a tree of size 20, larger than the log's 1/,
    );
    for (const s of [seq, seq2]) await s.close();
    await big.close();
    await small.close();
  });
});
