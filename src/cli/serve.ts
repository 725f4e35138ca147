/**
 * `sumkeep serve`: the checksum database server. Prints exactly one line on stdout when it is ready:
 *   GOSUMDB=<verifier key> <url>
 * Logs (pino, JSON) go to stderr.
 */
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { loadServeConfig, serveStartupLog, DEFAULTS, SERVE_SETTINGS, type ServeFlags } from '../config.ts';
import { addSettings } from '../settings.ts';
import { SumkeepError } from '../core/errors.ts';
import { createDevelopmentAuthority } from '../keys/ceremony.ts';
import { loadServingKeys } from '../keys/serving.ts';
import { describeStoreLocation, openStore, parseStoreLocation } from '../store/open.ts';
import { checkSecretFile } from '../keys/permissions.ts';
import { Sequencer } from '../log/sequencer.ts';
import { LogService } from '../log/service.ts';
import { CrossChecker } from '../crosscheck/checker.ts';
import { buildServer } from '../http/server.ts';
import { createUpstream, formatProxyList } from '../upstream/index.ts';
import { readFileSync } from 'node:fs';
import cluster from 'node:cluster';

export function registerServe(program: Command): void {
  const cmd = program.command('serve').description('run the checksum database server');
  addSettings(cmd, SERVE_SETTINGS).action(async (flags: ServeFlags) => {
    await serve(flags);
  });
}

export async function serve(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const cfg = loadServeConfig(flags, env);
  const log = pino({ level: cfg.logLevel }, pino.destination(2));
  // Once per server, before anything else can fail: the upstream and private patterns in effect
  // and where they came from (the workers of --workers N would only repeat it).
  if (!cluster.isWorker) for (const l of serveStartupLog(cfg)) log[l.level](l.fields, l.msg);

  if (cfg.dev) {
    // Creates only what is missing, and nothing in a production key directory.
    const created = createDevelopmentAuthority(cfg.keysDir, DEFAULTS.devLogName, { url: cfg.url });
    if (created !== null) {
      log.warn({ keys: cfg.keysDir }, 'created a DEVELOPMENT signing authority; do not use it in production');
    }
  }
  const keys = loadServingKeys(cfg.keysDir, { allowRootKey: cfg.allowRootKey || cfg.dev });
  if (cfg.tls) checkSecretFile(cfg.tls.key, 'TLS private key file');
  if (keys.development) log.warn('serving with DEVELOPMENT keys (keys/DEVELOPMENT exists)');
  for (const w of keys.warnings ?? []) log.warn(w);
  if (keys.responseSigner === null) {
    log.warn('no response-signing key: /api/v1/gosum and /api/v1/verify answer 503');
  }

  if (cfg.workers > 1 && cluster.isPrimary) {
    // Check the database once here (migrations, tree hash against the latest head) so that a
    // broken start fails with one clear message, then let the workers serve.
    const check = await openStore(cfg.dbFile, cfg.store);
    await Sequencer.open(check, keys.noteSigners, { maxDelayMs: cfg.batchDelayMs, maxBatch: cfg.batchMax });
    await check.close();
    await runWorkers(cfg.workers, log);
    return;
  }

  const store = await openStore(cfg.dbFile, cfg.store);
  const sequencer = await Sequencer.open(store, keys.noteSigners, {
    maxDelayMs: cfg.batchDelayMs,
    maxBatch: cfg.batchMax,
  });
  const upstream = createUpstream({
    proxies: cfg.upstream,
    privatePatterns: cfg.privatePatterns,
    privateSource: cfg.privateFrom.join(' or ') || '--private',
    concurrency: cfg.upstreamConcurrency,
  });
  const crossCheck =
    cfg.checkSumdb === null || upstream === null
      ? undefined
      : new CrossChecker({
          spec: cfg.checkSumdb,
          source: upstream.sumdb(cfg.checkSumdb.name, cfg.checkSumdb.url),
          store,
          isPrivate: (path) => upstream.isPrivate(path),
          log,
        });
  const service = new LogService(store, sequencer, upstream, {
    negativeCacheTtlMs: cfg.negativeCacheTtlS * 1000,
    ...(crossCheck !== undefined ? { crossCheck } : {}),
  });
  // The public URL is final only after listen (port 0 picks one); routes read it then.
  let publicUrl = cfg.url;
  const app = buildServer({
    log: service,
    name: keys.name,
    loggerInstance: log,
    https: cfg.tls ? { cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) } : null,
    keys,
    publicUrl: () => publicUrl,
    verify: {
      bodyLimit: cfg.verifyMaxBytes,
      maxLines: cfg.verifyMaxLines,
    },
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
  const url = !cfg.urlGiven && cfg.port === 0 ? cfg.url.replace(/:0$/, `:${port}`) : cfg.url;
  publicUrl = url;
  log.info(
    {
      listen: `${cfg.host}:${port}`,
      // A postgres:// URL is logged without its password.
      db: describeStoreLocation(parseStoreLocation(cfg.dbFile)),
      // The list may carry credentials (https://user:token@athens...): log it without them.
      upstream: upstream === null ? 'off' : formatProxyList(upstream.proxies),
      size: sequencer.latest()?.size ?? 0,
    },
    'serving',
  );
  const line = `GOSUMDB=${keys.verifierKey} ${url}`;
  if (cluster.isWorker) process.send?.({ type: 'sumkeep:listening', line });
  else process.stdout.write(line + '\n');
}

/**
 * The primary of `serve --workers N`: forks N workers that each run the whole server (their own
 * read connection, sequencer and upstream client; node:cluster hands them the connections of the
 * one listening socket) and prints the GOSUMDB line once, when all of them listen. Several
 * sequencers on one database are safe: the store refuses a batch that does not extend its tree
 * and the sequencer reloads and retries (src/log/sequencer.ts). What changes: concurrent first
 * lookups of one module version in different workers may fetch it upstream once per worker; the
 * log still gets one record.
 */
async function runWorkers(n: number, log: Logger): Promise<void> {
  let listening = 0;
  let stopping = false;
  let announced = false;
  const fork = () => {
    const w = cluster.fork({ SUMKEEP_WORKER: '1' });
    let up = false;
    w.on('message', (m: { type?: string; line?: string }) => {
      if (m?.type !== 'sumkeep:listening' || typeof m.line !== 'string') return;
      up = true;
      listening++;
      if (listening === n && !announced) {
        announced = true;
        log.info({ workers: n }, 'all workers serving');
        process.stdout.write(m.line + '\n');
      }
    });
    w.on('exit', (code, signal) => {
      if (up) listening--;
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      if (!up) {
        // A worker that dies before it listens will not do better the next time.
        log.error({ code, signal }, 'a worker failed to start');
        process.exit(2);
      }
      log.error({ code, signal }, 'a worker died; starting another');
      fork();
    });
  };
  for (let i = 0; i < n; i++) fork();
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down the workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
