/**
 * RFC 6962 hashing for the go.sum database log: leaf hashes, interior-node hashes and the reader
 * callback through which the pure tree code reaches stored hashes.
 */
import * as crypto from 'node:crypto';
import { SumkeepError } from '../errors.ts';

/** A 32-byte SHA-256 hash of a record (leaf) or of a subtree. */
export type Hash = Uint8Array;

export const HASH_SIZE = 32;

/**
 * Returns the stored hashes at the given stored-hash indexes (see storedHashIndex), one per index,
 * in the same order. Synchronous; throws when a hash is missing. Callers in this package check
 * that exactly one 32-byte hash came back per index.
 */
export type HashReader = (indexes: readonly number[]) => Hash[];

// crypto.hash (one-shot, about a third faster than createHash for 65-byte inputs) arrived in
// Node 20.12; engines allows 20.10, so fall back to createHash where it is missing.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

function sha256Of(data: Uint8Array): Hash {
  const b = oneShot ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Leaf hash: SHA-256(0x00 || data). */
export function recordHash(data: Uint8Array): Hash {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = 0x00;
  buf.set(data, 1);
  return sha256Of(buf);
}

// Node hashes dominate proof checking and tree building; one scratch input buffer (safe: the
// hashing is synchronous) saves an allocation per hash.
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);

/** Interior-node hash: SHA-256(0x01 || left || right). Throws `bad_input` unless both are 32 bytes. */
export function nodeHash(left: Hash, right: Hash): Hash {
  if (!isHash(left) || !isHash(right)) throw new SumkeepError('bad_input', 'tlog: node hash of a non-hash');
  nodeInput[0] = 0x01;
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256Of(nodeInput);
}

/**
 * Hash of the tree with no records: SHA-256 of the empty string, as RFC 6962 defines it.
 * (x/mod v0.7.0 returned 32 zero bytes; later versions and this package follow the RFC.)
 */
export function emptyTreeHash(): Hash {
  return sha256Of(new Uint8Array(0));
}

/** True when h is a Uint8Array of exactly HASH_SIZE bytes. */
export function isHash(h: unknown): h is Hash {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** Compares two hashes in time independent of where they differ; false for non-hashes. */
export function hashesEqual(a: Hash, b: Hash): boolean {
  if (!isHash(a) || !isHash(b)) return false;
  let d = 0;
  for (let i = 0; i < HASH_SIZE; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/**
 * Calls r and checks its answer: one 32-byte hash per index. A reader that breaks that contract
 * is a bug in the caller's storage, reported as `internal`.
 */
export function readHashesChecked(r: HashReader, indexes: readonly number[]): Hash[] {
  const hashes = r(indexes);
  if (!Array.isArray(hashes) || hashes.length !== indexes.length) {
    throw new SumkeepError(
      'internal',
      `tlog: hash reader returned ${Array.isArray(hashes) ? hashes.length : 'no'} hashes for ${indexes.length} indexes`,
    );
  }
  for (const h of hashes) {
    if (!isHash(h))
      throw new SumkeepError('internal', 'tlog: hash reader returned a value that is not a 32-byte hash');
  }
  return hashes;
}
