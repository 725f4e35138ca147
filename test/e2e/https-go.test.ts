/**
 * The whole authority over HTTPS: `ceremony init` and `ceremony tls`, `serve --tls-cert/--tls-key`,
 * the real go command (the machine's Go 1.26 and Debian's Go 1.19, in turn, against one server)
 * verifying downloads through it with SSL_CERT_FILE=root-ca.pem, and `sumkeep verify` checking the
 * go.sum each client wrote, by signed answer and by proofs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, runGo, type GoClient } from '../helpers/go.ts';
import { CLI, REPO, makeKeys, runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { makeRoot } from '../helpers/authority.ts';

const MODULES: ProxyModule[] = [
  {
    path: 'example.com/hello',
    version: 'v1.0.0',
    files: {
      'go.mod': 'module example.com/hello\n\ngo 1.17\n',
      'hello.go': 'package hello\n\nfunc Hi() string { return "hi" }\n',
    },
  },
  {
    path: 'example.com/Caps/world',
    version: 'v0.2.0',
    files: {
      'go.mod': 'module example.com/Caps/world\n\ngo 1.17\n',
      'w.go': 'package world\n\nconst W = 1\n',
    },
  },
];

interface DownloadJSON {
  Path: string;
  Version: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

/** Runs the CLI as a child process; resolves with its exit status and output. */
async function sumkeep(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status] = (await once(p, 'exit')) as [number | null];
  return { status, stdout, stderr };
}

describe('the go command through HTTPS with the ceremony TLS certificate', { timeout: 600_000 }, () => {
  const root = tempDir('e2e-https');
  const keys = join(root, 'keys');
  const proxy = buildGoProxy(join(root, 'proxy'), MODULES);
  const rootPem = join(keys, 'root-ca.pem');
  let server: RunningServer | undefined;

  before(async () => {
    makeKeys(keys, 'sum.https.test');
    const tls = runCli([
      'ceremony',
      'tls',
      '--host',
      '127.0.0.1',
      '--ip',
      '127.0.0.1',
      '--keys',
      keys,
      '--root',
      `${keys}.root`,
    ]);
    assert.equal(tls.status, 0, tls.stderr);
    server = await startServer({
      keys,
      db: join(root, 'db.sqlite'),
      upstream: proxy.url,
      extra: ['--tls-cert', join(keys, 'tls.crt'), '--tls-key', join(keys, 'tls.key')],
    });
  });
  after(async () => {
    await server?.stop();
  });

  /** A go environment of its own per client and `home`, trusting the CA certificates in certFile. */
  const env = (c: GoClient, certFile: string, home = 'trusting') =>
    goEnv(join(root, `${home}-${c.id}`), {
      go: c.bin!,
      GOPROXY: proxy.url,
      GOSUMDB: server!.gosumdb,
      extra: { SSL_CERT_FILE: certFile },
    });

  /** The main module each client runs `go get` in. */
  const clientModule = (c: GoClient) => {
    const dir = join(root, `client-${c.id}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'go.mod'), 'module example.com/client\n\ngo 1.17\n');
    return dir;
  };

  it('serves on https:// and prints the https GOSUMDB line', () => {
    assert.match(server!.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const c of goClients()) {
    it(`downloads and verifies modules through the checksum database over HTTPS (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const r = runGo(
        go,
        ['mod', 'download', '-json', 'example.com/hello@v1.0.0', 'example.com/Caps/world@v0.2.0'],
        { cwd: clientModule(c), env: env(c, rootPem) },
      );
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const docs = r.stdout
        .split(/\n(?=\{)/)
        .filter((s) => s.trim() !== '')
        .map((s) => JSON.parse(s) as DownloadJSON);
      assert.equal(docs.length, 2);
      for (const d of docs) {
        assert.equal(d.Error, undefined);
        assert.match(d.Sum ?? '', /^h1:/);
        assert.match(d.GoModSum ?? '', /^h1:/);
      }
      // Every version the go command fetched was looked up in the log over TLS.
      const latest = readFileSync(
        join(root, `trusting-${c.id}`, 'gopath', 'pkg', 'sumdb', 'sum.https.test', 'latest'),
        'utf8',
      );
      assert.match(latest, /^go\.sum database tree\n2\n/);
    });

    it(`fails the download when the certificate does not chain to SSL_CERT_FILE (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const other = join(root, `other-root-${c.id}.pem`);
      writeFileSync(other, makeRoot('sum.other.test').pem);
      const r = runGo(go, ['mod', 'download', '-json', 'example.com/hello@v1.0.0'], {
        cwd: clientModule(c),
        env: env(c, other, 'distrusting'),
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stdout + r.stderr, /x509: certificate signed by unknown authority/);
    });

    it(`verifies the go.sum the go command wrote, by signed answer and by proofs, over HTTPS (${c.name})`, async (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const dir = clientModule(c);
      const r = runGo(go, ['get', 'example.com/hello@v1.0.0'], { cwd: dir, env: env(c, rootPem) });
      assert.equal(r.status, 0, r.stderr);
      const gosum = join(dir, 'go.sum');
      assert.match(readFileSync(gosum, 'utf8'), /^example\.com\/hello v1\.0\.0 h1:/m);
      const api = await sumkeep([
        'verify',
        gosum,
        '--server',
        server!.url,
        '--trust',
        join(keys, 'trust.json'),
        '--ca',
        rootPem,
      ]);
      assert.equal(api.status, 0, api.stderr + api.stdout);
      assert.match(api.stdout, /2 match, 0 mismatch, 0 unknown, 0 invalid/);
      const proofs = await sumkeep(
        [
          'verify',
          gosum,
          '--server',
          server!.url,
          '--proofs',
          '--trust',
          join(keys, 'trust.json'),
          '--state',
          join(root, `state-${c.id}.latest`),
        ],
        { SSL_CERT_FILE: rootPem },
      );
      assert.equal(proofs.status, 0, proofs.stderr + proofs.stdout);
    });
  }
});
