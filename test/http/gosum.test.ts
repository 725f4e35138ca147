import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, verify } from 'node:crypto';
import { compactVerify, importJWK } from 'jose';
import type { PublicJwk, ResponseAlg } from '../../src/keys/types.ts';
import { issueResponseKey, makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';
import { wantsJose } from '../../src/http/sign.ts';

/** Checks a signature with node:crypto and nothing but the published JWK. */
function verifyWithJwk(jwk: PublicJwk, body: Uint8Array, sig: Uint8Array): boolean {
  const key = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  if (jwk.alg === 'EdDSA') return verify(null, body, key, sig);
  return verify('sha256', body, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
}

async function jwksOf(s: App): Promise<PublicJwk[]> {
  const r = await s.app.inject('/.well-known/jwks.json');
  assert.equal(r.statusCode, 200);
  return (JSON.parse(r.body) as { keys: PublicJwk[] }).keys;
}

function signed(r: { headers: Record<string, unknown>; rawPayload: Buffer }) {
  const sig = r.headers['x-go-sum-signature'];
  const kid = r.headers['x-go-sum-signer'];
  const alg = r.headers['x-go-sum-alg'];
  assert.equal(typeof sig, 'string', 'X-Go-Sum-Signature');
  assert.equal(typeof kid, 'string', 'X-Go-Sum-Signer');
  assert.equal(typeof alg, 'string', 'X-Go-Sum-Alg');
  assert.match(sig as string, /^[A-Za-z0-9+/]+={0,2}$/, 'standard base64');
  return {
    sig: new Uint8Array(Buffer.from(sig as string, 'base64')),
    kid: kid as string,
    alg: alg as string,
    body: new Uint8Array(r.rawPayload),
  };
}

for (const alg of ['EdDSA', 'PS256'] as ResponseAlg[]) {
  describe(`GET /api/v1/gosum signed with ${alg}`, () => {
    let auth: TestAuthority;
    let other: PublicJwk;
    let s: App;
    before(async () => {
      auth = makeAuthority({ name: `sum.${alg.toLowerCase()}.test`, alg });
      // A second published key of the same root: the signature must not verify under its kid.
      other = issueResponseKey(auth.root, alg).jwk;
      auth.trust.jwks.keys.push(other);
      s = await startApp(auth.keys);
    });
    after(async () => s.close());

    it('answers the two go.sum lines, filled on demand, signed over the exact body', async () => {
      const r = await s.app.inject('/api/v1/gosum/example.com/a@v1.0.0');
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(
        r.body,
        `example.com/a v1.0.0 ${fakeHash('example.com/a', 'v1.0.0', 'zip')}\n` +
          `example.com/a v1.0.0/go.mod ${fakeHash('example.com/a', 'v1.0.0', 'go.mod')}\n`,
      );
      const { sig, kid, alg: hAlg, body } = signed(r);
      assert.equal(hAlg, alg);
      assert.equal(kid, auth.response.signer.kid);
      const jwk = (await jwksOf(s)).find((k) => k.kid === kid);
      assert.ok(jwk, 'the signer is in the JWKS');
      assert.ok(verifyWithJwk(jwk, body, sig));
    });

    it('fails verification for every flipped body byte and under a swapped kid', async () => {
      const r = await s.app.inject('/api/v1/gosum/example.com/a@v1.0.0');
      const { sig, kid, body } = signed(r);
      const jwks = await jwksOf(s);
      const jwk = jwks.find((k) => k.kid === kid)!;
      for (let i = 0; i < body.length; i++) {
        const bad = body.slice();
        bad[i] = bad[i]! ^ 0x01;
        assert.equal(verifyWithJwk(jwk, bad, sig), false, `byte ${i} flipped`);
      }
      const swapped = jwks.find((k) => k.kid === other.kid)!;
      assert.notEqual(swapped.kid, kid);
      assert.equal(verifyWithJwk(swapped, body, sig), false);
      const badSig = sig.slice();
      badSig[0] = badSig[0]! ^ 0x80;
      assert.equal(verifyWithJwk(jwk, body, badSig), false);
    });

    it('answers a compact JWS of the same bytes for Accept: application/jose', async () => {
      const plain = await s.app.inject('/api/v1/gosum/example.com/a@v1.0.0');
      const r = await s.app.inject({
        url: '/api/v1/gosum/example.com/a@v1.0.0',
        headers: { accept: 'application/jose' },
      });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], 'application/jose');
      const jwk = (await jwksOf(s)).find((k) => k.kid === auth.response.signer.kid)!;
      // With jose ...
      const { payload, protectedHeader } = await compactVerify(r.body, await importJWK({ ...jwk }, alg));
      assert.equal(Buffer.from(payload).toString(), plain.body);
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.kid, jwk.kid);
      assert.equal(protectedHeader.cty, 'text/plain');
      // ... and by hand.
      const [h, p, sg] = r.body.split('.') as [string, string, string];
      assert.ok(verifyWithJwk(jwk, Buffer.from(`${h}.${p}`), Buffer.from(sg, 'base64url')));
      assert.equal(Buffer.from(p, 'base64url').toString(), plain.body);
      // The headers sign the JWS text itself.
      const hs = signed(r);
      assert.ok(verifyWithJwk(jwk, hs.body, hs.sig));
    });

    it('never signs an error answer (only 2xx are signed)', async () => {
      const r = await s.app.inject('/api/v1/gosum/example.com/missing@v1.0.0');
      assert.equal(r.statusCode, 404);
      assert.match(r.body, /not found upstream\n$/);
      assert.equal(r.headers['x-go-sum-signature'], undefined);
      assert.equal(r.headers['x-go-sum-signer'], undefined);
      assert.equal(r.headers['x-go-sum-alg'], undefined);
    });
  });
}

