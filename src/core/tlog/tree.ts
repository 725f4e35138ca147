/**
 * Tree hashes and the two RFC 6962 proofs: record inclusion ("audit path", section 2.1.1) and
 * tree consistency (section 2.1.2), over stored hashes read through a HashReader.
 *
 * Every function here first computes the list of stored-hash indexes it needs, reads them in
 * one call, then folds them. The indexes depend only on the sizes, never on hash values, which
 * is what lets withAsyncReader learn them with a dummy reader.
 *
 * Proof order: the sibling nearest the leaf (or the old tree) comes first, the sibling at the
 * root last, as Go's tlog and RFC 6962 write them.
 */
import { SumkeepError } from '../errors.ts';
import {
  emptyTreeHash,
  hashesEqual,
  isHash,
  nodeHash,
  readHashesChecked,
  type Hash,
  type HashReader,
} from './hash.ts';
import { isIndex, maxPow2Below } from './int.ts';
import { storedHashIndex } from './stored.ts';

/** A proof longer than this cannot belong to a tree below 2^53 records: reject without hashing. */
const MAX_PROOF_HASHES = 2 * 53;

/** Hands out the hashes of one read in order; running out or leaving some is a bug here. */
class HashCursor {
  private pos = 0;
  constructor(private readonly hashes: readonly Hash[]) {}
  take(): Hash {
    const h = this.hashes[this.pos++];
    if (h === undefined) throw new SumkeepError('internal', 'tlog: bad index math (too few hashes)');
    return h;
  }
  finish(): void {
    if (this.pos !== this.hashes.length)
      throw new SumkeepError('internal', 'tlog: bad index math (hashes left over)');
  }
}

/**
 * The stored hashes that make up the subtree of records [lo, hi): the largest aligned complete
 * subtree starting at lo, then the same for the rest, left to right. Appended to `out`.
 */
function subTreeIndexes(lo: number, hi: number, out: number[]): void {
  while (lo < hi) {
    const [k, level] = maxPow2Below(hi - lo + 1);
    out.push(storedHashIndex(level, lo / k));
    lo += k;
  }
}

/** Hash of records [lo, hi) from the hashes subTreeIndexes(lo, hi) named, in that order. */
function subTreeHash(lo: number, hi: number, cur: HashCursor): Hash {
  const parts: Hash[] = [];
  while (lo < hi) {
    const [k] = maxPow2Below(hi - lo + 1);
    parts.push(cur.take());
    lo += k;
  }
  let h = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) h = nodeHash(parts[i]!, h);
  return h;
}

/**
 * Root hash of the tree of the first n records, reading at most 1 + log2 n stored hashes.
 * The empty tree's hash is emptyTreeHash(). Throws `bad_input` on a bad n.
 */
export function treeHash(n: number, r: HashReader): Hash {
  if (!isIndex(n)) throw new SumkeepError('bad_input', `tlog: invalid tree size ${String(n)}`);
  if (n === 0) return emptyTreeHash();
  const indexes: number[] = [];
  subTreeIndexes(0, n, indexes);
  const cur = new HashCursor(readHashesChecked(r, indexes));
  const h = subTreeHash(0, n, cur);
  cur.finish();
  return h;
}

// ---- record inclusion ----

