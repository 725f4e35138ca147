/**
 * Running the real go command in tests, isolated from the machine and from the network.
 *
 * Two real clients (goClients()): the machine's `go` (Go 1.26, what users run) and Debian's Go
 * 1.19 (`golang-1.19-go`, /usr/lib/go-1.19/bin/go, or $SUMKEEP_TEST_GO119). A test that checks
 * what a go user sees runs once per client, with the client's version in its title, against one
 * server per test file; each client keeps its own GOPATH (module cache, pkg/sumdb state).
 *
 * goEnv gives every run its own HOME, GOPATH and GOMODCACHE under a directory of the caller's, no
 * inherited GO* variable (GOFLAGS, GONOSUMDB, GOPRIVATE, GOROOT, ... are simply not passed on), the
 * go env file ignored (GOENV=off), GOTOOLCHAIN=local (never fetch another toolchain: Go 1.21+ would
 * otherwise download the one a go.mod names), GOFLAGS with -mod=mod, and no network: the caller
 * says which GOPROXY (off, a file:// directory or a loopback server) and GOSUMDB to use, and
 * anything else is refused. As a second wall, HTTP(S)_PROXY point at a closed loopback port
 * (Go's net/http never proxies loopback hosts, so the test's own servers stay reachable, while any
 * other host fails with "proxyconnect ... connection refused" before a DNS lookup) and GOVCS=*:off
 * forbids git/hg/svn fetches.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Where any non-loopback HTTP(S) request of the go command goes: a port nothing listens on. */
export const DEAD_PROXY = 'http://127.0.0.1:1';

let cached: string | null | undefined;

/** The machine's go binary: `go` on PATH, else /usr/bin/go, /usr/lib/go/bin/go or /usr/local/go/bin/go. */
export function findGo(): string | null {
  if (cached !== undefined) return cached;
  const candidates = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '')
    .map((d) => path.join(d, 'go'))
    .concat(['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']);
  cached = null;
  for (const c of candidates) {
    if (isExecutable(c)) {
      cached = c;
      break;
    }
  }
  return cached;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Fails the test under CI=true (a missing toolchain must not pass silently), else skips it. */
function missing(t: TestContext, why: string): null {
  if (process.env.CI === 'true') assert.fail(`${why} (required under CI)`);
  t.skip(`${why}; skipping the real-client check`);
  return null;
}

/**
 * The machine's go binary for a test that needs one go (building a Go program, the byte oracles).
 * Without go the test fails under CI and is skipped elsewhere, with the reason; then null is
 * returned and the test should return at once. Tests of what a go user sees use goClients().
 */
export function requireGo(t: TestContext): string | null {
  const go = findGo();
  if (go !== null) return go;
  return missing(t, 'the go command is not installed (apt-get install golang-go)');
}

/** One real go client. */
export interface GoClient {
  /** Stable short id, for directory names: "go" (the machine's go) or "go119" (Debian's Go 1.19). */
  id: 'go' | 'go119';
  /** For test titles: the version (`go1.26.8`), or which client is missing. */
  name: string;
  /** The binary; null when it is missing or not the expected version. */
  bin: string | null;
  /** The `go version` line ("go version go1.19.8 linux/amd64"); null when missing. */
  version: string | null;
  /** When bin is null: what is wrong and the command that fixes it. */
  problem: string | null;
}

/** The Go 1.19 client's binary: $SUMKEEP_TEST_GO119, else Debian's golang-1.19-go. */
export const GO119 = '/usr/lib/go-1.19/bin/go';

/** `go version` of a binary, run outside any module with GOTOOLCHAIN=local (so it names itself). */
function versionOf(bin: string): string | null {
  const r = spawnSync(bin, ['version'], {
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), GOENV: 'off', GOTOOLCHAIN: 'local' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0 || r.error !== undefined) return null;
  const line = r.stdout.trim();
  return /^go version go\d/.test(line) ? line : null;
}

function client(id: GoClient['id'], bin: string | null, label: string, fix: string, want?: RegExp): GoClient {
  if (bin === null || !isExecutable(bin)) {
    return {
      id,
      name: `${label} (missing)`,
      bin: null,
      version: null,
      problem: `${label} not found: ${fix}`,
    };
  }
  const version = versionOf(bin);
  const v = version?.split(' ')[2];
  if (version === null || v === undefined) {
    return {
      id,
      name: `${label} (broken)`,
      bin: null,
      version: null,
      problem: `${bin} does not run \`go version\`: ${fix}`,
    };
  }
  if (want !== undefined && !want.test(v)) {
    return {
      id,
      name: `${label} (wrong version)`,
      bin: null,
      version,
      problem: `${bin} is ${v}, not ${label}: ${fix}`,
    };
  }
  return { id, name: v, bin, version, problem: null };
}