describe('GET /api/v1/gosum targets and refusals', () => {
  let auth: TestAuthority;
  let s: App;
  before(async () => {
    auth = makeAuthority({ name: 'sum.targets.test' });
    s = await startApp(auth.keys);
  });
  after(async () => s.close());

  it('takes the escaped form, as /lookup does, and the plain form with capitals', async () => {
    const escaped = await s.app.inject('/api/v1/gosum/github.com/!azure/go-autorest@v14.2.0+incompatible');
    const plain = await s.app.inject('/api/v1/gosum/github.com/Azure/go-autorest@v14.2.0+incompatible');
    assert.equal(escaped.statusCode, 200, escaped.body);
    assert.equal(plain.statusCode, 200, plain.body);
    assert.equal(escaped.body, plain.body);
    assert.ok(escaped.body.startsWith('github.com/Azure/go-autorest v14.2.0+incompatible h1:'));
  });

  const bad: [string, number][] = [
    ['/api/v1/gosum/example.com/x', 400],
    ['/api/v1/gosum/example.com/x@', 400],
    ['/api/v1/gosum/example.com/!!x@v1.0.0', 400],
    ['/api/v1/gosum/example.com/Up!per@v1.0.0', 400],
    ['/api/v1/gosum/example.com/x@latest', 400],
    ['/api/v1/gosum/example.com/down@v1.0.0', 502],
  ];
  for (const [url, status] of bad) {
    it(`answers ${status} with one line for ${url}`, async () => {
      const r = await s.app.inject(url);
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.body.split('\n').length, 2);
      assert.equal(r.headers['x-go-sum-signature'], undefined, 'errors are never signed');
    });
  }

  it('answers 503 with what to do when the server has no response-signing key', async () => {
    const bare = await startApp({ ...auth.keys, responseSigner: null });
    try {
      const r = await bare.app.inject('/api/v1/gosum/example.com/a@v1.0.0');
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /^this server has no response-signing key: run `npx sumkeep ceremony init`/);
      assert.equal(r.headers['x-go-sum-signature'], undefined);
      assert.equal(bare.upstream.calls, 0, 'nothing fetched for an answer it cannot sign');
    } finally {
      await bare.close();
    }
  });
});

describe('wantsJose', () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ['*/*', false],
    ['text/plain', false],
    ['application/jose', true],
    ['Application/JOSE', true],
    ['text/plain;q=0.5, application/jose', true],
    ['application/jose;q=0', false],
    ['application/jose;q=0.1', true],
    ['application/jose+json', false],
  ];
  for (const [accept, want] of cases) {
    it(`is ${want} for ${JSON.stringify(accept)}`, () => {
      assert.equal(wantsJose(accept), want);
    });
  }
});
