/**
 * No local path and no credential in what a client or the log sees: lookups whose upstream is a
 * file:// mirror with broken files, or an http proxy (with `user:token@` credentials) serving a
 * bad zip, or whose download directory is unusable, answer with text that names files only by
 * their GOPROXY label (`@v/v1.0.0.zip`) and the proxy without userinfo. The server's log (a pino
 * destination captured here) is searched the same way.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
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

const names = ['truncated', 'loop', 'zipdir', 'moddir', 'notzip'];
const mods = names.map((n) => ({
  path: `example.com/${n}`,
  version: 'v1.0.0',
  files: { 'go.mod': `module example.com/${n}\n`, 'x.go': `package ${n}\n` },
}));

const USER = 'alice-the-user';
const TOKEN = 'tok3n-s3cret';

/** A server over `upstream` whose log lines are kept. */
async function serverOver(upstream: Upstream) {
  const lines: string[] = [];
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
  const store: Store = await openSqliteStore(':memory:');
  const seq = await Sequencer.open(store, [newSigner(generateKey('leaks.test').skey)], {
    maxDelayMs: 1,
    maxBatch: 10,
  });
  const app: FastifyInstance = buildServer({
    log: new LogService(store, seq, upstream),
    name: 'leaks.test',
    loggerInstance: pino({ level: 'info' }, dest),
  });
  await app.ready();
  return {
    app,
    lines,
    close: async () => {
      await app.close();
      await seq.close();
      await store.close();
    },
  };
}

describe('upstream errors name no local path and no credential', () => {
  const root = tempDir('leaks');
  const mirrorDir = join(root, 'mirror-dir-do-not-show');
  const gp = buildGoProxy(mirrorDir, mods);
  const tmp = join(root, 'download-dir-do-not-show');
  mkdirSync(tmp);
  const fake = new FakeProxy();
  const zipOf = (n: string) => gp.files.get(`example.com/${n}@v1.0.0`)!.zip;
  const modOf = (n: string) => gp.files.get(`example.com/${n}@v1.0.0`)!.mod;
  const truncated = readFileSync(zipOf('truncated')).subarray(0, 60);

  before(async () => {
    // The http proxy serves the good files; the broken ones are scripted below.
    fake.dir = join(root, 'clean');
    buildGoProxy(fake.dir, mods);
    await fake.start();
    fake.on('/example.com/truncated/@v/v1.0.0.zip', { status: 200, body: truncated });
    fake.on('/example.com/notzip/@v/v1.0.0.zip', { status: 200, body: 'this is not a zip at all' });
    // Break the mirror: a cut zip, a symlink loop, directories where files should be.
    writeFileSync(zipOf('truncated'), truncated);
    writeFileSync(zipOf('notzip'), 'this is not a zip at all');
    rmSync(zipOf('loop'));
    symlinkSync(zipOf('loop'), zipOf('loop'));
    rmSync(zipOf('zipdir'));
    mkdirSync(zipOf('zipdir'));
    rmSync(modOf('moddir'));
    mkdirSync(modOf('moddir'));
  });
  after(async () => {
    await fake.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Text a client or an operator sees must not carry any of these. */
  const forbidden = [root, mirrorDir, tmp, 'sumkeep-upstream-', 'module.zip', USER, TOKEN];
  const clean = (what: string, text: string): void => {
    for (const f of forbidden) assert.ok(!text.includes(f), `${what} shows ${JSON.stringify(f)}: ${text}`);
  };
  const opts = { timeouts: { connectMs: 20_000, totalMs: 60_000 }, retries: { count: 0 } } as const;

  const mirrorCases: [string, number, RegExp][] = [
    ['truncated', 410, /@v\/v1\.0\.0\.zip/],
    ['notzip', 410, /@v\/v1\.0\.0\.zip/],
    ['loop', 502, /@v\/v1\.0\.0\.zip/],
    ['zipdir', 502, /@v\/v1\.0\.0\.zip: not a regular file/],
    ['moddir', 502, /@v\/v1\.0\.0\.mod: not a regular file/],
  ];
  for (const [name, status, label] of mirrorCases) {
    it(`file:// mirror, ${name}: ${status} naming the file by its label`, async () => {
      const s = await serverOver(new Upstream({ proxies: gp.url, tmpDir: tmp, ...opts }));
      try {
        const r = await s.app.inject(`/lookup/example.com/${name}@v1.0.0`);
        assert.equal(r.statusCode, status, r.body);
        assert.match(r.body, label);
        clean('the answer', r.body);
        for (const l of s.lines) clean('the log', l);
      } finally {
        await s.close();
      }
    });
  }

  for (const name of ['truncated', 'notzip']) {
    it(`http proxy with credentials serving a bad zip (${name}): 410 without the download path`, async () => {
      const proxy = fake.url.replace('http://', `http://${USER}:${TOKEN}@`);
      const s = await serverOver(new Upstream({ proxies: proxy, tmpDir: tmp, ...opts }));
      try {
        const r = await s.app.inject(`/lookup/example.com/${name}@v1.0.0`);
        assert.equal(r.statusCode, 410, r.body);
        assert.match(r.body, /@v\/v1\.0\.0\.zip/);
        assert.ok(r.body.includes(fake.url), 'the proxy is named without its userinfo');
        clean('the answer', r.body);
        for (const l of s.lines) clean('the log', l);
      } finally {
        await s.close();
      }
    });
  }

  it('an unusable download directory is a 500 whose log line names no path', async () => {
    const notADir = join(tmp, 'a-file');
    writeFileSync(notADir, '');
    const proxy = fake.url.replace('http://', `http://${USER}:${TOKEN}@`);
    const s = await serverOver(new Upstream({ proxies: proxy, tmpDir: notADir, ...opts }));
    try {
      const r = await s.app.inject('/lookup/example.com/zipdir@v1.0.0');
      assert.equal(r.statusCode, 500, r.body);
      assert.equal(r.body, 'internal server error\n');
      const logged = s.lines.filter((l) => l.includes('internal error'));
      assert.equal(logged.length, 1, s.lines.join('\n'));
      // The operator still learns what failed, by the system's error code.
      assert.match(logged[0]!, /ENOTDIR/);
      for (const l of s.lines) clean('the log', l);
    } finally {
      await s.close();
    }
  });
});
