/**
 * `npm run bench -- stall [--lookups N] [--requests N] [--concurrency C] [--upstream-concurrency U]`:
 * what a stalled upstream costs everyone else. The real `sumkeep serve` (compiled JavaScript, see
 * server/compile.ts) runs against a loopback GOPROXY that serves one module (example.com/warm)
 * and never answers anything else. Measured, in the same run:
 *
 *  1. baseline: latency of `GET /healthz` and of a warm lookup (`/lookup/example.com/warm@v1.0.0`,
 *     answered from the log) with no other load;
 *  2. stalled: the same, while --lookups (default 300) first-time lookups of other versions wait
 *     on the stalled upstream, each on its own connection. Before measuring, the run checks that
 *     the load is in place: the upstream holds exactly --upstream-concurrency requests (default
 *     16, the serve default) and /metrics counts the rest as queued.
 *
 * Then the waiting clients disconnect, and the run reports how long until the upstream has seen
 * every running request aborted and the queue is empty, and how many upstream requests were made
 * in all (no more than the ones that ran: a queued lookup whose client left never reaches the
 * upstream). Last, the baseline is measured again, as a check on the machine's noise.
 *
 * Each latency figure: --requests (default 2,000) requests per endpoint, from --concurrency
 * (default 4) keep-alive connections in parallel, timed from the request's start to its last
 * byte. All of it within the upstream's 30 s connect timeout, so that no stalled request is
 * retried during the measurement. The client, the stalled upstream and the server share the
 * machine; `uptime` is printed before and after.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoProxy } from '../test/helpers/goproxy.ts';
import { compileForBench } from './server/compile.ts';
import { startChild, type Child } from './server/servers.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

interface Options {
  lookups: number;
  requests: number;
  concurrency: number;
  upstreamConcurrency: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = { lookups: 300, requests: 2000, concurrency: 4, upstreamConcurrency: 16 };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 1)
      throw new Error(`${flag} wants a positive integer`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--lookups') o.lookups = num(a, args[++i]);
    else if (a === '--requests') o.requests = num(a, args[++i]);
    else if (a === '--concurrency') o.concurrency = num(a, args[++i]);
    else if (a === '--upstream-concurrency') o.upstreamConcurrency = num(a, args[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** The loopback GOPROXY: files under `dir` for example.com/warm, silence for everything else. */
class StalledProxy {
  inFlight = 0;
  maxInFlight = 0;
  stalled = 0;
  aborted = 0;
  url = '';
  private readonly server: http.Server;

