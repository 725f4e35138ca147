/**
 * `sumkeep backup`: an online, consistent snapshot of a SQLite log, taken while `serve` keeps
 * writing. SQLite's backup API copies the database page by page from one read snapshot; the copy
 * is written to `<out>.partial`, fsynced, checked (its stored hashes must hash to its latest
 * signed head) and only then renamed to `<out>`, so a file named `<out>` is always a whole,
 * verified log. An existing `<out>` is never overwritten.
 *
 * PostgreSQL is backed up with its own tools (pg_dump, base backups with WAL archiving for
 * point-in-time recovery): see docs/operations.md, "Disaster recovery".
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { hashesEqual, treeHash, withAsyncReader } from '../core/tlog/index.ts';
import { describeStoreLocation, parseStoreLocation } from './open.ts';
import { openSqliteDatabase, openSqliteStore } from './sqlite.ts';

export interface BackupResult {
  /** Size of the latest signed head in the copy. */
  size: number;
  bytes: number;
}

function fsyncPath(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function backupStore(
  db: string,
  out: string,
  onProgress?: (done: number, total: number) => void,
): Promise<BackupResult> {
  const loc = parseStoreLocation(db);
  if (loc.kind !== 'sqlite') {
    throw new SumkeepError(
      'unavailable',
      `${describeStoreLocation(loc)}: back up PostgreSQL with pg_dump or a base backup with WAL archiving (docs/operations.md, "Disaster recovery")`,
    );
  }
  if (loc.file === ':memory:')
    throw new SumkeepError('config', 'an in-memory database has nothing to back up');
  if (existsSync(out)) throw new SumkeepError('key_exists', `${out} exists; backup never overwrites a file`);
  const partial = `${out}.partial`;
  rmSync(partial, { force: true });
  const src = openSqliteDatabase(loc.file, { readonly: true });
  let bytes = 0;
  try {
    await src.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages - remainingPages, totalPages);
        return 256; // pages per step: short steps keep the writer's waits short
      },
    });
    bytes =
      Number(src.pragma('page_size', { simple: true })) * Number(src.pragma('page_count', { simple: true }));
  } catch (e) {
    rmSync(partial, { force: true });
    if (e instanceof SumkeepError) throw e;
    throw new SumkeepError(
      'store_error',
      `backup of ${loc.file} to ${partial} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  } finally {
    src.close();
  }
  try {
    fsyncPath(partial);
    const size = await checkCopy(partial);
    renameSync(partial, out);
    fsyncPath(dirname(out));
    return { size, bytes };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

/** Opens the copy read-only and checks that its stored hashes hash to its latest head. */
async function checkCopy(file: string): Promise<number> {
  const store = await openSqliteStore(file, { readonly: true });
  try {
    const head = await store.latestHead();
    if (head === null) return 0;
    const h = await withAsyncReader(
      (r) => treeHash(head.size, r),
      (idx) => store.readHashes(idx),
    );
    if (!hashesEqual(h, head.hash)) {
      throw new SumkeepError(
        'log_inconsistent',
        `the copy's stored hashes do not hash to its head of size ${head.size}`,
      );
    }
    return head.size;
  } finally {
    await store.close();
  }
}
