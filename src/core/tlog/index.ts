/**
 * tlog: the Merkle log of a go.sum database (RFC 6962 hashing, stored-hash indexes, proofs,
 * tiles and their paths, tree notes and record framing). Pure: all storage is reached through
 * HashReader callbacks.
 */
export { HASH_SIZE, emptyTreeHash, hashesEqual, isHash, nodeHash, recordHash } from './hash.ts';
export type { Hash, HashReader } from './hash.ts';
export {
  MAX_LEVEL,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  storedHashes,
  storedHashesForRecordHash,
} from './stored.ts';
export { checkRecord, checkTree, proveRecord, proveTree, treeHash } from './tree.ts';
export { MerkleFrontier } from './frontier.ts';
export {
  MAX_TILE_HEIGHT,
  SUMDB_FULL_TILE,
  SUMDB_TILE_HEIGHT,
  MAX_TILE_LEVEL,
  MIN_TILE_HEIGHT,
  hashFromTile,
  isValidTile,
  newTiles,
  readTileData,
  tileForIndex,
  tileIsWithinTree,
  tileParent,
} from './tile.ts';
export type { Tile } from './tile.ts';
export { parseTilePath, tilePath } from './tilepath.ts';
export { formatTree, parseTree } from './note.ts';
export type { Tree } from './note.ts';
export {
  DEFAULT_MAX_DATA_TILE_RECORDS,
  MAX_RECORD_TEXT,
  checkRecordText,
  formatDataTile,
  formatRecord,
  parseDataTile,
  parseRecord,
} from './record.ts';
export { tileHashReader, withAsyncReader } from './reader.ts';
