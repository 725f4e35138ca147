/**
 * `serve --publish` across kill -9: concurrent first-time lookups fill the log, the server is
 * killed mid-load. At that moment, before any restart, every answer a client got is already in
 * the directory (its lookup file, with the same id and text, and the tiles of the head it names),
 * and `latest` covers it: a head is published before it is served. After the restart the
 * directory is brought up to the database: one lookup file per record, `latest` the database's
 * head, and every tile a client of that head needs.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { newVerifier, verifierSet } from '../../src/core/note.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { parseRecord, tilePath } from '../../src/core/tlog/index.ts';
import { tilesOfHead } from '../../src/log/publish.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { latestTree, treeOf, type Acked } from '../helpers/logcheck.ts';

const mods: ProxyModule[] = Array.from({ length: 400 }, (_, i) => ({
  path: `example.com/PubCrash/m${i}`,
  version: `v1.0.${i}`,
  files: { 'go.mod': `module example.com/PubCrash/m${i}\n`, 'a.go': `package m${i}\n` },
}));

/** Every lookup file under `dir` (relative names). */
function lookupFiles(dir: string, sub = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
    const rel = sub === '' ? e.name : `${sub}/${e.name}`;
    if (e.isDirectory()) out.push(...lookupFiles(dir, rel));
    else if (!e.name.includes('.tmp-')) out.push(rel);
  }
  return out;
}

describe('serve --publish across kill -9', { timeout: 300_000 }, () => {
  const root = tempDir('publish-crash');
  const keys = join(root, 'keys');
  const db = join(root, 'sumkeep.db');
  const pub = join(root, 'pub');
  const upstream = buildGoProxy(join(root, 'proxy'), mods);
  let server: RunningServer | undefined;
  after(async () => {
    await server?.stop();
  });

  it('has every answered record and its head in the directory at the kill, and all of the log after the restart', async () => {
    const verifiers = verifierSet([newVerifier(makeKeys(keys, 'pubcrash.test'))]);
    const extra = ['--publish', pub, '--batch-delay-ms', '3'];
    server = await startServer({ keys, db, upstream: upstream.url, extra });
    const acked: (Acked & { size: number })[] = [];
    let killed = false;
    let next = 0;
    const base = server.url;
    const worker = async () => {
      while (!killed && next < mods.length) {
        const m = mods[next++]!;
        try {
          const r = await fetch(`${base}/lookup/${escapePath(m.path)}@${escapeVersion(m.version)}`, {
            signal: AbortSignal.timeout(10_000),
          });
          if (r.status !== 200) continue;
          const rec = parseRecord(new Uint8Array(await r.arrayBuffer()));
          acked.push({
            id: rec.id,
            text: rec.text,
            path: m.path,
            version: m.version,
            size: treeOf(rec.rest, verifiers).N,
          });
          if (acked.length >= 300 && !killed) {
            killed = true;
            await server!.kill();
          }
        } catch {
          // refused or reset once the server is gone
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.ok(killed, `the server was killed (${acked.length} answers)`);

    // At the kill: everything answered is published.
    const latest = treeOf(new Uint8Array(readFileSync(join(pub, 'latest'))), verifiers);
    const missing: string[] = [];
    for (const a of acked) {
      const file = join(pub, 'lookup', `${escapePath(a.path)}@${escapeVersion(a.version)}`);
      if (!existsSync(file)) {
        missing.push(`no lookup file for record ${a.id}`);
        continue;
      }
      const rec = parseRecord(new Uint8Array(readFileSync(file)));
      if (rec.id !== a.id || !bytesEqual(rec.text, a.text)) missing.push(`lookup file of ${a.id} differs`);
      if (a.size > latest.N)
        missing.push(`record ${a.id} answered with head ${a.size} > published ${latest.N}`);
    }
    // The tiles a client holding the published latest needs: each partial, or its full tile.
    const tileThere = (size: number) =>
      tilesOfHead(0, size).every((t) => {
        const full = join(pub, tilePath({ ...t, W: 256 }));
        return existsSync(join(pub, tilePath(t))) || existsSync(full);
      });
    assert.ok(tileThere(latest.N), `tiles of the published head ${latest.N}`);
    assert.deepEqual(missing, []);

    // Restart: the directory is brought up to the database's head before serving.
    server = await startServer({ keys, db, upstream: upstream.url, extra });
    const head = await latestTree(server.url, verifiers);
    assert.ok(head.N >= latest.N);
    const now = treeOf(new Uint8Array(readFileSync(join(pub, 'latest'))), verifiers);
    assert.equal(now.N, head.N);
    assert.ok(bytesEqual(now.hash, head.hash));
    assert.equal(lookupFiles(join(pub, 'lookup')).length, head.N, 'one lookup file per record');
    assert.ok(tileThere(head.N));
    // Full tiles are byte for byte what the server serves.
    const t0 = await fetch(`${server.url}/${tilePath({ H: 8, L: 0, N: 0, W: 256 })}`);
    assert.equal(t0.status, 200);
    assert.ok(
      bytesEqual(
        new Uint8Array(await t0.arrayBuffer()),
        new Uint8Array(readFileSync(join(pub, 'tile/8/0/000'))),
      ),
    );
    assert.ok(statSync(join(pub, 'tile/8/data/000')).size > 0);
  });
});
