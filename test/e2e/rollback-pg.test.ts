/**
 * The rollback guard on the PostgreSQL backend, with the real CLI and two real `serve` nodes on
 * one database, each with its own checkpoint file: the heads one node commits pass the other's
 * guard as extensions (and are kept there once served). Then a failover to a lagging replica (a
 * copy of the database taken earlier, CREATE DATABASE ... TEMPLATE): each node refuses to start on
 * it, exit 2, naming both sizes; so does a node whose guard is the published `latest` of
 * --publish. Without --checkpoint-file and --publish, serve on PostgreSQL refuses to start.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newVerifier, verifierSet } from '../../src/core/note.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { makeKeys, runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { connect, requirePostgres, testDatabase, withDatabase } from '../helpers/postgres.ts';
import { latestTree, lookup, treeOf } from '../helpers/logcheck.ts';

const admin = await requirePostgres('the rollback guard on PostgreSQL');

function mod(i: number): ProxyModule {
  const path = `example.com/pgguard/m${i}`;
  return { path, version: `v1.0.${i}`, files: { 'go.mod': `module ${path}\n`, 'm.go': `package m${i}\n` } };
}

if (admin !== null) {
  const db = await testDatabase(admin);
  const replica = `${db.name}_replica`;
  after(async () => {
    const c = await connect(admin);
    await c.query(`DROP DATABASE IF EXISTS ${replica} WITH (FORCE)`);
    await c.end();
  });

  describe('the rollback guard on PostgreSQL, two nodes', { timeout: 300_000 }, () => {
    it('passes the other node’s heads as extensions, refuses a lagging replica on every node', async () => {
      const root = tempDir('pg-guard');
      const keys = join(root, 'keys');
      const vkey = makeKeys(keys, 'sum.pgguard.test');
      const verifiers = verifierSet([newVerifier(vkey)]);
      const mods = Array.from({ length: 6 }, (_, i) => mod(i));
      const proxy = buildGoProxy(join(root, 'proxy'), mods);
      const cpA = join(root, 'a.checkpoint');
      const cpB = join(root, 'b.checkpoint');
      const pub = join(root, 'pub');
      const node = (dbUrl: string, extra: string[]) =>
        startServer({ keys, db: dbUrl, upstream: proxy.url, extra: ['--batch-delay-ms', '2', ...extra] });
      const kept = (file: string) => treeOf(new Uint8Array(readFileSync(file)), verifiers).N;
      const stopAll = async (ns: RunningServer[]) => {
        for (const n of ns) await n.stop();
      };

      let a = await node(db.url, ['--checkpoint-file', cpA]);
      let b = await node(db.url, ['--checkpoint-file', cpB]);
      for (const m of mods.slice(0, 3)) assert.equal((await lookup(a.url, m.path, m.version)).status, 200);
      // B serves A's head (a reload: checked as an extension of B's kept head, then kept).
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await latestTree(b.url, verifiers)).N, 3);
      assert.equal(kept(cpA), 3);
      assert.equal(kept(cpB), 3);
      await stopAll([a, b]);

      // The replica that will lag: a copy of the database at size 3.
      const c = await connect(admin);
      await c.query(`CREATE DATABASE ${replica} TEMPLATE ${db.name}`);
      await c.end();
      const replicaUrl = withDatabase(admin, replica);

      a = await node(db.url, ['--checkpoint-file', cpA]);
      b = await node(db.url, ['--checkpoint-file', cpB]);
      for (const m of mods.slice(3)) assert.equal((await lookup(b.url, m.path, m.version)).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await latestTree(a.url, verifiers)).N, 6);
      assert.equal(kept(cpA), 6);
      assert.equal(kept(cpB), 6);
      await stopAll([a, b]);
      // A node guarded by its published latest (--publish, no --checkpoint-file).
      const p = await node(db.url, ['--publish', pub]);
      await p.stop();
      assert.equal(kept(join(pub, 'latest')), 6);

      // Failover to the lagging replica: every node refuses, naming both sizes.
      const serveOn = (dbUrl: string, extra: string[]) =>
        runCli([
          'serve',
          '--keys',
          keys,
          '--db',
          dbUrl,
          '--upstream',
          proxy.url,
          '--listen',
          '127.0.0.1:0',
          ...extra,
        ]);
      for (const extra of [
        ['--checkpoint-file', cpA],
        ['--checkpoint-file', cpB],
        ['--publish', pub],
      ]) {
        const r = serveOn(replicaUrl, extra);
        assert.equal(r.status, 2, `${extra.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /tree of size 3, but this server has signed or served a tree of size 6/);
        assert.match(r.stderr, /failed over to a lagging replica/);
        assert.doesNotMatch(r.stderr, /sumkeep_test:sumkeep_test|password/, 'no credentials in the message');
      }
      // The replica was not written to.
      const rc = await connect(replicaUrl);
      const { rows } = await rc.query<{ n: string }>('SELECT count(*) AS n FROM records');
      await rc.end();
      assert.equal(Number(rows[0]!.n), 3);

      // No guard at all is refused on PostgreSQL.
      const none = serveOn(db.url, []);
      assert.equal(none.status, 2, none.stderr);
      assert.match(none.stderr, /PostgreSQL database needs --checkpoint-file/);
    });
  });
}
