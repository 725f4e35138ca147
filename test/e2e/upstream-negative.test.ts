/**
 * The negative cache, counted at the upstream: a version the upstream does not have, or one that
 * is refused (invalid zip, another module, too large), is answered from memory for
 * --negative-cache-ttl with the same status and message; transient failures (5xx, a reset
 * connection) are asked again. Timeouts and cancelled fetches are never remembered either:
 * test/log/negative-cache.test.ts and test/log/service-fill.test.ts.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService } from '../../src/log/service.ts';
import { Upstream } from '../../src/upstream/index.ts';
import { buildServer } from '../../src/http/server.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { tempDir } from '../helpers/server.ts';

const mod = (n: string) => ({
  path: `example.com/${n}`,
  version: 'v1.0.0',
  files: { 'go.mod': `module example.com/${n}\n`, 'x.go': `package x\n` },
});

describe('negative cache', () => {
  const root = tempDir('negative');
  const fake = new FakeProxy();
  let clock = 1_000_000;
  const servers: { app: FastifyInstance; store: Store; seq: Sequencer }[] = [];

  before(async () => {
    fake.dir = join(root, 'proxy');
    buildGoProxy(fake.dir, ['badzip', 'liar', 'big', 'down', 'reset'].map(mod));
    fake.on('/example.com/badzip/@v/v1.0.0.zip', { status: 200, body: 'not a zip' });
    fake.on('/example.com/liar/@v/v1.0.0.mod', { status: 200, body: 'module example.com/other\n' });
    fake.on('/example.com/big/@v/v1.0.0.mod', {
      status: 200,
      body: 'module example.com/big\n' + '//\n'.repeat(400),
    });
    fake.on('/example.com/down/@v/v1.0.0.mod', { status: 503 });
    fake.on('/example.com/reset/@v/v1.0.0.mod', { reset: true });
    await fake.start();
  });
  after(async () => {
    for (const s of servers) {
      await s.app.close();
      await s.seq.close();
      await s.store.close();
    }
    await fake.stop();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  async function server(ttlMs: number): Promise<FastifyInstance> {
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [newSigner(generateKey('negative.test').skey)], {
      maxDelayMs: 1,
      maxBatch: 10,
    });
    const upstream = new Upstream({
      proxies: fake.url,
      tmpDir: root,
      limits: { mod: 1024 },
      timeouts: { connectMs: 20_000, totalMs: 60_000 },
      retries: { count: 0 },
    });
    const app = buildServer({
      log: new LogService(store, seq, upstream, { negativeCacheTtlMs: ttlMs, now: () => clock }),
      name: 'negative.test',
    });
    await app.ready();
    servers.push({ app, store, seq });
    return app;
  }

  for (const [name, status] of [
    ['missing', 404],
    ['badzip', 410],
    ['liar', 410],
    ['big', 410],
  ] as const) {
    it(`answers a repeated ${name} lookup (${status}) from memory, with the same answer`, async () => {
      const app = await server(60_000);
      const url = `/lookup/example.com/${name}@v1.0.0`;
      const first = await app.inject(url);
      assert.equal(first.statusCode, status, first.body);
      const asked = fake.count();
      assert.ok(asked >= 1);
      for (let i = 0; i < 3; i++) {
        const again = await app.inject(url);
        assert.equal(again.statusCode, status);
        assert.equal(again.body, first.body);
      }
      assert.equal(fake.count(), asked, 'no upstream request for a remembered answer');
      // A verify with ?fetch=1 would hit the same memory; other versions are still asked.
      await app.inject(`/lookup/example.com/${name}@v1.0.1`);
      assert.ok(fake.count() > asked);
    });
  }

  it('forgets after the TTL', async () => {
    const app = await server(60_000);
    await app.inject('/lookup/example.com/missing@v1.0.2');
    clock += 59_000;
    await app.inject('/lookup/example.com/missing@v1.0.2');
    assert.equal(fake.count(), 1);
    clock += 2_000;
    const r = await app.inject('/lookup/example.com/missing@v1.0.2');
    assert.equal(r.statusCode, 404);
    assert.equal(fake.count(), 2, 'asked again once the TTL has passed');
  });

  it('remembers nothing with a TTL of 0', async () => {
    const app = await server(0);
    await app.inject('/lookup/example.com/missing@v1.0.3');
    await app.inject('/lookup/example.com/missing@v1.0.3');
    assert.equal(fake.count(), 2);
  });

  for (const [name, status] of [
    ['down', 502],
    ['reset', 502],
  ] as const) {
    it(`asks again after a transient failure (${name}, ${status})`, async () => {
      const app = await server(60_000);
      const url = `/lookup/example.com/${name}@v1.0.0`;
      assert.equal((await app.inject(url)).statusCode, status);
      assert.equal((await app.inject(url)).statusCode, status);
      assert.equal(fake.count(), 2);
    });
  }
});
