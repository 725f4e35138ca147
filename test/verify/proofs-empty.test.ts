// `sumkeep verify --proofs` against a log that starts empty: /latest is then a signed note of the
// size-0 tree (issue 7 item 13), which must verify, may be remembered, and must not look like a
// fork once the log grows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { utf8 } from '../../src/core/bytes.ts';
import { verifyWithProofs } from '../../src/verify/proofs.ts';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

describe('verify --proofs against an empty, then growing log', () => {
  let auth: TestAuthority;
  let s: App;
  let server: http.Server;
  let url: string;
  const state = join(mkdtempSync(join(tmpdir(), 'sumkeep-proofs-empty-')), 'log.latest');
  before(async () => {
    auth = makeAuthority({ name: 'sum.proofs-empty.test' });
    s = await startApp(auth.keys);
    server = http.createServer((req, res) => {
      void s.app.inject({ method: 'GET', url: req.url ?? '/' }).then((r) => {
        res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') });
        res.end(r.rawPayload);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await s.close();
  });

  it('checks a go.sum against the empty log, then against the grown one', async () => {
    // The fake upstream does not have example.com/missing: the log stays empty.
    const missing = `example.com/missing v1.0.0 ${fakeHash('example.com/missing', 'v1.0.0', 'zip')}\n`;
    const gosum = `example.com/a v1.0.0 ${fakeHash('example.com/a', 'v1.0.0', 'zip')}\n`;
    const empty = await verifyWithProofs(utf8(missing), {
      server: url,
      verifierKeys: [auth.vkey],
      stateFile: state,
    });
    assert.deepEqual(
      empty.response.results.map((r) => r.status),
      ['unknown'],
    );
    assert.equal(empty.response.tree.size, 0);

    assert.equal((await s.app.inject('/lookup/example.com/a@v1.0.0')).statusCode, 200);
    const grown = await verifyWithProofs(utf8(gosum), {
      server: url,
      verifierKeys: [auth.vkey],
      stateFile: state,
    });
    assert.deepEqual(
      grown.response.results.map((r) => r.status),
      ['match'],
    );
    assert.equal(grown.response.tree.size, 1);
    assert.ok(grown.stored, 'the larger tree is remembered');
  });
});
