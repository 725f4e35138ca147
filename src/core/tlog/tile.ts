/**
 * Tiles: how the stored hashes are cut into fixed-size, immutable files for serving.
 *
 * A tile of height H at level L, number N, width W holds W consecutive hashes of tree level
 * H*L, those with indexes N*2^H .. N*2^H+W-1, as W*32 raw bytes. It stands for the subtree of
 * height H above them: the hashes of levels H*L+1 .. H*L+H-1 are recomputed from its bytes.
 * W = 2^H is a full tile; a smaller W is a partial tile, served while the tree has only that
 * many hashes at that level. L = -1 is a data tile: the record texts of records N*2^H ..
 * N*2^H+W-1 instead of hashes (see formatDataTile).
 */
import { SumkeepError } from '../errors.ts';
import { HASH_SIZE, nodeHash, readHashesChecked, type Hash, type HashReader } from './hash.ts';
import { isIndex, pow2, shr } from './int.ts';
import { splitStoredHashIndex, storedHashIndex } from './stored.ts';

export interface Tile {
  /** Height, 1..30 (sumkeep serves 8). */
  H: number;
  /** Level in the tiling, 0..63; -1 for a data tile. */
  L: number;
  /** Number of the tile within its level, 0..2^53-1. */
  N: number;
  /** Width: number of hashes (or records), 1..2^H; 2^H is a full tile. */
  W: number;
}

/** The tile height of the checksum-database protocol (golang.org/x/mod/sumdb: tiles of 2^8 hashes). */
export const SUMDB_TILE_HEIGHT = 8;
/** Hashes in a full tile at SUMDB_TILE_HEIGHT. */
export const SUMDB_FULL_TILE = 1 << SUMDB_TILE_HEIGHT;
export const MIN_TILE_HEIGHT = 1;
export const MAX_TILE_HEIGHT = 30;
/** Highest tile level accepted (as Go's Tile documents); only levels with H*L < 53 can hold hashes. */
export const MAX_TILE_LEVEL = 63;

/** True when H is an integer in 1..30. */
export function isValidTileHeight(h: unknown): h is number {
  return typeof h === 'number' && Number.isInteger(h) && h >= MIN_TILE_HEIGHT && h <= MAX_TILE_HEIGHT;
}

/** True when every field of t is in range (see Tile). */
export function isValidTile(t: Tile): boolean {
  return (
    typeof t === 'object' &&
    t !== null &&
    isValidTileHeight(t.H) &&
    Number.isInteger(t.L) &&
    t.L >= -1 &&
    t.L <= MAX_TILE_LEVEL &&
    isIndex(t.N) &&
    Number.isInteger(t.W) &&
    t.W >= 1 &&
    t.W <= pow2(t.H)
  );
}

/** Throws `malformed_tile` unless t is a valid tile (a hash tile when `hashTile`). */
export function assertTile(t: Tile, hashTile: boolean): void {
  if (!isValidTile(t) || (hashTile && t.L < 0)) {
    throw new SumkeepError(
      'malformed_tile',
      `tlog: invalid ${hashTile ? 'hash ' : ''}tile ${describeTile(t)}`,
    );
  }
}

/** A short, safe rendering of a possibly invalid tile for error messages. */
export function describeTile(t: Tile): string {
  if (typeof t !== 'object' || t === null) return '(not a tile)';
  return `{H:${String(t.H)} L:${String(t.L)} N:${String(t.N)} W:${String(t.W)}}`.slice(0, 120);
}

/** A string key identifying t exactly, for maps. */
export function tileKey(t: Tile): string {
  return `${t.H}/${t.L}/${t.N}/${t.W}`;
}

interface TileSlot {
  tile: Tile;
  /** Byte range of the tile data whose subtree hash is the hash at the index. */
  start: number;
  end: number;
}

function locate(h: number, index: number): TileSlot {
  const [level, n] = splitStoredHashIndex(index);
  const L = Math.floor(level / h);
  const sub = level - L * h; // level inside the tile, 0..h-1
  // The hash (level, n) covers the 2^sub tile entries starting at n*2^sub in its level-(L*h) row.
  const first = n * pow2(sub);
  const N = shr(first, h);
  const inTile = first - N * pow2(h);
  const span = pow2(sub);
  return {
    tile: { H: h, L, N, W: inTile + span },
    start: inTile * HASH_SIZE,
    end: (inTile + span) * HASH_SIZE,
  };
}

/**
 * The tile of height h and least width that holds the hash at stored-hash index `index`
 * (possibly as the root of some of its entries). Throws `bad_input` on a bad h or index.
 */
export function tileForIndex(h: number, index: number): Tile {
  if (!isValidTileHeight(h)) throw new SumkeepError('bad_input', `tlog: invalid tile height ${String(h)}`);
  return locate(h, index).tile;
}

/** Subtree hash of the 2^k hashes in data (a power-of-two multiple of 32 bytes). */
function tileSubtreeHash(data: Uint8Array): Hash {
  if (data.length === HASH_SIZE) return data.slice();
  const half = data.length / 2;
  return nodeHash(tileSubtreeHash(data.subarray(0, half)), tileSubtreeHash(data.subarray(half)));
}

