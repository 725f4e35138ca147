/**
 * `sumkeep store copy`: SQLite -> PostgreSQL -> SQLite through the real CLI gives byte-identical
 * tiles (as the server serves them) and heads; a destination that is not a prefix is refused
 * untouched, a prefix is continued, and a tampered source is refused. Needs PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKey, newSigner, sign } from '../../src/core/note.ts';
import { decodeUtf8 } from '../../src/core/bytes.ts';
import { formatTree, newTiles, tilePath } from '../../src/core/tlog/index.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { openPostgresStore } from '../../src/store/postgres.ts';
import type { AuditStore } from '../../src/store/store.ts';
import { TileServer } from '../../src/log/tiles.ts';
import { recordText } from '../store/conformance.ts';
import { requirePostgres, testDatabase } from '../helpers/postgres.ts';
import { runCli, tempDir } from '../helpers/server.ts';

const admin = await requirePostgres('sumkeep store copy');

/** Appends `count` records in batches of `batch` through the real sequencer. */
async function grow(
  store: AuditStore,
  signer: ReturnType<typeof newSigner>,
  first: number,
  count: number,
  batch: number,
) {
  const seq = await Sequencer.open(store, [signer], { maxDelayMs: 1000, maxBatch: batch });
  for (let i = first; i < first + count; i += batch) {
    const adds = [];
    for (let k = i; k < Math.min(first + count, i + batch); k++) {
      const path = `example.com/copy/m${k}`;
      adds.push(
        seq.add({ path, version: 'v1.0.0', text: recordText(path, 'v1.0.0'), source: `ingest:m${k}.zip` }),
      );
    }
    await seq.flush();
    await Promise.all(adds);
  }
  await seq.close();
}

/** Every tile of every signed tree size, as served, by path. */
async function servedTiles(store: AuditStore): Promise<Map<string, Buffer>> {
  const tiles = new TileServer(store);
  const out = new Map<string, Buffer>();
  let prev = 0;
  for (const head of await store.heads()) {
    for (const t of newTiles(8, prev, head.size)) {
      for (const tile of [t, { ...t, L: -1 }]) {
        if (tile.L === -1 && t.L !== 0) continue;
        const path = tilePath(tile);
        out.set(path, Buffer.from((await tiles.read(path, tile, head.size)).data));
      }
    }
    prev = head.size;
  }
  return out;
}

async function snapshot(store: AuditStore) {
  const heads = await store.heads();
  const size = heads.at(-1)?.size ?? 0;
  return {
    heads,
    notes: await Promise.all(heads.map((h) => store.headNotes(h.size))),
    records: await store.recordsRange(0, size),
    tiles: await servedTiles(store),
  };
}

