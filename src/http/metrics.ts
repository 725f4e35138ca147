/**
 * Prometheus metrics (prom-client, an own registry per server so tests can build many). Metrics is
 * the LogEvents sink (src/log/events.ts) the log, the sequencer, the store and the upstream report
 * to; gauges that are a state are read at scrape time from LogApi.stats() and the serving keys.
 * Every sumkeep_* family passes `promtool check metrics` (test/http/metrics.test.ts), and
 * docs/operations.md "Monitoring" says what each one means.
 *
 * Labelled counters are created with every label value known in advance at 0, so that a series
 * exists before its first event: Prometheus' increase() and rate() see the first mismatch or
 * refusal after a restart only if the series was there at 0 before it.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LogApi } from '../log/api.ts';
import type { LogEvents, UpstreamOutcome } from '../log/events.ts';
import { ruleLabel } from '../log/refusals.ts';
import { ZIP_RULES } from '../zip/rules.ts';
import type { ServingKeys } from '../keys/types.ts';
import { responseSignerReady } from './health.ts';

/** go.sum line results (src/verify/response.ts); the policy work adds `denied`. */
export const VERIFY_STATUSES = ['match', 'mismatch', 'unknown', 'invalid'] as const;
/** Refusal reasons known now (src/log/refusals.ts); others appear when they first happen. */
export const REFUSAL_REASONS: readonly string[] = [
  ...ZIP_RULES.map(ruleLabel),
  'invalid_zip',
  'too_large',
  'module_mismatch',
  'private_module',
  'crosscheck_mismatch',
  'crosscheck_missing',
  'policy',
];
const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = ['ok', 'not_found', 'error', 'timeout'];
/** Store error codes created at 0 (src/core/errors.ts); any other code appears when it happens. */
const STORE_CODES = ['store_error', 'store_busy', 'conflict', 'internal'];
const KEY_PURPOSES = ['note', 'response'] as const;

