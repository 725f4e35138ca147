/**
 * `--check-sumdb` end to end: Go's reference checksum database (bench/go/refserver, x/mod's
 * sumdb.NewServer) over the untampered modules plays the independent database, with hashes the
 * real go command computed; the company proxy serves one tampered zip. Through the proxy's
 * /sumdb/<name>/ paths, sumkeep serve logs the others and refuses the tampered one, the real go
 * command downloads all but that one, an unreachable database is a 503 that is not remembered,
 * and a forked database (a second refserver with another tree under the same key) fails every
 * cross-check closed. `sumkeep ingest --check-sumdb` does the same at the database's URL and
 * offline from the go command's own cache; a --private module is never asked (a logging fake).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { generateKey } from '../../src/core/note.ts';
import { sha256 } from '../../src/core/sha256.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';
import { findGo, goClients, goEnv, requireClient, runGo, runGoAsync } from '../helpers/go.ts';
import {
  CLI,
  REPO,
  hermeticEnv,
  makeKeys,
  startServer,
  tempDir,
  type RunningServer,
} from '../helpers/server.ts';
import { SumdbProxy, buildRefServer, startRefDb, type RefDb } from './refdb.ts';

const NAME = 'sum.xcheck.test';
const { skey, vkey } = generateKey(NAME);

const goMod = (p: string) => `module ${p}\n\ngo 1.17\n`;
const mod = (path: string, version: string, body = 'func X() int { return 1 }'): ProxyModule => ({
  path,
  version,
  files: { 'go.mod': goMod(path), 'x.go': `package x\n\n${body}\n` },
});

const GOOD = ['a', 'b', 'c', 'd', 'e'].map((n) => mod(`example.com/good/${n}`, 'v1.0.0'));
/** Logged by the database only once it has grown (refGrown). */
const LATER = ['f', 'g'].map((n) => mod(`example.com/good/${n}`, 'v1.0.0'));
const TAMPERED = mod('example.com/tampered', 'v1.0.0');
const TAMPERED_BAD = mod('example.com/tampered', 'v1.0.0', 'func X() int { return 666 } // re-tagged');
const NOT_IN_DB = mod('example.com/notindb', 'v1.0.0');
const PRIVATE = mod('corp.example/secret', 'v1.0.0');

interface Sums {
  zip: string;
  mod: string;
}

/** The h1: hashes the real go command computes for `modules` from the GOPROXY directory `proxyUrl`. */
function goSums(
  go: string,
  root: string,
  proxyUrl: string,
  modules: readonly ProxyModule[],
): Map<string, Sums> {
  const work = join(root, 'work');
  fs.mkdirSync(work, { recursive: true });
  const r = runGo(go, ['mod', 'download', '-json', ...modules.map((m) => `${m.path}@${m.version}`)], {
    cwd: work,
    env: goEnv(root, { go, GOPROXY: proxyUrl }),
  });
  assert.equal(r.status, 0, `go mod download:\n${r.stdout}\n${r.stderr}`);
  const out = new Map<string, Sums>();
  for (const chunk of r.stdout.split(/(?<=^\})\n(?=\{)/m)) {
    const j = JSON.parse(chunk) as { Path: string; Version: string; Sum: string; GoModSum: string };
    out.set(`${j.Path}@${j.Version}`, { zip: j.Sum, mod: j.GoModSum });
  }
  assert.equal(out.size, modules.length);
  return out;
}

const record = (m: ProxyModule, s: Sums) => formatRecordLines(m.path, m.version, s.zip, s.mod);

