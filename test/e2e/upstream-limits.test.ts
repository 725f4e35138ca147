/**
 * The upstream request limit and cancellation, through a listening server and real sockets:
 * lookups of versions the upstream stalls on never have more than --upstream-concurrency
 * requests in flight; a client that disconnects frees its queue place, and the fetch it was the
 * last client of is aborted (the stalled proxy sees its request closed); a fetch with two clients
 * runs until both have gone. The lookup, /api/v1/gosum and /api/v1/verify?fetch=1 all pass their
 * client's disconnect down.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
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

const LIMIT = 4;
const STALLED = 'example.com/stall';
const modPath = (version: string) => `/${STALLED}/@v/${version}.mod`;

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A request on its own connection, whose answer the test may never wait for. */
function send(
  base: string,
  path: string,
  opts: { method?: string; body?: string } = {},
): { req: http.ClientRequest; answer: Promise<{ status: number; body: string }> } {
  const req = http.request(base + path, {
    method: opts.method ?? 'GET',
    agent: false,
    headers: opts.body !== undefined ? { 'content-type': 'text/plain' } : {},
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined); // destroyed on purpose by most tests
  req.end(opts.body);
  return { req, answer };
}

describe('upstream limit and cancellation through the server', () => {
  const root = tempDir('limits');
  const fake = new FakeProxy();
  const auth = makeAuthority({ name: 'limits.test' });
  const lines: string[] = [];
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
    for (let i = 0; i < 100; i++) fake.on(modPath(`v1.0.${i}`), { hang: true });
    await fake.start();
    upstream = new Upstream({
      proxies: fake.url,
      concurrency: LIMIT,
      tmpDir: root,
      // Long timeouts: only the clients leaving may end these requests.
      timeouts: { connectMs: 120_000, totalMs: 240_000 },
      retries: { count: 0 },
    });
    store = await openSqliteStore(':memory:');
    seq = await Sequencer.open(store, auth.keys.noteSigners, { maxDelayMs: 1, maxBatch: 50 });
    const dest = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString()
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    app = buildServer({
      log: new LogService(store, seq, upstream),
      name: auth.name,
      keys: auth.keys,
      loggerInstance: pino({ level: 'info' }, dest),
    });
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

  const cancelledFetches = async (): Promise<number> => {
    const m = /^sumkeep_upstream_fetches_cancelled (\d+)$/m.exec((await send(base, '/metrics').answer).body);
    return m ? Number(m[1]) : NaN;
  };
  const stalledAsked = () => fake.requests.filter((r) => r.path.startsWith(`/${STALLED}/`));

  it(`keeps ${LIMIT} upstream requests in flight for 40 lookups; leaving clients free their places`, async () => {
    const clients = Array.from({ length: 40 }, (_, i) => ({
      version: `v1.0.${i}`,
      ...send(base, `/lookup/${STALLED}@v1.0.${i}`),
    }));
    await until(() => upstream.load().queued === 40 - LIMIT, 'the queue to fill');
    assert.equal(fake.maxInFlight, LIMIT);
    assert.equal(stalledAsked().length, LIMIT, 'the rest wait in the queue, not at the upstream');
    assert.deepEqual(upstream.load(), { active: LIMIT, queued: 40 - LIMIT });
    const metrics = await send(base, '/metrics').answer;
    assert.match(metrics.body, new RegExp(`^sumkeep_upstream_requests_in_flight ${LIMIT}$`, 'm'));
    assert.match(metrics.body, new RegExp(`^sumkeep_upstream_requests_queued ${40 - LIMIT}$`, 'm'));

    // The queued clients leave first: their places go, and none of them ever reaches the upstream.
    const running = new Set(stalledAsked().map((r) => r.path));
    for (const c of clients) if (!running.has(modPath(c.version))) c.req.destroy();
    await until(() => upstream.load().queued === 0, 'the queue to empty');
    assert.equal(upstream.load().active, LIMIT);

    // Then the running ones: the proxy sees their requests aborted.
    for (const c of clients) if (running.has(modPath(c.version))) c.req.destroy();
    await until(() => fake.aborted.length === LIMIT, 'the running fetches to be aborted');
    await until(() => upstream.load().active === 0, 'the slots to be free');
    assert.deepEqual([...fake.aborted].sort(), [...running].sort());

    // Nothing was queued behind them: a new lookup is served at once.
    const ok = await send(base, '/lookup/example.com/ok@v1.0.0').answer;
    assert.equal(ok.status, 200, ok.body);
    assert.equal(stalledAsked().length, LIMIT, 'no dead lookup was started');
    assert.equal(await store.treeSize(), 1, 'only the served lookup was recorded');
    assert.deepEqual(
      lines.filter((l) => !l.includes('"level":30')),
      [],
      'cancelled fetches log nothing',
    );
  });

  it('keeps a fetch with two clients running until both have gone', async () => {
    const version = 'v1.0.50';
    const a = send(base, `/lookup/${STALLED}@${version}`);
    const b = send(base, `/lookup/${STALLED}@${version}`);
    await until(() => fake.requests.some((r) => r.path === modPath(version)), 'the fetch');
    await until(() => upstream.load().active === 1, 'the fetch to hold its slot');
    a.req.destroy();
    // The first client's departure must not end the fetch: give the server time to notice it.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!fake.aborted.includes(modPath(version)), 'aborted while a client still waited');
    assert.equal(fake.requests.filter((r) => r.path === modPath(version)).length, 1, 'one shared fetch');
    b.req.destroy();
    await until(() => fake.aborted.includes(modPath(version)), 'the fetch to be aborted');
    await until(() => upstream.load().active === 0, 'the slot to be free');
  });

  it('cancels a fetch for /api/v1/gosum and /api/v1/verify?fetch=1 when the client leaves', async () => {
    const cancelledBefore = await cancelledFetches();
    const gosum = send(base, `/api/v1/gosum/${STALLED}@v1.0.60`);
    const verify = send(base, '/api/v1/verify?fetch=1', {
      method: 'POST',
      body: `${STALLED} v1.0.61 h1:${Buffer.alloc(32).toString('base64')}\n`,
    });
    await until(
      () => [60, 61].every((i) => fake.requests.some((r) => r.path === modPath(`v1.0.${i}`))),
      'both fetches',
    );
    gosum.req.destroy();
    verify.req.destroy();
    await until(
      () => [60, 61].every((i) => fake.aborted.includes(modPath(`v1.0.${i}`))),
      'both fetches to be aborted',
    );
    await until(() => upstream.load().active === 0, 'the slots to be free');
    assert.equal(await store.lookup(STALLED, 'v1.0.60'), null);
    assert.equal(await cancelledFetches(), cancelledBefore + 2);
  });
});
