/**
 * Schema migrations for the SQLite store. Each backend has its own directory of migrations
 * (`migrations/sqlite/`, `migrations/postgres/`), because their SQL dialects differ.
 *
 * A migration is a file `migrations/sqlite/<version>_<name>.sql` (e.g. `001_init.sql`): version is a
 * positive decimal number, versions run 1, 2, 3, ... without gaps, name is `[a-z0-9_]+`. At open
 * every migration newer than the database's recorded version is applied in version order, each
 * inside its own write transaction together with its row in
 * `schema_migrations(version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER)`, so a failing
 * migration leaves neither a partial schema change nor a record. Migration files must therefore not
 * contain transaction control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) or `PRAGMA`s that
 * cannot run inside a transaction.
 *
 * A database whose recorded version is newer than the newest migration this code has is refused
 * (`schema_too_new`): an older sumkeep must never write into a schema it does not understand.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { SumkeepError } from '../core/errors.ts';

/**
 * The package's SQLite migrations directory, resolved from this module's own location so that it works
 * both from source (src/store/migrate.ts via tsx) and after the build (dist/store/migrate.js):
 * both sit two directories below the package root.
 */
export const MIGRATIONS_DIR: string = fileURLToPath(new URL('../../migrations/sqlite/', import.meta.url));

export interface Migration {
  /** 1, 2, 3, ... */
  readonly version: number;
  /** The `<name>` part of the file name, e.g. "init". */
  readonly name: string;
  /** The file name, e.g. "001_init.sql" (for messages). */
  readonly file: string;
  readonly sql: string;
}

export interface MigrateResult {
  /** Recorded schema version before this call (0 for a fresh database). */
  readonly from: number;
  /** Recorded schema version after this call. */
  readonly to: number;
  /** Versions applied by this call, in order (empty when the schema was current). */
  readonly applied: number[];
}

const MIGRATION_FILE_RE = /^([0-9]{1,9})_([a-z0-9_]+)\.sql$/;

/**
 * Reads and checks the migrations in `dir` (every `*.sql` file there must be a migration; other
 * files are ignored). Throws `config` for a misnamed file, a duplicate version or a gap.
 */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new SumkeepError('config', `cannot read the migrations directory ${dir}`, { cause: e });
  }
  const out: Migration[] = [];
  for (const file of names) {
    if (!file.endsWith('.sql')) continue;
    const m = MIGRATION_FILE_RE.exec(file);
    if (m === null) {
      throw new SumkeepError('config', `migration file ${file} is not named <version>_<name>.sql`);
    }
    out.push({
      version: Number(m[1]),
      name: m[2]!,
      file,
      sql: readFileSync(join(dir, file), 'utf8'),
    });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 0; i < out.length; i++) {
    const m = out[i]!;
    if (m.version !== i + 1) {
      const prev = out[i - 1];
      throw new SumkeepError(
        'config',
        prev !== undefined && prev.version === m.version
          ? `migrations ${prev.file} and ${m.file} have the same version`
          : `migration ${m.file} has version ${m.version}, expected ${i + 1} (versions run 1, 2, 3, ... without gaps)`,
      );
    }
  }
  return out;
}

/** The newest version among `migrations` (0 when there are none). */
export function newestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * The schema version recorded in `db`: the largest version in schema_migrations, or 0 when the
 * table does not exist yet (a fresh database).
 */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
    .pluck()
    .get();
  if (table === undefined) return 0;
  const v = db.prepare('SELECT max(version) FROM schema_migrations').pluck().get();
  return typeof v === 'number' ? v : 0;
}

function tooNew(label: string, version: number, newest: number): SumkeepError {
  return new SumkeepError(
    'schema_too_new',
    `${label}: database schema version ${version} is newer than this sumkeep supports (${newest}); upgrade sumkeep`,
  );
}

/**
 * Throws `schema_too_new` when `db` records a version newer than `migrations` know, and
 * `store_error` when it lacks some of them (used for read-only opens, which cannot migrate).
 * `label` names the database in messages (its file name).
 */
export function checkSchema(db: Database.Database, label: string, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  const newest = newestVersion(migrations);
  if (current > newest) throw tooNew(label, current, newest);
  if (current < newest) {
    throw new SumkeepError(
      'store_error',
      `${label}: database schema version ${current} is older than this sumkeep's (${newest}); open it once read-write to upgrade it`,
    );
  }
}

/**
 * Brings `db` up to the newest of `migrations` (see the module comment). Each migration runs in an
 * IMMEDIATE transaction that re-reads the recorded version first, so two processes opening the same
 * database at once apply every migration exactly once. `now` gives applied_at (ms since the epoch).
 */
export function migrate(
  db: Database.Database,
  label: string,
  migrations: readonly Migration[],
  now: () => number = Date.now,
): MigrateResult {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const newest = newestVersion(migrations);
  const from = schemaVersion(db);
  if (from > newest) throw tooNew(label, from, newest);

  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (const m of sorted) {
    const step = db.transaction(() => {
      // Another process may have applied it since we looked.
      if (schemaVersion(db) >= m.version) return false;
      try {
        db.exec(m.sql);
      } catch (e) {
        throw new SumkeepError('store_error', `${label}: migration ${m.file} failed`, { cause: e });
      }
      record.run(m.version, m.name, now());
      return true;
    });
    if (step.immediate()) applied.push(m.version);
  }
  return { from, to: schemaVersion(db), applied };
}
