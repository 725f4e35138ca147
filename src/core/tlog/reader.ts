/**
 * Client-side reading of a log through its tiles, and running the synchronous proof code over
 * an asynchronous source of hashes.
 */
import { SumkeepError } from '../errors.ts';
import { HASH_SIZE, hashesEqual, isHash, nodeHash, type Hash, type HashReader } from './hash.ts';
import { isIndex, maxPow2Below, pow2 } from './int.ts';
import type { Tree } from './note.ts';
import { storedHashIndex } from './stored.ts';
import {
  fullTileHash,
  hashFromTile,
  isValidTileHeight,
  tileForIndex,
  tileKey,
  tileParent,
  type Tile,
} from './tile.ts';

/** Stored-hash indexes of the complete subtrees whose hashes fold into the root of a tree of n records. */
function rootIndexes(n: number): number[] {
  const out: number[] = [];
  let lo = 0;
  while (lo < n) {
    const [k, level] = maxPow2Below(n - lo + 1);
    out.push(storedHashIndex(level, lo / k));
    lo += k;
  }
  return out;
}

/**
 * A reader of hashes of `tree` that fetches tiles of height h through readTiles and trusts none
 * of their bytes until they are tied to tree.hash:
 *
 * 1. the tiles holding the tree's root subtrees must fold to tree.hash;
 * 2. every other tile fetched is a full tile whose subtree hash must equal the entry for it in
 *    its parent tile, and parents are checked before children, back up to step 1's tiles.
 *
 * Only then are the requested hashes returned, so every hash it returns is proven to be in the
 * tree. readTiles must return one byte array of exactly W*32 bytes per tile, in order.
 * Throws `bad_input` for an index not in the tree, `malformed_proof` when readTiles answers with
 * the wrong number or size of tiles, `log_inconsistent` when tile contents disagree with the
 * tree hash or with each other; errors from readTiles pass through.
 */
