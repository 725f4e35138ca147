/**
 * LogService with a cross-check (--check-sumdb): asked with the hashes the upstream fetch
 * produced, before anything is logged; its refusals are remembered like the upstream's, an
 * unavailable database is not; in a go.sum check a version it cannot vouch for stays `unknown`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { SumkeepError, isSumkeepError, type ErrorCode } from '../../src/core/errors.ts';
import { parseGoSum } from '../../src/core/gosum.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, type CrossCheck } from '../../src/log/service.ts';
import { FakeUpstream, fakeHash } from '../helpers/inprocess.ts';

/** Answers each module path from a table; logs what it was asked. */
class ScriptedCheck implements CrossCheck {
  readonly asked: { key: string; zip: string; mod: string }[] = [];
  readonly outcome = new Map<string, ErrorCode>();
  async check(path: string, version: string, zip: string, mod: string): Promise<string> {
    this.asked.push({ key: `${path}@${version}`, zip, mod });
    const code = this.outcome.get(path);
    if (code !== undefined) throw new SumkeepError(code, `${path}@${version}: ${code}`);
    return 'verified';
  }
}

async function service() {
  const store = await openSqliteStore(':memory:');
  const seq = await Sequencer.open(store, [newSigner(generateKey('xcheck.test').skey)], {
    maxDelayMs: 1,
    maxBatch: 10,
  });
  const check = new ScriptedCheck();
  const upstream = new FakeUpstream();
  const svc = new LogService(store, seq, upstream, { negativeCacheTtlMs: 60_000, crossCheck: check });
  return {
    svc,
    check,
    upstream,
    store,
    close: async () => {
      await seq.close();
      await store.close();
    },
  };
}

const rejects = (p: Promise<unknown>, code: ErrorCode) =>
  assert.rejects(p, (e: unknown) => isSumkeepError(e, code));

describe('LogService with a cross-check', () => {
  it('asks it with the fetched hashes before logging', async () => {
    const s = await service();
    try {
      const a = await s.svc.lookup('example.com/a', 'v1.0.0');
      assert.equal(a.id, 0);
      assert.deepEqual(s.check.asked, [
        {
          key: 'example.com/a@v1.0.0',
          zip: fakeHash('example.com/a', 'v1.0.0', 'zip'),
          mod: fakeHash('example.com/a', 'v1.0.0', 'go.mod'),
        },
      ]);
      // Logged now: served without asking again.
      await s.svc.lookup('example.com/a', 'v1.0.0');
      assert.equal(s.check.asked.length, 1);
    } finally {
      await s.close();
    }
  });

  for (const code of ['crosscheck_mismatch', 'crosscheck_missing'] as const) {
    it(`logs nothing for ${code} and remembers the refusal`, async () => {
      const s = await service();
      try {
        s.check.outcome.set('example.com/bad', code);
        await rejects(s.svc.lookup('example.com/bad', 'v1.0.0'), code);
        assert.equal(await s.store.lookup('example.com/bad', 'v1.0.0'), null);
        assert.equal(await s.store.treeSize(), 0);
        await rejects(s.svc.lookup('example.com/bad', 'v1.0.0'), code);
        assert.equal(s.upstream.calls, 1, 'answered from the negative cache');
        assert.equal(s.check.asked.length, 1);
      } finally {
        await s.close();
      }
    });
  }

  it('logs nothing while the database is unavailable, and asks again next time', async () => {
    const s = await service();
    try {
      s.check.outcome.set('example.com/c', 'crosscheck_unavailable');
      await rejects(s.svc.lookup('example.com/c', 'v1.0.0'), 'crosscheck_unavailable');
      assert.equal(await s.store.treeSize(), 0);
      s.check.outcome.delete('example.com/c');
      const c = await s.svc.lookup('example.com/c', 'v1.0.0');
      assert.equal(c.id, 0);
      assert.equal(s.check.asked.length, 2);
    } finally {
      await s.close();
    }
  });

  it('leaves a version it cannot vouch for unknown in a go.sum check, and answers the rest', async () => {
    const s = await service();
    try {
      s.check.outcome.set('example.com/xdown', 'crosscheck_unavailable');
      s.check.outcome.set('example.com/bad', 'crosscheck_mismatch');
      const lines = ['example.com/ok', 'example.com/xdown', 'example.com/bad']
        .map((p) => `${p} v1.0.0 ${fakeHash(p, 'v1.0.0', 'zip')}\n`)
        .join('');
      const r = await s.svc.checkGoSum(parseGoSum(lines), { fetch: true, maxFetch: 10 });
      const byPath = new Map(r.results.map((x) => [x.module, x]));
      assert.equal(byPath.get('example.com/ok')?.status, 'match');
      assert.equal(byPath.get('example.com/xdown')?.status, 'unknown');
      assert.match(byPath.get('example.com/xdown')?.reason ?? '', /crosscheck_unavailable/);
      assert.equal(byPath.get('example.com/bad')?.status, 'unknown');
    } finally {
      await s.close();
    }
  });
});
