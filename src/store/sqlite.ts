/**
 * The embedded SQLite backend of the Store contract (better-sqlite3 12.x).
 *
 * Connection settings: WAL journal (readers never block the single writer), `synchronous=FULL`
 * (a commit fsyncs the WAL before it returns, so appendBatch is durable when it resolves),
 * `foreign_keys=ON`, `busy_timeout` (another process holding the write lock is waited for, then
 * SQLITE_BUSY surfaces as store_busy). The schema comes from the numbered files in
 * migrations/sqlite/ (see migrate.ts); its triggers refuse UPDATE and DELETE of records, hashes and heads, so even a
 * bug in this file cannot rewrite the log.
 *
 * Stored hashes are kept as (level, n) rather than tlog's dense stored-hash index, so that a tile
 * is one primary-key range scan (readTileHashes). better-sqlite3 is synchronous: every method
 * runs to completion before its promise settles, and within one process the calls are serialized.
 *
 * Errors: anything better-sqlite3 throws becomes SumkeepError('store_error') (SQLITE_BUSY and
 * SQLITE_LOCKED: 'store_busy', worth retrying) with the SQLite error as `cause` and a message naming the operation and the SQLite result code only, never SQL text.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SumkeepError } from '../core/errors.ts';
import { splitStoredHashIndex } from '../core/tlog/index.ts';
import {
  badInput,
  checkBatchShape,
  checkExtends,
  checkIndex,
  checkGrowthPoints,
  checkListLimit,
  checkRange,
  checkRemoteFork,
  checkRemoteHead,
  checkRemoteName,
  dedupePoints,
  growthInstants,
  HASH_SIZE,
  isIndex,
  prefixRange,
} from './checks.ts';
import { checkSchema, loadMigrations, migrate, MIGRATIONS_DIR } from './migrate.ts';
import type {
  AppendBatch,
  AuditStore,
  HeadPoint,
  LogRecord,
  RemoteFork,
  RemoteHead,
  RemoteState,
  SignedHead,
} from './store.ts';

export interface SqliteOptions {
  /** Open an existing database for reading only (audits, tools); it is never migrated then. */
  readonly?: boolean;
  /**
   * Check at open that the latest head, the records and the leaf hashes agree on the size (default
   * true). `sumkeep audit` opens without it, to report what disagrees rather than stop.
   */
  check?: boolean;
  /**
   * For tools that read the whole log once (audit, publish, copies): no memory map and a small
   * page cache, so that memory does not grow with the database (mapped pages count as resident).
   */
  scan?: boolean;
  /** How long to wait for another connection's lock before failing with SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** The readiness probe's wait for a lock held by another connection (see checkWritable). */
const PROBE_BUSY_TIMEOUT_MS = 100;

/**
 * Opens (creating it and its parent directories, mode 0700, if needed) the SQLite database at
 * `file`, applies pending migrations and checks that records, hashes and the latest head agree.
 * `':memory:'` gives a private in-memory database (tests). Throws `schema_too_new` for a database
 * written by a newer sumkeep, `log_inconsistent` when its tables disagree, `store_error` otherwise.
 */