/** Hash of a full tile's subtree, as its parent tile stores it. */
export function fullTileHash(data: Uint8Array): Hash {
  return tileSubtreeHash(data);
}

/**
 * The hash at stored-hash index `index`, taken or recomputed from tile t's data, where t is
 * tileForIndex(t.H, index) or a wider tile of the same place. Throws `malformed_tile` for an
 * invalid tile or data shorter than W*32 bytes, `bad_input` when the index is not in t.
 */
export function hashFromTile(t: Tile, data: Uint8Array, index: number): Hash {
  assertTile(t, true);
  if (!(data instanceof Uint8Array) || data.length < t.W * HASH_SIZE) {
    throw new SumkeepError('malformed_tile', `tlog: tile data too short for ${describeTile(t)}`);
  }
  const slot = locate(t.H, index);
  if (slot.tile.L !== t.L || slot.tile.N !== t.N || slot.tile.W > t.W) {
    throw new SumkeepError('bad_input', `tlog: index ${index} is not in tile ${describeTile(t)}`);
  }
  return tileSubtreeHash(data.subarray(slot.start, slot.end));
}

/** The tile with no fields set, which tileParent returns when there is no parent. */
const NO_TILE: Tile = Object.freeze({ H: 0, L: 0, N: 0, W: 0 });

/**
 * The k'th ancestor of hash tile t (k = 0: t itself) in the tiling of a tree of size n, widened
 * to full or to as many hashes as the tree has at that level. Returns {H:0, L:0, N:0, W:0}
 * when the tree has no hash at that place. Throws `malformed_tile`/`bad_input` on bad arguments.
 */
export function tileParent(t: Tile, k: number, n: number): Tile {
  assertTile(t, true);
  if (!Number.isInteger(k) || k < 0 || !isIndex(n)) {
    throw new SumkeepError('bad_input', `tlog: invalid tileParent(${String(k)}, ${String(n)})`);
  }
  const H = t.H;
  const L = t.L + k;
  const N = shr(t.N, k * H);
  const first = N * pow2(H);
  const available = shr(n, L * H); // hashes the tree has at level L*H
  if (first >= available) return { ...NO_TILE };
  return { H, L, N, W: Math.min(pow2(H), available - first) };
}

/**
 * The tiles of height h to publish when the tree grows from oldTreeSize to newTreeSize records:
 * every hash tile that is new or wider, full tiles and each partial width in between, level by
 * level. (Data tiles have the same coordinates as the level-0 ones.) Throws `bad_input` unless
 * 0 <= oldTreeSize <= newTreeSize.
 */
export function newTiles(h: number, oldTreeSize: number, newTreeSize: number): Tile[] {
  if (!isValidTileHeight(h)) throw new SumkeepError('bad_input', `tlog: invalid tile height ${String(h)}`);
  if (!isIndex(oldTreeSize) || !isIndex(newTreeSize) || oldTreeSize > newTreeSize) {
    throw new SumkeepError(
      'bad_input',
      `tlog: invalid tree sizes ${String(oldTreeSize)} -> ${String(newTreeSize)}`,
    );
  }
  const full = pow2(h);
  const tiles: Tile[] = [];
  for (let L = 0; shr(newTreeSize, h * L) > 0; L++) {
    const oldCount = shr(oldTreeSize, h * L);
    const newCount = shr(newTreeSize, h * L);
    const lastN = shr(newCount, h);
    for (let N = shr(oldCount, h); N < lastN; N++) tiles.push({ H: h, L, N, W: full });
    const lastFirst = lastN * full;
    const maxW = newCount - lastFirst;
    const minW = oldCount > lastFirst ? oldCount - lastFirst : 1;
    for (let W = minW; W <= maxW; W++) tiles.push({ H: h, L, N: lastN, W });
  }
  return tiles;
}

/**
 * Tile t's bytes: its W hashes, 32 bytes each, read through r. Throws `malformed_tile` for an
 * invalid or data tile; whatever r throws passes through.
 */
export function readTileData(t: Tile, r: HashReader): Uint8Array {
  assertTile(t, true);
  const first = t.N * pow2(t.H);
  const indexes = new Array<number>(t.W);
  for (let i = 0; i < t.W; i++) indexes[i] = storedHashIndex(t.H * t.L, first + i);
  const hashes = readHashesChecked(r, indexes);
  const out = new Uint8Array(t.W * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

/**
 * True when a tree of treeSize records holds everything tile t lists, so that the tile can be
 * served for it: a data tile needs records N*2^H .. N*2^H+W-1, a hash tile of level L needs the
 * level-(H*L) hashes N*2^H .. N*2^H+W-1, and the tree has floor(treeSize / 2^(H*L)) of those.
 * False for an invalid tile or size.
 */
export function tileIsWithinTree(t: Tile, treeSize: number): boolean {
  if (!isValidTile(t) || !isIndex(treeSize)) return false;
  const end = t.N * pow2(t.H) + t.W;
  const available = t.L === -1 ? treeSize : shr(treeSize, t.H * t.L);
  return end <= available;
}
