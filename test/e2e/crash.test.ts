/**
 * Crash safety: `kill -9` the server while concurrent lookups fill the log from an upstream and an
 * ingest process appends to the same database; start it again. Every tree head ever returned must be
 * provably contained in the final tree, and every record whose lookup returned 200 must still be
 * there, with the same id and text. The real go clients (the machine's Go 1.26 and Debian's Go
 * 1.19) verify modules before the crash and, remembering that tree head, acknowledged and new
 * modules after the restart: the recovered log must extend what they saw (no SECURITY ERROR).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { newVerifier, open, verifierSet } from '../../src/core/note.ts';
import { bytesEqual, utf8 } from '../../src/core/bytes.ts';
import {
  checkRecord,
  parseRecord,
  parseTree,
  proveRecord,
  recordHash,
  tileHashReader,
  tilePath,
  treeHash,
  withAsyncReader,
  type Tree,
} from '../../src/core/tlog/index.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, runGo, type GoClient } from '../helpers/go.ts';
import { CLI, REPO, makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

function modules(prefix: string, n: number): ProxyModule[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `example.com/${prefix}/m${i}`,
    version: `v1.0.${i}`,
    files: { 'go.mod': `module example.com/${prefix}/m${i}\n`, 'a.go': `package m${i}\n` },
  }));
}

interface Seen {
  id: number;
  text: Uint8Array;
  path: string;
  version: string;
}

describe('crash safety', { timeout: 300_000 }, () => {
  const root = tempDir('crash');
  const keys = join(root, 'keys');
  const db = join(root, 'sumkeep.db');
  const lookupMods = modules('lookup', 600);
  const upstream = buildGoProxy(join(root, 'proxy'), lookupMods);
  let server: RunningServer | undefined;
  const acked: Seen[] = [];
  after(async () => {
    await server?.stop();
  });

  /** `go mod download` by the client of `c`, with one GOPATH (and so one remembered head) per client. */
  const goDownload = (c: GoClient, m: ProxyModule) =>
    runGo(c.bin!, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
      cwd: root,
      env: goEnv(join(root, `go-${c.id}`), { go: c.bin!, GOPROXY: upstream.url, GOSUMDB: server!.gosumdb }),
    });
  /** A module the lookup load never reaches (it stops at about 150): one per client and phase. */
  const spare = (c: GoClient, phase: number) => lookupMods[599 - 2 * goClients().indexOf(c) - phase]!;

  it('loses no acknowledged record and never forks across kill -9', async () => {
    const vkey = makeKeys(keys, 'crash.test');
    const verifiers = verifierSet([newVerifier(vkey)]);
    const ingestDir = join(root, 'ingest');
    buildGoProxy(ingestDir, modules('ingest', 400));

    server = await startServer({ keys, db, upstream: upstream.url, extra: ['--batch-delay-ms', '3'] });
    // Each real client verifies one module and so remembers a tree head from before the crash.
    for (const c of goClients()) {
      if (c.bin === null) continue; // its own test below fails (CI) or skips
      const r = goDownload(c, spare(c, 0));
      assert.equal(r.status, 0, `${c.name}: ${r.stdout}${r.stderr}`);
    }
    const notes: Uint8Array[] = [];
    let killed = false;

    const ingest = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'ingest', '--keys', keys, '--db', db, ingestDir],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let ingestOut = '';
    ingest.stdout.on('data', (d: Buffer) => (ingestOut += d.toString()));
    ingest.stderr.on('data', (d: Buffer) => (ingestOut += d.toString()));

    // Eight workers walk the module list; the server is killed after 150 acknowledged lookups.
    let next = 0;
    const base = server.url;
    const worker = async () => {
      while (!killed && next < lookupMods.length) {
        const m = lookupMods[next++]!;
        try {
          const r = await fetch(`${base}/lookup/${m.path}@${m.version}`, {
            signal: AbortSignal.timeout(10_000),
          });
          if (r.status !== 200) continue;
          const body = new Uint8Array(await r.arrayBuffer());
          const rec = parseRecord(body);
          notes.push(rec.rest);
          acked.push({ id: rec.id, text: rec.text, path: m.path, version: m.version });
          if (acked.length >= 150 && !killed) {
            killed = true;
            await server!.kill();
          }
        } catch {
          // Connection refused or reset once the server is gone: expected.
        }
      }
    };
    const latestPoller = async () => {
      while (!killed) {
        try {
          const r = await fetch(`${base}/latest`);
          const b = new Uint8Array(await r.arrayBuffer());
          if (r.status === 200 && b.length > 0) notes.push(b);
        } catch {
          // gone
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    await Promise.all([...Array.from({ length: 8 }, worker), latestPoller()]);
    assert.ok(killed, 'the server was killed during the load');
    assert.ok(acked.length >= 150);
    if (ingest.exitCode === null) await once(ingest, 'exit');
    assert.equal(ingest.exitCode, 0, `ingest failed:\n${ingestOut}`);
    assert.match(ingestOut, /400 added/);

    // Start again on the same database.
    server = await startServer({ keys, db, upstream: upstream.url });
    const url = server.url;
    const latest = new Uint8Array(await (await fetch(`${url}/latest`)).arrayBuffer());
    const final: Tree = parseTree(utf8(open(latest, verifiers).text));
    assert.ok(
      final.N >= acked.length + 400,
      `final tree ${final.N} holds the acknowledged and ingested records`,
    );
    const readTiles = tileHashReader(final, 8, (tiles) =>
      Promise.all(
        tiles.map(async (t) => {
          const r = await fetch(`${url}/${tilePath(t)}`);
          assert.equal(r.status, 200, tilePath(t));
          return new Uint8Array(await r.arrayBuffer());
        }),
      ),
    );
    // Every head ever returned is a prefix of the final tree.
    const sizes = new Set<number>();
    for (const n of notes) {
      const tree = parseTree(utf8(open(n, verifiers).text));
      sizes.add(tree.N);
      const h = await withAsyncReader((r) => treeHash(tree.N, r), readTiles);
      assert.ok(bytesEqual(h, tree.hash), `head of size ${tree.N} is not contained in the final tree`);
    }
    assert.ok(sizes.size > 1, 'several tree heads were observed');
    // Every acknowledged record is still there, with its id, and is proven in the final tree.
    for (const a of acked) {
      const r = await fetch(`${url}/lookup/${a.path}@${a.version}`);
      assert.equal(r.status, 200);
      const rec = parseRecord(new Uint8Array(await r.arrayBuffer()));
      assert.equal(rec.id, a.id);
      assert.ok(bytesEqual(rec.text, a.text));
      const proof = await withAsyncReader((rd) => proveRecord(final.N, a.id, rd), readTiles);
      assert.ok(checkRecord(proof, final.N, final.hash, a.id, recordHash(a.text)));
    }
  });

  for (const c of goClients()) {
    it(`a go client that verified modules before the crash verifies acknowledged and new ones after it (${c.name})`, (t) => {
      if (requireClient(t, c) === null) return;
      assert.ok(acked.length >= 150, 'the crash test ran');
      const byPath = new Map(lookupMods.map((m) => [m.path, m]));
      // The first and the last lookup acknowledged before the kill, then one the log never saw.
      for (const m of [byPath.get(acked[0]!.path)!, byPath.get(acked.at(-1)!.path)!, spare(c, 1)]) {
        const r = goDownload(c, m);
        assert.equal(
          r.status,
          0,
          `go mod download ${m.path}@${m.version} after the crash:\n${r.stdout}${r.stderr}`,
        );
        assert.doesNotMatch(r.stdout + r.stderr, /SECURITY ERROR/);
      }
    });
  }
});
