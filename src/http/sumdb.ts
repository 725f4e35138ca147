/**
 * The checksum-database protocol routes, as the go command reads them:
 *   GET /lookup/<escaped M>@<escaped V>   200 "<id>\n<record text>\n<signed note>"
 *   GET /latest                           200 the latest signed note (of the size-0 tree for an empty log)
 *   GET /tile/8/<L>/<N>[.p/<W>]           hash tile bytes
 *   GET /tile/8/data/<N>[.p/<W>]          data tile bytes
 * registered both at the root and under /sumdb/<name>/ (for clients that reach the database through
 * a GOPROXY), where /sumdb/<name>/supported answers 200. HEAD is served for every GET route.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SumkeepError } from '../core/errors.ts';
import { unescapePath, unescapeVersion } from '../core/module.ts';
import { formatRecord } from '../core/tlog/index.ts';
import type { LogApi } from '../log/api.ts';
import { clientGone } from './client-gone.ts';

const TEXT = 'text/plain; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Partial tiles are replaced by wider ones as the log grows; /latest changes with every batch. */
const SHORT = 'public, max-age=5';

export interface SumdbRouteOptions {
  log: LogApi;
  /** Log name: the GOSUMDB key name, used in /sumdb/<name>/. */
  name: string;
}

/**
 * Bounds on what a lookup may name. Go sets none, but every module proxy stores a version as a file
 * name ("<escaped version>.info", at most 255 bytes on common file systems), and no real module path
 * comes near 1,024 bytes; longer input is refused before any upstream request.
 */
const MAX_ESCAPED_PATH = 1024;
const MAX_ESCAPED_VERSION = 240;

/** Splits "<escaped path>@<escaped version>" and unescapes both; throws 400-class errors. */
export function parseLookupTarget(target: string): { path: string; version: string } {
  // The first "@", as Go's sumdb server splits: a module path never holds one, a version may.
  const at = target.indexOf('@');
  if (at > MAX_ESCAPED_PATH || target.length - at - 1 > MAX_ESCAPED_VERSION) {
    throw new SumkeepError(
      'bad_input',
      `module path (at most ${MAX_ESCAPED_PATH} bytes) or version (at most ${MAX_ESCAPED_VERSION} bytes) too long`,
    );
  }
  if (at <= 0 || at === target.length - 1) {
    throw new SumkeepError(
      'bad_input',
      `malformed lookup ${JSON.stringify(target.slice(0, 200))}: want <module>@<version>`,
    );
  }
  return { path: unescapePath(target.slice(0, at)), version: unescapeVersion(target.slice(at + 1)) };
}

export function registerSumdbRoutes(app: FastifyInstance, opts: SumdbRouteOptions): void {
  const { log } = opts;

  const lookup = async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const { path, version } = parseLookupTarget(req.params['*']);
    const found = await log.lookup(path, version, { signal: clientGone(reply) });
    return reply
      .header('content-type', TEXT)
      .header('cache-control', 'no-cache')
      .send(Buffer.concat([formatRecord(found.id, found.text), found.head.note]));
  };

  const latest = async (_req: FastifyRequest, reply: FastifyReply) => {
    const note = await log.latestNote();
    return reply.header('content-type', TEXT).header('cache-control', 'no-cache').send(Buffer.from(note));
  };

  const tile = async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const served = await log.readTile('tile/' + req.params['*']);
    reply
      .header('content-type', 'application/octet-stream')
      .header('cache-control', served.full ? IMMUTABLE : SHORT)
      .header('etag', served.etag);
    if (req.headers['if-none-match'] === served.etag) return reply.code(304).send();
    return reply.send(Buffer.from(served.data));
  };

  const routes = (prefix: string) => {
    app.get(`${prefix}/lookup/*`, lookup);
    app.get(`${prefix}/latest`, latest);
    app.get(`${prefix}/tile/*`, tile);
  };
  routes('');
  routes(`/sumdb/${opts.name}`);
  app.get(`/sumdb/${opts.name}/supported`, async (_req, reply) =>
    reply.header('content-type', TEXT).send(''),
  );
}