let clients: readonly GoClient[] | undefined;

/**
 * The real clients every user-facing go test runs with: the machine's go, then Go 1.19. Always two
 * entries, so test titles are the same on every machine; a missing one has bin null.
 */
export function goClients(): readonly GoClient[] {
  clients ??= [
    client(
      'go',
      findGo(),
      'the machine go (Go 1.26)',
      'install Go 1.26 as `go` on PATH, or apt-get install golang-go',
    ),
    client(
      'go119',
      process.env.SUMKEEP_TEST_GO119 ?? GO119,
      'Go 1.19',
      `apt-get install golang-1.19-go (installs ${GO119}), or set SUMKEEP_TEST_GO119`,
      /^go1\.19(\.|$)/,
    ),
  ];
  return clients;
}

/**
 * The client's binary for a test that needs it; when it is missing, the test fails under CI=true
 * (with the command that fixes it) and is skipped elsewhere, and null is returned: return at once.
 */
export function requireClient(t: TestContext, c: GoClient): string | null {
  if (c.bin !== null) return c.bin;
  return missing(t, c.problem ?? `${c.name} is not available`);
}

/** Every client, for a test that compares them all at once; null (failed or skipped) if one is missing. */
export function requireClients(t: TestContext): GoClient[] | null {
  const all = goClients();
  const absent = all.find((c) => c.bin === null);
  if (absent !== undefined) return missing(t, absent.problem ?? `${absent.name} is not available`);
  return [...all];
}

/** "go1.26.8, go1.19.8": the clients' names, for the title of a test that runs them all. */
export function clientNames(): string {
  return goClients()
    .map((c) => c.name)
    .join(', ');
}

/** A fresh temporary directory (removed by the caller or left in the OS temp dir). */
export function tempDir(prefix = 'sumkeep-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface GoEnvOptions {
  /**
   * Required: where modules come from, as a GOPROXY list whose entries are each "off", a file://
   * URL, or an http(s) URL on a loopback host. "direct" and any other host are refused.
   */
  GOPROXY: string;
  /** "off" (the default), or "<verifier key> <loopback URL>"; a key alone only with a loopback proxy. */
  GOSUMDB?: string;
  /**
   * The go binary the environment is for. With it, and $SUMKEEP_TEST_GOCACHE set (npm test sets it
   * to a directory of its own for the run), the build cache is shared by every test of the run
   * that uses this binary: build outputs are keyed by content and toolchain, so sharing changes no
   * result, and Go 1.20+ (no precompiled standard library) compiles it once instead of per test.
   * Without it the build cache is `root/gocache`, as private as the GOPATH.
   */
  go?: string;
  /** Extra variables. GOFLAGS given here are added to "-modcacherw -mod=mod -buildvcs=false". */
  extra?: Record<string, string>;
}

/** The GOFLAGS every run has: writable module cache (so temp dirs can be removed), -mod=mod. */
const BASE_GOFLAGS = [
  '-modcacherw',
  '-mod=mod',
  // No VCS stamping: a build inside the repository's work tree (bench/go) would run git, and a
  // temp dir has no VCS at all; stamping adds nothing a test checks.
  '-buildvcs=false',
];

/** Variables that make go hermetic: a caller may not override them through `extra`. */
const GUARDED = new Set([
  'GOPROXY',
  'GOSUMDB',
  'GOTOOLCHAIN',
  'GOENV',
  'GOVCS',
  'GOWORK',
  'GOROOT',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
]);

function isLoopbackUrl(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(u.hostname);
}

/** Throws unless every entry of the GOPROXY list is off, file:// or a loopback http(s) URL. */
function checkGoproxy(list: string): { allLoopback: boolean } {
  if (list === '') throw new Error('goEnv: GOPROXY must be given (tests never reach the network)');
  const entries = list.split(/[,|]/);
  for (const e of entries) {
    if (e === 'off' || e.startsWith('file://') || isLoopbackUrl(e)) continue;
    throw new Error(`goEnv: GOPROXY entry ${JSON.stringify(e)} would reach the network`);
  }
  return { allLoopback: entries.every(isLoopbackUrl) };
}

function checkGosumdb(value: string, proxyIsLoopback: boolean): void {
  if (value === 'off') return;
  const parts = value.trim().split(/\s+/);
  if (parts.length === 2 && isLoopbackUrl(parts[1]!)) return;
  // A key without a URL is reached through the GOPROXY (<proxy>/sumdb/<name>/...), else directly
  // at https://<name>: allowed only when every proxy is a loopback server.
  if (parts.length === 1 && proxyIsLoopback) return;
  throw new Error(`goEnv: GOSUMDB ${JSON.stringify(value)} would reach the network`);
}

