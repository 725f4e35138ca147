import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { createNoteKey, loadNoteKeys } from '../../src/keys/notekey.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { backupStore } from '../../src/store/backup.ts';
import { isSumkeepError } from '../../src/core/errors.ts';
import { runCli, startServer, tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');

describe('sumkeep backup', () => {
  it('copies a log that a server keeps growing, into a verified file audit passes', async () => {
    const dir = tempDir('backup');
    const keys = join(dir, 'keys');
    createNoteKey(keys, 'backup.test');
    const db = join(dir, 'live.db');
    const store = await openSqliteStore(db);
    const seq = await Sequencer.open(store, loadNoteKeys(keys).signers, { maxDelayMs: 1, maxBatch: 50 });
    const add = (i: number) =>
      seq.add({
        path: `example.com/b${i}`,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(`example.com/b${i}`, 'v1.0.0', H(String(i % 9)), H('m'))),
        source: 'test',
      });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => add(i)));
    // Another writer keeps appending while the backup runs: the copy is one consistent snapshot.
    let stop = false;
    const writer = (async () => {
      for (let i = 2000; !stop && i < 10_000; i++) await add(i);
    })();
    const out = join(dir, 'copy.db');
    const r = await backupStore(db, out);
    stop = true;
    await writer;
    await seq.close();
    await store.close();
    assert.ok(r.size >= 2000, `copied size ${r.size}`);
    assert.ok(existsSync(out) && !existsSync(`${out}.partial`));
    const audit = runCli(['audit', '--db', out, '--keys', keys]);
    assert.equal(audit.status, 0, audit.stdout + audit.stderr);
    assert.match(audit.stdout, new RegExp(`tree size ${r.size},`));
  });

  it('backs up through the CLI while serve runs, and never overwrites', async () => {
    const dir = tempDir('backup');
    const keys = join(dir, 'keys');
    createNoteKey(keys, 'backup.test');
    const db = join(dir, 'served.db');
    const srv = await startServer({ keys, db, upstream: 'off', extra: ['--allow-root-key'] });
    try {
      const out = join(dir, 'b.db');
      const first = runCli(['backup', '--db', db, '--out', out]);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /^backup: .*b\.db: tree size 0, \d+ bytes, verified$/m);
      const again = runCli(['backup', '--db', db, '--out', out]);
      assert.equal(again.status, 2);
      assert.match(again.stderr, /exists; backup never overwrites/);
    } finally {
      await srv.stop();
    }
  });

  it('points PostgreSQL users to pg_dump', async () => {
    await assert.rejects(
      backupStore('postgres://db.internal/sumkeep', '/tmp/never'),
      (e) => isSumkeepError(e, 'unavailable') && /pg_dump/.test(e.message),
    );
  });
});
