/**
 * LogService's on-demand fill: one upstream fetch per module version however many clients wait
 * for it, cancelled only when every one of them has gone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { SumkeepError } from '../../src/core/errors.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/sha256.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, type ModuleSource } from '../../src/log/service.ts';

const H = (s: string) => 'h1:' + toBase64(sha256(utf8(s)));

/** An upstream whose fetches wait until the test lets them finish, or their signal aborts. */
class HeldSource implements ModuleSource {
  readonly fetches: { key: string; signal: AbortSignal | undefined; finish: () => void }[] = [];
  fetchModule(path: string, version: string, signal?: AbortSignal) {
    return new Promise<{ zipHash: string; modHash: string; source: string }>((resolve, reject) => {
      const key = `${path}@${version}`;
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.fetches.push({
        key,
        signal,
        finish: () => resolve({ zipHash: H('zip ' + key), modHash: H('mod ' + key), source: 'held' }),
      });
    });
  }
}

async function service() {
  const store = await openSqliteStore(':memory:');
  const seq = await Sequencer.open(store, [newSigner(generateKey('fill.test').skey)], {
    maxDelayMs: 1,
    maxBatch: 10,
  });
  const source = new HeldSource();
  // With a negative cache: a cancelled fetch must not be remembered as a failure.
  const svc = new LogService(store, seq, source, { negativeCacheTtlMs: 60_000 });
  return {
    svc,
    source,
    store,
    close: async () => {
      await seq.close();
      await store.close();
    },
  };
}

const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('LogService fill', () => {
  it('shares one fetch between clients and cancels it only when the last one leaves', async () => {
    const s = await service();
    try {
      const a = new AbortController();
      const b = new AbortController();
      const first = s.svc.lookup('example.com/m', 'v1.0.0', { signal: a.signal });
      const second = s.svc.lookup('example.com/m', 'v1.0.0', { signal: b.signal });
      await until(() => s.source.fetches.length === 1, 'the fetch');
      const fetchSignal = s.source.fetches[0]!.signal;
      assert.ok(fetchSignal !== undefined, 'the fetch gets a signal of its own');

      const reasonA = new SumkeepError('cancelled', 'client a went away');
      a.abort(reasonA);
      await assert.rejects(first, (e) => e === reasonA, 'the leaving client is answered at once');
      assert.equal(fetchSignal.aborted, false, 'the fetch goes on for the other client');

      const reasonB = new SumkeepError('cancelled', 'client b went away');
      b.abort(reasonB);
      await assert.rejects(second, (e) => e === reasonB);
      assert.equal(fetchSignal.aborted, true, 'the last client gone: the fetch is cancelled');
      assert.equal(s.source.fetches.length, 1);

      // Nothing was recorded, and a new client starts a new fetch rather than joining the dead one.
      assert.equal(await s.store.lookup('example.com/m', 'v1.0.0'), null);
      const third = s.svc.lookup('example.com/m', 'v1.0.0');
      await until(() => s.source.fetches.length === 2, 'a second fetch');
      s.source.fetches[1]!.finish();
      const got = await third;
      assert.equal(got.id, 0);
    } finally {
      await s.close();
    }
  });

  it('finishes a fetch for the clients that stayed', async () => {
    const s = await service();
    try {
      const a = new AbortController();
      const first = s.svc.lookup('example.com/n', 'v1.0.0', { signal: a.signal });
      const second = s.svc.lookup('example.com/n', 'v1.0.0', { signal: new AbortController().signal });
      await until(() => s.source.fetches.length === 1, 'the fetch');
      a.abort(new SumkeepError('cancelled', 'gone'));
      await assert.rejects(first);
      s.source.fetches[0]!.finish();
      const got = await second;
      assert.equal(got.id, 0);
      assert.equal(s.source.fetches[0]!.signal?.aborted, false);
    } finally {
      await s.close();
    }
  });

  it('does not start a fetch for a client that has already gone', async () => {
    const s = await service();
    try {
      const reason = new SumkeepError('cancelled', 'gone');
      await assert.rejects(
        s.svc.lookup('example.com/o', 'v1.0.0', { signal: AbortSignal.abort(reason) }),
        (e) => e === reason,
      );
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(s.source.fetches.length, 0);
    } finally {
      await s.close();
    }
  });
});
