import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, type KeyAlgorithm } from '../../src/keys/algorithms.ts';
import { toPem } from '../../src/keys/pem.ts';
import {
  onlineKeyExtensions,
  rootExtensions,
  tlsExtensions,
  OID_DOCUMENT_SIGNING,
} from '../../src/keys/profiles.ts';
import {
  KEY_USAGE,
  OID,
  certificateProfile,
  commonNameOf,
  createCertificate,
  encodeName,
  keyIdentifier,
  parseCertificate,
  type Extensions,
} from '../../src/keys/x509.ts';
import { isSumkeepError } from '../../src/core/errors.ts';

const OPENSSL = '/usr/bin/openssl';
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

function openssl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(OPENSSL, args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

function makeRoot(alg: KeyAlgorithm, notAfter = NOW + 3650 * DAY) {
  const { privateKey, publicKey } = generateKeyPair(alg);
  const der = createCertificate({
    commonName: `sumkeep root CA test ${alg}`,
    publicKey,
    notBefore: NOW - DAY,
    notAfter,
    issuer: { selfSigned: privateKey },
    extensions: rootExtensions(),
  });
  return { privateKey, publicKey, der, x509: new X509Certificate(der) };
}

function issue(
  root: ReturnType<typeof makeRoot>,
  publicKey: KeyObject,
  extensions: Extensions,
  notAfter = NOW + 397 * DAY,
): Uint8Array {
  return createCertificate({
    commonName: 'leaf',
    publicKey,
    notBefore: NOW - DAY,
    notAfter,
    issuer: {
      name: parseCertificate(root.der).subject,
      privateKey: root.privateKey,
      publicKey: root.publicKey,
    },
    extensions,
  });
}

function tempFiles(files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sumkeep-x509-'));
  for (const [name, der] of Object.entries(files)) writeFileSync(join(dir, name), toPem(der, 'CERTIFICATE'));
  return dir;
}

const ROOT_ALGS: KeyAlgorithm[] = ['ed25519', 'rsa-pss-2048'];

describe('createCertificate', () => {
  for (const alg of ROOT_ALGS) {
    it(`makes a self-signed ${alg} root that node and OpenSSL see as a CA`, () => {
      const root = makeRoot(alg);
      assert.equal(root.x509.ca, true);
      assert.equal(root.x509.verify(root.publicKey), true);
      assert.equal(root.x509.checkIssued(root.x509), true);
      const p = parseCertificate(root.der);
      const prof = certificateProfile(p);
      assert.equal(prof.ca, true);
      assert.equal(prof.pathLen, 0);
      assert.deepEqual(prof.keyUsage, [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]);
      assert.equal(p.extensions.get(OID.basicConstraints)?.critical, true);
      assert.equal(p.extensions.get(OID.keyUsage)?.critical, true);
      assert.deepEqual(prof.subjectKeyId, keyIdentifier(root.publicKey));
      assert.deepEqual(prof.authorityKeyId, prof.subjectKeyId);
      const dir = tempFiles({ 'root.pem': root.der });
      const text = openssl(['x509', '-in', join(dir, 'root.pem'), '-noout', '-text']).out;
      assert.match(text, /CA:TRUE, pathlen:0/);
      assert.match(text, /Certificate Sign, CRL Sign/);
      const v = openssl([
        'verify',
        '-x509_strict',
        '-check_ss_sig',
        '-CAfile',
        join(dir, 'root.pem'),
        join(dir, 'root.pem'),
      ]);
      assert.equal(v.status, 0, v.out);
    });

    for (const subject of ['ed25519', 'rsa', 'ec'] as const) {
      it(`issues from a ${alg} root to a ${subject} key a certificate that chains (node, openssl -x509_strict)`, () => {
        const root = makeRoot(alg);
        const key =
          subject === 'ed25519'
            ? generateKeyPairSync('ed25519')
            : subject === 'rsa'
              ? generateKeyPairSync('rsa', { modulusLength: 2048 })
              : generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const der = issue(
          root,
          key.publicKey,
          tlsExtensions(['sum.example.test'], [Uint8Array.of(127, 0, 0, 1)], subject === 'rsa'),
        );
        const leaf = new X509Certificate(der);
        assert.equal(leaf.ca, false);
        assert.equal(leaf.checkIssued(root.x509), true);
        assert.equal(leaf.verify(root.publicKey), true);
        assert.equal(leaf.checkHost('sum.example.test'), 'sum.example.test');
        assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
        assert.deepEqual(leaf.keyUsage, [OID.serverAuth]);
        const prof = certificateProfile(parseCertificate(der));
        assert.deepEqual(prof.authorityKeyId, keyIdentifier(root.publicKey));
        assert.deepEqual(prof.keyUsage, subject === 'rsa' ? [0, 2] : [0]);
        const dir = tempFiles({ 'root.pem': root.der, 'leaf.pem': der });
        const v = openssl([
          'verify',
          '-x509_strict',
          '-purpose',
          'sslserver',
          '-attime',
          String(NOW / 1000),
          '-CAfile',
          join(dir, 'root.pem'),
          join(dir, 'leaf.pem'),
        ]);
        assert.equal(v.status, 0, v.out);
      });
    }
  }

  it('writes the RSASSA-PSS parameters SHA-256 / MGF1-SHA-256 / salt 32 / trailer 1', () => {
    const root = makeRoot('rsa-pss-2048');
    const dir = tempFiles({ 'root.pem': root.der });
    const text = openssl(['x509', '-in', join(dir, 'root.pem'), '-noout', '-text']).out;
    assert.match(text, /Signature Algorithm: rsassaPss/);
    assert.match(text, /Hash Algorithm: sha256/);
    assert.match(text, /Mask Algorithm: mgf1 with sha256/);
    assert.match(text, /Salt Length: 0x20/);
    assert.match(text, /Trailer Field: 0x01 \(default\)/);
    // Key stays a plain rsaEncryption key: Go's crypto/x509 cannot read id-RSASSA-PSS keys.
    assert.match(text, /Public Key Algorithm: rsaEncryption/);
  });

  it('marks online keys with their purpose and not as TLS servers', () => {
    const root = makeRoot('ed25519');
    const der = issue(root, generateKeyPairSync('ed25519').publicKey, onlineKeyExtensions('response'));
    assert.deepEqual(new X509Certificate(der).keyUsage, [OID_DOCUMENT_SIGNING]);
    const dir = tempFiles({ 'root.pem': root.der, 'leaf.pem': der });
    const base = ['verify', '-x509_strict', '-attime', String(NOW / 1000), '-CAfile', join(dir, 'root.pem')];
    assert.equal(openssl([...base, join(dir, 'leaf.pem')]).status, 0);
    assert.notEqual(
      openssl([...base.slice(0, 2), '-purpose', 'sslserver', ...base.slice(2), join(dir, 'leaf.pem')]).status,
      0,
    );
  });

  it('reads back validity, serial and names; GeneralizedTime from 2050', () => {
    const notAfter = Date.UTC(2051, 5, 1, 1, 2, 3);
    const root = makeRoot('ed25519', Date.UTC(2060, 0, 1));
    const der = issue(root, generateKeyPairSync('ed25519').publicKey, onlineKeyExtensions('note'), notAfter);
    const p = parseCertificate(der);
    assert.equal(p.notAfter, notAfter);
    assert.equal(p.notBefore, NOW - DAY);
    assert.equal(p.serial.length, 16);
    assert.equal(p.serial[0]! & 0x80, 0);
    assert.equal(commonNameOf(p.subject), 'leaf');
    assert.deepEqual(p.issuer, parseCertificate(root.der).subject);
    assert.match(new X509Certificate(der).validTo, /2051/);
    const dir = tempFiles({ 'leaf.pem': der });
    assert.match(
      openssl(['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-enddate']).out,
      /Jun {2}1 01:02:03 2051 GMT/,
    );
  });

  it('gives every certificate a fresh positive serial', () => {
    const root = makeRoot('ed25519');
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const p = parseCertificate(issue(root, root.publicKey, onlineKeyExtensions('note')));
      serials.add(Buffer.from(p.serial).toString('hex'));
    }
    assert.equal(serials.size, 20);
  });

  it('refuses an empty validity and a too long common name', () => {
    const k = generateKeyPairSync('ed25519');
    assert.throws(
      () =>
        createCertificate({
          commonName: 'x',
          publicKey: k.publicKey,
          notBefore: NOW,
          notAfter: NOW,
          issuer: { selfSigned: k.privateKey },
          extensions: rootExtensions(),
        }),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
    assert.throws(
      () => encodeName('x'.repeat(301)),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
  });

  it('refuses RSA issuer keys under 2048 bits', () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(
      () =>
        createCertificate({
          commonName: 'x',
          publicKey: k.publicKey,
          notBefore: NOW,
          notAfter: NOW + DAY,
          issuer: { selfSigned: k.privateKey },
          extensions: rootExtensions(),
        }),
      (e: unknown) => isSumkeepError(e, 'config'),
    );
  });
});

describe('certificate integrity', () => {
  for (const alg of ROOT_ALGS) {
    it(`every flipped byte of a ${alg}-signed certificate fails to parse or to verify`, () => {
      const root = makeRoot(alg);
      const der = issue(root, generateKeyPairSync('ed25519').publicKey, onlineKeyExtensions('note'));
      for (let i = 0; i < der.length; i++) {
        const bad = Uint8Array.from(der);
        bad[i] = bad[i]! ^ 0x01;
        let ok = false;
        try {
          ok = new X509Certificate(bad).verify(root.publicKey);
        } catch {
          ok = false;
        }
        assert.equal(ok, false, `flip at byte ${i} still verifies`);
        try {
          parseCertificate(bad);
        } catch (e) {
          assert.ok(isSumkeepError(e, 'bad_input'), `flip at ${i}: ${String(e)}`);
        }
      }
    });
  }
});

describe('openssl', () => {
  it('is present for these tests', () => {
    assert.ok(existsSync(OPENSSL), 'the OpenSSL CLI is needed (apt-get install openssl)');
  });
});
