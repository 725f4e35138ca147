/**
 * `sumkeep serve`: the checksum database server. Prints exactly one line on stdout when it is ready:
 *   GOSUMDB=<verifier key> <url>
 * Logs (pino, JSON) go to stderr.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadServeConfig, DEFAULTS, type ServeFlags } from '../config.ts';
import { SumkeepError } from '../core/errors.ts';
import { createNoteKey, loadNoteKeys, NOTE_KEY_FILE } from '../keys/notekey.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import { Sequencer } from '../log/sequencer.ts';
import { LogService } from '../log/service.ts';
import { buildServer } from '../http/server.ts';
import { createUpstream } from '../upstream/index.ts';
import { readFileSync } from 'node:fs';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the checksum database server')
    .option('--keys <dir>', `key directory (env SUMKEEP_KEYS; default ${DEFAULTS.keysDir})`)
    .option('--db <file>', `SQLite database file (env SUMKEEP_DB; default ${DEFAULTS.dbFile})`)
    .option('--upstream <list>', 'GOPROXY-syntax list of upstream proxies, or "off" (env SUMKEEP_UPSTREAM)')
    .option('--listen <host:port>', `address to listen on (env SUMKEEP_LISTEN; default ${DEFAULTS.listen})`)
    .option('--url <url>', 'public base URL printed in the GOSUMDB line (env SUMKEEP_URL)')
    .option('--private <globs>', 'GOPRIVATE-syntax globs never fetched upstream (env SUMKEEP_PRIVATE)')
    .option(
      '--batch-delay-ms <ms>',
      `longest a new record waits for its batch (default ${DEFAULTS.batchDelayMs})`,
    )
    .option('--batch-max <n>', `most records per batch (default ${DEFAULTS.batchMax})`)
    .option('--log-level <level>', 'pino log level (default info)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--dev', 'development mode: create a clearly labelled development key if there is none')
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

export async function serve(flags: ServeFlags): Promise<void> {
  const cfg = loadServeConfig(flags);
  const log = pino({ level: cfg.logLevel }, pino.destination(2));

  if (cfg.dev && !existsSync(join(cfg.keysDir, NOTE_KEY_FILE))) {
    createNoteKey(cfg.keysDir, DEFAULTS.devLogName, { development: true });
    log.warn({ keys: cfg.keysDir }, 'created a DEVELOPMENT note key; do not use it in production');
  }
  const keys = loadNoteKeys(cfg.keysDir);
  if (keys.development) log.warn('serving with a DEVELOPMENT key (keys/DEVELOPMENT exists)');

  const store = await openSqliteStore(cfg.dbFile);
  const sequencer = await Sequencer.open(store, keys.signers, {
    maxDelayMs: cfg.batchDelayMs,
    maxBatch: cfg.batchMax,
  });
  const upstream = createUpstream({ proxies: cfg.upstream, privateGlobs: cfg.privateGlobs });
  const service = new LogService(store, sequencer, upstream);
  const app = buildServer({
    service,
    store,
    name: keys.name,
    loggerInstance: log,
    https: cfg.tls ? { cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) } : null,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await app.close();
      await sequencer.close();
      await store.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    await app.listen({ host: cfg.host, port: cfg.port });
  } catch (e) {
    throw new SumkeepError('config', `cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port;
  // With port 0 the kernel picks the port: put the real one into the URL we print.
  const url = flags.url === undefined && cfg.port === 0 ? cfg.url.replace(/:0$/, `:${port}`) : cfg.url;
  for (const note of cfg.upstreamNotes) log.info(note);
  log.info(
    {
      listen: `${cfg.host}:${port}`,
      db: cfg.dbFile,
      upstream: cfg.upstream,
      size: sequencer.latest()?.size ?? 0,
    },
    'serving',
  );
  process.stdout.write(`GOSUMDB=${keys.verifierKey} ${url}\n`);
}
