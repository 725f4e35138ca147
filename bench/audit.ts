/**
 * `npm run bench -- audit [--records N] [--keep]`: time and peak memory of `sumkeep audit` over
 * SQLite logs of N/10 and N records (default N = 1,000,000), built through the real Sequencer
 * (batches of the serve default). The audit runs as the compiled CLI (`node bin/sumkeep.js
 * audit`, as a user runs it) under GNU time, whose %M is the child's own peak RSS.
 *
 * What it shows: the audit's memory does not grow with the log (records are read in batches,
 * heads paged, the Merkle frontier is O(log n)), so the peak at N is the peak at any size;
 * time grows linearly, so the projection for 60M records (sum.golang.org's size) is 60M/N times
 * the time at N, on this machine.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { utf8 } from '../src/core/bytes.ts';
import { createNoteKey, loadNoteKeys } from '../src/keys/notekey.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { Sequencer } from '../src/log/sequencer.ts';
import { defaultOf } from '../src/settings.ts';
import { recordAt } from './server/records.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

async function grow(db: string, keys: string, from: number, to: number): Promise<void> {
  const store = await openSqliteStore(db);
  const seq = await Sequencer.open(store, loadNoteKeys(keys).signers, {
    maxDelayMs: defaultOf('batchDelayMs'),
    maxBatch: defaultOf('batchMax'),
  });
  for (let lo = from; lo < to; lo += 50_000) {
    const adds = [];
    for (let i = lo; i < Math.min(to, lo + 50_000); i++) {
      const r = recordAt(i);
      adds.push(seq.add({ path: r.path, version: r.version, text: utf8(r.text), source: 'bench' }));
    }
    await Promise.all(adds);
  }
  await seq.close();
  await store.close();
}

function audit(db: string, keys: string): { seconds: number; peakMiB: number; out: string } {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %M', process.execPath, 'bin/sumkeep.js', 'audit', '--db', db, '--keys', keys],
    {
      cwd: repo,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  const m = /(\d+(?:\.\d+)?) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`audit failed (${r.status}): ${r.stdout}${r.stderr}`);
  return { seconds: Number(m[1]), peakMiB: Number(m[2]) / 1024, out: r.stdout.trim().split('\n')[0]! };
}

export async function main(args: string[]): Promise<void> {
  let n = 1_000_000;
  let keep = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--records') n = Number(args[++i]);
    else if (args[i] === '--keep') keep = true;
    else throw new Error(`unknown argument ${args[i]}`);
  }
  if (!Number.isSafeInteger(n) || n < 10) throw new Error('--records must be at least 10');
  if (!fs.existsSync(path.join(repo, 'dist/cli/main.js'))) throw new Error('run `npm run build` first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-bench-audit-'));
  const keys = path.join(dir, 'keys');
  createNoteKey(keys, 'bench.audit.local');
  const db = path.join(dir, 'log.db');
  const rows: string[] = [];
  let built = 0;
  try {
    for (const size of [Math.floor(n / 10), n]) {
      process.stderr.write(`building a log of ${size} records ...\n`);
      await grow(db, keys, built, size);
      built = size;
      const r = audit(db, keys);
      if (!r.out.includes(`tree size ${size},`)) throw new Error(`unexpected audit output: ${r.out}`);
      rows.push(
        `| ${size.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(size / r.seconds).toLocaleString('en')} | ${r.peakMiB.toFixed(0)} |`,
      );
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('| records | audit s | records/s | peak RSS MiB |\n| --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}
