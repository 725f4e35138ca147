// /readyz (issue 7 item 11): at most one database write per READY_CACHE_MS, shared by concurrent
// probes, and a database locked by another connection answers 503 at once without holding the
// event loop (better-sqlite3 waits for locks synchronously).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, READY_CACHE_MS } from '../../src/log/service.ts';
import { buildServer } from '../../src/http/server.ts';

const NAME = 'readiness.test';
const { skey } = generateKey(NAME);

describe('/readyz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sumkeep-readyz-'));
  const file = join(dir, 'log.db');
  let store: Store;
  let seq: Sequencer;
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    store = await openSqliteStore(file);
    seq = await Sequencer.open(store, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 10 });
  });
  after(async () => {
    await seq.close();
    await store.close();
  });

  async function server(now: () => number, s: Store = store): Promise<FastifyInstance> {
    const app = buildServer({ log: new LogService(s, seq, null, { now }), name: NAME });
    await app.ready();
    return app;
  }

  it('writes to the database at most once per interval, for concurrent and later probes', async () => {
    let writes = 0;
    const counting = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'checkWritable') {
          return async () => {
            writes++;
            await new Promise((r) => setTimeout(r, 20));
            return target.checkWritable();
          };
        }
        const v: unknown = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    let clock = 5_000_000;
    const app = await server(() => clock, counting);
    try {
      const first = await Promise.all(Array.from({ length: 20 }, () => app.inject('/readyz')));
      for (const r of first) assert.equal(r.statusCode, 200, r.body);
      for (let i = 0; i < 20; i++) {
        clock += 100;
        assert.equal((await app.inject('/readyz')).statusCode, 200);
      }
      assert.equal(writes, 1, 'one write for 40 probes within the interval');
      clock += READY_CACHE_MS;
      assert.equal((await app.inject('/readyz')).statusCode, 200);
      assert.equal(writes, 2, 'asked again once the interval is over');
    } finally {
      await app.close();
    }
  });

  it('a database locked by another connection: 503 at once, /healthz stays fast', async () => {
    const app = await server(Date.now);
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      other.prepare('UPDATE write_probe SET checked_at = 1').run();
      const t0 = performance.now();
      const readyz = app.inject('/readyz').then((r) => ({ r, ms: performance.now() - t0 }));
      const healthz = app.inject('/healthz').then((r) => ({ r, ms: performance.now() - t0 }));
      const [rd, hz] = await Promise.all([readyz, healthz]);
      assert.equal(rd.r.statusCode, 503, rd.r.body);
      assert.equal(rd.r.body, 'not ready: database is not writable\n');
      assert.equal(hz.r.statusCode, 200);
      // The store's own busy timeout is 5 s; the probe waits 100 ms.
      assert.ok(rd.ms < 1500, `/readyz took ${rd.ms.toFixed(0)} ms`);
      assert.ok(hz.ms < 1500, `/healthz took ${hz.ms.toFixed(0)} ms beside it`);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await app.close();
    }
  });
});

describe('/readyz of a closed store', () => {
  it('is a store_error (the probe pragmas run inside the store error mapping), not an internal error', async () => {
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 10 });
    const svc = new LogService(store, seq, null);
    await store.close();
    const r = await svc.ready();
    assert.equal(r.ok, false);
    assert.equal((r.cause as { code?: string }).code, 'store_error');
  });
});
