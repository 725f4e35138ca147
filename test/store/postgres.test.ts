/**
 * The PostgreSQL store: the shared conformance suite, the append-only triggers, migrations, several
 * writers on one database, and error mapping. Needs a PostgreSQL server (test/helpers/postgres.ts):
 * skipped without one, failed under CI=true.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { isSumkeepError } from '../../src/core/errors.ts';
import { splitStoredHashIndex, storedHashCount } from '../../src/core/tlog/index.ts';
import { openPostgresStore, redactUrl } from '../../src/store/postgres.ts';
import { migratePostgres, PG_MIGRATIONS_DIR } from '../../src/store/postgres-migrate.ts';
import { loadMigrations, newestVersion } from '../../src/store/migrate.ts';
import type { AuditStore } from '../../src/store/store.ts';
import { connect, requirePostgres, testDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { LogBuilder, entries, rejectsWith, storeConformance } from './conformance.ts';

const admin = await requirePostgres('the PostgreSQL store');

if (admin !== null) {
  const db: TestDatabase = await testDatabase(admin);

  storeConformance(
    'postgres',
    async () => openPostgresStore(await db.freshSchemaUrl()),
    async () => {
      const url = await db.freshSchemaUrl();
      return () => openPostgresStore(url);
    },
  );

  /** A store in a fresh schema holding `n` records in one batch, its URL and the builder. */
  async function storeWithRecords(n: number): Promise<{ url: string; log: LogBuilder; store: AuditStore }> {
    const url = await db.freshSchemaUrl();
    const store = await openPostgresStore(url);
    const log = new LogBuilder();
    await log.append(store, entries(0, n));
    return { url, log, store };
  }

  /** A raw connection to the same schema (search_path from the URL), bypassing the store. */
  function raw(url: string): Promise<pg.Client> {
    return connect(url);
  }

  describe('append-only triggers in PostgreSQL', () => {
    const statements: string[] = [
      "UPDATE records SET source = 'x' WHERE id = 0",
      'UPDATE records SET id = id + 100',
      'DELETE FROM records WHERE id = 1',
      'DELETE FROM records',
      'TRUNCATE records CASCADE',
      "INSERT INTO records VALUES (0, 'evil.example/m', 'v1.0.0', '\\x00', 'x', 0) ON CONFLICT (id) DO UPDATE SET path = excluded.path",
      "INSERT INTO records VALUES (4, 'evil.example/m', 'v1.0.0', '\\x00', 'x', 0)",
      "INSERT INTO records VALUES (3, 'example.com/m0', 'v1.0.0', '\\x00', 'x', 0)",
      "INSERT INTO records VALUES (3, 'a.example/m', 'v1.0.0', '\\x00', 'x', 0), (5, 'b.example/m', 'v1.0.0', '\\x00', 'x', 0)",
      "UPDATE hashes SET hash = '\\x0000000000000000000000000000000000000000000000000000000000000000' WHERE level = 0 AND n = 0",
      'DELETE FROM hashes WHERE level = 0 AND n = 2',
      'TRUNCATE hashes',
      "INSERT INTO hashes VALUES (0, 5, '\\x0000000000000000000000000000000000000000000000000000000000000000')",
      "UPDATE heads SET note = '\\x00'",
      'DELETE FROM heads',
      'TRUNCATE heads CASCADE',
      "INSERT INTO heads VALUES (2, '\\x0000000000000000000000000000000000000000000000000000000000000000', '\\x00', 0)",
      // Larger than the latest head but covering records that are not stored.
      "INSERT INTO heads VALUES (4, '\\x0000000000000000000000000000000000000000000000000000000000000000', '\\x00', 0)",
      "INSERT INTO heads VALUES (3, '\\x0000000000000000000000000000000000000000000000000000000000000000', '\\x00', 0) ON CONFLICT (size) DO UPDATE SET note = excluded.note",
      "UPDATE head_notes SET note = '\\x00'",
      'DELETE FROM head_notes',
    ];

    for (const statement of statements) {
      it(`refuses ${statement}`, async () => {
        const { url, log, store } = await storeWithRecords(3);
        await store.addHeadNote(3, new TextEncoder().encode('another note\n'), 1);
        const sql = await raw(url);
        try {
          await assert.rejects(sql.query(statement), (e: unknown) => {
            const code = (e as { code?: string }).code ?? '';
            assert.match(code, /^23/, `${code} ${String(e)}`);
            return true;
          });
        } finally {
          await sql.end().catch(() => {});
        }
        assert.equal(await store.treeSize(), 3);
        assert.deepEqual(await store.heads(), log.heads);
        assert.deepEqual(await store.recordTexts(0, 3), log.texts);
        assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
        assert.equal((await store.headNotes(3)).length, 1);
        await store.close();
      });
    }

    // An insert that skips its conflicting rows inserts nothing: allowed, and the log is unchanged.
    for (const statement of [
      "INSERT INTO hashes VALUES (0, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000') ON CONFLICT DO NOTHING",
      "INSERT INTO records VALUES (0, 'example.com/m0', 'v1.0.0', '\\x00', 'x', 0) ON CONFLICT DO NOTHING",
      "INSERT INTO heads VALUES (3, '\\x0000000000000000000000000000000000000000000000000000000000000000', '\\x00', 0) ON CONFLICT DO NOTHING",
    ]) {
      it(`changes nothing with ${statement}`, async () => {
        const { url, log, store } = await storeWithRecords(3);
        const sql = await raw(url);
        try {
          await sql.query(statement).catch((e: unknown) => {
            // Refusing is as good as skipping.
            assert.ok(((e as { code?: string }).code ?? '').startsWith('23'), String(e));
          });
        } finally {
          await sql.end().catch(() => {});
        }
        assert.deepEqual(await store.heads(), log.heads);
        assert.deepEqual(await store.recordTexts(0, 3), log.texts);
        assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
        assert.equal(await store.recordById(3), null);
        await store.close();
      });
    }

    it('accepts the next record, hashes and head written by hand (the triggers are not too strict)', async () => {
      const { url, log, store } = await storeWithRecords(3);
      const batch = log.next(entries(3, 1));
      const sql = await raw(url);
      try {
        await sql.query('BEGIN');
        {
          const r = batch.records[0]!;
          await sql.query('INSERT INTO records VALUES ($1, $2, $3, $4, $5, 0)', [
            r.id,
            r.path,
            r.version,
            Buffer.from(r.text),
            r.source,
          ]);
          // Hashes of record 3: level 0 n 3, level 1 n 1, level 2 n 0.
          const want: [number, number][] = [
            [0, 3],
            [1, 1],
            [2, 0],
          ];
          assert.equal(batch.hashes.length, want.length);
          for (const [i, [level, n]] of want.entries()) {
            await sql.query('INSERT INTO hashes VALUES ($1, $2, $3)', [
              level,
              n,
              Buffer.from(batch.hashes[i]!.hash),
            ]);
          }
          await sql.query('INSERT INTO heads VALUES (4, $1, $2, $3)', [
            Buffer.from(batch.head.hash),
            Buffer.from(batch.head.note),
            batch.head.createdAt,
          ]);
        }
        await sql.query('COMMIT');
      } finally {
        await sql.end().catch(() => {});
      }
      log.commit(batch);
      assert.equal(await store.treeSize(), 4);
      assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
      assert.equal(storedHashCount(4), log.hashes.length);
      await store.close();
    });

    // The checks must cost O(batch), not O(log): a trigger plan that scans a table (version 1's
    // hashes check, planned once per session while the log was small, hashed the whole hashes
    // table on every batch) makes every append slower as the log grows. Counted by PostgreSQL's
    // own statistics: sequential scans of the log's tables while batches are appended.
    it('appends batches without scanning any of the log tables (the checks are index probes)', async () => {
      const url = await db.freshSchemaUrl();
      const sql = await raw(url);
      /**
       * Waits until the exited sessions' statistics show every row of a log of `size` records
       * (records, stored hashes, heads: `heads` of them) inserted; the sequential scans per table.
       */
      const seqScans = async (size: number, heads: number): Promise<Record<string, number>> => {
        const want: Record<string, number> = { records: size, hashes: storedHashCount(size), heads };
        const deadline = Date.now() + 30_000;
        for (;;) {
          const { rows } = await sql.query<{ relname: string; seq_scan: string; n_tup_ins: string }>(
            `SELECT relname, seq_scan, n_tup_ins FROM pg_stat_user_tables
             WHERE schemaname = current_schema() AND relname IN ('records', 'hashes', 'heads')`,
          );
          const inserted = Object.fromEntries(rows.map((r) => [r.relname, Number(r.n_tup_ins)]));
          if (rows.length === 3 && rows.every((r) => inserted[r.relname] === want[r.relname]))
            return Object.fromEntries(rows.map((r) => [r.relname, Number(r.seq_scan)]));
          assert.ok(
            Date.now() < deadline,
            `statistics show ${JSON.stringify(inserted)} inserted rows, not ${JSON.stringify(want)}`,
          );
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      try {
        const log = new LogBuilder();
        const first = await openPostgresStore(url);
        for (let i = 0; i < 8; i++) await log.append(first, entries(30 * i, 30));
        await first.close(); // its sessions end and report their statistics
        const before = await seqScans(240, 8);
        // Without the consistency check at open (a one-off, not part of an append). More batches
        // than a session appends before PostgreSQL switches its trigger plans to generic ones.
        const second = await openPostgresStore(url, { check: false });
        for (let i = 8; i < 20; i++) await log.append(second, entries(30 * i, 30));
        await second.close();
        assert.deepEqual(await seqScans(600, 20), before);
        const reopened = await openPostgresStore(url);
        assert.deepEqual(await reopened.heads(), log.heads);
        await reopened.close();
      } finally {
        await sql.end().catch(() => {});
      }
    });
  });

  describe('migrations (PostgreSQL)', () => {
    it('records every migration once, even when several nodes open a fresh database at once', async () => {
      const url = await db.freshSchemaUrl();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
      for (const s of stores) await s.close();
      const sql = await raw(url);
      try {
        const { rows } = await sql.query<{ version: number; name: string }>(
          'SELECT version, name FROM schema_migrations ORDER BY version',
        );
        const want = loadMigrations(PG_MIGRATIONS_DIR);
        assert.deepEqual(
          rows.map((r) => [r.version, r.name]),
          want.map((m) => [m.version, m.name]),
        );
        assert.equal(want[0]?.file, '001_init.sql');
      } finally {
        await sql.end().catch(() => {});
      }
    });

    it('refuses a database from a newer sumkeep with schema_too_new, read-write and read-only', async () => {
      const { url, store } = await storeWithRecords(1);
      await store.close();
      const newest = newestVersion(loadMigrations(PG_MIGRATIONS_DIR));
      const sql = await raw(url);
      await sql.query("INSERT INTO schema_migrations VALUES ($1, 'future', 0)", [newest + 5]);
      await sql.end().catch(() => {});
      for (const opts of [{}, { readonly: true }]) {
        await assert.rejects(openPostgresStore(url, opts), (e: unknown) => {
          assert.ok(isSumkeepError(e, 'schema_too_new'), String(e));
          assert.match(
            e.message,
            new RegExp(`schema version ${newest + 5} is newer than this sumkeep supports \\(${newest}\\)`),
          );
          return true;
        });
      }
    });

    it('upgrades a database holding a log written at schema version 2: it appends and refuses as before, and a version-2 writer still appends', async () => {
      const url = await db.freshSchemaUrl();
      const sql = await raw(url);
      try {
        const all = loadMigrations(PG_MIGRATIONS_DIR);
        await migratePostgres(
          sql,
          'test',
          all.filter((m) => m.version <= 2),
        );
        // As a version-2 sumkeep appends: one transaction per batch, under the append lock.
        const log = new LogBuilder();
        const appendAsVersion2 = async (first: number, count: number): Promise<void> => {
          const batch = log.next(entries(first, count));
          await sql.query('BEGIN');
          await sql.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [0x73756d6b, 0x6170706e]);
          for (const r of batch.records) {
            await sql.query('INSERT INTO records VALUES ($1, $2, $3, $4, $5, $6)', [
              r.id,
              r.path,
              r.version,
              Buffer.from(r.text),
              r.source,
              batch.head.createdAt,
            ]);
          }
          await sql.query('INSERT INTO hashes SELECT * FROM unnest($1::int4[], $2::int8[], $3::bytea[])', [
            batch.hashes.map((h) => splitStoredHashIndex(h.index)[0]),
            batch.hashes.map((h) => splitStoredHashIndex(h.index)[1]),
            batch.hashes.map((h) => Buffer.from(h.hash)),
          ]);
          await sql.query('INSERT INTO heads VALUES ($1, $2, $3, $4)', [
            batch.head.size,
            Buffer.from(batch.head.hash),
            Buffer.from(batch.head.note),
            batch.head.createdAt,
          ]);
          await sql.query('COMMIT');
          log.commit(batch);
        };
        await appendAsVersion2(0, 5);
        await appendAsVersion2(5, 5);
        const store = await openPostgresStore(url);
        try {
          const { rows } = await sql.query<{ version: number }>(
            'SELECT version FROM schema_migrations ORDER BY version',
          );
          assert.deepEqual(
            rows.map((r) => r.version),
            all.map((m) => m.version),
          );
          assert.deepEqual(await store.heads(), log.heads);
          await log.append(store, entries(10, 35));
          // A node of the older version still running keeps appending on the upgraded schema.
          await appendAsVersion2(45, 5);
          assert.deepEqual(await store.heads(), log.heads);
          assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
          assert.deepEqual(await store.recordTexts(0, 50), log.texts);
          // The replaced checks still refuse a level that does not continue.
          await assert.rejects(
            sql.query("INSERT INTO hashes VALUES (1, 30, '\\x" + '00'.repeat(32) + "')"),
            (e: unknown) => /^23/.test((e as { code?: string }).code ?? ''),
          );
          await assert.rejects(
            sql.query("INSERT INTO records VALUES (51, 'x.example/m', 'v1.0.0', '\\x00', 'x', 0)"),
            (e: unknown) => /^23/.test((e as { code?: string }).code ?? ''),
          );
          assert.equal(await store.treeSize(), 50);
        } finally {
          await store.close();
        }
      } finally {
        await sql.end().catch(() => {});
      }
    });

    it('refuses to open an empty database read-only (it cannot migrate)', async () => {
      await rejectsWith(openPostgresStore(await db.freshSchemaUrl(), { readonly: true }), 'store_error');
    });
  });

  describe('several writers on one database', () => {
    it('serializes commits: of two batches computed against the same tree one commits, the other conflicts', async () => {
      const url = await db.freshSchemaUrl();
      const a = await openPostgresStore(url);
      const b = await openPostgresStore(url);
      try {
        const log = new LogBuilder();
        await log.append(a, entries(0, 5));
        // Both nodes compute the next batch from the same tree of 5.
        const fromA = log.next(entries(5, 3));
        const fromB = log.next(entries(100, 4));
        const results = await Promise.allSettled([a.appendBatch(fromA), b.appendBatch(fromB)]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r) => r.status === 'rejected');
        assert.equal(ok.length, 1, 'exactly one batch commits');
        assert.equal(refused.length, 1);
        assert.ok(isSumkeepError((refused[0] as PromiseRejectedResult).reason, 'conflict'));
        const heads = await b.heads();
        assert.deepEqual(
          heads.map((h) => h.size),
          [5, results[0]!.status === 'fulfilled' ? 8 : 9],
        );
        assert.deepEqual(await a.heads(), heads);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('never stores two heads of one size under a storm of racing batches', async () => {
      const url = await db.freshSchemaUrl();
      const nodes = await Promise.all(Array.from({ length: 3 }, () => openPostgresStore(url)));
      try {
        const log = new LogBuilder();
        await log.append(nodes[0]!, entries(0, 1));
        let next = 1000;
        for (let round = 0; round < 10; round++) {
          // Every node proposes its own batch against the tree it knows; only one per size wins.
          const batches = nodes.map(() => log.next(entries((next += 10), 1 + (round % 3))));
          const settled = await Promise.allSettled(nodes.map((s, i) => s.appendBatch(batches[i]!)));
          const winners = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
          assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(settled.map((s) => s.status))}`);
          log.commit(batches[winners[0]!]!);
        }
        const heads = await nodes[1]!.heads();
        assert.deepEqual(heads, log.heads);
        assert.equal(new Set(heads.map((h) => h.size)).size, heads.length);
      } finally {
        for (const s of nodes) await s.close();
      }
    });
  });

  describe('openPostgresStore', () => {
    it('refuses a read-only store writes, and serves reads', async () => {
      const { url, log, store } = await storeWithRecords(2);
      await store.close();
      const ro = await openPostgresStore(url, { readonly: true });
      try {
        assert.deepEqual(await ro.recordTexts(0, 2), log.texts);
        await rejectsWith(ro.appendBatch(log.next(entries(2, 1))), 'store_error');
        await rejectsWith(ro.checkWritable(), 'store_error');
      } finally {
        await ro.close();
      }
    });

    it('refuses with log_inconsistent a database whose records run past the latest head', async () => {
      const { url, store } = await storeWithRecords(2);
      await store.close();
      const sql = await raw(url);
      // The triggers allow the next record (only a head must cover it); the store must notice.
      await sql.query("INSERT INTO records VALUES (2, 'example.com/extra', 'v1.0.0', '\\x00', 'x', 0)");
      await sql.end().catch(() => {});
      await rejectsWith(openPostgresStore(url), 'log_inconsistent');
    });

    it('maps an unreachable server to unavailable, naming it without the password', async () => {
      const url = 'postgres://sumkeep:s3cret-pass@127.0.0.1:1/sumkeep';
      await assert.rejects(openPostgresStore(url, { connectTimeoutMs: 1000 }), (e: unknown) => {
        assert.ok(isSumkeepError(e, 'unavailable'), String(e));
        assert.match(e.message, /postgres:\/\/sumkeep@127\.0\.0\.1:1\/sumkeep/);
        assert.match(e.message, /ECONNREFUSED/);
        assert.doesNotMatch(e.message, /s3cret/);
        return true;
      });
      assert.equal(redactUrl(url), 'postgres://sumkeep@127.0.0.1:1/sumkeep');
      assert.equal(redactUrl('postgresql://u:p@h/db?password=p'), 'postgresql://u@h/db');
    });

    it('refuses a bad URL, bad options and a URL that turns off durable commits, without echoing the URL', async () => {
      for (const [url, opts] of [
        ['postgres://u:pw@[bad', {}],
        ['mysql://u:pw@h/db', {}],
        ['postgres://u:pw@h/db?options=-c%20synchronous_commit%3Doff', {}],
        ['postgres://u:pw@h/db?options=-c%20default_transaction_read_only%3Don', {}],
        ['postgres://u:pw@h/db', { poolMax: 0 }],
        ['postgres://u:pw@h/db', { statementTimeoutMs: 1.5 }],
      ] as const) {
        await assert.rejects(openPostgresStore(url, opts), (e: unknown) => {
          assert.ok(isSumkeepError(e, 'config'), `${url}: ${String(e)}`);
          assert.doesNotMatch(e.message, /pw/);
          return true;
        });
      }
    });

    it('names a database that does not exist with config', async () => {
      const u = new URL(db.url);
      u.pathname = '/sumkeep_no_such_database';
      await rejectsWith(openPostgresStore(u.toString()), 'config');
    });

    it('maps a statement timeout to store_busy and a lock held too long to store_busy, writing nothing', async () => {
      const { url, log, store } = await storeWithRecords(1);
      await store.close();
      const slow = await openPostgresStore(url, { statementTimeoutMs: 300 });
      const other = await raw(url);
      try {
        // Another session holds the append lock (as a stuck node would).
        const holder = (async () => {
          await other.query('BEGIN');
          await other.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [0x73756d6b, 0x6170706e]);
          await other.query('SELECT pg_sleep(1.5)');
          await other.query('COMMIT');
        })();
        await new Promise((r) => setTimeout(r, 200));
        await assert.rejects(slow.appendBatch(log.next(entries(1, 1))), (e: unknown) => {
          assert.ok(isSumkeepError(e, 'store_busy'), String(e));
          assert.match(e.message, /\(57014\)$/);
          assert.doesNotMatch(e.message, /SELECT|INSERT|records|heads/);
          return true;
        });
        await holder;
        assert.equal(await slow.treeSize(), 1);
        await log.append(slow, entries(1, 1));
        assert.equal(await slow.treeSize(), 2);
      } finally {
        await other.end().catch(() => {});
        await slow.close();
      }
    });

    it('opens at most poolMax connections, named by applicationName', async () => {
      const url = await db.freshSchemaUrl();
      const store = await openPostgresStore(url, { poolMax: 3, applicationName: 'sk-pool-probe' });
      const sql = await raw(url);
      try {
        // Many concurrent reads that each hold a connection for a moment: the pool never exceeds 3.
        const reads = Array.from({ length: 12 }, () =>
          store.readTileHashes(0, 0, 0).then(() => store.treeSize()),
        );
        await Promise.all(reads);
        const {
          rows: [row],
        } = await sql.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'sk-pool-probe'",
        );
        const n = Number(row!.n);
        assert.ok(n >= 1 && n <= 3, `connections: ${n}`);
      } finally {
        await sql.end().catch(() => {});
        await store.close();
      }
    });
  });
}
