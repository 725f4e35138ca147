/**
 * The one signing interface of src/keys: a private key that signs, wherever it lives: a PEM file
 * loaded into memory (`memorySigner`) or a PKCS#11 token (pkcs11/signer.ts). Certificates,
 * tree-head notes and API responses are all signed through it, so each can use either kind.
 *
 * `sign` is synchronous (node:crypto and PKCS#11 C_Sign both are) and returns the signature over
 * exactly `data`, by the algorithm table of algorithms.ts: Ed25519 64 bytes; RSA-PSS (SHA-256,
 * MGF1-SHA-256, salt 32) the modulus size. A key that cannot sign right now (a token removed, a
 * session lost) throws SumkeepError('unavailable') with a one-line reason; it never falls back to
 * another key.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { signBytes } from './algorithms.ts';

export interface KeySigner {
  /** The public half: what certificates carry, and what describeKey classifies. */
  readonly publicKey: KeyObject;
  /** Where the key lives, for the ceremony record and messages: a file path or a PKCS#11 URI (never a PIN). */
  readonly location: string;
  /** True for a key inside a token (non-extractable), false for one in memory. */
  readonly inToken: boolean;
  sign(data: Uint8Array): Uint8Array;
}

/** A private key in memory (from a PEM file, or made for development) as a KeySigner. */
export function memorySigner(privateKey: KeyObject, location: string): KeySigner {
  const publicKey = createPublicKey(privateKey);
  return Object.freeze({
    publicKey,
    location,
    inToken: false,
    sign: (data: Uint8Array) => signBytes(privateKey, data),
  });
}

/** A private KeyObject or a KeySigner, as issuers accept them. */
export type SigningKey = KeyObject | KeySigner;

export function asKeySigner(k: SigningKey): KeySigner {
  return 'sign' in k && typeof k.sign === 'function' ? k : memorySigner(k as KeyObject, 'memory');
}
