/** /healthz: the process is up. /readyz: the database is writable and every note key signs. */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';

export function registerHealthRoutes(app: FastifyInstance, store: Store, keyLoaded: () => boolean): void {
  app.get('/healthz', async (_req, reply) =>
    reply.header('content-type', 'text/plain; charset=utf-8').send('ok\n'),
  );
  app.get('/readyz', async (req, reply) => {
    reply.header('content-type', 'text/plain; charset=utf-8');
    if (!keyLoaded()) return reply.code(503).send('not ready: the note key does not sign\n');
    try {
      await store.checkWritable();
    } catch (e) {
      req.log.error({ err: e }, 'readiness: database is not writable');
      return reply.code(503).send('not ready: database is not writable\n');
    }
    return reply.send('ready\n');
  });
}
