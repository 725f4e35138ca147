/**
 * Upstream faults seen through the server: a proxy that answers 500, hangs, truncates the zip, or
 * serves a zip for another module gives a clean one-line error with the right status, logs nothing,
 * and the same lookup succeeds once the proxy heals.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { parseRecord } from '../../src/core/tlog/index.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService } from '../../src/log/service.ts';
import { Upstream } from '../../src/upstream/index.ts';
import { buildServer } from '../../src/http/server.ts';
import { FakeProxy, type Reply } from '../helpers/fake-proxy.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { tempDir } from '../helpers/server.ts';

const mods = ['fivehundred', 'hang', 'truncated', 'othermod', 'missing'].map((n) => ({
  path: `example.com/${n}`,
  version: 'v1.0.0',
  files: { 'go.mod': `module example.com/${n}\n`, 'x.go': `package ${n}\n` },
}));

describe('upstream faults through the server', () => {
  const root = tempDir('faults');
  const proxyDir = join(root, 'proxy');
  const gp = buildGoProxy(proxyDir, mods);
  const other = buildGoProxy(join(root, 'other'), [
    {
      path: 'example.com/elsewhere',
      version: 'v1.0.0',
      files: { 'go.mod': 'module example.com/elsewhere\n' },
    },
  ]);
  const fake = new FakeProxy();
  let app: FastifyInstance;
  let store: Store;

  before(async () => {
    fake.dir = proxyDir;
    await fake.start();
    store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [newSigner(generateKey('faults.test').skey)], {
      maxDelayMs: 1,
      maxBatch: 10,
    });
    const upstream = new Upstream({
      proxies: fake.url,
      timeouts: { connectMs: 300, totalMs: 2000 },
      retries: { count: 1, baseDelayMs: 5, maxDelayMs: 10 },
    });
    app = buildServer({
      log: new LogService(store, seq, upstream),
      name: 'faults.test',
    });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await fake.stop();
    await store.close();
  });

  const zipOf = (name: string) => readFileSync(gp.files.get(`example.com/${name}@v1.0.0`)!.zip);
  const cases: { name: string; file: 'mod' | 'zip'; reply: () => Reply; status: number; reason: RegExp }[] = [
    {
      name: 'fivehundred',
      file: 'mod',
      reply: () => ({ status: 500, body: 'boom' }),
      status: 502,
      reason: /500/,
    },
    { name: 'hang', file: 'zip', reply: () => ({ hang: true }), status: 504, reason: /time/i },
    {
      name: 'truncated',
      file: 'zip',
      reply: () => ({ status: 200, body: zipOf('truncated').subarray(0, 60) }),
      status: 410,
      reason: /zip/,
    },
    {
      name: 'othermod',
      file: 'zip',
      reply: () => ({
        status: 200,
        body: readFileSync(other.files.get('example.com/elsewhere@v1.0.0')!.zip),
      }),
      status: 410,
      reason: /example\.com\/elsewhere|prefix|module/,
    },
    {
      name: 'missing',
      file: 'mod',
      reply: () => ({ status: 404, body: 'nope' }),
      status: 404,
      reason: /not found/,
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} while the upstream ${c.name === 'missing' ? 'says 404' : 'is broken'} (${c.name}), then heals`, async () => {
      const url = `/lookup/example.com/${c.name}@v1.0.0`;
      fake.on(`/example.com/${c.name}/@v/v1.0.0.${c.file}`, c.reply());
      const before = await store.treeSize();
      const r = await app.inject(url);
      assert.equal(r.statusCode, c.status, r.body);
      assert.match(r.body, c.reason);
      assert.equal(r.body.trimEnd().split('\n').length, 1, 'a one-line reason');
      assert.doesNotMatch(r.body, /at .*\.ts:\d+/);
      assert.equal(await store.treeSize(), before, 'nothing logged for a failed fetch');
      assert.equal(await store.lookup(`example.com/${c.name}`, 'v1.0.0'), null);

      // Heal: serve the real files again.
      fake.on(`/example.com/${c.name}/@v/v1.0.0.${c.file}`, ...[]);
      const ok = await app.inject(url);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(parseRecord(ok.rawPayload).id, before);
      assert.equal(await store.treeSize(), before + 1);
    });
  }
});
