/** /healthz: the process is up. /readyz: the database is writable and every note key signs. */
import type { FastifyInstance } from 'fastify';
import type { LogApi } from '../log/api.ts';

export function registerHealthRoutes(app: FastifyInstance, log: LogApi): void {
  app.get('/healthz', async (_req, reply) =>
    reply.header('content-type', 'text/plain; charset=utf-8').send('ok\n'),
  );
  app.get('/readyz', async (req, reply) => {
    reply.header('content-type', 'text/plain; charset=utf-8');
    const r = await log.ready();
    if (r.ok) return reply.send('ready\n');
    if (r.cause !== undefined) req.log.error({ err: r.cause }, `readiness: ${r.reason}`);
    return reply.code(503).send(`not ready: ${r.reason}\n`);
  });
}
