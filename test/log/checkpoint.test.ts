import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { isSumkeepError } from '../../src/core/errors.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { generateKey, newSigner, newVerifier, sign, verifierSet } from '../../src/core/note.ts';
import { formatTree } from '../../src/core/tlog/index.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AuditStore } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { CheckpointGuard } from '../../src/log/checkpoint.ts';
import { tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');
const { skey, vkey } = generateKey('guard.test');
const verifiers = verifierSet([newVerifier(vkey)]);

async function logOf(file: string, family: string, n: number): Promise<AuditStore> {
  const store = await openSqliteStore(file);
  const seq = await Sequencer.open(store, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 10 });
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      seq.add({
        path: `${family}${i}`,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(`${family}${i}`, 'v1.0.0', H('a'), H('b'))),
        source: 't',
      }),
    ),
  );
  await seq.close();
  return store;
}

const reader = (s: AuditStore) => (idx: readonly number[]) => s.readHashes(idx);

describe('CheckpointGuard', () => {
  it('accepts the kept head and every extension; refuses a smaller or different tree naming both sizes', async () => {
    const dir = tempDir('guard');
    const guard = new CheckpointGuard(join(dir, 'log.db.checkpoint'), verifiers);
    const log = await logOf(join(dir, 'log.db'), 'example.com/a', 25);
    const heads = await log.heads();
    const h20 = heads.find((h) => h.size === 20)!;
    assert.equal(await guard.load(), null);
    await guard.check(h20, reader(log)); // nothing kept yet
    await guard.keep(h20);
    assert.equal(statSync(guard.file).mode & 0o777, 0o600);
    assert.equal((await guard.load())!.tree.N, 20);
    await guard.check(h20, reader(log));
    await guard.check(await log.latestHead(), reader(log));
    // Never moves back.
    await guard.keep(heads.find((h) => h.size === 10)!);
    assert.equal((await guard.load())!.tree.N, 20);

    const older = await logOf(join(dir, 'older.db'), 'example.com/a', 10);
    await assert.rejects(
      guard.check(await older.latestHead(), reader(older)),
      (e) =>
        isSumkeepError(e, 'log_inconsistent') &&
        /the database holds a tree of size 10, but this server has signed or served a tree of size 20/.test(
          e.message,
        ) &&
        /restored from an older backup or failed over to a lagging replica/.test(e.message),
    );
    const forked = await logOf(join(dir, 'fork.db'), 'example.com/b', 30);
    await assert.rejects(
      guard.check(await forked.latestHead(), reader(forked)),
      (e) =>
        isSumkeepError(e, 'log_inconsistent') &&
        /tree of size 30 does not extend the kept tree/.test(e.message),
    );
    for (const s of [log, older, forked]) await s.close();
  });

  it('keeps the same tree again when the current note keys signed it anew (a rotation)', async () => {
    const dir = tempDir('guard');
    const log = await logOf(join(dir, 'log.db'), 'example.com/r', 5);
    const head = (await log.latestHead())!;
    const guard = new CheckpointGuard(join(dir, 'cp'), verifiers);
    await guard.keep(head);
    const next = generateKey('guard.test');
    const text = Buffer.from(formatTree({ N: head.size, hash: head.hash })).toString('utf8');
    const both = sign(text, [newSigner(skey), newSigner(next.skey)]);
    await guard.keep({ ...head, note: both });
    assert.deepEqual(new Uint8Array(readFileSync(guard.file)), both);
    // Once the old key is retired, the file still verifies with the new one.
    const later = new CheckpointGuard(guard.file, verifierSet([newVerifier(next.vkey)]));
    assert.equal((await later.load())!.tree.N, 5);
    await log.close();
  });

  it('refuses a damaged checkpoint or one of another log', async () => {
    const dir = tempDir('guard');
    const file = join(dir, 'cp');
    writeFileSync(file, 'garbage');
    await assert.rejects(
      new CheckpointGuard(file, verifiers).load(),
      /not a tree head signed by this log's note key/,
    );
    const other = generateKey('guard.test');
    const log = await logOf(join(dir, 'x.db'), 'example.com/x', 3);
    const head = (await log.latestHead())!;
    writeFileSync(file, head.note);
    await assert.rejects(new CheckpointGuard(file, verifierSet([newVerifier(other.vkey)])).load(), (e) =>
      isSumkeepError(e, 'config'),
    );
    assert.deepEqual(new Uint8Array(readFileSync(file)), head.note);
    await log.close();
  });
});