function leafProofIndexes(lo: number, hi: number, n: number, out: number[]): void {
  if (lo + 1 === hi) return;
  const [k] = maxPow2Below(hi - lo);
  if (n < lo + k) {
    leafProofIndexes(lo, lo + k, n, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    leafProofIndexes(lo + k, hi, n, out);
  }
}

function leafProof(lo: number, hi: number, n: number, cur: HashCursor, out: Hash[]): void {
  if (lo + 1 === hi) return; // the verifier knows the leaf hash itself
  const [k] = maxPow2Below(hi - lo);
  if (n < lo + k) {
    leafProof(lo, lo + k, n, cur, out);
    out.push(subTreeHash(lo + k, hi, cur));
  } else {
    const sibling = subTreeHash(lo, lo + k, cur);
    leafProof(lo + k, hi, n, cur, out);
    out.push(sibling);
  }
}

/**
 * Proof that the tree of size t contains record n (0 <= n < t). Throws `bad_input` for sizes
 * out of range; whatever r throws passes through.
 */
export function proveRecord(t: number, n: number, r: HashReader): Hash[] {
  if (!isIndex(t) || !isIndex(n) || n >= t) {
    throw new SumkeepError('bad_input', `tlog: invalid inputs to proveRecord(${String(t)}, ${String(n)})`);
  }
  const indexes: number[] = [];
  leafProofIndexes(0, t, n, indexes);
  if (indexes.length === 0) return [];
  const cur = new HashCursor(readHashesChecked(r, indexes));
  const proof: Hash[] = [];
  leafProof(0, t, n, cur, proof);
  cur.finish();
  return proof;
}

/** The root implied by proof[0, end) for leaf n of the subtree [lo, hi), or null if it does not fit. */
function runRecordProof(
  proof: readonly Hash[],
  end: number,
  lo: number,
  hi: number,
  n: number,
  leaf: Hash,
): Hash | null {
  if (lo + 1 === hi) return end === 0 ? leaf : null;
  if (end === 0) return null;
  const sibling = proof[end - 1]!;
  const [k] = maxPow2Below(hi - lo);
  if (n < lo + k) {
    const h = runRecordProof(proof, end - 1, lo, lo + k, n, leaf);
    return h === null ? null : nodeHash(h, sibling);
  }
  const h = runRecordProof(proof, end - 1, lo + k, hi, n, leaf);
  return h === null ? null : nodeHash(sibling, h);
}

/**
 * True when `proof` shows that the tree of size t with root th has record n with leaf hash h.
 * Never throws: any malformed argument (bad sizes, hashes that are not 32 bytes, a proof of the
 * wrong length) is simply false.
 */
export function checkRecord(proof: readonly Hash[], t: number, th: Hash, n: number, h: Hash): boolean {
  try {
    if (!isIndex(t) || !isIndex(n) || n >= t || !isHash(th) || !isHash(h)) return false;
    if (!Array.isArray(proof) || proof.length > MAX_PROOF_HASHES || !proof.every(isHash)) return false;
    const root = runRecordProof(proof, proof.length, 0, t, n, h);
    return root !== null && hashesEqual(root, th);
  } catch {
    return false;
  }
}

// ---- tree consistency ----

function treeProofIndexes(lo: number, hi: number, n: number, out: number[]): void {
  if (n === hi) {
    if (lo !== 0) subTreeIndexes(lo, hi, out);
    return;
  }
  const [k] = maxPow2Below(hi - lo);
  if (n <= lo + k) {
    treeProofIndexes(lo, lo + k, n, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    treeProofIndexes(lo + k, hi, n, out);
  }
}

function treeProof(lo: number, hi: number, n: number, cur: HashCursor, out: Hash[]): void {
  if (n === hi) {
    // [0, n) is the old tree itself, whose hash the verifier has; any other complete
    // subtree shared by both trees is sent.
    if (lo !== 0) out.push(subTreeHash(lo, hi, cur));
    return;
  }
  const [k] = maxPow2Below(hi - lo);
  if (n <= lo + k) {
    treeProof(lo, lo + k, n, cur, out);
    out.push(subTreeHash(lo + k, hi, cur));
  } else {
    const sibling = subTreeHash(lo, lo + k, cur);
    treeProof(lo + k, hi, n, cur, out);
    out.push(sibling);
  }
}

/**
 * Proof that the tree of size t contains the tree of size n as a prefix (1 <= n <= t).
 * Throws `bad_input` for sizes out of range; whatever r throws passes through.
 */
export function proveTree(t: number, n: number, r: HashReader): Hash[] {
  if (!isIndex(t) || !isIndex(n) || n < 1 || n > t) {
    throw new SumkeepError('bad_input', `tlog: invalid inputs to proveTree(${String(t)}, ${String(n)})`);
  }
  const indexes: number[] = [];
  treeProofIndexes(0, t, n, indexes);
  if (indexes.length === 0) return [];
  const cur = new HashCursor(readHashesChecked(r, indexes));
  const proof: Hash[] = [];
  treeProof(0, t, n, cur, proof);
  cur.finish();
  return proof;
}

/**
 * The [old, new] hashes that proof[0, end) implies for the subtree [lo, hi), where the old tree
 * has n records with hash `old`; null when the proof does not fit the shape.
 */
function runTreeProof(
  proof: readonly Hash[],
  end: number,
  lo: number,
  hi: number,
  n: number,
  old: Hash,
): [Hash, Hash] | null {
  if (n === hi) {
    if (lo === 0) return end === 0 ? [old, old] : null;
    return end === 1 ? [proof[0]!, proof[0]!] : null;
  }
  if (end === 0) return null;
  const sibling = proof[end - 1]!;
  const [k] = maxPow2Below(hi - lo);
  if (n <= lo + k) {
    const sub = runTreeProof(proof, end - 1, lo, lo + k, n, old);
    return sub === null ? null : [sub[0], nodeHash(sub[1], sibling)];
  }
  const sub = runTreeProof(proof, end - 1, lo + k, hi, n, old);
  return sub === null ? null : [nodeHash(sibling, sub[0]), nodeHash(sibling, sub[1])];
}

/**
 * True when `proof` shows that the tree of size t with root th extends the tree of size n with
 * root h (1 <= n <= t). Never throws; malformed arguments are false.
 */
export function checkTree(proof: readonly Hash[], t: number, th: Hash, n: number, h: Hash): boolean {
  try {
    if (!isIndex(t) || !isIndex(n) || n < 1 || n > t || !isHash(th) || !isHash(h)) return false;
    if (!Array.isArray(proof) || proof.length > MAX_PROOF_HASHES || !proof.every(isHash)) return false;
    const got = runTreeProof(proof, proof.length, 0, t, n, h);
    return got !== null && hashesEqual(got[0], h) && hashesEqual(got[1], th);
  } catch {
    return false;
  }
}
