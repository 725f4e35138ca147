/**
 * Upstream faults seen through the server: a proxy that answers 500, hangs, truncates the zip, or
 * serves a zip for another module gives a clean one-line error with the right status, logs nothing,
 * and the same lookup succeeds once the proxy heals. The real go clients (the machine's Go 1.26 and
 * Debian's Go 1.19) see the same faults through the listening server: their download fails with
 * the server's status and one-line reason (never SECURITY ERROR) and works once the proxy heals.
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
import { goClients, goEnv, requireClient, runGoAsync, type GoRun } from '../helpers/go.ts';
import { tempDir } from '../helpers/server.ts';

const mod = (path: string) => {
  const pkg = path.split('/').pop()!;
  return { path, version: 'v1.0.0', files: { 'go.mod': `module ${path}\n`, 'x.go': `package ${pkg}\n` } };
};
/** The faults the go clients see: upstream 500, a truncated zip, upstream 404. */
const GO_FAULTS = ['fivehundred', 'truncated', 'missing'];
const mods = [
  ...['fivehundred', 'hang', 'truncated', 'othermod', 'missing'].map((n) => mod(`example.com/${n}`)),
  ...goClients().flatMap((c) => GO_FAULTS.map((n) => mod(`example.com/${c.id}-client/${n}`))),
];

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
  const key = generateKey('faults.test');
  let url = '';

  before(async () => {
    fake.dir = proxyDir;
    await fake.start();
    store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [newSigner(key.skey)], {
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
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await fake.stop();
    await store.close();
  });

  const zipOf = (path: string) => readFileSync(gp.files.get(`${path}@v1.0.0`)!.zip);
  const cases: {
    name: string;
    file: 'mod' | 'zip';
    reply: (path: string) => Reply;
    status: number;
    statusText: string;
    reason: RegExp;
  }[] = [
    {
      name: 'fivehundred',
      file: 'mod',
      reply: () => ({ status: 500, body: 'boom' }),
      status: 502,
      statusText: 'Bad Gateway',
      reason: /500/,
    },
    {
      name: 'hang',
      file: 'zip',
      reply: () => ({ hang: true }),
      status: 504,
      statusText: 'Gateway Timeout',
      reason: /time/i,
    },
    {
      name: 'truncated',
      file: 'zip',
      reply: (path) => ({ status: 200, body: zipOf(path).subarray(0, 60) }),
      status: 410,
      statusText: 'Gone',
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
      statusText: 'Gone',
      reason: /example\.com\/elsewhere|prefix|module/,
    },
    {
      name: 'missing',
      file: 'mod',
      reply: () => ({ status: 404, body: 'nope' }),
      status: 404,
      statusText: 'Not Found',
      reason: /not found/,
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} while the upstream ${c.name === 'missing' ? 'says 404' : 'is broken'} (${c.name}), then heals`, async () => {
      const url = `/lookup/example.com/${c.name}@v1.0.0`;
      fake.on(`/example.com/${c.name}/@v/v1.0.0.${c.file}`, c.reply(`example.com/${c.name}`));
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

  for (const c of goClients()) {
    it(`the go command shows the status and reason of each fault, never SECURITY ERROR, and works once healed (${c.name})`, async (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      // The client gets modules from its own healthy proxy (the file:// tree) and looks them up
      // through the server, whose upstream is broken.
      const env = goEnv(join(root, `go-${c.id}`), { go, GOPROXY: gp.url, GOSUMDB: `${key.vkey} ${url}` });
      for (const f of cases.filter((x) => GO_FAULTS.includes(x.name))) {
        const path = `example.com/${c.id}-client/${f.name}`;
        const download = (): Promise<GoRun> =>
          runGoAsync(go, ['mod', 'download', '-json', `${path}@v1.0.0`], { cwd: root, env });
        fake.on(`/${path}/@v/v1.0.0.${f.file}`, f.reply(path));
        const before = await store.treeSize();
        const bad = await download();
        assert.notEqual(bad.status, 0, `${f.name}: the download must fail: ${bad.stdout}${bad.stderr}`);
        // go mod download -json reports the failure in the module's Error field.
        const err = (JSON.parse(bad.stdout) as { Error?: string }).Error ?? '';
        assert.ok(err.includes(`/lookup/${path}@v1.0.0: ${f.status} ${f.statusText}\n`), `${f.name}: ${err}`);
        const response = /\n\tserver response: (.*)$/.exec(err)?.[1] ?? '';
        assert.match(response, f.reason, `${f.name}: the server's one-line reason reaches the user: ${err}`);
        assert.doesNotMatch(bad.stdout + bad.stderr, /SECURITY ERROR/, f.name);
        assert.equal(await store.treeSize(), before, 'nothing logged for a failed fetch');

        fake.on(`/${path}/@v/v1.0.0.${f.file}`, ...[]);
        const ok = await download();
        assert.equal(ok.status, 0, `${f.name} after healing: ${ok.stdout}${ok.stderr}`);
        assert.equal(await store.treeSize(), before + 1);
      }
    });
  }
});