export async function openSqliteStore(file: string, opts: SqliteOptions = {}): Promise<AuditStore> {
  const db = openSqliteDatabase(file, opts);
  try {
    const store = new SqliteStore(db, opts.readonly === true);
    if (opts.check !== false) store.checkConsistent();
    return store;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * The raw, configured and migrated connection under openSqliteStore, for tests and offline tools
 * that inspect the database. Writing through it bypasses the store's checks (not its triggers).
 */
export function openSqliteDatabase(file: string, opts: SqliteOptions = {}): Database.Database {
  if (file === '') throw new SumkeepError('config', 'database file name is empty');
  const readonly = opts.readonly === true;
  const memory = file === ':memory:';
  if (readonly && memory)
    throw new SumkeepError('config', 'an in-memory database cannot be opened read-only');
  const busyTimeout = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0) {
    throw new SumkeepError('config', `busy timeout must be a non-negative integer (ms), got ${busyTimeout}`);
  }
  const migrations = loadMigrations(MIGRATIONS_DIR);

  if (!memory && !readonly) {
    try {
      mkdirSync(dirname(resolve(file)), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new SumkeepError('store_error', `cannot create the directory for ${file}`, { cause: e });
    }
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly, timeout: busyTimeout });
  } catch (e) {
    throw storeError(`${file}: open`, e);
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeout}`);
    if (!readonly && !memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new SumkeepError(
          'store_error',
          `${file}: the database cannot use WAL journaling (got ${String(mode)})`,
        );
      }
    }
    db.pragma('synchronous = FULL');
    // 128 MiB page cache (the default is 2 MiB) and reads through a memory map: at 1,000,000 records
    // the (path, version) index alone is ~50 MiB, and a lookup that misses the cache costs 2x.
    // The map is virtual memory backed by the file: the OS pages it in and out as it needs.
    // A scan (audit, publish) reads every page once: an 8 MiB cache and no map keep its resident
    // memory flat whatever the size of the log (mapped pages count as resident).
    db.pragma(opts.scan === true ? 'cache_size = -8192' : 'cache_size = -131072');
    db.pragma(opts.scan === true ? 'mmap_size = 0' : 'mmap_size = 1073741824');
    db.pragma('foreign_keys = ON');
    if (readonly) checkSchema(db, file, migrations);
    else migrate(db, file, migrations);
    return db;
  } catch (e) {
    db.close();
    throw storeError(`${file}: open`, e);
  }
}

function storeError(what: string, e: unknown): SumkeepError {
  if (e instanceof SumkeepError) return e;
  const code = e instanceof Database.SqliteError ? ` (${e.code})` : '';
  // SQLITE_BUSY / SQLITE_LOCKED (and their extended codes): another writer (a worker, an ingest)
  // held the database past busy_timeout. Nothing was written; the caller may try again.
  const busy = e instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(e.code);
  return new SumkeepError(busy ? 'store_busy' : 'store_error', `store: ${what} failed${code}`, { cause: e });
}

/** A zero-copy Uint8Array view of a Buffer that better-sqlite3 returned for a BLOB. */
function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

interface RecordRow {
  id: number;
  path: string;
  version: string;
  text: Buffer;
  source: string;
  created_at: number;
}

interface HeadRow {
  size: number;
  hash: Buffer;
  note: Buffer;
  created_at: number;
}

function toRecord(r: RecordRow): LogRecord {
  return {
    id: r.id,
    path: r.path,
    version: r.version,
    text: bytes(r.text),
    source: r.source,
    createdAt: r.created_at,
  };
}

function toHead(r: HeadRow): SignedHead {
  return { size: r.size, hash: bytes(r.hash), note: bytes(r.note), createdAt: r.created_at };
}

class SqliteStore implements AuditStore {
  private readonly db: Database.Database;
  private readonly readonly: boolean;
  private closed = false;

  private readonly latestHeadStmt: Database.Statement<[], HeadRow>;
  private readonly headsStmt: Database.Statement<[], HeadRow>;
  private readonly lookupStmt: Database.Statement<[string, string], RecordRow>;
  private readonly byIdStmt: Database.Statement<[number], RecordRow>;
  private readonly textsStmt: Database.Statement<[number, number], Buffer>;
  private readonly hashStmt: Database.Statement<[number, number], Buffer>;
  private readonly tileStmt: Database.Statement<[number, number, number], Buffer | null>;
  private readonly maxIdStmt: Database.Statement<[], number | null>;
  private readonly maxLeafStmt: Database.Statement<[], number | null>;
  private readonly insertRecord: Database.Statement<[number, string, string, Uint8Array, string, number]>;
  private readonly insertHash: Database.Statement<[number, number, Uint8Array]>;
  private readonly insertHead: Database.Statement<[number, Uint8Array, Uint8Array, number]>;
  private readonly probeStmt: Database.Statement<[number]>;
  private readonly headSizeStmt: Database.Statement<[number], number>;
  private readonly insertHeadNote: Database.Statement<[number, Uint8Array, number]>;
  private readonly remoteHeadStmt: Database.Statement<
    [string],
    { size: number; hash: Buffer; note: Buffer; seen_at: number }
  >;
  private readonly remoteForkStmt: Database.Statement<[string], { proof: string; detected_at: number }>;
  private readonly saveRemoteHeadStmt: Database.Statement<[string, number, Uint8Array, Uint8Array, number]>;
  private readonly saveRemoteForkStmt: Database.Statement<[string, string, number]>;
  private readonly headNotesStmt: Database.Statement<[number], Buffer>;
  private readonly rangeStmt: Database.Statement<[number, number], RecordRow>;
  private readonly headsAfterStmt: Database.Statement<[number, number], HeadRow>;
  private readonly duplicatesStmt: Database.Statement<
    [number],
    { path: string; version: string; ids: string }
  >;

  private readonly recentStmt: Database.Statement<[number], RecordRow>;
  private readonly searchStmt: Database.Statement<[string, string, number], RecordRow>;
  private readonly timeSpanStmt: Database.Statement<[], { lo: number | null; hi: number | null }>;
  private readonly headAtStmt: Database.Statement<[number], HeadPoint>;
  private readonly growthTx: Database.Transaction<(points: number) => HeadPoint[]>;

  private readonly readHashesTx: Database.Transaction<(indexes: readonly number[]) => Uint8Array[]>;
  private readonly appendTx: Database.Transaction<(batch: AppendBatch) => void>;
  private readonly consistencyTx: Database.Transaction<() => void>;

  constructor(db: Database.Database, readonly: boolean) {
    this.db = db;
    this.readonly = readonly;
    const cols = 'id, path, version, text, source, created_at';
    this.latestHeadStmt = db.prepare(
      'SELECT size, hash, note, created_at FROM heads ORDER BY size DESC LIMIT 1',
    );
    this.headsStmt = db.prepare('SELECT size, hash, note, created_at FROM heads ORDER BY size');
    this.lookupStmt = db.prepare(`SELECT ${cols} FROM records WHERE path = ? AND version = ?`);
    this.byIdStmt = db.prepare(`SELECT ${cols} FROM records WHERE id = ?`);
    this.textsStmt = db
      .prepare<[number, number], Buffer>('SELECT text FROM records WHERE id >= ? AND id < ? ORDER BY id')
      .pluck();
    this.hashStmt = db
      .prepare<[number, number], Buffer>('SELECT hash FROM hashes WHERE level = ? AND n = ?')
      .pluck();
    // One row holding the range's hashes concatenated in order: better-sqlite3 spends about 1 us
    // per returned BLOB, so this is ~3x faster for a full tile than 256 rows. (group_concat copies
    // BLOB bytes as they are; the CAST takes them back without any text conversion.)
    this.tileStmt = db
      .prepare<[number, number, number], Buffer | null>(
        "SELECT CAST(group_concat(hash, x'' ORDER BY n) AS BLOB) FROM hashes WHERE level = ? AND n >= ? AND n < ?",
      )
      .pluck();
    this.maxIdStmt = db.prepare<[], number | null>('SELECT max(id) FROM records').pluck();
    this.maxLeafStmt = db.prepare<[], number | null>('SELECT max(n) FROM hashes WHERE level = 0').pluck();

    // Prepared on read-only connections too (SQLite refuses them only when run); the methods that
    // use them refuse a read-only store first.
    this.insertRecord = db.prepare(
      'INSERT INTO records (id, path, version, text, source, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertHash = db.prepare('INSERT INTO hashes (level, n, hash) VALUES (?, ?, ?)');
    this.insertHead = db.prepare('INSERT INTO heads (size, hash, note, created_at) VALUES (?, ?, ?, ?)');
    this.headSizeStmt = db.prepare<[number], number>('SELECT size FROM heads WHERE size = ?').pluck();
    // OR IGNORE: the primary key (size, note) makes adding a kept note again a no-op.
    this.insertHeadNote = db.prepare(
      'INSERT OR IGNORE INTO head_notes (size, note, created_at) VALUES (?, ?, ?)',
    );
    this.remoteHeadStmt = db.prepare('SELECT size, hash, note, seen_at FROM remote_heads WHERE name = ?');
    this.remoteForkStmt = db.prepare('SELECT proof, detected_at FROM remote_forks WHERE name = ?');
    // Compare-and-set in one statement: a row is replaced only by a larger tree.
    this.saveRemoteHeadStmt = db.prepare(
      `INSERT INTO remote_heads (name, size, hash, note, seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET size = excluded.size, hash = excluded.hash,
         note = excluded.note, seen_at = excluded.seen_at
       WHERE excluded.size > remote_heads.size`,
    );
    this.saveRemoteForkStmt = db.prepare(
      'INSERT INTO remote_forks (name, proof, detected_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING',
    );
    this.headNotesStmt = db
      .prepare<[number], Buffer>('SELECT note FROM head_notes WHERE size = ? ORDER BY created_at, note')
      .pluck();
    this.rangeStmt = db.prepare(`SELECT ${cols} FROM records WHERE id >= ? AND id < ? ORDER BY id`);
    this.headsAfterStmt = db.prepare(
      'SELECT size, hash, note, created_at FROM heads WHERE size > ? ORDER BY size LIMIT ?',
    );
    this.duplicatesStmt = db.prepare(
      'SELECT path, version, group_concat(id) AS ids FROM records GROUP BY path, version HAVING count(*) > 1 LIMIT ?',
    );
    this.probeStmt = db.prepare(
      'INSERT INTO write_probe (id, checked_at) VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
    );

    this.recentStmt = db.prepare(`SELECT ${cols} FROM records ORDER BY id DESC LIMIT ?`);
    // A range over the (path, version) UNIQUE index in BINARY (byte) order; see prefixRange.
    this.searchStmt = db.prepare(
      `SELECT ${cols} FROM records WHERE path >= ? AND path < ? ORDER BY path, version LIMIT ?`,
    );
    this.timeSpanStmt = db.prepare(
      // Two subqueries: SQLite answers a lone min() or max() with one index seek, both together by a scan.
      'SELECT (SELECT min(created_at) FROM heads) AS lo, (SELECT max(created_at) FROM heads) AS hi',
    );
    this.headAtStmt = db.prepare(
      'SELECT size, created_at AS createdAt FROM heads WHERE created_at <= ? ORDER BY created_at DESC, size DESC LIMIT 1',
    );
    // One snapshot for the span and every instant.
    this.growthTx = db.transaction((points: number) => {
      const span = this.timeSpanStmt.get();
      if (span?.lo == null || span.hi == null) return [];
      const out: HeadPoint[] = [];
      for (const t of growthInstants(span.lo, span.hi, points)) {
        const p = this.headAtStmt.get(t);
        if (p !== undefined) out.push({ size: p.size, createdAt: p.createdAt });
      }
      return dedupePoints(out);
    });

    // One read transaction gives every hash of the answer from the same snapshot. For 256 random
    // indexes in a 100,000-record log this loop of a prepared point lookup measured 0.8-2.4 ms
    // against 1.1-3.3 ms for one json_each query over the (level, n) pairs, so the loop it is.
    this.readHashesTx = db.transaction((indexes: readonly number[]) => {
      const out = new Array<Uint8Array>(indexes.length);
      for (let i = 0; i < indexes.length; i++) {
        const index = indexes[i]!;
        const [level, n] = splitStoredHashIndex(index);
        const h = this.hashStmt.get(level, n);
        if (h === undefined)
          throw new SumkeepError('not_found', `store: stored hash ${index} is not in the log`);
        out[i] = bytes(h);
      }
      return out;
    });

    this.appendTx = db.transaction((batch: AppendBatch) => this.appendLocked(batch));

    this.consistencyTx = db.transaction(() => {
      const size = this.latestHeadStmt.get()?.size ?? 0;
      const records = (this.maxIdStmt.get() ?? -1) + 1;
      const leaves = (this.maxLeafStmt.get() ?? -1) + 1;
      if (records !== size || leaves !== size) {
        throw new SumkeepError(
          'log_inconsistent',
          `store: ${db.name}: latest signed head has size ${size} but the database holds ${records} records and ${leaves} leaf hashes`,
        );
      }
    });
  }

  /** Throws log_inconsistent unless the latest head, the records and the leaf hashes agree on the size. */
  checkConsistent(): void {
    this.run('consistency check', () => this.consistencyTx.deferred());
  }

  private run<T>(what: string, fn: () => T): T {
    if (this.closed) throw new SumkeepError('store_error', 'store: the store is closed');
    try {
      return fn();
    } catch (e) {
      throw storeError(what, e);
    }
  }

  async treeSize(): Promise<number> {
    return this.run('read tree size', () => this.latestHeadStmt.get()?.size ?? 0);
  }

  async latestHead(): Promise<SignedHead | null> {
    return this.run('read latest head', () => {
      const row = this.latestHeadStmt.get();
      return row === undefined ? null : toHead(row);
    });
  }

  async heads(): Promise<SignedHead[]> {
    return this.run('read heads', () => this.headsStmt.all().map(toHead));
  }

  async lookup(path: string, version: string): Promise<LogRecord | null> {
    if (typeof path !== 'string' || typeof version !== 'string')
      throw badInput('path and version must be strings');
    return this.run('lookup', () => {
      const row = this.lookupStmt.get(path, version);
      return row === undefined ? null : toRecord(row);
    });
  }

  async recordById(id: number): Promise<LogRecord | null> {
    checkIndex('record id', id);
    return this.run('read record', () => {
      const row = this.byIdStmt.get(id);
      return row === undefined ? null : toRecord(row);
    });
  }

  async recordTexts(start: number, count: number): Promise<Uint8Array[]> {
    checkRange('record', start, count);
    const rows = this.run('read records', () => this.textsStmt.all(start, start + count));
    if (rows.length !== count) {
      throw new SumkeepError(
        'not_found',
        `store: records ${start}..${start + count - 1} are not all in the log`,
      );
    }
    return rows.map(bytes);
  }

  async readHashes(indexes: readonly number[]): Promise<Uint8Array[]> {
    if (!Array.isArray(indexes)) throw badInput('indexes must be an array');
    for (const i of indexes) checkIndex('stored hash index', i);
    if (indexes.length === 0) return [];
    return this.run('read hashes', () => this.readHashesTx.deferred(indexes));
  }

  async readTileHashes(level: number, start: number, count: number): Promise<Uint8Array[]> {
    checkIndex('level', level);
    checkRange('hash', start, count);
    if (count === 0) return [];
    const all = this.run('read tile hashes', () => this.tileStmt.get(level, start, start + count));
    // Every stored hash is exactly HASH_SIZE bytes (a CHECK constraint), so a short answer means
    // some are missing.
    if (all === null || all === undefined || all.length !== count * HASH_SIZE) {
      throw new SumkeepError(
        'not_found',
        `store: hashes ${start}..${start + count - 1} at level ${level} are not all in the log`,
      );
    }
    const out = new Array<Uint8Array>(count);
    for (let i = 0; i < count; i++)
      out[i] = new Uint8Array(all.buffer, all.byteOffset + i * HASH_SIZE, HASH_SIZE);
    return out;
  }

  async appendBatch(batch: AppendBatch): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkBatchShape(batch);
    // IMMEDIATE takes the write lock before the first read, so the size checked below is the size
    // the inserts extend, even with another process writing to the same file.
    this.run('append', () => this.appendTx.immediate(batch));
  }

  /** The body of appendBatch, inside its write transaction: any throw rolls everything back. */
  private appendLocked(batch: AppendBatch): void {
    const { records, hashes, head } = batch;
    checkExtends(batch, this.latestHeadStmt.get()?.size ?? null);

    for (const r of records) {
      try {
        this.insertRecord.run(r.id, r.path, r.version, r.text, r.source, head.createdAt);
      } catch (e) {
        // The trigger or the UNIQUE constraint refused it; name the module version when that is why.
        if (e instanceof Database.SqliteError && e.code.startsWith('SQLITE_CONSTRAINT')) {
          const existing = this.lookupStmt.get(r.path, r.version);
          if (existing !== undefined) {
            throw new SumkeepError('conflict', `store: ${r.path}@${r.version} is already logged`, {
              cause: e,
            });
          }
        }
        throw e;
      }
    }
    for (const h of hashes) {
      const [level, n] = splitStoredHashIndex(h.index);
      this.insertHash.run(level, n, h.hash);
    }
    this.insertHead.run(head.size, head.hash, head.note, head.createdAt);
  }

  async addHeadNote(size: number, note: Uint8Array, createdAt: number): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkIndex('head size', size);
    if (!(note instanceof Uint8Array) || note.length === 0) throw badInput('head note must be bytes');
    if (!Number.isSafeInteger(createdAt)) throw badInput('head note createdAt is not an integer');
    this.run('add head note', () => {
      if (this.headSizeStmt.get(size) === undefined) {
        throw new SumkeepError('not_found', `store: no signed head of size ${size}`);
      }
      this.insertHeadNote.run(size, note, createdAt);
    });
  }

  async headNotes(size: number): Promise<Uint8Array[]> {
    checkIndex('head size', size);
    return this.run('read head notes', () => this.headNotesStmt.all(size).map((b) => new Uint8Array(b)));
  }

  async recordsRange(start: number, count: number): Promise<LogRecord[]> {
    checkIndex('start', start);
    checkIndex('count', count);
    if (!isIndex(start + count)) throw badInput('record range out of bounds');
    return this.run('read records', () => this.rangeStmt.all(start, start + count).map(toRecord));
  }

  async headsAfter(size: number, limit: number): Promise<SignedHead[]> {
    if (!Number.isSafeInteger(size) || size < -1)
      throw badInput(`size must be an integer >= -1, got ${String(size)}`);
    checkIndex('limit', limit);
    return this.run('read heads', () => this.headsAfterStmt.all(size, limit).map(toHead));
  }

  async duplicateVersions(limit: number): Promise<{ path: string; version: string; ids: number[] }[]> {
    checkIndex('limit', limit);
    return this.run('find duplicate versions', () =>
      this.duplicatesStmt.all(limit).map((r) => ({
        path: r.path,
        version: r.version,
        ids: r.ids
          .split(',')
          .map(Number)
          .sort((a, b) => a - b),
      })),
    );
  }

  async remoteState(name: string): Promise<RemoteState> {
    checkRemoteName(name);
    return this.run('read remote head', () => {
      const h = this.remoteHeadStmt.get(name);
      const f = this.remoteForkStmt.get(name);
      return {
        head:
          h === undefined
            ? null
            : { size: h.size, hash: bytes(h.hash), note: bytes(h.note), seenAt: h.seen_at },
        fork: f === undefined ? null : { proof: f.proof, detectedAt: f.detected_at },
      };
    });
  }

  async saveRemoteHead(name: string, head: RemoteHead): Promise<boolean> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkRemoteName(name);
    checkRemoteHead(head);
    return this.run(
      'save remote head',
      () => this.saveRemoteHeadStmt.run(name, head.size, head.hash, head.note, head.seenAt).changes > 0,
    );
  }

  async saveRemoteFork(name: string, fork: RemoteFork): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkRemoteName(name);
    checkRemoteFork(fork);
    this.run('save remote fork', () => this.saveRemoteForkStmt.run(name, fork.proof, fork.detectedAt));
  }

  async recentRecords(limit: number): Promise<LogRecord[]> {
    checkListLimit(limit);
    return this.run('read recent records', () => this.recentStmt.all(limit).map(toRecord));
  }

  async searchRecords(prefix: string, limit: number): Promise<LogRecord[]> {
    const [lo, hi] = prefixRange(prefix);
    checkListLimit(limit);
    return this.run('search records', () => this.searchStmt.all(lo, hi, limit).map(toRecord));
  }

  async headGrowth(points: number): Promise<HeadPoint[]> {
    checkGrowthPoints(points);
    return this.run('read head growth', () => this.growthTx.deferred(points));
  }

  async checkWritable(): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    // A committed write: BEGIN IMMEDIATE alone succeeds even on a read-only file, and only a
    // commit (with its fsync) shows that the file, its directory and the disk accept writes.
    // better-sqlite3 waits for a lock synchronously, holding the event loop: the probe waits
    // PROBE_BUSY_TIMEOUT_MS at most (a database locked that long is not ready), then the
    // connection's own busy timeout is back for the writes that must wait.
    this.run('write check', () => {
      const saved = Number(this.db.pragma('busy_timeout', { simple: true }));
      this.db.pragma(`busy_timeout = ${PROBE_BUSY_TIMEOUT_MS}`);
      try {
        this.probeStmt.run(Date.now());
      } finally {
        this.db.pragma(`busy_timeout = ${saved}`);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch (e) {
      throw storeError('close', e);
    }
  }
}
