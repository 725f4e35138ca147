/** The root key encrypted at rest: PBES2 PKCS#8 that node:crypto and openssl both read. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import {
  PBKDF2_ITERATIONS,
  decryptPrivateKey,
  encryptPrivateKey,
  ENCRYPTED_LABEL,
  isEncryptedPem,
} from '../../src/keys/encrypted-key.ts';
import { readPem, toPem } from '../../src/keys/pem.ts';
import { tempDir } from '../helpers/server.ts';

const PASS = 'correct horse battery staple';
const spki = (k: KeyObject) =>
  (k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' }).toString('hex');

describe('encryptPrivateKey', () => {
  for (const type of ['ed25519', 'rsa'] as const) {
    it(`writes a ${type} key that node:crypto decrypts with the passphrase, and only with it`, () => {
      const { privateKey, publicKey } =
        type === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const pem = encryptPrivateKey(privateKey, PASS, 1000);
      assert.ok(pem.startsWith(`-----BEGIN ${ENCRYPTED_LABEL}-----\n`), pem.slice(0, 40));
      assert.ok(isEncryptedPem(pem));
      assert.equal(spki(createPrivateKey({ key: pem, passphrase: PASS })), spki(publicKey));
      assert.equal(spki(decryptPrivateKey(pem, PASS, 'root-ca.key')), spki(publicKey));
      assert.throws(() => createPrivateKey(pem), 'no passphrase, no key');
      assert.throws(
        () => decryptPrivateKey(pem, PASS + '!', 'root-ca.key'),
        (e) => isSumkeepError(e, 'config') && /root-ca\.key: wrong passphrase/.test(e.message),
      );
    });
  }

  it(`uses PBES2, PBKDF2-HMAC-SHA256 with ${PBKDF2_ITERATIONS} iterations and AES-256-CBC (openssl reads it)`, (t) => {
    if (spawnSync('openssl', ['version']).status !== 0) {
      if (process.env.CI === 'true') assert.fail('openssl is required under CI');
      t.skip('openssl is not installed');
      return;
    }
    const dir = tempDir('enc-key');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, 'root-ca.key');
    writeFileSync(file, encryptPrivateKey(privateKey, PASS));
    writeFileSync(join(dir, 'pass'), PASS + '\n');
    const asn1 = spawnSync('openssl', ['asn1parse', '-in', file], { encoding: 'utf8' });
    assert.equal(asn1.status, 0, asn1.stderr);
    for (const want of [':PBES2', ':PBKDF2', ':hmacWithSHA256', ':aes-256-cbc'])
      assert.ok(asn1.stdout.includes(want), want);
    assert.match(asn1.stdout, new RegExp(`INTEGER\\s+:0?${PBKDF2_ITERATIONS.toString(16).toUpperCase()}\\n`));
    const ok = spawnSync(
      'openssl',
      ['pkey', '-in', file, '-passin', `file:${join(dir, 'pass')}`, '-pubout'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, publicKey.export({ type: 'spki', format: 'pem' }));
    const bad = spawnSync('openssl', ['pkey', '-in', file, '-passin', 'pass:wrong passphrase', '-pubout']);
    assert.notEqual(bad.status, 0);
  });

  it('refuses passphrases shorter than 12 characters', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    assert.throws(
      () => encryptPrivateKey(privateKey, 'short'),
      (e) => isSumkeepError(e, 'config') && /12 to 1024 characters/.test(e.message),
    );
  });

  it('refuses an absurd iteration count before doing the work', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = readPem(encryptPrivateKey(privateKey, PASS, 0x010000), 'ENCRYPTED PRIVATE KEY');
    // INTEGER 65536 is 02 03 01 00 00: make it 0xff0000 (16.7 million).
    const at = Buffer.from(der).indexOf(Buffer.from([0x02, 0x03, 0x01, 0x00, 0x00]));
    assert.ok(at > 0);
    der[at + 2] = 0xff;
    assert.throws(
      () => decryptPrivateKey(toPem(der, 'ENCRYPTED PRIVATE KEY'), PASS, 'k'),
      (e) => isSumkeepError(e, 'config') && /iteration count 16711680 out of range/.test(e.message),
    );
  });

  it('refuses a file that is not an encrypted key, naming it', () => {
    assert.throws(
      () => decryptPrivateKey(toPem(new Uint8Array(3), 'PRIVATE KEY'), PASS, 'x.key'),
      (e) => isSumkeepError(e, 'config') && /x\.key is not an encrypted private key/.test(e.message),
    );
  });
});
