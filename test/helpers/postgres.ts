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
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

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
    // A socket directory goes in the query (?host=/path); the password comes from PGPASSWORD.
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
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
      return { url };
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).message;
      return { reason: `the PostgreSQL server of SUMKEEP_TEST_PG_URL / PGHOST cannot be reached (${code})` };
    } finally {
      await c.end().catch(() => {});
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

/** A connected pg client (an 'error' listener attached: a dropped connection must not end the test process). */
export async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  await c.connect();
  return c;
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
   * A URL of a further fresh, empty schema in this database (search_path set by the URL's
   * `options`), for
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
  const admin = await connect(adminUrl);
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  const url = withDatabase(adminUrl, name);
  let schemas = 0;
  let dropped = false;
  let inDb: pg.Client | undefined;
  const db: TestDatabase = {
    url,
    name,
    async freshSchemaUrl() {
      inDb ??= await connect(url);
      const schema = `s${++schemas}`;
      await inDb.query(`CREATE SCHEMA ${schema}`);
      const u = new URL(url);
      u.searchParams.set('options', `-c search_path=${schema}`);
      return u.toString();
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await inDb?.end().catch(() => {});
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end().catch(() => {});
      }
    },
  };
  after(() => db.drop());
  return db;
}

/** The directory of PostgreSQL's server programs (initdb, pg_ctl), or null. */
export function findPgBinDir(): string | null {
  const env = process.env.SUMKEEP_TEST_PG_BINDIR;
  if (env !== undefined && env !== '') return existsSync(join(env, 'pg_ctl')) ? env : null;
  // Debian and Ubuntu: /usr/lib/postgresql/<major>/bin; the newest major first.
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  for (const m of majors) {
    const dir = join(base, m, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

export interface PrivatePostgres {
  /** postgres://sumkeep:<password>@127.0.0.1:<port>/postgres */
  adminUrl: string;
  /** pg_ctl restart -m fast: every connection is cut, the server comes back on the same port. */
  restart(): Promise<void>;
  stop(): void;
  /** The server log (for failure messages). */
  log(): string;
}

/**
 * A PostgreSQL server of its own, for tests that stop or restart the server: initdb into a
 * temporary directory, pg_ctl start on a free loopback port (unix socket in that directory, no
 * other listener), password authentication. As root the server programs run as the `postgres`
 * user (initdb refuses root). Returns null after registering a skipped (outside CI) or failing
 * (CI=true) test when the server programs are missing. Stopped and removed by an `after` hook.
 */
export async function requirePrivatePostgres(what: string): Promise<PrivatePostgres | null> {
  const bin = findPgBinDir();
  if (bin === null) {
    const reason =
      'PostgreSQL server programs (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or SUMKEEP_TEST_PG_BINDIR';
    const fix = 'apt-get install postgresql';
    if (process.env.CI === 'true') {
      it(`${what} needs a PostgreSQL server of its own`, () =>
        assert.fail(`required under CI: ${reason}; ${fix}`));
    } else {
      it(`${what} needs a PostgreSQL server of its own`, { skip: `${reason}; ${fix}` }, () => {});
    }
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sumkeep-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pwFile = join(dir, 'pw');
  const password = randomBytes(12).toString('hex');
  writeFileSync(pwFile, password + '\n');
  const asRoot = process.getuid?.() === 0;
  let uid = -1;
  let gid = -1;
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0)
      throw new Error('running as root, but there is no postgres user to run the server as');
    uid = Number(id.stdout.trim());
    gid = Number(g.stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  const spawnOpts = {
    ...(asRoot ? { uid, gid } : {}),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
  };
  const failed = (prog: string, args: string[], status: number | null, stderr: string): Error => {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
    return new Error(`${prog} ${args.join(' ')} failed (${status}): ${stderr}\n${log}`);
  };
  const run = (prog: string, args: string[]): void => {
    const r = spawnSync(join(bin, prog), args, { encoding: 'utf8', timeout: 120_000, ...spawnOpts });
    if (r.status !== 0) throw failed(prog, args, r.status, r.stderr);
  };
  // Without blocking the event loop (the test keeps its load running meanwhile).
  const runAsync = (prog: string, args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(join(bin, prog), args, { ...spawnOpts, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(failed(prog, args, code, stderr))));
    });
  const port = await freePort();
  run('initdb', [
    '-D',
    data,
    '-U',
    'sumkeep',
    `--pwfile=${pwFile}`,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--no-instructions',
  ]);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on`;
  run('pg_ctl', ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
  let stopped = false;
  const server: PrivatePostgres = {
    adminUrl: `postgres://sumkeep:${password}@127.0.0.1:${port}/postgres`,
    restart: () =>
      runAsync('pg_ctl', ['-D', data, '-l', logFile, '-o', opts, '-m', 'fast', '-w', '-t', '60', 'restart']),
    stop: () => {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
  after(() => server.stop());
  return server;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