export class Metrics implements LogEvents {
  readonly registry = new Registry();
  private log: LogApi | null = null;
  private keys: ServingKeys | null = null;
  private readonly verifyLinesTotal: Counter<'status'>;
  private readonly verifyInFlightGauge: Gauge;
  private readonly refusedTotal: Counter<'reason'>;
  private readonly storeErrorsTotal: Counter<'code'>;
  private readonly upstreamTotal: Counter<'outcome'>;
  private readonly upstreamDuration: Histogram;
  private readonly commitDuration: Histogram;
  private readonly batchRecords: Histogram;
  readonly requests: Counter<'route' | 'status'>;
  readonly requestDuration: Histogram<'route'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const logOf = (): LogApi | null => this.log;
    const certificatesOf = () => this.keys?.certificates ?? [];
    // A gauge whose value comes from the log: left out until a server binds one.
    const stat = (name: string, help: string, value: (log: LogApi) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const log = logOf();
          if (log !== null) this.set(value(log));
        },
      });
    };

    this.requests = new Counter({
      name: 'sumkeep_http_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'] as const,
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'sumkeep_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5, 30],
      registers,
    });

    this.verifyLinesTotal = new Counter({
      name: 'sumkeep_verify_lines_total',
      help: 'go.sum lines checked by POST /api/v1/verify and GET /api/v1/gosum, by result',
      labelNames: ['status'] as const,
      registers,
    });
    for (const s of VERIFY_STATUSES) this.verifyLinesTotal.labels(s).inc(0);
    this.verifyInFlightGauge = new Gauge({
      name: 'sumkeep_verify_requests_in_flight',
      help: 'POST /api/v1/verify requests being read or checked now (at most --verify-concurrency)',
      registers,
    });
    this.refusedTotal = new Counter({
      name: 'sumkeep_refused_total',
      help: 'Module versions refused (not logged), by reason: a zip rule, module_mismatch, too_large, policy, cross-check',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const r of REFUSAL_REASONS) this.refusedTotal.labels(r).inc(0);
    this.storeErrorsTotal = new Counter({
      name: 'sumkeep_store_errors_total',
      help: 'Failed database calls, by error code (conflict: another writer appended first, retried)',
      labelNames: ['code'] as const,
      registers,
    });
    for (const c of STORE_CODES) this.storeErrorsTotal.labels(c).inc(0);

    this.upstreamTotal = new Counter({
      name: 'sumkeep_upstream_requests_total',
      help: 'Upstream GOPROXY HTTP requests (each attempt of each file), by outcome',
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const o of UPSTREAM_OUTCOMES) this.upstreamTotal.labels(o).inc(0);
    this.upstreamDuration = new Histogram({
      name: 'sumkeep_upstream_request_duration_seconds',
      help: 'Duration of upstream GOPROXY HTTP requests, headers and body',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600],
      registers,
    });
    stat(
      'sumkeep_upstream_inflight',
      'Upstream HTTP requests running now (at most --upstream-concurrency)',
      (l) => l.stats().upstreamInFlight,
    );
    // Names from before the issue-10 names, kept: tests and dashboards use them.
    stat(
      'sumkeep_upstream_requests_in_flight',
      'Upstream HTTP requests running now (same as sumkeep_upstream_inflight)',
      (l) => l.stats().upstreamInFlight,
    );
    stat(
      'sumkeep_upstream_requests_queued',
      'Upstream HTTP requests waiting for a slot under --upstream-concurrency',
      (l) => l.stats().upstreamQueued,
    );
    stat(
      'sumkeep_upstream_fetches',
      'Module versions fetched from the upstream GOPROXY since start',
      (l) => l.stats().upstreamFetches,
    );
    stat(
      'sumkeep_upstream_fetches_cancelled',
      'Upstream fetches cancelled since start because every client waiting for them disconnected',
      (l) => l.stats().fetchesCancelled,
    );

    this.commitDuration = new Histogram({
      name: 'sumkeep_sequencer_commit_duration_seconds',
      help: 'Time to commit one batch: hashing, signing the tree head, the store transaction',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'sumkeep_sequencer_batch_records',
      help: 'Records per committed batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    stat(
      'sumkeep_sequencer_pending_records',
      'Records added but not yet committed (queued or in the batch being committed)',
      (l) => l.stats().pendingRecords,
    );
    stat(
      'sumkeep_tree_size',
      'Records in the log (size of the latest signed tree head)',
      (l) => l.stats().treeSize,
    );
    stat(
      'sumkeep_last_commit_timestamp_seconds',
      'When the latest signed tree head was made (Unix time, by any writer); 0 while the log is empty',
      (l) => (l.stats().lastCommitMs ?? 0) / 1000,
    );
    stat(
      'sumkeep_signer_ready',
      '1 when every note key and the response-signing key sign a probe now, else 0',
      (l) => (l.stats().signerReady && responseSignerReady(this.keys) ? 1 : 0),
    );

    new Gauge({
      name: 'sumkeep_key_not_after_timestamp_seconds',
      help: 'End of validity of the online key certificates (Unix time), the earliest per purpose',
      labelNames: ['purpose'] as const,
      registers,
      collect() {
        this.reset();
        for (const purpose of KEY_PURPOSES) {
          const ends = certificatesOf()
            .filter((c) => c.purpose === purpose)
            .map((c) => c.notAfter);
          if (ends.length > 0) this.labels(purpose).set(Math.min(...ends) / 1000);
        }
      },
    });
  }

  /** The log and keys the scrape-time gauges read (once per server). */
  bind(log: LogApi, keys: ServingKeys | null): void {
    this.log = log;
    this.keys = keys;
  }

  /** A POST /api/v1/verify check started (+1) or ended (-1). */
  verifyInFlight(delta: 1 | -1): void {
    this.verifyInFlightGauge.inc(delta);
  }

  /** `n` go.sum lines with result `status` (the verify and gosum routes). */
  verifyLines(status: string, n = 1): void {
    if (n > 0) this.verifyLinesTotal.inc({ status }, n);
  }

  refused(reason: string): void {
    this.refusedTotal.inc({ reason });
  }

  committed(seconds: number, records: number): void {
    this.commitDuration.observe(seconds);
    this.batchRecords.observe(records);
  }

  storeError(code: string): void {
    this.storeErrorsTotal.inc({ code });
  }

  upstreamRequest(outcome: UpstreamOutcome, seconds: number): void {
    this.upstreamTotal.inc({ outcome });
    this.upstreamDuration.observe(seconds);
  }
}

/** Counts every request of `app` in sumkeep_http_requests_total and its duration histogram. */
export function countRequests(app: FastifyInstance, metrics: Metrics): void {
  // Labelled children are looked up once per route and status: prom-client hashes the label set
  // on every labels() call, which costs more than serving a cached lookup.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `${route} ${reply.statusCode}`;
    let c = counters.get(key);
    if (c === undefined) {
      c = metrics.requests.labels(route, String(reply.statusCode));
      counters.set(key, c);
    }
    c.inc();
    let t = timers.get(route);
    if (t === undefined) {
      t = metrics.requestDuration.labels(route);
      timers.set(route, t);
    }
    t.observe(reply.elapsedTime / 1000);
    done();
  });
}

/** GET /metrics: the text exposition format of the registry. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
