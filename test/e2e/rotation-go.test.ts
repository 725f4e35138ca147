/**
 * A note-key rotation as go clients live it (the real go command): the server signs every tree
 * head with both keys, so clients configured with the old key and clients configured with the new
 * one both keep working; a client that switches keys keeps working when its remembered tree head
 * ($GOPATH/pkg/sumdb/<name>/latest) carries the new key's signature, and must drop that file
 * otherwise. docs/ceremony.md describes the same steps.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { findGo, goEnv, requireGo, runGo } from '../helpers/go.ts';
import {
  makeKeys,
  runCli,
  startServer,
  tempDir,
  type RunningServer,
  passphraseFile,
} from '../helpers/server.ts';

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
    if (findGo() === null) return;
    oldKey = makeKeys(keys, NAME);
    server = await startServer({ keys, db, upstream: proxy.url });
  });
  after(async () => {
    await server?.stop();
  });

  const download = (go: string, client: string, vkey: string, target: string) => {
    const work = join(root, 'work');
    mkdirSync(work, { recursive: true });
    return runGo(go, ['mod', 'download', '-json', target], {
      cwd: work,
      env: goEnv(join(root, client), { GOPROXY: proxy.url, GOSUMDB: `${vkey} ${server!.url}` }),
    });
  };
  const latestFile = (client: string) => join(root, client, 'gopath', 'pkg', 'sumdb', NAME, 'latest');

  it('before the rotation: clients use the old key', (t) => {
    const go = requireGo(t);
    if (go === null) return;
    for (const client of ['stays-old', 'switches-late']) {
      const r = download(go, client, oldKey, 'example.com/a@v1.0.0');
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
  });

  it('after the rotation the server signs every tree head with both keys', async (t) => {
    const go = requireGo(t);
    if (go === null) return;
    await server!.stop();
    const rot = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'note',
      '--keys',
      keys,
      '--root',
      `${keys}.root`,
      '--passphrase-file',
      passphraseFile(keys),
    ]);
    assert.equal(rot.status, 0, rot.stdout + rot.stderr);
    newKey = /^new verifier key: (\S+)$/m.exec(rot.stdout)![1]!;
    server = await startServer({ keys, db, upstream: proxy.url });
    assert.equal(server.vkey, newKey, 'serve announces the new key');
    // The tree has not grown since the restart: the current head must already carry both signatures.
    const fresh = download(go, 'new-right-away', newKey, 'example.com/a@v1.0.0');
    assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
  });

  it('clients with the old key and clients with the new key both keep working', (t) => {
    const go = requireGo(t);
    if (go === null) return;
    const old = download(go, 'stays-old', oldKey, 'example.com/b@v1.0.0');
    assert.equal(old.status, 0, old.stdout + old.stderr);
    const fresh = download(go, 'new-fresh', newKey, 'example.com/a@v1.0.0');
    assert.equal(fresh.status, 0, fresh.stdout + fresh.stderr);
    const fresh2 = download(go, 'new-fresh', newKey, 'example.com/c@v1.0.0');
    assert.equal(fresh2.status, 0, fresh2.stdout + fresh2.stderr);
    const latest = readFileSync(latestFile('stays-old'), 'utf8');
    assert.equal(latest.split('\n').filter((l) => l.startsWith(`\u2014 ${NAME} `)).length, 2);
  });

  it('a client switching keys works once its remembered tree head carries the new signature', (t) => {
    const go = requireGo(t);
    if (go === null) return;
    // stays-old remembered a head signed by both keys (it looked up b after the rotation).
    const switched = download(go, 'stays-old', newKey, 'example.com/d@v1.0.0');
    assert.equal(switched.status, 0, switched.stdout + switched.stderr);
    // switches-late still remembers a head signed by the old key only: the new key cannot read it.
    const stale = download(go, 'switches-late', newKey, 'example.com/e@v1.0.0');
    assert.notEqual(stale.status, 0);
    assert.match(stale.stdout + stale.stderr, /verifiable signatures/);
    // Dropping the remembered head (docs/ceremony.md) fixes it.
    assert.ok(existsSync(latestFile('switches-late')));
    rmSync(latestFile('switches-late'));
    const again = download(go, 'switches-late', newKey, 'example.com/e@v1.0.0');
    assert.equal(again.status, 0, again.stdout + again.stderr);
  });
});
