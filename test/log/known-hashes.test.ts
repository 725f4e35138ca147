import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { recordHash, storedHashes, treeHash, type Hash, type HashReader } from '../../src/core/tlog/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { appendHashes } from '../../src/log/append-hashes.ts';
import { frontierIndexes, KnownHashes } from '../../src/log/known-hashes.ts';
import { Sequencer, type PendingRecord } from '../../src/log/sequencer.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AuditStore } from '../../src/store/store.ts';
import { tempDir } from '../helpers/server.ts';

const signer = newSigner(generateKey('known.test').skey);

function rec(i: number): PendingRecord {
  const path = `example.com/k${i}`;
  const text = `${path} v1.0.0 h1:${Buffer.alloc(32, i % 251).toString('base64')}\n${path} v1.0.0/go.mod h1:${Buffer.alloc(32, 3).toString('base64')}\n`;
  return { path, version: 'v1.0.0', text: utf8(text), source: 'test' };
}

/** Every stored hash of a tree of the texts, computed independently of the sequencer and store. */
function reference(count: number): Hash[] {
  const hashes: Hash[] = [];
  const reader: HashReader = (ix) => ix.map((i) => hashes[i]!);
  for (let n = 0; n < count; n++) hashes.push(...storedHashes(n, rec(n).text, reader));
  return hashes;
}

/** A store whose readHashes calls are counted (indexes read). */
function counting(inner: AuditStore): { store: AuditStore; reads: number[] } {
  const reads: number[] = [];
  const store: AuditStore = Object.create(inner) as AuditStore;
  store.readHashes = async (ix) => {
    reads.push(...ix);
    return inner.readHashes(ix);
  };
  return { store, reads };
}

describe('KnownHashes', () => {
  it('keeps every committed hash that appending to, hashing and proving a tree read (the frontier)', async () => {
    const all = reference(300);
    for (const oldSize of [1, 2, 3, 5, 7, 8, 13, 64, 100, 127, 128, 200, 255]) {
      for (const count of [1, 2, 3, 8, 45]) {
        const wanted: number[] = [];
        const leaves = Array.from({ length: count }, (_, k) => recordHash(rec(oldSize + k).text));
        const { hashes } = await appendHashes(oldSize, leaves, async (ix) => {
          wanted.push(...ix);
          return ix.map((i) => all[i]!);
        });
        const frontier = new Set(frontierIndexes(oldSize));
        for (const i of wanted) assert.ok(frontier.has(i), `size ${oldSize} + ${count}: read ${i}, not kept`);
        assert.deepEqual(
          hashes.map((h) => h.hash),
          all.slice(hashes[0]!.index, hashes.at(-1)!.index + 1),
        );
      }
    }
    assert.deepEqual(frontierIndexes(0), []);
    assert.equal(frontierIndexes(2 ** 40 - 1).length, 40);
  });

  it('reads only what it does not keep, in one call, and keeps only the frontier of the committed size', async () => {
    const all = reference(20);
    const known = new KnownHashes();
    const calls: number[][] = [];
    const store = async (ix: readonly number[]): Promise<Hash[]> => {
      calls.push([...ix]);
      return ix.map((i) => all[i]!);
    };
    const first = known.reads(store);
    assert.deepEqual(await first.read([0, 1, 2]), [all[0], all[1], all[2]]);
    known.committed(4, first, [
      { index: 3, hash: all[3]! },
      { index: 4, hash: all[4]! },
      { index: 5, hash: all[5]! },
      { index: 6, hash: all[6]! },
    ]);
    assert.deepEqual(frontierIndexes(4), [6]);
    assert.equal(known.size, 1);
    const second = known.reads(store);
    assert.deepEqual(await second.read([6, 7, 6]), [all[6], all[7], all[6]]);
    assert.deepEqual(calls, [[0, 1, 2], [7]]);
  });
});

describe('Sequencer with kept hashes', () => {
  it('sequences batch after batch without reading stored hashes back, and its heads match an independent tree', async () => {
    const { store, reads } = counting(await openSqliteStore(':memory:'));
    const seq = await Sequencer.open(store, [signer], { maxDelayMs: 1, maxBatch: 7 });
    await seq.add(rec(0));
    reads.length = 0;
    for (let lo = 1; lo < 120; lo += 17) {
      await Promise.all(Array.from({ length: 17 }, (_, k) => seq.add(rec(lo + k))));
    }
    assert.deepEqual(reads, [], 'every hash a batch needed was kept from the one before');
    const all = reference(120);
    const heads = await store.heads();
    assert.ok(heads.length > 10);
    for (const h of heads) {
      assert.deepEqual(
        h.hash,
        treeHash(h.size, (ix) => ix.map((i) => all[i]!)),
      );
    }
    assert.deepEqual(await store.readHashes(all.map((_, i) => i)), all);
    await store.close();
  });

  it('reads from the store what another writer added, and the trees of both writers stay one', async () => {
    const file = join(tempDir('known-hashes'), 'log.db');
    const a = counting(await openSqliteStore(file));
    const b = await openSqliteStore(file);
    const sa = await Sequencer.open(a.store, [signer], { maxDelayMs: 1, maxBatch: 5 });
    const sb = await Sequencer.open(b, [signer], { maxDelayMs: 1, maxBatch: 5 });
    let next = 0;
    const add = (s: Sequencer, n: number) => Promise.all(Array.from({ length: n }, () => s.add(rec(next++))));
    await add(sa, 4);
    await add(sb, 4); // sb appends behind sa's back: sa keeps the frontier of size 4
    a.reads.length = 0;
    // sa computes 4 records against size 4 (its tree of 8 would have another level-3 hash than the
    // stored one): refused (conflict), nothing of it kept; reloaded and sequenced against size 8.
    await add(sa, 4);
    assert.ok(a.reads.length > 0, 'the hashes of the other writer were read from the store');
    await add(sb, 2);
    await add(sa, 9);
    await add(sa, 3);
    const size = await b.treeSize();
    assert.equal(size, 26);
    // Records are in the order the writers committed them; the reference follows the store.
    const texts = await b.recordTexts(0, size);
    const hashes: Hash[] = [];
    const reader: HashReader = (ix) => ix.map((i) => hashes[i]!);
    texts.forEach((t, n) => hashes.push(...storedHashes(n, t, reader)));
    for (const h of await b.heads()) assert.deepEqual(h.hash, treeHash(h.size, reader));
    assert.deepEqual(await b.readHashes(hashes.map((_, i) => i)), hashes);
    await a.store.close();
    await b.close();
  });
});
