/** `sumkeep verify`: the real command against an in-process server, its output and its exit codes. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { concatBytes, utf8 } from '../../src/core/bytes.ts';
import { formatRecord, parseRecord } from '../../src/core/tlog/index.ts';
import type { VerifyResponse } from '../../src/verify/response.ts';
import { OPEN_POLICY } from '../../src/core/policy.ts';
import { parsePolicyDocument } from '../../src/core/policy-schema.ts';
import { issueResponseKey, makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { caConstraints, issueUnder, makeCa } from '../helpers/chain.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';
import { CLI, REPO, tempDir } from '../helpers/server.ts';

const line = (path: string, version: string, kind: 'zip' | 'go.mod', hash = fakeHash(path, version, kind)) =>
  `${path} ${version}${kind === 'go.mod' ? '/go.mod' : ''} ${hash}\n`;
const WRONG = 'h1:' + Buffer.alloc(32, 3).toString('base64');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process (the server under test runs in it). */
async function sumkeep(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, SSL_CERT_FILE: '', SUMKEEP_SERVER: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status] = (await once(p, 'exit')) as [number | null];
  return { status, stdout, stderr };
}

type Rewrite = (res: { status: number; headers: Record<string, string>; body: Buffer }, url: string) => void;

/** Serves `app` on a real port, through an optional rewrite of each answer. */
async function listen(
  app: FastifyInstance,
  rewrite?: Rewrite,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const r = await app.inject({
          method: req.method as 'GET' | 'POST',
          url: req.url ?? '/',
          headers: req.headers as Record<string, string>,
          ...(req.method === 'POST' ? { payload: Buffer.concat(chunks) } : {}),
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k] = v;
        delete headers['content-length'];
        const out = { status: r.statusCode, headers, body: r.rawPayload };
        rewrite?.(out, req.url ?? '/');
        res.writeHead(out.status, out.headers);
        res.end(out.body);
      })();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('sumkeep verify', { timeout: 300_000 }, () => {
  let auth: TestAuthority;
  let s: App;
  let srv: { url: string; close: () => Promise<void> };
  const dir = tempDir('cli-verify');
  const trustFile = join(dir, 'trust.json');
  const file = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const good = () =>
    file('good.sum', line('example.com/a', 'v1.0.0', 'zip') + line('example.com/a', 'v1.0.0', 'go.mod'));

  before(async () => {
    auth = makeAuthority({ name: 'sum.cli.test' });
    auth.trust.jwks.keys.push(issueResponseKey(auth.root, 'EdDSA').jwk);
    s = await startApp(auth.keys);
    await s.app.inject('/lookup/example.com/a@v1.0.0');
    await s.app.inject('/lookup/example.com/b@v1.0.0');
    srv = await listen(s.app);
    writeFileSync(trustFile, JSON.stringify(auth.trust));
  });
  after(async () => {
    await srv.close();
    await s.close();
  });

  it('exits 0 and prints a table when every line matches', async () => {
    const r = await sumkeep(['verify', good(), '--server', srv.url, '--trust', trustFile]);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split('\n');
    assert.match(rows[0]!, /^LINE\s+MODULE@VERSION\s+KIND\s+STATUS\s+HASH$/);
    assert.match(rows[1]!, /^1\s+example\.com\/a@v1\.0\.0\s+zip\s+match\s+h1:\S{12}\.\.\.$/);
    assert.match(rows[2]!, /^2\s+example\.com\/a@v1\.0\.0\s+go\.mod\s+match\s/);
    assert.match(r.stdout, /2 match, 0 mismatch, 0 unknown, 0 invalid/);
    assert.match(
      r.stderr,
      new RegExp(
        `signed by ${auth.response.signer.kid} \\(EdDSA\\), chained to root sha256 ${auth.root.sha256}`,
      ),
    );
    assert.doesNotMatch(r.stderr, /trust on first use/);
  });

  it('exits 1 on a mismatch, even next to unknown and invalid lines', async () => {
    const f = file(
      'bad.sum',
      line('example.com/b', 'v1.0.0', 'zip', WRONG) + line('example.com/zzz', 'v1.0.0', 'zip') + 'junk\n',
    );
    const r = await sumkeep(['verify', f, '--server', srv.url, '--trust', trustFile]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stdout,
      /^1\s+example\.com\/b@v1\.0\.0\s+zip\s+mismatch\s+go\.sum h1:AwMDAwMDAwMD\.\.\.\s+log h1:/m,
    );
    assert.match(r.stdout, /^3\s+-\s+-\s+invalid\s+wrong number of fields/m);
  });

  it('exits 2 on unknown lines, and fills them with --fetch', async () => {
    const f = file('unknown.sum', line('example.com/c', 'v1.0.0', 'zip'));
    const r = await sumkeep(['verify', f, '--server', srv.url, '--trust', trustFile]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /unknown\s+example\.com\/c@v1\.0\.0: not in the log/);
    const fetched = await sumkeep(['verify', f, '--server', srv.url, '--trust', trustFile, '--fetch']);
    assert.equal(fetched.status, 0, fetched.stderr);
  });

  it("exits 1 on a line the server's policy denies, in API and --proofs mode", async () => {
    s.service.setPolicy(
      parsePolicyDocument({ deny: [{ module: 'example.com/b', versions: '<v2.0.0', reason: 'withdrawn' }] }),
    );
    try {
      // example.com/b@v1.0.0 is in the log and matches: the policy decides, not the hash.
      const f = file(
        'denied.sum',
        line('example.com/a', 'v1.0.0', 'zip') +
          line('example.com/b', 'v1.0.0', 'zip') +
          line('example.com/c', 'v1.9.0', 'zip'),
      );
      const r = await sumkeep(['verify', f, '--server', srv.url, '--trust', trustFile]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /^2\s+example\.com\/b@v1\.0\.0\s+zip\s+denied\s+denied by policy: withdrawn$/m);
      assert.match(r.stdout, /1 match, 0 mismatch, 1 unknown, 1 denied, 0 invalid/);
      const p = await sumkeep([
        'verify',
        f,
        '--server',
        srv.url,
        '--proofs',
        '--vkey',
        auth.vkey,
        '--state',
        join(dir, 'denied.latest'),
      ]);
      assert.equal(p.status, 1, p.stderr);
      assert.match(p.stdout, /^2\s+example\.com\/b@v1\.0\.0\s+zip\s+denied\s+denied by policy: withdrawn$/m);
    } finally {
      s.service.setPolicy(OPEN_POLICY);
    }
  });

  it('exits 2 on invalid lines only', async () => {
    const r = await sumkeep([
      'verify',
      file('invalid.sum', 'example.com/a v1.0.0 h1:nope\n'),
      '--server',
      srv.url,
      '--trust',
      trustFile,
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stdout, /0 match, 0 mismatch, 0 unknown, 1 invalid/);
  });

  it('prints the verified answer with --json', async () => {
    const r = await sumkeep(['verify', good(), '--server', srv.url, '--trust', trustFile, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as VerifyResponse;
    assert.deepEqual(v.summary, { match: 2, mismatch: 0, unknown: 0, denied: 0, invalid: 0 });
  });

  it('says loudly that it trusts on first use without --trust', async () => {
    const r = await sumkeep(['verify', good(), '--server', srv.url]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING: no --trust given: .*trust on first use.*sha256 [0-9a-f]{64}/);
  });

  it('exits 2 when the signer does not chain to the pinned root', async () => {
    // The pinned bundle is another authority's: the server's signing key (found in the server's
    // own JWKS, since the pinned one does not list it) chains to a root that is not the pinned one.
    const other = makeAuthority({ name: 'sum.cli.test' });
    const otherTrust = file('other-trust.json', JSON.stringify(other.trust));
    const r = await sumkeep(['verify', good(), '--server', srv.url, '--trust', otherTrust]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /does not end in the pinned root/);
    assert.equal(r.stdout, '');
  });

  it('exits 2 when the signer chains to the pinned root through an intermediate CA', async () => {
    // The ceremony's root has pathLenConstraint 0: a CA certificate under it (made here with the
    // root's key, as a mis-issued one would be) must not vouch for a signing key, even though each
    // signature in the chain verifies. The server lists that key in its own JWKS.
    const inter = makeCa('sumkeep intermediate CA', auth.root, caConstraints(0));
    const hostile = issueUnder([inter, auth.root], 'EdDSA');
    const evil = await startApp({
      ...auth.keys,
      responseSigner: hostile.signer,
      trust: { ...auth.trust, jwks: { keys: [...auth.trust.jwks.keys, hostile.jwk] } },
    });
    await evil.app.inject('/lookup/example.com/a@v1.0.0');
    const evilSrv = await listen(evil.app);
    try {
      const r = await sumkeep(['verify', good(), '--server', evilSrv.url, '--trust', trustFile]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        /x5c\[2\] \(subject "O=sumkeep, CN=sumkeep root CA sum\.cli\.test"\) exceeds its pathLenConstraint 0/,
      );
      assert.equal(r.stdout, '');
    } finally {
      await evilSrv.close();
      await evil.close();
    }
  });

  it('exits 2 for a pinned bundle whose keys are not certified by its root', async () => {
    const other = makeAuthority({ name: 'sum.cli.test' });
    const mixed = file('mixed-trust.json', JSON.stringify({ ...auth.trust, root: other.trust.root }));
    const r = await sumkeep(['verify', good(), '--server', srv.url, '--trust', mixed]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid trust bundle: .*root/);
    assert.equal(r.stdout, '');
  });

  const tampering: [string, Rewrite, RegExp][] = [
    [
      'a flipped body byte',
      (res, url) => {
        if (url.startsWith('/api/v1/verify'))
          res.body = Buffer.from(res.body.toString().replace('"match"', '"mitch"'));
      },
      /does not verify over the body/,
    ],
    [
      'a swapped kid',
      (res, url) => {
        if (url.startsWith('/api/v1/verify'))
          res.headers['x-go-sum-signer'] = auth.trust.jwks.keys.at(-1)!.kid;
      },
      /does not verify over the body/,
    ],
    [
      'an unsigned answer',
      (res, url) => {
        if (url.startsWith('/api/v1/verify')) delete res.headers['x-go-sum-signature'];
      },
      /not signed/,
    ],
  ];
  for (const [what, rewrite, msg] of tampering) {
    it(`exits 2 for ${what}`, async () => {
      const evil = await listen(s.app, rewrite);
      try {
        const r = await sumkeep(['verify', good(), '--server', evil.url, '--trust', trustFile]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, msg);
      } finally {
        await evil.close();
      }
    });
  }

  it('exits 2 with the reason when the server cannot be reached', async () => {
    const r = await sumkeep(['verify', good(), '--server', 'http://127.0.0.1:1', '--trust', trustFile]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
  });

  it('--proofs checks the log itself and exits 0, 1 and 2 like the API mode', async () => {
    const state = join(dir, 'state.latest');
    const ok = await sumkeep([
      'verify',
      good(),
      '--server',
      srv.url,
      '--proofs',
      '--vkey',
      auth.vkey,
      '--state',
      state,
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(
      ok.stderr,
      /every record is in the signed tree of size \d+ \(no tree remembered yet\); remembered in/,
    );
    const bad = await sumkeep([
      'verify',
      file('p.sum', line('example.com/b', 'v1.0.0', 'go.mod', WRONG)),
      '--server',
      srv.url,
      '--proofs',
      '--trust',
      trustFile,
      '--state',
      state,
    ]);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /which extends the remembered size/);
  });

  it('--proofs exits 2 for a server that answers a record not in its tree', async () => {
    const forged = line('example.com/a', 'v1.0.0', 'zip', WRONG) + line('example.com/a', 'v1.0.0', 'go.mod');
    const evil = await listen(s.app, (res, url) => {
      if (!url.startsWith('/lookup/example.com/a@')) return;
      const rec = parseRecord(new Uint8Array(res.body));
      res.body = Buffer.from(concatBytes(formatRecord(rec.id, utf8(forged)), rec.rest));
    });
    try {
      const f = file('forged.sum', line('example.com/a', 'v1.0.0', 'zip', WRONG));
      // The forged record is served on /lookup only: the proofs must catch it.
      const r = await sumkeep([
        'verify',
        f,
        '--server',
        evil.url,
        '--proofs',
        '--vkey',
        auth.vkey,
        '--state',
        join(dir, 'evil.latest'),
      ]);
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /SECURITY ERROR: go\.sum database server misbehavior: .*example\.com\/a@v1\.0\.0.*not in its signed tree/,
      );
      assert.equal(r.stdout, '');
    } finally {
      await evil.close();
    }
  });

  it('--proofs needs a verifier key', async () => {
    const r = await sumkeep(['verify', good(), '--server', srv.url, '--proofs']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /--proofs needs the log's verifier key: pass --vkey <key> or --trust <trust\.json>/,
    );
  });

  it('documents the exit codes in --help', async () => {
    const r = await sumkeep(['verify', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /0 {2}every line matches the log/);
    assert.match(r.stdout, /1 {2}some line does not match the log, or is denied by the server's policy/);
  });
});
