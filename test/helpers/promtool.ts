/**
 * The real promtool (Debian's `prometheus` package, installed by .ci/run) for the metrics and
 * alert-rule tests. Without it a test fails under CI=true and is skipped elsewhere, with the
 * reason, as the go and PostgreSQL tests do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** promtool on PATH, else /usr/bin/promtool; null when neither is there. */
export function findPromtool(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const c of [...dirs.map((d) => path.join(d, 'promtool')), '/usr/bin/promtool']) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** promtool for test `t`, or null after failing (CI=true) or skipping it (see the file comment). */
export function requirePromtool(t: TestContext): string | null {
  const found = findPromtool();
  if (found !== null) return found;
  const why = 'promtool is not installed (apt-get install prometheus)';
  if (process.env.CI === 'true') assert.fail(`${why} (required under CI)`);
  t.skip(why);
  return null;
}

/** Runs promtool with `args` (and `input` on stdin); its exit status and both outputs. */
export function runPromtool(
  promtool: string,
  args: string[],
  opts: { input?: string; cwd?: string } = {},
): { status: number | null; out: string } {
  const r = spawnSync(promtool, args, {
    input: opts.input ?? '',
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * The families of a text-format scrape whose names start with `prefix`: their # HELP / # TYPE
 * lines and samples, in scrape order (what `promtool check metrics` is given).
 */
export function familiesWithPrefix(scrape: string, prefix: string): string {
  const keep = scrape.split('\n').filter((l) => {
    const name = l.startsWith('# ') ? (l.split(' ')[2] ?? '') : l;
    return name.startsWith(prefix);
  });
  return keep.join('\n') + '\n';
}

/** Family name → type ("counter", "gauge", "histogram", ...) from the # TYPE lines of a scrape. */
export function familyTypes(scrape: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  return types;
}

/** The value of the sample `name{labels}` (labels exactly as exported, e.g. 'status="match"'). */
export function sampleValue(scrape: string, name: string, labels = ''): number | null {
  const head = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = scrape.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? null : Number(line.slice(head.length));
}
