/**
 * /healthz: the process is up. /readyz: the database is writable and every signing key signs (the
 * note keys, and a response-signing key in a PKCS#11 token: a probe signature each time, which is
 * also what lets a token that came back recover without waiting for traffic).
 */
import type { FastifyInstance } from 'fastify';
import type { ServingKeys } from '../keys/types.ts';
import type { Store } from '../store/store.ts';

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

export function registerHealthRoutes(app: FastifyInstance, store: Store, keyLoaded: () => boolean): void {
  app.get('/healthz', async (_req, reply) =>
    reply.header('content-type', 'text/plain; charset=utf-8').send('ok\n'),
  );
  app.get('/readyz', async (req, reply) => {
    reply.header('content-type', 'text/plain; charset=utf-8');
    if (!keyLoaded()) {
      req.log.warn('readiness: a signing key does not sign');
      return reply
        .code(503)
        .send('not ready: a signing key does not sign (a note key or the response-signing key)\n');
    }
    try {
      await store.checkWritable();
    } catch (e) {
      req.log.error({ err: e }, 'readiness: database is not writable');
      return reply.code(503).send('not ready: database is not writable\n');
    }
    return reply.send('ready\n');
  });
}
