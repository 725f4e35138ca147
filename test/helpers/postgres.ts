/**
 * PostgreSQL for tests. The server comes from the environment:
 *   SUMKEEP_TEST_PG_URL=postgres://user:password@127.0.0.1:5432/postgres   (what .ci/run exports)
 * or, without it, the libpq variables PGHOST / PGPORT / PGUSER / PGPASSWORD (database "postgres").
 * The role must be allowed to CREATE DATABASE. Every test file creates its own database with a
 * random name (testDatabase) and drops it at the end; nothing else on the server is touched.
 *
 * Without a reachable server the PostgreSQL tests skip with the reason, except under CI=true, where
 * they fail with what to do: a missing database server must not pass silently.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const PG_FIX =
  'set SUMKEEP_TEST_PG_URL=postgres://<user>:<password>@127.0.0.1:5432/postgres for a role with CREATEDB ' +
  "(.ci/run installs Debian's postgresql, starts it and exports it)";

/** The admin URL of the test server from the environment, or null when none is configured. */
export function testPgAdminUrl(): string | null {
  const url = process.env.SUMKEEP_TEST_PG_URL;
  if (url !== undefined && url !== '') return url;
  if (process.env.PGHOST !== undefined && process.env.PGHOST !== '') {
    const host = process.env.PGHOST;
    const port = process.env.PGPORT ?? '5432';
    const user = encodeURIComponent(process.env.PGUSER ?? 'postgres');
    // A socket directory goes in the query (postgres.js reads ?host=/path); the password from PGPASSWORD.
    return host.startsWith('/')
      ? `postgres://${user}@localhost:${port}/postgres?host=${encodeURIComponent(host)}`
      : `postgres://${user}@${host}:${port}/postgres`;
  }
  return null;
}

let probe: Promise<{ url: string } | { reason: string }> | undefined;

/** Finds and probes the test server once per process. */
export function findTestPostgres(): Promise<{ url: string } | { reason: string }> {
  probe ??= (async () => {
    const url = testPgAdminUrl();
    if (url === null) return { reason: 'no PostgreSQL server configured (SUMKEEP_TEST_PG_URL / PGHOST)' };
    const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return { url };
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).message;
      return { reason: `the PostgreSQL server of SUMKEEP_TEST_PG_URL / PGHOST cannot be reached (${code})` };
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return probe;
}

/**
 * The admin URL of a reachable test server, or null after registering one test that says why the
 * file's PostgreSQL tests do not run: skipped outside CI, failed under CI=true.
 * Call at the top level of a test file (top-level await).
 */
export async function requirePostgres(what: string): Promise<string | null> {
  const found = await findTestPostgres();
  if ('url' in found) return found.url;
  if (process.env.CI === 'true') {
    it(`${what} needs PostgreSQL`, () => {
      assert.fail(`PostgreSQL is required under CI: ${found.reason}; ${PG_FIX}`);
    });
  } else {
    it(`${what} needs PostgreSQL`, { skip: `${found.reason}; ${PG_FIX}` }, () => {});
  }
  return null;
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export interface TestDatabase {
  /** URL of the new, empty database. */
  url: string;
  name: string;
  /**
   * A URL of a further fresh, empty schema in this database (search_path set in the URL), for
   * suites that need many empty stores: a schema costs milliseconds, a database most of a second.
   */
  freshSchemaUrl(): Promise<string>;
  /** Drops the database (also done by the after hook registered by testDatabase). */
  drop(): Promise<void>;
}

/**
 * Creates a database with a random name on the test server and registers an `after` hook that
 * drops it (WITH (FORCE): servers left running by a failed test do not keep it alive). Call it at
 * the top level of the test file (top-level await), not in a hook: an `after` registered inside a
 * `before` hook runs as soon as that hook ends.
 */
export async function testDatabase(adminUrl: string, prefix = 'sumkeep_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  const url = withDatabase(adminUrl, name);
  let schemas = 0;
  let dropped = false;
  let inDb: postgres.Sql | undefined;
  const db: TestDatabase = {
    url,
    name,
    async freshSchemaUrl() {
      inDb ??= postgres(url, { max: 1, onnotice: () => {} });
      const schema = `s${++schemas}`;
      await inDb.unsafe(`CREATE SCHEMA ${schema}`);
      const u = new URL(url);
      u.searchParams.set('search_path', schema);
      return u.toString();
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await inDb?.end({ timeout: 1 });
      try {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 1 });
      }
    },
  };
  after(() => db.drop());
  return db;
}
