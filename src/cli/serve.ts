/**
 * `sumkeep serve`: the checksum database server. Prints exactly one line on stdout when it is ready:
 *   GOSUMDB=<verifier key> <url>
 * Logs (pino, JSON) go to stderr.
 *
 * With --policy, SIGHUP reloads the policy file: a file that reads and checks replaces the policy
 * for every request from then on; a bad one leaves the old policy in force and logs why. (Without
 * --policy, SIGHUP keeps its default action: the process ends.)
 */
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { loadServeConfig, serveStartupLog, DEFAULTS, SERVE_SETTINGS, type ServeFlags } from '../config.ts';
import { addSettings } from '../settings.ts';
import { SumkeepError } from '../core/errors.ts';
import { OPEN_POLICY, type Policy } from '../core/policy.ts';
import { describePolicy } from '../core/policy-schema.ts';
import { loadPolicyFile } from '../policy/file.ts';
import { createDevelopmentAuthority } from '../keys/ceremony.ts';
import { loadServingKeys } from '../keys/serving.ts';
import { describeStoreLocation, openStore, parseStoreLocation } from '../store/open.ts';
import { checkSecretFile } from '../keys/permissions.ts';
import { Sequencer } from '../log/sequencer.ts';
import { publisherOf, rollbackGuard } from './integrity.ts';
import { LogService } from '../log/service.ts';
import { CrossChecker } from '../crosscheck/checker.ts';
import { buildMetricsServer, buildServer } from '../http/server.ts';
import { Metrics } from '../http/metrics.ts';
import { countStoreErrors } from '../log/store-errors.ts';
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
  // A policy file that does not check stops the start here (exit 2), naming the field and rule.
  const policy: Policy = cfg.policyFile === null ? OPEN_POLICY : loadPolicyFile(cfg.policyFile);
  if (cfg.policyFile !== null && !cluster.isWorker) {
    log.info({ policy: cfg.policyFile, rules: describePolicy(policy) }, 'policy in force');
  }

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

  const vkeys = [keys.verifierKey, ...(keys.trust?.verifierKeys ?? [])];
  const guard = rollbackGuard(cfg.checkpoint, cfg.keysDir, vkeys);
  if (cfg.workers > 1 && cluster.isPrimary) {
    // Check the database once here (migrations, tree hash against the latest head, the rollback
    // guard; the published directory brought up to it) so that a broken start fails with one
    // clear message, then let the workers serve.
    const check = await openStore(cfg.dbFile, cfg.store);
    try {
      await Sequencer.open(check, keys.noteSigners, {
        maxDelayMs: cfg.batchDelayMs,
        maxBatch: cfg.batchMax,
        guard,
        publisher: publisherOf(cfg.publishDir, check, (line) => log.info(line)),
      });
    } finally {
      await check.close();
    }
    await runWorkers(cfg.workers, log, cfg.policyFile !== null);
    return;
  }

  // Every part of the log reports to the one metrics sink (src/log/events.ts); the store's
  // failures are counted whichever caller met them.
  const metrics = new Metrics();
  const store = countStoreErrors(await openStore(cfg.dbFile, cfg.store), metrics);
  // At start: the database's head must be the kept one or extend it (else log_inconsistent,
  // exit 2, naming both sizes), and with --publish the directory is brought up to it, before the
  // server listens.
  let sequencer: Sequencer;
  try {
    sequencer = await Sequencer.open(store, keys.noteSigners, {
      maxDelayMs: cfg.batchDelayMs,
      maxBatch: cfg.batchMax,
      events: metrics,
      guard,
      publisher: publisherOf(cfg.publishDir, store, (line) => log.info(line)),
    });
  } catch (e) {
    // A refused start exits at once (an open PostgreSQL pool would keep the process alive).
    await store.close();
    throw e;
  }
  const upstream = createUpstream({
    proxies: cfg.upstream,
    privatePatterns: cfg.privatePatterns,
    privateSource: cfg.privateFrom.join(' or ') || '--private',
    concurrency: cfg.upstreamConcurrency,
    onRequest: (outcome, seconds) => metrics.upstreamRequest(outcome, seconds),
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
    events: metrics,
    policy,
    ...(crossCheck !== undefined ? { crossCheck } : {}),
  });
  if (cfg.policyFile !== null) {
    const file = cfg.policyFile;
    process.on('SIGHUP', () => {
      try {
        const next = loadPolicyFile(file);
        service.setPolicy(next);
        log.info({ policy: file, rules: describePolicy(next) }, 'policy reloaded');
      } catch (e) {
        // The message names the file, the field and the rule, never a module pattern.
        log.error(
          { policy: file, reason: (e as Error).message },
          'policy not reloaded: the previous policy stays in force',
        );
      }
    });
  }
  // The public URL is final only after listen (port 0 picks one); routes read it then.
  let publicUrl = cfg.url;
  const app = buildServer({
    log: service,
    name: keys.name,
    loggerInstance: log,
    https: cfg.tls ? { cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) } : null,
    keys,
    publicUrl: () => publicUrl,
    timeouts: cfg.http,
    verify: {
      bodyLimit: cfg.verifyMaxBytes,
      maxLines: cfg.verifyMaxLines,
      concurrency: cfg.verifyConcurrency,
    },
    metrics,
    separateMetrics: cfg.metricsListen !== null,
  });
  const metricsApp =
    cfg.metricsListen === null
      ? null
      : buildMetricsServer({ log: service, keys, metrics, loggerInstance: log, timeouts: cfg.http });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await app.close();
      await metricsApp?.close();
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
  let metricsAt: string | null = null;
  if (metricsApp !== null && cfg.metricsListen !== null) {
    const { host, port } = cfg.metricsListen;
    try {
      await metricsApp.listen({ host, port });
    } catch (e) {
      throw new SumkeepError(
        'config',
        `cannot listen on ${host}:${port} (--metrics-listen): ${(e as Error).message}`,
        { cause: e },
      );
    }
    const a = metricsApp.server.address();
    metricsAt = `${host}:${typeof a === 'object' && a !== null ? a.port : port}`;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port;
  // With port 0 the kernel picks the port: put the real one into the URL we print.
  const url = !cfg.urlGiven && cfg.port === 0 ? cfg.url.replace(/:0$/, `:${port}`) : cfg.url;
  publicUrl = url;
  log.info(
    {
      listen: `${cfg.host}:${port}`,
      ...(metricsAt === null ? {} : { metrics: metricsAt }),
      // A postgres:// URL is logged without its password.
      db: describeStoreLocation(parseStoreLocation(cfg.dbFile)),
      // The list may carry credentials (https://user:token@athens...): log it without them.
      upstream: upstream === null ? 'off' : formatProxyList(upstream.proxies),
      size: sequencer.latest()?.size ?? 0,
      checkpoint: cfg.checkpoint?.file ?? 'none',
      publish: cfg.publishDir ?? 'off',
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
async function runWorkers(n: number, log: Logger, forwardHup: boolean): Promise<void> {
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
  // --policy: each worker reloads its own copy of the policy.
  if (forwardHup) {
    process.on('SIGHUP', () => {
      log.info({ workers: n }, 'SIGHUP: the workers reload the policy');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
    });
  }
}
