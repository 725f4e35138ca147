/**
 * The storage contract of sumkeep: exactly what the log (src/log) uses. Reads that only audits and
 * tests need are in AuditStore. The SQLite backend (sqlite.ts) is the embedded default; every
 * backend must pass the shared conformance suite in test/store/conformance.ts; open one through
 * openStore (open.ts), which picks it from the `--db` value. Methods are async so that a networked
 * backend (PostgreSQL) can implement the same interface.
 *
 * Invariants every backend keeps:
 *  - The log only grows. Records get ids 0,1,2,... in commit order and are never replaced or removed.
 *  - `appendBatch` is atomic and durable when its promise resolves: the records, their stored hashes
 *    and the signed tree head that covers them are committed together or not at all.
 *  - (path, version) is unique.
 *  - Ids, indexes, sizes and counts passed in must be non-negative safe integers (else bad_input).
 */

/** A record of the log: the two go.sum lines of one module version. */
export interface LogRecord {
  /** Log index (record id), 0-based. */
  id: number;
  /** Module path, unescaped (e.g. "github.com/Azure/go-autorest"). */
  path: string;
  /** Module version, unescaped (e.g. "v1.2.3"). */
  version: string;
  /**
   * Record text, exact bytes: "<path> <version> h1:<zip>\n<path> <version>/go.mod h1:<mod>\n".
   * Its leaf hash is SHA-256(0x00 || text).
   */
  text: Uint8Array;
  /** Where it came from: "upstream:<proxy url>" or "ingest:<file>"; for operators, not hashed. */
  source: string;
  /** Milliseconds since the Unix epoch at which the batch holding it was committed. */
  createdAt: number;
}

/** A record that is about to be appended (its id is assigned by the sequencer). */
export type NewRecord = Omit<LogRecord, 'createdAt'>;

/** A signed tree head, stored for every tree size the server ever signed. */
export interface SignedHead {
  size: number;
  /** Root hash, 32 bytes. */
  hash: Uint8Array;
  /** The complete signed note, exact bytes as served on /latest. */
  note: Uint8Array;
  createdAt: number;
}

/** One point of Store.headGrowth: a signed head's size and commit time (ms since the epoch). */
export interface HeadPoint {
  size: number;
  createdAt: number;
}

/** Most records one recentRecords or searchRecords call returns. */
export const MAX_LIST = 1000;
/** Most points one headGrowth call samples. */
export const MAX_GROWTH_POINTS = 1000;

/** A stored hash of the Merkle tree, addressed by its stored-hash index (tlog.storedHashIndex). */
export interface StoredHash {
  index: number;
  hash: Uint8Array;
}

export interface AppendBatch {
  /** Records with ids treeSize, treeSize+1, ... in order. */
  records: NewRecord[];
  /** Every stored hash the new records add (tlog.storedHashes for each record, in index order). */
  hashes: StoredHash[];
  /** The head that covers exactly the old records plus these: head.size === old size + records.length. */
  head: SignedHead;
}

/**
 * The largest signed tree head of an independent checksum database (--check-sumdb) that sumkeep
 * verified and proved consistent with every earlier one: its own "latest", as the go command keeps
 * $GOPATH/pkg/sumdb/<name>/latest.
 */
export interface RemoteHead {
  size: number;
  /** Root hash, 32 bytes. */
  hash: Uint8Array;
  /** The complete signed note, exact bytes as that database served it. */
  note: Uint8Array;
  /** Milliseconds since the Unix epoch at which it was stored. */
  seenAt: number;
}

/** Proof that an independent checksum database forked: two heads that cannot share one log. */
export interface RemoteFork {
  /** Both signed notes and what could not be proven, as UTF-8 text (for operators). */
  proof: string;
  detectedAt: number;
}

export interface RemoteState {
  head: RemoteHead | null;
  fork: RemoteFork | null;
}

export interface Store {
  /** Number of records committed (equals the size of the latest head; 0 for an empty log). */
  treeSize(): Promise<number>;
  /** The most recently committed signed head, or null for an empty log. */
  latestHead(): Promise<SignedHead | null>;

  /** The record for path@version, or null. */
  lookup(path: string, version: string): Promise<LogRecord | null>;
  /** Texts of records [start, start+count), in order; throws not_found if any is missing. */
  recordTexts(start: number, count: number): Promise<Uint8Array[]>;

  /** Stored hashes at the given indexes, in the same order; throws not_found if any is missing. */
  readHashes(indexes: readonly number[]): Promise<Uint8Array[]>;

