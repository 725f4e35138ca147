/**
 * Two `sumkeep serve` nodes on one PostgreSQL database, with the real go command:
 *  - downloads through node A, then through node B with the same client state (its remembered
 *    tree head): no SECURITY ERROR, and B answers A's records from the database (B's own upstream
 *    does not have them, so a second upstream fetch would fail the build);
 *  - each node sees the other's commits on /latest within 1 s;
 *  - a burst of first-time lookups, every module asked of both nodes at once, with `kill -9` of
 *    node B mid-burst: afterwards both nodes serve every acknowledged answer, one record per
 *    module version, on one tree.
 * Needs PostgreSQL (test/helpers/postgres.ts) and go (test/helpers/go.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newVerifier, verifierSet } from '../../src/core/note.ts';
import { bytesEqual, decodeUtf8 } from '../../src/core/bytes.ts';
import { parseDataTile, tilePath } from '../../src/core/tlog/index.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goEnv, requireGo, runGo } from '../helpers/go.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { requirePostgres, testDatabase } from '../helpers/postgres.ts';
import { checkOneTree, latestTree, lookup, type Acked } from '../helpers/logcheck.ts';

const admin = await requirePostgres('two serve nodes on one PostgreSQL database');

function mod(prefix: string, i: number): ProxyModule {
  const path = `example.com/${prefix}/m${i}`;
  return {
    path,
    version: `v1.0.${i}`,
    files: { 'go.mod': `module ${path}\n\ngo 1.17\n`, 'm.go': `package m${i}\n\nconst N = ${i}\n` },
  };
}

if (admin !== null) {
  const dbUrl = (await testDatabase(admin)).url;
  describe('two serve nodes on one PostgreSQL database', { timeout: 600_000 }, () => {
    const root = tempDir('multinode');
    const keys = join(root, 'keys');
    const setA = Array.from({ length: 4 }, (_, i) => mod('a', i));
    const setB = Array.from({ length: 4 }, (_, i) => mod('b', i));
    const burst = Array.from({ length: 120 }, (_, i) => mod('burst', i));
    // What the go command downloads from: every module.
    const nowhere = mod('nowhere', 1);
    const full = buildGoProxy(join(root, 'proxy-full'), [...setA, ...setB, ...burst, nowhere]);
    // Node A's upstream has set A and the burst; node B's has set B and the burst: a lookup of a
    // set-A module on B can only be answered from the database.
    const upA = buildGoProxy(join(root, 'proxy-a'), [...setA, ...burst]);
    const upB = buildGoProxy(join(root, 'proxy-b'), [...setB, ...burst]);
    let a: RunningServer | undefined;
    let b: RunningServer | undefined;
    let vkey = '';
    const cp = (node: string) => ['--checkpoint-file', join(root, `${node}.checkpoint`)];

    before(async () => {
      vkey = makeKeys(keys, 'sum.multinode.test');
      // Each node keeps its own rollback checkpoint (the other's heads pass as extensions).
      a = await startServer({
        keys,
        db: dbUrl,
        upstream: upA.url,
        extra: ['--batch-delay-ms', '3', ...cp('a')],
      });
      b = await startServer({
        keys,
        db: dbUrl,
        upstream: upB.url,
        extra: ['--batch-delay-ms', '3', ...cp('b')],
      });
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
    });

    const client = join(root, 'client');
    const envFor = (node: RunningServer, modcache: string) =>
      goEnv(client, {
        GOPROXY: full.url,
        GOSUMDB: `${vkey} ${node.url}`,
        extra: { GOFLAGS: '-mod=mod', GOMODCACHE: join(root, modcache) },
      });
    const download = (go: string, node: RunningServer, modcache: string, mods: ProxyModule[]) => {
      const work = join(root, 'work');
      mkdirSync(work, { recursive: true });
      for (const m of mods) {
        const r = runGo(go, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
          cwd: work,
          env: envFor(node, modcache),
        });
        assert.equal(
          r.status,
          0,
          `go mod download ${m.path}@${m.version} via ${node.url}:\n${r.stdout}\n${r.stderr}\nnode A:\n${a!.stderr().slice(-2000)}\nnode B:\n${b!.stderr().slice(-2000)}`,
        );
        assert.doesNotMatch(r.stdout + r.stderr, /SECURITY ERROR/);
      }
    };

    it('downloads through node A, then through node B with the same client cache', (t) => {
      const go = requireGo(t);
      if (go === null) return;
      download(go, a!, 'modcache-1', setA);
      // Same GOPATH (the client remembers A's tree head), a fresh module cache so that every
      // module is verified again, through B: A's records come from the database.
      download(go, b!, 'modcache-2', setA);
      // B logs new records; A then serves them to the same client.
      download(go, b!, 'modcache-2', setB);
      download(go, a!, 'modcache-3', [...setA, ...setB]);
    });

    it('answers a record logged through A from B with the same id and text, once in the log', async () => {
      const m = setA[0]!;
      const fromA = await lookup(a!.url, m.path, m.version);
      const fromB = await lookup(b!.url, m.path, m.version);
      assert.equal(fromA.status, 200);
      assert.equal(fromB.status, 200, fromB.body);
      assert.equal(fromB.id, fromA.id);
      assert.ok(bytesEqual(fromB.text!, fromA.text!));
      // A version that neither node's upstream has and the log does not hold: no node invents it.
      for (const node of [a!, b!]) {
        const missing = await lookup(node.url, nowhere.path, nowhere.version);
        assert.equal(missing.status, 404, missing.body);
      }
    });

    it('shows each node the other node’s commits on /latest within 1 s', async () => {
      const verifiers = verifierSet([newVerifier(vkey)]);
      for (const [writer, reader, m] of [
        [a!, b!, burst[118]!],
        [b!, a!, burst[119]!],
      ] as const) {
        await latestTree(reader.url, verifiers); // the reader has just looked at the database
        const r = await lookup(writer.url, m.path, m.version);
        assert.equal(r.status, 200, r.body);
        await new Promise((res) => setTimeout(res, 1000));
        const seen = await latestTree(reader.url, verifiers);
        assert.ok(seen.N > r.id!, `${reader.url}/latest is at ${seen.N} 1 s after record ${r.id} was logged`);
      }
    });

    it('keeps one tree and every acknowledged answer across a burst on both nodes and kill -9 of one', async () => {
      const verifiers = verifierSet([newVerifier(vkey)]);
      const mods = burst.slice(0, 110);
      const acked: (Acked & { node: string })[] = [];
      const notes: Uint8Array[] = [];
      let killed = false;
      let next = 0;
      // Each module version is asked of both nodes at the same moment (first-time lookups racing
      // on two nodes); node B is killed once 40 answers came back.
      const worker = async () => {
        while (next < mods.length) {
          const m = mods[next++]!;
          await Promise.all(
            [a!, b!].map(async (node) => {
              try {
                const r = await lookup(node.url, m.path, m.version, 10_000);
                if (r.status !== 200) return;
                acked.push({ path: m.path, version: m.version, id: r.id!, text: r.text!, node: node.url });
                notes.push(r.note!);
                if (acked.length >= 40 && !killed) {
                  killed = true;
                  await b!.kill();
                }
              } catch {
                // Refused or reset once B is gone: expected.
              }
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      assert.ok(killed, 'node B was killed during the burst');
      assert.ok(acked.length >= 40);
      // Answers for one module version agree, whichever node gave them.
      const byVersion = new Map<string, Acked>();
      for (const x of acked) {
        const k = `${x.path}@${x.version}`;
        const seen = byVersion.get(k);
        if (seen !== undefined) {
          assert.equal(x.id, seen.id, `${k}: two ids`);
          assert.ok(bytesEqual(x.text, seen.text), `${k}: two texts`);
        }
        byVersion.set(k, x);
      }

      b = await startServer({ keys, db: dbUrl, upstream: upB.url, extra: cp('b') });
      for (const node of [a!, b]) {
        for (const x of byVersion.values()) {
          const r = await lookup(node.url, x.path, x.version);
          assert.equal(r.status, 200, `${node.url}: ${x.path}@${x.version}: ${r.body}`);
          assert.equal(r.id, x.id);
          assert.ok(bytesEqual(r.text!, x.text));
          notes.push(r.note!);
        }
      }
      const finalA = await checkOneTree(a!.url, verifiers, notes, [...byVersion.values()]);
      const finalB = await checkOneTree(b.url, verifiers, notes, [...byVersion.values()]);
      assert.equal(finalA.N, finalB.N);
      assert.ok(bytesEqual(finalA.hash, finalB.hash));

      // One record per module version in the whole log: read every data tile.
      const texts: string[] = [];
      for (let n = 0; n * 256 < finalA.N; n++) {
        const w = Math.min(256, finalA.N - n * 256);
        const t = { H: 8, L: -1, N: n, W: w };
        const r = await fetch(`${a!.url}/${tilePath(t)}`);
        assert.equal(r.status, 200);
        for (const rec of parseDataTile(new Uint8Array(await r.arrayBuffer()))) texts.push(decodeUtf8(rec)!);
      }
      const versions = texts.map((s) => s.split(' ').slice(0, 2).join('@'));
      assert.equal(new Set(versions).size, versions.length, 'a module version is logged twice');
    });
  });
}
