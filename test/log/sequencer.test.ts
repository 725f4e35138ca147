import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateKey, newSigner, newVerifier, open, verifierSet } from '../../src/core/note.ts';
import {
  checkTree,
  parseTree,
  proveTree,
  recordHash,
  storedHashes,
  treeHash,
  type Hash,
  type HashReader,
} from '../../src/core/tlog/index.ts';
import { decodeUtf8, utf8 } from '../../src/core/bytes.ts';
import { isSumkeepError } from '../../src/core/errors.ts';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AppendBatch, Store } from '../../src/store/store.ts';
import { Sequencer, type PendingRecord } from '../../src/log/sequencer.ts';
import { tempDir } from '../helpers/server.ts';

const { skey, vkey } = generateKey('seq.test');
const signer = newSigner(skey);
const verifiers = verifierSet([newVerifier(vkey)]);

function rec(i: number, variant = ''): PendingRecord {
  const path = `example.com/m${i}`;
  const text = `${path} v1.0.0 h1:${Buffer.alloc(32, i + variant.length).toString('base64')}\n${path} v1.0.0/go.mod h1:${Buffer.alloc(32, 7).toString('base64')}\n`;
  return { path, version: 'v1.0.0', text: utf8(text), source: 'test' };
}

/** An in-memory reference tree over the texts, computed independently of the store. */
function referenceTree(texts: Uint8Array[]): { hash: (n: number) => Hash; reader: HashReader } {
  const hashes: Hash[] = [];
  const reader: HashReader = (ix) => ix.map((i) => hashes[i]!);
  texts.forEach((t, n) => hashes.push(...storedHashes(n, t, reader)));
  return { hash: (n) => treeHash(n, reader), reader };
}

function headTree(note: Uint8Array) {
  const n = open(note, verifiers);
  return parseTree(utf8(n.text));
}

async function allTexts(store: Store): Promise<Uint8Array[]> {
  const size = await store.treeSize();
  return size === 0 ? [] : store.recordTexts(0, size);
}

