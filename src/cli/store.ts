/**
 * `sumkeep store copy --from <db> --to <db>`: copies a log between stores (a SQLite file and a
 * PostgreSQL database, either way), verifying every record, stored hash and signed head on the
 * way (src/store/copy.ts). The source is opened read-only. A non-empty destination must be a
 * prefix of the source; a copy that stopped half way is continued by running it again.
 * On a terminal it draws a progress bar on stderr; otherwise it prints a plain line every
 * 10,000 records. Exit 0 when the destination holds the whole source, 2 otherwise.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { copyLog } from '../store/copy.ts';
import { describeStoreLocation, openStore, parseStoreLocation } from '../store/open.ts';
import { SumkeepError } from '../core/errors.ts';
import { addSettings, readSettings, storeOptions, type SettingName } from '../settings.ts';

const COPY_SETTINGS = [
  'from',
  'to',
  'dbPoolMax',
  'dbStatementTimeoutMs',
] as const satisfies readonly SettingName[];
type CopyFlags = Partial<Record<(typeof COPY_SETTINGS)[number], string>>;

export function registerStore(program: Command): void {
  const store = program.command('store').description('work on a log database as a whole');
  const cmd = store
    .command('copy')
    .description('copy a log to another database (SQLite file or postgres:// URL), verifying it');
  addSettings(cmd, COPY_SETTINGS).action(async (flags: CopyFlags) => {
    process.exitCode = await copy(flags);
  });
}

async function copy(raw: CopyFlags): Promise<number> {
  const s = readSettings(COPY_SETTINGS, raw);
  if (s.from === undefined || s.to === undefined) {
    throw new SumkeepError('config', 'store copy needs --from <db> and --to <db>');
  }
  const flags = { from: s.from, to: s.to };
  const from = await openStore(flags.from, { readonly: true, scan: true, ...storeOptions(s) });
  try {
    const to = await openStore(flags.to, storeOptions(s));
    try {
      const names = `${describeStoreLocation(parseStoreLocation(flags.from))} -> ${describeStoreLocation(parseStoreLocation(flags.to))}`;
      const tty = process.stderr.isTTY === true;
      const bar = tty
        ? new cliProgress.SingleBar(
            {
              format: 'store copy [{bar}] {value}/{total} records | {heads} heads | ETA {eta_formatted}',
              stream: process.stderr,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      const started = Date.now();
      let barStarted = false;
      let lastLine = 0;
      const result = await copyLog(from, to, {
        onProgress: (p) => {
          if (bar !== null) {
            if (!barStarted) {
              bar.start(p.total, p.records, { heads: p.heads });
              barStarted = true;
            } else bar.update(p.records, { heads: p.heads });
          } else if (p.records - lastLine >= 10_000 || p.records === p.total) {
            lastLine = p.records;
            process.stderr.write(`store copy: ${p.records}/${p.total} records, ${p.heads} heads\n`);
          }
        },
      }).finally(() => bar?.stop());
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `store copy: ${names}: copied ${result.copied.records} records and ${result.copied.heads} heads ` +
          `(${result.notes} further notes) after a verified prefix of ${result.before.records} records; ` +
          `tree size ${result.size}, in ${secs} s\n`,
      );
      return 0;
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
