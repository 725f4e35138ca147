/**
 * A note key that cannot sign (a token gone) holds batches: nothing is committed, no head is signed
 * by fewer or other keys, waiters get `unavailable` after a bounded hold, and the log recovers by
 * itself when the key signs again. The failing signer is a fault-injecting wrapper around a real
 * key (the PKCS#11 side is tested against SoftHSM in test/e2e/hsm-go.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, newSigner, newVerifier, open, verifierSet, type Signer } from '../../src/core/note.ts';
import { SumkeepError, isSumkeepError } from '../../src/core/errors.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { toHttpError } from '../../src/http/errors.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { SIGNER_HOLD_MS, Sequencer, type PendingRecord } from '../../src/log/sequencer.ts';

function key(name: string) {
  const { skey, vkey } = generateKey(name);
  return { signer: newSigner(skey), verifier: newVerifier(vkey) };
}

/** `real`, but throwing `unavailable` while `state.broken`; counts calls. */
function flaky(real: Signer, state: { broken: boolean; calls: number }): Signer {
  return {
    name: real.name,
    keyHash: real.keyHash,
    sign(m: Uint8Array) {
      state.calls++;
      if (state.broken)
        throw new SumkeepError('unavailable', 'token "t" key "note" cannot sign: CKR_DEVICE_REMOVED');
      return real.sign(m);
    },
  };
}

function rec(i: number): PendingRecord {
  const path = `example.com/hold${i}`;
  const h = Buffer.alloc(32, i).toString('base64');
  return {
    path,
    version: 'v1.0.0',
    text: utf8(`${path} v1.0.0 h1:${h}\n${path} v1.0.0/go.mod h1:${h}\n`),
    source: 'test',
  };
}

describe('sequencer with a note key that cannot sign', () => {
  it('commits nothing, answers unavailable (503, one line) after the hold, and recovers', async () => {
    const store = await openSqliteStore(':memory:');
    const k = key('hold.test');
    const state = { broken: false, calls: 0 };
    const seq = await Sequencer.open(store, [flaky(k.signer, state)], { maxDelayMs: 1, maxBatch: 10 });
    await seq.add(rec(1));
    const before = await store.latestHead();
    assert.equal(before?.size, 1);

    state.broken = true;
    state.calls = 0;
    await assert.rejects(seq.add(rec(2)), (e) => {
      assert.ok(isSumkeepError(e, 'unavailable'));
      const h = toHttpError(e);
      assert.equal(h.status, 503);
      assert.match(
        h.message,
        /cannot sign a new tree head now \(token "t" key "note" cannot sign: CKR_DEVICE_REMOVED\); nothing was logged/,
      );
      assert.ok(!h.message.includes('\n'));
      return true;
    });
    assert.equal(state.calls, SIGNER_HOLD_MS.length + 1, 'one attempt, then one per pause of the hold');
    assert.equal(await store.treeSize(), 1, 'nothing committed');
    assert.deepEqual((await store.latestHead())?.note, before?.note, 'the head is unchanged');
    assert.equal(await store.lookup(rec(2).path, 'v1.0.0'), null);
    assert.equal(seq.signersReady(), false);
    assert.equal((await seq.reload())?.size, 1, 'the stored head stays servable');

    state.broken = false;
    assert.equal(seq.signersReady(), true);
    const r = await seq.add(rec(2));
    assert.equal(r.id, 1);
    const head = seq.latest()!;
    assert.equal(head.size, 2);
    open(head.note, verifierSet([k.verifier]));
    await seq.close();
    await store.close();
  });

  it('commits a batch held while the key comes back within the hold', async () => {
    const store = await openSqliteStore(':memory:');
    const k = key('hold2.test');
    const state = { broken: false, calls: 0 };
    const seq = await Sequencer.open(store, [flaky(k.signer, state)], { maxDelayMs: 1, maxBatch: 10 });
    state.broken = true;
    const pending = seq.add(rec(1));
    setTimeout(() => (state.broken = false), SIGNER_HOLD_MS[0]! + 50);
    const r = await pending;
    assert.equal(r.id, 0);
    assert.equal(await store.treeSize(), 1);
    assert.ok(state.calls >= 2 && state.calls <= SIGNER_HOLD_MS.length + 1);
    await seq.close();
    await store.close();
  });

  it('never signs with the other key alone when one of two note keys fails', async () => {
    const store = await openSqliteStore(':memory:');
    const a = key('two.test');
    const b = key('two.test');
    const state = { broken: false, calls: 0 };
    const seq = await Sequencer.open(store, [a.signer, flaky(b.signer, state)], {
      maxDelayMs: 1,
      maxBatch: 10,
    });
    state.broken = true;
    await assert.rejects(seq.add(rec(1)), (e) => isSumkeepError(e, 'unavailable'));
    assert.equal(await store.treeSize(), 0);
    assert.equal(await store.latestHead(), null, 'no head signed by a only');
    state.broken = false;
    await seq.add(rec(1));
    const n = open(seq.latest()!.note, verifierSet([a.verifier, b.verifier]));
    assert.equal(n.sigs.length, 2);
    await seq.close();
    await store.close();
  });
});