describe('Sequencer', () => {
  it('appends batches whose signed heads match an independently computed tree', async () => {
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer], { maxDelayMs: 1, maxBatch: 7 });
    assert.equal(seq.latest(), null, 'an empty log has no signed head');
    const added = await Promise.all(Array.from({ length: 50 }, (_, i) => seq.add(rec(i))));
    assert.deepEqual(
      added.map((r) => r.id).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    const texts = await allTexts(store);
    const ref = referenceTree(texts);
    const heads = await store.heads();
    assert.ok(heads.length >= 8, `batches of at most 7 give at least 8 heads, got ${heads.length}`);
    for (const h of heads) {
      const tree = headTree(h.note);
      assert.equal(tree.N, h.size);
      assert.deepEqual(tree.hash, ref.hash(h.size), `head ${h.size} hash`);
    }
    // Every head is provably contained in every later one.
    for (let i = 0; i < heads.length; i++) {
      for (let j = i + 1; j < heads.length; j++) {
        const a = heads[i]!;
        const b = heads[j]!;
        assert.ok(checkTree(proveTree(b.size, a.size, ref.reader), b.size, b.hash, a.size, a.hash));
      }
    }
    await store.close();
  });

  it('logs one record for concurrent adds of one module version', async () => {
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer], { maxDelayMs: 5, maxBatch: 100 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => seq.add(rec(1))));
    assert.ok(rs.every((r) => r.id === 0));
    assert.equal(await store.treeSize(), 1);
    // Adding it again later returns the stored record instead of a second one.
    const again = await seq.add(rec(1));
    assert.equal(again.id, 0);
    assert.equal(await store.treeSize(), 1);
    await store.close();
  });

  it('refuses different hashes for a logged version and never replaces the record', async () => {
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer], { maxDelayMs: 1, maxBatch: 100 });
    const first = await seq.add(rec(3));
    await assert.rejects(seq.add(rec(3, 'other')), (e) => isSumkeepError(e, 'conflict'));
    const stored = await store.lookup(first.path, first.version);
    assert.deepEqual(stored?.text, rec(3).text);
    await store.close();
  });

  it('recovers from a failure before and after persist without forking', async () => {
    const dir = tempDir('seq');
    const file = join(dir, 'log.db');
    const inner = await openSqliteStore(file);
    let mode: 'ok' | 'before' | 'after' = 'ok';
    const faulty: Store = Object.create(inner) as Store;
    faulty.appendBatch = async (b: AppendBatch) => {
      if (mode === 'before') throw new Error('injected failure before persist');
      await inner.appendBatch(b);
      if (mode === 'after') throw new Error('injected failure after persist');
    };
    const seq = await Sequencer.open(faulty, [signer], { maxDelayMs: 1, maxBatch: 100 });
    await seq.add(rec(0));
    const head1 = seq.latest()!;

    mode = 'before';
    await assert.rejects(seq.add(rec(1)), /before persist/);
    assert.equal(await inner.treeSize(), 1, 'nothing written by a failed commit');

    mode = 'after';
    await assert.rejects(seq.add(rec(2)), /after persist/);
    assert.equal(await inner.treeSize(), 2, 'the batch was durable although the caller saw an error');

    mode = 'ok';
    // The sequencer's view is stale: the store refuses, it reloads and goes on without a fork.
    const r3 = await seq.add(rec(3));
    assert.equal(r3.id, 2);
    const retry = await seq.add(rec(2));
    assert.equal(retry.id, 1, 'a retry finds the record committed before the failure');
    await inner.close();

    // Restart on the same file: recovery checks the stored hashes against the latest head.
    const store2 = await openSqliteStore(file);
    const seq2 = await Sequencer.open(store2, [signer], { maxDelayMs: 1, maxBatch: 100 });
    const head = seq2.latest()!;
    assert.equal(head.size, 3);
    const ref = referenceTree(await allTexts(store2));
    assert.ok(
      checkTree(proveTree(head.size, head1.size, ref.reader), head.size, head.hash, head1.size, head1.hash),
    );
    await store2.close();
  });

  it('waits out a database that another writer keeps locked past the busy timeout', async () => {
    const file = join(tempDir('busy'), 'log.db');
    const store = await openSqliteStore(file, { busyTimeoutMs: 20 });
    const seq = await Sequencer.open(store, [signer], { maxDelayMs: 1, maxBatch: 10 });
    await seq.add(rec(0));
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const pending = seq.add(rec(1));
      await new Promise((r) => setTimeout(r, 150));
      other.exec('ROLLBACK');
      assert.equal((await pending).id, 1);
      assert.equal(await store.treeSize(), 2);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('reloads while another writer commits between its reads, and never moves the head back', async () => {
    const file = join(tempDir('reload-race'), 'log.db');
    const other = await openSqliteStore(file);
    const writer = await Sequencer.open(other, [signer], { maxDelayMs: 1, maxBatch: 10 });
    await writer.add(rec(0));
    const inner = await openSqliteStore(file);
    const racing: Store = Object.create(inner) as Store;
    let race = true;
    // Right after the latest head is read, the other writer commits one more record.
    racing.latestHead = async () => {
      const h = await inner.latestHead();
      if (race) {
        race = false;
        await writer.add(rec(1));
      }
      return h;
    };
    const seq = await Sequencer.open(racing, [signer], { maxDelayMs: 1, maxBatch: 10 });
    assert.equal(seq.latest()!.size, 1, 'the head read before the other commit, checked and kept');
    // This writer is behind; its batch is refused, it reloads and appends after record 1.
    const r = await seq.add(rec(2));
    assert.equal(r.id, 2);
    assert.equal(seq.latest()!.size, 3);
    const before = seq.latest();
    race = false;
    await seq.reload();
    assert.deepEqual(seq.latest(), before, 'a reload that finds no newer head keeps the head');
    await inner.close();
    await other.close();
  });

  it('lets two writers on one database append without a fork', async () => {
    const file = join(tempDir('seq2'), 'log.db');
    const s1 = await openSqliteStore(file);
    const s2 = await openSqliteStore(file);
    const a = await Sequencer.open(s1, [signer], { maxDelayMs: 1, maxBatch: 3 });
    const b = await Sequencer.open(s2, [signer], { maxDelayMs: 1, maxBatch: 3 });
    await Promise.all([
      ...Array.from({ length: 15 }, (_, i) => a.add(rec(i))),
      ...Array.from({ length: 15 }, (_, i) => b.add(rec(100 + i))),
    ]);
    assert.equal(await s1.treeSize(), 30);
    const ref = referenceTree(await allTexts(s1));
    const heads = await s1.heads();
    for (const h of heads) assert.deepEqual(h.hash, ref.hash(h.size));
    const last = heads[heads.length - 1]!;
    for (const h of heads)
      assert.ok(checkTree(proveTree(last.size, h.size, ref.reader), last.size, last.hash, h.size, h.hash));
    await s1.close();
    await s2.close();
  });

  it('signs the latest head again with new note keys and keeps that note (rotation)', async () => {
    const file = join(tempDir('cosign'), 'log.db');
    const s1 = await openSqliteStore(file);
    const seq1 = await Sequencer.open(s1, [signer], { maxDelayMs: 1, maxBatch: 10 });
    await seq1.add(rec(1));
    const before = seq1.latest()!;
    await s1.close();

    const second = generateKey('seq.test');
    const s2 = await openSqliteStore(file);
    const seq2 = await Sequencer.open(s2, [signer, newSigner(second.skey)], { maxDelayMs: 1, maxBatch: 10 });
    const after = seq2.latest()!;
    assert.equal(after.size, before.size);
    assert.deepEqual(after.hash, before.hash);
    // Only the new key is known to this client: it can verify the served note.
    const n = open(after.note, verifierSet([newVerifier(second.vkey)]));
    assert.equal(parseTree(utf8(n.text)).N, before.size);
    assert.deepEqual(await s2.headNotes(before.size), [after.note]);
    assert.deepEqual((await s2.latestHead())!.note, before.note, 'the stored head is not replaced');
    await s2.close();

    // A second start adds nothing new: the same keys give the same bytes.
    const s3 = await openSqliteStore(file);
    await Sequencer.open(s3, [signer, newSigner(second.skey)], { maxDelayMs: 1, maxBatch: 10 });
    assert.equal((await s3.headNotes(before.size)).length, 1);
    await s3.close();
  });

  it('signs every head with every note key it is given', async () => {
    const second = generateKey('seq.test');
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer, newSigner(second.skey)], {
      maxDelayMs: 1,
      maxBatch: 10,
    });
    await seq.add(rec(9));
    const note = seq.latest()!.note;
    const both = open(note, verifierSet([newVerifier(vkey), newVerifier(second.vkey)]));
    assert.equal(both.sigs.length, 2);
    const text = decodeUtf8(note)!;
    assert.equal(text.split('\u2014').length - 1, 2);
    assert.deepEqual(recordHash(rec(9).text).length, 32);
    await store.close();
  });
});
