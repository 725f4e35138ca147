/**
 * The root CA private key encrypted at rest: PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018),
 * PEM label "ENCRYPTED PRIVATE KEY", readable by node:crypto and `openssl pkey`. Exact layout:
 *
 *   EncryptedPrivateKeyInfo ::= SEQUENCE {
 *     SEQUENCE { OID pbes2 (1.2.840.113549.1.5.13), SEQUENCE {
 *       SEQUENCE { OID pbkdf2 (1.2.840.113549.1.5.12), SEQUENCE {
 *         OCTET STRING salt (16 random bytes), INTEGER iterations (PBKDF2_ITERATIONS),
 *         SEQUENCE { OID hmacWithSHA256 (1.2.840.113549.2.9), NULL } } },
 *       SEQUENCE { OID aes256-CBC (2.16.840.1.101.3.4.1.42), OCTET STRING iv (16 random bytes) } } },
 *     OCTET STRING AES-256-CBC(key = PBKDF2-HMAC-SHA256(UTF-8 passphrase, salt, iterations, 32),
 *                              PKCS#7 padding, plaintext = the PKCS#8 PrivateKeyInfo DER) }
 *
 * Why not KeyObject.export({ cipher, passphrase }): node (OpenSSL 3) writes the same structure
 * but with a fixed 2,048 PBKDF2 iterations, far below current guidance for a passphrase that
 * guards the root of trust on removable media (OWASP, 2023: 600,000 for PBKDF2-HMAC-SHA256).
 * Decryption is left to node:crypto (createPrivateKey with the passphrase), after the iteration
 * count has been bounded so that a damaged or hostile file cannot stall the ceremony.
 */
import { createCipheriv, createPrivateKey, pbkdf2Sync, randomBytes, type KeyObject } from 'node:crypto';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import {
  TAG,
  decodeOid,
  expectTag,
  integer,
  nullValue,
  octetString,
  oid,
  readChildren,
  readDer,
  sequence,
} from './der.ts';
import { readPemBlocks, toPem } from './pem.ts';

export const ENCRYPTED_LABEL = 'ENCRYPTED PRIVATE KEY';
export const PBKDF2_ITERATIONS = 600_000;
/** Most iterations accepted when reading (a few seconds of work on a slow machine). */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Shortest passphrase accepted for a new root key, in characters. */
export const MIN_PASSPHRASE_LENGTH = 12;
export const MAX_PASSPHRASE_LENGTH = 1024;

const OIDS = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** Refuses (config) a passphrase too short or too long for a new root key. */
export function checkNewPassphrase(passphrase: string): void {
  const n = [...passphrase].length;
  if (n < MIN_PASSPHRASE_LENGTH || n > MAX_PASSPHRASE_LENGTH) {
    throw new SumkeepError(
      'config',
      `the root key passphrase must have ${MIN_PASSPHRASE_LENGTH} to ${MAX_PASSPHRASE_LENGTH} characters (it has ${n})`,
    );
  }
}

/** `key` as an encrypted PKCS#8 PEM (see the file comment). */
export function encryptPrivateKey(
  key: KeyObject,
  passphrase: string,
  iterations = PBKDF2_ITERATIONS,
): string {
  checkNewPassphrase(passphrase);
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const kek = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', kek, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  kek.fill(0);
  const der = sequence(
    sequence(
      oid(OIDS.pbes2),
      sequence(
        sequence(
          oid(OIDS.pbkdf2),
          sequence(octetString(salt), integer(iterations), sequence(oid(OIDS.hmacWithSha256), nullValue())),
        ),
        sequence(oid(OIDS.aes256Cbc), octetString(iv)),
      ),
    ),
    octetString(encrypted),
  );
  return toPem(der, ENCRYPTED_LABEL);
}

/** True when `pem` holds an encrypted PKCS#8 key (PEM label ENCRYPTED PRIVATE KEY). */
export function isEncryptedPem(pem: string): boolean {
  try {
    return readPemBlocks(pem).some((b) => b.label === ENCRYPTED_LABEL);
  } catch {
    return false;
  }
}

/** The PBKDF2 iteration count of a PBES2 key, or null for another scheme (left to node). */
function pbkdf2Iterations(der: Uint8Array): number | null {
  const [alg] = readChildren(expectTag(readDer(der), TAG.SEQUENCE, 'EncryptedPrivateKeyInfo'));
  const [algOid, params] = readChildren(expectTag(alg, TAG.SEQUENCE, 'encryptionAlgorithm'));
  if (decodeOid(expectTag(algOid, TAG.OID, 'algorithm').content) !== OIDS.pbes2) return null;
  const [kdf] = readChildren(expectTag(params, TAG.SEQUENCE, 'PBES2-params'));
  const [kdfOid, kdfParams] = readChildren(expectTag(kdf, TAG.SEQUENCE, 'keyDerivationFunc'));
  if (decodeOid(expectTag(kdfOid, TAG.OID, 'kdf').content) !== OIDS.pbkdf2) return null;
  const [, count] = readChildren(expectTag(kdfParams, TAG.SEQUENCE, 'PBKDF2-params'));
  const c = expectTag(count, TAG.INTEGER, 'iterationCount').content;
  if (c.length > 6) return Number.MAX_SAFE_INTEGER;
  let n = 0;
  for (const b of c) n = n * 256 + b;
  return n;
}

/**
 * Decrypts an encrypted PKCS#8 PEM read from `file`. Throws `config` naming the file: for a wrong
 * passphrase (or a damaged file: the two cannot be told apart), an absurd iteration count, or text
 * that is not an encrypted key. Never quotes the key or the passphrase.
 */
export function decryptPrivateKey(pem: string, passphrase: string, file: string): KeyObject {
  let der: Uint8Array | undefined;
  try {
    der = readPemBlocks(pem).find((b) => b.label === ENCRYPTED_LABEL)?.der;
    if (der === undefined) throw new SumkeepError('bad_input', 'no ENCRYPTED PRIVATE KEY block');
    const iterations = pbkdf2Iterations(der);
    if (iterations !== null && (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS)) {
      throw new SumkeepError('bad_input', `PBKDF2 iteration count ${iterations} out of range`);
    }
  } catch (e) {
    const why = isSumkeepError(e) ? e.message : 'unreadable';
    throw new SumkeepError('config', `${file} is not an encrypted private key (${why})`, { cause: e });
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: Buffer.from(passphrase, 'utf8') });
  } catch (e) {
    throw new SumkeepError(
      'config',
      `${file}: wrong passphrase (or a damaged file): the root CA key could not be decrypted`,
      { cause: e },
    );
  }
}
