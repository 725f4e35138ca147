import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { isSumkeepError } from '../../src/core/errors.ts';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { formatRecord, parseRecord } from '../../src/core/tlog/index.ts';
import { concatBytes, utf8 } from '../../src/core/bytes.ts';
import { ForkError, RecordProofError, verifyWithProofs } from '../../src/verify/proofs.ts';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

const line = (path: string, version: string, kind: 'zip' | 'go.mod', hash = fakeHash(path, version, kind)) =>
  `${path} ${version}${kind === 'go.mod' ? '/go.mod' : ''} ${hash}\n`;
const FORGED = 'h1:' + Buffer.alloc(32, 9).toString('base64');

type Tamper = (url: string, status: number, body: Buffer) => { status: number; body: Buffer };

/** A real HTTP server in front of an in-process app, optionally rewriting its answers. */
async function serve(s: App, tamper?: Tamper): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      const r = await s.app.inject({ method: 'GET', url: req.url ?? '/' });
      const out = tamper
        ? tamper(req.url ?? '/', r.statusCode, r.rawPayload)
        : { status: r.statusCode, body: r.rawPayload };
      res.writeHead(out.status, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') });
      res.end(out.body);
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function tempState(): string {
  return join(mkdtempSync(join(tmpdir(), 'sumkeep-proofs-')), 'state', 'log.latest');
}

async function rejectsWith(p: Promise<unknown>, check: (e: Error) => void): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    check(e);
    return true;
  });
}

describe('verify --proofs against an honest log', () => {
  let auth: TestAuthority;
  let s: App;
  let srv: { url: string; close: () => Promise<void> };
  const state = tempState();
  before(async () => {
    auth = makeAuthority({ name: 'sum.proofs.test' });
    s = await startApp(auth.keys);
    // Enough records for full tiles and more than one tile level.
    for (let i = 0; i < 300; i++) await s.app.inject(`/lookup/example.com/m${i}@v1.0.${i}`);
    srv = await serve(s);
  });
  after(async () => {
    await srv.close();
    await s.close();
  });

  it('matches lines by inclusion proof and remembers the tree', async () => {
    const gosum =
      line('example.com/m5', 'v1.0.5', 'zip') +
      line('example.com/m5', 'v1.0.5', 'go.mod') +
      line('example.com/m257', 'v1.0.257', 'zip') +
      line('example.com/m6', 'v1.0.6', 'zip', FORGED) +
      line('example.com/missing', 'v1.0.0', 'zip') +
      'garbage\n';
    const out = await verifyWithProofs(utf8(gosum), {
      server: srv.url,
      verifierKeys: [auth.vkey],
      stateFile: state,
    });
    assert.deepEqual(
      out.response.results.map((r) => [r.line, r.status]),
      [
        [1, 'match'],
        [2, 'match'],
        [3, 'match'],
        [4, 'mismatch'],
        [5, 'unknown'],
        [6, 'invalid'],
      ],
    );
    assert.equal(out.response.results[3]!.logged, fakeHash('example.com/m6', 'v1.0.6', 'zip'));
    assert.match(out.response.results[4]!.reason!, /not found upstream/);
    assert.equal(out.rememberedSize, null);
    assert.ok(out.stored);
    assert.equal(out.response.tree.size, 300);
    assert.ok(existsSync(state));
  });

  it('proves the grown log extends the remembered tree, and stores the larger one', async () => {
    for (let i = 300; i < 520; i++) await s.app.inject(`/lookup/example.com/m${i}@v1.0.${i}`);
    const out = await verifyWithProofs(utf8(line('example.com/m515', 'v1.0.515', 'zip')), {
      server: srv.url,
      verifierKeys: [auth.vkey],
      stateFile: state,
    });
    assert.equal(out.rememberedSize, 300);
    assert.equal(out.response.tree.size, 520);
    assert.ok(out.stored);
    assert.equal(out.response.results[0]!.status, 'match');
    assert.match(readFileSync(state, 'utf8'), /^go\.sum database tree\n520\n/);
  });

  it('accepts a server that lags behind the remembered tree when it is a prefix of it', async () => {
    const heads = await s.store.heads();
    const headOfSize = (n: number) => heads.find((h) => h.size === n)!.note;
    const lagging = await serve(s, (url, status, body) =>
      // The head of size 300, as a stale cache would answer.
      url === '/latest' ? { status, body: Buffer.from(headOfSize(300)) } : { status, body },
    );
    try {
      const out = await verifyWithProofs(utf8(''), {
        server: lagging.url,
        verifierKeys: [auth.vkey],
        stateFile: state,
      });
      assert.equal(out.rememberedSize, 520);
      assert.equal(out.stored, false);
    } finally {
      await lagging.close();
    }
  });

  it('refuses a state file of another log', async () => {
    const other = tempState();
    const { vkey } = generateKey('sum.other.test');
    await verifyWithProofs(utf8(''), { server: srv.url, verifierKeys: [auth.vkey], stateFile: other });
    await rejectsWith(
      verifyWithProofs(utf8(''), { server: srv.url, verifierKeys: [vkey], stateFile: other }),
      (e) => {
        assert.ok(isSumkeepError(e, 'config'), String(e));
      },
    );
  });
});

