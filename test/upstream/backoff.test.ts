import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, sleep } from '../../src/upstream/backoff.ts';

describe('backoffDelay', () => {
  const policy = (r: number) => ({ baseDelayMs: 100, maxDelayMs: 1000, random: () => r });
  const cases: { retry: number; r: number; want: number }[] = [
    { retry: 1, r: 0, want: 50 },
    { retry: 1, r: 0.999999, want: 100 },
    { retry: 2, r: 0, want: 100 },
    { retry: 3, r: 0.5, want: 300 },
    { retry: 4, r: 0, want: 400 },
    // capped at maxDelayMs
    { retry: 5, r: 0, want: 500 },
    { retry: 30, r: 0.999999, want: 1000 },
  ];
  for (const c of cases) {
    it(`waits ${c.want} ms before retry ${c.retry} with random ${c.r}`, () => {
      assert.equal(backoffDelay(policy(c.r), c.retry), c.want);
    });
  }
});

describe('sleep', () => {
  it('rejects with the abort reason as soon as the signal aborts', async () => {
    const ac = new AbortController();
    const reason = new Error('caller gave up');
    const started = Date.now();
    const p = sleep(10_000, ac.signal);
    setTimeout(() => ac.abort(reason), 10);
    await assert.rejects(p, (e) => e === reason);
    assert.ok(Date.now() - started < 5_000);
  });

  it('rejects at once on an already aborted signal', async () => {
    const reason = new Error('already');
    await assert.rejects(sleep(10_000, AbortSignal.abort(reason)), (e) => e === reason);
  });
});
