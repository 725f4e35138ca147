/**
 * Opens the store a `--db` value names: a `postgres://` or `postgresql://` URL is PostgreSQL
 * (loaded only then), anything else a SQLite file. Interim: the store factory (openStore) replaces
 * this. Pool size and statement timeout come from SUMKEEP_DB_POOL_MAX and
 * SUMKEEP_DB_STATEMENT_TIMEOUT_MS until the settings schema has their flags.
 */
import { SumkeepError } from '../core/errors.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import type { Store } from '../store/store.ts';

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new SumkeepError('config', `${name} ${JSON.stringify(v)}: want a whole number`);
  return Number(v);
}

export async function openCliStore(db: string, opts: { readonly?: boolean } = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(db)) {
    const { openPostgresStore } = await import('../store/postgres.ts');
    return openPostgresStore(db, {
      ...opts,
      poolMax: envInt('SUMKEEP_DB_POOL_MAX'),
      statementTimeoutMs: envInt('SUMKEEP_DB_STATEMENT_TIMEOUT_MS'),
    });
  }
  return openSqliteStore(db.startsWith('sqlite:') ? db.slice('sqlite:'.length) : db, opts);
}

/** The `--db` value for logs: a PostgreSQL URL without its password. */
export async function describeDb(db: string): Promise<string> {
  if (!/^postgres(ql)?:\/\//.test(db)) return db;
  const { redactUrl } = await import('../store/postgres.ts');
  return redactUrl(db);
}
