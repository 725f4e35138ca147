/**
 * A note-key rotation on the published read path, with the real go command (the machine's Go 1.26
 * and Debian's Go 1.19) and Debian's nginx running the documented configuration
 * (docs/operations.md, "Static read path"; test/helpers/nginx.ts):
 *  - `serve --publish` with key A; clients trusting A log modules through nginx (first-time
 *    lookups go to sumkeep, which publishes their files);
 *  - `ceremony rotate --purpose note` adds key B; serve restarts on the same directory and rewrites
 *    the lookup files before it listens;
 *  - with sumkeep stopped, so that nginx answers from the files alone, a fresh client trusting only
 *    B downloads every logged module (before the fix: "note has no verifiable signatures"), and a
 *    fresh client trusting only A still does.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, requireClients, runGo, type GoClient } from '../helpers/go.ts';
import { freePort, requireNginx, startNginx, type RunningNginx } from '../helpers/nginx.ts';
import {
  makeKeys,
  passphraseFile,
  runCli,
  startServer,
  tempDir,
  type RunningServer,
} from '../helpers/server.ts';

const NAME = 'sum.rotate.published';
const mod = (path: string): ProxyModule => ({
  path,
  version: 'v1.0.0',
  files: { 'go.mod': `module ${path}\n\ngo 1.17\n`, 'x.go': 'package x\n' },
});
const MODS = ['example.com/Rot/a', 'example.com/rot/b', 'example.com/rot/c'].map(mod);

describe(
  'published lookups after a note-key rotation, through nginx, with the go command',
  { timeout: 900_000 },
  () => {
    const root = tempDir('e2e-rotate-published');
    const keys = join(root, 'keys');
    const db = join(root, 'sumkeep.db');
    const pub = join(root, 'pub');
    const proxy = buildGoProxy(join(root, 'proxy'), MODS);
    let port = 0;
    let server: RunningServer | undefined;
    let nginx: RunningNginx | undefined;
    let oldKey = '';
    let newKey = '';
    const serve = () =>
      startServer({
        keys,
        db,
        upstream: proxy.url,
        extra: ['--publish', pub, '--listen', `127.0.0.1:${port}`],
      });

    before(async () => {
      oldKey = makeKeys(keys, NAME);
      port = await freePort();
      server = await serve();
    });
    after(async () => {
      await nginx?.stop();
      await server?.stop();
    });

    const download = (c: GoClient, client: string, vkey: string) => {
      const work = join(root, 'work');
      mkdirSync(work, { recursive: true });
      const r = runGo(c.bin!, ['mod', 'download', '-json', ...MODS.map((m) => `${m.path}@${m.version}`)], {
        cwd: work,
        env: goEnv(join(root, `${client}-${c.id}`), {
          go: c.bin!,
          GOPROXY: proxy.url,
          GOSUMDB: `${vkey} ${nginx!.url}`,
        }),
        timeoutMs: 300_000,
      });
      return {
        status: r.status,
        out: `${c.name} ${client}: exit ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`,
      };
    };

    it('logs the modules through nginx with key A', async (t) => {
      const bin = requireNginx(t);
      if (bin === null) return;
      nginx = await startNginx(bin, join(root, 'nginx'), {
        sumkeep: `127.0.0.1:${port}`,
        root: pub,
        name: NAME,
      });
      const clients = requireClients(t);
      if (clients === null) return;
      for (const c of clients) {
        const r = download(c, 'before', oldKey);
        assert.equal(r.status, 0, r.out);
      }
    });

    it('rotates the note key and restarts serve --publish on the same directory', async (t) => {
      if (nginx === undefined) return void t.skip('no nginx or no go client');
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
      server = await serve();
      assert.equal(server.vkey, newKey);
      // From here on nginx answers from the files alone.
      await server.stop();
    });

    for (const c of goClients()) {
      it(`with sumkeep stopped, fresh clients with only the new key, or only the old one, download every module (${c.name})`, (t) => {
        if (requireClient(t, c) === null) return;
        if (newKey === '') return void t.skip('no rotation (nginx missing)');
        const b = download(c, 'new-only', newKey);
        assert.equal(b.status, 0, b.out);
        const a = download(c, 'old-only', oldKey);
        assert.equal(a.status, 0, a.out);
      });
    }
  },
);
