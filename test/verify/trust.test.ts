import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { SumkeepError, isSumkeepError } from '../../src/core/errors.ts';
import { signBytes } from '../../src/keys/algorithms.ts';
import type { PublicJwk, ResponseAlg } from '../../src/keys/types.ts';
import { parseJwks, parseTrustBundle, pinRoot, signerKey } from '../../src/verify/trust.ts';
import { jwkPublicKey, verifySignature } from '../../src/verify/signature.ts';
import { KEY_USAGE } from '../../src/keys/x509.ts';
import { issueResponseKey, makeAuthority, makeRoot, type TestRoot } from '../helpers/authority.ts';
import { caConstraints, issueUnder, makeCa, type Constraints } from '../helpers/chain.ts';

const DAY = 86_400_000;

function throwsCode(fn: () => unknown, code: string, msg?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSumkeepError(e), `not a SumkeepError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (msg) assert.match(e.message, msg);
    return true;
  });
}

for (const alg of ['EdDSA', 'PS256'] as ResponseAlg[]) {
  describe(`signerKey with ${alg} keys`, () => {
    const auth = makeAuthority({ alg, rootAlg: alg === 'EdDSA' ? 'ed25519' : 'rsa-pss-3072' });
    const root = pinRoot(auth.trust);
    const data = new TextEncoder().encode('example.com/a v1.0.0 h1:x\n');

    it('accepts a key certified by the pinned root and verifies its signatures', () => {
      const key = signerKey(auth.response.jwk, root);
      assert.ok(verifySignature(key, alg, data, auth.response.signer.sign(data)));
      assert.equal(verifySignature(key, alg, data.slice(1), auth.response.signer.sign(data)), false);
    });

    it('refuses a key certified by another root', () => {
      const other = makeRoot('sum.other.test');
      const foreign = issueResponseKey(other, alg);
      throwsCode(() => signerKey(foreign.jwk, root), 'invalid_signature', /does not end in the pinned root/);
      // The same certificate presented with the pinned root at the end of its chain.
      const grafted: PublicJwk = { ...foreign.jwk, x5c: [foreign.jwk.x5c[0]!, auth.response.jwk.x5c[1]!] };
      throwsCode(() => signerKey(grafted, root), 'invalid_signature', /is not issued and signed by/);
    });

    it('refuses an expired or not yet valid certificate', () => {
      const old = issueResponseKey(auth.root, alg, {
        notBefore: Date.now() - 10 * DAY,
        notAfter: Date.now() - DAY,
      });
      throwsCode(() => signerKey(old.jwk, root), 'invalid_signature', /not valid now/);
      const early = issueResponseKey(auth.root, alg, {
        notBefore: Date.now() + DAY,
        notAfter: Date.now() + 5 * DAY,
      });
      throwsCode(() => signerKey(early.jwk, root), 'invalid_signature', /not valid now/);
    });

    it('refuses a certificate issued for note signing', () => {
      const note = issueResponseKey(auth.root, alg, { purpose: 'note' });
      throwsCode(() => signerKey(note.jwk, root), 'invalid_signature', /not for response signing/);
    });

    it('refuses a JWK whose key is not its certificate', () => {
      const second = issueResponseKey(auth.root, alg);
      const swapped: PublicJwk = {
        ...auth.response.jwk,
        x5c: second.jwk.x5c,
        'x5t#S256': second.jwk['x5t#S256']!,
      };
      throwsCode(() => signerKey(swapped, root), 'invalid_signature', /not the key of its certificate/);
      const badThumb: PublicJwk = { ...auth.response.jwk, 'x5t#S256': second.jwk['x5t#S256']! };
      throwsCode(() => signerKey(badThumb, root), 'invalid_signature', /x5t#S256/);
    });

    it('refuses a chain of the root alone, or with bytes that are not certificates', () => {
      throwsCode(
        () => signerKey({ ...auth.response.jwk, x5c: [auth.response.jwk.x5c[1]!] }, root),
        'invalid_signature',
      );
      throwsCode(
        () => signerKey({ ...auth.response.jwk, x5c: ['AAAA', auth.response.jwk.x5c[1]!] }, root),
        'invalid_signature',
      );
      throwsCode(
        () => signerKey({ ...auth.response.jwk, x5c: ['not base64!', auth.response.jwk.x5c[1]!] }, root),
        'invalid_signature',
      );
    });
  });
}

describe('signerKey path constraints (RFC 5280 basicConstraints, keyUsage, pathLen)', () => {
  const auth = makeAuthority({ name: 'sum.path.test' });
  const pin = (r: TestRoot) => pinRoot({ ...auth.trust, root: { certificate: r.pem, sha256: r.sha256 } });
  /** The ceremony's root: pathLen 0, so it issues end-entity certificates only. */
  const ceremonyRoot = pin(auth.root);
  /** A root that allows up to 5 intermediates, to test the intermediates' own constraints. */
  const wide = makeCa('wide root', null, caConstraints(5));
  const wideRoot = pin(wide);
  const subject = (cn: string) => `\\(subject "O=sumkeep, CN=${cn}"\\)`;
  const refused = (chain: TestRoot[], root: ReturnType<typeof pinRoot>, msg: RegExp, leaf?: Constraints) => {
    const { jwk } = issueUnder(chain, 'EdDSA', leaf);
    // The whole message, on one line: who, which certificate, which rule.
    const whole = new RegExp(`^signing key "${jwk.kid}": [^\\n]*${msg.source}[^\\n]*$`);
    throwsCode(() => signerKey(jwk, root), 'invalid_signature', whole);
  };

  it('accepts chains within every pathLenConstraint, and a root without one', () => {
    assert.ok(signerKey(issueUnder([wide], 'EdDSA').jwk, wideRoot));
    const one = makeCa('one', wide, caConstraints(0));
    assert.ok(signerKey(issueUnder([one, wide], 'EdDSA').jwk, wideRoot));
    const top = makeCa('top', wide, caConstraints(1));
    const below = makeCa('below', top, caConstraints(0));
    assert.ok(signerKey(issueUnder([below, top, wide], 'EdDSA').jwk, wideRoot));
    const unlimited = makeCa('unlimited root', null, caConstraints());
    const mid = makeCa('mid', unlimited, caConstraints());
    const low = makeCa('low', mid, caConstraints());
    assert.ok(signerKey(issueUnder([low, mid, unlimited], 'PS256').jwk, pin(unlimited)));
  });

  it("refuses an intermediate under the ceremony's root (pathLen 0)", () => {
    const rootCa: TestRoot = auth.root;
    const inter = makeCa('sneaky intermediate', rootCa, caConstraints(0));
    refused(
      [inter, rootCa],
      ceremonyRoot,
      new RegExp(
        `x5c\\[2\\] ${subject('sumkeep root CA sum\\.path\\.test')} exceeds its pathLenConstraint 0: ` +
          'it allows 0 intermediate certificates below it, the chain has 1',
      ),
    );
  });

  it('refuses an intermediate whose pathLenConstraint is exceeded below it', () => {
    const top = makeCa('top', wide, caConstraints(0));
    const below = makeCa('below', top, caConstraints(0));
    refused(
      [below, top, wide],
      wideRoot,
      new RegExp(`x5c\\[2\\] ${subject('top')} exceeds its pathLenConstraint 0`),
    );
  });

  const issuers: [string, Constraints, RegExp][] = [
    [
      'no basicConstraints',
      { basicConstraints: null, keyUsage: [KEY_USAGE.keyCertSign] },
      /may not issue certificates: it has no basicConstraints extension \(an issuer needs cA TRUE, critical\)/,
    ],
    [
      'basicConstraints cA FALSE',
      { basicConstraints: { ca: false, critical: true }, keyUsage: [KEY_USAGE.keyCertSign] },
      /may not issue certificates: its basicConstraints says cA FALSE/,
    ],
    [
      'a basicConstraints that is not critical',
      { basicConstraints: { ca: true, critical: false }, keyUsage: [KEY_USAGE.keyCertSign] },
      /may not issue certificates: its basicConstraints is not critical/,
    ],
    [
      'no keyUsage',
      { basicConstraints: { ca: true, critical: true }, keyUsage: null },
      /may not issue certificates: it has no keyUsage extension \(an issuer needs keyCertSign\)/,
    ],
    [
      'a keyUsage without keyCertSign',
      {
        basicConstraints: { ca: true, critical: true },
        keyUsage: [KEY_USAGE.digitalSignature, KEY_USAGE.cRLSign],
      },
      /may not issue certificates: its keyUsage lacks keyCertSign/,
    ],
  ];
  for (const [what, c, msg] of issuers) {
    it(`refuses an intermediate with ${what}, naming it`, () => {
      const inter = makeCa('bad issuer', wide, c);
      refused([inter, wide], wideRoot, new RegExp(`x5c\\[1\\] ${subject('bad issuer')} ${msg.source}`));
    });

    it(`refuses a pinned root with ${what}`, () => {
      const bad = makeCa('bad root', null, c);
      throwsCode(
        () => pin(bad),
        'invalid_signature',
        new RegExp(`the root certificate ${subject('bad root')} ${msg.source}`),
      );
    });
  }

  it('refuses a signing key whose certificate is a CA certificate', () => {
    refused(
      [wide],
      wideRoot,
      /x5c\[0\] \(subject "O=sumkeep, CN=sumkeep response signing key [^"]+"\) is a CA certificate \(basicConstraints cA TRUE\), not a signing key's/,
      { basicConstraints: { ca: true, critical: true }, keyUsage: [KEY_USAGE.digitalSignature] },
    );
    refused(
      [wide],
      wideRoot,
      /x5c\[0\] \(subject "[^"]+"\) asserts keyUsage keyCertSign, which only a CA may/,
      {
        basicConstraints: { ca: false, critical: true },
        keyUsage: [KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign],
      },
    );
  });
});

describe('pinRoot', () => {
  const auth = makeAuthority();

  it('pins a root whose certificate hashes to root.sha256', () => {
    assert.equal(pinRoot(auth.trust).sha256, auth.root.sha256);
  });

  it('refuses a bundle whose fingerprint does not match its certificate', () => {
    const other = makeRoot('sum.other.test');
    throwsCode(
      () => pinRoot({ ...auth.trust, root: { certificate: other.pem, sha256: auth.root.sha256 } }),
      'invalid_signature',
      /hashes to/,
    );
  });

  it('refuses a root that is not a CA certificate', () => {
    const leaf = auth.response.certDer;
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(leaf).toString('base64')}\n-----END CERTIFICATE-----\n`;
    throwsCode(
      () =>
        pinRoot({
          ...auth.trust,
          root: { certificate: pem, sha256: createHash('sha256').update(leaf).digest('hex') },
        }),
      'invalid_signature',
      /not a self-signed CA/,
    );
  });

  it('refuses an expired root', () => {
    throwsCode(() => pinRoot(auth.trust, Date.now() + 400 * DAY), 'invalid_signature', /not valid now/);
  });
});

