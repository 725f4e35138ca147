import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { goModHash, hash1 } from '../../src/core/dirhash.ts';
import { SumkeepError } from '../../src/core/errors.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import { Upstream } from '../../src/upstream/upstream.ts';
import { createUpstream } from '../../src/upstream/index.ts';
import type { UpstreamOptions } from '../../src/upstream/upstream.ts';
import { buildGoProxy, modFileOf } from '../helpers/goproxy.ts';
import type { ProxyModule } from '../helpers/goproxy.ts';
import { moduleEntries } from '../helpers/zipwriter.ts';
import { goClients, goEnv, requireClient, runGo } from '../helpers/go.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';

const M: ProxyModule = {
  path: 'example.com/m',
  version: 'v1.0.0',
  files: { 'go.mod': 'module example.com/m\n\ngo 1.19\n', 'm.go': 'package m\n', LICENSE: 'MIT\n' },
};
const UPPER: ProxyModule = {
  path: 'github.com/Azure/Go-Thing',
  version: 'v1.2.3-RC.1',
  files: { 'go.mod': 'module github.com/Azure/Go-Thing\n', 'thing.go': 'package thing\n' },
};
const INCOMPATIBLE: ProxyModule = {
  path: 'example.com/old',
  version: 'v2.0.0+incompatible',
  files: { 'old.go': 'package old\n' },
};
const INCOMPATIBLE_OLD_GOMOD: ProxyModule = {
  path: 'example.com/old2',
  version: 'v2.1.0+incompatible',
  files: { 'go.mod': 'module example.com/old2 // from before modules\n', 'old.go': 'package old\n' },
  mod: 'module example.com/old2\n',
};
const LEGACY: ProxyModule = {
  path: 'example.com/legacy',
  version: 'v1.0.0',
  files: { 'l.go': 'package l\n' },
};
const OTHER_ZIP: ProxyModule = {
  path: 'example.com/wrong',
  version: 'v1.0.0',
  files: {},
  mod: 'module example.com/wrong\n',
  zipEntries: moduleEntries('example.com/other', 'v1.0.0', { 'go.mod': 'module example.com/wrong\n' }),
};
const LIAR_MOD: ProxyModule = {
  path: 'example.com/liar',
  version: 'v1.0.0',
  files: { 'go.mod': 'module example.com/liar\n' },
  mod: 'module example.com/other\n',
};
const NO_MODULE_LINE: ProxyModule = {
  path: 'example.com/nomodline',
  version: 'v1.0.0',
  files: { 'x.go': 'package x\n' },
  mod: 'go 1.19\n',
};
const SPLIT_GOMOD: ProxyModule = {
  path: 'example.com/split',
  version: 'v1.0.0',
  files: { 'go.mod': 'module example.com/split\n\nrequire example.com/evil v1.0.0\n', 's.go': 'package s\n' },
  mod: 'module example.com/split\n',
};
const TRUNCATED: ProxyModule = {
  path: 'example.com/trunc',
  version: 'v1.0.0',
  files: { 'go.mod': 'module example.com/trunc\n', 'big.go': 'package trunc\n// ' + 'x'.repeat(5000) + '\n' },
};
const BIG_MOD: ProxyModule = {
  path: 'example.com/bigmod',
  version: 'v1.0.0',
  files: { 'x.go': 'package x\n' },
  mod: 'module example.com/bigmod\n' + '// padding\n'.repeat(100),
};
const ALL = [
  M,
  UPPER,
  INCOMPATIBLE,
  INCOMPATIBLE_OLD_GOMOD,
  LEGACY,
  OTHER_ZIP,
  LIAR_MOD,
  NO_MODULE_LINE,
  SPLIT_GOMOD,
  TRUNCATED,
  BIG_MOD,
];

