// Only 2xx answers of the signed routes carry a signature (src/http/sign.ts): an error body can
// echo what the client sent, here a module path written as a whole go.sum line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

const SIGNED = ['x-go-sum-signature', 'x-go-sum-signer', 'x-go-sum-alg'];

describe('signed routes sign 2xx answers only', () => {
  let auth: TestAuthority;
  let s: App;
  before(async () => {
    auth = makeAuthority({ name: 'sum.signed-status.test' });
    s = await startApp(auth.keys);
  });
  after(async () => s.close());

  it('a 400 whose body starts with attacker text shaped like a go.sum line is not signed', async () => {
    const forged = `example.com/evil v1.0.0 ${fakeHash('example.com/evil', 'v1.0.0', 'zip')}`;
    const r = await s.app.inject(`/api/v1/gosum/${encodeURIComponent(forged)}@v1.0.0`);
    assert.equal(r.statusCode, 400, r.body);
    assert.ok(r.body.startsWith(forged), `the body echoes the request: ${r.body}`);
    for (const h of SIGNED) assert.equal(r.headers[h], undefined, h);
    // With Accept: application/jose too: no JWS for an error.
    const j = await s.app.inject({
      url: `/api/v1/gosum/${encodeURIComponent(forged)}@v1.0.0`,
      headers: { accept: 'application/jose' },
    });
    assert.equal(j.statusCode, 400);
    assert.equal(j.headers['content-type'], 'text/plain; charset=utf-8');
    for (const h of SIGNED) assert.equal(j.headers[h], undefined, h);
  });

  it('errors of POST /api/v1/verify (400, 413, 415) are not signed', async () => {
    const cases: [string, string, string, number][] = [
      ['?fetch=2', 'text/plain', 'example.com/a v1.0.0 h1:x\n', 400],
      ['', 'application/json', '{}', 415],
      ['', 'text/plain', 'x\n'.repeat(200_000), 413],
    ];
    for (const [query, type, payload, status] of cases) {
      const r = await s.app.inject({
        method: 'POST',
        url: `/api/v1/verify${query}`,
        headers: { 'content-type': type },
        payload,
      });
      assert.equal(r.statusCode, status, r.body);
      for (const h of SIGNED) assert.equal(r.headers[h], undefined, `${status} ${h}`);
    }
  });

  it('a 502 from the upstream is not signed; a 200 is', async () => {
    const bad = await s.app.inject('/api/v1/gosum/example.com/down@v1.0.0');
    assert.equal(bad.statusCode, 502);
    for (const h of SIGNED) assert.equal(bad.headers[h], undefined, h);
    const ok = await s.app.inject('/api/v1/gosum/example.com/a@v1.0.0');
    assert.equal(ok.statusCode, 200, ok.body);
    for (const h of SIGNED) assert.equal(typeof ok.headers[h], 'string', h);
  });
});
