/**
 * `npm run bench -- readpath [--records N] [--duration S] [--rounds R] [--connections C] [--keep]`:
 * the static read path (docs/operations.md, "Static read path") against sumkeep and against Go's
 * reference server, on the same log, with the same load generator, in the same run.
 *
 *  1. A log of --records records (default 50,000; bench/server/records.ts) is sequenced by the real
 *     Sequencer into SQLite (bench/server/build-log.ts), and `sumkeep publish --db <db> --out <dir>`
 *     (the real CLI) writes latest, tiles and one lookup file per record. The directory is on
 *     /dev/shm when there is one: the publisher fsyncs every file, which on this machine's disk
 *     is about 350 files/s, and where the files sit does not change how nginx reads them (from the
 *     page cache either way). The publish time is printed, not compared.
 *  2. Three servers answer the same records, signed with the same key:
 *       nginx    Debian's /usr/sbin/nginx running the nginx block of docs/operations.md, taken from
 *                the document (test/helpers/nginx.ts; worker_processes auto), over the directory,
 *                with `try_files` fallback to the sumkeep below;
 *       sumkeep  `sumkeep serve --upstream off --workers 2` over the database;
 *       go       bench/go/refserver: golang.org/x/mod/sumdb.NewServer over memory (GOMAXPROCS =
 *                all cores).
 *     Before any load: /latest and sample tiles are byte-identical on all three; the lookups of
 *     sample records agree (nginx's carry the head that first included the record, sumkeep's and
 *     Go's the latest head; the id and record text are the same bytes); nginx answers a lookup and
 *     a tile with the documented content types from the files, not through sumkeep.
 *  3. wrk (one thread, --connections connections) measures, per round, random lookups of the N
 *     records and random full level-0 hash tiles on each server, each run --duration seconds after
 *     a one-second warm-up. Besides requests/s, the CPU time the server's processes (and their
 *     children: nginx's and sumkeep's workers) used during the run is read from /proc, so that
 *     requests per server CPU-second can be compared too: on a shared machine that figure moves
 *     less than requests/s.
 *
 * The ratios are against Go's reference measured in the same round; the goal (issue 9) is nginx
 * over the published directory at 1.5x the reference or more. Needs nginx, wrk and go.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNoteKey, NOTE_KEY_FILE } from '../src/keys/notekey.ts';
import { tilePath } from '../src/core/tlog/index.ts';
import { defaultOf } from '../src/settings.ts';
import { findGo } from '../test/helpers/go.ts';
import { findNginx, startNginx, type RunningNginx } from '../test/helpers/nginx.ts';
import { compileForBench } from './server/compile.ts';
import type { BuildArgs, BuildResult } from './server/build-log.ts';
import { modulePath, moduleVersion, recordAt } from './server/records.ts';
import { buildRefServer, startChild, type Child } from './server/servers.ts';
import { findWrk, randomLookupScript, randomTileScript, runWrk, type WrkResult } from './server/wrk.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const LOG_NAME = 'bench.sumkeep.local';
const BATCH = defaultOf('batchMax');
const SEED = 20261202;
const WARM_S = 1;
const SERVERS = ['nginx', 'sumkeep', 'go'] as const;
type Server = (typeof SERVERS)[number];

interface Options {
  records: number;
  durationS: number;
  rounds: number;
  connections: number;
  keep: boolean;
}

function parseOptions(args: string[]): Options {
  const o: Options = { records: 50_000, durationS: 3, rounds: 3, connections: 32, keep: false };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`${flag} wants an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--records') o.records = num(a, args[++i], BATCH);
    else if (a === '--duration') o.durationS = num(a, args[++i], 1);
    else if (a === '--rounds') o.rounds = num(a, args[++i], 1);
    else if (a === '--connections') o.connections = num(a, args[++i], 1);
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.records % BATCH !== 0) throw new Error(`--records must be a multiple of ${BATCH} (the batch size)`);
  if (o.records < 256) throw new Error('--records must be at least 256 (one full tile)');
  return o;
}

function runBuilder(js: string, args: BuildArgs): BuildResult {
  const r = spawnSync(
    process.execPath,
    [path.join(js, 'bench', 'server', 'build-log.js'), JSON.stringify(args)],
    {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  if (r.status !== 0) throw new Error(`the log builder failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildResult;
}

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

const TICK_S = 1 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** utime + stime, in seconds, of `pid` and of its direct children (nginx's and sumkeep's workers). */
function cpuSeconds(pid: number): number {
  const stat = (p: string): [ppid: number, ticks: number] | null => {
    try {
      // "pid (comm) state ppid ... utime(14) stime(15)": comm may hold spaces, so split after ")".
      const s = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return [Number(f[1]), Number(f[11]) + Number(f[12])];
    } catch {
      return null; // exited meanwhile
    }
  };
  let ticks = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const st = stat(p);
    if (st !== null && (Number(p) === pid || st[0] === pid)) ticks += st[1];
  }
  return ticks * TICK_S;
}

