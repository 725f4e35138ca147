#!/usr/bin/env node
// Runs every test/**/*.test.ts file with node:test. Node 20 does not expand globs, so this script
// lists the files itself and passes them explicitly; finding no test file is a failure.
// Usage: npm test [-- <substring filter> ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk(join(root, 'test')).filter(
  (f) => filters.length === 0 || filters.some((s) => f.includes(s)),
);
if (files.length === 0) {
  console.error('run-tests: no test files found' + (filters.length ? ` matching ${filters.join(', ')}` : ''));
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// One go build cache per toolchain for this run (test/helpers/go.ts goEnv): Go 1.20+ ships no
// compiled standard library, so a cache per test would compile it again in every file that builds.
// Module caches and checksum-database state stay per test; the build cache is removed at the end.
const ownCache = process.env.SUMKEEP_TEST_GOCACHE === undefined;
const gocache = ownCache ? mkdtempSync(join(tmpdir(), 'sumkeep-gocache-')) : process.env.SUMKEEP_TEST_GOCACHE;
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, SUMKEEP_TEST_GOCACHE: gocache } },
);
if (ownCache) rmSync(gocache, { recursive: true, force: true });
process.exit(r.status ?? 1);
