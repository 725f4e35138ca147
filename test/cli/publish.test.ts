import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { createNoteKey, loadNoteKeys } from '../../src/keys/notekey.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { CLI, REPO, runCli, tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');

async function grow(db: string, keys: string, from: number, to: number) {
  const store = await openSqliteStore(db);
  const seq = await Sequencer.open(store, loadNoteKeys(keys).signers, { maxDelayMs: 1, maxBatch: 100 });
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      return seq.add({
        path: `example.com/p${i}`,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(`example.com/p${i}`, 'v1.0.0', H('z'), H('m'))),
        source: 't',
      });
    }),
  );
  await seq.close();
  const head = (await store.latestHead())!;
  await store.close();
  return head;
}

describe('sumkeep publish', () => {
  it('publishes nothing for the empty log: its signed size-0 latest needs the note key', async () => {
    const dir = tempDir('publish-cli');
    const db = join(dir, 'log.db');
    await (await openSqliteStore(db)).close();
    const out = join(dir, 'pub');
    const r = runCli(['publish', '--db', db, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /the empty log: nothing to publish yet/);
    assert.equal(existsSync(join(out, 'latest')), false);
  });

  it('publishes a log, resumes after it grows, and audit --against the directory passes', async () => {
    const dir = tempDir('publish-cli');
    const keys = join(dir, 'keys');
    createNoteKey(keys, 'publish.test');
    const db = join(dir, 'log.db');
    const out = join(dir, 'pub');
    let head = await grow(db, keys, 0, 300);
    let r = runCli(['publish', '--db', db, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /tree size 300/);
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'latest'))), head.note);
    head = await grow(db, keys, 300, 700);
    r = runCli(['publish', '--db', db, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(out, 'latest'))), head.note);
    assert.ok(
      existsSync(join(out, 'tile/8/data/001')) && existsSync(join(out, 'lookup/example.com/p699@v1.0.0')),
    );
    const audit = runCli(['audit', '--db', db, '--keys', keys, '--against', out]);
    assert.equal(audit.status, 0, audit.stdout + audit.stderr);
  });

  it('--follow publishes new heads as they are committed', async () => {
    const dir = tempDir('publish-cli');
    const keys = join(dir, 'keys');
    createNoteKey(keys, 'publish.test');
    const db = join(dir, 'log.db');
    const out = join(dir, 'pub');
    await grow(db, keys, 0, 10);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'publish', '--db', db, '--out', out, '--follow'],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    try {
      const head = await grow(db, keys, 10, 50);
      const deadline = Date.now() + 60_000;
      for (;;) {
        const latest = existsSync(join(out, 'latest'))
          ? new Uint8Array(readFileSync(join(out, 'latest')))
          : null;
        if (latest !== null && Buffer.from(latest).equals(Buffer.from(head.note))) break;
        assert.ok(Date.now() < deadline, `latest never reached size 50; stderr: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, err);
    }
  });
});
