/**
 * Checking a signed answer with node:crypto alone. The algorithm comes from the JWK the signer is
 * published with, never from the response (a response header that names another algorithm is a
 * failure, not a hint): EdDSA = pure Ed25519 over the bytes; PS256 = RSASSA-PSS with SHA-256,
 * MGF1-SHA-256 and a 32-byte salt, RSA keys of at least 2048 bits.
 */
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { SumkeepError } from '../core/errors.ts';
import type { PublicJwk, ResponseAlg } from '../keys/types.ts';

export const MIN_RSA_BITS = 2048;
export const PSS_SALT_LENGTH = 32;

/** True when `key` is of the kind `alg` signs with (Ed25519; RSA of at least MIN_RSA_BITS bits). */
export function keyFitsAlg(key: KeyObject, alg: ResponseAlg): boolean {
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519';
  if (alg === 'PS256') {
    return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS;
  }
  return false;
}

/** True when sig is alg's signature of data by key; false (never throws) for anything else. */
export function verifySignature(
  key: KeyObject,
  alg: ResponseAlg,
  data: Uint8Array,
  sig: Uint8Array,
): boolean {
  try {
    if (!keyFitsAlg(key, alg)) return false;
    if (alg === 'EdDSA') return sig.length === 64 && cryptoVerify(null, data, key, sig);
    return cryptoVerify(
      'sha256',
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
      sig,
    );
  } catch {
    return false;
  }
}

/**
 * The public key of a published JWK, checked against its own `alg` and `kty`. Throws
 * SumkeepError('invalid_signature') for a key that cannot sign with the algorithm it names.
 */
export function jwkPublicKey(jwk: PublicJwk): KeyObject {
  let key: KeyObject;
  try {
    const material =
      jwk.kty === 'OKP' ? { kty: 'OKP', crv: jwk.crv, x: jwk.x } : { kty: 'RSA', n: jwk.n, e: jwk.e };
    key = createPublicKey({ key: material as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new SumkeepError('invalid_signature', `key ${jwk.kid}: not a usable public JWK`);
  }
  const kindOk = jwk.alg === 'EdDSA' ? jwk.kty === 'OKP' && jwk.crv === 'Ed25519' : jwk.kty === 'RSA';
  if (!kindOk || !keyFitsAlg(key, jwk.alg)) {
    throw new SumkeepError(
      'invalid_signature',
      `key ${jwk.kid}: its key does not fit its algorithm ${jwk.alg}`,
    );
  }
  return key;
}
