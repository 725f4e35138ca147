/**
 * The real go command against `sumkeep serve` over loopback, once per client (the machine's Go
 * 1.26 and Debian's Go 1.19, each with its own GOPATH) against one server: downloads, tidy and
 * build through the checksum database, a tampered proxy that must end in SECURITY ERROR, and a
 * restart on the same database that a client remembering the old tree accepts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, runGo, type GoClient } from '../helpers/go.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

const pkg = (name: string, body: string) => `package ${name}\n\n${body}\n`;

function goMod(path: string): string {
  return `module ${path}\n\ngo 1.17\n`;
}

const bigFiles: Record<string, string> = { 'go.mod': goMod('example.com/big') };
for (let i = 0; i < 2000; i++) bigFiles[`data/f${String(i).padStart(4, '0')}.txt`] = `file ${i}\n`;
bigFiles['big.go'] = pkg('big', 'func Files() int { return 2000 }');

const MODULES: ProxyModule[] = [
  {
    path: 'example.com/Upper/Mod',
    version: 'v1.0.0',
    files: {
      'go.mod': goMod('example.com/Upper/Mod'),
      'mod.go': pkg('mod', 'func Name() string { return "upper" }'),
    },
  },
  {
    path: 'example.com/Upper/Mod',
    version: 'v1.1.0-RC.1',
    files: {
      'go.mod': goMod('example.com/Upper/Mod'),
      'mod.go': pkg('mod', 'func Name() string { return "rc" }'),
    },
  },
  {
    // No go.mod: the proxy serves the synthesized "module <path>\n".
    path: 'example.com/legacy',
    version: 'v2.3.0+incompatible',
    files: { 'legacy.go': pkg('legacy', 'func Old() int { return 2 }'), LICENSE: 'MIT\n' },
  },
  {
    path: 'example.com/pseudo',
    version: 'v0.0.0-20200102030405-abcdefabcdef',
    files: { 'go.mod': goMod('example.com/pseudo'), 'p.go': pkg('pseudo', 'func P() int { return 0 }') },
    unlisted: true,
  },
  {
    path: 'example.com/pre',
    version: 'v1.2.0-beta.2',
    files: {
      'go.mod': goMod('example.com/pre'),
      'pre.go': pkg('pre', 'func Pre() string { return "beta" }'),
    },
  },
  {
    path: 'example.com/mod/v2',
    version: 'v2.1.0',
    files: { 'go.mod': goMod('example.com/mod/v2'), 'm.go': pkg('mod', 'func V() int { return 2 }') },
  },
  {
    path: 'example.com/unicode',
    version: 'v1.0.0',
    files: {
      'go.mod': goMod('example.com/unicode'),
      'u.go': pkg('unicode', 'func U() string { return "ü" }'),
      'docs/résumé.txt': 'café\n',
      'docs/日本語.txt': 'にほんご\n',
      'docs/\u{1D49C}.txt': 'math A\n',
      'docs/\uFB00.txt': 'ligature\n',
    },
  },
  { path: 'example.com/big', version: 'v1.0.0', files: bigFiles },
  { path: 'example.com/empty', version: 'v1.0.0', files: { 'go.mod': goMod('example.com/empty') } },
];

const LATER: ProxyModule = {
  path: 'example.com/later',
  version: 'v1.0.0',
  files: { 'go.mod': goMod('example.com/later'), 'l.go': pkg('later', 'func L() int { return 1 }') },
};

interface DownloadJSON {
  Path: string;
  Version: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

describe('the real go command against sumkeep serve', { timeout: 600_000 }, () => {
  const root = tempDir('e2e-go');
  const proxyDir = join(root, 'proxy');
  const keys = join(root, 'keys');
  const db = join(root, 'data', 'sumkeep.db');
  let server: RunningServer | undefined;
  const proxy = buildGoProxy(proxyDir, MODULES);

  before(async () => {
    makeKeys(keys, 'sum.e2e.test');
    server = await startServer({ keys, db, upstream: proxy.url });
  });
  after(async () => {
    await server?.stop();
  });

  /** The environment of one client of `c`: its own GOPATH (module cache and sumdb state) under root. */
  const clientEnv = (c: GoClient, name: string, goproxy = proxy.url) =>
    goEnv(join(root, `${name}-${c.id}`), { go: c.bin!, GOPROXY: goproxy, GOSUMDB: server!.gosumdb });

  for (const c of goClients()) {
    it(`downloads every version through the checksum database (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const work = join(root, `dl-${c.id}`);
      mkdirSync(work, { recursive: true });
      for (const m of MODULES) {
        const r = runGo(go, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
          cwd: work,
          env: clientEnv(c, 'client1'),
        });
        assert.equal(r.status, 0, `go mod download ${m.path}@${m.version}:\n${r.stdout}\n${r.stderr}`);
        const j = JSON.parse(r.stdout) as DownloadJSON;
        assert.equal(j.Error, undefined);
        assert.match(j.Sum ?? '', /^h1:/);
        assert.match(j.GoModSum ?? '', /^h1:/);
      }
    });

    it(`runs go mod tidy and go build of a main module that imports several of them (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const app = join(root, `app-${c.id}`);
      mkdirSync(app, { recursive: true });
      writeFileSync(
        join(app, 'go.mod'),
        'module example.com/app\n\ngo 1.17\n\nrequire (\n' +
          '\texample.com/Upper/Mod v1.0.0\n\texample.com/legacy v2.3.0+incompatible\n' +
          '\texample.com/mod/v2 v2.1.0\n\texample.com/pseudo v0.0.0-20200102030405-abcdefabcdef\n' +
          '\texample.com/unicode v1.0.0\n\texample.com/big v1.0.0\n\texample.com/pre v1.2.0-beta.2\n)\n',
      );
      writeFileSync(
        join(app, 'main.go'),
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/Upper/Mod"\n\t"example.com/big"\n\t"example.com/legacy"\n' +
          '\tm2 "example.com/mod/v2"\n\t"example.com/pre"\n\t"example.com/pseudo"\n\t"example.com/unicode"\n)\n\n' +
          'func main() {\n\tfmt.Println(mod.Name(), big.Files(), legacy.Old(), m2.V(), pre.Pre(), pseudo.P(), unicode.U())\n}\n',
      );
      const env = clientEnv(c, 'client-build');
      const tidy = runGo(go, ['mod', 'tidy'], { cwd: app, env });
      assert.equal(tidy.status, 0, `go mod tidy:\n${tidy.stderr}`);
      const build = runGo(go, ['build', '-o', join(app, 'app.bin'), '.'], { cwd: app, env });
      assert.equal(build.status, 0, `go build:\n${build.stderr}`);
      const run = runGo(join(app, 'app.bin'), [], { cwd: app, env });
      assert.equal(run.stdout.trim(), 'upper 2000 2 2 beta 0 ü');
    });

    it(`fails with SECURITY ERROR when a proxy serves a different zip for a logged version (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const evil = buildGoProxy(join(root, 'evil-proxy'), [
        {
          path: 'example.com/Upper/Mod',
          version: 'v1.0.0',
          files: {
            'go.mod': goMod('example.com/Upper/Mod'),
            'mod.go': pkg('mod', 'func Name() string { return "evil" }'),
          },
        },
      ]);
      const work = join(root, `dl-evil-${c.id}`);
      mkdirSync(work, { recursive: true });
      const r = runGo(go, ['mod', 'download', '-json', 'example.com/Upper/Mod@v1.0.0'], {
        cwd: work,
        env: clientEnv(c, 'client-evil', evil.url),
      });
      assert.notEqual(r.status, 0, 'the tampered download must fail');
      assert.match(r.stdout + r.stderr, /SECURITY ERROR/);
    });
  }

  it('restarts on the same database with a module added upstream', async () => {
    const tree = async () => (await (await fetch(`${server!.url}/latest`)).text()).split('\n\n')[0];
    const before = await tree();
    await server!.stop();
    buildGoProxy(proxyDir, [LATER]);
    server = await startServer({ keys, db, upstream: proxy.url });
    assert.equal(await tree(), before, 'the restart kept the tree');
  });

  for (const c of goClients()) {
    it(`keeps working for a client that remembers the tree after the restart, and grows without a fork (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const work = join(root, `dl2-${c.id}`);
      mkdirSync(work, { recursive: true });
      // Same GOPATH as the first test: its pkg/sumdb/<name>/latest holds the earlier tree head. The
      // first client to ask for LATER grows the tree; the second sees the grown tree.
      for (const target of [`${LATER.path}@${LATER.version}`, 'example.com/Upper/Mod@v1.1.0-RC.1']) {
        const r = runGo(go, ['mod', 'download', '-json', target], {
          cwd: work,
          env: clientEnv(c, 'client1'),
        });
        assert.equal(r.status, 0, `go mod download ${target} after restart:\n${r.stdout}\n${r.stderr}`);
      }
      // A fresh client also verifies the module logged before the restart.
      const fresh = runGo(go, ['mod', 'download', '-json', 'example.com/big@v1.0.0'], {
        cwd: work,
        env: clientEnv(c, 'client-fresh'),
      });
      assert.equal(fresh.status, 0, fresh.stderr);
    });
  }
});
