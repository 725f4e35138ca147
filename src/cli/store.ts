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

interface CopyFlags {
  from: string;
  to: string;
}

export function registerStore(program: Command): void {
  const store = program.command('store').description('work on a log database as a whole');
  store
    .command('copy')
    .description('copy a log to another database (SQLite file or postgres:// URL), verifying it')
    .requiredOption('--from <db>', 'source: SQLite file, sqlite:<file> or postgres:// URL (read only)')
    .requiredOption('--to <db>', 'destination: empty, or a prefix of the source')
    .action(async (flags: CopyFlags) => {
      process.exitCode = await copy(flags);
    });
}

async function copy(flags: CopyFlags): Promise<number> {
  const from = await openStore(flags.from, { readonly: true });
  try {
    const to = await openStore(flags.to);
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