describe('verify --proofs against a misbehaving server', () => {
  let auth: TestAuthority;
  let s: App;
  before(async () => {
    auth = makeAuthority({ name: 'sum.evil.test' });
    s = await startApp(auth.keys);
    for (let i = 0; i < 40; i++) await s.app.inject(`/lookup/example.com/m${i}@v1.0.${i}`);
  });
  after(async () => s.close());

  /** Rewrites the lookup answer of `target`: the record text, or the record id. */
  const forging =
    (
      target: string,
      change: (rec: ReturnType<typeof parseRecord>) => { id: number; text: Uint8Array },
    ): Tamper =>
    (url, status, body) => {
      if (!url.startsWith(`/lookup/${target}`) || status !== 200) return { status, body };
      const rec = parseRecord(new Uint8Array(body));
      const forged = change(rec);
      return { status, body: Buffer.from(concatBytes(formatRecord(forged.id, forged.text), rec.rest)) };
    };

  it('detects a record that is not in the signed tree', async () => {
    const forgedText = utf8(
      line('example.com/m7', 'v1.0.7', 'zip', FORGED) + line('example.com/m7', 'v1.0.7', 'go.mod'),
    );
    const evil = await serve(
      s,
      forging('example.com/m7@', (rec) => ({ id: rec.id, text: forgedText })),
    );
    try {
      await rejectsWith(
        verifyWithProofs(utf8(line('example.com/m7', 'v1.0.7', 'zip', FORGED)), {
          server: evil.url,
          verifierKeys: [auth.vkey],
          stateFile: tempState(),
        }),
        (e) => {
          assert.ok(e instanceof RecordProofError, String(e));
          assert.match(e.message, /SECURITY ERROR.*example\.com\/m7@v1\.0\.7.*not in its signed tree/);
        },
      );
    } finally {
      await evil.close();
    }
  });

  it('detects a record id outside the tree, and a record of another module', async () => {
    const outside = await serve(
      s,
      forging('example.com/m3@', (rec) => ({ id: 1_000_000, text: rec.text })),
    );
    const other = await serve(
      s,
      forging('example.com/m4@', () => ({
        id: 5,
        text: utf8(line('example.com/m5', 'v1.0.5', 'zip') + line('example.com/m5', 'v1.0.5', 'go.mod')),
      })),
    );
    try {
      await rejectsWith(
        verifyWithProofs(utf8(line('example.com/m3', 'v1.0.3', 'zip')), {
          server: outside.url,
          verifierKeys: [auth.vkey],
          stateFile: tempState(),
        }),
        (e) => assert.match(e.message, /SECURITY ERROR.*outside its own tree/),
      );
      await rejectsWith(
        verifyWithProofs(utf8(line('example.com/m4', 'v1.0.4', 'zip')), {
          server: other.url,
          verifierKeys: [auth.vkey],
          stateFile: tempState(),
        }),
        (e) => assert.match(e.message, /SECURITY ERROR.*record of example\.com\/m5@v1\.0\.5/),
      );
    } finally {
      await outside.close();
      await other.close();
    }
  });

  it('refuses tree heads not signed by the verifier key', async () => {
    const srv = await serve(s);
    try {
      const { vkey } = generateKey('sum.evil.test');
      await rejectsWith(
        verifyWithProofs(utf8(''), { server: srv.url, verifierKeys: [vkey], stateFile: tempState() }),
        (e) => {
          assert.ok(isSumkeepError(e), String(e));
          assert.match(e.message, /\/latest: the signed tree head does not verify/);
        },
      );
    } finally {
      await srv.close();
    }
  });

  for (const [what, extra] of [
    ['a larger', 10],
    ['an equal-size', 0],
  ] as const) {
    it(`names the fork when the server's log is ${what} tree that does not extend the remembered one`, async () => {
      const state = tempState();
      const honest = await serve(s);
      // A second log under the same key, with other contents.
      const forkKeys = { ...auth.keys, noteSigners: [newSigner(auth.skey)] };
      const fork = await startApp(forkKeys);
      const size = (await s.store.treeSize()) + extra;
      for (let i = 0; i < size; i++) await fork.app.inject(`/lookup/example.com/fork${i}@v1.0.${i}`);
      const forkSrv = await serve(fork);
      try {
        await verifyWithProofs(utf8(''), { server: honest.url, verifierKeys: [auth.vkey], stateFile: state });
        const remembered = readFileSync(state);
        await rejectsWith(
          verifyWithProofs(utf8(''), { server: forkSrv.url, verifierKeys: [auth.vkey], stateFile: state }),
          (e) => {
            assert.ok(e instanceof ForkError, String(e));
            assert.match(e.message, /SECURITY ERROR.*the log has forked/);
            assert.match(e.message, new RegExp(`tree of size ${size} .* of size ${size - extra}`));
          },
        );
        assert.deepEqual(readFileSync(state), remembered, 'the remembered tree is kept');
      } finally {
        await forkSrv.close();
        await fork.close();
        await honest.close();
      }
    });
  }

  it('fails, keeping the state, when a smaller tree cannot be checked against the remembered one', async () => {
    const state = tempState();
    const fork = await startApp({ ...auth.keys });
    for (let i = 0; i < 5; i++) await fork.app.inject(`/lookup/example.com/small${i}@v1.0.${i}`);
    const honest = await serve(s);
    const forkSrv = await serve(fork);
    try {
      await verifyWithProofs(utf8(''), { server: honest.url, verifierKeys: [auth.vkey], stateFile: state });
      const remembered = readFileSync(state);
      // The fork (size 5) cannot serve the tiles of the remembered tree (size 40) that would show
      // whether its tree is a prefix: that is an error, never a pass.
      await rejectsWith(
        verifyWithProofs(utf8(''), { server: forkSrv.url, verifierKeys: [auth.vkey], stateFile: state }),
        (e) => {
          assert.ok(isSumkeepError(e), String(e));
          assert.match(e.message, /cannot check that the tree of size 5 is a prefix of the tree of size 40/);
        },
      );
      assert.deepEqual(readFileSync(state), remembered);
    } finally {
      await forkSrv.close();
      await honest.close();
      await fork.close();
    }
  });
});
