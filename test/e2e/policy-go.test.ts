/**
 * The policy (--policy) with the real go command against a spawned `sumkeep serve`: a denied
 * version fails `go mod download` and `go get` showing "denied by policy: <reason>", an allowed one
 * passes; SIGHUP applies a changed policy without a restart (a denied version then passes, a
 * logged one becomes denied), a bad new file keeps the old policy and says why in the log; and a
 * bad file at start stops serve with exit 2, naming the field and the rule.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goClients, goEnv, requireClient, runGo, type GoClient } from '../helpers/go.ts';
import { makeKeys, runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

const goMod = (path: string) => `module ${path}\n\ngo 1.17\n`;
const mod = (path: string, version: string): ProxyModule => ({
  path,
  version,
  files: { 'go.mod': goMod(path), 'x.go': `package x\n\nconst V = "${version}"\n` },
});
const MODULES: ProxyModule[] = [
  mod('example.com/lib', 'v1.1.0'),
  mod('example.com/lib', 'v1.4.0'),
  mod('example.com/lib', 'v1.5.0'),
  mod('example.com/evil', 'v1.0.0'),
];

const CVE = 'CVE-2026-0001: upgrade example.com/lib to v1.5.0';
const POLICY = `# the policy of the e2e test
deny:
  - module: example.com/lib
    versions: ">=v1.2.0 <v1.5.0"
    reason: "${CVE}"
  - module: example.com/evil
    reason: untrusted publisher
`;

describe('policy with the real go command', { timeout: 600_000 }, () => {
  const root = tempDir('e2e-policy');
  const keys = join(root, 'keys');
  const db = join(root, 'data', 'sumkeep.db');
  const policyFile = join(root, 'policy.yaml');
  const proxy = buildGoProxy(join(root, 'proxy'), MODULES);
  let server: RunningServer | undefined;
  let envs = 0;

  before(async () => {
    makeKeys(keys, 'sum.policy.test');
    writeFileSync(policyFile, POLICY);
    server = await startServer({
      keys,
      db,
      upstream: proxy.url,
      extra: ['--policy', policyFile, '--log-level', 'info'],
    });
  });
  after(async () => {
    await server?.stop();
  });

  /** A fresh client (own GOPATH: nothing remembered from an earlier answer). */
  const fresh = (c: GoClient) =>
    goEnv(join(root, `client-${envs++}-${c.id}`), {
      go: c.bin!,
      GOPROXY: proxy.url,
      GOSUMDB: server!.gosumdb,
    });
  const download = (go: string, c: GoClient, target: string) => {
    const work = join(root, `work-${envs}`);
    mkdirSync(work, { recursive: true });
    return runGo(go, ['mod', 'download', target], { cwd: work, env: fresh(c) });
  };
  const size = async () => Number((await (await fetch(`${server!.url}/latest`)).text()).split('\n')[1] ?? 0);

  /** Sends SIGHUP and waits for the log line of the reload (the n-th of its kind). */
  const reload = async (text: string, line: RegExp) => {
    writeFileSync(policyFile, text);
    const seen = server!.stderr().match(new RegExp(line.source, 'g'))?.length ?? 0;
    server!.proc.kill('SIGHUP');
    const deadline = Date.now() + 30_000;
    while ((server!.stderr().match(new RegExp(line.source, 'g'))?.length ?? 0) === seen) {
      assert.ok(Date.now() < deadline, `no ${line} in the log after SIGHUP:\n${server!.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  for (const c of goClients()) {
    it(`fails go mod download of a denied version with the reason, and passes an allowed one (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const denied = download(go, c, 'example.com/lib@v1.4.0');
      assert.notEqual(denied.status, 0, 'the denied download must fail');
      assert.ok(denied.stderr.includes(`denied by policy: ${CVE}`), denied.stderr);
      const evil = download(go, c, 'example.com/evil@v1.0.0');
      assert.notEqual(evil.status, 0);
      assert.ok(evil.stderr.includes('denied by policy: untrusted publisher'), evil.stderr);
      for (const v of ['v1.1.0', 'v1.5.0']) {
        const ok = download(go, c, `example.com/lib@${v}`);
        assert.equal(ok.status, 0, `go mod download example.com/lib@${v}:\n${ok.stderr}`);
      }
    });

    it(`fails go get of a denied version with the reason, and gets an allowed one (${c.name})`, (t) => {
      const go = requireClient(t, c);
      if (go === null) return;
      const app = join(root, `app-${c.id}`);
      mkdirSync(app, { recursive: true });
      writeFileSync(join(app, 'go.mod'), goMod('example.com/app'));
      const env = fresh(c);
      const denied = runGo(go, ['get', 'example.com/lib@v1.4.0'], { cwd: app, env });
      assert.notEqual(denied.status, 0, 'go get of the denied version must fail');
      assert.ok(denied.stderr.includes(`denied by policy: ${CVE}`), denied.stderr);
      const ok = runGo(go, ['get', 'example.com/lib@v1.5.0'], { cwd: app, env });
      assert.equal(ok.status, 0, `go get example.com/lib@v1.5.0:\n${ok.stderr}`);
    });
  }

  it('applies a changed policy on SIGHUP without a restart; a bad file keeps the old one', async (t) => {
    const c = goClients().find((x) => x.bin !== null) ?? goClients()[0]!;
    const go = requireClient(t, c);
    if (go === null) return;
    const pid = server!.proc.pid;
    const logged = await size();

    // Lift the CVE rule, and deny v1.5.0 (already in the log) instead.
    await reload(
      'deny:\n  - module: example.com/lib\n    versions: v1.5.0\n    reason: v1.5.0 is withdrawn\n',
      /"msg":"policy reloaded"/,
    );
    const now = download(go, c, 'example.com/lib@v1.4.0');
    assert.equal(now.status, 0, `the formerly denied version passes after SIGHUP:\n${now.stderr}`);
    const withdrawn = download(go, c, 'example.com/lib@v1.5.0');
    assert.notEqual(withdrawn.status, 0);
    assert.ok(withdrawn.stderr.includes('denied by policy: v1.5.0 is withdrawn'), withdrawn.stderr);
    assert.equal(await size(), logged + 1, 'v1.4.0 was logged; v1.5.0 stayed in the log');

    // A bad file: the policy in force stays, and the log says which field breaks which rule.
    await reload(
      'deny:\n  - module: example.com/lib\n    versions: ">=1.0.0"\n    reason: x\n',
      /"msg":"policy not reloaded: the previous policy stays in force"/,
    );
    assert.match(server!.stderr(), /deny\[0\]\.versions: version range \\">=1.0.0\\"/);
    const still = download(go, c, 'example.com/lib@v1.5.0');
    assert.notEqual(still.status, 0);
    assert.ok(still.stderr.includes('denied by policy: v1.5.0 is withdrawn'), still.stderr);
    assert.equal(server!.proc.pid, pid);
    assert.equal(server!.proc.exitCode, null, 'still the same running server');

    // An allow-list: only example.com/lib passes.
    await reload(
      'allow:\n  - module: example.com/lib\nallowReason: only example.com/lib is approved\n',
      /"msg":"policy reloaded"/,
    );
    assert.equal(download(go, c, 'example.com/lib@v1.5.0').status, 0);
    const other = download(go, c, 'example.com/evil@v1.0.0');
    assert.notEqual(other.status, 0);
    assert.ok(other.stderr.includes('denied by policy: only example.com/lib is approved'), other.stderr);
  });

  it('reloads the policy in every worker of --workers 2 on one SIGHUP to the primary', async () => {
    const file = join(root, 'workers-policy.yaml');
    writeFileSync(file, POLICY);
    const w = await startServer({
      keys,
      db: join(root, 'data', 'workers.db'),
      upstream: proxy.url,
      extra: ['--policy', file, '--workers', '2', '--log-level', 'info'],
    });
    try {
      // Enough requests that both workers answer some (node:cluster hands connections round-robin).
      const statuses = async () => {
        const rs = await Promise.all(
          Array.from({ length: 20 }, () =>
            fetch(`${w.url}/lookup/example.com/lib@v1.4.0`, { headers: { connection: 'close' } }),
          ),
        );
        const bodies = await Promise.all(rs.map((r) => r.text()));
        return rs.map((r, i) => `${r.status} ${r.status === 200 ? '' : bodies[i]!.trim()}`.trim());
      };
      assert.deepEqual(new Set(await statuses()), new Set([`403 denied by policy: ${CVE}`]));
      writeFileSync(file, 'deny: []\n');
      const reloaded = () => w.stderr().match(/"msg":"policy reloaded"/g)?.length ?? 0;
      w.proc.kill('SIGHUP');
      const deadline = Date.now() + 30_000;
      while (reloaded() < 2) {
        assert.ok(Date.now() < deadline, `not every worker reloaded:\n${w.stderr()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(new Set(await statuses()), new Set(['200']));
    } finally {
      await w.stop();
    }
  });

  it('refuses to start with a bad policy file: exit 2, naming the field and the rule', () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ deny: [{ module: 'example.com/x', reason: 'r', version: '*' }] }));
    const r = runCli([
      'serve',
      '--keys',
      keys,
      '--db',
      join(root, 'other.db'),
      '--upstream',
      'off',
      '--listen',
      '127.0.0.1:0',
      '--policy',
      bad,
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(
      r.stderr.includes(`${bad}: deny[0].version: unknown field (want module, versions, reason)`),
      r.stderr,
    );
    assert.equal(r.stdout, '', 'no GOSUMDB line');
  });
});