describe('parseTrustBundle and parseJwks', () => {
  const auth = makeAuthority();
  const text = JSON.stringify(auth.trust);

  it('round-trips a bundle', () => {
    assert.deepEqual(parseTrustBundle(text), auth.trust);
    assert.deepEqual(parseJwks(JSON.stringify(auth.trust.jwks)), auth.trust.jwks.keys);
  });

  const garbage = [
    '',
    'null',
    '[]',
    '{}',
    '"x"',
    '{"keys": 1}',
    JSON.stringify({ ...auth.trust, jwks: null }),
    JSON.stringify({ ...auth.trust, root: { certificate: 1 } }),
    JSON.stringify({ ...auth.trust, jwks: { keys: [{ ...auth.response.jwk, alg: 'RS256' }] } }),
    JSON.stringify({ ...auth.trust, jwks: { keys: [{ ...auth.response.jwk, x5c: [] }] } }),
    JSON.stringify({ ...auth.trust, verifierKeys: [1] }),
  ];
  for (const g of garbage) {
    it(`refuses ${g.slice(0, 60) || '(empty)'} with bad_input`, () => {
      throwsCode(() => parseTrustBundle(g), 'bad_input');
    });
  }

  it('throws only SumkeepError for any corrupted byte of a bundle', () => {
    for (let i = 0; i < text.length; i += 7) {
      for (const c of ['"', '}', '0', ' ', '\u0000']) {
        const bad = text.slice(0, i) + c + text.slice(i + 1);
        try {
          parseTrustBundle(bad);
        } catch (e) {
          assert.ok(e instanceof SumkeepError, `position ${i}: ${String(e)}`);
        }
      }
    }
  });
});

