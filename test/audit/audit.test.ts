/**
 * sumkeep audit on real SQLite logs: clean logs pass; a record text, a stored hash, a head or a
 * head note altered directly in the database (its append-only triggers dropped) is found and named;
 * --against a serving node of the same log passes, of a forked log under the same key fails.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from '../../src/core/note.ts';
import { decodeUtf8, utf8 } from '../../src/core/bytes.ts';
import { formatTree } from '../../src/core/tlog/index.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { createNoteKey, loadNoteKeys } from '../../src/keys/notekey.ts';
import { openSqliteDatabase, openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { runCli, startServer, tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');

/** Appends records [from, to) of module family `family`, in batches of `batch`. */
async function grow(
  db: string,
  keys: string,
  from: number,
  to: number,
  family = 'example.com/m',
  batch = 64,
) {
  const store = await openSqliteStore(db);
  const seq = await Sequencer.open(store, loadNoteKeys(keys).signers, { maxDelayMs: 1, maxBatch: batch });
  const adds = [];
  for (let i = from; i < to; i++) {
    const path = `${family}${i}`;
    adds.push(
      seq.add({
        path,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(path, 'v1.0.0', H(String(i % 10)), H('m'))),
        source: 'test',
      }),
    );
  }
  await Promise.all(adds);
  await seq.close();
  await store.close();
}

/** Runs SQL on the raw database with the append-only triggers dropped (an operator's mistake or an attack). */
function tamper(db: string, sql: string, ...params: unknown[]) {
  const raw = openSqliteDatabase(db);
  try {
    for (const t of ['records_no_update', 'hashes_no_update', 'heads_no_update', 'head_notes_no_update']) {
      raw.exec(`DROP TRIGGER IF EXISTS ${t}`);
    }
    raw.prepare(sql).run(...params);
  } finally {
    raw.close();
  }
}

describe('sumkeep audit', () => {
  let dir: string;
  let keys: string;
  let clean: string;

  before(async () => {
    dir = tempDir('audit');
    keys = join(dir, 'keys');
    createNoteKey(keys, 'audit.test');
    clean = join(dir, 'clean.db');
    await grow(clean, keys, 0, 600);
  });

  const copyOf = (name: string) => {
    const f = join(dir, name);
    copyFileSync(clean, f);
    return f;
  };

  it('passes a clean log: every record, stored hash and head', () => {
    const r = runCli(['audit', '--db', clean, '--keys', keys]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^audit: 600 records, (\d+) signed heads, tree size 600, root \S+$/m);
    assert.ok(Number(/(\d+) signed heads/.exec(r.stdout)![1]) >= 600 / 64);
    assert.match(r.stdout, /^audit: clean$/m);
  });

  it('passes an empty log', () => {
    const empty = join(dir, 'empty.db');
    const raw = openSqliteDatabase(empty);
    raw.close();
    const r = runCli(['audit', '--db', empty, '--keys', keys]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /tree size 0/);
  });

  it('names a record whose text was altered in the database', () => {
    const db = copyOf('text.db');
    tamper(
      db,
      'UPDATE records SET text = ? WHERE id = 123',
      utf8(formatRecordLines('example.com/m123', 'v1.0.0', H('x'), H('m'))),
    );
    const r = runCli(['audit', '--db', db, '--keys', keys]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^inconsistent: record 123: the stored leaf hash differs from the hash of the record text$/m,
    );
    assert.match(r.stdout, /^inconsistent: head of size \d+: stored root/m);
    assert.match(r.stdout, /INCONSISTENT/);
  });

  it('names a record whose text is not its own module version', () => {
    const db = copyOf('other.db');
    tamper(
      db,
      'UPDATE records SET text = ? WHERE id = 7',
      utf8(formatRecordLines('example.com/m8', 'v1.0.0', H('8'), H('m'))),
    );
    const r = runCli(['audit', '--db', db, '--keys', keys, '--json']);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.ok, false);
    const f = report.findings.find((x: { kind: string }) => x.kind === 'record_text');
    assert.equal(f.recordId, 7);
    assert.match(f.message, /text is the record of example\.com\/m8@v1\.0\.0/);
  });

  it('finds an altered interior stored hash', () => {
    const db = copyOf('hash.db');
    tamper(db, 'UPDATE hashes SET hash = ? WHERE level = 3 AND n = 5', new Uint8Array(32));
    const r = runCli(['audit', '--db', db, '--keys', keys]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /inconsistent: the stored hash of records 40\.\.47 \(level 3\) differs/);
  });

  it('finds a head whose note is signed by another key, or is no note', async () => {
    const db = copyOf('head.db');
    const other = join(dir, 'otherkeys');
    createNoteKey(other, 'audit.test');
    const store = await openSqliteStore(db, { readonly: true });
    const [, second, third] = await store.heads();
    await store.close();
    // The right tree (size and root), signed by a key of the same name that is not the log's.
    const forged = sign(
      decodeUtf8(formatTree({ N: second!.size, hash: second!.hash }))!,
      loadNoteKeys(other).signers,
    );
    tamper(db, 'UPDATE heads SET note = ? WHERE size = ?', forged, second!.size);
    tamper(db, 'UPDATE heads SET note = ? WHERE size = ?', utf8('not a note'), third!.size);
    const r = runCli(['audit', '--db', db, '--keys', keys]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^inconsistent: head of size ${second!.size}: .*verif`, 'm'));
    assert.match(r.stdout, new RegExp(`^inconsistent: head of size ${third!.size}: `, 'm'));
    assert.doesNotMatch(r.stdout, /stored root/);
  });

  it('refuses to run without a note key (exit 2)', () => {
    const r = runCli(['audit', '--db', clean, '--keys', join(dir, 'nowhere')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no such directory/);
  });

  it('--against: a node serving the same log (or one ahead of it) passes; a fork under the same key fails', async () => {
    const ahead = copyOf('ahead.db');
    await grow(ahead, keys, 600, 700);
    const fork = join(dir, 'fork.db');
    await grow(fork, keys, 0, 600, 'example.com/fork');
    for (const [db, want] of [
      [clean, 0],
      [ahead, 0],
      [fork, 1],
    ] as const) {
      const srv = await startServer({ keys, db, upstream: 'off', extra: ['--allow-root-key'] });
      try {
        const r = runCli(['audit', '--db', clean, '--keys', keys, '--against', srv.url]);
        assert.equal(r.status, want, `${db}: ${r.stdout}${r.stderr}`);
        if (want === 1) assert.match(r.stdout, /inconsistent: .*shows a tree of size 600 with root/);
        else assert.match(r.stdout, new RegExp(`shows size ${db === ahead ? 700 : 600}`));
      } finally {
        await srv.stop();
      }
    }
  });
});
