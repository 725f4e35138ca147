/**
 * The rollback guard with the real CLI, the real server and the real go command (SQLite): the
 * database is copied, the log grows while a go client watches, the old copy is put back. Then
 * `serve` refuses to start (exit 2), naming both sizes, the likely cause and what to do, and so
 * does `ingest`; the client that saw the larger tree never meets a second tree. As the oracle that
 * the scenario is real: the same old copy served with a fresh checkpoint (what deleting the file
 * would do) and grown by one record does make that client report SECURITY ERROR. Putting the
 * newer database back (restoring a newer backup) lets serve start, and the client goes on.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goEnv, requireGo, runGo } from '../helpers/go.ts';
import { makeKeys, runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

function mod(prefix: string, i: number): ProxyModule {
  const path = `example.com/rollback/${prefix}${i}`;
  return {
    path,
    version: `v1.0.${i}`,
    files: { 'go.mod': `module ${path}\n\ngo 1.17\n`, 'm.go': `package ${prefix}${i}\n` },
  };
}

describe('the rollback guard (SQLite, real serve and go)', { timeout: 600_000 }, () => {
  const root = tempDir('rollback');
  const keys = join(root, 'keys');
  const db = join(root, 'data', 'sumkeep.db');
  const early = [0, 1, 2].map((i) => mod('early', i));
  const late = [0, 1, 2].map((i) => mod('late', i));
  const after = [0, 1].map((i) => mod('after', i));
  const proxy = buildGoProxy(join(root, 'proxy'), [...early, ...late, ...after]);
  let vkey = '';

  before(() => {
    vkey = makeKeys(keys, 'sum.rollback.test');
  });

  /** Copies the SQLite database (closed: no server holds it) with any WAL beside it. */
  const copyDb = (from: string, to: string) => {
    for (const ext of ['-wal', '-shm']) rmSync(to + ext, { force: true });
    copyFileSync(from, to);
    for (const ext of ['-wal', '-shm']) if (existsSync(from + ext)) copyFileSync(from + ext, to + ext);
  };

  const download = (go: string, server: RunningServer, client: string, mods: ProxyModule[]) => {
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    const out: string[] = [];
    for (const m of mods) {
      const r = runGo(go, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
        cwd: work,
        env: goEnv(client, { go, GOPROXY: proxy.url, GOSUMDB: `${vkey} ${server.url}` }),
      });
      out.push(`${m.path}@${m.version}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    }
    return out;
  };
  const serve = (extra: string[] = []) =>
    startServer({ keys, db, upstream: proxy.url, extra: ['--batch-delay-ms', '2', ...extra] });

  it('refuses the older copy at start, with both sizes, the cause and the fix; the client sees no fork', async (t) => {
    const go = requireGo(t);
    if (go === null) return;
    const client = join(root, 'client');

    let s = await serve();
    for (const line of download(go, s, client, early)) assert.match(line, /exit 0/, line);
    await s.stop();
    copyDb(db, join(root, 'old.db'));

    s = await serve();
    for (const line of download(go, s, client, late)) assert.match(line, /exit 0/, line);
    await s.stop();
    copyDb(db, join(root, 'new.db'));
    assert.ok(existsSync(`${db}.checkpoint`), 'serve keeps its checkpoint beside the SQLite file');

    // The old copy is put back, as a restore from an older backup would.
    copyDb(join(root, 'old.db'), db);
    const refused = runCli([
      'serve',
      '--keys',
      keys,
      '--db',
      db,
      '--upstream',
      proxy.url,
      '--listen',
      '127.0.0.1:0',
    ]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.equal(refused.stdout, '', 'no GOSUMDB line: the server did not start');
    assert.match(
      refused.stderr,
      /the database holds a tree of size 3, but this server has signed or served a tree of size 6/,
    );
    assert.match(refused.stderr, /restored from an older backup or failed over to a lagging replica/);
    assert.match(refused.stderr, /Restore a database that holds that tree/);
    assert.match(refused.stderr, /Disaster recovery/);
    // ingest signs nothing on it either.
    const ingest = runCli(['ingest', '--keys', keys, '--db', db, join(root, 'proxy')]);
    assert.equal(ingest.status, 2, ingest.stderr);
    assert.match(ingest.stderr, /tree of size 3, but this server has signed or served a tree of size 6/);

    // The oracle: without the kept head (a fresh checkpoint file, as if it had been deleted) the
    // old copy starts, grows by one record over size 3, and a copy of the client that saw size 6
    // reports the fork. This is what the guard prevented above.
    const witness = join(root, 'client-copy');
    cpSync(client, witness, { recursive: true });
    s = await serve(['--checkpoint-file', join(root, 'fresh.checkpoint')]);
    const forked = download(go, s, witness, [after[0]!]);
    await s.stop();
    assert.match(forked[0]!, /SECURITY ERROR/, forked[0]);

    // Recovery: the newer database back (a newer backup); serve starts and the client goes on.
    copyDb(join(root, 'new.db'), db);
    s = await serve();
    const went = download(go, s, client, [after[1]!, ...early]);
    await s.stop();
    for (const line of went) {
      assert.match(line, /exit 0/, line);
      assert.doesNotMatch(line, /SECURITY ERROR/);
    }
  });
});
