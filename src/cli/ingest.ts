/**
 * `sumkeep ingest <path>...`: offline fill of the log from module zips (see src/log/ingest.ts).
 * On a terminal it draws a progress bar (modules, bytes, rate, ETA); otherwise it prints one plain
 * line per module. Exit 0 when every module was added or already present, 1 on any conflict or
 * invalid module, 2 on usage or runtime errors.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { addSettings, readSettings, storeOptions, type SettingName } from '../settings.ts';
import { eachLimited } from '../concurrency.ts';
import { loadNoteKeys } from '../keys/notekey.ts';
import { openStore } from '../store/open.ts';
import { Sequencer } from '../log/sequencer.ts';
import { ingestOne, scanSources, type IngestOutcome } from '../log/ingest.ts';
import { checkpointLocation } from '../config.ts';
import { rollbackGuard } from './integrity.ts';
import { choosePrivate, settingSource } from '../config.ts';
import { SumkeepError } from '../core/errors.ts';
import { matchAnyPrefix } from '../core/module.ts';
import { CrossChecker } from '../crosscheck/checker.ts';
import { DirSumdbSource } from '../crosscheck/source.ts';
import { parseSumdbSpec } from '../crosscheck/spec.ts';
import { HttpSumdbSource, Limiter } from '../upstream/index.ts';
import type { Store } from '../store/store.ts';

/** Lookups and tile reads of one ingest at once. */
const INGEST_SUMDB_CONCURRENCY = 8;

/**
 * The cross-check of `ingest --check-sumdb` (or undefined without it): offline from --sumdb-cache,
 * else at the URL of --check-sumdb (ingest has no upstream to reach /sumdb/<name>/ through).
 */
function ingestCrossCheck(
  s: { private: string | undefined; checkSumdb: string | undefined; sumdbCache: string | undefined },
  flags: IngestFlags,
): ((store: Store) => CrossChecker) | undefined {
  if (s.checkSumdb === undefined) {
    if (s.sumdbCache !== undefined) throw new SumkeepError('config', '--sumdb-cache needs --check-sumdb');
    return undefined;
  }
  const spec = parseSumdbSpec(s.checkSumdb, settingSource('checkSumdb', flags));
  if (spec.url === null && s.sumdbCache === undefined) {
    throw new SumkeepError(
      'config',
      `${settingSource('checkSumdb', flags)}: ingest has no upstream proxy: give the database's URL ("<key> <url>") or --sumdb-cache <dir>`,
    );
  }
  const patterns = choosePrivate(s.private, flags, process.env).patterns;
  const cache = s.sumdbCache;
  // Without the database's directory every version would look "missing": say so at start.
  if (cache !== undefined && !statSync(join(cache, spec.name), { throwIfNoEntry: false })?.isDirectory()) {
    throw new SumkeepError(
      'config',
      `--sumdb-cache: no directory ${spec.name}/ in ${cache} (want <dir>/${spec.name}/latest, lookup/, tile/)`,
    );
  }
  return (store) =>
    new CrossChecker({
      spec,
      source:
        cache !== undefined
          ? new DirSumdbSource(cache, spec.name)
          : new HttpSumdbSource({
              name: spec.name,
              url: spec.url,
              proxies: [],
              limiter: new Limiter(INGEST_SUMDB_CONCURRENCY),
            }),
      store,
      isPrivate: (path) => matchAnyPrefix(patterns, path),
      origin: 'the bundle',
      log: {
        error: (_f, msg) => process.stderr.write(`ingest: ${msg}\n`),
        warn: (_f, msg) => process.stderr.write(`ingest: ${msg}\n`),
      },
    });
}

/** The settings of `sumkeep ingest` (src/settings.ts). */
const INGEST_SETTINGS = [
  'keys',
  'db',
  'dbPoolMax',
  'dbStatementTimeoutMs',
  'checkpointFile',
  'concurrency',
  'batchMax',
  'batchDelayMs',
  'private',
  'checkSumdb',
  'sumdbCache',
] as const satisfies readonly SettingName[];
type IngestFlags = Partial<Record<(typeof INGEST_SETTINGS)[number], string>>;

