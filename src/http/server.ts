/**
 * Builds the HTTP server (fastify): protocol routes, health, metrics, and the one error handler.
 * Routes only: every decision about the log lives in src/log.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Socket } from 'node:net';
import { clientErrorToHttp, oneLine, rawHttpAnswer, toHttpError } from './errors.ts';
import { registerSumdbRoutes } from './sumdb.ts';
import { registerHealthRoute, registerReadyRoute } from './health.ts';
import { Metrics, countRequests, registerMetricsRoute } from './metrics.ts';
import type { LogApi } from '../log/api.ts';
import type { ServingKeys } from '../keys/types.ts';
import { registerTrustRoutes } from './trust.ts';
import { registerGosumRoutes } from './gosum.ts';
import { registerVerifyRoutes, VERIFY_DEFAULTS } from './verify.ts';
import { registerStatusRoutes } from './status.ts';
import { defaultOf } from '../settings.ts';

export interface ServerOptions {
  /** The log behind every route; the routes see nothing else of it. */
  log: LogApi;
  /** Log name: the GOSUMDB key name, used in /sumdb/<name>/. */
  name: string;
  /** A pino logger; without one the server logs nothing. */
  loggerInstance?: FastifyBaseLogger;
  https?: { cert: string | Buffer; key: string | Buffer } | null;
  /**
   * Keys for the trust endpoints and signed answers (src/keys/serving.ts). Without them, or without
   * a response signer, the signed routes answer 503 and trust.json/jwks.json 404.
   */
  keys?: ServingKeys | null;
  /**
   * Public base URL (the one in GOSUMDB), without a trailing slash, for /api/v1/gosumdb; a function
   * when it is known only after listen (port 0).
   */
  publicUrl?: string | null | (() => string | null);
  /** HTTP timeouts and requests per connection (defaults: the settings' defaults). */
  timeouts?: Partial<ServerTimeouts>;
  /** Limits of POST /api/v1/verify (defaults in src/http/verify.ts VERIFY_DEFAULTS). */
  verify?: { bodyLimit?: number; maxLines?: number; maxFetch?: number; concurrency?: number };
  /**
   * The metrics the log's events already go to (src/http/metrics.ts); a new set without. Bound
   * here to `log` and `keys` for the scrape-time gauges.
   */
  metrics?: Metrics;
  /**
   * /metrics and /readyz are served by buildMetricsServer on their own address (--metrics-listen),
   * not here. Default false: served here.
   */
  separateMetrics?: boolean;
}

/**
 * What a connection may cost. requestTimeoutMs bounds the whole request, headers and body (Node's
 * requestTimeout): a client that trickles a declared 4 MB body gets 408 and is closed;
 * headersTimeoutMs bounds the headers alone; keepAliveTimeoutMs closes an idle connection; after
 * maxRequestsPerSocket answers (0: no limit) the connection is closed (`Connection: close` on the
 * last one). Node checks the two request timeouts every connectionsCheckingInterval (30 s by
 * default, which would let a 30 s timeout run to 60 s): here every quarter of the shorter one, at
 * most 1 s.
 */
export interface ServerTimeouts {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
}

export function serverTimeouts(given: Partial<ServerTimeouts> = {}): ServerTimeouts {
  return {
    requestTimeoutMs: given.requestTimeoutMs ?? defaultOf('requestTimeoutMs'),
    headersTimeoutMs: given.headersTimeoutMs ?? defaultOf('headersTimeoutMs'),
    keepAliveTimeoutMs: given.keepAliveTimeoutMs ?? defaultOf('keepAliveTimeoutMs'),
    maxRequestsPerSocket: given.maxRequestsPerSocket ?? defaultOf('maxRequestsPerSocket'),
  };
}

/** Every error answer: status and one line from the mapper (src/http/errors.ts), text/plain. */
function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const h = toHttpError(err, { bodyLimit: req.routeOptions?.bodyLimit });
  if (h.internal) req.log.error({ err, url: req.url }, 'internal error');
  if (h.retryAfterS !== undefined) reply.header('retry-after', String(h.retryAfterS));
  return reply
    .code(h.status)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(h.message + '\n');
}