/** `sumkeep <args>` without blocking this process (an in-process fake must answer meanwhile). */
function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO,
      env: hermeticEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function lookup(server: RunningServer, m: ProxyModule) {
  const r = await fetch(`${server.url}/lookup/${m.path}@${m.version}`);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

describe('--check-sumdb with Go’s reference checksum database', { timeout: 600_000 }, () => {
  const root = tempDir('xcheck');
  const go = findGo();
  let refA: RefDb | undefined;
  let refB: RefDb | undefined;
  let refGrown: RefDb | undefined;
  let proxy: SumdbProxy | undefined;
  let server: RunningServer | undefined;
  let sums = new Map<string, Sums>();
  let tamperedSums: Sums | undefined;
  const keys = join(root, 'keys');
  const untampered = buildGoProxy(join(root, 'untampered'), [...GOOD, TAMPERED, ...LATER]);
  const upstream = buildGoProxy(join(root, 'upstream'), [
    ...GOOD,
    ...LATER,
    TAMPERED_BAD,
    NOT_IN_DB,
    PRIVATE,
  ]);
  const privateOnly = buildGoProxy(join(root, 'private-bundle'), [PRIVATE, GOOD[0]!]);

  before(async () => {
    // Keys first: the ingest tests that need no go run without it too.
    makeKeys(keys, 'sum.corp.test');
    if (go === null) {
      if (process.env.CI === 'true') throw new Error('the go command is required under CI');
      return;
    }
    const bin = buildRefServer(go, root);
    sums = goSums(go, join(root, 'sums'), untampered.url, [...GOOD, TAMPERED, ...LATER]);
    tamperedSums = goSums(go, join(root, 'sums-bad'), upstream.url, [TAMPERED_BAD]).get(
      'example.com/tampered@v1.0.0',
    );
    const records = [...GOOD, TAMPERED].map((m) => record(m, sums.get(`${m.path}@${m.version}`)!));
    refA = await startRefDb(bin, join(root, 'refA'), records, skey);
    // The same database, grown: its tree of 8 extends the tree of 6.
    const grown = [...records, ...LATER.map((m) => record(m, sums.get(`${m.path}@${m.version}`)!))];
    refGrown = await startRefDb(bin, join(root, 'refGrown'), grown, skey);
    // The fork: another tree under the same key, one record longer, whose first record differs.
    const fake = (s: string) => 'h1:' + toBase64(sha256(utf8(s)));
    const other = formatRecordLines('example.com/forked', 'v1.0.0', fake('zip'), fake('mod'));
    refB = await startRefDb(bin, join(root, 'refB'), [other, ...grown], skey);
    proxy = await new SumdbProxy(upstream.dir, NAME, refA.url).start();
    server = await startServer({
      keys,
      db: join(root, 'serve.db'),
      upstream: proxy.url,
      extra: ['--check-sumdb', vkey, '--private', 'corp.example'],
    });
  });
  after(async () => {
    await server?.stop();
    await proxy?.stop();
    await refA?.stop();
    await refB?.stop();
    await refGrown?.stop();
  });

  /** The size of that database's tree sumkeep serve remembers (read beside the running server). */
  const remembered = (): number | undefined => {
    const db = new Database(join(root, 'serve.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT size FROM remote_heads WHERE name = ?').get(NAME) as
        { size: number } | undefined;
      return row?.size;
    } finally {
      db.close();
    }
  };

  /**
   * The server's stderr once it matches `re`: the line is written before the answer is sent, but
   * this process may read the answer before the pipe's data (up to 10 s).
   */
  const stderrMatching = async (re: RegExp): Promise<string> => {
    const until = Date.now() + 10_000;
    while (!re.test(server!.stderr()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.match(server!.stderr(), re);
    return server!.stderr();
  };

  const skipWithoutGo = (t: { skip: (why: string) => void }) => {
    if (go !== null) return false;
    t.skip('the go command is not installed');
    return true;
  };

  it('logs an untampered version after looking it up through the proxy’s /sumdb/ paths', async (t) => {
    if (skipWithoutGo(t)) return;
    const a = GOOD[0]!;
    const r = await lookup(server!, a);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.body.includes(record(a, sums.get(`${a.path}@${a.version}`)!)), r.body);
    assert.ok(proxy!.requests.includes(`/sumdb/${NAME}/supported`));
    assert.ok(proxy!.requests.includes(`/sumdb/${NAME}/lookup/${a.path}@${a.version}`));
    assert.ok(
      proxy!.requests.some((p) => p.startsWith(`/sumdb/${NAME}/tile/8/0/`)),
      'the record is proven with tiles',
    );
  });

  it('refuses the tampered zip: 410 text/plain naming both hashes and the database, and an error log line', async (t) => {
    if (skipWithoutGo(t)) return;
    const r = await lookup(server!, TAMPERED_BAD);
    assert.equal(r.status, 410, r.body);
    assert.match(r.type, /^text\/plain/);
    const logged = sums.get('example.com/tampered@v1.0.0')!;
    assert.notEqual(tamperedSums!.zip, logged.zip);
    for (const s of [NAME, logged.zip, tamperedSums!.zip]) assert.ok(r.body.includes(s), `${s} in ${r.body}`);
    assert.equal(r.body.trim().split('\n').length, 1);
    await stderrMatching(/"level":50.*cross-check mismatch: example\.com\/tampered@v1\.0\.0/);
    // Remembered as a refusal: asked again, the answer is the same without asking the database.
    assert.equal((await lookup(server!, TAMPERED_BAD)).status, 410);
    assert.equal(
      proxy!.requests.filter((p) => p.startsWith(`/sumdb/${NAME}/lookup/example.com/tampered@`)).length,
      1,
    );
  });

  it('refuses a public version that database does not have, with a hint about --private', async (t) => {
    if (skipWithoutGo(t)) return;
    const r = await lookup(server!, NOT_IN_DB);
    assert.equal(r.status, 410, r.body);
    assert.match(r.body, /not in the checksum database sum\.xcheck\.test.*--private/);
  });

  it('counts both refusals in sumkeep_refused_total by their reason', async (t) => {
    if (skipWithoutGo(t)) return;
    const text = await (await fetch(`${server!.url}/metrics`)).text();
    assert.match(text, /^sumkeep_refused_total\{reason="crosscheck_mismatch"\} [1-9]/m);
    assert.match(text, /^sumkeep_refused_total\{reason="crosscheck_missing"\} 1$/m);
  });

  it('never asks that database about a --private module', async (t) => {
    if (skipWithoutGo(t)) return;
    const r = await lookup(server!, PRIVATE);
    assert.equal(r.status, 410, r.body);
    assert.deepEqual(
      proxy!.requests.filter((p) => p.includes('corp.example')),
      [],
    );
  });

  for (const c of goClients()) {
    // Async: the company proxy runs in this process and must answer while go runs.
    it(`lets the real go command download all but the tampered version (${c.name})`, async (t) => {
      if (skipWithoutGo(t)) return;
      const bin = requireClient(t, c);
      if (bin === null) return;
      const work = join(root, `dl-${c.id}`);
      fs.mkdirSync(work, { recursive: true });
      const env = goEnv(join(root, `client-${c.id}`), {
        go: bin,
        GOPROXY: proxy!.url,
        GOSUMDB: server!.gosumdb,
      });
      for (const m of GOOD.slice(0, 2)) {
        const r = await runGoAsync(bin, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
          cwd: work,
          env,
        });
        assert.equal(r.status, 0, `${m.path}: ${r.stdout}\n${r.stderr}`);
      }
      const r = await runGoAsync(bin, ['mod', 'download', `${TAMPERED_BAD.path}@${TAMPERED_BAD.version}`], {
        cwd: work,
        env,
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /410 Gone/);
      assert.match(r.stderr, /refused: the checksum database sum\.xcheck\.test logs/);
      assert.ok(r.stderr.includes(tamperedSums!.zip), r.stderr);
    });
  }

  it('answers 503 while that database is unreachable (fail closed), and does not remember it', async (t) => {
    if (skipWithoutGo(t)) return;
    const c = GOOD[2]!;
    proxy!.target = 'http://127.0.0.1:1';
    const r = await lookup(server!, c);
    assert.equal(r.status, 503, r.body);
    assert.match(r.type, /^text\/plain/);
    assert.match(r.body, /cannot cross-check with the checksum database sum\.xcheck\.test/);
    proxy!.target = refA!.url;
    const again = await lookup(server!, c);
    assert.equal(again.status, 200, again.body);
    assert.equal(remembered(), 6);
  });

  it('follows the database as it grows: its larger head is proven to extend the remembered one', async (t) => {
    if (skipWithoutGo(t)) return;
    proxy!.target = refGrown!.url;
    const f = LATER[0]!;
    const r = await lookup(server!, f);
    assert.equal(r.status, 200, r.body);
    assert.ok(r.body.includes(record(f, sums.get(`${f.path}@${f.version}`)!)));
    // The store now remembers that database's tree of 8 (it remembered 6).
    assert.equal(remembered(), 8);
  });

  it('detects a fork of that database, logs the proof and fails every cross-check closed', async (t) => {
    if (skipWithoutGo(t)) return;
    proxy!.target = refB!.url;
    const r = await lookup(server!, GOOD[3]!);
    assert.equal(r.status, 503, r.body);
    assert.match(r.body, /SECURITY ERROR: it has forked/);
    const log = await stderrMatching(/SECURITY ERROR: checksum database sum\.xcheck\.test misbehavior/);
    // Both heads are in the log line: the remembered tree (size 8) and the forked one (size 9).
    assert.match(log, /go\.sum database tree\\n8\\n/);
    assert.match(log, /go\.sum database tree\\n9\\n/);
    // Back on the honest database, every cross-check still fails closed.
    proxy!.target = refGrown!.url;
    const e = await lookup(server!, GOOD[4]!);
    assert.equal(e.status, 503, e.body);
    assert.match(e.body, /forked/);
    // What is already logged is still served.
    assert.equal((await lookup(server!, GOOD[0]!)).status, 200);
  });

  describe('sumkeep ingest --check-sumdb', () => {
    const ingest = (db: string, extra: string[], dir = upstream.dir) =>
      runCliAsync(['ingest', '--keys', keys, '--db', db, '--private', 'corp.example', ...extra, dir]);

    const assertOutcome = (r: { status: number | null; stdout: string; stderr: string }) => {
      assert.equal(r.status, 1, r.stdout + r.stderr);
      // The seven untampered versions and the private one are logged; tampered and unknown refused.
      assert.match(r.stdout, /ingest: 8 added, 0 already logged, 0 conflicts, 0 invalid, 2 refused/);
      assert.match(
        r.stderr,
        /refused example\.com\/tampered@v1\.0\.0: .*refused: the checksum database sum\.xcheck\.test logs/,
      );
      assert.match(r.stderr, /refused example\.com\/notindb@v1\.0\.0: .*--private/);
    };

    it('at the database’s URL: refuses the tampered zip, logs the others', async (t) => {
      if (skipWithoutGo(t)) return;
      assertOutcome(await ingest(join(root, 'ingest-url.db'), ['--check-sumdb', `${vkey} ${refGrown!.url}`]));
    });

    it('refuses --check-sumdb without a URL or --sumdb-cache at start (it has no upstream)', async () => {
      const r = await ingest(join(root, 'ingest-nourl.db'), ['--check-sumdb', vkey], privateOnly.dir);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--check-sumdb: ingest has no upstream proxy: give the database's URL/);
      assert.equal(
        fs.existsSync(join(root, 'ingest-nourl.db')),
        false,
        'refused before the database is opened',
      );
    });

    it('never asks a --private module (a logging fake database)', async () => {
      const fake = await new FakeProxy().start();
      try {
        const r = await ingest(
          join(root, 'ingest-fake.db'),
          ['--check-sumdb', `${vkey} ${fake.url}`],
          privateOnly.dir,
        );
        // The public module was asked (and the fake knows nothing): refused; the private one logged.
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout, /1 added, .*1 refused/);
        assert.deepEqual(
          fake.requests.map((q) => q.path),
          ['/lookup/example.com/good/a@v1.0.0'],
        );
      } finally {
        await fake.stop();
      }
    });

    it('offline, from the go command’s own cache of that database (--sumdb-cache)', async (t) => {
      if (skipWithoutGo(t)) return;
      // A machine with network: the go command downloads the modules through that database, which
      // grows meanwhile (the first versions looked up in its tree of 6, the later ones in its tree
      // of 8; the go command proves the one extends the other and caches those tiles).
      const gr = join(root, 'cache-client');
      const work = join(gr, 'work');
      fs.mkdirSync(work, { recursive: true });
      const download = (db: RefDb, mods: readonly ProxyModule[]) => {
        const env = goEnv(gr, { go: go!, GOPROXY: untampered.url, GOSUMDB: `${vkey} ${db.url}` });
        const dl = runGo(go!, ['mod', 'download', ...mods.map((m) => `${m.path}@${m.version}`)], {
          cwd: work,
          env,
        });
        assert.equal(dl.status, 0, dl.stderr);
        return env;
      };
      download(refA!, GOOD.slice(0, 3));
      const env = download(refGrown!, [...GOOD.slice(3), TAMPERED, ...LATER]);
      assert.match(
        fs.readFileSync(
          join(
            env.GOMODCACHE!,
            'cache',
            'download',
            'sumdb',
            NAME,
            'lookup',
            'example.com',
            'good',
            'a@v1.0.0',
          ),
          'utf8',
        ),
        /go\.sum database tree\n6\n/,
        'the first lookups carry the smaller tree',
      );
      // Carried in: $GOPATH/pkg/sumdb/<name>/latest and $GOMODCACHE/cache/download/sumdb/<name>/.
      const cache = join(root, 'sumdb-cache');
      fs.mkdirSync(join(cache, NAME), { recursive: true });
      fs.cpSync(join(env.GOMODCACHE!, 'cache', 'download', 'sumdb', NAME), join(cache, NAME), {
        recursive: true,
      });
      fs.copyFileSync(join(env.GOPATH!, 'pkg', 'sumdb', NAME, 'latest'), join(cache, NAME, 'latest'));
      // The air gap: no database to reach any more.
      await refA!.stop();
      await refB!.stop();
      await refGrown!.stop();
      assertOutcome(
        await ingest(join(root, 'ingest-offline.db'), ['--check-sumdb', vkey, '--sumdb-cache', cache]),
      );
    });
  });
});