/** CPU seconds of this process's waited-for children (cutime + cstime): wrk, run by spawnSync. */
function childrenCpuSeconds(): number {
  const s = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_S;
}

async function get(url: string): Promise<{ body: Buffer; type: string | null; cache: string | null }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.toString().slice(0, 200)}`);
  return { body, type: res.headers.get('content-type'), cache: res.headers.get('cache-control') };
}

/** The three must serve the same log before their speed means anything. */
async function checkSameLog(urls: Record<Server, string>, n: number): Promise<void> {
  const same = [
    '/latest',
    '/tile/8/0/000',
    '/' + tilePath({ H: 8, L: 0, N: Math.floor(n / 256) - 1, W: 256 }),
  ];
  if (n >= 256 * 256) same.push('/tile/8/1/000');
  for (const p of same) {
    const [a, b, c] = await Promise.all([get(urls.nginx + p), get(urls.sumkeep + p), get(urls.go + p)]);
    if (!a.body.equals(b.body) || !b.body.equals(c.body))
      throw new Error(`the servers answer ${p} differently`);
  }
  for (let k = 0; k < 20; k++) {
    const i = Math.floor((k * (n - 1)) / 19);
    const p = `/lookup/${modulePath(i)}@${moduleVersion(i)}`;
    const [ng, sk, go] = await Promise.all([get(urls.nginx + p), get(urls.sumkeep + p), get(urls.go + p)]);
    if (!sk.body.equals(go.body)) throw new Error(`sumkeep and the Go reference answer ${p} differently`);
    const record = `${i}\n${recordAt(i).text}\n`;
    if (!ng.body.subarray(0, record.length).equals(Buffer.from(record))) {
      throw new Error(`nginx answers ${p} with another record`);
    }
    const size = Number(
      /^go\.sum database tree\n(\d+)\n/.exec(ng.body.subarray(record.length).toString())?.[1],
    );
    if (!(size > i && size <= n)) throw new Error(`nginx answers ${p} with a head of size ${size}`);
  }
  // From the files, not through sumkeep: the documented types and lifetimes (sumkeep's own lookup
  // answers are no-cache).
  const lookup = await get(`${urls.nginx}/lookup/${modulePath(0)}@${moduleVersion(0)}`);
  const tile = await get(`${urls.nginx}/tile/8/0/000`);
  if (lookup.type !== 'text/plain; charset=utf-8' || lookup.cache !== 'public, max-age=86400') {
    throw new Error(`nginx served a lookup as ${lookup.type} / ${lookup.cache}`);
  }
  if (tile.type !== 'application/octet-stream' || tile.cache !== 'public, max-age=31536000, immutable') {
    throw new Error(`nginx served a tile as ${tile.type} / ${tile.cache}`);
  }
}

interface Measured {
  wrk: WrkResult;
  /** CPU seconds of the server under test during the run. */
  cpuS: number;
  /** CPU seconds of wrk: near the run's duration, the load generator ran out of its one core. */
  wrkCpuS: number;
  /** CPU seconds of sumkeep during an nginx run: what nginx passed on to it (about 0). */
  fallbackCpuS?: number;
}

const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtMs = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const table = (head: string[], rows: string[][]): string =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').trim();

export async function main(args: string[]): Promise<void> {
  const o = parseOptions(args);
  const wrk = findWrk();
  const go = findGo();
  const nginxBin = findNginx();
  if (wrk === null || go === null || nginxBin === null) {
    console.error(
      'readpath needs wrk, go and nginx: apt-get install wrk golang-go golang-golang-x-mod-dev nginx',
    );
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-readpath-'));
  const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/sumkeep-bench-readpath-') : null;
  const pubDir = path.join(shm ?? dir, 'publish');
  const children: Child[] = [];
  let nginx: RunningNginx | undefined;
  const log = (s: string): void => void process.stderr.write(s + '\n');
  try {
    const version = (cmd: string, a: string[], re: RegExp) =>
      re.exec(spawnSync(cmd, a, { encoding: 'utf8' }).output.join(''))?.[1] ?? '?';
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
        `node ${process.version}, ${version(go, ['version'], /(go\d\S*)/)}, nginx ${version(nginxBin, ['-v'], /nginx\/(\S+)/)}, ` +
        `wrk ${version(wrk, ['--version'], /wrk (\S+)/)}`,
    );
    console.log(
      `log: ${fmtInt(o.records)} records; wrk -t1 -c${o.connections} -d${o.durationS}s after a ${WARM_S} s warm-up, ` +
        `${o.rounds} round(s); /proc/loadavg at the start: ${loadavg()}`,
    );

    log('compiling sumkeep (bench/out/server/js) and building bench/go/refserver ...');
    const js = compileForBench(repo, path.join(repo, 'bench', 'out', 'server', 'js'));
    const refserver = buildRefServer(repo, go);
    const cli = path.join(js, 'src', 'cli', 'main.js');

    const keys = path.join(dir, 'keys');
    const db = path.join(dir, 'sumkeep.db');
    const recordsFile = path.join(dir, 'records.txt');
    createNoteKey(keys, LOG_NAME);
    log(`sequencing ${fmtInt(o.records)} records into ${db} ...`);
    const built = runBuilder(js, {
      db,
      keys,
      total: o.records,
      mark: o.records,
      maxBatch: BATCH,
      maxDelayMs: defaultOf('batchDelayMs'),
    });
    if (built.size !== o.records) throw new Error(`the log has ${built.size} records, want ${o.records}`);
    writeRecordsFile(recordsFile, o.records);

    log(`sumkeep publish --out ${pubDir} ...`);
    const t0 = performance.now();
    const pub = spawnSync(process.execPath, [cli, 'publish', '--db', db, '--out', pubDir], {
      cwd: repo,
      encoding: 'utf8',
    });
    const publishS = (performance.now() - t0) / 1000;
    if (pub.status !== 0) throw new Error(`sumkeep publish failed (${pub.status}): ${pub.stderr}`);

    log('starting the Go reference, sumkeep serve and nginx ...');
    const ref = await startChild(
      refserver,
      [
        '-records',
        recordsFile,
        '-key',
        path.join(keys, NOTE_KEY_FILE),
        '-batch',
        String(BATCH),
        '-mark',
        String(BATCH),
      ],
      { cwd: repo, timeoutMs: 600_000, label: 'refserver' },
    );
    children.push(ref);
    const refInfo = JSON.parse(ref.line) as { addr: string; records: number; hash: string };
    if (refInfo.records !== o.records || refInfo.hash !== built.hash) {
      throw new Error(`the Go reference built a different tree: ${ref.line} vs ${built.hash}`);
    }
    const sk = await startChild(
      process.execPath,
      [
        cli,
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
        '2',
      ],
      { cwd: repo, timeoutMs: 120_000, label: 'sumkeep serve' },
    );
    children.push(sk);
    const skUrl = /^GOSUMDB=\S+ (\S+)$/.exec(sk.line)?.[1];
    if (skUrl === undefined) throw new Error(`unexpected line from sumkeep serve: ${sk.line}`);
    nginx = await startNginx(
      nginxBin,
      path.join(dir, 'nginx'),
      { sumkeep: new URL(skUrl).host, root: pubDir, name: LOG_NAME },
      'auto',
    );
    const urls: Record<Server, string> = { nginx: nginx.url, sumkeep: skUrl, go: `http://${refInfo.addr}` };
    const pids: Record<Server, number> = { nginx: nginx.proc.pid!, sumkeep: sk.proc.pid!, go: ref.proc.pid! };
    await checkSameLog(urls, o.records);
    log('all three serve the same log; nginx answers lookups and tiles from the files');

    const scripts = {
      lookup: path.join(dir, 'lookup-random.lua'),
      tile: path.join(dir, 'tile-random.lua'),
    };
    fs.writeFileSync(scripts.lookup, randomLookupScript(o.records, SEED));
    fs.writeFileSync(scripts.tile, randomTileScript(o.records, SEED));
    const scenarios = {
      lookup: `random lookup of the ${fmtInt(o.records)} records`,
      tile: `random full level-0 hash tile (of ${fmtInt(Math.floor(o.records / 256))})`,
    } as const;
    type Scenario = keyof typeof scenarios;

    const results: { round: number; load: string; scenario: Scenario; server: Server; m: Measured }[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const scenario of Object.keys(scenarios) as Scenario[]) {
        for (const server of SERVERS) {
          const opts = { connections: o.connections, script: scripts[scenario] };
          runWrk(wrk, urls[server] + '/', { ...opts, durationS: WARM_S });
          const c0 = cpuSeconds(pids[server]);
          const f0 = cpuSeconds(pids.sumkeep);
          const w0 = childrenCpuSeconds();
          const w = runWrk(wrk, urls[server] + '/', { ...opts, durationS: o.durationS });
          const cpuS = cpuSeconds(pids[server]) - c0;
          const m: Measured = { wrk: w, cpuS, wrkCpuS: childrenCpuSeconds() - w0 };
          if (server === 'nginx') m.fallbackCpuS = cpuSeconds(pids.sumkeep) - f0;
          results.push({ round, load: loadavg(), scenario, server, m });
          log(
            `  round ${round} ${scenario} ${server}: ${fmtInt(w.rps)}/s, p99 ${fmtMs(w.p99)} ms, ` +
              `server CPU ${cpuS.toFixed(2)} s, wrk CPU ${m.wrkCpuS.toFixed(2)} s; load ${loadavg()}`,
          );
        }
      }
    }
    // Every nginx request was answered from the files: sumkeep idled meanwhile.
    const passedOn = Math.max(...results.map((r) => r.m.fallbackCpuS ?? 0));

    console.log(`\nPer round (requests/s; req per server CPU-second; ratio against go in the same round)\n`);
    const rows: string[][] = [];
    const ratios: Record<Scenario, Record<Server, { rps: number[]; perCpu: number[] }>> = {
      lookup: {
        nginx: { rps: [], perCpu: [] },
        sumkeep: { rps: [], perCpu: [] },
        go: { rps: [], perCpu: [] },
      },
      tile: { nginx: { rps: [], perCpu: [] }, sumkeep: { rps: [], perCpu: [] }, go: { rps: [], perCpu: [] } },
    };
    for (const r of results) {
      const g = results.find((x) => x.round === r.round && x.scenario === r.scenario && x.server === 'go')!;
      const perCpu = (m: Measured) => m.wrk.requests / m.cpuS;
      const rr = r.m.wrk.rps / g.m.wrk.rps;
      const rc = perCpu(r.m) / perCpu(g.m);
      ratios[r.scenario][r.server].rps.push(rr);
      ratios[r.scenario][r.server].perCpu.push(rc);
      rows.push([
        String(r.round),
        r.scenario,
        r.server,
        fmtInt(r.m.wrk.rps),
        `${fmtMs(r.m.wrk.p50)} / ${fmtMs(r.m.wrk.p99)}`,
        fmtInt(perCpu(r.m)),
        `${r.m.cpuS.toFixed(2)} / ${r.m.wrkCpuS.toFixed(2)}`,
        rr.toFixed(2),
        rc.toFixed(2),
        r.load.split(' ').slice(0, 3).join(' '),
      ]);
    }
    console.log(
      table(
        [
          'round',
          'requests',
          'server',
          'req/s',
          'ms p50 / p99',
          'req per CPU-s',
          `CPU s server / wrk (of ${o.durationS} s)`,
          'req/s vs go',
          'per CPU-s vs go',
          'loadavg after',
        ],
        rows,
      ),
    );

    console.log(`\nMedian over ${o.rounds} round(s), against Go's reference in the same round\n`);
    const sumRows: string[][] = [];
    for (const sc of Object.keys(scenarios) as Scenario[]) {
      const med = (s: Server) =>
        median(results.filter((r) => r.scenario === sc && r.server === s).map((r) => r.m.wrk.rps));
      sumRows.push([
        scenarios[sc],
        fmtInt(med('nginx')),
        fmtInt(med('sumkeep')),
        fmtInt(med('go')),
        `${median(ratios[sc].nginx.rps).toFixed(2)} (${median(ratios[sc].nginx.perCpu).toFixed(2)})`,
        `${median(ratios[sc].sumkeep.rps).toFixed(2)} (${median(ratios[sc].sumkeep.perCpu).toFixed(2)})`,
      ]);
    }
    console.log(
      table(
        [
          'requests',
          'nginx req/s',
          'sumkeep req/s',
          'go req/s',
          'nginx/go (per CPU-s)',
          'sumkeep/go (per CPU-s)',
        ],
        sumRows,
      ),
    );
    console.log(
      `\nsumkeep publish of ${fmtInt(o.records)} records: ${publishS.toFixed(1)} s (${shm !== null ? 'tmpfs' : 'disk'}); ` +
        `sumkeep's CPU time during an nginx run (what nginx passed on to it): at most ${passedOn.toFixed(2)} s; ` +
        `/proc/loadavg at the end: ${loadavg()}`,
    );
    console.log('wrk command lines (the same for every server; <server> = its base URL):');
    for (const c of new Set(
      results.map((r) => r.m.wrk.command.split(urls[r.server]).join('<server>').split(dir).join('<dir>')),
    )) {
      console.log(`  ${c}`);
    }
    console.log('\nGoal');
    for (const sc of Object.keys(scenarios) as Scenario[]) {
      const x = median(ratios[sc].nginx.rps);
      console.log(
        `  ${x >= 1.5 ? 'met   ' : 'MISSED'}  ${sc}s/s from the published directory at least 1.5x Go's reference: ${x.toFixed(2)}x`,
      );
    }
    const out = path.join(repo, 'bench', 'out', 'readpath', 'results.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ options: o, built, publishS, results, passedOn }, null, 2) + '\n');
    console.log(`\nraw results: ${path.relative(repo, out)}`);
  } finally {
    await nginx?.stop();
    for (const c of children.reverse()) await c.stop();
    if (o.keep) console.log(`kept ${dir}${shm !== null ? ` and ${shm}` : ''}`);
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      if (shm !== null) fs.rmSync(shm, { recursive: true, force: true });
    }
  }
}
