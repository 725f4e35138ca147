/**
 * `npm run bench -- startup [--runs N] [--warmup N] [--no-build]`: what a CLI call costs before it
 * does anything (issue 7 item 19: `sumkeep --help` and `sumkeep hash mod` at most 100 ms over a
 * bare Node start). Builds dist/ (`npm run build`, unless --no-build) and times, with hyperfine
 * (installed on the machine; `apt-get install hyperfine`), in the same run:
 *
 *   node -e 0                               the baseline: Node starting and exiting
 *   node bin/sumkeep.js --help              the command as installed (bin/ runs dist/)
 *   node bin/sumkeep.js hash mod <go.mod>   a small command that does real work
 *
 * and prints each one's mean, its excess over the baseline and the ratio. /proc/loadavg is printed
 * before and after: on a loaded machine every figure grows, the excess less than the totals.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

interface HyperfineResult {
  command: string;
  mean: number;
  stddev: number;
  median: number;
  min: number;
  max: number;
}

function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const n = Number(args[i + 1]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} wants a whole number`);
  return n;
}

const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').trim();
const ms = (s: number): string => (s * 1000).toFixed(1);

export async function main(args: string[]): Promise<void> {
  const runs = option(args, '--runs', 20);
  const warmup = option(args, '--warmup', 3);
  if (!args.includes('--no-build')) {
    console.log('building dist/ (npm run build) ...');
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: repo, stdio: 'inherit' });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-startup-'));
  const gomod = path.join(dir, 'go.mod');
  fs.writeFileSync(gomod, 'module example.com/bench\n\ngo 1.21\n');
  const out = path.join(dir, 'hyperfine.json');
  const commands = ['node -e 0', 'node bin/sumkeep.js --help', `node bin/sumkeep.js hash mod ${gomod}`];
  const before = loadavg();
  execFileSync(
    'hyperfine',
    ['-N', '-w', String(warmup), '-r', String(runs), '--export-json', out, ...commands],
    { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const after = loadavg();
  const results = (JSON.parse(fs.readFileSync(out, 'utf8')) as { results: HyperfineResult[] }).results;
  fs.rmSync(dir, { recursive: true, force: true });
  const base = results[0]!;
  console.log(`/proc/loadavg before: ${before}`);
  console.log(`/proc/loadavg after:  ${after}`);
  console.log(`${runs} runs each after ${warmup} warm-up runs (hyperfine -N)\n`);
  console.log('| command | ms mean ± sd | ms median | ms min | over `node -e 0` (mean) | ratio |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const shown = r.command.replace(gomod, '<go.mod>');
    console.log(
      `| \`${shown}\` | ${ms(r.mean)} ± ${ms(r.stddev)} | ${ms(r.median)} | ${ms(r.min)} | ` +
        `${r === base ? '(baseline)' : '+' + ms(r.mean - base.mean)} | ${(r.mean / base.mean).toFixed(2)}x |`,
    );
  }
}
