import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { isSumkeepError } from '../../src/core/errors.ts';
import { openSqliteDatabase, openSqliteStore } from '../../src/store/sqlite.ts';
import {
  checkSchema,
  loadMigrations,
  migrate,
  MIGRATIONS_DIR,
  newestVersion,
} from '../../src/store/migrate.ts';
import { LogBuilder, entries, rejectsWith, storeConformance } from './conformance.ts';

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sumkeep-store-'));
  tempDirs.push(d);
  return d;
}

/** A database file path in a new temporary directory (the file itself does not exist yet). */
function tempDb(): string {
  return join(tempDir(), 'log.db');
}

storeConformance('sqlite in memory', () => openSqliteStore(':memory:'));
storeConformance(
  'sqlite file',
  () => openSqliteStore(tempDb()),
  async () => {
    const file = join(tempDir(), 'nested', 'dir', 'log.db');
    return () => openSqliteStore(file);
  },
);

/** A file-backed store holding `n` records in one batch; the store is closed again. */
async function dbWithRecords(n: number): Promise<{ file: string; log: LogBuilder }> {
  const file = tempDb();
  const store = await openSqliteStore(file);
  const log = new LogBuilder();
  await log.append(store, entries(0, n));
  await store.close();
  return { file, log };
}

describe('openSqliteDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and the busy timeout', () => {
    const db = openSqliteDatabase(tempDb(), { busyTimeoutMs: 1234 });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
    } finally {
      db.close();
    }
  });

  it('defaults the busy timeout to 5 seconds', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    } finally {
      db.close();
    }
  });

  it('creates missing parent directories with mode 0700', () => {
    const root = tempDir();
    const file = join(root, 'a', 'b', 'log.db');
    openSqliteDatabase(file).close();
    assert.ok(existsSync(file));
    for (const d of [join(root, 'a'), join(root, 'a', 'b')]) {
      assert.equal(statSync(d).mode & 0o777, 0o700, d);
    }
  });

  it('refuses an empty file name, a read-only in-memory database and a bad busy timeout', () => {
    for (const [file, opts] of [
      ['', {}],
      [':memory:', { readonly: true }],
      [':memory:', { busyTimeoutMs: -1 }],
      [':memory:', { busyTimeoutMs: 1.5 }],
    ] as const) {
      assert.throws(
        () => openSqliteDatabase(file, opts),
        (e: unknown) => isSumkeepError(e, 'config'),
      );
    }
  });
});

describe('append-only guards in the database', () => {
  const statements: [table: string, sql: string][] = [
    ['records', "UPDATE records SET source = 'x' WHERE id = 0"],
    ['records', 'UPDATE records SET id = id + 100'],
    ['records', 'DELETE FROM records WHERE id = 1'],
    ['records', 'DELETE FROM records'],
    ['records', "INSERT OR REPLACE INTO records VALUES (0, 'evil.example/m', 'v1.0.0', x'00', 'x', 0)"],
    ['records', "INSERT OR REPLACE INTO records VALUES (3, 'example.com/m0', 'v1.0.0', x'00', 'x', 0)"],
    ['records', "INSERT OR IGNORE INTO records VALUES (7, 'evil.example/m', 'v1.0.0', x'00', 'x', 0)"],
    ['hashes', 'UPDATE hashes SET hash = zeroblob(32) WHERE level = 0 AND n = 0'],
    ['hashes', 'DELETE FROM hashes WHERE level = 0 AND n = 2'],
    ['hashes', 'DELETE FROM hashes'],
    ['hashes', 'INSERT OR REPLACE INTO hashes VALUES (0, 0, zeroblob(32))'],
    ['heads', "UPDATE heads SET note = x'00'"],
    ['heads', 'DELETE FROM heads'],
    ['heads', "INSERT OR REPLACE INTO heads VALUES (3, zeroblob(32), x'00', 0)"],
    ['heads', "INSERT INTO heads VALUES (2, zeroblob(32), x'00', 0)"],
  ];

  for (const [table, sql] of statements) {
    it(`refuses ${sql}`, async () => {
      const { file, log } = await dbWithRecords(3);
      const db = openSqliteDatabase(file);
      try {
        assert.throws(
          () => db.prepare(sql).run(),
          (e: unknown) => e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_TRIGGER',
          `${table}: ${sql}`,
        );
      } finally {
        db.close();
      }
      const store = await openSqliteStore(file);
      try {
        assert.equal(await store.treeSize(), 3);
        assert.deepEqual(await store.heads(), log.heads);
        assert.deepEqual(await store.recordTexts(0, 3), log.texts);
        assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
      } finally {
        await store.close();
      }
    });
  }
});

