import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { startApp, type App } from '../helpers/inprocess.ts';

describe('trust endpoints', () => {
  let auth: TestAuthority;
  let s: App;
  before(async () => {
    auth = makeAuthority({ name: 'sum.trust.test' });
    s = await startApp(auth.keys, { publicUrl: 'https://sum.trust.test' });
  });
  after(async () => s.close());

  it('serves the trust bundle as published, as JSON', async () => {
    const r = await s.app.inject('/.well-known/sumkeep/trust.json');
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), auth.trust);
  });

  it('serves the JWKS with the response keys and their x5c chains', async () => {
    const r = await s.app.inject('/.well-known/jwks.json');
    assert.equal(r.statusCode, 200);
    const jwks = JSON.parse(r.body) as { keys: { kid: string; x5c: string[] }[] };
    assert.deepEqual(jwks, { keys: auth.trust.jwks.keys });
    assert.equal(jwks.keys[0]!.kid, auth.response.signer.kid);
    assert.equal(jwks.keys[0]!.x5c.length, 2);
  });

  it('tells how to configure the go command, GOSUMDB line first', async () => {
    const r = await s.app.inject('/api/v1/gosumdb');
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const lines = r.body.split('\n');
    assert.equal(lines[0], `GOSUMDB=${auth.vkey} https://sum.trust.test`);
    assert.ok(lines.includes(`go env -w 'GOSUMDB=${auth.vkey} https://sum.trust.test'`), r.body);
    assert.ok(r.body.includes(auth.root.sha256), 'names the root fingerprint for the private CA');
  });

  it('without a ceremony: 404 with one line for trust.json and jwks.json, gosumdb still works', async () => {
    const bare = await startApp({ ...auth.keys, trust: null, responseSigner: null });
    try {
      for (const url of ['/.well-known/sumkeep/trust.json', '/.well-known/jwks.json']) {
        const r = await bare.app.inject(url);
        assert.equal(r.statusCode, 404, url);
        assert.match(r.body, /^this server has no trust bundle: .*ceremony init.*\n$/);
        assert.equal(r.body.split('\n').length, 2);
      }
      const g = await bare.app.inject('/api/v1/gosumdb');
      assert.equal(g.statusCode, 200);
      assert.equal(g.body.split('\n')[0], `GOSUMDB=${auth.vkey} http://sum.test.local:8080`);
      assert.ok(!g.body.includes('trust.json'), 'no trust bundle to point at');
    } finally {
      await bare.close();
    }
  });
});
