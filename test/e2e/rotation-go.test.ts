/**
 * A note-key rotation as go clients live it (the real go command): the server signs every tree
 * head with both keys, so clients configured with the old key and clients configured with the new
 * one both keep working; a client that switches keys keeps working when its remembered tree head
 * ($GOPATH/pkg/sumdb/<name>/latest) carries the new key's signature, and must drop that file
 * otherwise. docs/ceremony.md describes the same steps. Each phase runs with both clients (the
 * machine's Go 1.26 and Debian's Go 1.19), each with GOPATHs of its own, against one server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, runGo, type GoClient } from '../helpers/go.ts';
import { makeKeys, runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

const NAME = 'sum.rotate.e2e';

function mod(path: string): ProxyModule {
  const pkg = path.split('/').pop()!;
  return {
    path,
    version: 'v1.0.0',
    files: { 'go.mod': `module ${path}\n\ngo 1.17\n`, [`${pkg}.go`]: `package ${pkg}\n` },
  };
}

describe('the go command across a note-key rotation', { timeout: 600_000 }, () => {
  const root = tempDir('e2e-rotate');
  const keys = join(root, 'keys');
  const db = join(root, 'sumkeep.db');
  const proxy = buildGoProxy(
    join(root, 'proxy'),
    ['a', 'b', 'c', 'd', 'e'].map((x) => mod(`example.com/${x}`)),
  );
  let server: RunningServer | undefined;
  let oldKey = '';
  let newKey = '';

  before(async () => {
    if (goClients().every((c) => c.bin === null)) return;
    oldKey = makeKeys(keys, NAME);
    server = await startServer({ keys, db, upstream: proxy.url });
  });
  after(async () => {
    await server?.stop();
  });

  /** `go mod download` by the client of `c` named `client` (its own GOPATH), trusting `vkey`. */
  const download = (c: GoClient, client: string, vkey: string, target: string) => {
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    return runGo(c.bin!, ['mod', 'download', '-json', target], {
      cwd: work,
      env: goEnv(join(root, `${client}-${c.id}`), {
        go: c.bin!,
        GOPROXY: proxy.url,
        GOSUMDB: `${vkey} ${server!.url}`,
      }),
    });
  };
  const latestFile = (c: GoClient, client: string) =>
    join(root, `${client}-${c.id}`, 'gopath', 'pkg', 'sumdb', NAME, 'latest');
  const signatures = (note: string) => note.split('\n').filter((l) => l.startsWith(`\u2014 ${NAME} `)).length;

  for (const c of goClients()) {
    it(`before the rotation: clients use the old key (${c.name})`, (t) => {
      if (requireClient(t, c) === null) return;
      for (const client of ['stays-old', 'switches-late']) {
        const r = download(c, client, oldKey, 'example.com/a@v1.0.0');
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    });
  }

  it('after the rotation the server signs every tree head with both keys', async (t) => {
    if (server === undefined) return void t.skip('no go client: nothing to rotate for');
    await server.stop();
    const rot = runCli(['ceremony', 'rotate', '--purpose', 'note', '--keys', keys, '--root', `${keys}.root`]);
    assert.equal(rot.status, 0, rot.stdout + rot.stderr);
    newKey = /^new verifier key: (\S+)$/m.exec(rot.stdout)![1]!;
    server = await startServer({ keys, db, upstream: proxy.url });
    assert.equal(server.vkey, newKey, 'serve announces the new key');
    assert.equal(signatures(await (await fetch(`${server.url}/latest`)).text()), 2);
  });

  for (const c of goClients()) {
    it(`a client with the new key verifies the head signed right after the rotation (${c.name})`, (t) => {
      if (requireClient(t, c) === null) return;
      // The tree has not grown since the restart: the current head must already carry both signatures.
      const fresh = download(c, 'new-right-away', newKey, 'example.com/a@v1.0.0');
      assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
    });
  }

  for (const c of goClients()) {
    it(`clients with the old key and clients with the new key both keep working (${c.name})`, (t) => {
      if (requireClient(t, c) === null) return;
      const old = download(c, 'stays-old', oldKey, 'example.com/b@v1.0.0');
      assert.equal(old.status, 0, old.stdout + old.stderr);
      const fresh = download(c, 'new-fresh', newKey, 'example.com/a@v1.0.0');
      assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
      const fresh2 = download(c, 'new-fresh', newKey, 'example.com/c@v1.0.0');
      assert.equal(fresh2.status, 0, fresh2.stdout + fresh2.stderr);
      // The head stays-old remembers now is one signed after the rotation (by both keys): the
      // first client grew the tree with b, the second sees a tree larger than its old head.
      assert.equal(signatures(readFileSync(latestFile(c, 'stays-old'), 'utf8')), 2);
    });
  }

  for (const c of goClients()) {
    it(`a client switching keys works once its remembered tree head carries the new signature (${c.name})`, (t) => {
      if (requireClient(t, c) === null) return;
      // stays-old remembered a head signed by both keys (it looked up b after the rotation).
      const switched = download(c, 'stays-old', newKey, 'example.com/d@v1.0.0');
      assert.equal(switched.status, 0, switched.stdout + switched.stderr);
      // switches-late still remembers a head signed by the old key only: the new key cannot read it.
      const stale = download(c, 'switches-late', newKey, 'example.com/e@v1.0.0');
      assert.notEqual(stale.status, 0);
      assert.match(stale.stdout + stale.stderr, /verifiable signatures/);
      // Dropping the remembered head (docs/ceremony.md) fixes it.
      assert.ok(existsSync(latestFile(c, 'switches-late')));
      rmSync(latestFile(c, 'switches-late'));
      const again = download(c, 'switches-late', newKey, 'example.com/e@v1.0.0');
      assert.equal(again.status, 0, again.stdout + again.stderr);
    });
  }
});
