/**
 * The sequencer with the rollback guard and the publisher wired in (src/log/sequencer.ts, steps
 * 5 and 6): a head is kept and published before any waiter is answered with it, a failure there
 * answers nobody with the head, start-up re-publishes and re-keeps what a crash left behind, and
 * a database that does not extend the kept head is refused at open.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { isSumkeepError } from '../../src/core/errors.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { parseTree, tilePath } from '../../src/core/tlog/index.ts';
import { generateKey, newSigner, newVerifier, open as openNote, verifierSet } from '../../src/core/note.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AuditStore, SignedHead } from '../../src/store/store.ts';
import { Sequencer, type HeadGuard } from '../../src/log/sequencer.ts';
import { CheckpointGuard } from '../../src/log/checkpoint.ts';
import { Publisher } from '../../src/log/publish.ts';
import { tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');
const { skey, vkey } = generateKey('seqguard.test');
const verifiers = verifierSet([newVerifier(vkey)]);
const rec = (i: number) => ({
  path: `example.com/Seq/m${i}`,
  version: 'v1.0.0',
  text: utf8(formatRecordLines(`example.com/Seq/m${i}`, 'v1.0.0', H('a'), H('b'))),
  source: 't',
});
const sizeOf = (file: string) => parseTree(utf8(openNote(readFileSync(file), verifiers).text)).N;
const lookupFile = (pub: string, i: number) =>
  join(pub, 'lookup', `${escapePath(rec(i).path)}@${escapeVersion('v1.0.0')}`);

async function openSeq(store: AuditStore, guard: HeadGuard | undefined, pub: string | null) {
  return Sequencer.open(store, [newSigner(skey)], {
    maxDelayMs: 1,
    maxBatch: 4,
    guard,
    publisher: pub === null ? undefined : new Publisher(pub, store),
  });
}

describe('Sequencer with the rollback guard and the publisher', () => {
  it('publishes the empty log’s latest at open, and keeps and publishes each head before answering', async () => {
    const dir = tempDir('seqguard');
    const pub = join(dir, 'pub');
    const cp = join(dir, 'log.db.checkpoint');
    const store = await openSqliteStore(join(dir, 'log.db'));
    const seq = await openSeq(store, new CheckpointGuard(cp, verifiers), pub);
    // The empty log's latest is the signed size-0 note, byte for byte what /latest serves.
    assert.deepEqual(new Uint8Array(readFileSync(join(pub, 'latest'))), seq.emptyNote());
    assert.equal(sizeOf(join(pub, 'latest')), 0);
    assert.equal(existsSync(cp), false);
    // Checked synchronously the moment each waiter is answered: nothing may come later.
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        seq.add(rec(i)).then((r) => {
          const kept = sizeOf(cp);
          const latest = sizeOf(join(pub, 'latest'));
          if (kept <= r.id) seen.push(`record ${r.id} answered with checkpoint at ${kept}`);
          if (latest <= r.id) seen.push(`record ${r.id} answered with published latest at ${latest}`);
          if (!existsSync(lookupFile(pub, i))) seen.push(`record ${r.id} answered before its lookup file`);
          const W = latest % 256;
          if (!existsSync(join(pub, tilePath({ H: 8, L: 0, N: 0, W })))) seen.push(`no tile for ${latest}`);
        }),
      ),
    );
    assert.deepEqual(seen, []);
    assert.equal(sizeOf(cp), 10);
    await seq.close();
    await store.close();
  });

  it('answers nobody with a head it could not keep; a reload keeps and publishes it later', async () => {
    const dir = tempDir('seqguard');
    const pub = join(dir, 'pub');
    const cp = join(dir, 'cp');
    const real = new CheckpointGuard(cp, verifiers);
    let failKeep = false;
    const guard: HeadGuard = {
      check: (h, r) => real.check(h, r),
      checkSigning: (o, r) => real.checkSigning(o, r),
      keep: async (h) => {
        if (failKeep) throw new Error('ENOSPC: no space left on device');
        await real.keep(h);
      },
    };
    const store = await openSqliteStore(join(dir, 'log.db'));
    const seq = await openSeq(store, guard, pub);
    await seq.add(rec(0));
    failKeep = true;
    await assert.rejects(seq.add(rec(1)), /ENOSPC/);
    assert.equal(seq.latest()?.size, 1, 'the head that was not kept is not served');
    assert.equal(sizeOf(join(pub, 'latest')), 1);
    assert.equal(existsSync(lookupFile(pub, 1)), false);
    failKeep = false;
    // The record is logged; the next batch conflicts with the stored head, reloads (keep, publish)
    // and goes on on top of it.
    const r2 = await seq.add(rec(2));
    assert.equal(r2.id, 2);
    assert.equal(sizeOf(cp), 3);
    assert.equal(sizeOf(join(pub, 'latest')), 3);
    assert.ok(existsSync(lookupFile(pub, 1)), 'the lookup file of the record of the unkept head');
    await seq.close();
    await store.close();
  });

  it('re-keeps and re-publishes at open what a crash after the commit left behind', async () => {
    const dir = tempDir('seqguard');
    const pub = join(dir, 'pub');
    const cp = join(dir, 'cp');
    const db = join(dir, 'log.db');
    let store = await openSqliteStore(db);
    let seq = await openSeq(store, new CheckpointGuard(cp, verifiers), pub);
    await seq.add(rec(0));
    await seq.close();
    // "Dies" after step 4: a writer without guard and publisher commits two more heads.
    const bare = await openSeq(store, undefined, null);
    await bare.add(rec(1));
    await bare.add(rec(2));
    await bare.close();
    assert.equal(sizeOf(cp), 1);
    seq = await openSeq(store, new CheckpointGuard(cp, verifiers), pub);
    assert.equal(seq.latest()?.size, 3);
    assert.equal(sizeOf(cp), 3);
    assert.equal(sizeOf(join(pub, 'latest')), 3);
    for (const i of [1, 2]) {
      const body = readFileSync(lookupFile(pub, i), 'utf8');
      // The answer carries the first head that includes the record.
      const heads = await store.heads();
      const first = heads.find((h: SignedHead) => h.size > i)!;
      assert.ok(body.endsWith(Buffer.from(first.note).toString('utf8')), `lookup ${i}`);
    }
    await seq.close();
    await store.close();
    store = await openSqliteStore(db);
    await store.close();
  });

  it('refuses at open a database put back from an older copy, and signs nothing on it', async () => {
    const dir = tempDir('seqguard');
    const cp = join(dir, 'cp');
    const db = join(dir, 'log.db');
    let store = await openSqliteStore(db);
    let seq = await openSeq(store, new CheckpointGuard(cp, verifiers), null);
    for (let i = 0; i < 3; i++) await seq.add(rec(i));
    await seq.close();
    await store.close();
    copyFileSync(db, join(dir, 'old.db'));
    store = await openSqliteStore(db);
    seq = await openSeq(store, new CheckpointGuard(cp, verifiers), null);
    for (let i = 3; i < 7; i++) await seq.add(rec(i));
    await seq.close();
    await store.close();
    copyFileSync(join(dir, 'old.db'), db);
    store = await openSqliteStore(db);
    await assert.rejects(
      openSeq(store, new CheckpointGuard(cp, verifiers), null),
      (e) =>
        isSumkeepError(e, 'log_inconsistent') &&
        /tree of size 3, but this server has signed or served a tree of size 7/.test(e.message),
    );
    assert.equal(await store.treeSize(), 3);
    await store.close();
  });

  it('lets two writers share one database and one checkpoint file (the one behind reloads)', async () => {
    const dir = tempDir('seqguard');
    const cp = join(dir, 'cp');
    const db = join(dir, 'log.db');
    const s1 = await openSqliteStore(db);
    const s2 = await openSqliteStore(db);
    const a = await openSeq(s1, new CheckpointGuard(cp, verifiers), null);
    const b = await openSeq(s2, new CheckpointGuard(cp, verifiers), null);
    await a.add(rec(0));
    await b.add(rec(1));
    await b.add(rec(2));
    // a's head is 1, the kept one 3: a must not sign a head of size 2 over it.
    const r = await a.add(rec(3));
    assert.equal(r.id, 3);
    assert.equal(sizeOf(cp), 4);
    for (const s of [a, b]) await s.close();
    for (const s of [s1, s2]) await s.close();
  });
});