async function withStore<T>(open: Promise<AuditStore>, fn: (s: AuditStore) => Promise<T>): Promise<T> {
  const s = await open;
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

if (admin !== null) {
  const db = await testDatabase(admin);

  describe('sumkeep store copy', { timeout: 300_000 }, () => {
    const root = tempDir('store-copy');
    const signer = newSigner(generateKey('copy.test').skey);

    it('SQLite -> PostgreSQL -> SQLite gives byte-identical tiles, heads and records', async () => {
      const src = join(root, 'src.db');
      const back = join(root, 'back.db');
      const pg = await db.freshSchemaUrl();
      await withStore(openSqliteStore(src), async (s) => {
        await grow(s, signer, 0, 700, 97);
        await grow(s, signer, 700, 5, 1);
        // A further note of the latest head signed by another key, as after a key rotation.
        const latest = (await s.latestHead())!;
        const text = decodeUtf8(formatTree({ N: latest.size, hash: latest.hash }))!;
        await s.addHeadNote(latest.size, sign(text, [newSigner(generateKey('copy.test').skey)]), 1);
      });
      const there = runCli(['store', 'copy', '--from', src, '--to', pg]);
      assert.equal(there.status, 0, there.stderr);
      assert.match(there.stdout, /copied 705 records and 13 heads \(1 further notes\)/);
      assert.doesNotMatch(there.stdout + there.stderr, /sumkeep_test@[^ ]*:[^@ ]*@|password/);
      assert.match(there.stderr, /store copy: 705\/705 records, 13 heads/);
      const hereAgain = runCli(['store', 'copy', '--from', pg, '--to', back]);
      assert.equal(hereAgain.status, 0, hereAgain.stderr);

      const a = await withStore(openSqliteStore(src, { readonly: true }), snapshot);
      const b = await withStore(openPostgresStore(pg, { readonly: true }), snapshot);
      const c = await withStore(openSqliteStore(back, { readonly: true }), snapshot);
      assert.equal(a.heads.length, 13);
      assert.ok(a.tiles.size > 20, `${a.tiles.size} tiles`);
      for (const other of [b, c]) {
        assert.deepEqual(other.heads, a.heads);
        assert.deepEqual(other.notes, a.notes);
        assert.deepEqual(other.records, a.records);
        assert.deepEqual([...other.tiles.keys()], [...a.tiles.keys()]);
        for (const [path, data] of a.tiles) assert.ok(other.tiles.get(path)!.equals(data), path);
      }

      // Copying again changes nothing and succeeds: the destination is the whole source.
      const again = runCli(['store', 'copy', '--from', src, '--to', pg]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(
        again.stdout,
        /copied 0 records and 0 heads \(0 further notes\) after a verified prefix of 705 records/,
      );
    });

    it('continues a destination that holds a prefix of the source', async () => {
      const src = join(root, 'grow.db');
      const pg = await db.freshSchemaUrl();
      await withStore(openSqliteStore(src), (s) => grow(s, signer, 0, 300, 100));
      assert.equal(runCli(['store', 'copy', '--from', src, '--to', pg]).status, 0);
      await withStore(openSqliteStore(src), (s) => grow(s, signer, 300, 50, 25));
      const r = runCli(['store', 'copy', '--from', src, '--to', pg]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /copied 50 records and 2 heads .* after a verified prefix of 300 records/);
      const a = await withStore(openSqliteStore(src, { readonly: true }), snapshot);
      const b = await withStore(openPostgresStore(pg, { readonly: true }), snapshot);
      assert.deepEqual(b.heads, a.heads);
    });

    it('refuses a non-empty destination that is not a prefix of the source, and leaves it untouched', async () => {
      const one = join(root, 'one.db');
      const other = join(root, 'other.db');
      const pg = await db.freshSchemaUrl();
      await withStore(openSqliteStore(one), (s) => grow(s, signer, 0, 20, 10));
      // Another log: the same records in other batches (other heads), then more records.
      await withStore(openSqliteStore(other), (s) => grow(s, signer, 0, 30, 15));
      assert.equal(runCli(['store', 'copy', '--from', one, '--to', pg]).status, 0);
      const before = await withStore(openPostgresStore(pg, { readonly: true }), snapshot);
      const r = runCli(['store', 'copy', '--from', other, '--to', pg]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /not a prefix of the source/);
      const after = await withStore(openPostgresStore(pg, { readonly: true }), snapshot);
      assert.deepEqual(after.heads, before.heads);
      assert.deepEqual(after.records, before.records);
    });

    it('refuses a source whose stored hashes do not match its records, writing nothing of that head', async () => {
      const src = join(root, 'tampered.db');
      const pg = await db.freshSchemaUrl();
      await withStore(openSqliteStore(src), (s) => grow(s, signer, 0, 40, 20));
      // Tamper with a stored hash of the second batch behind the store's back.
      const raw = new Database(src);
      raw.exec('DROP TRIGGER hashes_no_update');
      raw.prepare('UPDATE hashes SET hash = zeroblob(32) WHERE level = 0 AND n = 30').run();
      raw.close();
      const r = runCli(['store', 'copy', '--from', src, '--to', pg]);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, /stored hash \d+ differs from the one recomputed from the records/);
      const got = await withStore(openPostgresStore(pg, { readonly: true }), (s) => s.heads());
      assert.deepEqual(
        got.map((h) => h.size),
        [20],
      );
    });
  });
}
