/**
 * /healthz: the process is up. /readyz: the database is writable and every signing key signs (the
 * note keys, through the log's readiness; and a response-signing key in a PKCS#11 token: a probe
 * signature each time, which is also what lets a token that came back recover without waiting for
 * traffic).
 */
import type { FastifyInstance } from 'fastify';
import type { LogApi } from '../log/api.ts';
import type { ServingKeys } from '../keys/types.ts';

const PROBE = new TextEncoder().encode('sumkeep readiness probe\n');

/** True when there is no response key in a token, or when it signs a probe now. */
export function responseSignerReady(keys: ServingKeys | null | undefined): boolean {
  const s = keys?.responseSigner;
  if (s === null || s === undefined || s.inToken !== true) return true;
  try {
    return s.sign(PROBE).length > 0;
  } catch {
    return false;
  }
}

/** GET /healthz. */
export function registerHealthRoute(app: FastifyInstance): void {
  app.get('/healthz', async (_req, reply) =>
    reply.header('content-type', 'text/plain; charset=utf-8').send('ok\n'),
  );
}

/** GET /readyz (on the public address, or with /metrics on --metrics-listen). */
export function registerReadyRoute(
  app: FastifyInstance,
  log: LogApi,
  keys: ServingKeys | null | undefined,
): void {
  app.get('/readyz', async (req, reply) => {
    reply.header('content-type', 'text/plain; charset=utf-8');
    const r = responseSignerReady(keys)
      ? await log.ready()
      : { ok: false, reason: 'the response-signing key does not sign', cause: undefined };
    if (r.ok) return reply.send('ready\n');
    if (r.cause !== undefined) req.log.error({ err: r.cause }, `readiness: ${r.reason}`);
    else req.log.warn(`readiness: ${r.reason}`);
    return reply.code(503).send(`not ready: ${r.reason}\n`);
  });
}