describe('migrations', () => {
  it('lives in migrations/sqlite/ of the package root, starting with 001_init.sql', () => {
    assert.equal(MIGRATIONS_DIR, fileURLToPath(new URL('../../migrations/sqlite/', import.meta.url)));
    const ms = loadMigrations();
    assert.equal(ms[0]?.file, '001_init.sql');
    assert.equal(ms[0]?.name, 'init');
  });

  it('records every migration in a fresh database, and applies nothing on reopen', async () => {
    const file = tempDb();
    const want = loadMigrations();
    await (await openSqliteStore(file)).close();
    const rowsOf = (): unknown[] => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
      } finally {
        db.close();
      }
    };
    const first = rowsOf() as { version: number; name: string; applied_at: number }[];
    assert.deepEqual(
      first.map((r) => [r.version, r.name]),
      want.map((m) => [m.version, m.name]),
    );
    for (const r of first) assert.ok(Number.isSafeInteger(r.applied_at) && r.applied_at > 1_600_000_000_000);

    const db = openSqliteDatabase(file);
    try {
      const again = migrate(db, file, want, () => 1);
      assert.deepEqual(again, { from: newestVersion(want), to: newestVersion(want), applied: [] });
    } finally {
      db.close();
    }
    await (await openSqliteStore(file)).close();
    assert.deepEqual(rowsOf(), first);
  });

  it('refuses a database from a newer sumkeep with schema_too_new, read-write and read-only', async () => {
    const file = tempDb();
    await (await openSqliteStore(file)).close();
    const newest = newestVersion(loadMigrations());
    const raw = new Database(file);
    raw.prepare("INSERT INTO schema_migrations VALUES (?, 'future', 0)").run(newest + 5);
    raw.close();
    const message = `${file}: database schema version ${newest + 5} is newer than this sumkeep supports (${newest}); upgrade sumkeep`;
    for (const opts of [{}, { readonly: true }]) {
      await assert.rejects(openSqliteStore(file, opts), (e: unknown) => {
        assert.ok(isSumkeepError(e, 'schema_too_new'), String(e));
        assert.equal(e.message, message);
        return true;
      });
    }
  });

  it('applies migrations in version order, each with its record, and rolls back a failing one', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '002_second.sql'), "INSERT INTO t (v) VALUES ('second');");
    writeFileSync(join(dir, '001_first.sql'), "CREATE TABLE t (v TEXT); INSERT INTO t (v) VALUES ('first');");
    writeFileSync(join(dir, 'README.md'), 'not a migration');
    const db = new Database(':memory:');
    try {
      const r1 = migrate(db, 'test.db', loadMigrations(dir), () => 42);
      assert.deepEqual(r1, { from: 0, to: 2, applied: [1, 2] });
      assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['first', 'second']);
      assert.deepEqual(db.prepare('SELECT * FROM schema_migrations ORDER BY version').all(), [
        { version: 1, name: 'first', applied_at: 42 },
        { version: 2, name: 'second', applied_at: 42 },
      ]);

      // 003 makes one change and then fails: neither the change nor its record may remain.
      writeFileSync(
        join(dir, '003_broken.sql'),
        "INSERT INTO t (v) VALUES ('third'); INSERT INTO missing VALUES (1);",
      );
      assert.throws(
        () => migrate(db, 'test.db', loadMigrations(dir)),
        (e: unknown) =>
          isSumkeepError(e, 'store_error') && e.message === 'test.db: migration 003_broken.sql failed',
      );
      assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['first', 'second']);
      assert.equal(db.prepare('SELECT max(version) FROM schema_migrations').pluck().get(), 2);
    } finally {
      db.close();
    }
  });

  it('checkSchema refuses an older schema (read-only opens cannot migrate)', () => {
    const db = new Database(':memory:');
    try {
      assert.throws(
        () => checkSchema(db, 'x.db', loadMigrations()),
        (e: unknown) => isSumkeepError(e, 'store_error') && /open it once read-write/.test(e.message),
      );
    } finally {
      db.close();
    }
  });

  const badDirs: [name: string, files: string[], message: RegExp][] = [
    ['a misnamed file', ['001_init.sql', '2-next.sql'], /2-next\.sql is not named/],
    ['an upper-case name', ['001_Init.sql'], /001_Init\.sql is not named/],
    ['two files with one version', ['001_a.sql', '1_b.sql'], /have the same version/],
    ['a gap', ['001_a.sql', '003_c.sql'], /003_c\.sql has version 3, expected 2/],
    ['not starting at 1', ['002_b.sql'], /002_b\.sql has version 2, expected 1/],
  ];
  for (const [name, files, message] of badDirs) {
    it(`loadMigrations refuses ${name}`, () => {
      const dir = tempDir();
      for (const f of files) writeFileSync(join(dir, f), 'SELECT 1;');
      assert.throws(
        () => loadMigrations(dir),
        (e: unknown) => isSumkeepError(e, 'config') && message.test(e.message),
      );
    });
  }
});