export function tileHashReader(
  tree: Tree,
  h: number,
  readTiles: (tiles: Tile[]) => Promise<Uint8Array[]>,
): (indexes: readonly number[]) => Promise<Hash[]> {
  if (typeof tree !== 'object' || tree === null || !isIndex(tree.N) || !isHash(tree.hash)) {
    throw new SumkeepError('bad_input', 'tlog: invalid tree for tileHashReader');
  }
  if (!isValidTileHeight(h)) throw new SumkeepError('bad_input', `tlog: invalid tile height ${String(h)}`);
  const N = tree.N;
  const rootHash = tree.hash.slice();
  const full = pow2(h);

  return async (indexes: readonly number[]): Promise<Hash[]> => {
    if (indexes.length === 0) return [];
    const limit = storedHashIndex(0, N); // first index written by a record beyond the tree
    for (const x of indexes) {
      if (!isIndex(x) || x >= limit) {
        throw new SumkeepError('bad_input', `tlog: hash index ${String(x)} is not in the tree of size ${N}`);
      }
    }

    const tiles: Tile[] = [];
    const position = new Map<string, number>();
    const add = (t: Tile): number => {
      const key = tileKey(t);
      let i = position.get(key);
      if (i === undefined) {
        i = tiles.length;
        position.set(key, i);
        tiles.push(t);
      }
      return i;
    };

    // Step 1's tiles: those holding the root subtrees, widened to what the tree has.
    const roots = rootIndexes(N);
    const rootTile = roots.map((x) => add(tileParent(tileForIndex(h, x), 0, N)));
    const authenticatedByRoot = tiles.length;

    // Each requested hash's tile, preceded by every ancestor up to one already planned.
    const indexTile = indexes.map((x) => {
      const base = tileForIndex(h, x);
      let k = 0;
      let found: number | undefined;
      for (;;) {
        const p = tileParent(base, k, N);
        if (p.W === 0) throw new SumkeepError('internal', `tlog: no planned ancestor for hash ${x}`);
        found = position.get(tileKey(p));
        if (found !== undefined) break;
        k++;
      }
      for (k--; k >= 0; k--) {
        const p = tileParent(base, k, N);
        // A tile below a planned ancestor has a complete parent entry, so it must be full.
        if (p.W !== full) throw new SumkeepError('internal', `tlog: bad tile math for hash ${x}`);
        found = add(p);
      }
      return found;
    });

    const data = await readTiles(tiles.map((t) => ({ ...t })));
    if (!Array.isArray(data) || data.length !== tiles.length) {
      throw new SumkeepError(
        'malformed_proof',
        `tlog: tile reader returned ${Array.isArray(data) ? data.length : 'no'} tiles for ${tiles.length}`,
      );
    }
    tiles.forEach((t, i) => {
      const d = data[i];
      if (!(d instanceof Uint8Array) || d.length !== t.W * HASH_SIZE) {
        throw new SumkeepError('malformed_proof', `tlog: tile ${tileKey(t)} has the wrong size`);
      }
    });

    // Step 1: the root tiles must produce the signed tree hash.
    const last = roots.length - 1;
    let th = hashFromTile(tiles[rootTile[last]!]!, data[rootTile[last]!]!, roots[last]!);
    for (let i = last - 1; i >= 0; i--) {
      th = nodeHash(hashFromTile(tiles[rootTile[i]!]!, data[rootTile[i]!]!, roots[i]!), th);
    }
    if (!hashesEqual(th, rootHash)) {
      throw new SumkeepError('log_inconsistent', 'downloaded tiles do not match the signed tree hash');
    }

    // Step 2: every other tile against its (already authenticated) parent. Tiles were planned
    // parents first, so walking in order checks each parent before its children.
    for (let i = authenticatedByRoot; i < tiles.length; i++) {
      const t = tiles[i]!;
      const p = tileParent(t, 1, N);
      const j = position.get(tileKey(p));
      if (j === undefined || j >= i)
        throw new SumkeepError('internal', `tlog: lost parent of tile ${tileKey(t)}`);
      const expected = hashFromTile(p, data[j]!, storedHashIndex(p.L * p.H, t.N));
      if (!hashesEqual(expected, fullTileHash(data[i]!))) {
        throw new SumkeepError('log_inconsistent', 'downloaded tile does not match its parent tile');
      }
    }

    return indexes.map((x, i) => hashFromTile(tiles[indexTile[i]!]!, data[indexTile[i]!]!, x));
  };
}

/**
 * Runs fn, a synchronous computation over a HashReader (treeHash, proveRecord, proveTree, ...),
 * against an asynchronous source: a first run with a reader that records the indexes and
 * answers zero hashes, one call to `read` for all of them, then a second run over the answers.
 * This works because the indexes a proof reads depend only on the tree sizes, never on hash
 * values; fn must be such a computation and must not keep the first run's results.
 * Throws `malformed_proof` when read answers with the wrong number or size of hashes,
 * `internal` when the second run asks for an index the first did not.
 */
export async function withAsyncReader<T>(
  fn: (r: HashReader) => T,
  read: (indexes: readonly number[]) => Promise<Hash[]>,
): Promise<T> {
  const wanted: number[] = [];
  const seen = new Set<number>();
  fn((indexes) =>
    indexes.map((x) => {
      if (!seen.has(x)) {
        seen.add(x);
        wanted.push(x);
      }
      return new Uint8Array(HASH_SIZE);
    }),
  );
  const hashes = wanted.length > 0 ? await read(wanted) : [];
  if (!Array.isArray(hashes) || hashes.length !== wanted.length || !hashes.every(isHash)) {
    throw new SumkeepError(
      'malformed_proof',
      'tlog: hash source returned the wrong number or size of hashes',
    );
  }
  const byIndex = new Map<number, Hash>();
  wanted.forEach((x, i) => byIndex.set(x, hashes[i]!));
  return fn((indexes) =>
    indexes.map((x) => {
      const h = byIndex.get(x);
      if (h === undefined)
        throw new SumkeepError('internal', `tlog: hash ${x} was not read in the first pass`);
      return h;
    }),
  );
}
