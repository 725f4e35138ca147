import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { initAuthority } from '../../src/keys/ceremony.ts';
import { formatTrustBundle, parseTrustBundle } from '../../src/keys/trust.ts';
import type { TrustBundle } from '../../src/keys/types.ts';

type Doc = Record<string, unknown> & TrustBundle;

let text = '';
let other: TrustBundle;

before(() => {
  const a = mkdtempSync(join(tmpdir(), 'sumkeep-trust-'));
  initAuthority({ name: 'sum.trust.test', keysDir: a, responseAlg: 'rsa-pss-2048' });
  text = readFileSync(join(a, 'trust.json'), 'utf8');
  const b = mkdtempSync(join(tmpdir(), 'sumkeep-trust-'));
  initAuthority({ name: 'sum.trust.test', keysDir: b });
  other = JSON.parse(readFileSync(join(b, 'trust.json'), 'utf8')) as TrustBundle;
});

function mutated(f: (d: Doc) => void): string {
  const d = JSON.parse(text) as Doc;
  f(d);
  return JSON.stringify(d);
}

describe('parseTrustBundle', () => {
  it('reads what the ceremony writes and formats it back byte for byte', () => {
    assert.equal(formatTrustBundle(parseTrustBundle(text)), text);
  });

  it('drops fields outside TrustBundle', () => {
    const t = parseTrustBundle(mutated((d) => (d.extra = 1)));
    assert.equal('extra' in t, false);
  });

  it('refuses every broken field', () => {
    const cases: [string, (d: Doc) => void][] = [
      ['name not a string', (d) => ((d as Record<string, unknown>).name = 5)],
      ['name with a space', (d) => (d.name = 'a b')],
      ['name of another log', (d) => (d.name = 'sum.other.test')],
      ['verifierKey not in verifierKeys', (d) => (d.verifierKey = other.verifierKey)],
      ['verifierKeys empty', (d) => (d.verifierKeys = [])],
      ['verifierKeys twice', (d) => (d.verifierKeys = [d.verifierKey, d.verifierKey])],
      [
        'verifier key with a bad hash',
        (d) => (d.verifierKeys = [d.verifierKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')]),
      ],
      ['verifier key without JWK', (d) => (d.verifierKeys = [d.verifierKey, other.verifierKey])],
      ['gosumdb differs', (d) => (d.gosumdb = d.gosumdb + 'x')],
      ['url not http', (d) => ((d.url = 'ftp://x'), (d.gosumdb = `${d.verifierKey} ftp://x`))],
      ['url with query', (d) => ((d.url = 'https://x/?a'), (d.gosumdb = `${d.verifierKey} https://x/?a`))],
      ['root missing', (d) => delete (d as Record<string, unknown>).root],
      ['root sha256 wrong', (d) => (d.root.sha256 = '0'.repeat(64))],
      ['root of another ceremony', (d) => (d.root = other.root)],
      ['root not PEM', (d) => (d.root.certificate = 'hello')],
      ['jwks missing', (d) => delete (d as Record<string, unknown>).jwks],
      ['jwks empty', (d) => (d.jwks.keys = [])],
      ['jwk alg mismatch', (d) => (d.jwks.keys[1]!.alg = 'EdDSA')],
      ['jwk use enc', (d) => ((d.jwks.keys[0] as unknown as Record<string, unknown>).use = 'enc')],
      ['jwk kid with slash', (d) => (d.jwks.keys[0]!.kid = 'a/b')],
      ['jwk kids equal', (d) => (d.jwks.keys[1]!.kid = d.jwks.keys[0]!.kid)],
      ['jwk x of another key', (d) => (d.jwks.keys[0]!.x = other.jwks.keys[0]!.x)],
      ['jwk n changed', (d) => (d.jwks.keys[1]!.n = 'AQAB' + d.jwks.keys[1]!.n!.slice(4))],
      ['x5c not base64', (d) => (d.jwks.keys[0]!.x5c[0] = '!!')],
      ['x5c without root', (d) => (d.jwks.keys[0]!.x5c = [d.jwks.keys[0]!.x5c[0]!])],
      ['x5c from another root', (d) => (d.jwks.keys[0]!.x5c = other.jwks.keys[0]!.x5c)],
      ['x5c leaf swapped', (d) => (d.jwks.keys[0]!.x5c[0] = d.jwks.keys[1]!.x5c[0]!)],
      ['x5t#S256 wrong', (d) => (d.jwks.keys[0]!['x5t#S256'] = 'AAAA')],
      ['crv not Ed25519', (d) => ((d.jwks.keys[0] as unknown as Record<string, unknown>).crv = 'X25519')],
    ];
    for (const [what, f] of cases) {
      assert.throws(
        () => parseTrustBundle(mutated(f)),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        what,
      );
    }
    for (const bad of ['', '{', '[]', 'null', '"x"', 'x'.repeat((1 << 20) + 1)]) {
      assert.throws(
        () => parseTrustBundle(bad),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        bad.slice(0, 10),
      );
    }
  });

  it('throws only SumkeepError for byte-level corruption', () => {
    for (let i = 0; i < text.length; i += 7) {
      const bad = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 1) + text.slice(i + 1);
      try {
        parseTrustBundle(bad);
      } catch (e) {
        assert.ok(isSumkeepError(e, 'bad_input'), `at ${i}: ${String(e)}`);
      }
    }
  });
});
