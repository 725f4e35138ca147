/**
 * The PostgreSQL backend of the Store contract (node-postgres, `pg` 8.x), for several sumkeep nodes on one
 * database. Same invariants as the SQLite backend (sqlite.ts); the shared conformance suite runs
 * against both.
 *
 * Schema: migrations/postgres/ (see postgres-migrate.ts). Its triggers refuse UPDATE, DELETE,
 * TRUNCATE and any INSERT that does not extend the log, whoever writes. Stored hashes are kept as
 * (level, n) so that a tile is one primary-key range scan, aggregated into one bytea by the server.
 *
 * Many writers: every node runs its own sequencer. appendBatch is one call of the database function
 * sumkeep_append (migrations/postgres/005, one round trip and its own transaction): it takes a
 * transaction-scoped advisory lock (APPEND_LOCK) before it reads the latest head, so commits
 * serialize in the database and the size checked is the size the inserts extend; a batch computed
 * against an older tree is refused with `conflict` (nothing written) and the sequencer sequences it
 * again. The head row is inserted in the same transaction as the records and hashes it covers (a
 * trigger checks that it covers exactly them), and heads(size) is the primary key: no two heads of
 * one size can exist.
 *
 * Durability: every connection runs with synchronous_commit=on (set at connect, whatever the
 * server's default), so appendBatch resolves only after COMMIT is flushed to the WAL (and, with a
 * synchronous standby configured, received there).
 *
 * Connections: a pool of at most `poolMax` connections (opened on demand; a connection that fails
 * is destroyed and the next query opens a new one, so the store recovers by itself when
 * PostgreSQL is back; waiting for a free connection is bounded by the connect timeout);
 * every statement runs under statement_timeout, and a node that stops in the middle of a
 * transaction loses its lock after idle_in_transaction_session_timeout. A caller whose query has
 * no answer within twice the statement timeout (waiting for a free connection, or for a server
 * that stopped answering) gets store_busy.
 *
 * Errors: a lost or refused connection, a server shutting down or a standby that refuses writes is
 * `unavailable` (HTTP 503: try again); a statement timeout, lock timeout, deadlock or serialization
 * failure is `store_busy` (503, and the sequencer retries the batch); anything else `store_error`.
 * Messages name the operation and the SQLSTATE or socket error code only: never SQL text, never
 * the connection URL's password (the database is named by redactUrl).
 */
import pg from 'pg';
import { SumkeepError, type ErrorCode } from '../core/errors.ts';
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
  conflict,
  dedupePoints,
  duplicateInBatch,
  growthInstants,
  HASH_SIZE,
  prefixRange,
} from './checks.ts';
import { loadMigrations } from './migrate.ts';
import { checkPostgresSchema, migratePostgres, PG_MIGRATIONS_DIR } from './postgres-migrate.ts';
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

export interface PostgresOptions {
  /** Most connections this process opens (default 10). */
  poolMax?: number;
  /** Longest one statement may run, and longest a query waits for a connection (ms; default 10000). */
  statementTimeoutMs?: number;
  /** Longest opening a connection may take (ms; default 10000). */
  connectTimeoutMs?: number;
  /** Open for reading only (audits, `store copy --from`): never migrated, writes refused. */
  readonly?: boolean;
  /** application_name shown in pg_stat_activity (default "sumkeep"). */
  applicationName?: string;
  /** Check at open that head, records and hashes agree (default true; audits report instead). */
  check?: boolean;
}

export const POSTGRES_DEFAULTS = {
  poolMax: 10,
  statementTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
} as const;

const URL_RE = /^postgres(ql)?:\/\//;

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(s: string): boolean {
  return URL_RE.test(s);
}

/**
 * The URL without its password (and without query parameters, which may carry one), for messages
 * and logs: `postgres://user@host:port/db`. Never throws; an unparsable URL is named generically.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://<unparsable URL>';
  }
}

function intOpt(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SumkeepError(
      'config',
      `${name} must be a whole number from ${min} to ${max}, got ${String(v)}`,
    );
  }
  return n;
}

/** Socket error codes that mean "no usable connection to the server". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // a unix socket that is not there (server stopped)
]);

/** What pg says, without a code, when a connection is lost, cannot be had in time, or broke. */
const CONNECTION_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout|Query read timeout|Client was closed/i;

function errCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * The sumkeep error code for an error from pg. SQLSTATE classes: 08 connection exception,
 * 57P01-03 server shutting down / starting, 53300 too many connections, 25006 read-only
 * transaction (a standby), 28 authentication; 57014 statement timeout or cancel, 55P03 lock
 * timeout, 40001/40P01 serialization failure / deadlock.
 */
export function classifyPostgresError(e: unknown): ErrorCode {
  const code = errCode(e);
  if (code === undefined) {
    return e instanceof Error && CONNECTION_MESSAGES.test(e.message) ? 'unavailable' : 'store_error';
  }
  if (/^[0-9A-Z]{5}$/.test(code)) {
    if (code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300' || code === '25006')
      return 'unavailable';
    if (code.startsWith('28')) return 'unavailable';
    if (code === '57014' || code === '55P03' || code === '40001' || code === '40P01') return 'store_busy';
    return 'store_error';
  }
  return CONNECTION_CODES.has(code) ? 'unavailable' : 'store_error';
}

function storeError(what: string, e: unknown): SumkeepError {
  if (e instanceof SumkeepError) return e;
  const code = errCode(e);
  const kind = classifyPostgresError(e);
  const detail = code === undefined ? '' : ` (${code})`;
  const message =
    kind === 'unavailable'
      ? `store: ${what} failed: PostgreSQL is unreachable or not accepting writes${detail}`
      : `store: ${what} failed${detail}`;
  return new SumkeepError(kind, message, { cause: e });
}

/** A Buffer view of bytes for a bytea parameter (no copy when it already is one). */
function buf(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** bigint columns arrive as decimal strings (pg keeps int8 exact); ours are safe integers. */
function num(v: string | number): number {
  return typeof v === 'number' ? v : Number(v);
}

/**
 * A string PostgreSQL text can hold exactly: no NUL and well-formed UTF-16 (a lone surrogate would
 * be sent as U+FFFD and could match a different, real module path).
 */
function storable(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed();
}

interface RecordRow {
  id: string;
  path: string;
  version: string;
  text: Buffer;
  source: string;
  created_at: string;
}

interface HeadRow {
  size: string;
  hash: Buffer;
  note: Buffer;
  created_at: string;
}

function toRecord(r: RecordRow): LogRecord {
  return {
    id: num(r.id),
    path: r.path,
    version: r.version,
    text: bytes(r.text),
    source: r.source,
    createdAt: num(r.created_at),
  };
}

function toHead(r: HeadRow): SignedHead {
  return { size: num(r.size), hash: bytes(r.hash), note: bytes(r.note), createdAt: num(r.created_at) };
}

/**
 * Opens the PostgreSQL database at `url` (postgres:// or postgresql://; PG* environment variables
 * fill what the URL leaves out), applies pending migrations (unless read-only) and checks that
 * records, hashes and the latest head agree. Throws `config` for bad options, `unavailable` when
 * the server cannot be reached, `schema_too_new` for a database written by a newer sumkeep,
 * `log_inconsistent` when its tables disagree, `store_error` otherwise.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<AuditStore> {
  if (typeof url !== 'string' || !isPostgresUrl(url)) {
    throw new SumkeepError('config', 'a PostgreSQL database is named by a postgres:// or postgresql:// URL');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not echoed: the text may hold a password.
    throw new SumkeepError('config', 'the PostgreSQL URL cannot be parsed (check its quoting and escapes)');
  }
  const label = redactUrl(url);
  const poolMax = intOpt('pool size', opts.poolMax, POSTGRES_DEFAULTS.poolMax, 1, 1000);
  const statementTimeoutMs = intOpt(
    'statement timeout (ms)',
    opts.statementTimeoutMs,
    POSTGRES_DEFAULTS.statementTimeoutMs,
    100,
    3_600_000,
  );
  const connectTimeoutMs = intOpt(
    'connect timeout (ms)',
    opts.connectTimeoutMs,
    POSTGRES_DEFAULTS.connectTimeoutMs,
    100,
    600_000,
  );
  const readonly = opts.readonly === true;
  // The URL's own `options` (server settings, `-c name=value ...`) are kept, and ours go after
  // them: the server applies them in order, so these always hold. pg would let the URL's
  // `options` replace ours entirely.
  const own = parsed.searchParams.get('options') ?? '';
  if (/synchronous_commit|default_transaction_read_only|default_transaction_isolation/.test(own)) {
    throw new SumkeepError(
      'config',
      `${label}: the URL's options set synchronous_commit or a default transaction mode; remove them (sumkeep sets them: records must be durable before they are acknowledged)`,
    );
  }
  parsed.searchParams.delete('options');
  const settings = [
    own,
    '-c synchronous_commit=on',
    '-c default_transaction_isolation=read\\ committed',
    `-c default_transaction_read_only=${readonly ? 'on' : 'off'}`,
    '-c TimeZone=UTC',
  ]
    .filter((x) => x !== '')
    .join(' ');
  const migrations = loadMigrations(PG_MIGRATIONS_DIR);

  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: poolMax,
    // Bounds both opening a connection and waiting for a free one.
    connectionTimeoutMillis: connectTimeoutMs,
    // Idle connections are closed after a minute and reopened on demand.
    idleTimeoutMillis: 60_000,
    // Reopen connections now and then, so that a failover behind a DNS name is picked up.
    maxLifetimeSeconds: 30 * 60,
    // TCP keepalive: a server that vanished without closing the socket is noticed.
    keepAlive: true,
    application_name: opts.applicationName ?? 'sumkeep',
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(2 * statementTimeoutMs, 10_000),
    options: settings,
  });
  // An idle connection that the server closes (restart, failover) emits 'error' on the pool; pg
  // drops it from the pool, and without a listener the process would end.
  pool.on('error', () => {});
  try {
    const store = new PostgresStore(pool, label, readonly, statementTimeoutMs);
    const what = `${label}: open`;
    if (readonly) await store.withClient(what, (c) => checkPostgresSchema(c, label, migrations));
    else await store.withClient(what, (c) => migratePostgres(c, label, migrations));
    if (opts.check !== false) await store.checkConsistent();
    return store;
  } catch (e) {
    await pool.end().catch(() => {});
    const code = errCode(e instanceof SumkeepError ? e.cause : e);
    if (code === '3D000') {
      throw new SumkeepError('config', `${label}: the database does not exist; create it first (createdb)`, {
        cause: e,
      });
    }
    if (code?.startsWith('28')) {
      throw new SumkeepError('config', `${label}: PostgreSQL refused the login (${code})`, { cause: e });
    }
    throw e instanceof SumkeepError ? e : storeError(`${label}: open`, e);
  }
}

/** A pooled client with an 'error' listener: a checked-out client whose connection drops between queries must not end the process. */
const guarded = new WeakSet<pg.PoolClient>();

class PostgresStore implements AuditStore {
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly label: string,
    private readonly readonly: boolean,
    private readonly deadlineMs: number,
  ) {}

  private checkOpen(): void {
    if (this.closed) throw new SumkeepError('store_error', 'store: the store is closed');
  }

  /**
   * Runs one statement with a deadline: past twice the statement timeout (the server's own
   * timeout fires first for a running statement) the caller gets store_busy; the statement is
   * left to finish or fail on its own. `name` makes it a prepared statement (per connection).
   */
  private async q<T>(what: string, text: string, values: unknown[] = [], name?: string): Promise<T[]> {
    this.checkOpen();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SumkeepError(
              'store_busy',
              `store: ${what} failed: no answer from PostgreSQL within ${2 * this.deadlineMs} ms`,
            ),
          ),
        2 * this.deadlineMs,
      );
    });
    const running = this.pool
      .query<pg.QueryResultRow>(name === undefined ? { text, values } : { name, text, values })
      .then((r) => r.rows as T[]);
    // Settles later when the deadline won; nothing must be left unhandled.
    running.catch(() => {});
    try {
      return await Promise.race([running, deadline]);
    } catch (e) {
      throw storeError(what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs fn on one pooled connection; a connection that failed is destroyed, not reused. */
  async withClient<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw storeError(what, e);
    }
    if (!guarded.has(client)) {
      client.on('error', () => {});
      guarded.add(client);
    }
    let broken: unknown = undefined;
    try {
      return await fn(client);
    } catch (e) {
      if (!(e instanceof SumkeepError) || classifyPostgresError(e.cause) === 'unavailable') broken = e;
      throw e instanceof SumkeepError ? e : storeError(what, e);
    } finally {
      client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
    }
  }

  /** Throws log_inconsistent unless the latest head, the records and the leaf hashes agree. */
  async checkConsistent(): Promise<void> {
    // One statement: one snapshot of all three.
    const [row] = await this.q<{ size: string | null; max_id: string | null; max_leaf: string | null }>(
      'consistency check',
      `SELECT (SELECT max(size) FROM heads) AS size, (SELECT max(id) FROM records) AS max_id,
              (SELECT max(n) FROM hashes WHERE level = 0) AS max_leaf`,
    );
    const size = row?.size == null ? 0 : num(row.size);
    const records = row?.max_id == null ? 0 : num(row.max_id) + 1;
    const leaves = row?.max_leaf == null ? 0 : num(row.max_leaf) + 1;
    if (records !== size || leaves !== size) {
      throw new SumkeepError(
        'log_inconsistent',
        `store: ${this.label}: latest signed head has size ${size} but the database holds ${records} records and ${leaves} leaf hashes`,
      );
    }
  }

  async treeSize(): Promise<number> {
    const [row] = await this.q<{ size: string | null }>(
      'read tree size',
      'SELECT max(size) AS size FROM heads',
      [],
      'sk_tree_size',
    );
    return row?.size == null ? 0 : num(row.size);
  }

  async latestHead(): Promise<SignedHead | null> {
    const [row] = await this.q<HeadRow>(
      'read latest head',
      'SELECT size, hash, note, created_at FROM heads ORDER BY size DESC LIMIT 1',
      [],
      'sk_latest_head',
    );
    return row === undefined ? null : toHead(row);
  }

  async heads(): Promise<SignedHead[]> {
    const rows = await this.q<HeadRow>(
      'read heads',
      'SELECT size, hash, note, created_at FROM heads ORDER BY size',
    );
    return rows.map(toHead);
  }

  async lookup(path: string, version: string): Promise<LogRecord | null> {
    if (typeof path !== 'string' || typeof version !== 'string')
      throw badInput('path and version must be strings');
    if (!storable(path) || !storable(version)) {
      this.checkOpen();
      return null;
    }
    const [row] = await this.q<RecordRow>(
      'lookup',
      'SELECT id, path, version, text, source, created_at FROM records WHERE path = $1 AND version = $2',
      [path, version],
      'sk_lookup',
    );
    return row === undefined ? null : toRecord(row);
  }

  async recordById(id: number): Promise<LogRecord | null> {
    checkIndex('record id', id);
    const [row] = await this.q<RecordRow>(
      'read record',
      'SELECT id, path, version, text, source, created_at FROM records WHERE id = $1',
      [id],
      'sk_record_by_id',
    );
    return row === undefined ? null : toRecord(row);
  }

  async recordsRange(start: number, count: number): Promise<LogRecord[]> {
    checkRange('record', start, count);
    const rows = await this.q<RecordRow>(
      'read records',
      'SELECT id, path, version, text, source, created_at FROM records WHERE id >= $1 AND id < $2 ORDER BY id',
      [start, start + count],
    );
    return rows.map(toRecord);
  }

  async headsAfter(size: number, limit: number): Promise<SignedHead[]> {
    if (!Number.isSafeInteger(size) || size < -1)
      throw badInput(`size must be an integer >= -1, got ${String(size)}`);
    checkIndex('limit', limit);
    const rows = await this.q<HeadRow>(
      'read heads',
      'SELECT size, hash, note, created_at FROM heads WHERE size > $1 ORDER BY size LIMIT $2',
      [size, limit],
    );
    return rows.map(toHead);
  }

  async duplicateVersions(limit: number): Promise<{ path: string; version: string; ids: number[] }[]> {
    checkIndex('limit', limit);
    // UNIQUE (path, version) makes this empty unless the key was dropped behind the store's back.
    const rows = await this.q<{ path: string; version: string; ids: string[] }>(
      'find duplicate versions',
      `SELECT path, version, array_agg(id ORDER BY id) AS ids FROM records
       GROUP BY path, version HAVING count(*) > 1 LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ path: r.path, version: r.version, ids: r.ids.map(num) }));
  }

  async recentRecords(limit: number): Promise<LogRecord[]> {
    checkListLimit(limit);
    const rows = await this.q<RecordRow>(
      'read recent records',
      'SELECT id, path, version, text, source, created_at FROM records ORDER BY id DESC LIMIT $1',
      [limit],
      'sk_recent_records',
    );
    return rows.map(toRecord);
  }

  async searchRecords(prefix: string, limit: number): Promise<LogRecord[]> {
    const [lo, hi] = prefixRange(prefix);
    checkListLimit(limit);
    // path is COLLATE "C" (byte order), and so is its (path, version) UNIQUE index: one index
    // range; see prefixRange. The parameters take the column's collation.
    const rows = await this.q<RecordRow>(
      'search records',
      `SELECT id, path, version, text, source, created_at FROM records
       WHERE path >= $1 AND path < $2 ORDER BY path, version LIMIT $3`,
      [lo, hi, limit],
      'sk_search_records',
    );
    return rows.map(toRecord);
  }

  async headGrowth(points: number): Promise<HeadPoint[]> {
    checkGrowthPoints(points);
    // Two statements, each its own snapshot: a head committed in between is picked only if its
    // created_at is at or before an instant (another node's clock), which a chart may show.
    const [span] = await this.q<{ lo: string | null; hi: string | null }>(
      'read head growth',
      'SELECT (SELECT min(created_at) FROM heads) AS lo, (SELECT max(created_at) FROM heads) AS hi',
      [],
      'sk_head_span',
    );
    if (span?.lo == null || span.hi == null) return [];
    const instants = growthInstants(num(span.lo), num(span.hi), points);
    // One round trip: an index seek (heads_by_time) per instant, in instant order.
    const rows = await this.q<{ size: string; created_at: string }>(
      'read head growth',
      `SELECT h.size, h.created_at
       FROM unnest($1::int8[]) WITH ORDINALITY AS q(t, k)
       CROSS JOIN LATERAL (SELECT size, created_at FROM heads WHERE created_at <= q.t
                           ORDER BY created_at DESC, size DESC LIMIT 1) h
       ORDER BY q.k`,
      [instants],
      'sk_head_growth',
    );
    return dedupePoints(rows.map((r) => ({ size: num(r.size), createdAt: num(r.created_at) })));
  }

  async recordTexts(start: number, count: number): Promise<Uint8Array[]> {
    checkRange('record', start, count);
    if (count === 0) {
      this.checkOpen();
      return [];
    }
    const rows = await this.q<{ text: Buffer }>(
      'read records',
      'SELECT text FROM records WHERE id >= $1 AND id < $2 ORDER BY id',
      [start, start + count],
      'sk_record_texts',
    );
    if (rows.length !== count) {
      throw new SumkeepError(
        'not_found',
        `store: records ${start}..${start + count - 1} are not all in the log`,
      );
    }
    return rows.map((r) => bytes(r.text));
  }

  async readHashes(indexes: readonly number[]): Promise<Uint8Array[]> {
    if (!Array.isArray(indexes)) throw badInput('indexes must be an array');
    for (const i of indexes) checkIndex('stored hash index', i);
    if (indexes.length === 0) return [];
    const levels: number[] = [];
    const ns: number[] = [];
    for (const i of indexes) {
      const [level, n] = splitStoredHashIndex(i);
      levels.push(level);
      ns.push(n);
    }
    // One statement (one snapshot, one round trip) for all of them; k is the 1-based position.
    const rows = await this.q<{ k: string; hash: Buffer }>(
      'read hashes',
      `SELECT q.k, h.hash
       FROM unnest($1::int4[], $2::int8[]) WITH ORDINALITY AS q(level, n, k)
       JOIN hashes h ON h.level = q.level AND h.n = q.n`,
      [levels, ns],
      'sk_read_hashes',
    );
    const out = new Array<Uint8Array | undefined>(indexes.length);
    for (const r of rows) out[num(r.k) - 1] = bytes(r.hash);
    for (let i = 0; i < out.length; i++) {
      if (out[i] === undefined)
        throw new SumkeepError('not_found', `store: stored hash ${indexes[i]} is not in the log`);
    }
    return out as Uint8Array[];
  }

  async readTileHashes(level: number, start: number, count: number): Promise<Uint8Array[]> {
    checkIndex('level', level);
    checkRange('hash', start, count);
    if (count === 0) return [];
    // One row holding the range's hashes concatenated in order, one round trip per tile.
    const [row] = await this.q<{ h: Buffer | null }>(
      'read tile hashes',
      `SELECT string_agg(hash, ''::bytea ORDER BY n) AS h FROM hashes
       WHERE level = $1 AND n >= $2 AND n < $3`,
      [level, start, start + count],
      'sk_tile_hashes',
    );
    const all = row?.h ?? null;
    // Every stored hash is exactly HASH_SIZE bytes (a CHECK constraint): a short answer means
    // some are missing.
    if (all === null || all.length !== count * HASH_SIZE) {
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
    this.checkOpen();
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkBatchShape(batch);
    const dup = duplicateInBatch(batch);
    if (dup !== null) throw conflict(`${dup} is twice in the batch`);
    for (const r of batch.records) {
      if (!storable(r.path) || !storable(r.version) || !storable(r.source)) {
        throw badInput(`record ${r.id} has a NUL or a lone surrogate in its path, version or source`);
      }
    }
    const { records, hashes, head } = batch;
    // Parameters as a few arrays and two byte strings, whatever the batch size: record texts
    // concatenated with their offsets and lengths, stored hashes concatenated 32 bytes each.
    const ids = records.map((r) => r.id);
    const paths = records.map((r) => r.path);
    const versions = records.map((r) => r.version);
    const sources = records.map((r) => r.source);
    const offs: number[] = [];
    const lens: number[] = [];
    let off = 0;
    for (const r of records) {
      offs.push(off);
      lens.push(r.text.length);
      off += r.text.length;
    }
    const texts = Buffer.concat(records.map((r) => r.text));
    const levels: number[] = [];
    const ns: number[] = [];
    for (const h of hashes) {
      const [level, n] = splitStoredHashIndex(h.index);
      levels.push(level);
      ns.push(n);
    }
    const hashBytes = Buffer.concat(hashes.map((h) => h.hash));
    // The batch must extend the size it was computed against; sumkeep_append checks, under the
    // append lock, that this is the latest size.
    const oldSize = head.size - records.length;
    checkExtends(batch, oldSize > 0 ? oldSize : null);
    try {
      // One statement, one round trip, its own transaction (migrations/postgres/005): the append
      // lock, the latest size, records, hashes and head.
      const result = await this.withClient('append', (c) =>
        c.query<{ latest: string | null; appended: boolean }>({
          name: 'sk_append',
          text: `SELECT latest, appended FROM sumkeep_append($1::int8, $2::int8[], $3::text[], $4::text[],
            $5::text[], $6::int4[], $7::int4[], $8::bytea, $9::int8, $10::int4[], $11::int8[], $12::bytea,
            $13::int8, $14::bytea, $15::bytea)`,
          values: [
            oldSize,
            ids,
            paths,
            versions,
            sources,
            offs,
            lens,
            texts,
            head.createdAt,
            levels,
            ns,
            hashBytes,
            head.size,
            buf(head.hash),
            buf(head.note),
          ],
        }),
      );
      const row = result.rows[0];
      if (row?.appended !== true) {
        // Another writer committed first: the same refusal as against that size.
        const latest = row?.latest == null ? null : num(row.latest);
        checkExtends(batch, latest);
        throw conflict(`the latest signed size ${String(latest)} is not ${oldSize}`);
      }
    } catch (e) {
      const cause = e instanceof SumkeepError && e.code !== 'conflict' ? e.cause : e;
      const code = errCode(cause);
      if (code !== undefined && code.startsWith('23')) {
        // A unique key or a trigger refused it: the batch does not extend the log (another
        // writer's commit slipped in without the lock, or a version is already logged).
        const logged = await this.firstLogged(paths, versions).catch(() => null);
        if (logged !== null) throw conflict(`${logged} is already logged`, cause);
        throw conflict(`the database refused the batch as not extending the log (${code})`, cause);
      }
      throw e instanceof SumkeepError ? e : storeError('append', e);
    }
  }

  /** The first of these module versions that the log holds, as "path@version", or null. */
  private async firstLogged(paths: string[], versions: string[]): Promise<string | null> {
    const [row] = await this.q<{ path: string; version: string }>(
      'lookup',
      `SELECT r.path, r.version FROM unnest($1::text[], $2::text[]) AS q(path, version)
       JOIN records r ON r.path = q.path AND r.version = q.version LIMIT 1`,
      [paths, versions],
    );
    return row === undefined ? null : `${row.path}@${row.version}`;
  }

  async addHeadNote(size: number, note: Uint8Array, createdAt: number): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkIndex('head size', size);
    if (!(note instanceof Uint8Array) || note.length === 0) throw badInput('head note must be bytes');
    if (!Number.isSafeInteger(createdAt)) throw badInput('head note createdAt is not an integer');
    // One statement: the note is kept only for an existing head; ON CONFLICT makes keeping it
    // again (another node, a restart) a no-op.
    const rows = await this.q<{ size: string }>(
      'add head note',
      `WITH head AS (SELECT size FROM heads WHERE size = $1),
            ins AS (INSERT INTO head_notes (size, note, created_at)
                    SELECT size, $2, $3 FROM head
                    ON CONFLICT (size, note) DO NOTHING)
       SELECT size FROM head`,
      [size, buf(note), createdAt],
    );
    if (rows.length === 0) throw new SumkeepError('not_found', `store: no signed head of size ${size}`);
  }

  async headNotes(size: number): Promise<Uint8Array[]> {
    checkIndex('head size', size);
    const rows = await this.q<{ note: Buffer }>(
      'read head notes',
      'SELECT note FROM head_notes WHERE size = $1 ORDER BY created_at, note',
      [size],
      'sk_head_notes',
    );
    return rows.map((r) => new Uint8Array(r.note));
  }

  async remoteState(name: string): Promise<RemoteState> {
    checkRemoteName(name);
    const rows = await this.q<{
      kind: string;
      size: string | null;
      hash: Buffer | null;
      note: Buffer | null;
      at: string;
      proof: string | null;
    }>(
      'read remote head',
      `SELECT 'head' AS kind, size, hash, note, seen_at AS at, NULL::text AS proof FROM remote_heads WHERE name = $1
       UNION ALL
       SELECT 'fork', NULL, NULL, NULL, detected_at, proof FROM remote_forks WHERE name = $1`,
      [name],
      'sk_remote_state',
    );
    const state: RemoteState = { head: null, fork: null };
    for (const r of rows) {
      if (r.kind === 'head' && r.size !== null && r.hash !== null && r.note !== null) {
        state.head = {
          size: Number(r.size),
          hash: new Uint8Array(r.hash),
          note: new Uint8Array(r.note),
          seenAt: Number(r.at),
        };
      } else if (r.kind === 'fork' && r.proof !== null) {
        state.fork = { proof: r.proof, detectedAt: Number(r.at) };
      }
    }
    return state;
  }

  async saveRemoteHead(name: string, head: RemoteHead): Promise<boolean> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkRemoteName(name);
    checkRemoteHead(head);
    // Compare-and-set in one statement: a row is replaced only by a larger tree.
    const rows = await this.q<{ name: string }>(
      'save remote head',
      `INSERT INTO remote_heads (name, size, hash, note, seen_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET size = excluded.size, hash = excluded.hash,
         note = excluded.note, seen_at = excluded.seen_at
       WHERE excluded.size > remote_heads.size
       RETURNING name`,
      [name, head.size, buf(head.hash), buf(head.note), head.seenAt],
    );
    return rows.length > 0;
  }

  async saveRemoteFork(name: string, fork: RemoteFork): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    checkRemoteName(name);
    checkRemoteFork(fork);
    await this.q(
      'save remote fork',
      'INSERT INTO remote_forks (name, proof, detected_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
      [name, fork.proof, fork.detectedAt],
    );
  }

  async checkWritable(): Promise<void> {
    if (this.readonly) throw new SumkeepError('store_error', 'store: the store is read-only');
    // A committed write: on a standby, a read-only server or a full disk it fails.
    await this.q(
      'write check',
      `INSERT INTO write_probe (id, checked_at) VALUES (0, $1)
       ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`,
      [Date.now()],
      'sk_write_probe',
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.end();
    } catch (e) {
      throw storeError('close', e);
    }
  }
}