function goflagsWith(extra: string | undefined): string {
  const flags = [...BASE_GOFLAGS];
  for (const f of (extra ?? '').split(/\s+/).filter((x) => x !== '')) {
    if (flags.includes(f)) continue;
    if (f.startsWith('-mod=')) throw new Error(`goEnv: GOFLAGS always has -mod=mod, not ${f}`);
    flags.push(f);
  }
  return flags.join(' ');
}

function buildCache(root: string, go: string | undefined): string {
  const shared = process.env.SUMKEEP_TEST_GOCACHE;
  if (go === undefined || shared === undefined || shared === '') return path.join(root, 'gocache');
  return path.join(shared, fs.realpathSync(go).replace(/[^A-Za-z0-9.-]+/g, '_'));
}

/** A clean, offline environment for go with all state under `root` (created). */
export function goEnv(root: string, opts: GoEnvOptions): NodeJS.ProcessEnv {
  const { allLoopback } = checkGoproxy(opts.GOPROXY);
  const gosumdb = opts.GOSUMDB ?? 'off';
  checkGosumdb(gosumdb, allLoopback);
  const extra = { ...opts.extra };
  for (const k of Object.keys(extra)) {
    if (GUARDED.has(k)) throw new Error(`goEnv: ${k} is set by goEnv itself (hermetic runs)`);
  }
  const goflags = goflagsWith(extra.GOFLAGS);
  delete extra.GOFLAGS;
  const gopath = path.join(root, 'gopath');
  const home = path.join(root, 'home');
  const config = path.join(home, '.config');
  fs.mkdirSync(gopath, { recursive: true });
  // Go 1.23+ telemetry takes its mode from <os.UserConfigDir()>/go/telemetry/mode, not from the
  // environment (GOTELEMETRY is read-only): "off" there means no counters and no upload child.
  fs.mkdirSync(path.join(config, 'go', 'telemetry'), { recursive: true });
  fs.writeFileSync(path.join(config, 'go', 'telemetry', 'mode'), 'off');
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: config,
    TMPDIR: os.tmpdir(),
    GOPATH: gopath,
    GOMODCACHE: path.join(gopath, 'pkg', 'mod'),
    GOCACHE: buildCache(root, opts.go),
    GOENV: 'off',
    GOFLAGS: goflags,
    GO111MODULE: 'on',
    GOWORK: 'off',
    GOTOOLCHAIN: 'local',
    GOVCS: '*:off',
    HTTP_PROXY: DEAD_PROXY,
    HTTPS_PROXY: DEAD_PROXY,
    NO_PROXY: '',
    CGO_ENABLED: '0',
    GOPROXY: opts.GOPROXY,
    GOSUMDB: gosumdb,
    ...extra,
  };
}

export interface GoRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Sleeps the thread (the callers are synchronous already: they wait in spawnSync). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding `<cache>.lock` (a directory: mkdir is atomic), so that the test processes of
 * a run build with one shared build cache one at a time: two cold builds at once would both
 * compile the same standard-library packages (go build already uses every core), while the second
 * of two in a row finds them in the cache. A lock whose holder has died is taken over.
 */
function withCacheLock<T>(cache: string, waitMs: number, fn: () => T): T {
  const lock = `${cache}.lock`;
  const owner = path.join(lock, 'pid');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(owner, String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(owner, 'utf8'));
    } catch {
      // the holder has created the lock but not written its pid yet, or has just released it
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`waited ${waitMs} ms for the go build cache lock ${lock}`);
    sleep(200);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Whether `cache` is a build cache shared by the test processes of this run (see goEnv). */
function isSharedCache(cache: string | undefined): cache is string {
  const shared = process.env.SUMKEEP_TEST_GOCACHE;
  return cache !== undefined && shared !== undefined && shared !== '' && path.dirname(cache) === shared;
}

/**
 * Runs `go <args>` in `cwd` with `env` (from goEnv); never throws for a non-zero exit. `go build`
 * with a shared build cache waits for the other test processes' builds (withCacheLock), and may
 * take minutes on a cold cache (Go 1.20+ compiles the standard library it needs): its default
 * timeout is 10 minutes, other commands' 2.
 */
export function runGo(
  go: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): GoRun {
  const building = args[0] === 'build';
  const timeout = opts.timeoutMs ?? (building ? 600_000 : 120_000);
  const run = (): GoRun => {
    const r = spawnSync(go, args, {
      cwd: opts.cwd,
      env: opts.env,
      encoding: 'utf8',
      timeout,
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const cache = opts.env.GOCACHE;
  return building && isSharedCache(cache) ? withCacheLock(cache, timeout, run) : run();
}

/**
 * runGo without blocking the event loop: for a go command that talks to a server running in the
 * test's own process (an in-process fastify app cannot answer while spawnSync waits).
 */
export function runGoAsync(
  go: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<GoRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(go, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
