/** `sumkeep serve` start-up: configuration by flags and environment, and its clear refusals. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadServeConfig } from '../../src/config.ts';
import { isSumkeepError } from '../../src/core/errors.ts';
import { REPO, makeKeys, runCli, startServer, tempDir } from '../helpers/server.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { parseRecord } from '../../src/core/tlog/index.ts';

describe('serve configuration', () => {
  it('reads SUMKEEP_* variables and lets flags win', () => {
    const env = {
      SUMKEEP_KEYS: '/k',
      SUMKEEP_DB: '/d.db',
      SUMKEEP_UPSTREAM: 'https://a',
      SUMKEEP_LISTEN: '0.0.0.0:9000',
    };
    const c = loadServeConfig({}, env);
    assert.deepEqual(
      [c.keysDir, c.dbFile, c.upstream, c.host, c.port],
      ['/k', '/d.db', 'https://a', '0.0.0.0', 9000],
    );
    const f = loadServeConfig({ keys: 'k2', db: 'x.db', upstream: 'file:///p', listen: '127.0.0.1:1' }, env);
    assert.deepEqual(
      [f.keysDir, f.dbFile, f.upstream, f.host, f.port],
      ['k2', 'x.db', 'file:///p', '127.0.0.1', 1],
    );
  });

  it('uses GOPROXY up to its direct, refuses one that is only direct, else the documented default', () => {
    assert.equal(
      loadServeConfig({}, { GOPROXY: 'https://p1,https://p2|direct' }).upstream,
      'https://p1,https://p2',
    );
    // The hardening issue: GOPROXY=direct no longer falls back to the public proxy (fail closed).
    assert.throws(
      () => loadServeConfig({}, { GOPROXY: 'direct' }),
      (e) => isSumkeepError(e, 'config') && /^GOPROXY: .*"direct"/.test(e.message),
    );
    assert.equal(loadServeConfig({}, {}).upstream, 'https://proxy.golang.org');
  });

  it('refuses a bad listen address and bad numbers with how to fix them', () => {
    for (const listen of ['nope', '127.0.0.1:99999', ':']) {
      assert.throws(
        () => loadServeConfig({ listen }, {}),
        (e) => isSumkeepError(e, 'config') && /host>:<port/.test(e.message),
      );
    }
    assert.throws(() => loadServeConfig({ batchMax: '0' }, {}), /whole number/);
  });

  it('reads the upstream limits: --upstream-concurrency and --negative-cache-ttl', () => {
    const d = loadServeConfig({}, {});
    assert.deepEqual([d.upstreamConcurrency, d.negativeCacheTtlS], [16, 60]);
    const e = loadServeConfig(
      { upstreamConcurrency: '3' },
      { SUMKEEP_UPSTREAM_CONCURRENCY: '8', SUMKEEP_NEGATIVE_CACHE_TTL: '0' },
    );
    assert.deepEqual([e.upstreamConcurrency, e.negativeCacheTtlS], [3, 0]);
    assert.throws(() => loadServeConfig({ upstreamConcurrency: '0' }, {}), /--upstream-concurrency "0"/);
    assert.throws(() => loadServeConfig({ negativeCacheTtl: '-1' }, {}), /--negative-cache-ttl/);
  });
});

describe('sumkeep serve', () => {
  it('exits with the ceremony command to run when there is no key', () => {
    const dir = tempDir('nokey');
    const r = runCli([
      'serve',
      '--keys',
      join(dir, 'keys'),
      '--db',
      join(dir, 'db'),
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      'off',
    ]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /npx sumkeep ceremony init --name <log name> --keys /);
  });

  it('refuses direct in the upstream list with an explanation', () => {
    const dir = tempDir('direct');
    const keys = join(dir, 'keys');
    makeKeys(keys);
    const r = runCli([
      'serve',
      '--keys',
      keys,
      '--db',
      join(dir, 'db'),
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      'https://a,direct',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /direct/);
  });

  it('prints exactly one GOSUMDB line on stdout and takes its settings from the environment', async () => {
    const dir = tempDir('envserve');
    const keys = join(dir, 'keys');
    const vkey = makeKeys(keys, 'env.serve.test');
    const db = join(dir, 'data', 'log.db');
    const s = await startServer({ keys: '/nonexistent-flag-wins', db, upstream: 'off', env: {} }).catch(
      (e: Error) => e,
    );
    assert.ok(s instanceof Error, 'a wrong --keys flag is refused');
    const server = await startServer({
      keys,
      db,
      upstream: 'off',
      env: { SUMKEEP_KEYS: '/ignored-because-flag' },
    });
    try {
      assert.equal(server.vkey, vkey);
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${server.url}/readyz`);
      assert.equal(r.status, 200);
      assert.ok(existsSync(db));
    } finally {
      await server.stop();
    }
  });

  it('serves from several worker processes with --workers and stops them all', async () => {
    const dir = tempDir('workers');
    const keys = join(dir, 'keys');
    makeKeys(keys, 'workers.test');
    const proxy = buildGoProxy(
      join(dir, 'proxy'),
      Array.from({ length: 40 }, (_, i) => ({
        path: `example.com/w${i}`,
        version: 'v1.0.0',
        files: { 'go.mod': `module example.com/w${i}\n` },
      })),
    );
    const server = await startServer({
      keys,
      db: join(dir, 'db'),
      upstream: proxy.url,
      extra: ['--workers', '2'],
    });
    try {
      // Every module is asked for three times at once: the log still gets one record per version.
      const rs = await Promise.all(
        Array.from({ length: 120 }, (_, i) => fetch(`${server.url}/lookup/example.com/w${i % 40}@v1.0.0`)),
      );
      const bodies = await Promise.all(rs.map((r) => r.arrayBuffer()));
      const failed = rs.flatMap((r, i) =>
        r.status === 200 ? [] : [`${r.status} ${Buffer.from(bodies[i]!).toString().trim()}`],
      );
      assert.deepEqual(failed, [], `failed lookups; server stderr:\n${server.stderr()}`);
      const ids = new Map<number, number>();
      bodies.forEach((b, i) => {
        const id = parseRecord(new Uint8Array(b)).id;
        const prev = ids.get(i % 40);
        if (prev !== undefined) assert.equal(id, prev, 'one record per module version');
        ids.set(i % 40, id);
      });
      assert.deepEqual(
        [...new Set(ids.values())].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i),
      );
      // A worker notices the other's commits within 200 ms (Sequencer.current).
      await new Promise((r) => setTimeout(r, 400));
      const latest = await (await fetch(`${server.url}/latest`)).text();
      assert.match(latest, /^go\.sum database tree\n40\n/, `stderr:\n${server.stderr()}`);
    } finally {
      await server.stop();
    }
    assert.equal(
      server.proc.exitCode,
      0,
      `exit ${server.proc.exitCode}/${server.proc.signalCode}:\n${server.stderr()}`,
    );
  });

  it('never logs upstream credentials', async () => {
    const dir = tempDir('creds');
    const keys = join(dir, 'keys');
    makeKeys(keys, 'creds.test');
    const server = await startServer({
      keys,
      db: join(dir, 'db'),
      upstream: 'https://ci-bot:s3cr3t-t0ken@athens.invalid,file:///nonexistent',
      extra: ['--log-level', 'debug'],
    });
    try {
      // No lookup here: it would resolve athens.invalid, and tests never leave the machine.
      await new Promise((res) => setTimeout(res, 100));
      assert.match(server.stderr(), /athens\.invalid/, 'the upstream is logged');
      assert.doesNotMatch(server.stderr(), /s3cr3t-t0ken/);
    } finally {
      await server.stop();
    }
  });

  it('starts from the bin script with --dev and creates a labelled development key (npm start)', async () => {
    const cwd = tempDir('devstart');
    const proc = spawn(
      process.execPath,
      [join(REPO, 'bin/sumkeep.js'), 'serve', '--dev', '--listen', '127.0.0.1:0', '--upstream', 'off'],
      {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        proc.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.match(line, /^GOSUMDB=sumkeep-dev\.localhost\+[0-9a-f]{8}\+\S+ http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(existsSync(join(cwd, 'keys', 'DEVELOPMENT')));
      assert.match(readFileSync(join(cwd, 'keys', 'DEVELOPMENT'), 'utf8'), /development/i);
      assert.equal(statSync(join(cwd, 'keys', 'note.key')).mode & 0o777, 0o600);
      assert.ok(existsSync(join(cwd, 'data', 'sumkeep.db')));
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
