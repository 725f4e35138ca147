/**
 * Ed25519 (RFC 8032, pure, no prehash) over raw bytes, as Go's crypto/ed25519 uses them: a private
 * key is its 32-byte seed, a public key is 32 bytes, a signature 64 bytes.
 *
 * node:crypto only takes keys as KeyObjects, so the raw bytes are wrapped in the fixed DER headers
 * of RFC 8410:
 *
 *     PKCS#8 private key: 30 2e 02 01 00 30 05 06 03 2b 65 70 04 22 04 20 || seed (32 bytes)
 *     SPKI public key:    30 2a 30 05 06 03 2b 65 70 03 21 00             || key  (32 bytes)
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SumkeepError } from './errors.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ED25519_SEED_SIZE = 32;
export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_SIZE) {
    throw new SumkeepError('malformed_key', `ed25519: seed must be ${ED25519_SEED_SIZE} bytes`);
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The 32-byte public key of a 32-byte seed. Throws `malformed_key` for a seed of another size. */
export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - ED25519_PUBLIC_KEY_SIZE));
}

/** The 64-byte signature of `msg` by the key with this 32-byte seed (deterministic, as RFC 8032). */
export function ed25519Sign(seed: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(null, msg, privateKeyObject(seed)));
}

/**
 * A signing function bound to one seed: the key object is built once (building it costs more than
 * a signature), for signers that sign many messages, like the sequencer's note key.
 */
export function ed25519Signer(seed: Uint8Array): (msg: Uint8Array) => Uint8Array {
  const key = privateKeyObject(seed);
  return (msg) => new Uint8Array(cryptoSign(null, msg, key));
}

/**
 * True when `sig` is a valid signature of `msg` by the public key `pub`. Never throws: a key or
 * signature of the wrong size, a key that is not a curve point, or any other failure is `false`.
 */
export function ed25519Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (pub.length !== ED25519_PUBLIC_KEY_SIZE || sig.length !== ED25519_SIGNATURE_SIZE) return false;
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    return cryptoVerify(null, msg, key, sig);
  } catch {
    return false;
  }
}
