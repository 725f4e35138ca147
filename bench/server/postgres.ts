/**
 * `npm run bench -- server --db postgres [--records N] [--duration S] [--connections C]`:
 * sumkeep on PostgreSQL beside SQLite, on the same machine and the same log.
 *
 *  1. Sequencing: the real Sequencer (batches of 1,000, as `serve` defaults) sequences --records
 *     (default 100,000) new records into an empty SQLite file and into an empty PostgreSQL
 *     database (build-log.ts, one child process each), each with the rollback guard's checkpoint
 *     file as `serve` keeps it; both must end with the same tree hash. Then once more into a
 *     second empty PostgreSQL database without the guard, to show what the guard's two file
 *     syncs per batch cost.
 *  2. Serving lookups of random logged records (wrk, the Lua script of wrk.ts): one
 *     `sumkeep serve` node on SQLite; one node on PostgreSQL; two nodes on the same PostgreSQL
 *     database, each driven by its own wrk with half the connections at the same time (their
 *     requests/s add up; the p99 given is the worse of the two).
 *
 * The PostgreSQL server comes from SUMKEEP_BENCH_PG_URL or SUMKEEP_TEST_PG_URL (an admin URL; a
 * database sumkeep_bench_<random> is created and dropped). The machine's cores are shared by the
 * server(s), PostgreSQL and wrk: the load average is printed with the figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createNoteKey } from '../../src/keys/notekey.ts';
import { compileForBench } from './compile.ts';
import type { BuildArgs, BuildResult } from './build-log.ts';
import { startChild, type Child } from './servers.ts';
import { findWrk, parseWrk, randomLookupScript, type WrkResult } from './wrk.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const LOG_NAME = 'bench.sumkeep.local';
const BATCH = 1000;
const SEED = 20240601;

interface Options {
  records: number;
  durationS: number;
  connections: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = { records: 100_000, durationS: 10, connections: 32 };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`${flag} wants an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--db') {
      if (args[++i] !== 'postgres') throw new Error('--db takes "postgres"');
    } else if (a === '--records') o.records = num(a, args[++i], BATCH);
    else if (a === '--duration') o.durationS = num(a, args[++i], 1);
    else if (a === '--connections') o.connections = num(a, args[++i], 2);
    else throw new Error(`unknown option ${a} (with --db postgres: --records, --duration, --connections)`);
  }
  if (o.records % BATCH !== 0) throw new Error(`--records must be a multiple of ${BATCH}`);
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

/** wrk without blocking, so that two can run at once. */
function wrkAsync(
  wrk: string,
  url: string,
  connections: number,
  durationS: number,
  script: string,
): Promise<WrkResult> {
  // A 10 s timeout (wrk's default is 2 s): on a shared machine a slow answer is measured, not an error.
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${durationS}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    script,
    url,
  ];
  const command = `wrk ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const p = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${command} exited with ${code}:\n${err}${out}`));
      else {
        try {
          resolve(parseWrk(out, command));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
    });
  });
}

