/**
 * The one place that picks a storage backend, from the value of `--db` (every command takes the
 * same forms):
 *
 *   <path>, sqlite:<path>          SQLite file (created with its directory if missing); `:memory:`
 *                                  is a private in-memory database (tests)
 *   postgres://..., postgresql://...  PostgreSQL (libpq-style URL)
 *   any other `<scheme>:`          refused: a typo must not silently create a local SQLite file
 *                                  in a directory named after the scheme
 *
 * A one-letter scheme is a Windows drive (`C:\data\sumkeep.db`), not a URL. Backends are imported
 * lazily so that a command pays only for the one it opens.
 */
import { SumkeepError } from '../core/errors.ts';
import { redactUrl } from '../upstream/redact.ts';
import type { AuditStore } from './store.ts';

export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface OpenStoreOptions {
  /** Open read-only (audits, copies from): never migrated, never written. */
  readonly?: boolean;
  /** SQLite: how long to wait for another connection's write lock (ms). */
  busyTimeoutMs?: number;
  /** Check at open that head, records and hashes agree (default true; audits report instead). */
  check?: boolean;
  /** A tool that reads the whole log once: memory must not grow with the database. */
  scan?: boolean;
  /** PostgreSQL: most connections this process opens (default 10). */
  poolMax?: number;
  /** PostgreSQL: longest one statement may run, and a query may wait for a connection (ms). */
  statementTimeoutMs?: number;
}

/** Parses a `--db` value (see the file comment); throws SumkeepError('config'). */
export function parseStoreLocation(db: string): StoreLocation {
  if (db.trim() === '')
    throw new SumkeepError('config', '--db is empty: give a SQLite file or a postgres:// URL');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(db);
  if (m === null || m[1]!.length === 1) return { kind: 'sqlite', file: db };
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'sqlite') {
    const file = db.slice(m[0].length);
    if (file === '')
      throw new SumkeepError('config', '--db sqlite: needs a file, e.g. sqlite:data/sumkeep.db');
    return { kind: 'sqlite', file };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return { kind: 'postgres', url: db };
  throw new SumkeepError(
    'config',
    `--db ${JSON.stringify(redactUrl(db).slice(0, 200))}: unknown scheme "${scheme}:"; give a SQLite file ` +
      '(a path or sqlite:<path>) or a postgres:// URL',
  );
}

/** A location as it may be printed: a URL without its password. */
export function describeStoreLocation(loc: StoreLocation): string {
  return loc.kind === 'sqlite' ? loc.file : redactUrl(loc.url);
}

/** Opens the store that `db` names (see parseStoreLocation), migrated and checked. */
export async function openStore(db: string, opts: OpenStoreOptions = {}): Promise<AuditStore> {
  const loc = parseStoreLocation(db);
  if (loc.kind === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite.ts');
    return openSqliteStore(loc.file, opts);
  }
  const { openPostgresStore } = await import('./postgres.ts');
  return openPostgresStore(loc.url, {
    readonly: opts.readonly,
    check: opts.check,
    poolMax: opts.poolMax,
    statementTimeoutMs: opts.statementTimeoutMs,
  });
}
