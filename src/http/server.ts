/**
 * Builds the HTTP server (fastify): protocol routes, health, metrics, and the one error handler.
 * Routes only: every decision about the log lives in src/log.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import { isSumkeepError } from '../core/errors.ts';
import { toHttpError } from './errors.ts';
import { registerSumdbRoutes } from './sumdb.ts';
import { registerHealthRoute, registerReadyRoute } from './health.ts';
import { Metrics, countRequests, registerMetricsRoute } from './metrics.ts';
import type { LogApi } from '../log/api.ts';
import type { ServingKeys } from '../keys/types.ts';
import { registerTrustRoutes } from './trust.ts';
import { registerGosumRoutes } from './gosum.ts';
import { registerVerifyRoutes, VERIFY_DEFAULTS } from './verify.ts';
import { registerStatusRoutes } from './status.ts';

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
  /** Limits of POST /api/v1/verify (defaults in src/http/verify.ts VERIFY_DEFAULTS). */
  verify?: { bodyLimit?: number; maxLines?: number; maxFetch?: number };
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

/** The base fastify instance of both servers: logging, the one error mapper, the 404 text. */
function baseApp(opts: {
  loggerInstance?: FastifyBaseLogger | undefined;
  https?: ServerOptions['https'];
}): FastifyInstance {
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
    ...(opts.https ? { https: opts.https } : {}),
  } as FastifyServerOptions);

  app.setErrorHandler((err, req, reply) => {
    // fastify's own client errors (bad content type, body too large, ...) carry a 4xx statusCode.
    // fastify's own client errors (unsupported media type, body too large, bad URL) carry a 4xx
    // statusCode and a message meant for clients; everything else goes through the one mapper.
    const fst = (err as { statusCode?: number }).statusCode;
    let status: number;
    let message: string;
    if (!isSumkeepError(err) && fst !== undefined && fst >= 400 && fst < 500) {
      status = fst;
      message = (err as Error).message;
    } else {
      const h = toHttpError(err);
      status = h.status;
      message = h.message;
      if (h.internal) req.log.error({ err, url: req.url }, 'internal error');
    }
    return reply
      .code(status)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(message.split('\n')[0] + '\n');
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`not found: ${req.method} ${req.url.slice(0, 200)}\n`),
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
}): FastifyInstance {
  const app = baseApp({ loggerInstance: opts.loggerInstance });
  opts.metrics.bind(opts.log, opts.keys ?? null);
  registerReadyRoute(app, opts.log, opts.keys);
  registerMetricsRoute(app, opts.metrics);
  return app;
}