describe('openSqliteStore', () => {
  it('opens an existing database read-only: reads work, writes are refused', async () => {
    const { file, log } = await dbWithRecords(4);
    const store = await openSqliteStore(file, { readonly: true });
    try {
      assert.equal(await store.treeSize(), 4);
      assert.deepEqual(await store.recordTexts(0, 4), log.texts);
      await rejectsWith(store.appendBatch(log.next(entries(4, 1))), 'store_error');
      await rejectsWith(store.checkWritable(), 'store_error');
    } finally {
      await store.close();
    }
  });

  it('refuses to open a missing file read-only, and does not create it', async () => {
    const file = tempDb();
    await rejectsWith(openSqliteStore(file, { readonly: true }), 'store_error');
    assert.equal(existsSync(file), false);
  });

  it('sees a committed batch from a second connection as soon as appendBatch resolves', async () => {
    const file = tempDb();
    const store = await openSqliteStore(file);
    const other = new Database(file, { readonly: true });
    try {
      await new LogBuilder().append(store, entries(0, 2));
      assert.equal(other.prepare('SELECT count(*) FROM records').pluck().get(), 2);
      assert.equal(other.prepare('SELECT max(size) FROM heads').pluck().get(), 2);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('maps a lock held too long by another connection to store_busy SQLITE_BUSY without SQL in the message', async () => {
    const file = tempDb();
    const store = await openSqliteStore(file, { busyTimeoutMs: 20 });
    const other = new Database(file);
    try {
      const log = new LogBuilder();
      await log.append(store, entries(0, 1));
      other.exec('BEGIN IMMEDIATE');
      for (const p of [store.appendBatch(log.next(entries(1, 1))), store.checkWritable()]) {
        await assert.rejects(p, (e: unknown) => {
          assert.ok(isSumkeepError(e, 'store_busy'), String(e));
          assert.ok(
            e.cause instanceof Database.SqliteError && e.cause.code === 'SQLITE_BUSY',
            String(e.cause),
          );
          assert.match(e.message, /\(SQLITE_BUSY\)$/);
          assert.doesNotMatch(e.message, /INSERT|SELECT|records|hashes|heads/);
          return true;
        });
      }
      other.exec('ROLLBACK');
      await log.append(store, entries(1, 1));
      assert.equal(await store.treeSize(), 2);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('refuses with log_inconsistent a database whose records run past the latest head', async () => {
    const { file } = await dbWithRecords(2);
    const raw = new Database(file);
    raw.prepare("INSERT INTO records VALUES (2, 'example.com/extra', 'v1.0.0', x'00', 'x', 0)").run();
    raw.close();
    await rejectsWith(openSqliteStore(file), 'log_inconsistent');
  });

  it('checkWritable commits a probe row and leaves the log untouched', async () => {
    const { file, log } = await dbWithRecords(2);
    const store = await openSqliteStore(file);
    try {
      await store.checkWritable();
      await store.checkWritable();
      assert.deepEqual(await store.heads(), log.heads);
    } finally {
      await store.close();
    }
    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.prepare('SELECT count(*) FROM write_probe').pluck().get(), 1);
    } finally {
      raw.close();
    }
  });

  it('leaves no -wal or -shm file next to the database after close', async () => {
    const { file } = await dbWithRecords(3);
    const dir = join(file, '..');
    assert.deepEqual(readdirSync(dir), ['log.db']);
  });
});
