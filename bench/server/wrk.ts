/**
 * The load generator: wrk (Debian package `wrk`), run with one command line for both servers, and
 * its text report parsed. wrk is a closed loop: each of its connections sends the next request as
 * soon as the previous answer arrives, so every run saturates the server and the latency it
 * reports includes the queueing of the other connections' requests.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LUA_RECORD_TARGET } from './records.ts';

export interface WrkOptions {
  /** Open connections (wrk -c); threads are always 1 (wrk -t1): the machine has few cores. */
  connections: number;
  durationS: number;
  /** A Lua script file (wrk -s) choosing each request's path; without one every request is `url`. */
  script?: string;
}

export interface WrkResult {
  requests: number;
  rps: number;
  /** Latency percentiles in milliseconds (wrk --latency). */
  p50: number;
  p90: number;
  p99: number;
  /** The exact command line run, with the URL. */
  command: string;
}

/** The wrk binary on PATH or in /usr/bin, or null. */
export function findWrk(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const d of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const p = path.join(d, 'wrk');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const UNIT_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000 };

function percentile(out: string, p: number): number {
  const m = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
  if (!m) throw new Error(`wrk printed no ${p}% latency:\n${out}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Parses wrk's report; throws when any request failed (socket error or non-2xx/3xx answer). */
export function parseWrk(out: string, command: string): WrkResult {
  const rps = /^Requests\/sec:\s+([0-9.]+)/m.exec(out);
  const total = /^\s*(\d+) requests in /m.exec(out);
  if (!rps || !total) throw new Error(`cannot read wrk's report:\n${out}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`${command}: ${non2xx[1]} answers were not 2xx/3xx:\n${out}`);
  const sock = /Socket errors: (.*)/.exec(out);
  if (sock) throw new Error(`${command}: socket errors (${sock[1]}):\n${out}`);
  return {
    requests: Number(total[1]),
    rps: Number(rps[1]),
    p50: percentile(out, 50),
    p90: percentile(out, 90),
    p99: percentile(out, 99),
    command,
  };
}

export function runWrk(wrk: string, url: string, o: WrkOptions): WrkResult {
  const args = ['-t1', `-c${o.connections}`, `-d${o.durationS}s`, '--latency'];
  if (o.script !== undefined) args.push('-s', o.script);
  args.push(url);
  const command = `wrk ${args.join(' ')}`;
  const r = spawnSync(wrk, args, { encoding: 'utf8', timeout: (o.durationS + 60) * 1000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} exited with ${r.status}:\n${r.stderr}${r.stdout}`);
  return parseWrk(r.stdout, command);
}

/**
 * Lua for wrk: each request looks up a uniformly random record of the n-record log (records.ts),
 * from a fixed seed so that both servers get the same sequence.
 */
export function randomLookupScript(n: number, seed: number): string {
  return `${LUA_RECORD_TARGET}
math.randomseed(${seed})
request = function()
  return wrk.format(nil, "/lookup/" .. record_target(math.random(0, ${n - 1})))
end
`;
}

/** Lua for wrk: each request fetches a uniformly random full level-0 hash tile of an n-record log. */
export function randomTileScript(n: number, seed: number): string {
  const full = Math.floor(n / 256);
  if (full < 1) throw new Error('the log has no full tile');
  return `
local function tile_n(n)
  local s = string.format("%03d", n % 1000)
  n = math.floor(n / 1000)
  while n > 0 do
    s = string.format("x%03d/", n % 1000) .. s
    n = math.floor(n / 1000)
  end
  return s
end
math.randomseed(${seed})
request = function()
  return wrk.format(nil, "/tile/8/0/" .. tile_n(math.random(0, ${full - 1})))
end
`;
}
