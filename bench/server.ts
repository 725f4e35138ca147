/**
 * `npm run bench -- server [--records N] [--big N] [--duration S] [--connections C] [--workers W] [--keep | --reuse DIR] [--profile]`
 * (and `npm run bench -- server --db postgres ...`, see server/postgres.ts):
 * sumkeep's HTTP server against Go's own checksum database server, on the same log, with the same
 * load generator, in the same run.
 *
 *  1. Sequencing: the real Sequencer over the real SQLite store (file database, WAL,
 *     synchronous=FULL, batches of 1,000 as `sumkeep serve` defaults) builds a log of --big records
 *     (default 1,000,000), timing its first --records (default 100,000) into the empty log and its
 *     last --records into the log of big - records. Database bytes per record are read after that.
 *     The Go side's figure is bench/go/refserver building the same log in memory (stored hashes,
 *     tree hash and a signed head per 1,000 records, no storage at all): a hashing lower bound,
 *     not a like-for-like sequencer.
 *  2. Serving: the real `sumkeep serve --upstream off` (compiled JavaScript, see server/compile.ts)
 *     and the Go reference (sumdb.NewServer over memory) serve the same records, signed with the
 *     same key; before any load, their /latest, tile and lookup answers are checked byte-equal.
 *     Then wrk (one thread, --connections connections, --duration seconds after a warm-up of the
 *     same command) measures each endpoint on each server, one server at a time.
 *
 * The machine's cores are shared by the server under test and wrk. Needs wrk and go on PATH.
 * --keep keeps the working directory (log, keys, records, build.json); --reuse DIR serves the log
 * kept there instead of building it again (its sequencing figures are the kept ones), to repeat
 * the serving measurements after a change to the HTTP side (about 2 minutes instead of 7-9).
 * --profile writes V8 CPU profiles of sumkeep's builder and server to bench/out/server/prof.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createNoteKey, NOTE_KEY_FILE } from '../src/keys/notekey.ts';
import { findGo } from '../test/helpers/go.ts';
import { defaultOf } from '../src/settings.ts';
import { compileForBench } from './server/compile.ts';
import type { BuildArgs, BuildResult } from './server/build-log.ts';
import { modulePath, moduleVersion, recordAt } from './server/records.ts';
import { buildRefServer, startChild, type Child } from './server/servers.ts';
import { findWrk, randomLookupScript, randomTileScript, runWrk, type WrkResult } from './server/wrk.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const LOG_NAME = 'bench.sumkeep.local';
/** The batch size and delay `sumkeep serve` runs with by default (src/settings.ts). */
const BATCH = defaultOf('batchMax');
const BATCH_DELAY_MS = defaultOf('batchDelayMs');
const SEED = 20240601;

interface Options {
  records: number;
  big: number;
  durationS: number;
  connections: number;
  /** `sumkeep serve --workers`: HTTP processes (Go's reference uses every core). */
  workers: number;
  keep: boolean;
  reuse: string | null;
  profile: boolean;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    records: 100_000,
    big: 1_000_000,
    durationS: 10,
    connections: 32,
    workers: 2,
    keep: false,
    reuse: null,
    profile: false,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`${flag} wants an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--records') o.records = num(a, args[++i], BATCH);
    else if (a === '--big') o.big = num(a, args[++i], BATCH);
    else if (a === '--duration') o.durationS = num(a, args[++i], 1);
    else if (a === '--connections') o.connections = num(a, args[++i], 1);
    else if (a === '--workers') o.workers = num(a, args[++i], 1);
    else if (a === '--keep') o.keep = true;
    else if (a === '--reuse') {
      o.reuse = args[++i] ?? '';
      if (o.reuse === '') throw new Error('--reuse wants the directory a --keep run printed');
    } else if (a === '--profile') o.profile = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.records % BATCH !== 0 || o.big % BATCH !== 0) {
    throw new Error(`--records and --big must be multiples of ${BATCH} (the batch size)`);
  }
  if (o.big < 2 * o.records) throw new Error('--big must be at least twice --records');
  return o;
}

/** Writes the log's record texts, in order, for the Go reference. */
function writeRecordsFile(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let lo = 0; lo < n; lo += 10_000) {
      let s = '';
      for (let i = lo; i < Math.min(n, lo + 10_000); i++) s += recordAt(i).text;
      fs.writeSync(fd, s);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function runBuilder(js: string, args: BuildArgs, nodeFlags: string[]): BuildResult {
  const r = spawnSync(
    process.execPath,
    [...nodeFlags, path.join(js, 'bench', 'server', 'build-log.js'), JSON.stringify(args)],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`the log builder failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildResult;
}

