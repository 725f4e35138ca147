/**
 * Child process of bench/server.ts (run as compiled JavaScript, see compile.ts): builds the log the
 * way `sumkeep serve` does, through the real Sequencer over the real store: SQLite (file database,
 * WAL, synchronous=FULL: every batch is fsynced before its records resolve) or, for a postgres://
 * `db`, PostgreSQL (synchronous_commit=on, the advisory-locked append transaction), with the
 * rollback guard when `checkpoint` names its file.
 *
 *   node build-log.js '<json BuildArgs>'
 *
 * Phases, each timed from the first `add` to the last record resolving:
 *   first: records [0, mark) into the empty log, added at once (the sequencer batches them);
 *   fill:  records up to total - mark, in chunks of 50,000 (progress on stderr; not a measurement);
 *   last:  records [total - mark, total) into the log of total - mark records, added at once.
 * Prints one JSON line (BuildResult) on stdout.
 */
import fs from 'node:fs';
import pg from 'pg';
import { openSqliteDatabase, openSqliteStore } from '../../src/store/sqlite.ts';
import { openPostgresStore } from '../../src/store/postgres.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { loadNoteKeys } from '../../src/keys/notekey.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { rollbackGuard } from '../../src/cli/integrity.ts';
import { recordAt } from './records.ts';

export interface BuildArgs {
  db: string;
  keys: string;
  total: number;
  mark: number;
  maxBatch: number;
  maxDelayMs: number;
  /**
   * The rollback guard's file, as `serve` keeps it (SQLite: `<db>.checkpoint` by default;
   * PostgreSQL: --checkpoint-file, required): every batch's head is checked against it before
   * signing and kept in it (fsync, rename, directory fsync) before its records resolve. Absent:
   * no guard.
   */
  checkpoint?: string;
}

export interface BuildResult {
  first_ms: number;
  last_ms: number;
  total_ms: number;
  /** Tree size and base64 root hash of the latest signed head. */
  size: number;
  hash: string;
  /** Database bytes after close (SQLite: the file; the WAL is checkpointed and removed on close. PostgreSQL: pg_database_size). */
  db_bytes: number;
  /** Bytes per table or index, from SQLite's dbstat or PostgreSQL's pg_total_relation_size. */
  tables: Record<string, number>;
  /** Total bytes of the record texts. */
  text_bytes: number;
}

const CHUNK = 50_000;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as BuildArgs;
  const isPg = /^postgres(ql)?:\/\//.test(args.db);
  const store = isPg ? await openPostgresStore(args.db) : await openSqliteStore(args.db);
  const guard =
    args.checkpoint === undefined
      ? undefined
      : rollbackGuard({ file: args.checkpoint, writes: true }, args.keys, []);
  const seq = await Sequencer.open(store, loadNoteKeys(args.keys).signers, {
    maxDelayMs: args.maxDelayMs,
    maxBatch: args.maxBatch,
    guard,
  });
  let textBytes = 0;
  const add = async (lo: number, hi: number): Promise<number> => {
    const recs = [];
    for (let i = lo; i < hi; i++) {
      const r = recordAt(i);
      const text = utf8(r.text);
      textBytes += text.length;
      recs.push({ path: r.path, version: r.version, text, source: 'bench' });
    }
    // Records are prepared before the clock starts: the phase times the sequencer alone.
    const t0 = performance.now();
    const logged = await Promise.all(recs.map((r) => seq.add(r)));
    const ms = performance.now() - t0;
    if (logged[0]?.id !== lo || logged.at(-1)?.id !== hi - 1) {
      throw new Error(`records ${lo}..${hi - 1} got ids ${logged[0]?.id}..${logged.at(-1)?.id}`);
    }
    return ms;
  };

  const start = performance.now();
  const firstMs = await add(0, args.mark);
  process.stderr.write(
    `  sequenced ${args.mark} records into the empty log in ${(firstMs / 1000).toFixed(2)} s\n`,
  );
  let lastTick = performance.now();
  for (let lo = args.mark; lo < args.total - args.mark; lo += CHUNK) {
    await add(lo, Math.min(lo + CHUNK, args.total - args.mark));
    if (performance.now() - lastTick > 5000) {
      lastTick = performance.now();
      const done = Math.min(lo + CHUNK, args.total - args.mark);
      process.stderr.write(`  ${done} records (${((lastTick - start) / 1000).toFixed(0)} s)\n`);
    }
  }
  const lastMs = args.total > args.mark ? await add(args.total - args.mark, args.total) : firstMs;
  const totalMs = performance.now() - start;
  process.stderr.write(
    `  sequenced the last ${args.mark} records (log of ${args.total - args.mark}) in ${(lastMs / 1000).toFixed(2)} s\n`,
  );
  const head = seq.latest();
  await seq.close();
  await store.close();

  const { dbBytes, tables } = isPg ? await pgSizes(args.db) : sqliteSizes(args.db);
  const result: BuildResult = {
    first_ms: firstMs,
    last_ms: lastMs,
    total_ms: totalMs,
    size: head?.size ?? 0,
    hash: head === null ? '' : Buffer.from(head.hash).toString('base64'),
    db_bytes: dbBytes,
    tables,
    text_bytes: textBytes,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

function sqliteSizes(file: string): { dbBytes: number; tables: Record<string, number> } {
  const db = openSqliteDatabase(file, { readonly: true });
  const rows = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
    name: string;
    bytes: number;
  }[];
  db.close();
  const walBytes = fs.existsSync(file + '-wal') ? fs.statSync(file + '-wal').size : 0;
  return {
    dbBytes: fs.statSync(file).size + walBytes,
    tables: Object.fromEntries(rows.map((r) => [r.name, r.bytes])),
  };
}

async function pgSizes(url: string): Promise<{ dbBytes: number; tables: Record<string, number> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const db = await c.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b');
    const t = await c.query<{ name: string; b: string }>(
      `SELECT relname AS name, pg_total_relation_size(oid) AS b FROM pg_class
       WHERE relname IN ('records', 'hashes', 'heads') AND relkind = 'r'`,
    );
    return {
      dbBytes: Number(db.rows[0]!.b),
      tables: Object.fromEntries(t.rows.map((r) => [r.name, Number(r.b)])),
    };
  } finally {
    await c.end();
  }
}

await main();