  /**
   * The `count` stored hashes at tree level `level` (0 = leaf hashes), positions start ..
   * start+count-1, in order; throws not_found if any is missing. This is the fast path for tiles:
   * tile-level L, number N, width W (height 8) is readTileHashes(8 * L, 256 * N, W).
   * Equivalent to readHashes of storedHashIndex(level, start + i) for each i.
   */
  readTileHashes(level: number, start: number, count: number): Promise<Uint8Array[]>;

  /**
   * Appends one batch atomically and durably (see AppendBatch). Throws `conflict` if a record's
   * (path, version) is already logged or its id is not the next one; nothing is written then.
   * The head must be larger than every earlier head; only the very first head may cover zero
   * records (size 0, so that an empty log can be signed). Records get createdAt = head.createdAt.
   */
  appendBatch(batch: AppendBatch): Promise<void>;

  /**
   * Keeps a further signed note of the existing head of `size` (the same tree signed by other note
   * keys, after a rotation). Idempotent: a note already kept is not added twice. Throws not_found
   * when no head of that size exists.
   */
  addHeadNote(size: number, note: Uint8Array, createdAt: number): Promise<void>;

  /** What is remembered of the independent checksum database `name` (--check-sumdb). */
  remoteState(name: string): Promise<RemoteState>;

  /**
   * Remembers `head` as the latest of database `name` when it is larger than the one kept (or none
   * is): a compare-and-set in one statement, so that concurrent cross-checks (several nodes) never
   * move it backwards. Returns true when it was stored. The caller proves consistency first.
   */
  saveRemoteHead(name: string, head: RemoteHead): Promise<boolean>;

  /** Keeps proof that database `name` forked; the first proof kept stays (idempotent). */
  saveRemoteFork(name: string, fork: RemoteFork): Promise<void>;

  /**
   * The `limit` most recent records (largest ids first), for the status page. limit: 0 to
   * MAX_LIST (else bad_input). One primary-key range scan from the end.
   */
  recentRecords(limit: number): Promise<LogRecord[]>;

  /**
   * At most `limit` records whose path starts with `prefix`, by path then version, compared
   * bytewise (UTF-8 byte order: SQLite BINARY, PostgreSQL COLLATE "C"), never by locale. `prefix`
   * is 1 to 512 printable ASCII characters other than space (U+0021..U+007E; every Go module path
   * is made of them), else bad_input. A range query, never LIKE: the records are those with
   * prefix <= path < prefixEnd(prefix), one (path, version) index range, so no character of the
   * prefix is a wildcard and the work is bounded by `limit`. limit: 0 to MAX_LIST.
   */
  searchRecords(prefix: string, limit: number): Promise<LogRecord[]>;

  /**
   * The tree size over time, for the status page's chart: for `points` instants t_i evenly spaced
   * from the first head's createdAt (lo) to the latest's (hi), t_i = lo + floor((hi - lo) * i /
   * (points - 1)) for i = 0 .. points-1, the head with the largest createdAt <= t_i (ties: the
   * larger size); an entry equal to the one before it is dropped. Oldest first, at most `points`
   * entries, empty for an empty log. points: 2 to MAX_GROWTH_POINTS (else bad_input). Each
   * instant is one index seek (heads_by_time), whatever the number of heads.
   */
  headGrowth(points: number): Promise<HeadPoint[]>;

  /** Throws unless the database can be written (readiness probe). */
  checkWritable(): Promise<void>;

  close(): Promise<void>;
}

/**
 * Reads beyond what the log needs, for audits (`sumkeep audit`, `store copy`) and tests. Every
 * backend implements them; the server never calls them.
 */
export interface AuditStore extends Store {
  /** Every signed head, oldest first. */
  heads(): Promise<SignedHead[]>;
  /** Record by id, or null past the end. */
  recordById(id: number): Promise<LogRecord | null>;
  /** The further notes kept for the head of `size` (Store.addHeadNote), oldest first. */
  headNotes(size: number): Promise<Uint8Array[]>;

  /**
   * The records with ids in [start, start+count) that exist, by id. Unlike recordTexts this never
   * throws for a gap: an audit reads a database that may have been altered behind the store.
   */
  recordsRange(start: number, count: number): Promise<LogRecord[]>;
  /** At most `limit` heads larger than `size`, smallest first (paging through every head). */
  headsAfter(size: number, limit: number): Promise<SignedHead[]>;
  /** Module versions that more than one record claims (at most `limit`), with their record ids. */
  duplicateVersions(limit: number): Promise<{ path: string; version: string; ids: number[] }[]>;
}
