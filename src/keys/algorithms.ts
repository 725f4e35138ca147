/**
 * The signature algorithms of sumkeep's keys, in one table. Every signature made or checked with a
 * root or online key goes through `signBytes`/`verifyBytes`, so the parameters live here only:
 *
 *   ed25519       EdDSA (RFC 8032, pure), JWS "EdDSA", X.509 OID 1.3.101.112
 *   rsa-pss-N     RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 bytes, trailer 1; JWS "PS256";
 *                 X.509 OID 1.2.840.113549.1.1.10 with those parameters. The key itself is a plain
 *                 rsaEncryption key (not an id-RSASSA-PSS key): Go's crypto/x509 only reads those.
 *
 * RSA keys shorter than MIN_RSA_BITS are refused wherever a key is loaded.
 */
import { constants, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SumkeepError } from '../core/errors.ts';
import type { ResponseAlg } from './types.ts';

export type KeyAlgorithm = 'ed25519' | 'rsa-pss-2048' | 'rsa-pss-3072' | 'rsa-pss-4096';

export const ROOT_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'rsa-pss-3072', 'rsa-pss-4096'];
export const RESPONSE_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'rsa-pss-2048', 'rsa-pss-3072'];

export const MIN_RSA_BITS = 2048;
/** Longest RSA modulus accepted when loading a key (bounds the work a hostile key can cause). */
export const MAX_RSA_BITS = 8192;
export const PSS_SALT_LENGTH = 32;

interface AlgorithmDescriptor {
  jws: ResponseAlg;
  /** RSA modulus size; absent for Ed25519. */
  rsaBits?: number;
}

const TABLE: Record<KeyAlgorithm, AlgorithmDescriptor> = {
  ed25519: { jws: 'EdDSA' },
  'rsa-pss-2048': { jws: 'PS256', rsaBits: 2048 },
  'rsa-pss-3072': { jws: 'PS256', rsaBits: 3072 },
  'rsa-pss-4096': { jws: 'PS256', rsaBits: 4096 },
};

/** Reads an algorithm option; refuses (config) anything not in `allowed`, naming the choices. */
export function parseAlgorithm(value: string, allowed: readonly KeyAlgorithm[], flag: string): KeyAlgorithm {
  const found = allowed.find((a) => a === value);
  if (found === undefined) {
    throw new SumkeepError('config', `${flag} ${JSON.stringify(value)}: want one of ${allowed.join(', ')}`);
  }
  return found;
}

export function generateKeyPair(alg: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  const d = TABLE[alg];
  if (d.rsaBits === undefined) return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: d.rsaBits, publicExponent: 0x10001 });
}

/** What a key is, by the table: its JWS algorithm and a label such as "ed25519" or "rsa-pss-3072". */
export interface KeyDescription {
  jws: ResponseAlg;
  label: string;
}

/**
 * Describes a public or private key; throws `config` for a key sumkeep does not sign with (EC,
 * id-RSASSA-PSS keys, RSA outside MIN_RSA_BITS..MAX_RSA_BITS).
 */
export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return { jws: 'EdDSA', label: 'ed25519' };
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new SumkeepError(
        'config',
        `RSA key of ${bits} bits: want ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`,
      );
    }
    return { jws: 'PS256', label: `rsa-pss-${bits}` };
  }
  throw new SumkeepError('config', `unsupported key type ${String(type)}: want Ed25519 or RSA`);
}

/** The signature of exactly `data` (Ed25519: 64 bytes; RSA-PSS: the modulus size). */
export function signBytes(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  const { jws } = describeKey(privateKey);
  if (jws === 'EdDSA') return new Uint8Array(cryptoSign(null, data, privateKey));
  return new Uint8Array(
    cryptoSign('sha256', data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: PSS_SALT_LENGTH,
    }),
  );
}

/** True when `sig` is a valid signature of `data` by `publicKey`; never throws. */
export function verifyBytes(publicKey: KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    const { jws } = describeKey(publicKey);
    if (jws === 'EdDSA') return cryptoVerify(null, data, publicKey, sig);
    return cryptoVerify(
      'sha256',
      data,
      { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
      sig,
    );
  } catch {
    return false;
  }
}
