import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import { rootCertificateFromDer } from '../../src/keys/authority.ts';
import { chainProblem, issuerProblem, leafProblem, pathLenProblem } from '../../src/keys/constraints.ts';
import { KEY_USAGE } from '../../src/keys/x509.ts';
import { makeRoot } from '../helpers/authority.ts';
import { caConstraints, issueUnder, makeCa, type Constraints } from '../helpers/chain.ts';

const { keyCertSign, cRLSign, digitalSignature } = KEY_USAGE;

describe('issuerProblem', () => {
  const cases: [string, Constraints, RegExp | null][] = [
    ['the ceremony CA profile', caConstraints(0), null],
    ['a CA without pathLen', caConstraints(), null],
    ['no basicConstraints', { basicConstraints: null, keyUsage: [keyCertSign] }, /no basicConstraints/],
    ['cA FALSE', { basicConstraints: { ca: false, critical: true }, keyUsage: [keyCertSign] }, /cA FALSE/],
    [
      'non-critical basicConstraints',
      { basicConstraints: { ca: true, critical: false }, keyUsage: [keyCertSign] },
      /not critical/,
    ],
    ['no keyUsage', { basicConstraints: { ca: true, critical: true }, keyUsage: null }, /no keyUsage/],
    [
      'keyUsage without keyCertSign',
      { basicConstraints: { ca: true, critical: true }, keyUsage: [cRLSign] },
      /lacks keyCertSign/,
    ],
    [
      'a negative pathLen',
      {
        basicConstraints: { ca: true, critical: true, pathLen: Uint8Array.of(0xff) },
        keyUsage: [keyCertSign],
      },
      /cannot be read \(malformed certificate: pathLen is not a non-negative INTEGER\)/,
    ],
    [
      'an empty pathLen',
      { basicConstraints: { ca: true, critical: true, pathLen: new Uint8Array(0) }, keyUsage: [keyCertSign] },
      /cannot be read/,
    ],
  ];
  for (const [what, c, want] of cases) {
    it(`${want === null ? 'accepts' : 'refuses'} ${what}`, () => {
      const p = issuerProblem(makeCa('t', null, c).der);
      if (want === null) assert.equal(p, null);
      else assert.match(p ?? '(none)', want);
    });
  }

  it('never throws for bytes that are not a certificate', () => {
    for (const b of [new Uint8Array(0), Uint8Array.of(0x30, 0x80), Uint8Array.of(0x30, 0x00)]) {
      assert.match(issuerProblem(b) ?? '(none)', /cannot be read/);
      assert.match(leafProblem(b) ?? '(none)', /cannot be read/);
    }
  });
});

describe('pathLenProblem and chainProblem', () => {
  const root = makeCa('root', null, caConstraints(1));

  it('counts the intermediates below each issuer against its pathLen', () => {
    assert.equal(pathLenProblem(root.der, 1), null);
    assert.match(
      pathLenProblem(root.der, 2) ?? '',
      /pathLenConstraint 1: it allows 1 intermediate certificate below it, the chain has 2/,
    );
    assert.equal(pathLenProblem(makeCa('free', null, caConstraints()).der, 4), null);
  });

  it('names the first certificate that breaks a rule, from the root down, then the leaf', () => {
    const a = makeCa('a', root, caConstraints(0));
    const b = makeCa('b', a, caConstraints(0));
    const leaf = (chain: (typeof root)[]) => issueUnder(chain, 'EdDSA').certDer;
    assert.equal(chainProblem([leaf([a, root]), a.der, root.der]), null);
    // root allows 1 below it and sees 2; a allows 0 and sees 1: the root is named first.
    assert.equal(chainProblem([leaf([b, a, root]), b.der, a.der, root.der])?.index, 3);
    const caLeaf = issueUnder([root], 'EdDSA', caConstraints()).certDer;
    assert.deepEqual(chainProblem([caLeaf, root.der]), {
      index: 0,
      problem: "is a CA certificate (basicConstraints cA TRUE), not a signing key's",
    });
    const signingLeaf = issueUnder([root], 'EdDSA', {
      basicConstraints: null,
      keyUsage: [digitalSignature, keyCertSign],
    }).certDer;
    assert.match(chainProblem([signingLeaf, root.der])?.problem ?? '', /keyCertSign, which only a CA may/);
  });
});

describe('rootCertificateFromDer', () => {
  it('applies the issuer rules to the ceremony root', () => {
    assert.ok(rootCertificateFromDer(makeRoot('sum.root.test').der, 'root-ca.pem'));
    const lax = makeCa('lax root', null, {
      basicConstraints: { ca: true, critical: false },
      keyUsage: [keyCertSign],
    });
    assert.throws(
      () => rootCertificateFromDer(lax.der, 'root-ca.pem'),
      (e: unknown) =>
        isSumkeepError(e, 'config') &&
        /root-ca\.pem is not a self-signed CA certificate: it may not issue certificates: its basicConstraints is not critical/.test(
          e.message,
        ),
    );
  });
});
