/**
 * Tile serving. Hash tiles are `W` stored hashes of one tree level (32 bytes each, concatenated);
 * data tiles are the record texts of `W` records, each followed by "\n". A tile is served when every
 * hash (or record) in it exists in the committed tree, so partial tiles of every tree size ever
 * signed stay servable forever. Full tiles never change and are cached in memory.
 */
import { SumkeepError } from '../core/errors.ts';
import {
  formatDataTile,
  parseTilePath,
  SUMDB_FULL_TILE,
  SUMDB_TILE_HEIGHT,
  tileIsWithinTree,
  type Tile,
} from '../core/tlog/index.ts';
import { sha256 } from '../core/sha256.ts';
import { toHex } from '../core/bytes.ts';
import type { Store } from '../store/store.ts';
import { LruCache } from '../lru.ts';
import type { ServedTile } from './api.ts';

/** The protocol's tile height, re-exported for the server's callers. */
export const TILE_HEIGHT = SUMDB_TILE_HEIGHT;
const TILE_WIDTH = SUMDB_FULL_TILE;

export class TileServer {
  private readonly store: Store;
  private readonly cache: LruCache<string, ServedTile>;

  constructor(store: Store, cacheMax = 4096) {
    this.store = store;
    this.cache = new LruCache(cacheMax);
  }

  /** Parses and checks a tile path ("tile/8/..."); throws malformed_tile (400) or not_found (404). */
  parse(path: string): Tile {
    const t = parseTilePath(path);
    if (t.H !== TILE_HEIGHT) {
      throw new SumkeepError('not_found', `this log serves tiles of height ${TILE_HEIGHT} only`);
    }
    return t;
  }

  /** The tile's bytes for a tree of `treeSize` records; not_found when the tile lies beyond it. */
  async read(path: string, tile: Tile, treeSize: number): Promise<ServedTile> {
    if (!tileIsWithinTree(tile, treeSize)) {
      throw new SumkeepError('not_found', `${path} lies beyond the tree (size ${treeSize})`);
    }
    const cached = this.cache.get(path);
    if (cached) return cached;
    const start = tile.N * TILE_WIDTH;
    let data: Uint8Array;
    if (tile.L < 0) {
      data = formatDataTile(await this.store.recordTexts(start, tile.W));
    } else {
      const hashes = await this.store.readTileHashes(tile.L * TILE_HEIGHT, start, tile.W);
      data = Buffer.concat(hashes);
    }
    const served: ServedTile = {
      data,
      full: tile.W === TILE_WIDTH,
      etag: `"${toHex(sha256(data).subarray(0, 16))}"`,
    };
    if (served.full) this.cache.set(path, served);
    return served;
  }
}
