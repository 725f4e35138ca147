/**
 * Running the real go command in tests, isolated from the machine: every run gets its own HOME,
 * GOPATH, GOCACHE and GOMODCACHE under a temporary directory, no inherited GO* variable (GOFLAGS,
 * GONOSUMDB, GOPRIVATE, GOTOOLCHAIN, ... are simply not passed on), the go env file ignored
 * (GOENV=off), and no network: the caller must say which GOPROXY (a file:// directory or a local
 * server) and GOSUMDB to use.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

let cached: string | null | undefined;

/** The go binary: `go` on PATH, else /usr/bin/go or /usr/lib/go/bin/go; null when there is none. */
export function findGo(): string | null {
  if (cached !== undefined) return cached;
  const candidates = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '')
    .map((d) => path.join(d, 'go'))
    .concat(['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']);
  cached = null;
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) {
        cached = c;
        break;
      }
    } catch {
      // not here
    }
  }
  return cached;
}

/**
 * The go binary for a test that needs it. Without go the test fails under CI (CI=true: a missing
 * toolchain must not pass silently) and is skipped elsewhere, with the reason; then null is
 * returned and the test should return at once.
 */
export function requireGo(t: TestContext): string | null {
  const go = findGo();
  if (go !== null) return go;
  if (process.env.CI === 'true') {
    assert.fail('the go command is required under CI (apt-get install golang-go) but was not found');
  }
  t.skip('the go command is not installed (apt-get install golang-go); skipping the real-client check');
  return null;
}

/** A fresh temporary directory (removed by the caller or left in the OS temp dir). */
export function tempDir(prefix = 'sumkeep-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface GoEnvOptions {
  /** Required: where modules come from ("off", a file:// URL, or a local http URL). */
  GOPROXY: string;
  /** Default "off". */
  GOSUMDB?: string;
  /** Extra variables (GOFLAGS is "-modcacherw" plus whatever is given here). */
  extra?: Record<string, string>;
}

/** A clean environment for go with all state under `root` (created). */
export function goEnv(root: string, opts: GoEnvOptions): NodeJS.ProcessEnv {
  if (typeof opts.GOPROXY !== 'string' || opts.GOPROXY === '') {
    throw new Error('goEnv: GOPROXY must be given (tests never reach the network)');
  }
  const gopath = path.join(root, 'gopath');
  const home = path.join(root, 'home');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(gopath, { recursive: true });
  const extra = { ...opts.extra };
  const goflags = ['-modcacherw', extra.GOFLAGS ?? ''].filter((f) => f !== '').join(' ');
  delete extra.GOFLAGS;
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: os.tmpdir(),
    GOPATH: gopath,
    GOMODCACHE: path.join(gopath, 'pkg', 'mod'),
    GOCACHE: path.join(root, 'gocache'),
    GOENV: 'off',
    GOFLAGS: goflags,
    GO111MODULE: 'on',
    GOWORK: 'off',
    GOTELEMETRY: 'off',
    CGO_ENABLED: '0',
    GOPROXY: opts.GOPROXY,
    GOSUMDB: opts.GOSUMDB ?? 'off',
    ...extra,
  };
}

export interface GoRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `go <args>` in `cwd` with `env` (from goEnv); never throws for a non-zero exit. */
export function runGo(
  go: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): GoRun {
  const r = spawnSync(go, args, {
    cwd: opts.cwd,
    env: opts.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
