/** `sumkeep backup --db <db> --out <file>`: an online snapshot of a SQLite log (src/store/backup.ts). */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { SumkeepError } from '../core/errors.ts';
import { backupStore } from '../store/backup.ts';
import { addSettings, readSettings, type SettingName } from '../settings.ts';

const BACKUP_SETTINGS = ['db', 'out'] as const satisfies readonly SettingName[];

export function registerBackup(program: Command): void {
  const cmd = program
    .command('backup')
    .description('write an online, consistent, verified snapshot of a SQLite log (PostgreSQL: pg_dump)');
  addSettings(cmd, BACKUP_SETTINGS).action(async (flags: Partial<Record<string, string>>) => {
    const s = readSettings(BACKUP_SETTINGS, flags);
    if (s.out === undefined) throw new SumkeepError('config', '--out <file> is required');
    const bar =
      process.stderr.isTTY === true
        ? new cliProgress.SingleBar(
            { format: 'backup [{bar}] {value}/{total} pages', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : null;
    let started = false;
    try {
      const r = await backupStore(s.db, s.out, (done, total) => {
        if (bar === null) return;
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      });
      bar?.stop();
      process.stdout.write(`backup: ${s.out}: tree size ${r.size}, ${r.bytes} bytes, verified\n`);
    } finally {
      bar?.stop();
    }
  });
}