const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtMs = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const fmtS = (ms: number): string => (ms / 1000).toFixed(2);
const table = (head: string[], rows: string[][]): string =>
  [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

export async function mainPostgres(args: string[]): Promise<void> {
  const o = parseOptions(args);
  const admin = process.env.SUMKEEP_BENCH_PG_URL ?? process.env.SUMKEEP_TEST_PG_URL;
  if (admin === undefined || admin === '') {
    console.error(
      'set SUMKEEP_BENCH_PG_URL (or SUMKEEP_TEST_PG_URL) to a PostgreSQL admin URL, e.g. postgres://u:p@127.0.0.1:5432/postgres',
    );
    process.exit(2);
  }
  const wrk = findWrk();
  if (wrk === null) {
    console.error('wrk is required: apt-get install wrk');
    process.exit(2);
  }
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-pg-'));
  const dbName = `sumkeep_bench_${randomBytes(4).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  const children: Child[] = [];
  try {
    const version =
      (await adminClient.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ??
      '?';
    await adminClient.query(`CREATE DATABASE ${dbName} TEMPLATE template0 ENCODING 'UTF8'`);
    const u = new URL(admin);
    u.pathname = `/${dbName}`;
    const pgUrl = u.toString();
    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; PostgreSQL ${version} (on this machine)`,
    );
    log('compiling sumkeep (bench/out/server/js) ...');
    const js = compileForBench(repo, path.join(repo, 'bench', 'out', 'server', 'js'));
    const keys = path.join(dir, 'keys');
    createNoteKey(keys, LOG_NAME);
    const sqliteDb = path.join(dir, 'sumkeep.db');
    const build = (db: string, checkpoint: string | undefined): BuildResult =>
      runBuilder(js, {
        db,
        keys,
        total: o.records,
        mark: o.records,
        maxBatch: BATCH,
        maxDelayMs: 10,
        checkpoint,
      });
    // SQLite: where `serve` keeps its checkpoint by default; PostgreSQL: node A's --checkpoint-file.
    const checkpointA = path.join(dir, 'checkpoint-a');
    log(`sequencing ${o.records} records into SQLite ...`);
    const sq = build(sqliteDb, `${sqliteDb}.checkpoint`);
    const loadSq = os.loadavg()[0]!;
    log(`sequencing ${o.records} records into PostgreSQL ...`);
    const pq = build(pgUrl, checkpointA);
    const loadPq = os.loadavg()[0]!;
    if (sq.hash !== pq.hash || sq.size !== pq.size)
      throw new Error('SQLite and PostgreSQL built different trees');
    log(`sequencing ${o.records} records into PostgreSQL without the rollback guard ...`);
    await adminClient.query(`CREATE DATABASE ${dbName}_noguard TEMPLATE template0 ENCODING 'UTF8'`);
    const u2 = new URL(admin);
    u2.pathname = `/${dbName}_noguard`;
    const pqNoGuard = build(u2.toString(), undefined);
    const loadPqNoGuard = os.loadavg()[0]!;
    await adminClient.query(`DROP DATABASE ${dbName}_noguard WITH (FORCE)`);
    if (pqNoGuard.hash !== pq.hash) throw new Error('the two PostgreSQL runs built different trees');

    // On PostgreSQL every node keeps its own checkpoint file (serve requires one).
    const serve = (db: string, label: string, checkpoint?: string) =>
      startChild(
        process.execPath,
        [
          path.join(js, 'src', 'cli', 'main.js'),
          'serve',
          '--keys',
          keys,
          '--db',
          db,
          ...(checkpoint === undefined ? [] : ['--checkpoint-file', checkpoint]),
          '--upstream',
          'off',
          '--listen',
          '127.0.0.1:0',
          '--log-level',
          'warn',
        ],
        { cwd: repo, timeoutMs: 120_000, label },
      );
    const urlOf = (c: Child): string => {
      const m = /^GOSUMDB=\S+ (\S+)$/.exec(c.line);
      if (m === null) throw new Error(`unexpected line from serve: ${c.line}`);
      return m[1]!;
    };
    const script = path.join(dir, 'lookup-random.lua');
    fs.writeFileSync(script, randomLookupScript(o.records, SEED));
    const warm = Math.min(3, o.durationS);
    const one = async (base: string, c: number): Promise<WrkResult> => {
      await wrkAsync(wrk, base + '/', c, warm, script).catch(() => undefined); // warm-up only
      return wrkAsync(wrk, base + '/', c, o.durationS, script);
    };
    const loadBefore = os.loadavg()[0]!;

    log('serving from SQLite, one node ...');
    const s1 = await serve(sqliteDb, 'sumkeep serve (SQLite)');
    children.push(s1);
    const sqOne = await one(urlOf(s1), o.connections);
    const sqC1 = await one(urlOf(s1), 1);
    await s1.stop();

    log('serving from PostgreSQL, one node ...');
    const a = await serve(pgUrl, 'sumkeep serve A (PostgreSQL)', checkpointA);
    children.push(a);
    const pgOne = await one(urlOf(a), o.connections);
    const pgC1 = await one(urlOf(a), 1);
    log('serving from PostgreSQL, two nodes ...');
    const b = await serve(pgUrl, 'sumkeep serve B (PostgreSQL)', path.join(dir, 'checkpoint-b'));
    children.push(b);
    const half = Math.floor(o.connections / 2);
    await Promise.all(
      [urlOf(a), urlOf(b)].map((u2) => wrkAsync(wrk, u2 + '/', half, warm, script).catch(() => undefined)),
    );
    const two = await Promise.all(
      [urlOf(a), urlOf(b)].map((u2) => wrkAsync(wrk, u2 + '/', half, o.durationS, script)),
    );
    const loadAfter = os.loadavg()[0]!;

    console.log(`\nSequencing ${fmtInt(o.records)} new records into an empty log (batches of ${BATCH})\n`);
    console.log(
      table(
        ['store', 'time', 'records/s', 'database bytes per record', 'load average (1 min) after'],
        [
          [
            'SQLite (WAL, synchronous=FULL), rollback guard',
            `${fmtS(sq.first_ms)} s`,
            fmtInt(o.records / (sq.first_ms / 1000)),
            (sq.db_bytes / o.records).toFixed(0),
            loadSq.toFixed(2),
          ],
          [
            'PostgreSQL (synchronous_commit=on), rollback guard',
            `${fmtS(pq.first_ms)} s`,
            fmtInt(o.records / (pq.first_ms / 1000)),
            (pq.db_bytes / o.records).toFixed(0),
            loadPq.toFixed(2),
          ],
          [
            'PostgreSQL (synchronous_commit=on), no guard',
            `${fmtS(pqNoGuard.first_ms)} s`,
            fmtInt(o.records / (pqNoGuard.first_ms / 1000)),
            (pqNoGuard.db_bytes / o.records).toFixed(0),
            loadPqNoGuard.toFixed(2),
          ],
        ],
      ),
    );
    const row = (label: string, r: WrkResult): string[] => [
      label,
      fmtInt(r.rps),
      `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`,
    ];
    const twoRps = two[0]!.rps + two[1]!.rps;
    const twoP99 = Math.max(two[0]!.p99, two[1]!.p99);
    console.log(
      `\nLookups of random logged records of the ${fmtInt(o.records)} (wrk -t1, ${o.durationS} s after a ${warm} s warm-up)\n`,
    );
    console.log(
      table(
        ['servers', 'lookups/s', 'ms p50 / p99'],
        [
          row(`SQLite, one node, -c${o.connections}`, sqOne),
          row('SQLite, one node, -c1', sqC1),
          row(`PostgreSQL, one node, -c${o.connections}`, pgOne),
          row('PostgreSQL, one node, -c1', pgC1),
          [
            `PostgreSQL, two nodes, -c${half} each (sum; worse p99)`,
            fmtInt(twoRps),
            `${fmtMs(Math.max(two[0]!.p50, two[1]!.p50))} / ${fmtMs(twoP99)}`,
          ],
        ],
      ),
    );
    console.log(
      `\nload average (1 min) before / after the lookup runs: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}; ` +
        `the servers, PostgreSQL and wrk share ${os.cpus().length} cores`,
    );
    console.log('\nGoals');
    const ok = pq.first_ms < 10_000;
    console.log(
      `  ${ok ? 'met   ' : 'MISSED'}  ${fmtInt(o.records)} records sequenced into PostgreSQL in under 10 s: ${fmtS(pq.first_ms)} s (with the rollback guard, as serve runs; load average ${loadPq.toFixed(2)} on ${os.cpus().length} cores)`,
    );
    const out = path.join(repo, 'bench', 'out', 'server', 'results-postgres.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify(
        {
          options: o,
          sqlite: sq,
          postgres: pq,
          postgresNoGuard: pqNoGuard,
          sqOne,
          sqC1,
          pgOne,
          pgC1,
          two,
          loadSq,
          loadPq,
          loadPqNoGuard,
          loadBefore,
          loadAfter,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`\nraw results: ${path.relative(repo, out)}`);
  } finally {
    for (const c of children.reverse()) await c.stop();
    for (const name of [dbName, `${dbName}_noguard`])
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await adminClient.end().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
