/**
 * PostgreSQL restarted under load: two `sumkeep serve` nodes on a PostgreSQL server of the test's
 * own, a bounded load of lookups (first-time and repeated, split over both nodes) and /latest
 * polls, and `pg_ctl restart -m fast` in the middle of it. Requests that meet the outage fail with
 * 503 and nothing else; afterwards, without restarting either node: both serve again, every answer
 * that got a 200 is in the log with the same id and text on both nodes, and every head ever served
 * is a prefix of one final tree (no fork).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { newVerifier, verifierSet } from '../../src/core/note.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { makeKeys, startServer, tempDir } from '../helpers/server.ts';
import { connect, requirePrivatePostgres, withDatabase } from '../helpers/postgres.ts';
import { checkOneTree, lookup, type Acked } from '../helpers/logcheck.ts';

const pg = await requirePrivatePostgres('PostgreSQL restart under load');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (pg !== null) {
  describe('PostgreSQL restart under load', { timeout: 300_000 }, () => {
    it('fails only with 503 during the outage, recovers by itself, loses no acknowledged answer, never forks', async () => {
      const admin = await connect(pg.adminUrl);
      await admin.query("CREATE DATABASE sumkeep TEMPLATE template0 ENCODING 'UTF8'");
      await admin.end();
      const dbUrl = withDatabase(pg.adminUrl, 'sumkeep');

      const root = tempDir('pg-restart');
      const keys = join(root, 'keys');
      const vkey = makeKeys(keys, 'sum.restart.test');
      const verifiers = verifierSet([newVerifier(vkey)]);
      const mods: ProxyModule[] = Array.from({ length: 160 }, (_, i) => ({
        path: `example.com/restart/m${i}`,
        version: `v1.0.${i}`,
        files: { 'go.mod': `module example.com/restart/m${i}\n`, 'm.go': `package m${i}\n` },
      }));
      const proxy = buildGoProxy(join(root, 'proxy'), mods);
      const env = { SUMKEEP_DB_STATEMENT_TIMEOUT_MS: '3000', SUMKEEP_DB_POOL_MAX: '4' };
      const extra = ['--batch-delay-ms', '5'];
      // Each node keeps its own rollback checkpoint.
      const cps = [0, 1].map((n) => ['--checkpoint-file', join(root, `node${n}.checkpoint`)]);
      const nodes = [
        await startServer({ keys, db: dbUrl, upstream: proxy.url, env, extra: [...extra, ...cps[0]!] }),
        await startServer({ keys, db: dbUrl, upstream: proxy.url, env, extra: [...extra, ...cps[1]!] }),
      ];
      const pids = nodes.map((n) => n.proc.pid);
      try {
        const acked: Acked[] = [];
        const notes: Uint8Array[] = [];
        const statuses = new Map<number, number>();
        // Requests that got no HTTP answer at all (a node gone): there must be none.
        const failures: string[] = [];
        const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
        // 200 lookups over about 10 s: 4 workers, one request per worker every ~200 ms; the first
        // 150 are first-time lookups, the rest ask again for earlier ones.
        const plan = Array.from({ length: 200 }, (_, i) => (i < 150 ? mods[i]! : mods[(i * 7) % 150]!));
        let next = 0;
        const worker = async (w: number) => {
          while (next < plan.length) {
            const i = next++;
            const m = plan[i]!;
            const node = nodes[(i + w) % 2]!;
            let r;
            try {
              r = await lookup(node.url, m.path, m.version, 20_000);
            } catch (e) {
              failures.push(`${node.url} ${m.path}: ${String((e as Error).cause ?? e)}`);
              continue;
            }
            count(r.status);
            if (r.status === 200) {
              acked.push({ path: m.path, version: m.version, id: r.id!, text: r.text! });
              notes.push(r.note!);
            }
            await sleep(200);
          }
        };
        let polling = true;
        const poller = async () => {
          while (polling) {
            for (const n of nodes) {
              try {
                const r = await fetch(`${n.url}/latest`, { signal: AbortSignal.timeout(20_000) });
                count(r.status);
                const b = new Uint8Array(await r.arrayBuffer());
                if (r.status === 200 && b.length > 0) notes.push(b);
              } catch (e) {
                failures.push(`${n.url}/latest: ${String((e as Error).cause ?? e)}`);
              }
            }
            await sleep(100);
          }
        };
        const restart = (async () => {
          await sleep(3000);
          await pg.restart();
        })();
        const poll = poller();
        await Promise.all([...[0, 1, 2, 3].map(worker), restart]);
        polling = false;
        await poll;

        const summary = JSON.stringify(Object.fromEntries(statuses));
        assert.deepEqual(
          failures,
          [],
          `requests without an answer:\n${nodes.map((n) => n.stderr().slice(-3000)).join('\n---\n')}`,
        );
        for (const s of statuses.keys()) {
          assert.ok(s === 200 || s === 503, `a request failed with ${s} (statuses ${summary})`);
        }
        assert.ok(acked.length > 0, summary);

        // Both nodes serve again by themselves (bounded wait), and were never restarted.
        for (const [k, n] of nodes.entries()) {
          let ok = false;
          for (let t = 0; t < 60 && !ok; t++) {
            const m = mods[150 + k]!;
            ok = (await lookup(n.url, m.path, m.version)).status === 200;
            if (!ok) await sleep(500);
          }
          assert.ok(ok, `node ${k} does not serve after the restart:\n${n.stderr().slice(-3000)}`);
          assert.equal(n.proc.exitCode, null, `node ${k} exited`);
          assert.equal(n.proc.pid, pids[k]);
        }

        // Every acknowledged answer is in the log, the same on both nodes.
        for (const n of nodes) {
          for (const a of acked) {
            const r = await lookup(n.url, a.path, a.version);
            assert.equal(r.status, 200, `${a.path}@${a.version} on ${n.url}: ${r.body}`);
            assert.equal(r.id, a.id);
            assert.ok(bytesEqual(r.text!, a.text));
            notes.push(r.note!);
          }
        }
        const t0 = await checkOneTree(nodes[0]!.url, verifiers, notes, acked);
        const t1 = await checkOneTree(nodes[1]!.url, verifiers, notes, acked);
        assert.equal(t0.N, t1.N);
        assert.ok(bytesEqual(t0.hash, t1.hash));
        assert.ok(t0.N >= new Set(acked.map((a) => a.path)).size);
      } finally {
        for (const n of nodes) await n.stop();
      }
    });
  });
}
