import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, constants, createPublicKey, verify } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { initAuthority } from '../../src/keys/ceremony.ts';
import { createNoteKey } from '../../src/keys/notekey.ts';
import { rotateKey } from '../../src/keys/rotate.ts';
import { loadServingKeys } from '../../src/keys/serving.ts';
import { utf8 } from '../../src/core/bytes.ts';

const DAY = 86_400_000;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sumkeep-serving-'));
}

/** A key directory as the online server holds it: the root key moved to `offline`. */
function servingDir(opts: Partial<Parameters<typeof initAuthority>[0]> = {}) {
  const base = tempDir();
  const keys = join(base, 'keys');
  const offline = join(base, 'offline');
  const r = initAuthority({ name: 'sum.serve.test', keysDir: keys, rootDir: offline, ...opts });
  return { keys, offline, r };
}

const isConfig = (re: RegExp) => (e: unknown) => isSumkeepError(e, 'config') && re.test(e.message);

describe('loadServingKeys', () => {
  it('refuses a key directory holding the root CA private key, naming --allow-root-key', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.root.test', keysDir: dir });
    assert.throws(() => loadServingKeys(dir), isConfig(/root-ca\.key/));
    assert.throws(() => loadServingKeys(dir), isConfig(/--allow-root-key/));
    const s = loadServingKeys(dir, { allowRootKey: true });
    assert.equal(s.name, 'sum.root.test');
  });

  it('loads note signers, the response signer and trust.json after a ceremony', () => {
    const { keys, r } = servingDir();
    const s = loadServingKeys(keys);
    assert.equal(s.verifierKey, r.verifierKey);
    assert.equal(s.noteSigners.length, 1);
    assert.equal(s.responseSigner?.kid, r.responseKid);
    assert.equal(s.responseSigner?.alg, 'EdDSA');
    assert.deepEqual(s.trust, JSON.parse(readFileSync(join(keys, 'trust.json'), 'utf8')));
    assert.equal(s.development, false);
    assert.deepEqual(s.warnings, []);
  });

  for (const responseAlg of ['ed25519', 'rsa-pss-2048'] as const) {
    it(`signs responses (${responseAlg}) that verify with the JWK in trust.json`, () => {
      const { keys } = servingDir({ responseAlg });
      const s = loadServingKeys(keys);
      const data = utf8('{"verified":true}');
      const sig = s.responseSigner!.sign(data);
      const jwk = s.trust!.jwks.keys.find((k) => k.kid === s.responseSigner!.kid)!;
      const pub = createPublicKey({
        key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, n: jwk.n, e: jwk.e },
        format: 'jwk',
      });
      const check = (d: Uint8Array) =>
        jwk.alg === 'EdDSA'
          ? verify(null, d, pub, sig)
          : verify('sha256', d, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
      assert.equal(check(data), true);
      assert.equal(sig.length, jwk.alg === 'EdDSA' ? 64 : 256);
      const tampered = Uint8Array.from(data);
      tampered[0] = tampered[0]! ^ 1;
      assert.equal(check(tampered), false);
    });
  }

  it('serves a note-key-only directory without response signer and trust', () => {
    const dir = tempDir();
    const vkey = createNoteKey(dir, 'sum.plain.test');
    const s = loadServingKeys(dir);
    assert.equal(s.verifierKey, vkey);
    assert.equal(s.responseSigner, null);
    assert.equal(s.trust, null);
  });

  it('picks the newest response key whose certificate is valid, ignoring ended ones', () => {
    const t0 = Date.UTC(2032, 0, 1);
    const { keys, offline, r } = servingDir({ now: t0, validDays: 30 });
    const rotatedNote = rotateKey({ keysDir: keys, rootDir: offline, purpose: 'note', now: t0 + 1 * DAY });
    assert.ok(rotatedNote.verifierKey);
    const next = rotateKey({
      keysDir: keys,
      rootDir: offline,
      purpose: 'response',
      now: t0 + 2 * DAY,
      validDays: 30,
    });
    assert.equal(loadServingKeys(keys, { now: t0 + 3 * DAY }).responseSigner?.kid, next.kid);
    // Before the new key begins (a server clock behind the offline one), the old one still signs.
    assert.equal(loadServingKeys(keys, { now: t0 + 1.5 * DAY }).responseSigner?.kid, r.responseKid);
    const late = loadServingKeys(keys, { now: t0 + 35 * DAY });
    assert.equal(late.responseSigner, null);
    assert.ok(late.warnings?.some((w) => /rotate --purpose response/.test(w)));
  });

  it('warns about certificates that end within 30 days', () => {
    const t0 = Date.UTC(2033, 0, 1);
    const { keys } = servingDir({ now: t0, validDays: 40 });
    assert.deepEqual(loadServingKeys(keys, { now: t0 }).warnings, []);
    const w = loadServingKeys(keys, { now: t0 + 20 * DAY }).warnings ?? [];
    assert.equal(w.length, 2);
    assert.ok(w.every((x) => /ends in \d+ days/.test(x)));
  });

  it('refuses to start when every note key certificate has ended', () => {
    const t0 = Date.UTC(2034, 0, 1);
    const { keys } = servingDir({ now: t0, validDays: 10 });
    assert.throws(() => loadServingKeys(keys, { now: t0 + 11 * DAY }), isConfig(/rotate --purpose note/));
  });

  it('refuses a stale trust.json after a rotation', () => {
    const { keys, offline } = servingDir();
    const old = join(tempDir(), 'trust.json');
    copyFileSync(join(keys, 'trust.json'), old);
    // A later second than init: "newest" compares the certificates' whole-second notBefore.
    const r = rotateKey({ keysDir: keys, rootDir: offline, purpose: 'response', now: Date.now() + 5000 });
    assert.equal(loadServingKeys(keys, { now: Date.now() + 6000 }).responseSigner?.kid, r.kid);
    unlinkSync(join(keys, 'trust.json'));
    copyFileSync(old, join(keys, 'trust.json'));
    assert.throws(
      () => loadServingKeys(keys, { now: Date.now() + 6000 }),
      isConfig(/does not list response key/),
    );
  });

  it('refuses a new trust.json whose GOSUMDB key is not on the server', () => {
    const { keys, offline } = servingDir();
    rotateKey({ keysDir: keys, rootDir: offline, purpose: 'note' });
    renameSync(join(keys, 'note-1.key'), join(tempDir(), 'note-1.key'));
    unlinkSync(join(keys, 'note-1.crt'));
    assert.throws(() => loadServingKeys(keys), isConfig(/GOSUMDB key/));
  });

  it('refuses certificates from another root, keys without certificates and mismatched files', () => {
    const other = servingDir().keys;
    const cases: [string, (keys: string) => void, RegExp][] = [
      [
        'certificate from another root',
        (keys) => {
          const resp = readdirSync(keys).find((f) => f.startsWith('response-') && f.endsWith('.crt'))!;
          const otherResp = readdirSync(other).find((f) => f.startsWith('response-') && f.endsWith('.crt'))!;
          unlinkSync(join(keys, resp));
          // Same name as the local key, content from the other ceremony: neither matches.
          writeFileSync(join(keys, resp), readFileSync(join(other, otherResp)));
        },
        /does not certify|not issued/,
      ],
      [
        'response key without certificate',
        (keys) => {
          const resp = readdirSync(keys).find((f) => f.startsWith('response-') && f.endsWith('.crt'))!;
          unlinkSync(join(keys, resp));
        },
        /has no certificate/,
      ],
      [
        'note certificate of another key',
        (keys) => {
          unlinkSync(join(keys, 'note.crt'));
          copyFileSync(join(other, 'note.crt'), join(keys, 'note.crt'));
        },
        /certifies another key/,
      ],
      [
        'root certificate replaced',
        (keys) => {
          unlinkSync(join(keys, 'root-ca.pem'));
          copyFileSync(join(other, 'root-ca.pem'), join(keys, 'root-ca.pem'));
        },
        /another root CA/,
      ],
      ['trust.json missing', (keys) => unlinkSync(join(keys, 'trust.json')), /no trust\.json/],
      [
        'trust.json malformed',
        (keys) => {
          unlinkSync(join(keys, 'trust.json'));
          writeFileSync(join(keys, 'trust.json'), '{"name": 1}');
        },
        /trust\.json: invalid trust bundle/,
      ],
      [
        'trust.json not JSON',
        (keys) => {
          unlinkSync(join(keys, 'trust.json'));
          writeFileSync(join(keys, 'trust.json'), '{');
        },
        /not JSON/,
      ],
      [
        'trust.json of another log',
        (keys) => {
          unlinkSync(join(keys, 'trust.json'));
          copyFileSync(join(other, 'trust.json'), join(keys, 'trust.json'));
        },
        /another root CA|trust\.json/,
      ],
    ];
    for (const [what, mutate, msg] of cases) {
      const { keys } = servingDir();
      assert.ok(loadServingKeys(keys));
      mutate(keys);
      assert.throws(() => loadServingKeys(keys), isConfig(msg), what);
    }
  });

  it('works with the root only inside trust.json (root-ca.pem not copied)', () => {
    const { keys } = servingDir();
    unlinkSync(join(keys, 'root-ca.pem'));
    const s = loadServingKeys(keys);
    assert.ok(new X509Certificate(s.trust!.root.certificate).ca);
    assert.ok(s.responseSigner);
  });
});