function mib(n: number): string {
  return (n / (1 << 20)).toFixed(1);
}

export function registerIngest(program: Command): void {
  const cmd = program
    .command('ingest')
    .description(
      'fill the log offline from a GOPROXY-layout directory, a GOMODCACHE, or .zip files with their .mod',
    )
    .argument('<path...>', 'directories or .zip files');
  addSettings(cmd, INGEST_SETTINGS).action(async (paths: string[], flags: IngestFlags) => {
    process.exitCode = await ingest(paths, flags);
  });
}

async function ingest(paths: string[], flags: IngestFlags): Promise<number> {
  const s = readSettings(INGEST_SETTINGS, flags);
  const keys = loadNoteKeys(s.keys);
  const items = scanSources(paths);
  const totalBytes = items.reduce((a, i) => a + i.zipBytes, 0);
  // The rollback guard, as serve has it (the same file when both use the default beside the
  // SQLite file): nothing is signed on a database that does not extend the kept head.
  const guard = rollbackGuard(
    checkpointLocation(s.db, s.checkpointFile, undefined),
    s.keys,
    keys.keys.map((k) => k.verifierKey),
  );
  // Checked before the database is opened: a bad --check-sumdb changes nothing.
  const makeCrossCheck = ingestCrossCheck(s, flags);
  const store = await openStore(s.db, storeOptions(s));
  const crossCheck = makeCrossCheck?.(store);
  let sequencer: Sequencer;
  try {
    sequencer = await Sequencer.open(store, keys.signers, {
      maxDelayMs: s.batchDelayMs,
      maxBatch: s.batchMax,
      guard,
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            'ingest [{bar}] {value}/{total} modules | {mb}/{totalMb} MiB | {rate} MiB/s | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const started = Date.now();
  let bytes = 0;
  const counts = { added: 0, present: 0, conflict: 0, invalid: 0, refused: 0 };
  const problems: IngestOutcome[] = [];
  const payload = () => ({
    mb: mib(bytes),
    totalMb: mib(totalBytes),
    rate: mib(bytes / Math.max(0.001, (Date.now() - started) / 1000)),
  });
  bar?.start(items.length, 0, payload());

  const report = (o: IngestOutcome) => {
    counts[o.status]++;
    const name = o.path !== undefined ? `${o.path}@${o.version}` : o.item.zipFile;
    if (o.status === 'conflict' || o.status === 'invalid' || o.status === 'refused') problems.push(o);
    if (bar) bar.increment(1, payload());
    else process.stderr.write(`ingest: ${o.status} ${name}${o.reason ? `: ${o.reason}` : ''}\n`);
  };

  try {
    await eachLimited(items, s.concurrency, async (item) => {
      report(await ingestOne(item, store, sequencer, (n) => (bytes += n), undefined, crossCheck));
    });
    await sequencer.close();
  } finally {
    bar?.stop();
    await store.close();
  }
  if (bar) {
    for (const p of problems) {
      process.stderr.write(
        `ingest: ${p.status} ${p.path ?? p.item.zipFile}${p.version ? '@' + p.version : ''}: ${p.reason}\n`,
      );
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `ingest: ${counts.added} added, ${counts.present} already logged, ${counts.conflict} conflicts, ${counts.invalid} invalid` +
      (crossCheck !== undefined
        ? `, ${counts.refused} refused by the cross-check with ${crossCheck.name}`
        : '') +
      ' ' +
      `(${items.length} modules, ${mib(totalBytes)} MiB in ${secs} s; tree size ${sequencer.latest()?.size ?? 0})\n`,
  );
  return counts.conflict + counts.invalid + counts.refused > 0 ? 1 : 0;
}