const sha = (b: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** The go.sum hashes of a module, computed from its files independently of any zip reader. */
function expectedHashes(m: ProxyModule): { zipHash: string; modHash: string } {
  const files = Object.entries(m.files).map(([name, content]) => ({
    name: `${m.path}@${m.version}/${name}`,
    sha256: sha(content),
  }));
  return { zipHash: hash1(files), modHash: goModHash(new TextEncoder().encode(modFileOf(m))) };
}

function fails(code: ErrorCode, match?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SumkeepError, `not a SumkeepError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (match) assert.match(e.message, match);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

const root = mkdtempSync(join(tmpdir(), 'sumkeep-upstream-test-'));
const proxyDir = join(root, 'proxy');
const goproxy = buildGoProxy(proxyDir, ALL);
{
  // A zip cut in the middle: no end-of-central-directory record, data cut short.
  const zip = goproxy.files.get(`${TRUNCATED.path}@${TRUNCATED.version}`)!.zip;
  const bytes = readFileSync(zip);
  writeFileSync(zip, bytes.subarray(0, Math.floor(bytes.length / 2)));
}
const tmp = join(root, 'tmp');

function upstream(proxies: string, over: Partial<UpstreamOptions> = {}): Upstream {
  return new Upstream({
    proxies,
    tmpDir: tmp,
    timeouts: { connectMs: 2_000, totalMs: 10_000 },
    retries: { count: 2, baseDelayMs: 1, maxDelayMs: 5 },
    random: () => 0,
    ...over,
  });
}

function tmpLeftovers(): string[] {
  return readdirSync(tmp);
}

describe('Upstream.fetchModule', () => {
  /** Serves the goproxy tree. */
  const good = new FakeProxy();
  /** 404 for everything. */
  const empty = new FakeProxy();
  const empty2 = new FakeProxy();
  /** 500 for everything. */
  const failing = new FakeProxy();
  /** Scripted per test, falling back to the goproxy tree. */
  const scripted = new FakeProxy();
  const all = [good, empty, empty2, failing, scripted];

  before(async () => {
    for (const p of all) await p.start();
    good.dir = proxyDir;
    scripted.dir = proxyDir;
    failing.on(`/${M.path}/@v/${M.version}.mod`, { status: 500 });
    failing.on(`/${M.path}/@v/${M.version}.zip`, { status: 500 });
  });
  after(async () => {
    for (const p of all) await p.stop();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    // The directory the Upstream downloads into starts empty for every test.
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const p of all) p.requests.length = 0;
  });

  describe('success', () => {
    for (const m of [M, UPPER, INCOMPATIBLE, INCOMPATIBLE_OLD_GOMOD, LEGACY]) {
      it(`fetches and hashes ${m.path}@${m.version} over http`, async () => {
        const got = await upstream(good.url).fetchModule(m.path, m.version);
        assert.deepEqual(got, { path: m.path, version: m.version, ...expectedHashes(m), source: good.url });
        assert.deepEqual(tmpLeftovers(), []);
      });

      it(`fetches and hashes ${m.path}@${m.version} from a file:// proxy`, async () => {
        const got = await upstream(goproxy.url).fetchModule(m.path, m.version);
        assert.deepEqual(got, {
          path: m.path,
          version: m.version,
          ...expectedHashes(m),
          source: goproxy.url,
        });
        assert.deepEqual(tmpLeftovers(), []);
      });
    }

    it('asks for the escaped path and version', async () => {
      await upstream(good.url).fetchModule(UPPER.path, UPPER.version);
      assert.deepEqual(
        good.requests.map((r) => r.path),
        [
          '/github.com/!azure/!go-!thing/@v/v1.2.3-!r!c.1.mod',
          '/github.com/!azure/!go-!thing/@v/v1.2.3-!r!c.1.zip',
        ],
      );
    });

    it('is safe to call concurrently', async () => {
      const up = upstream(good.url);
      const mods = [M, UPPER, INCOMPATIBLE, LEGACY, M, UPPER];
      const got = await Promise.all(mods.map((m) => up.fetchModule(m.path, m.version)));
      got.forEach((g, i) => assert.equal(g.zipHash, expectedHashes(mods[i]!).zipHash));
      assert.deepEqual(tmpLeftovers(), []);
    });
  });

  describe('falling through the list', () => {
    it('moves on after "," when a proxy does not have the module', async () => {
      const got = await upstream(`${empty.url},${good.url}`).fetchModule(M.path, M.version);
      assert.equal(got.source, good.url);
      assert.equal(empty.count(), 1, '404 is not retried');
    });

    it('stops at "," on a proxy error and never asks the next proxy', async () => {
      await assert.rejects(
        upstream(`${failing.url},${good.url}`).fetchModule(M.path, M.version),
        fails(
          'upstream_error',
          new RegExp(
            `^example\\.com/m@v1\\.0\\.0: upstream error \\(${failing.url}: @v/v1\\.0\\.0\\.mod: 500 Internal Server Error \\(after 3 attempts\\)\\)$`,
          ),
        ),
      );
      assert.equal(failing.count('.mod'), 3);
      assert.equal(good.count(), 0);
    });

    it('moves on after "|" on a proxy error', async () => {
      const got = await upstream(`${failing.url}|${good.url}`).fetchModule(M.path, M.version);
      assert.equal(got.source, good.url);
      assert.deepEqual(got, { path: M.path, version: M.version, ...expectedHashes(M), source: good.url });
    });

    it('reports not found naming every proxy asked', async () => {
      await assert.rejects(
        upstream(`${empty.url}|${empty2.url}`).fetchModule(M.path, M.version),
        fails(
          'upstream_not_found',
          new RegExp(
            `^example\\.com/m@v1\\.0\\.0: not found upstream \\(${empty.url}: 404 Not Found; ${empty2.url}: 404 Not Found\\)$`,
          ),
        ),
      );
      assert.equal(empty.count(), 1);
      assert.equal(empty2.count(), 1);
    });

    it('treats 410 Gone like 404', async () => {
      scripted.on(`/${M.path}/@v/${M.version}.mod`, { status: 410 });
      try {
        const got = await upstream(`${scripted.url},${good.url}`).fetchModule(M.path, M.version);
        assert.equal(got.source, good.url);
        assert.equal(scripted.count(), 1);
      } finally {
        scripted.on(`/${M.path}/@v/${M.version}.mod`);
      }
    });

    it('moves on when the zip is missing though the .mod exists', async () => {
      scripted.on(`/${M.path}/@v/${M.version}.zip`, { status: 404 });
      try {
        const got = await upstream(`${scripted.url},${good.url}`).fetchModule(M.path, M.version);
        assert.equal(got.source, good.url);
      } finally {
        scripted.on(`/${M.path}/@v/${M.version}.zip`);
      }
    });

    it('reports a proxy error rather than a later not found', async () => {
      await assert.rejects(
        upstream(`${failing.url}|${empty.url}`).fetchModule(M.path, M.version),
        fails('upstream_error', /500 Internal Server Error/),
      );
    });

    it('fails with not found at "off" and asks nothing after it', async () => {
      await assert.rejects(
        upstream('off').fetchModule(M.path, M.version),
        fails(
          'upstream_not_found',
          /^example\.com\/m@v1\.0\.0: not found upstream \(module lookup disabled by GOPROXY=off\)$/,
        ),
      );
      await assert.rejects(
        upstream(`${empty.url},off,${good.url}`).fetchModule(M.path, M.version),
        fails('upstream_not_found', /404 Not Found; module lookup disabled by GOPROXY=off\)$/),
      );
      assert.equal(good.count(), 0);
    });

    it('stops at "," when a proxy serves another module, and moves on after "|"', async () => {
      scripted.on(`/${M.path}/@v/${M.version}.mod`, { status: 200, body: 'module example.com/not-m\n' });
      try {
        await assert.rejects(
          upstream(`${scripted.url},${good.url}`).fetchModule(M.path, M.version),
          fails('module_mismatch'),
        );
        assert.equal(good.count(), 0);
        const got = await upstream(`${scripted.url}|${good.url}`).fetchModule(M.path, M.version);
        assert.equal(got.source, good.url);
      } finally {
        scripted.on(`/${M.path}/@v/${M.version}.mod`);
      }
    });
  });

  describe('retries and timeouts', () => {
    it('retries a 500 and then succeeds', async () => {
      const modPath = `/${M.path}/@v/${M.version}.mod`;
      scripted.on(modPath, { status: 500 }, { status: 503 }, { status: 200, body: modFileOf(M) });
      try {
        const got = await upstream(scripted.url).fetchModule(M.path, M.version);
        assert.deepEqual(got, {
          path: M.path,
          version: M.version,
          ...expectedHashes(M),
          source: scripted.url,
        });
        assert.deepEqual(
          scripted.requests.map((r) => r.path),
          [modPath, modPath, modPath, modPath.replace(/\.mod$/, '.zip')],
        );
      } finally {
        scripted.on(modPath);
      }
    });

    it('does not retry a 404', async () => {
      await assert.rejects(upstream(empty.url).fetchModule(M.path, M.version), fails('upstream_not_found'));
      assert.equal(empty.count(), 1);
    });

    it('times out an upstream that hangs, within bounds', async () => {
      const zipPath = `/${M.path}/@v/${M.version}.zip`;
      scripted.on(zipPath, { hang: true });
      try {
        const started = Date.now();
        await assert.rejects(
          upstream(scripted.url, {
            timeouts: { connectMs: 100, totalMs: 1_000 },
            retries: { count: 1, baseDelayMs: 1 },
          }).fetchModule(M.path, M.version),
          fails(
            'upstream_timeout',
            new RegExp(
              `^example\\.com/m@v1\\.0\\.0: upstream timed out \\(${scripted.url}: @v/v1\\.0\\.0\\.zip: no response for 100 ms \\(after 2 attempts\\)\\)$`,
            ),
          ),
        );
        assert.ok(Date.now() - started < 5_000);
        assert.equal(scripted.count('.zip'), 2);
        assert.deepEqual(tmpLeftovers(), []);
      } finally {
        scripted.on(zipPath);
      }
    });

    it('rejects with the caller reason when the caller aborts, and cleans up', async () => {
      const zipPath = `/${M.path}/@v/${M.version}.zip`;
      scripted.on(zipPath, { stallAfter: 'PK\u0003\u0004' });
      try {
        const ac = new AbortController();
        const reason = new Error('client went away');
        setTimeout(() => ac.abort(reason), 100);
        await assert.rejects(
          upstream(`${scripted.url}|${good.url}`, { timeouts: { connectMs: 5_000 } }).fetchModule(
            M.path,
            M.version,
            ac.signal,
          ),
          (e) => e === reason,
        );
        assert.equal(good.count(), 0, 'an abort does not fall through');
        assert.deepEqual(tmpLeftovers(), []);
      } finally {
        scripted.on(zipPath);
      }
    });
  });

  describe('checking what the proxy served', () => {
    for (const [name, proxyUrl] of [
      ['http', () => good.url],
      ['file://', () => goproxy.url],
    ] as const) {
      it(`refuses a truncated zip as invalid_zip and leaves no temporary file (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl()).fetchModule(TRUNCATED.path, TRUNCATED.version),
          fails(
            'invalid_zip',
            /^example\.com\/trunc@v1\.0\.0: invalid module zip from upstream \(.*not a zip file/,
          ),
        );
        assert.deepEqual(tmpLeftovers(), []);
      });

      it(`refuses a zip of another module (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl()).fetchModule(OTHER_ZIP.path, OTHER_ZIP.version),
          fails('module_mismatch', /outside module prefix: example\.com\/other@v1\.0\.0\/go\.mod/),
        );
        assert.deepEqual(tmpLeftovers(), []);
      });

      it(`refuses a .mod that declares another module, before downloading the zip (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl()).fetchModule(LIAR_MOD.path, LIAR_MOD.version),
          fails(
            'module_mismatch',
            /^example\.com\/liar@v1\.0\.0: upstream served another module \(.*: @v\/v1\.0\.0\.mod declares module "example\.com\/other", not the requested example\.com\/liar\)$/,
          ),
        );
        assert.equal(good.count('.zip'), 0);
      });

      it(`refuses a .mod without a module directive (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl()).fetchModule(NO_MODULE_LINE.path, NO_MODULE_LINE.version),
          fails('module_mismatch', /@v\/v1\.0\.0\.mod has no module directive/),
        );
      });

      it(`refuses a zip whose go.mod differs from the .mod served (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl()).fetchModule(SPLIT_GOMOD.path, SPLIT_GOMOD.version),
          fails('module_mismatch', /the go\.mod in @v\/v1\.0\.0\.zip differs from @v\/v1\.0\.0\.mod/),
        );
      });

      it(`refuses an oversized .mod (${name})`, async () => {
        await assert.rejects(
          upstream(proxyUrl(), { limits: { mod: 512 } }).fetchModule(BIG_MOD.path, BIG_MOD.version),
          fails('too_large', /@v\/v1\.0\.0\.mod is larger than 512 bytes/),
        );
        assert.equal(good.count('.zip'), 0);
      });

      it(`refuses an oversized .zip and leaves no temporary file (${name})`, async () => {
        const zipSize = readFileSync(goproxy.files.get(`${M.path}@${M.version}`)!.zip).length;
        await assert.rejects(
          upstream(proxyUrl(), { limits: { zip: zipSize - 1 } }).fetchModule(M.path, M.version),
          fails('too_large', new RegExp(`@v/v1\\.0\\.0\\.zip is larger than ${zipSize - 1} bytes`)),
        );
        assert.deepEqual(tmpLeftovers(), []);
        // Exactly at the limit is accepted.
        await upstream(proxyUrl(), { limits: { zip: zipSize } }).fetchModule(M.path, M.version);
      });
    }

    it('refuses an invalid module version without asking any proxy', async () => {
      for (const [p, v, code] of [
        ['example.com/m', 'latest', 'bad_version'],
        ['example.com/m', 'v1.0', 'bad_version'],
        ['example.com/m/v2', 'v1.0.0', 'bad_version'],
        ['example.com/../m', 'v1.0.0', 'bad_module_path'],
      ] as const) {
        await assert.rejects(upstream(good.url).fetchModule(p, v), fails(code));
      }
      assert.equal(good.count(), 0);
    });
  });

  describe('--private', () => {
    it('never contacts the upstream for private modules', async () => {
      const up = upstream(`${good.url},${goproxy.url}`, { private: 'example.com/m,*.corp.internal' });
      for (const [p, v] of [
        ['example.com/m', 'v1.0.0'],
        ['example.com/m/sub', 'v1.0.0'],
        ['git.corp.internal/team/x', 'v0.1.0'],
      ] as const) {
        await assert.rejects(
          up.fetchModule(p, v),
          fails(
            'private_module',
            new RegExp(
              `^${p.replace(/\./g, '\\.')} matches --private; it enters the log only by \`sumkeep ingest\`$`,
            ),
          ),
        );
        assert.equal(up.isPrivate(p), true);
      }
      assert.equal(good.count(), 0);
      // Other modules are still fetched.
      const got = await up.fetchModule(LEGACY.path, LEGACY.version);
      assert.equal(got.source, good.url);
      assert.equal(up.isPrivate('example.com/mm'), false);
    });

    it('trims each pattern, so a module after ", " is private too', async () => {
      const up = upstream(good.url, { private: 'example.com/other, example.com/m ' });
      await assert.rejects(up.fetchModule(M.path, M.version), fails('private_module'));
      assert.equal(up.isPrivate('example.com/other/x'), true);
      assert.equal(good.count(), 0);
    });

    it('names where the patterns came from in its refusal', async () => {
      const up = upstream(good.url, { private: 'example.com/m', privateSource: 'GOPRIVATE' });
      await assert.rejects(
        up.fetchModule(M.path, M.version),
        fails('private_module', /^example\.com\/m matches GOPRIVATE; it enters the log only by/),
      );
      assert.equal(good.count(), 0);
    });

    it('refuses a malformed pattern when it is built, naming the pattern', () => {
      assert.throws(
        () => upstream(good.url, { private: 'example.com/m,[oops' }),
        (e) => e instanceof SumkeepError && e.code === 'config' && e.message.includes('"[oops"'),
      );
    });
  });

  describe('createUpstream', () => {
    it('is null (no upstream) when the list starts with off, whatever follows', () => {
      for (const proxies of ['off', ' off', ',off', 'off,https://a.example', 'off|https://a.example']) {
        assert.equal(createUpstream({ proxies, privatePatterns: [] }), null, proxies);
      }
    });

    it('builds a client for a list, with its private patterns', () => {
      const up = createUpstream({ proxies: 'https://a.example|off', privatePatterns: ['b.example.com'] });
      assert.ok(up !== null);
      assert.equal(up.isPrivate('b.example.com/x'), true);
      assert.equal(up.isPrivate('a.example.com/x'), false);
    });
  });

  describe('credentials', () => {
    const withCreds = (p: FakeProxy): string => p.url.replace('http://', 'http://alice:s3cret@');
    const secretFree = (e: unknown): boolean => {
      assert.ok(e instanceof SumkeepError);
      assert.doesNotMatch(e.message, /alice|s3cret/);
      return true;
    };

    it('authenticates with URL userinfo and reports the proxy without it', async () => {
      const got = await upstream(withCreds(good)).fetchModule(M.path, M.version);
      assert.equal(got.source, good.url);
      assert.equal(
        good.requests[0]?.authorization,
        'Basic ' + Buffer.from('alice:s3cret').toString('base64'),
      );
    });

    it('never puts userinfo in error messages', async () => {
      await assert.rejects(upstream(withCreds(empty)).fetchModule(M.path, M.version), secretFree);
      await assert.rejects(upstream(withCreds(failing)).fetchModule(M.path, M.version), secretFree);
      await assert.rejects(
        upstream(withCreds(good)).fetchModule(LIAR_MOD.path, LIAR_MOD.version),
        secretFree,
      );
      await assert.rejects(
        upstream(withCreds(good)).fetchModule(TRUNCATED.path, TRUNCATED.version),
        secretFree,
      );
      const gone = new FakeProxy();
      await gone.start();
      const url = withCreds(gone);
      await gone.stop();
      await assert.rejects(upstream(url).fetchModule(M.path, M.version), secretFree);
    });
  });

  describe('parity with the go command', () => {
    for (const c of goClients()) {
      it(`computes the hashes go mod download computes from the same proxy (${c.name})`, async (t) => {
        const go = requireClient(t, c);
        if (go === null) return;
        const gohome = join(root, `gohome-${c.id}`);
        const env = goEnv(gohome, { go, GOPROXY: goproxy.url });
        const up = upstream(goproxy.url);
        for (const m of [M, UPPER, INCOMPATIBLE, INCOMPATIBLE_OLD_GOMOD, LEGACY]) {
          const r = runGo(go, ['mod', 'download', '-json', `${m.path}@${m.version}`], { cwd: gohome, env });
          assert.equal(r.status, 0, r.stderr + r.stdout);
          const info = JSON.parse(r.stdout) as { Sum: string; GoModSum: string };
          const got = await up.fetchModule(m.path, m.version);
          assert.equal(got.zipHash, info.Sum, `${m.path}@${m.version} zip`);
          assert.equal(got.modHash, info.GoModSum, `${m.path}@${m.version} go.mod`);
        }
      });
    }
  });
});
