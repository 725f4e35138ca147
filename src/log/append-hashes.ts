/**
 * The stored hashes that appending records adds to a tree, computed against the committed hashes
 * of an asynchronous store. Shared by the sequencer (new batches) and `store copy` (recomputing a
 * source's hashes before they are written elsewhere).
 */
import { SumkeepError } from '../core/errors.ts';
import {
  proveTree,
  storedHashesForRecordHash,
  storedHashIndex,
  treeHash,
  type Hash,
  type HashReader,
} from '../core/tlog/index.ts';
import type { StoredHash } from '../store/store.ts';

export interface AppendedHashes {
  /** Every stored hash the new records add, in stored-hash index order. */
  hashes: StoredHash[];
  /**
   * Reads committed hashes (those that appending, treeHash(newSize) and proveTree(newSize, oldSize)
   * need) and the new ones; throws `internal` for any other index.
   */
  reader: HashReader;
}

/**
 * Computes the stored hashes for records with leaf hashes `leafHashes` appended to a tree of
 * `oldSize`, reading the committed hashes it needs with one call to `readStored`. Which committed
 * indexes appending, treeHash and proveTree read depends only on the sizes, never on hash values,
 * so a dry run with zero hashes finds them all first.
 */
export async function appendHashes(
  oldSize: number,
  leafHashes: readonly Hash[],
  readStored: (indexes: readonly number[]) => Promise<Hash[]>,
): Promise<AppendedHashes> {
  const limit = storedHashIndex(0, oldSize);
  const newSize = oldSize + leafHashes.length;
  const wanted = new Set<number>();
  const local = new Map<number, Hash>();
  const zero = new Uint8Array(32);
  const dry: HashReader = (indexes) =>
    indexes.map((i) => {
      if (i < limit) {
        wanted.add(i);
        return zero;
      }
      return local.get(i) ?? zero;
    });
  leafHashes.forEach((h, k) => {
    const n = oldSize + k;
    const base = storedHashIndex(0, n);
    storedHashesForRecordHash(n, h, dry).forEach((x, j) => local.set(base + j, x));
  });
  treeHash(newSize, dry);
  if (oldSize > 0) proveTree(newSize, oldSize, dry);

  const idx = [...wanted].sort((a, b) => a - b);
  const got = idx.length > 0 ? await readStored(idx) : [];
  const fetched = new Map(idx.map((i, j) => [i, got[j]!]));
  const pending = new Map<number, Hash>();
  const reader: HashReader = (indexes) =>
    indexes.map((i) => {
      const h = pending.get(i) ?? fetched.get(i);
      if (h === undefined) throw new SumkeepError('internal', `stored hash ${i} not available`);
      return h;
    });
  const hashes: StoredHash[] = [];
  leafHashes.forEach((leaf, k) => {
    const n = oldSize + k;
    const base = storedHashIndex(0, n);
    storedHashesForRecordHash(n, leaf, reader).forEach((h, j) => {
      pending.set(base + j, h);
      hashes.push({ index: base + j, hash: h });
    });
  });
  return { hashes, reader };
}
