/**
 * `npm run bench -- hash [--runs N] [--keep]`: how fast sumkeep hashes module zips, against Go's
 * own dirhash.HashZip (the code the go command runs for go.sum) on the same files.
 *
 * Builds two zips in a temporary directory with the test zip writer:
 *  - big:  one 200 MiB file of Go-like source text, deflated (level 6);
 *  - many: 2,000 files of 0.5-20 KiB each, deflated, in 50 directories.
 * Each side runs in its own child process, hashing the zip N times (default 5): sumkeep's
 * hashModuleZip (full validation included) as compiled JavaScript, the way bin/sumkeep.js runs it
 * (src/zip and src/core are transpiled with TypeScript into bench/out/js; running through tsx
 * would add the loader's own worker thread to the memory figures), and Go's dirhash.HashZip (no
 * validation) in bench/go/hashzip, built from Debian's golang-golang-x-mod-dev sources without
 * network. Peak RSS is each child's own high-water mark (VmHWM; see CHILD for why not getrusage),
 * so it includes the runtime itself; the Node runtime's own baseline (after imports, before
 * hashing) is printed beside it.
 *
 * Reports the first (cold: Node has not compiled the code yet) and the median run, throughput in
 * MiB/s of uncompressed content, and sumkeep/go ratios (time: below 1 is faster than Go).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { hashModuleZip } from '../src/zip/index.ts';
import { findGo, goEnv } from '../test/helpers/go.ts';
import { ZipWriter } from '../test/helpers/zipwriter.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1 << 20;

interface RunResult {
  h1: string;
  times_ms: number[];
  max_rss_kib: number;
  /** Node only: maxRSS after imports, before any hashing. */
  baseline_rss_kib?: number;
}

/** Deterministic xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = [
  'ctx',
  'err',
  'buf',
  'hash',
  'tree',
  'node',
  'index',
  'record',
  'tile',
  'proof',
  'key',
  'value',
  'size',
  'path',
  'version',
  'reader',
  'writer',
  'count',
  'limit',
  'entry',
];

/** A pool of Go-like source lines; text made of them deflates about 4:1, like real source. */
function linePool(next: () => number): string[] {
  const w = (): string => WORDS[next() % WORDS.length]!;
  const pool: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const n = next() % 100000;
    switch (next() % 5) {
      case 0:
        pool.push(`\t${w()}${n % 97}, err := ${w()}.Read${w()}(${w()}, ${n})\n`);
        break;
      case 1:
        pool.push(`\tif err != nil {\n\t\treturn nil, fmt.Errorf("${w()} ${w()}: %w", err)\n\t}\n`);
        break;
      case 2:
        pool.push(`// ${w()} returns the ${w()} of the ${w()} at ${n}.\n`);
        break;
      case 3:
        pool.push(`func (${w()[0]} *${w()}) ${w()}${n % 13}(${w()} int64) ${w()} {\n`);
        break;
      default:
        pool.push(`\t${w()}[${n % 256}] = 0x${n.toString(16)} ^ ${w()}.${w()}\n`);
    }
  }
  return pool;
}

function* text(totalBytes: number, seed: number): Generator<Buffer> {
  const next = rng(seed);
  const pool = linePool(next);
  let left = totalBytes;
  while (left > 0) {
    const want = Math.min(MiB, left);
    const parts: string[] = [];
    let n = 0;
    while (n < want) {
      const line = pool[next() % pool.length]!;
      parts.push(line);
      n += line.length;
    }
    const chunk = Buffer.from(parts.join('')).subarray(0, want);
    left -= chunk.length;
    yield chunk;
  }
}

async function buildZips(dir: string): Promise<{ big: string; many: string }> {
  const big = path.join(dir, 'big.zip');
  const bw = new ZipWriter(big);
  bw.add({ name: 'example.com/big@v1.0.0/go.mod', content: 'module example.com/big\n' });
  await bw.addStream({ name: 'example.com/big@v1.0.0/data/generated.go' }, text(200 * MiB, 1));
  bw.close();

  const many = path.join(dir, 'many.zip');
  const mw = new ZipWriter(many);
  mw.add({ name: 'example.com/many@v1.0.0/go.mod', content: 'module example.com/many\n' });
  const next = rng(2);
  const pool = text(64 * MiB, 3);
  let buf = Buffer.alloc(0);
  for (let i = 0; i < 2000; i++) {
    const size = 512 + (next() % (20 * 1024 - 512));
    while (buf.length < size) buf = Buffer.concat([buf, pool.next().value as Buffer]);
    mw.add({ name: `example.com/many@v1.0.0/pkg${i % 50}/file${i}.go`, content: buf.subarray(0, size) });
    buf = buf.subarray(size);
  }
  mw.close();
  return { big, many };
}

