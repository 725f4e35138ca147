/**
 * Starts `sumkeep serve` as a child process on 127.0.0.1 (port chosen by the kernel) and waits for
 * its one-line `GOSUMDB=<vkey> <url>` announcement.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'src/cli/main.ts');

export interface RunningServer {
  url: string;
  vkey: string;
  gosumdb: string;
  proc: ChildProcess;
  stderr: () => string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait (crash). */
  kill(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sumkeep-${prefix}-`));
}

/**
 * The test process's environment without the go command's variables that `serve` reads when no
 * flag gives the upstream or the private patterns (a developer's GOPRIVATE must not change a test).
 */
export function hermeticEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['GOPROXY', 'GOPRIVATE', 'GONOSUMDB']) delete env[name];
  return env;
}

/** Runs the CLI synchronously; returns status, stdout and stderr. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...hermeticEnv(), ...opts.env },
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `ceremony init` for `keysDir`, with the root CA key written next to it in `<keysDir>.root`
 * (as on the offline medium: serve refuses a key directory holding root-ca.key). Returns the
 * verifier key.
 */
export function makeKeys(keysDir: string, name = 'sumdb.test.local', extra: string[] = []): string {
  const r = runCli([
    'ceremony',
    'init',
    '--name',
    name,
    '--keys',
    keysDir,
    '--root',
    `${keysDir}.root`,
    ...extra,
  ]);
  if (r.status !== 0) throw new Error(`ceremony init failed: ${r.stderr}`);
  const m = /^verifier key: (\S+)$/m.exec(r.stdout);
  if (!m) throw new Error(`ceremony init printed no verifier key: ${r.stdout}`);
  return m[1]!;
}

export async function startServer(args: {
  keys: string;
  db: string;
  upstream: string;
  extra?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<RunningServer> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--keys',
      args.keys,
      '--db',
      args.db,
      '--upstream',
      args.upstream,
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      ...(args.extra ?? []),
    ],
    { cwd: REPO, env: { ...hermeticEnv(), ...args.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 60 s; stderr:\n${err}`)),
      60_000,
    );
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before starting; stderr:\n${err}`));
    });
  });
  const m = /^GOSUMDB=(\S+) (\S+)$/.exec(line);
  if (!m) throw new Error(`unexpected first line from serve: ${JSON.stringify(line)}`);
  const wait = async (sig: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(sig);
    await exited;
  };
  return {
    vkey: m[1]!,
    url: m[2]!,
    gosumdb: `${m[1]} ${m[2]}`,
    proc,
    stderr: () => err,
    stop: () => wait('SIGTERM'),
    kill: () => wait('SIGKILL'),
  };
}
