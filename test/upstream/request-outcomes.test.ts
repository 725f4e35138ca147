/**
 * UpstreamOptions.onRequest (sumkeep_upstream_requests_total{outcome} and the duration histogram):
 * each HTTP attempt to a real loopback proxy is reported once with how it ended (ok, not_found,
 * error, timeout) and a duration; an attempt the client cancelled is not an upstream outcome.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Upstream } from '../../src/upstream/index.ts';
import type { RequestOutcome } from '../../src/upstream/index.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { tempDir } from '../helpers/server.ts';

describe('upstream request outcomes', () => {
  const root = tempDir('outcomes');
  const fake = new FakeProxy();
  const seen: { outcome: RequestOutcome; seconds: number }[] = [];
  let upstream: Upstream;

  before(async () => {
    fake.dir = join(root, 'proxy');
    buildGoProxy(fake.dir, [
      { path: 'example.com/ok', version: 'v1.0.0', files: { 'go.mod': 'module example.com/ok\n' } },
    ]);
    fake.on('/example.com/down/@v/v1.0.0.mod', { status: 502 });
    fake.on('/example.com/slow/@v/v1.0.0.mod', { hang: true });
    await fake.start();
    upstream = new Upstream({
      proxies: fake.url,
      tmpDir: root,
      // Silence of 1.5 s is a timeout; one retry after a short pause for 5xx and silence.
      timeouts: { connectMs: 1500, totalMs: 60_000 },
      retries: { count: 1, baseDelayMs: 1, maxDelayMs: 1 },
      onRequest: (outcome, seconds) => seen.push({ outcome, seconds }),
    });
  });
  after(async () => fake.stop());

  const outcomes = () => seen.map((s) => s.outcome);

  it('reports ok for each file of a fetched version', async () => {
    seen.length = 0;
    await upstream.fetchModule('example.com/ok', 'v1.0.0');
    assert.deepEqual(outcomes(), ['ok', 'ok']);
    for (const s of seen) assert.ok(s.seconds >= 0 && s.seconds < 30, String(s.seconds));
  });

  it('reports not_found for a 404, error for each 5xx attempt, timeout for each silent one', async () => {
    seen.length = 0;
    await assert.rejects(upstream.fetchModule('example.com/absent', 'v1.0.0'), {
      code: 'upstream_not_found',
    });
    assert.deepEqual(outcomes(), ['not_found']);
    seen.length = 0;
    await assert.rejects(upstream.fetchModule('example.com/down', 'v1.0.0'), { code: 'upstream_error' });
    assert.deepEqual(outcomes(), ['error', 'error'], 'the first attempt and its retry');
    seen.length = 0;
    await assert.rejects(upstream.fetchModule('example.com/slow', 'v1.0.0'), { code: 'upstream_timeout' });
    assert.deepEqual(outcomes(), ['timeout', 'timeout']);
    for (const s of seen) assert.ok(s.seconds >= 1.4, `a timeout took ${s.seconds} s`);
  });

  it('does not report an attempt the client cancelled', async () => {
    seen.length = 0;
    const ac = new AbortController();
    const p = upstream.fetchModule('example.com/slow', 'v1.0.0', ac.signal);
    setTimeout(() => ac.abort(new Error('client left')), 200);
    await assert.rejects(p, /client left/);
    assert.deepEqual(outcomes(), []);
  });
});
