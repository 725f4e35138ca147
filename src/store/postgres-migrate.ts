/**
 * Schema migrations for the PostgreSQL store: the twin of migrate.ts (same file naming, same
 * loader, same refusals), run over one pg connection.
 *
 * Files: migrations/postgres/<version>_<name>.sql, versions 1, 2, 3, ... (counted per backend).
 * Each pending migration runs in its own transaction together with its row in
 * `schema_migrations(version integer PRIMARY KEY, name text, applied_at bigint)`; PostgreSQL DDL is
 * transactional, so a failing migration leaves neither a partial schema nor a record. Migration
 * files must not contain transaction control statements.
 *
 * Several nodes may start at once against one database: every step first takes a transaction-scoped
 * advisory lock (MIGRATE_LOCK) and re-reads the recorded version, so each migration is applied
 * exactly once and nobody reads a half-created schema_migrations table.
 *
 * A database whose recorded version is newer than the newest migration here is refused
 * (`schema_too_new`): an older sumkeep must never write into a schema it does not understand.
 */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { SumkeepError } from '../core/errors.ts';
import { newestVersion, type MigrateResult, type Migration } from './migrate.ts';

/** migrations/postgres/ at the package root (two directories above this module, in src/ and dist/). */
export const PG_MIGRATIONS_DIR: string = fileURLToPath(
  new URL('../../migrations/postgres/', import.meta.url),
);

/**
 * Advisory lock keys (the two-int4 form), chosen to be recognisable in pg_locks: 'sumk' and a
 * purpose. Another application using the same keys in the same database would wait on sumkeep's
 * commits, nothing worse; docs/operations.md says to give sumkeep a database of its own.
 * APPEND_LOCK is taken by the database function sumkeep_append (migrations/postgres/005), which
 * spells both numbers out: change them there too, in a new migration.
 */
export const LOCK_CLASS = 0x73756d6b; // 'sumk'
export const MIGRATE_LOCK = 0x6d696772; // 'migr'
export const APPEND_LOCK = 0x6170706e; // 'appn'

type Client = pg.ClientBase;

/** The schema version recorded in the database; 0 when schema_migrations does not exist yet. */
export async function pgSchemaVersion(c: Client): Promise<number> {
  const t = await c.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (t.rows[0]?.present !== true) return 0;
  const m = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return m.rows[0]?.v ?? 0;
}

function tooNew(label: string, version: number, newest: number): SumkeepError {
  return new SumkeepError(
    'schema_too_new',
    `${label}: database schema version ${version} is newer than this sumkeep supports (${newest}); upgrade sumkeep`,
  );
}

/**
 * Throws `schema_too_new` for a newer schema and `store_error` for an older one (read-only opens,
 * which cannot migrate).
 */
export async function checkPostgresSchema(
  c: Client,
  label: string,
  migrations: readonly Migration[],
): Promise<void> {
  const current = await pgSchemaVersion(c);
  const newest = newestVersion(migrations);
  if (current > newest) throw tooNew(label, current, newest);
  if (current < newest) {
    throw new SumkeepError(
      'store_error',
      `${label}: database schema version ${current} is older than this sumkeep's (${newest}); open it once read-write to upgrade it`,
    );
  }
}

/** Brings the database up to the newest of `migrations` (see the module comment). */
export async function migratePostgres(
  c: Client,
  label: string,
  migrations: readonly Migration[],
  now: () => number = Date.now,
): Promise<MigrateResult> {
  const newest = newestVersion(migrations);
  const from = await pgSchemaVersion(c);
  if (from > newest) throw tooNew(label, from, newest);
  const applied: number[] = [];
  if (from === newest) return { from, to: from, applied };
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (const m of sorted) {
    await c.query('BEGIN');
    try {
      await c.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, MIGRATE_LOCK]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
      );
      const current = await pgSchemaVersion(c);
      if (current > newest) throw tooNew(label, current, newest);
      // Another node may have applied it since we looked.
      if (current < m.version) {
        try {
          await c.query(m.sql);
        } catch (e) {
          throw new SumkeepError('store_error', `${label}: migration ${m.file} failed`, { cause: e });
        }
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          now(),
        ]);
        applied.push(m.version);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }
  return { from, to: await pgSchemaVersion(c), applied };
}
