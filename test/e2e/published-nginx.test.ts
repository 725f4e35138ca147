/**
 * The published read path end to end: `sumkeep serve --publish <dir>` behind Debian's nginx,
 * which serves `/latest` and `/tile/` from the directory, `/lookup/` from it with `try_files`
 * falling back to sumkeep (first-time lookups), and proxies the rest (test/helpers/nginx-published.ts).
 *  - The real go command (the machine's Go 1.26 and Debian's Go 1.19) runs from an empty log
 *    through nginx alone, first-time lookups included, past a full tile (over 256 records), with
 *    module paths and versions that need the go command's "!" escaping: no failure.
 *  - Lookups of logged versions are answered by nginx from the directory (no upstream in its log).
 *  - With sumkeep stopped, a fresh client of each go (empty module cache, no sumdb state)
 *    downloads every logged module through nginx alone; a version never logged gets 502 then
 *    (sumkeep is really gone).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goEnv, requireClients, runGo, type GoClient } from '../helpers/go.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { requireNginx, startNginx, type RunningNginx } from '../helpers/nginx-published.ts';

const goMod = (path: string) => `module ${path}\n\ngo 1.17\n`;
const SPECIAL: ProxyModule[] = [
  { path: 'example.com/Upper/Mod', version: 'v1.0.0', files: { 'go.mod': goMod('example.com/Upper/Mod') } },
  {
    path: 'example.com/Upper/Mod',
    version: 'v1.1.0-RC.1',
    files: { 'go.mod': goMod('example.com/Upper/Mod') },
  },
  { path: 'example.com/legacy', version: 'v2.3.0+incompatible', files: { 'l.go': 'package legacy\n' } },
  {
    path: 'example.com/pseudo',
    version: 'v0.0.0-20200102030405-abcdefabcdef',
    files: { 'go.mod': goMod('example.com/pseudo') },
    unlisted: true,
  },
  { path: 'example.com/mod/v2', version: 'v2.1.0', files: { 'go.mod': goMod('example.com/mod/v2') } },
  { path: 'example.com/mod', version: 'v1.0.0', files: { 'go.mod': goMod('example.com/mod') } },
  { path: 'example.com/tilde~x/Y', version: 'v1.0.0', files: { 'go.mod': goMod('example.com/tilde~x/Y') } },
];
const BULK: ProxyModule[] = Array.from({ length: 265 }, (_, i) => {
  const path = `example.com/Bulk/m${i}`;
  return { path, version: `v1.0.${i}`, files: { 'go.mod': goMod(path), 'm.go': `package m${i}\n` } };
});
const NEVER: ProxyModule = {
  path: 'example.com/never',
  version: 'v1.0.0',
  files: { 'go.mod': goMod('example.com/never') },
};
const at = (m: ProxyModule) => `${m.path}@${m.version}`;

describe('the published read path behind nginx, with the real go command', { timeout: 900_000 }, () => {
  const root = tempDir('nginx');
  const keys = join(root, 'keys');
  const pub = join(root, 'pub');
  const proxy = buildGoProxy(join(root, 'proxy'), [...SPECIAL, ...BULK, NEVER]);
  let vkey = '';
  let server: RunningServer | undefined;
  let nginx: RunningNginx | undefined;

  before(() => {
    vkey = makeKeys(keys, 'sum.nginx.test');
  });
  after(async () => {
    await server?.stop();
    await nginx?.stop();
  });

  /** `go mod download` of `mods` in one run, GOSUMDB through nginx; the output for messages. */
  const download = (c: GoClient, client: string, mods: readonly ProxyModule[]) => {
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    const r = runGo(c.bin!, ['mod', 'download', '-json', ...mods.map(at)], {
      cwd: work,
      env: goEnv(join(root, client), { go: c.bin!, GOPROXY: proxy.url, GOSUMDB: `${vkey} ${nginx!.url}` }),
      timeoutMs: 300_000,
    });
    const text = `${c.name} ${client}: exit ${r.status}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;
    assert.equal(
      r.status,
      0,
      `${text}\nnginx:\n${nginx!.errorLog().slice(-2000)}\nsumkeep:\n${server?.stderr().slice(-2000)}`,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /SECURITY ERROR|verifying/, text);
    return r;
  };
  /** Lookup requests of the access log from line `from` on: [status, upstream, uri]. */
  const lookups = (from: number) =>
    nginx!
      .accessLog()
      .slice(from)
      .map((l) => l.split(' '))
      .filter((f) => f[2]!.includes('/lookup/'));

  it('serves go from an empty log through nginx, then every logged module with sumkeep stopped', async (t) => {
    if (!requireNginx(t)) return;
    const clients = requireClients(t);
    if (clients === null) return;
    const [go, go119] = clients as [GoClient, GoClient];

    server = await startServer({
      keys,
      db: join(root, 'sumkeep.db'),
      upstream: proxy.url,
      extra: ['--publish', pub],
    });
    // The empty log is published at start: the signed size-0 note, served as such by nginx,
    // byte for byte what sumkeep's /latest answers.
    const emptyNote = new Uint8Array(readFileSync(join(pub, 'latest')));
    assert.match(new TextDecoder().decode(emptyNote), /^sum\.nginx\.test\n0\n/);
    nginx = await startNginx(join(root, 'nginx'), pub, server.url);
    const empty = await fetch(`${nginx.url}/latest`);
    assert.equal(empty.status, 200);
    assert.deepEqual(new Uint8Array(await empty.arrayBuffer()), emptyNote);
    const direct = await fetch(`${server.url}/latest`);
    assert.deepEqual(new Uint8Array(await direct.arrayBuffer()), emptyNote);

    // First-time lookups through nginx: passed to sumkeep (try_files finds no file yet).
    let mark = nginx.accessLog().length;
    download(go, 'live-go', SPECIAL);
    const first = lookups(mark);
    assert.ok(first.length >= SPECIAL.length, first.join('\n'));
    assert.ok(
      first.every(([status, up]) => status === '200' && up !== '-'),
      first.join('\n'),
    );
    // Go 1.19 from its own empty state: the logged ones now come from the directory, then over
    // 256 first-time lookups (a full tile, a level-1 tile).
    download(go119, 'live-go119', SPECIAL);
    download(go119, 'live-go119', BULK);
    download(go, 'live-go', BULK.slice(0, 40));

    // Every logged version's lookup is now a file nginx serves itself.
    mark = nginx.accessLog().length;
    download(go, 'live-go-2', [...SPECIAL, ...BULK.slice(200)]);
    const again = lookups(mark);
    assert.ok(again.length >= SPECIAL.length + 65, again.join('\n'));
    assert.deepEqual(
      again.filter(([status, up]) => status !== '200' || up !== '-'),
      [],
      'lookups of logged versions answered by sumkeep',
    );
    // The file name maps the escaped URL exactly: "!" for capitals, "%21" decoded to it.
    const named = readFileSync(join(pub, 'lookup', 'example.com', '!upper', '!mod@v1.1.0-!r!c.1'), 'utf8');
    const viaPercent = await fetch(`${nginx.url}/lookup/example.com/%21upper/%21mod@v1.1.0-%21r%21c.1`);
    assert.equal(viaPercent.status, 200);
    assert.equal(await viaPercent.text(), named);
    assert.match(named, /^\d+\nexample\.com\/Upper\/Mod v1\.1\.0-RC\.1 h1:/);

    await server.stop();
    server = undefined;

    // sumkeep is gone: a fresh client of each go downloads every logged module through nginx.
    mark = nginx.accessLog().length;
    for (const c of [go, go119]) download(c, `fresh-${c.id}`, [...SPECIAL, ...BULK]);
    const alone = nginx
      .accessLog()
      .slice(mark)
      .map((l) => l.split(' '));
    assert.ok(
      alone.some((f) => f[2]!.startsWith('/tile/')),
      'tiles were fetched',
    );
    // A partial tile whose full tile exists is gone (404); the go command then asks for the full
    // one, as it does of any server.
    const fullExists = (uri: string) => {
      const m = /^(\/tile\/8\/(?:\d+|data)\/(?:x\d{3}\/)*\d{3})\.p\/\d+$/.exec(uri);
      return m !== null && existsSync(join(pub, m[1]!));
    };
    assert.deepEqual(
      alone.filter(
        ([status, up, uri]) => up !== '-' || (status !== '200' && !(status === '404' && fullExists(uri!))),
      ),
      [],
      'every request answered by nginx from the directory',
    );
    const never = await fetch(`${nginx.url}/lookup/${at(NEVER)}`);
    assert.equal(never.status, 502, 'a first-time lookup needs sumkeep, which is stopped');
  });
});
