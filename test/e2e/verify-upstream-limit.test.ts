/**
 * POST /api/v1/verify?fetch=1 shares the one upstream limit (--upstream-concurrency) with lookups
 * (issue 7 item 9): two checks with many unknown versions and a lookup, against an upstream that
 * stalls, never have more than the limit in flight at the upstream; the rest wait in its queue,
 * and the clients leaving free everything.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService } from '../../src/log/service.ts';
import { Upstream } from '../../src/upstream/index.ts';
import { buildServer } from '../../src/http/server.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { makeAuthority } from '../helpers/authority.ts';
import { tempDir } from '../helpers/server.ts';

const LIMIT = 3;
const STALLED = 'example.com/stall';
const modPath = (version: string) => `/${STALLED}/@v/${version}.mod`;
const H = 'h1:' + Buffer.alloc(32).toString('base64');

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A request on its own connection, destroyed by the test. */
function send(base: string, path: string, body?: string): http.ClientRequest {
  const req = http.request(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    agent: false,
    headers: body === undefined ? {} : { 'content-type': 'text/plain' },
  });
  req.on('error', () => undefined);
  req.end(body);
  return req;
}

describe('verify?fetch=1 under the upstream limit', () => {
  const root = tempDir('verify-limit');
  const fake = new FakeProxy();
  const auth = makeAuthority({ name: 'verify-limit.test' });
  let upstream: Upstream;
  let app: FastifyInstance;
  let store: Store;
  let seq: Sequencer;
  let base = '';

  before(async () => {
    fake.dir = join(root, 'proxy');
    buildGoProxy(fake.dir, [
      { path: 'example.com/ok', version: 'v1.0.0', files: { 'go.mod': 'module example.com/ok\n' } },
    ]);
    for (let i = 0; i < 40; i++) fake.on(modPath(`v1.0.${i}`), { hang: true });
    await fake.start();
    upstream = new Upstream({
      proxies: fake.url,
      concurrency: LIMIT,
      tmpDir: root,
      timeouts: { connectMs: 120_000, totalMs: 240_000 },
      retries: { count: 0 },
    });
    store = await openSqliteStore(':memory:');
    seq = await Sequencer.open(store, auth.keys.noteSigners, { maxDelayMs: 1, maxBatch: 50 });
    app = buildServer({ log: new LogService(store, seq, upstream), name: auth.name, keys: auth.keys });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    base = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await app.close();
    await seq.close();
    await store.close();
    await fake.stop();
  });

  it(`two checks of 10 unknown versions and a lookup keep ${LIMIT} upstream requests in flight`, async () => {
    const gosum = (from: number) =>
      Array.from({ length: 10 }, (_, i) => `${STALLED} v1.0.${from + i} ${H}\n`).join('');
    const a = send(base, '/api/v1/verify?fetch=1', gosum(0));
    const b = send(base, '/api/v1/verify?fetch=1', gosum(10));
    const c = send(base, `/lookup/${STALLED}@v1.0.30`);
    try {
      // Each check fetches 8 versions at once: 17 fetches want the upstream, LIMIT get it.
      await until(() => upstream.load().queued === 17 - LIMIT, 'the queue to fill');
      await until(() => fake.requests.length >= LIMIT, 'the upstream to be asked');
      assert.deepEqual(upstream.load(), { active: LIMIT, queued: 17 - LIMIT });
      assert.equal(fake.maxInFlight, LIMIT);
      assert.equal(fake.requests.length, LIMIT, 'the rest wait in the queue, not at the upstream');
    } finally {
      for (const r of [a, b, c]) r.destroy();
    }
    await until(() => upstream.load().active === 0 && upstream.load().queued === 0, 'everything freed');
    assert.equal(fake.maxInFlight, LIMIT);
    assert.equal(await store.treeSize(), 0);
  });
});