  constructor(private readonly dir: string) {
    this.server = http.createServer((req, res) => {
      const p = req.url ?? '';
      if (p.startsWith('/example.com/warm/') && !p.includes('..')) {
        const file = path.join(this.dir, ...p.split('/'));
        if (fs.existsSync(file)) {
          res.end(fs.readFileSync(file));
          return;
        }
        res.statusCode = 404;
        res.end();
        return;
      }
      this.stalled++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => {
        this.inFlight--;
        this.aborted++;
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function get(agent: http.Agent | false, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

interface Latency {
  p50: number;
  p99: number;
  max: number;
  rps: number;
}

/** `n` GETs of `url` from `c` keep-alive connections; every answer must be 200. */
async function measure(url: string, n: number, c: number): Promise<Latency> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (next++ < n) {
          const t = performance.now();
          const r = await get(agent, url);
          times.push(performance.now() - t);
          if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 200)}`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const elapsed = performance.now() - started;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: times[times.length - 1]!, rps: (times.length / elapsed) * 1000 };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms: number): Promise<number> {
  const t = performance.now();
  while (!(await cond())) {
    if (performance.now() - t > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t;
}

const uptime = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();
const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

export async function main(args: string[]): Promise<void> {
  const o = parseOptions(args);
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-stall-'));
  let server: Child | undefined;
  const proxyDir = path.join(dir, 'proxy');
  buildGoProxy(proxyDir, [
    { path: 'example.com/warm', version: 'v1.0.0', files: { 'go.mod': 'module example.com/warm\n' } },
  ]);
  const upstream = new StalledProxy(proxyDir);
  const waiting: http.ClientRequest[] = [];
  /** Status codes of stalled lookups that were answered (none should be, while measuring). */
  const answered: number[] = [];
  try {
    await upstream.start();
    log('compiling sumkeep (bench/out/stall/js) ...');
    const js = compileForBench(repo, path.join(repo, 'bench', 'out', 'stall', 'js'));
    const uptimeBefore = uptime();
    server = await startChild(
      process.execPath,
      [
        path.join(js, 'src', 'cli', 'main.js'),
        'serve',
        '--dev',
        '--keys',
        path.join(dir, 'keys'),
        '--db',
        path.join(dir, 'sumkeep.db'),
        '--upstream',
        upstream.url,
        '--upstream-concurrency',
        String(o.upstreamConcurrency),
        '--listen',
        '127.0.0.1:0',
        '--log-level',
        'warn',
      ],
      { cwd: repo, timeoutMs: 120_000, label: 'sumkeep serve' },
    );
    const base = /^GOSUMDB=\S+ (\S+)$/.exec(server.line)?.[1];
    if (base === undefined) throw new Error(`unexpected line from sumkeep serve: ${server.line}`);
    const warmUrl = `${base}/lookup/example.com/warm@v1.0.0`;
    const warm = await get(false, warmUrl);
    if (warm.status !== 200) throw new Error(`warm lookup: ${warm.status} ${warm.body}`);

    // A short run of each first, so that both phases see a warmed-up server.
    await measure(`${base}/healthz`, 200, o.concurrency);
    await measure(warmUrl, 200, o.concurrency);
    log('baseline ...');
    const baseline = {
      healthz: await measure(`${base}/healthz`, o.requests, o.concurrency),
      lookup: await measure(warmUrl, o.requests, o.concurrency),
    };

    log(`starting ${o.lookups} first-time lookups against the stalled upstream ...`);
    const fired = performance.now();
    for (let i = 0; i < o.lookups; i++) {
      const req = http.get(`${base}/lookup/example.com/stall@v1.0.${i}`, { agent: false });
      req.on('error', () => undefined); // destroyed below
      req.on('response', (res) => {
        answered.push(res.statusCode ?? 0);
        res.resume();
      });
      waiting.push(req);
    }
    const running = Math.min(o.lookups, o.upstreamConcurrency);
    const queued = o.lookups - running;
    const metric = async (name: string): Promise<number> => {
      const m = new RegExp(`^${name} (\\d+)$`, 'm').exec((await get(false, `${base}/metrics`)).body);
      return m ? Number(m[1]) : NaN;
    };
    await until(
      async () =>
        upstream.inFlight === running && (await metric('sumkeep_upstream_requests_queued')) === queued,
      `${running} stalled upstream requests and ${queued} queued lookups`,
      20_000,
    );
    const settled = performance.now() - fired;
    log('stalled ...');
    const stalled = {
      healthz: await measure(`${base}/healthz`, o.requests, o.concurrency),
      lookup: await measure(warmUrl, o.requests, o.concurrency),
    };
    const window = performance.now() - fired;
    const stillQueued = await metric('sumkeep_upstream_requests_queued');
    if (upstream.maxInFlight > o.upstreamConcurrency) {
      throw new Error(`the upstream saw ${upstream.maxInFlight} requests at once`);
    }
    if (answered.length > 0) throw new Error(`stalled lookups were answered: ${answered.join(', ')}`);
    if (upstream.stalled !== running || stillQueued !== queued) {
      throw new Error(`the load changed while measuring: ${upstream.stalled} asked, ${stillQueued} queued`);
    }

    log('the waiting clients disconnect ...');
    const left = performance.now();
    for (const r of waiting) r.destroy();
    await until(
      async () =>
        upstream.aborted === running &&
        (await metric('sumkeep_upstream_requests_in_flight')) === 0 &&
        (await metric('sumkeep_upstream_requests_queued')) === 0,
      'every stalled request to be aborted',
      20_000,
    );
    const drained = performance.now() - left;
    log('baseline again ...');
    const after = {
      healthz: await measure(`${base}/healthz`, o.requests, o.concurrency),
      lookup: await measure(warmUrl, o.requests, o.concurrency),
    };
    const uptimeAfter = uptime();

    console.log(
      `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n` +
        `uptime before: ${uptimeBefore}\nuptime after:  ${uptimeAfter}\n` +
        `sumkeep serve --upstream-concurrency ${o.upstreamConcurrency}; ${o.lookups} first-time lookups, each on its own connection; ` +
        `${o.requests} requests per row from ${o.concurrency} keep-alive connections\n`,
    );
    const row = (what: string, l: Latency): string =>
      `| ${what} | ${fmt(l.p50)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${Math.round(l.rps).toLocaleString('en-US')} |`;
    console.log('| requests | ms p50 | ms p99 | ms max | req/s |');
    console.log('| --- | --- | --- | --- | --- |');
    const under = `${o.lookups} lookups waiting on a stalled upstream`;
    console.log(row('`/healthz`, no other load (before)', baseline.healthz));
    console.log(row(`\`/healthz\`, ${under}`, stalled.healthz));
    console.log(row('`/healthz`, no other load (after)', after.healthz));
    console.log(row('warm lookup, no other load (before)', baseline.lookup));
    console.log(row(`warm lookup, ${under}`, stalled.lookup));
    console.log(row('warm lookup, no other load (after)', after.lookup));
    console.log(
      `\nupstream: at most ${upstream.maxInFlight} requests in flight (limit ${o.upstreamConcurrency}), ` +
        `${upstream.stalled} stalled requests in all; ${queued} lookups queued; load in place ${fmt(settled)} ms after firing; ` +
        `measured within ${(window / 1000).toFixed(1)} s of firing; after the clients left, every running ` +
        `upstream request was aborted and the queue empty within ${fmt(drained)} ms.`,
    );
  } finally {
    for (const r of waiting) r.destroy();
    await server?.stop();
    await upstream.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
