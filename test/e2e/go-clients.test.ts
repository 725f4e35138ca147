/**
 * The real go clients the user-facing tests run with, and the walls that keep them off the
 * network: which toolchains ran (the titles carry `go version` and the binary), that goEnv's
 * settings reach each go command as `go env` reports them, that a request to any non-loopback
 * host fails at the dead proxy instead of leaving the machine, that GOTOOLCHAIN=local refuses to
 * fetch a newer toolchain, and that goEnv refuses settings that would reach the network.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEAD_PROXY, goClients, goEnv, requireClient, runGo, tempDir } from '../helpers/go.ts';

const root = tempDir('sumkeep-go-clients-');

/** Go 1.21 and later know GOTOOLCHAIN (and may switch toolchains); Go 1.19 does not. */
const hasToolchainSwitch = (version: string) => {
  const m = /^go version go1\.(\d+)/.exec(version);
  return m !== null && Number(m[1]) >= 21;
};

describe('the real go clients', () => {
  for (const c of goClients()) {
    describe(c.version !== null && c.bin !== null ? `${c.version} (${c.bin})` : c.name, () => {
      it('runs with the hermetic settings of goEnv', (t) => {
        const go = requireClient(t, c);
        if (go === null) return;
        const env = goEnv(join(root, `env-${c.id}`), { go, GOPROXY: 'off' });
        const r = runGo(go, ['env', '-json'], { cwd: root, env });
        assert.equal(r.status, 0, r.stderr);
        const e = JSON.parse(r.stdout) as Record<string, string>;
        assert.equal(e.GOPROXY, 'off');
        assert.equal(e.GOSUMDB, 'off');
        assert.equal(e.GOFLAGS, '-modcacherw -mod=mod -buildvcs=false');
        assert.equal(e.GONOSUMDB, '');
        assert.equal(e.GOPRIVATE, '');
        assert.equal(e.GONOPROXY, '');
        assert.equal(e.GOVCS, '*:off');
        assert.equal(e.GOPATH, join(root, `env-${c.id}`, 'gopath'));
        assert.equal(e.GOENV, '', 'GOENV=off: no go env file is read (go env reports no path)');
        // Its own standard library, not one named by an inherited GOROOT.
        assert.equal(realpathSync(join(e.GOROOT!, 'bin', 'go')), realpathSync(go));
        if (hasToolchainSwitch(c.version!)) {
          assert.equal(e.GOTOOLCHAIN, 'local');
          assert.equal(e.GOTELEMETRY, 'off');
        }
      });

      it('cannot reach a host off the machine: the request fails at the dead proxy', (t) => {
        const go = requireClient(t, c);
        if (go === null) return;
        const env = goEnv(join(root, `net-${c.id}`), { go, GOPROXY: 'off' });
        // What goEnv would refuse, set behind its back: the public proxy and checksum database.
        env.GOPROXY = 'https://proxy.golang.org';
        env.GOSUMDB = 'sum.golang.org';
        const r = runGo(go, ['mod', 'download', '-json', 'golang.org/x/text@v0.3.0'], { cwd: root, env });
        assert.notEqual(r.status, 0);
        const port = new URL(DEAD_PROXY).port;
        assert.match(r.stdout + r.stderr, new RegExp(`proxyconnect tcp: dial tcp 127\\.0\\.0\\.1:${port}`));
      });

      // Go 1.19 predates toolchain switching (Go 1.21): it cannot fetch a toolchain at all.
      if (c.version === null || hasToolchainSwitch(c.version))
        it('never fetches another toolchain (GOTOOLCHAIN=local)', (t) => {
          const go = requireClient(t, c);
          if (go === null) return;
          const mod = join(root, `toolchain-${c.id}`);
          mkdirSync(mod, { recursive: true });
          writeFileSync(join(mod, 'go.mod'), 'module example.com/future\n\ngo 1.999\n');
          const r = runGo(go, ['list', '-m'], { cwd: mod, env: goEnv(mod, { go, GOPROXY: 'off' }) });
          assert.notEqual(r.status, 0);
          assert.match(r.stderr, /requires go >= 1\.999 \(running go 1\.\d+(\.\d+)?; GOTOOLCHAIN=local\)/);
        });
    });
  }

  describe('goEnv', () => {
    const refused = (opts: Parameters<typeof goEnv>[1], what: RegExp) =>
      assert.throws(() => goEnv(join(root, 'refused'), opts), what);

    it('refuses a GOPROXY that would reach the network', () => {
      refused({ GOPROXY: '' }, /GOPROXY must be given/);
      refused({ GOPROXY: 'direct' }, /"direct" would reach the network/);
      refused({ GOPROXY: 'file:///tmp/p,direct' }, /"direct"/);
      refused({ GOPROXY: 'https://proxy.golang.org' }, /proxy\.golang\.org/);
      refused({ GOPROXY: 'http://127.0.0.1.example.com:80' }, /127\.0\.0\.1\.example\.com/);
    });

    it('refuses a GOSUMDB that would reach the network', () => {
      refused({ GOPROXY: 'off', GOSUMDB: 'sum.golang.org' }, /GOSUMDB "sum\.golang\.org"/);
      refused({ GOPROXY: 'off', GOSUMDB: 'sum.example+abcd+key https://sum.example' }, /GOSUMDB/);
      // A key alone is looked up through the proxy, so only with a loopback one.
      assert.equal(
        goEnv(join(root, 'ok'), { GOPROXY: 'http://127.0.0.1:9999', GOSUMDB: 'sum.t+0+x' }).GOSUMDB,
        'sum.t+0+x',
      );
      refused({ GOPROXY: 'file:///tmp/p', GOSUMDB: 'sum.t+0+x' }, /GOSUMDB/);
    });

    it('refuses to let extra undo a guard, or change -mod', () => {
      for (const k of ['GOTOOLCHAIN', 'GOVCS', 'HTTPS_PROXY', 'NO_PROXY', 'GOENV', 'GOPROXY']) {
        refused({ GOPROXY: 'off', extra: { [k]: 'x' } }, new RegExp(`${k} is set by goEnv`));
      }
      refused({ GOPROXY: 'off', extra: { GOFLAGS: '-mod=readonly' } }, /-mod=mod, not -mod=readonly/);
      assert.equal(
        goEnv(join(root, 'ok'), { GOPROXY: 'off', extra: { GOFLAGS: '-mod=mod -trimpath' } }).GOFLAGS,
        '-modcacherw -mod=mod -buildvcs=false -trimpath',
      );
    });
  });
});