describe('verifySignature and jwkPublicKey', () => {
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const data = new Uint8Array([1, 2, 3]);

  it('never accepts a key of the wrong kind for the algorithm', () => {
    assert.ok(verifySignature(ed.publicKey, 'EdDSA', data, signBytes(ed.privateKey, data)));
    assert.ok(verifySignature(rsa.publicKey, 'PS256', data, signBytes(rsa.privateKey, data)));
    assert.equal(verifySignature(ed.publicKey, 'PS256', data, signBytes(ed.privateKey, data)), false);
    assert.equal(verifySignature(rsa.publicKey, 'EdDSA', data, signBytes(rsa.privateKey, data)), false);
  });

  it('refuses RSA keys under 2048 bits and never throws for garbage signatures', () => {
    const sig = sign('sha256', data, {
      key: small.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    assert.equal(verifySignature(small.publicKey, 'PS256', data, sig), false);
    for (const g of [new Uint8Array(0), new Uint8Array(64), new Uint8Array(1000)]) {
      assert.equal(verifySignature(ed.publicKey, 'EdDSA', data, g), false);
      assert.equal(verifySignature(rsa.publicKey, 'PS256', data, g), false);
    }
  });

  it('refuses a JWK whose key does not fit its alg', () => {
    const jwk = ed.publicKey.export({ format: 'jwk' });
    const asPs256 = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: jwk.x,
      alg: 'PS256',
      kid: 'k',
      use: 'sig',
      x5c: [],
    } as unknown as PublicJwk;
    throwsCode(() => jwkPublicKey(asPs256), 'invalid_signature', /does not fit/);
    throwsCode(() => jwkPublicKey({ ...asPs256, alg: 'EdDSA', x: 'AAAA' }), 'invalid_signature');
  });
});
