/**
 * `sumkeep serve` reading the go command's variables (GOPROXY, GOPRIVATE) when no --upstream and
 * no --private is given: the real child process, with a loopback fake proxy that counts the
 * requests it receives, so that "nothing left the server" is observed rather than assumed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { CLI, REPO, makeKeys, tempDir } from '../helpers/server.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';

type Outcome =
  | { kind: 'exit'; code: number | null; stderr: string }
  | { kind: 'up'; url: string; stderr: () => string; proc: ChildProcess };

/** The variables that choose the upstream and the private patterns: the test sets them itself. */
const CHOOSERS = /^(GOPROXY|GOPRIVATE|GONOSUMDB|GONOPROXY|SUMKEEP_.*)$/;

/**
 * Starts `sumkeep serve` with `env` (and no --upstream): resolves when it announces its GOSUMDB
 * line or when it exits, whichever comes first.
 */
function serve(keys: string, env: Record<string, string>, extra: string[] = []): Promise<Outcome> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CHOOSERS.test(k)));
  const db = join(tempDir('serve-env-db'), 'log.db');
  const args = ['--import', 'tsx', CLI, 'serve', '--keys', keys, '--db', db, '--listen', '127.0.0.1:0'];
  const proc = spawn(process.execPath, [...args, '--log-level', 'info', ...extra], {
    cwd: REPO,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`serve neither started nor exited in 60 s; stderr:\n${err}`));
    }, 60_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^GOSUMDB=\S+ (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ kind: 'up', url: m[1]!, stderr: () => err, proc });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ kind: 'exit', code, stderr: err });
    });
  });
}

async function stop(o: Outcome): Promise<void> {
  if (o.kind !== 'up' || o.proc.exitCode !== null || o.proc.signalCode !== null) return;
  const exited = once(o.proc, 'exit');
  o.proc.kill('SIGTERM');
  await exited;
}

/** The server, or a failure that shows why it did not start. */
function running(o: Outcome): Extract<Outcome, { kind: 'up' }> {
  if (o.kind !== 'up') assert.fail(`serve exited with ${o.code}:\n${o.stderr}`);
  return o;
}

/** The exit, or a failure that shows the server started when it should have refused to. */
async function refused(o: Outcome): Promise<Extract<Outcome, { kind: 'exit' }>> {
  if (o.kind === 'up') {
    const log = o.stderr();
    await stop(o);
    assert.fail(`serve started instead of refusing; stderr:\n${log}`);
  }
  return o;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe('sumkeep serve with the go command variables', () => {
  let keys: string;
  const fake = new FakeProxy();
  before(async () => {
    const dir = tempDir('serve-env');
    keys = join(dir, 'keys');
    makeKeys(keys, 'serve-env.test');
    buildGoProxy(join(dir, 'proxy'), [
      { path: 'b.example.com/x', version: 'v1.0.0', files: { 'go.mod': 'module b.example.com/x\n' } },
      { path: 'c.example.com/x', version: 'v1.0.0', files: { 'go.mod': 'module c.example.com/x\n' } },
    ]);
    fake.dir = join(dir, 'proxy');
    await fake.start();
  });
  after(async () => fake.stop());

  it('GOPROXY=off: logs that there is no upstream and answers 404 for unlogged versions', async () => {
    const s = running(await serve(keys, { GOPROXY: 'off' }));
    try {
      const r = await get(`${s.url}/lookup/example.com/m@v1.0.0`);
      assert.deepEqual(r, {
        status: 404,
        body: 'example.com/m@v1.0.0: not in the log, and this server has no upstream\n',
      });
      assert.match(s.stderr(), /"msg":"no upstream \(GOPROXY\): /);
      assert.doesNotMatch(s.stderr(), /proxy\.golang\.org/);
    } finally {
      await stop(s);
    }
  });

  it('GOPROXY=off,<proxy>: the entries after off are not used, and no request is made', async () => {
    const before = fake.requests.length;
    const s = running(await serve(keys, { GOPROXY: `off,${fake.url}` }));
    try {
      const r = await get(`${s.url}/lookup/c.example.com/x@v1.0.0`);
      assert.equal(r.status, 404, r.body);
      assert.match(r.body, /this server has no upstream/);
      assert.equal(fake.requests.length, before, 'the fake proxy saw a request');
    } finally {
      await stop(s);
    }
  });

  it('GOPROXY=direct: exits 2 with the explanation', async () => {
    const o = await refused(await serve(keys, { GOPROXY: 'direct' }));
    assert.equal(o.code, 2);
    assert.match(
      o.stderr,
      /GOPROXY: .*"direct" is not supported: sumkeep must not fetch modules from version control/,
    );
  });

  it('GOPRIVATE="a.example.com, b.example.com": b is private (410) and never asked upstream', async () => {
    const s = running(await serve(keys, { GOPROXY: fake.url, GOPRIVATE: 'a.example.com, b.example.com' }));
    try {
      const before = fake.requests.length;
      const r = await get(`${s.url}/lookup/b.example.com/x@v1.0.0`);
      assert.equal(r.status, 410, r.body);
      assert.equal(r.body, 'b.example.com/x matches GOPRIVATE; it enters the log only by `sumkeep ingest`\n');
      assert.equal(fake.requests.length, before, 'the fake proxy saw a request for a private module');
      // The fake proxy is the upstream in effect: a public module is fetched from it.
      const c = await get(`${s.url}/lookup/c.example.com/x@v1.0.0`);
      assert.equal(c.status, 200, c.body);
      assert.ok(fake.count('/c.example.com/x/@v/v1.0.0.zip') > 0);
      const log = s.stderr();
      assert.match(log, /"msg":"private patterns a\.example\.com,b\.example\.com \(GOPRIVATE\)/);
      assert.match(log, /"msg":"upstream http:\/\/127\.0\.0\.1:\d+ \(GOPROXY\)"/);
    } finally {
      await stop(s);
    }
  });

  it('a malformed pattern: exits 2 naming it', async () => {
    const fromEnv = await refused(await serve(keys, { GOPROXY: 'off', GOPRIVATE: 'a.example.com,[oops' }));
    assert.equal(fromEnv.code, 2);
    assert.match(fromEnv.stderr, /GOPRIVATE: malformed pattern "\[oops"/);
    const fromFlag = await refused(await serve(keys, { GOPROXY: 'off' }, ['--private', 'x\\']));
    assert.equal(fromFlag.code, 2);
    assert.match(fromFlag.stderr, /--private: malformed pattern "x\\\\"/);
  });
});
