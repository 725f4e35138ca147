/** Prometheus metrics at /metrics (prom-client, own registry so tests can build many servers). */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LogApi } from '../log/api.ts';

export function registerMetrics(app: FastifyInstance, log: LogApi): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'sumkeep_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'sumkeep_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'sumkeep_tree_size',
    help: 'Records in the log (size of the latest signed tree head)',
    registers: [registry],
    collect() {
      this.set(log.stats().treeSize);
    },
  });
  new Gauge({
    name: 'sumkeep_upstream_fetches',
    help: 'Module versions fetched from the upstream GOPROXY since start',
    registers: [registry],
    collect() {
      this.set(log.stats().upstreamFetches);
    },
  });
  new Gauge({
    name: 'sumkeep_upstream_fetches_cancelled',
    help: 'Upstream fetches cancelled since start because every client waiting for them disconnected',
    registers: [registry],
    collect() {
      this.set(log.stats().fetchesCancelled);
    },
  });
  new Gauge({
    name: 'sumkeep_upstream_requests_in_flight',
    help: 'Upstream HTTP requests running now (at most --upstream-concurrency)',
    registers: [registry],
    collect() {
      this.set(log.stats().upstreamInFlight);
    },
  });
  new Gauge({
    name: 'sumkeep_upstream_requests_queued',
    help: 'Upstream HTTP requests waiting for a slot under --upstream-concurrency',
    registers: [registry],
    collect() {
      this.set(log.stats().upstreamQueued);
    },
  });

  // Labelled children are looked up once per route and status: prom-client hashes the label set
  // on every labels() call, which costs more than serving a cached lookup.
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const key = `${route} ${reply.statusCode}`;
    let c = counters.get(key);
    if (c === undefined) {
      c = requests.labels(route, String(reply.statusCode));
      counters.set(key, c);
    }
    c.inc();
    let t = timers.get(route);
    if (t === undefined) {
      t = duration.labels(route);
      timers.set(route, t);
    }
    t.observe(reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
  return registry;
}
