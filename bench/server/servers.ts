/**
 * The two servers under test, each a child process announcing itself with one line on stdout:
 *  - sumkeep: the real CLI, `node <compiled>/src/cli/main.js serve ... --upstream off`, which prints
 *    `GOSUMDB=<vkey> <url>`;
 *  - go: bench/go/refserver (Go's sumdb.NewServer over memory), which prints one JSON line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { goEnv } from '../../test/helpers/go.ts';

export interface Child {
  proc: ChildProcess;
  /** The first stdout line. */
  line: string;
  /** Resident set size now, in KiB (VmRSS). */
  rssKib(): number;
  /** SIGTERM, wait for exit. */
  stop(): Promise<void>;
}

/** Spawns `cmd` and waits up to `timeoutMs` for its first stdout line; stderr passes through. */
export async function startChild(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; label: string },
): Promise<Child> {
  const proc = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    process.stderr.write(d);
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${opts.label} did not start within ${opts.timeoutMs / 1000} s:\n${err}`));
    }, opts.timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${opts.label} exited (${code ?? sig}) before it was ready:\n${err}`));
    });
  });
  proc.stdout!.resume();
  return {
    proc,
    line,
    rssKib: () => {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : NaN;
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Builds bench/go/refserver into bench/bin/refserver offline (Debian's x/mod sources); returns the binary. */
export function buildRefServer(repo: string, go: string): string {
  const out = path.join(repo, 'bench', 'bin', 'refserver');
  const state = path.join(repo, 'bench', 'out', 'go');
  fs.mkdirSync(state, { recursive: true });
  const env = goEnv(state, { GOPROXY: 'off' });
  const r = spawnSync(go, ['build', '-o', out, '.'], {
    cwd: path.join(repo, 'bench', 'go', 'refserver'),
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`go build of bench/go/refserver failed:\n${r.stderr}`);
  return out;
}
