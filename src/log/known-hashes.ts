/**
 * The committed stored hashes that the sequencer's next batch reads, kept in memory from one batch
 * to the next so that sequencing a batch does not read them back from the store (on PostgreSQL one
 * round trip per batch).
 *
 * Appending records to a tree of size N, computing the new tree hash and proving that the new tree
 * extends the old one read, of the hashes already committed, the roots of the complete subtrees
 * that make up the tree of size N: level L's hash floor(N / 2^L) - 1 for every L where
 * floor(N / 2^L) is odd (at most 64). After this process commits a batch to size N, those roots
 * are among the hashes the batch read or produced; they are kept, nothing else.
 *
 * Only committed hashes are kept: read from the store, or produced by a batch whose append the
 * store acknowledged. Stored hashes never change once committed (the store is append-only), so a
 * kept hash stays right whoever appends later. When another writer appended first the roots of
 * the new size are mostly not here: the missing ones are read from the store, in one call.
 */
import { storedHashIndex, type Hash } from '../core/tlog/index.ts';
import type { StoredHash } from '../store/store.ts';

/** Stored-hash indexes of the roots of the complete subtrees of a tree of `size` records. */
export function frontierIndexes(size: number): number[] {
  const out: number[] = [];
  for (let level = 0, n = size; n > 0; level++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) out.push(storedHashIndex(level, n - 1));
  }
  return out;
}

/** One batch's reads: what it was given, for `KnownHashes.committed`. */
export interface HashReads {
  /** Reads committed hashes: kept ones from memory, the others from the store in one call. */
  read(indexes: readonly number[]): Promise<Hash[]>;
  /** Every hash `read` returned. */
  readonly seen: ReadonlyMap<number, Hash>;
}

export class KnownHashes {
  private known = new Map<number, Hash>();

  /** How many hashes are kept (the frontier of the last committed size; for tests). */
  get size(): number {
    return this.known.size;
  }

  /** A reader for one batch, over `readStore` (the store's committed hashes). */
  reads(readStore: (indexes: readonly number[]) => Promise<Hash[]>): HashReads {
    const seen = new Map<number, Hash>();
    const known = this.known;
    return {
      seen,
      async read(indexes) {
        const missing = indexes.filter((i) => !known.has(i) && !seen.has(i));
        if (missing.length > 0) {
          const got = await readStore(missing);
          missing.forEach((i, k) => seen.set(i, got[k]!));
        }
        return indexes.map((i) => {
          const h = seen.get(i) ?? known.get(i)!;
          seen.set(i, h);
          return h;
        });
      },
    };
  }

  /**
   * The store acknowledged a batch that took the tree to `size`: keep the roots of that tree, from
   * the hashes the batch read (`reads.seen`) and the ones it added.
   */
  committed(size: number, reads: HashReads, added: readonly StoredHash[]): void {
    const byIndex = new Map<number, Hash>(reads.seen);
    for (const h of added) byIndex.set(h.index, h.hash);
    const next = new Map<number, Hash>();
    for (const i of frontierIndexes(size)) {
      const h = byIndex.get(i) ?? this.known.get(i);
      if (h !== undefined) next.set(i, h);
    }
    this.known = next;
  }
}
