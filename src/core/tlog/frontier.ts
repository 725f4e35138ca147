/**
 * The right edge of a Merkle tree being rebuilt record by record, in O(log n) memory: what an
 * offline checker (sumkeep audit) needs to recompute every stored hash and every tree hash of a
 * log of any size without holding the log.
 *
 * frontier[L] is the hash of the complete subtree of 2^L records at level L that still waits for
 * its right sibling (set exactly when bit L of the size is 1). Appending record n produces the
 * same hashes, in the same order, as storedHashes(n, ...): its leaf hash, then one hash per
 * trailing 1 bit of n (the subtrees it completes, lowest level first).
 */
import { SumkeepError } from '../errors.ts';
import { emptyTreeHash, isHash, nodeHash, type Hash } from './hash.ts';

export class MerkleFrontier {
  private readonly edge: (Hash | undefined)[] = [];
  private n = 0;

  /** Number of records appended so far. */
  get size(): number {
    return this.n;
  }

  /** Appends the record with leaf hash `leaf`; returns the stored hashes it adds, in index order. */
  append(leaf: Hash): Hash[] {
    if (!isHash(leaf)) throw new SumkeepError('bad_input', 'tlog: record hash is not 32 bytes');
    if (this.n >= Number.MAX_SAFE_INTEGER) throw new SumkeepError('bad_input', 'tlog: tree too large');
    const out = [leaf];
    let cur = leaf;
    let level = 0;
    for (let m = this.n; m % 2 === 1; m = (m - 1) / 2) {
      cur = nodeHash(this.edge[level]!, cur);
      out.push(cur);
      this.edge[level] = undefined;
      level++;
    }
    this.edge[level] = cur;
    this.n++;
    return out;
  }

  /** The tree hash (RFC 6962) of the records appended so far; SHA-256("") for none. */
  root(): Hash {
    let r: Hash | undefined;
    for (const h of this.edge) {
      if (h === undefined) continue;
      r = r === undefined ? h : nodeHash(h, r);
    }
    return r ?? emptyTreeHash();
  }
}
