/**
 * `sumkeep ingest`: GOPROXY layout, GOMODCACHE (cache/download) and .zip+.mod pairs; idempotent;
 * conflicts reported, never overwritten, exit code 1; invalid zips refused with their rule.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { decodeUtf8 } from '../../src/core/bytes.ts';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { makeKeys, runCli, tempDir } from '../helpers/server.ts';

const mod = (path: string, version: string, body = 'x'): ProxyModule => ({
  path,
  version,
  files: { 'go.mod': `module ${path}\n`, 'a.go': `package a // ${body}\n` },
});

describe('sumkeep ingest', () => {
  const root = tempDir('ingest');
  const keys = join(root, 'keys');
  const db = join(root, 'log.db');
  makeKeys(keys, 'ingest.test');
  const args = (...paths: string[]) => ['ingest', '--keys', keys, '--db', db, ...paths];

  it('fills the log from a GOPROXY-layout directory and adds nothing the second time', async () => {
    const proxy = buildGoProxy(join(root, 'proxy'), [
      mod('example.com/Upper/A', 'v1.0.0'),
      mod('example.com/b', 'v1.2.3-RC.1'),
      mod('example.com/b/v2', 'v2.0.0'),
      { path: 'example.com/old', version: 'v3.0.0+incompatible', files: { 'old.go': 'package old\n' } },
    ]);
    const first = runCli(args(proxy.dir));
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /4 added, 0 already logged, 0 conflicts, 0 invalid/);
    // Not a terminal: one plain line per module on stderr.
    assert.equal(first.stderr.split('\n').filter((l) => l.startsWith('ingest: added ')).length, 4);
    const second = runCli(args(proxy.dir));
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /0 added, 4 already logged/);
    const store = await openSqliteStore(db);
    assert.equal(await store.treeSize(), 4);
    const rec = await store.lookup('example.com/Upper/A', 'v1.0.0');
    assert.match(
      decodeUtf8(rec!.text)!,
      /^example\.com\/Upper\/A v1\.0\.0 h1:\S+\nexample\.com\/Upper\/A v1\.0\.0\/go\.mod h1:\S+\n$/,
    );
    await store.close();
  });

  it('reads a GOMODCACHE and bare .zip + .mod pairs', async () => {
    const cache = join(root, 'gomodcache');
    buildGoProxy(join(cache, 'cache', 'download'), [mod('example.com/cached', 'v0.1.0')]);
    const pairDir = join(root, 'pairs');
    const src = buildGoProxy(join(root, 'pairsrc'), [mod('example.com/pair', 'v1.0.0')]);
    mkdirSync(pairDir, { recursive: true });
    const f = src.files.get('example.com/pair@v1.0.0')!;
    copyFileSync(f.zip, join(pairDir, 'pair.zip'));
    copyFileSync(f.mod, join(pairDir, 'pair.mod'));
    const r = runCli(args(cache, join(pairDir, 'pair.zip')));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /2 added/);
    const store = await openSqliteStore(db);
    assert.notEqual(await store.lookup('example.com/cached', 'v0.1.0'), null);
    assert.notEqual(await store.lookup('example.com/pair', 'v1.0.0'), null);
    await store.close();
  });

  it('reports a conflict, keeps the logged record and exits 1', async () => {
    const store0 = await openSqliteStore(db);
    const before = await store0.lookup('example.com/Upper/A', 'v1.0.0');
    const size = await store0.treeSize();
    await store0.close();
    const evil = buildGoProxy(join(root, 'evil'), [mod('example.com/Upper/A', 'v1.0.0', 'changed')]);
    const r = runCli(args(evil.dir));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /1 conflicts/);
    assert.match(r.stderr, /conflict example\.com\/Upper\/A@v1\.0\.0: .*different hashes/);
    const store = await openSqliteStore(db);
    assert.deepEqual((await store.lookup('example.com/Upper/A', 'v1.0.0'))?.text, before?.text);
    assert.equal(await store.treeSize(), size);
    await store.close();
  });

  it('refuses an invalid zip with its rule and logs nothing for it', async () => {
    const bad = buildGoProxy(join(root, 'bad'), [
      {
        path: 'example.com/bad',
        version: 'v1.0.0',
        files: {},
        mod: 'module example.com/bad\n',
        zipEntries: [{ name: 'example.com/bad@v1.0.0/../escape.go', content: 'package x\n' }],
      },
    ]);
    const r = runCli(args(bad.dir));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /invalid example\.com\/bad@v1\.0\.0: .*\.\./);
    const store = await openSqliteStore(db);
    assert.equal(await store.lookup('example.com/bad', 'v1.0.0'), null);
    await store.close();
  });

  it('says which command to run when there is no key', () => {
    const r = runCli(['ingest', '--keys', join(root, 'nokeys'), '--db', db, root]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ceremony init/);
  });

  it('refuses a path that does not exist', () => {
    const r = runCli(args(join(root, 'missing')));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no such file or directory/);
  });
});
