/**
 * The real go command against sumkeep's zip hashing and rules. A GOPROXY directory is built with
 * the test zip writer; `go mod download -json` (GOSUMDB=off, outside any module) of every real
 * client (the machine's Go 1.26 and Debian's Go 1.19) fetches from it, and each client's `Sum` and
 * `GoModSum` must be exactly what `sumkeep hash zip` / `hash mod` (spawned CLI) and hashModuleZip
 * compute. Zips that break a rule must be refused by every client and by sumkeep, and the Unicode
 * case folding of the collision rule is compared with each client's over every cased letter below
 * U+20000.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSumkeepError } from '../../src/core/errors.ts';
import { foldKey, foldTable } from '../../src/zip/fold.ts';
import { hashGoModFile, hashModuleZip, ruleOf, type ZipRule } from '../../src/zip/index.ts';
import {
  clientNames,
  goClients,
  goEnv,
  requireClient,
  requireClients,
  runGo,
  tempDir,
  type GoClient,
} from '../helpers/go.ts';
import { buildGoProxy, type GoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { repeatedDeflate, type ZipEntrySpec } from '../helpers/zipwriter.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const root = tempDir('sumkeep-hash-go-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

interface GoDownload {
  Path: string;
  Version: string;
  Error?: string;
  Zip?: string;
  GoMod?: string;
  Sum?: string;
  GoModSum?: string;
}

/** `go mod download -json` by client `c` for several module versions: one JSON object per module. */
function goDownload(
  c: GoClient,
  proxy: GoProxy,
  mods: readonly string[],
  name: string,
): Map<string, GoDownload> {
  const go = c.bin!;
  const work = path.join(root, `${name}-${c.id}-work`);
  fs.mkdirSync(work, { recursive: true });
  const env = goEnv(path.join(root, `${name}-${c.id}`), { go, GOPROXY: proxy.url, GOSUMDB: 'off' });
  const r = runGo(go, ['mod', 'download', '-json', ...mods], { cwd: work, env, timeoutMs: 300_000 });
  const out = new Map<string, GoDownload>();
  for (const text of r.stdout.split(/(?<=\n\})\n(?=\{)/)) {
    if (text.trim() === '') continue;
    const d = JSON.parse(text) as GoDownload;
    out.set(`${d.Path}@${d.Version}`, d);
  }
  assert.equal(out.size, mods.length, `${c.name} printed one object per module; stderr: ${r.stderr}`);
  return out;
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function refusalRule(file: string, m: ProxyModule): Promise<ZipRule | null | 'accepted'> {
  try {
    await hashModuleZip(file, { path: m.path, version: m.version });
    return 'accepted';
  } catch (e) {
    assert.ok(isSumkeepError(e, 'invalid_zip'), String(e));
    return ruleOf(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Valid modules: the go command accepts them and sumkeep must compute the same hashes.

const many: Record<string, string> = { 'go.mod': 'module example.com/many\n\ngo 1.19\n' };
for (let i = 0; i < 2000; i++)
  many[`pkg${i % 50}/file${i}.go`] = `package pkg${i % 50}\n\n// File ${i}.\nvar V${i} = ${i}\n`;

const bigText = Buffer.alloc(3 << 20);
for (let i = 0; i < bigText.length; i++) bigText[i] = 0x61 + ((i * 7919) % 26);

const dirsPrefix = 'example.com/dirs@v1.1.0/';
const valid: ProxyModule[] = [
  {
    path: 'example.com/Upper/Mod',
    version: 'v1.0.0-RC.1',
    files: {
      'go.mod': 'module example.com/Upper/Mod\n',
      'Ünï/cödé.go': 'package x\n',
      '日本語.txt': 'こんにちは\n',
      'Straße.txt': 'sharp s\n',
      'STRASSE.txt': 'no simple fold to ß\n',
      '\u{1D49C}.txt': 'above U+FFFF\n',
      'ﬀ.txt': 'ligature\n',
    },
  },
  { path: 'example.com/many', version: 'v1.0.0', files: many },
  { path: 'example.com/empty', version: 'v1.0.0', files: {} },
  { path: 'example.com/onlymod', version: 'v1.0.0', files: { 'go.mod': 'module example.com/onlymod\n' } },
  {
    path: 'example.com/incomp',
    version: 'v2.0.0+incompatible',
    files: { 'a.go': 'package a\n', LICENSE: 'MIT\n' },
  },
  {
    path: 'example.com/dirs',
    version: 'v1.1.0',
    files: { 'go.mod': 'module example.com/dirs\n' },
    // As Info-ZIP writes them: directory entries, Unix modes, stored and deflated, a streamed
    // entry above 1 MiB, and a declared CRC of 0 (which archive/zip does not check).
    zipEntries: [
      { name: dirsPrefix, unixMode: 0o040755 },
      { name: dirsPrefix + 'go.mod', content: 'module example.com/dirs\n', unixMode: 0o100644 },
      { name: dirsPrefix + 'sub/', unixMode: 0o040755 },
      { name: dirsPrefix + 'sub/stored.go', content: 'package sub\n', method: 0, unixMode: 0o100644 },
      { name: dirsPrefix + 'sub/big.txt', content: bigText, unixMode: 0o100755 },
      { name: dirsPrefix + 'sub/nocrc.txt', content: 'crc left as zero\n', crc: 0 },
      { name: dirsPrefix + 'sub/' },
    ],
  },
];

/** Each present client's `go mod download -json` answers, by client id. */
function downloadAll(
  proxy: GoProxy,
  ids: readonly string[],
  name: string,
): Map<string, Map<string, GoDownload>> {
  const all = new Map<string, Map<string, GoDownload>>();
  for (const c of goClients()) if (c.bin !== null) all.set(c.id, goDownload(c, proxy, ids, name));
  return all;
}

describe('hash parity with the go command', () => {
  let proxy: GoProxy;
  let got: Map<string, Map<string, GoDownload>>;
  before(() => {
    proxy = buildGoProxy(path.join(root, 'valid-proxy'), valid);
    got = downloadAll(
      proxy,
      valid.map((m) => `${m.path}@${m.version}`),
      'valid',
    );
  });

  for (const m of valid) {
    const id = `${m.path}@${m.version}`;
    it(`hash zip and hash mod give go's Sum and GoModSum (${clientNames()}): ${id}`, async (t) => {
      const clients = requireClients(t);
      if (clients === null) return;
      const files = proxy.files.get(id)!;
      const ours = await hashModuleZip(files.zip, { path: m.path, version: m.version });
      const derived = await hashModuleZip(files.zip);
      if (Object.keys(m.files).length > 0 || m.zipEntries !== undefined)
        assert.equal(derived.prefix, `${m.path}@${m.version}/`);
      assert.equal(derived.h1, ours.h1);
      const z = cli('hash', 'zip', files.zip, '--module', id);
      assert.equal(z.stderr, '');
      assert.equal(z.code, 0);
      const g = cli('hash', 'mod', files.mod);
      assert.equal(g.code, 0);

      for (const c of clients) {
        const d = got.get(c.id)!.get(id)!;
        assert.equal(d.Error, undefined, `${c.name} refused ${id}: ${d.Error}`);
        assert.match(d.Sum ?? '', /^h1:/);
        assert.equal(ours.h1, d.Sum, c.name);
        assert.equal(z.stdout, `${d.Sum}\n`, c.name);
        // The copy in the client's module cache is byte-identical; hash it too.
        assert.equal((await hashModuleZip(d.Zip!)).h1, d.Sum, c.name);
        assert.equal(g.stdout, `${d.GoModSum}\n`, c.name);
        assert.equal(await hashGoModFile(d.GoMod!), d.GoModSum, c.name);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Invalid modules: both must refuse. `rule` is sumkeep's; go's error is only required to exist.

const bad = (
  name: string,
  entries: (p: string) => ZipEntrySpec[],
  rule: ZipRule,
): ProxyModule & { rule: ZipRule } => {
  const p = `example.com/bad/${name}`;
  const prefix = `${p}@v1.0.0/`;
  return { path: p, version: 'v1.0.0', files: {}, zipEntries: entries(prefix), mod: `module ${p}\n`, rule };
};
const gm = (p: string): ZipEntrySpec => ({ name: p + 'go.mod', content: 'module x\n' });
const huge = repeatedDeflate(Buffer.alloc(1 << 20), 501);

const invalid = [
  bad('traversal', (p) => [gm(p), { name: p + '../x.go', content: 'x' }], 'path traversal'),
  bad('unclean', (p) => [gm(p), { name: p + 'a//b.go', content: 'x' }], 'unclean path'),
  bad(
    'kelvin',
    (p) => [gm(p), { name: p + 'k.go', content: 'a' }, { name: p + '\u212A.go', content: 'b' }],
    'case-fold collision',
  ),
  bad(
    'sigma',
    (p) => [gm(p), { name: p + 'Σ.txt', content: 'a' }, { name: p + 'ς.txt', content: 'b' }],
    'case-fold collision',
  ),
  bad(
    'dupe',
    (p) => [gm(p), { name: p + 'a.go', content: 'a' }, { name: p + 'a.go', content: 'a' }],
    'duplicate entry',
  ),
  bad(
    'fileanddir',
    (p) => [gm(p), { name: p + 'a', content: 'a' }, { name: p + 'a/b.go', content: 'b' }],
    'file and directory',
  ),
  bad('nested', (p) => [gm(p), { name: p + 'sub/go.mod', content: 'module y\n' }], 'go.mod not at root'),
  bad('gomodcase', (p) => [{ name: p + 'Go.Mod', content: 'module x\n' }], 'go.mod name case'),
  bad(
    'outside',
    (p) => [gm(p), { name: 'example.com/other@v1.0.0/x.go', content: 'x' }],
    'outside module prefix',
  ),
  bad('colon', (p) => [gm(p), { name: p + 'a:b.go', content: 'x' }], 'bad file path'),
  bad(
    'nonutf8',
    (p) => [gm(p), { name: Buffer.concat([Buffer.from(p), Buffer.from([0x78, 0xff])]), content: 'x' }],
    'bad file path',
  ),
  bad('liesmall', (p) => [gm(p), { name: p + 'a.go', content: 'hello, world', size: 5 }], 'size mismatch'),
  bad('liebig', (p) => [gm(p), { name: p + 'a.go', content: 'hello, world', size: 50 }], 'size mismatch'),
  bad('crc', (p) => [gm(p), { name: p + 'a.go', content: 'hello', crc: 0xdeadbeef }], 'crc mismatch'),
  bad(
    'gomodsize',
    (p) => [{ name: p + 'go.mod', content: Buffer.alloc(17 << 20, 0x20) }],
    'go.mod too large',
  ),
  bad(
    'toolarge',
    (p) => [gm(p), { name: p + 'zero.bin', data: huge.data, method: 8, size: huge.size, crc: huge.crc }],
    'content too large',
  ),
];

// sumkeep's design refuses these; Go's CheckZip reads no file modes and accepts them (a symlink
// entry is extracted as a regular file holding the link target).
const stricter = [
  bad('symlink', (p) => [gm(p), { name: p + 'link', content: 'go.mod', unixMode: 0o120777 }], 'symlink'),
  bad('fifo', (p) => [gm(p), { name: p + 'fifo', unixMode: 0o010644 }], 'irregular file'),
  bad('dirmode', (p) => [gm(p), { name: p + 'd', unixMode: 0o040755 }], 'directory as file'),
];

describe('rule parity with the go command', () => {
  let proxy: GoProxy;
  let got: Map<string, Map<string, GoDownload>>;
  before(() => {
    proxy = buildGoProxy(path.join(root, 'invalid-proxy'), [...invalid, ...stricter]);
    const notZip = path.join(root, 'invalid-proxy', 'example.com', 'bad', 'notzip', '@v');
    fs.mkdirSync(notZip, { recursive: true });
    fs.writeFileSync(path.join(notZip, 'list'), 'v1.0.0\n');
    fs.writeFileSync(
      path.join(notZip, 'v1.0.0.info'),
      '{"Version":"v1.0.0","Time":"2020-01-01T00:00:00Z"}\n',
    );
    fs.writeFileSync(path.join(notZip, 'v1.0.0.mod'), 'module example.com/bad/notzip\n');
    fs.writeFileSync(path.join(notZip, 'v1.0.0.zip'), 'this is not a zip file\n');
    const ids = [...invalid, ...stricter]
      .map((m) => `${m.path}@${m.version}`)
      .concat('example.com/bad/notzip@v1.0.0');
    got = downloadAll(proxy, ids, 'invalid');
  });

  for (const m of invalid) {
    it(`go (${clientNames()}) and sumkeep refuse (${m.rule}): ${m.path}`, async (t) => {
      const clients = requireClients(t);
      if (clients === null) return;
      for (const c of clients) {
        const d = got.get(c.id)!.get(`${m.path}@${m.version}`)!;
        assert.ok(d.Error !== undefined && d.Error !== '', `${c.name} accepted ${m.path}`);
      }
      assert.equal(await refusalRule(proxy.files.get(`${m.path}@${m.version}`)!.zip, m), m.rule);
    });
  }

  it(`go (${clientNames()}) and sumkeep refuse (not a zip file): example.com/bad/notzip`, async (t) => {
    const clients = requireClients(t);
    if (clients === null) return;
    for (const c of clients) assert.ok(got.get(c.id)!.get('example.com/bad/notzip@v1.0.0')!.Error, c.name);
    const file = path.join(proxy.dir, 'example.com', 'bad', 'notzip', '@v', 'v1.0.0.zip');
    assert.equal(
      await refusalRule(file, { path: 'example.com/bad/notzip', version: 'v1.0.0', files: {} }),
      'not a zip file',
    );
  });

  for (const m of stricter) {
    it(`sumkeep refuses what go (${clientNames()}) accepts (${m.rule}): ${m.path}`, async (t) => {
      const clients = requireClients(t);
      if (clients === null) return;
      for (const c of clients) {
        const d = got.get(c.id)!.get(`${m.path}@${m.version}`)!;
        assert.equal(
          d.Error,
          undefined,
          `${c.name} now refuses ${m.path}: ${d.Error}; move it to the shared list`,
        );
      }
      assert.equal(await refusalRule(proxy.files.get(`${m.path}@${m.version}`)!.zip, m), m.rule);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Case folding: one zip with a file for every cased letter below U+20000; go reports every
// collision it finds, and the classes it forms must be foldKey's classes.

describe('case-fold parity with the go command', () => {
  for (const c of goClients()) {
    it(`groups every cased letter below U+20000 as go's collision check does (${c.name})`, async (t) => {
      if (requireClient(t, c) === null) return;
      const letter = /^\p{L}$/u;
      const cps = new Set<number>();
      for (const [c, k] of foldTable()) cps.add(c).add(k);
      for (let c = 0x41; c < 0x20000; c++) {
        if (c >= 0xd800 && c <= 0xdfff) continue;
        const s = String.fromCodePoint(c);
        if (s.toLowerCase() !== s || s.toUpperCase() !== s) cps.add(c);
      }
      const names = [...cps]
        .sort((a, b) => a - b)
        .map((c) => String.fromCodePoint(c))
        .filter((s) => letter.test(s))
        .map((s) => `f/${s}`);
      assert.ok(names.length > 2000, `${names.length} letters`);
      const m: ProxyModule = {
        path: 'example.com/fold',
        version: 'v1.0.0',
        files: Object.fromEntries([['go.mod', 'module example.com/fold\n'], ...names.map((n) => [n, ''])]),
      };
      const proxy = buildGoProxy(path.join(root, 'fold-proxy'), [m]);
      const d = goDownload(c, proxy, ['example.com/fold@v1.0.0'], 'fold').get('example.com/fold@v1.0.0')!;
      assert.ok(d.Error, 'go refuses the zip');

      // Go's classes from its report: a union of each colliding name with the one it collides with.
      const goInvalid = new Set<string>();
      const parent = new Map<string, string>();
      const find = (x: string): string => {
        while (parent.has(x) && parent.get(x) !== x) x = parent.get(x)!;
        return x;
      };
      const collision =
        /^(?:.*?: )?example\.com\/fold@v1\.0\.0\/(f\/[^:]+): case-insensitive file name collision: ("[^"]*") and ("[^"]*")$/;
      const other = /^(?:.*?: )?example\.com\/fold@v1\.0\.0\/(f\/[^:]+): /;
      let collisions = 0;
      for (const line of d.Error.split('\n')) {
        const c = collision.exec(line);
        if (c !== null) {
          const a = JSON.parse(c[2]!) as string;
          const b = JSON.parse(c[3]!) as string;
          parent.set(find(b), find(a));
          collisions++;
          continue;
        }
        const o = other.exec(line);
        assert.ok(o !== null, `unexpected line from go: ${line}`);
        goInvalid.add(o[1]!); // a letter newer than go's Unicode tables: "invalid char"
      }
      assert.ok(collisions > 1000, `${collisions} collisions reported`);

      // Compare, over the names go judged valid, go's classes with foldKey's.
      const valid = names.filter((n) => !goInvalid.has(n));
      const validSet = new Set(valid);
      const ours = new Map<string, string>(); // fold key -> first name
      const mismatches: string[] = [];
      for (const n of valid) {
        const key = foldKey(n);
        const first = ours.get(key);
        if (first === undefined) ours.set(key, n);
        const sameForGo = first !== undefined && find(n) === find(first);
        if (first !== undefined && !sameForGo) mismatches.push(`${n} folds with ${first} here, not in go`);
        if (first === undefined && find(n) !== n && validSet.has(find(n))) {
          mismatches.push(`${n} folds with ${find(n)} in go, not here`);
        }
      }
      assert.deepEqual(mismatches.slice(0, 20), []);
    });
  }
});
