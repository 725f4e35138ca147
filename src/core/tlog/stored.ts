/**
 * Stored-hash indexing: every hash of the tree (leaves and complete subtrees) gets one dense,
 * append-only index, in the order the hashes become known while records are appended
 * (Crosby and Wallach, "Efficient Data Structures for Tamper-Evident Logging", section 3.3).
 *
 * Appending record n stores its leaf hash at storedHashIndex(0, n), followed by the hash of
 * every subtree that record completes, lowest level first. So level L's hash n sits right
 * after level L-1's hash 2n+1, and the level-0 hash n sits at n + n/2 + n/4 + ... (floored).
 */
import { SumkeepError } from '../errors.ts';
import { readHashesChecked, isHash, nodeHash, recordHash, type Hash, type HashReader } from './hash.ts';
import { isIndex, pow2, shr, trailingZeros } from './int.ts';

/** Highest level accepted anywhere in this package; a tree below 2^53 records stays under 53. */
export const MAX_LEVEL = 63;

function badInput(message: string): SumkeepError {
  return new SumkeepError('bad_input', `tlog: ${message}`);
}

/**
 * The stored-hash index of the n'th hash at the given level. Throws `bad_input` for a negative
 * or non-integer argument, or when the index would not be exact in a double (>= 2^53).
 */
export function storedHashIndex(level: number, n: number): number {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL || !isIndex(n)) {
    throw badInput(`invalid stored hash coordinates (${String(level)}, ${String(n)})`);
  }
  // The level-`level` hash n is stored right after leaf m = n*2^level + 2^level - 1 (its last
  // leaf) and the `level` hashes that leaf completes below it.
  let m = n * pow2(level) + (pow2(level) - 1);
  if (m > Number.MAX_SAFE_INTEGER) throw badInput(`stored hash index out of range (${level}, ${n})`);
  // Leaf m sits at m + floor(m/2) + floor(m/4) + ... = 2m - popcount(m); summed term by term so
  // that every partial sum stays exact whenever the result is.
  let i = 0;
  while (m > 0) {
    i += m;
    m = Math.floor(m / 2);
  }
  i += level;
  if (i > Number.MAX_SAFE_INTEGER) throw badInput(`stored hash index out of range (${level}, ${n})`);
  return i;
}

/** Inverse of storedHashIndex: the [level, n] stored at `index`. Throws `bad_input` on a bad index. */
export function splitStoredHashIndex(index: number): [level: number, n: number] {
  if (!isIndex(index)) throw badInput(`invalid stored hash index ${String(index)}`);
  // storedHashIndex(0, n) <= 2n, so the leaf whose append wrote `index` is at least index/2;
  // walk forward, each leaf n adding 1 + trailingZeros(n+1) hashes, to the last one at or before index.
  let n = Math.floor(index / 2);
  let leafIndex = storedHashIndex(0, n);
  for (;;) {
    const next = leafIndex + 1 + trailingZeros(n + 1);
    if (next > index) break;
    n++;
    leafIndex = next;
  }
  const level = index - leafIndex;
  return [level, shr(n, level)];
}

/** Number of stored hashes of a tree with n records. Throws `bad_input` on a bad n. */
export function storedHashCount(n: number): number {
  if (!isIndex(n)) throw badInput(`invalid tree size ${String(n)}`);
  if (n === 0) return 0;
  // The hashes written with the last leaf n-1: the leaf plus one per trailing 1 bit of n-1.
  return storedHashIndex(0, n - 1) + 1 + trailingZeros(n);
}

/**
 * The hashes to store, starting at storedHashIndex(0, n), when appending record n with the
 * given record text: its leaf hash, then the hashes of the subtrees it completes (1 + log2 n at
 * most). Reads up to log2 n earlier hashes through r.
 */
export function storedHashes(n: number, data: Uint8Array, r: HashReader): Hash[] {
  return storedHashesForRecordHash(n, recordHash(data), r);
}

/** As storedHashes, given the record's leaf hash instead of its text. */
export function storedHashesForRecordHash(n: number, h: Hash, r: HashReader): Hash[] {
  if (!isIndex(n) || n >= Number.MAX_SAFE_INTEGER) throw badInput(`invalid record index ${String(n)}`);
  if (!isHash(h)) throw badInput('record hash is not 32 bytes');
  // Each trailing 1 bit of n closes a subtree whose left half is already stored; those left
  // halves are read in increasing index order (highest level first).
  const m = trailingZeros(n + 1);
  const indexes = new Array<number>(m);
  for (let i = 0; i < m; i++) indexes[m - 1 - i] = storedHashIndex(i, shr(n, i) - 1);
  const left = m > 0 ? readHashesChecked(r, indexes) : [];
  const out = [h];
  let cur = h;
  for (let i = 0; i < m; i++) {
    cur = nodeHash(left[m - 1 - i]!, cur);
    out.push(cur);
  }
  return out;
}
