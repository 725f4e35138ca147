/**
 * `sumkeep publish --db <db> --out <dir> [--follow]`: writes the published read path (latest,
 * tiles, lookups; src/log/publish.ts) from a log database, for setups where the nodes do not
 * publish themselves (several nodes on PostgreSQL, a CDN or bucket synced from one machine). With
 * --follow it keeps the directory current, checking for new heads every second, until SIGINT or
 * SIGTERM. Reads the database only; needs no key (the notes are in the database).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { SumkeepError } from '../core/errors.ts';
import { openStore } from '../store/open.ts';
import type { AuditStore, SignedHead } from '../store/store.ts';
import { Publisher } from '../log/publish.ts';
import { addSettings, readSettings, storeOptions, type SettingName } from '../settings.ts';

const PUBLISH_SETTINGS = [
  'db',
  'dbPoolMax',
  'dbStatementTimeoutMs',
  'out',
  'follow',
] as const satisfies readonly SettingName[];
const FOLLOW_POLL_MS = 1000;

export function registerPublish(program: Command): void {
  const cmd = program
    .command('publish')
    .description('write latest, tiles and lookups of a log as static files (for nginx, a CDN, a bucket)');
  addSettings(cmd, PUBLISH_SETTINGS).action(async (flags: Partial<Record<string, string | boolean>>) => {
    const s = readSettings(PUBLISH_SETTINGS, flags);
    if (s.out === undefined) throw new SumkeepError('config', '--out <dir> is required');
    const store = await openStore(s.db, { readonly: true, scan: true, ...storeOptions(s) });
    try {
      const pub = new Publisher(s.out, store, (line) => process.stderr.write(`${line}\n`));
      await syncOnce(pub, store, process.stderr.isTTY === true);
      if (!s.follow) return;
      let stop = false;
      const onSignal = () => (stop = true);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      while (!stop) {
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        if (!stop) await syncOnce(pub, store, false);
      }
    } finally {
      await store.close();
    }
  });
}

/** The latest head as the server serves it: its newest co-signed note after a rotation. */
async function servedHead(store: AuditStore): Promise<SignedHead | null> {
  const head = await store.latestHead();
  if (head === null) return null;
  const notes = await store.headNotes(head.size);
  return notes.length > 0 ? { ...head, note: notes[notes.length - 1]! } : head;
}

async function syncOnce(pub: Publisher, store: AuditStore, tty: boolean): Promise<void> {
  const head = await servedHead(store);
  if (head === null) {
    // The empty log: /latest is a signed size-0 note that only a server holding the note key
    // can make (publish holds no key), so nothing is written; a static server passes /latest on
    // to sumkeep (docs/operations.md, "Static read path") until the first head is published.
    await pub.sync(null);
    if ((await pub.publishedSize()) < 0) {
      process.stdout.write(`publish: ${pub.dir}: the empty log: nothing to publish yet\n`);
    }
    return;
  }
  const before = await pub.publishedSize();
  const bar =
    tty && before < head.size
      ? new cliProgress.SingleBar(
          { format: 'publish [{bar}] {value}/{total} records', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(head.size, Math.max(before, 0));
  try {
    // Also when nothing grew: a co-signed note after a key rotation replaces latest.
    await pub.sync(head, { onProgress: (done) => bar?.update(done) });
  } finally {
    bar?.stop();
  }
  if (before === head.size) return;
  process.stdout.write(`publish: ${pub.dir}: tree size ${head.size}\n`);
}