function buildGo(): string {
  const go = findGo();
  if (go === null)
    throw new Error('the go command is required (apt-get install golang-go golang-golang-x-mod-dev)');
  const out = path.join(repo, 'bench', 'bin', 'hashzip');
  const state = path.join(repo, 'bench', 'out', 'go');
  fs.mkdirSync(state, { recursive: true });
  const env = goEnv(state, { GOPROXY: 'off' });
  const r = spawnSync(go, ['build', '-o', out, '.'], {
    cwd: path.join(repo, 'bench', 'go', 'hashzip'),
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build failed:\n${r.stderr}`);
  return out;
}

/**
 * Transpiles src/zip and src/core (all that hashModuleZip imports) to JavaScript under
 * bench/out/js, keeping the src/ layout so that bare imports (yauzl) resolve from the repo's
 * node_modules. No type check: `npm run lint` does that.
 */
function transpile(): string {
  const out = path.join(repo, 'bench', 'out', 'js');
  fs.rmSync(out, { recursive: true, force: true });
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) return walk(p);
      return d.name.endsWith('.ts') ? [p] : [];
    });
  for (const file of [...walk(path.join(repo, 'src', 'zip')), ...walk(path.join(repo, 'src', 'core'))]) {
    const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    const dest = path.join(out, path.relative(path.join(repo, 'src'), file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, js);
  }
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  return pathToFileURL(path.join(out, 'zip', 'index.js')).href;
}

/**
 * The child process: hash argv[2] argv[3] times with the module at argv[1]; one JSON line
 * (RunResult) on stdout. Peak RSS is VmHWM of /proc/self/status (this process's own address
 * space); process.resourceUsage().maxRSS (getrusage) is only the fallback, because Linux carries
 * ru_maxrss across fork and exec: a child of this large benchmark process would report at least
 * the parent's size.
 */
const CHILD = `
import fs from 'node:fs';
const peak = () => {
  try {
    const m = /^VmHWM:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
};
const { hashModuleZip } = await import(process.argv[1]);
const res = { h1: '', times_ms: [], max_rss_kib: 0, baseline_rss_kib: peak() };
for (let i = 0; i < Number(process.argv[3]); i++) {
  const t0 = process.hrtime.bigint();
  const r = await hashModuleZip(process.argv[2]);
  res.times_ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  res.h1 = r.h1;
}
res.max_rss_kib = peak();
process.stdout.write(JSON.stringify(res) + '\\n');
`;

function runJson(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8', maxBuffer: 16 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as RunResult;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function main(args: string[]): Promise<void> {
  const runsArg = args.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs wants a positive integer');
  const keep = args.includes('--keep');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-hash-'));
  try {
    const load = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    const cpu = os.cpus()[0]?.model ?? '?';
    console.log(`machine: ${os.cpus().length} cores (${cpu}), node ${process.version}, load average ${load}`);
    const t0 = Date.now();
    const zips = await buildZips(dir);
    console.log(`built the zips in ${((Date.now() - t0) / 1000).toFixed(1)} s in ${dir}`);
    const hashzip = buildGo();
    const entry = transpile();
    const goVersion = spawnSync(findGo()!, ['version'], { encoding: 'utf8' }).stdout.trim();
    console.log(`${goVersion}; runs per side: ${runs}\n`);

    const rows: string[][] = [];
    for (const [label, zip] of Object.entries(zips)) {
      const content = (await hashModuleZip(zip)).bytes;
      const zipSize = fs.statSync(zip).size;
      const ours = runJson(process.execPath, ['--input-type=module', '-e', CHILD, entry, zip, String(runs)]);
      const go = runJson(hashzip, ['-n', String(runs), zip]);
      if (ours.h1 !== go.h1) throw new Error(`h1 differs on ${label}: sumkeep ${ours.h1}, go ${go.h1}`);
      const mibs = (ms: number): string => (content / MiB / (ms / 1000)).toFixed(0);
      const mo = median(ours.times_ms);
      const mg = median(go.times_ms);
      rows.push([
        label,
        `${(zipSize / MiB).toFixed(1)} / ${(content / MiB).toFixed(1)}`,
        `${ours.times_ms[0]!.toFixed(0)} / ${mo.toFixed(0)}`,
        `${go.times_ms[0]!.toFixed(0)} / ${mg.toFixed(0)}`,
        (mo / mg).toFixed(2),
        `${mibs(mo)} / ${mibs(mg)}`,
        `${(ours.max_rss_kib / 1024).toFixed(0)} (${((ours.baseline_rss_kib ?? 0) / 1024).toFixed(0)})`,
        `${(go.max_rss_kib / 1024).toFixed(0)}`,
        (ours.max_rss_kib / go.max_rss_kib).toFixed(1),
      ]);
    }
    const head = [
      'zip',
      'MiB zip / content',
      'sumkeep ms first / median',
      'go ms first / median',
      'time sumkeep/go',
      'MiB/s sumkeep / go',
      'sumkeep peak RSS MiB (runtime baseline)',
      'go peak RSS MiB',
      'RSS sumkeep/go',
    ];
    const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
    console.log(table);
    console.log('\nh1 values are identical on both sides for every zip.');
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