/**
 * The base fastify instance of both servers: logging, the timeouts, the one error mapper (for
 * fastify's and Node's own client errors too), the 404 text.
 */
function baseApp(opts: {
  loggerInstance?: FastifyBaseLogger | undefined;
  https?: ServerOptions['https'];
  timeouts?: Partial<ServerTimeouts> | undefined;
}): FastifyInstance {
  const t = serverTimeouts(opts.timeouts);
  // Options of Node's http(s).createServer that fastify does not take itself.
  const nodeServer = {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(1000, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 4)),
    ),
  };
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    // One log line per request would cost more than serving a tile; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Requests log through the server's logger itself: a pino child logger per request would cost
    // more than answering a lookup from memory.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    // Module paths can be long; Go allows paths far beyond fastify's default 100-character parameter.
    routerOptions: { maxParamLength: 4096 },
    bodyLimit: 1 << 20,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    // fastify reads 0 as "Node's default" (no limit), as the setting means.
    maxRequestsPerSocket: t.maxRequestsPerSocket,
    ...(opts.https ? { https: { ...opts.https, ...nodeServer } } : { http: nodeServer }),
    // fastify's errors from routing (a URL that does not decode, a parameter over maxParamLength)
    // would otherwise be answered with fastify's JSON; they go through the one mapper instead.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => sendError(err, req, reply),
    // And the requests Node's HTTP parser refuses (src/http/errors.ts clientErrorToHttp).
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => {
      const h = clientErrorToHttp(err);
      if (h !== null && !socket.destroyed && socket.writable) socket.write(rawHttpAnswer(h));
      socket.destroy();
    },
  } as FastifyServerOptions);

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(oneLine(`not found: ${req.method} ${req.url.slice(0, 200)}`) + '\n'),
  );
  return app;
}

export function buildServer(opts: ServerOptions): FastifyInstance {
  const app = baseApp(opts);
  const keys = opts.keys ?? null;
  const metrics = opts.metrics ?? new Metrics();
  metrics.bind(opts.log, keys);
  countRequests(app, metrics);

  registerSumdbRoutes(app, { log: opts.log, name: opts.name });
  registerHealthRoute(app);
  if (opts.separateMetrics !== true) {
    registerReadyRoute(app, opts.log, keys);
    registerMetricsRoute(app, metrics);
  }
  registerTrustRoutes(app, { keys, publicUrl: opts.publicUrl ?? null });
  registerGosumRoutes(app, {
    log: opts.log,
    signer: keys?.responseSigner ?? null,
    verifyLines: (status, n) => metrics.verifyLines(status, n),
  });
  registerVerifyRoutes(app, {
    ...opts.verify,
    log: opts.log,
    signer: keys?.responseSigner ?? null,
    verifyLines: (status, n) => metrics.verifyLines(status, n),
    verifyInFlight: (delta) => metrics.verifyInFlight(delta),
  });
  registerStatusRoutes(app, {
    log: opts.log,
    name: opts.name,
    keys,
    publicUrl: opts.publicUrl ?? null,
    verify: {
      bodyLimit: opts.verify?.bodyLimit ?? VERIFY_DEFAULTS.bodyLimit,
      maxLines: opts.verify?.maxLines ?? VERIFY_DEFAULTS.maxLines,
    },
  });
  return app;
}

/**
 * The server of --metrics-listen: GET /metrics and GET /readyz only (plain http: it is meant for
 * a private address that only the monitoring reaches). `metrics` is the set the public server
 * (buildServer with separateMetrics) counts into.
 */
export function buildMetricsServer(opts: {
  log: LogApi;
  keys?: ServingKeys | null;
  metrics: Metrics;
  loggerInstance?: FastifyBaseLogger;
  timeouts?: Partial<ServerTimeouts>;
}): FastifyInstance {
  const app = baseApp({ loggerInstance: opts.loggerInstance, timeouts: opts.timeouts });
  opts.metrics.bind(opts.log, opts.keys ?? null);
  registerReadyRoute(app, opts.log, opts.keys);
  registerMetricsRoute(app, opts.metrics);
  return app;
}