async function get(base: string, p: string): Promise<Buffer> {
  const res = await fetch(base + p);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${base}${p}: ${res.status} ${body.toString().slice(0, 200)}`);
  return body;
}

/** Both servers must give the same bytes for the same log before their speed means anything. */
async function checkSameAnswers(a: string, b: string, n: number): Promise<void> {
  const paths = ['/latest', '/tile/8/0/001'];
  if (n >= 256 * 256) paths.push('/tile/8/1/000.p/1');
  for (let k = 0; k < 20; k++) {
    const i = Math.floor((k * (n - 1)) / 19);
    paths.push(`/lookup/${modulePath(i)}@${moduleVersion(i)}`);
  }
  for (const p of paths) {
    const [x, y] = await Promise.all([get(a, p), get(b, p)]);
    if (!x.equals(y)) throw new Error(`sumkeep and the Go reference answer ${p} differently`);
  }
}

interface Scenario {
  label: string;
  /** Also run against the Go reference limited to one core. */
  oneCore?: boolean;
  path?: string;
  script?: string;
  connections: number;
}

const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtMs = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const fmtS = (ms: number): string => (ms / 1000).toFixed(2);

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--db')) {
    // `--db postgres`: PostgreSQL beside SQLite (bench/server/postgres.ts).
    const { mainPostgres } = await import('./server/postgres.ts');
    return mainPostgres(args);
  }
  const o = parseOptions(args);
  const wrk = findWrk();
  if (wrk === null) {
    console.error('wrk is required: apt-get install wrk (Debian/Ubuntu), or build it from github.com/wg/wrk');
    process.exit(2);
  }
  const go = findGo();
  if (go === null) {
    console.error('the go command is required: apt-get install golang-go golang-golang-x-mod-dev');
    process.exit(2);
  }
  const dir = o.reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-server-'));
  const children: Child[] = [];
  const log = (s: string): void => void process.stderr.write(s + '\n');
  try {
    const goVersion = spawnSync(go, ['version'], { encoding: 'utf8' }).stdout.trim();
    const wrkVersion =
      /wrk (\S+)/.exec(spawnSync(wrk, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
    const mem = new Database(':memory:');
    const sqliteVersion = mem.prepare('SELECT sqlite_version()').pluck().get() as string;
    mem.close();
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
        `node ${process.version}, SQLite ${sqliteVersion}, ${goVersion}, wrk ${wrkVersion}`,
    );
    console.log(
      `log: ${o.big} records; sequencing measured over ${o.records}; wrk -t1 -c${o.connections} -d${o.durationS}s (after an equal warm-up); sumkeep serve --workers ${o.workers}`,
    );

    log('compiling sumkeep (bench/out/server/js) and building bench/go/refserver ...');
    const js = compileForBench(repo, path.join(repo, 'bench', 'out', 'server', 'js'));
    const refserver = buildRefServer(repo, go);
    const profDir = path.join(repo, 'bench', 'out', 'server', 'prof');
    const nodeFlags = o.profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];

    const keys = path.join(dir, 'keys');
    const db = path.join(dir, 'sumkeep.db');
    const recordsFile = path.join(dir, 'records.txt');
    const buildJson = path.join(dir, 'build.json');
    let built: BuildResult;
    let loadBuild: number;
    if (o.reuse !== null) {
      ({ built, loadBuild } = JSON.parse(fs.readFileSync(buildJson, 'utf8')) as {
        built: BuildResult;
        loadBuild: number;
      });
      log(`reusing the log of ${built.size} records in ${dir} (sequencing figures are from that build)`);
      if (built.size !== o.big || !fs.existsSync(recordsFile)) {
        throw new Error(`${dir} holds a log of ${built.size} records; pass --big ${built.size}`);
      }
    } else {
      createNoteKey(keys, LOG_NAME);
      log(`sequencing ${o.big} records with sumkeep's Sequencer into ${db} ...`);
      built = runBuilder(
        js,
        { db, keys, total: o.big, mark: o.records, maxBatch: BATCH, maxDelayMs: BATCH_DELAY_MS },
        nodeFlags,
      );
      loadBuild = os.loadavg()[0]!;
      if (built.size !== o.big) throw new Error(`the log has ${built.size} records, want ${o.big}`);
      log('writing the records for the Go reference ...');
      writeRecordsFile(recordsFile, o.big);
      fs.writeFileSync(buildJson, JSON.stringify({ built, loadBuild }) + '\n');
    }
    log('starting the Go reference ...');
    const startRef = (label: string, env: NodeJS.ProcessEnv = process.env) =>
      startChild(
        refserver,
        [
          '-records',
          recordsFile,
          '-key',
          path.join(keys, NOTE_KEY_FILE),
          '-batch',
          String(BATCH),
          '-mark',
          String(o.records),
        ],
        { cwd: repo, env, timeoutMs: 600_000, label },
      );
    const ref = await startRef('refserver');
    children.push(ref);
    // The same reference on one core (GOMAXPROCS=1), for a per-core comparison with Node's one
    // JavaScript thread.
    const ref1 = await startRef('refserver (GOMAXPROCS=1)', { ...process.env, GOMAXPROCS: '1' });
    children.push(ref1);
    const refInfo = JSON.parse(ref.line) as {
      addr: string;
      records: number;
      hash: string;
      seq_ms: number;
      first_ms: number;
      last_ms: number;
    };
    if (refInfo.records !== o.big || refInfo.hash !== built.hash) {
      throw new Error(`the Go reference built a different tree: ${ref.line} vs ${built.hash}`);
    }

    log('starting sumkeep serve ...');
    const sk = await startChild(
      process.execPath,
      [
        ...nodeFlags,
        path.join(js, 'src', 'cli', 'main.js'),
        'serve',
        '--keys',
        keys,
        '--db',
        db,
        '--upstream',
        'off',
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'warn',
        '--workers',
        String(o.workers),
      ],
      { cwd: repo, timeoutMs: 120_000, label: 'sumkeep serve' },
    );
    children.push(sk);
    const skUrl = /^GOSUMDB=\S+ (\S+)$/.exec(sk.line)?.[1];
    if (skUrl === undefined) throw new Error(`unexpected line from sumkeep serve: ${sk.line}`);
    const goUrl = `http://${refInfo.addr}`;
    const go1Url = `http://${(JSON.parse(ref1.line) as { addr: string }).addr}`;
    await checkSameAnswers(skUrl, goUrl, o.big);
    await checkSameAnswers(skUrl, go1Url, o.big);
    log('both servers give byte-identical answers for /latest, tiles and 20 lookups');

    const script = (name: string, text: string): string => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    const fixed = Math.floor(o.big / 2);
    const lookupRandom = script('lookup-random.lua', randomLookupScript(o.big, SEED));
    const scenarios: Record<string, Scenario> = {
      lookupOne: {
        label: `lookup of one logged record (\`/lookup/${modulePath(fixed)}@${moduleVersion(fixed)}\`)`,
        path: `/lookup/${modulePath(fixed)}@${moduleVersion(fixed)}`,
        connections: o.connections,
        oneCore: true,
      },
      lookupRandom: {
        label: `lookup of a random record of the ${fmtInt(o.big)} (Lua)`,
        script: lookupRandom,
        connections: o.connections,
        oneCore: true,
      },
      lookupOneClient: {
        label: `lookup of a random record, one connection (-c1)`,
        script: lookupRandom,
        connections: 1,
      },
      tileOne: { label: 'full hash tile `/tile/8/0/001`', path: '/tile/8/0/001', connections: o.connections },
      tileRandom: {
        label: `random full level-0 hash tile (of ${fmtInt(Math.floor(o.big / 256))}, Lua)`,
        script: script('tile-random.lua', randomTileScript(o.big, SEED)),
        connections: o.connections,
      },
      latest: { label: '`/latest`', path: '/latest', connections: o.connections },
    };
    const results: Record<string, { sumkeep: WrkResult; go: WrkResult; go1?: WrkResult }> = {};
    const loadBefore = os.loadavg()[0]!;
    const commands: string[] = [];
    for (const [key, sc] of Object.entries(scenarios)) {
      const run = (base: string, durationS: number): WrkResult =>
        runWrk(wrk, base + (sc.path ?? '/'), {
          connections: sc.connections,
          durationS,
          ...(sc.script !== undefined ? { script: sc.script } : {}),
        });
      const warm = Math.min(3, o.durationS);
      run(skUrl, warm);
      const s = run(skUrl, o.durationS);
      run(goUrl, warm);
      const g = run(goUrl, o.durationS);
      results[key] = { sumkeep: s, go: g };
      if (sc.oneCore === true) {
        run(go1Url, warm);
        results[key].go1 = run(go1Url, o.durationS);
      }
      commands.push(s.command.replace(skUrl, '<server>').replace(dir, '<dir>'));
      log(
        `  ${key}: sumkeep ${fmtInt(s.rps)}/s p99 ${fmtMs(s.p99)} ms; go ${fmtInt(g.rps)}/s p99 ${fmtMs(g.p99)} ms`,
      );
    }
    const loadAfter = os.loadavg()[0]!;
    const rss = { sumkeep: sk.rssKib() / 1024, go: ref.rssKib() / 1024 };

    const rows: string[][] = [];
    for (const [key, sc] of Object.entries(scenarios)) {
      const { sumkeep: s, go: g, go1 } = results[key]!;
      rows.push([
        `${sc.label}, -c${sc.connections}`,
        fmtInt(s.rps),
        fmtInt(g.rps),
        (s.rps / g.rps).toFixed(2),
        go1 === undefined ? '' : `${fmtInt(go1.rps)} (${(s.rps / go1.rps).toFixed(2)})`,
        `${fmtMs(s.p50)} / ${fmtMs(s.p90)} / ${fmtMs(s.p99)}`,
        `${fmtMs(g.p50)} / ${fmtMs(g.p90)} / ${fmtMs(g.p99)}`,
      ]);
    }
    console.log(
      `\nServing a ${fmtInt(o.big)}-record log (requests/s: higher is better; ratio > 1: sumkeep faster)\n`,
    );
    console.log(
      table(
        [
          'requests',
          'sumkeep req/s',
          'go req/s',
          'sumkeep/go',
          'go GOMAXPROCS=1 req/s (sumkeep/that)',
          'sumkeep ms p50 / p90 / p99',
          'go ms p50 / p90 / p99',
        ],
        rows,
      ),
    );

    const perRecord = (b: number): string => (b / o.big).toFixed(0);
    const tables = Object.entries(built.tables)
      .filter(([, b]) => b >= o.big)
      .map(([name, b]) => `${name} ${perRecord(b)}`)
      .join(', ');
    console.log(`\nSequencing and storage\n`);
    console.log(
      table(
        ['measurement', 'sumkeep', 'go reference (in memory, no storage)'],
        [
          [
            `${fmtInt(o.records)} new records into the empty log`,
            `${fmtS(built.first_ms)} s (${fmtInt(o.records / (built.first_ms / 1000))} records/s)`,
            `${fmtS(refInfo.first_ms)} s`,
          ],
          [
            `${fmtInt(o.records)} new records into a log of ${fmtInt(o.big - o.records)}`,
            `${fmtS(built.last_ms)} s (${fmtInt(o.records / (built.last_ms / 1000))} records/s)`,
            `${fmtS(refInfo.last_ms)} s`,
          ],
          [`the whole ${fmtInt(o.big)}-record log`, `${fmtS(built.total_ms)} s`, `${fmtS(refInfo.seq_ms)} s`],
          [
            'database bytes per record',
            `${perRecord(built.db_bytes)} (${(built.db_bytes / 2 ** 20).toFixed(0)} MiB; ${tables})`,
            `record text ${perRecord(built.text_bytes)} + stored hashes ~64 (what any log must keep)`,
          ],
          ['server RSS after the load runs, MiB', rss.sumkeep.toFixed(0), rss.go.toFixed(0)],
        ],
      ),
    );
    console.log(
      `\nload average (1 min) at the end of sequencing: ${loadBuild.toFixed(2)}; before / after the load runs: ` +
        `${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} ` +
        `(the server and wrk themselves account for about 2; more means other processes shared the cores)`,
    );
    console.log(`\nwrk command lines (identical for both servers; <server> = its base URL, <dir> = ${dir}):`);
    for (const c of [...new Set(commands)]) console.log(`  ${c}`);

    const r = results;
    const ratio = (k: string): number => r[k]!.sumkeep.rps / r[k]!.go.rps;
    const goals: [string, boolean][] = [
      [
        `lookups/s of one logged record at least the Go reference's: ${ratio('lookupOne').toFixed(2)}x`,
        ratio('lookupOne') >= 1,
      ],
      [
        `lookups/s of random records at least the Go reference's: ${ratio('lookupRandom').toFixed(2)}x`,
        ratio('lookupRandom') >= 1,
      ],
      [
        `${fmtInt(o.records)} records sequenced into the empty log in under 10 s: ${fmtS(built.first_ms)} s`,
        built.first_ms < 10_000,
      ],
      [
        `${fmtInt(o.records)} records sequenced into a log of ${fmtInt(o.big - o.records)} in under 10 s: ${fmtS(built.last_ms)} s`,
        built.last_ms < 10_000,
      ],
      [
        `lookup p99 under 5 ms at ${fmtInt(o.big)} records, -c${o.connections}: ${fmtMs(r.lookupRandom!.sumkeep.p99)} ms`,
        r.lookupRandom!.sumkeep.p99 < 5,
      ],
      [
        `lookup p99 under 5 ms at ${fmtInt(o.big)} records, -c1: ${fmtMs(r.lookupOneClient!.sumkeep.p99)} ms`,
        r.lookupOneClient!.sumkeep.p99 < 5,
      ],
    ];
    console.log('\nGoals');
    for (const [goal, ok] of goals) console.log(`  ${ok ? 'met   ' : 'MISSED'}  ${goal}`);
    const out = path.join(repo, 'bench', 'out', 'server', 'results.json');
    fs.writeFileSync(
      out,
      JSON.stringify(
        { options: o, built, ref: refInfo, results, rss, loadBuild, loadBefore, loadAfter },
        null,
        2,
      ) + '\n',
    );
    console.log(
      `\nraw results: ${path.relative(repo, out)}${o.profile ? `; CPU profiles: ${path.relative(repo, profDir)}` : ''}`,
    );
  } finally {
    for (const c of children.reverse()) await c.stop();
    if (o.keep || o.reuse !== null) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
