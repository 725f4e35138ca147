/**
 * Trust material, public by design:
 *   GET /.well-known/sumkeep/trust.json   the trust bundle (TrustBundle) as the ceremony wrote it
 *   GET /.well-known/jwks.json            {"keys": [...]}: the response-signing keys with their x5c chains
 *   GET /api/v1/gosumdb                   text: the GOSUMDB value and how to configure the go command
 * A key directory without a ceremony (only a note key) has no bundle: the first two answer 404
 * with a one-line reason. /api/v1/gosumdb needs only the verifier key and the public URL.
 */
import type { FastifyInstance } from 'fastify';
import { SumkeepError } from '../core/errors.ts';
import type { ServingKeys, TrustBundle } from '../keys/types.ts';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
/** Rotation publishes new keys: caches may keep the material for minutes, not days. */
const CACHE = 'public, max-age=300';

export interface TrustRouteOptions {
  keys: Pick<ServingKeys, 'verifierKey' | 'trust'> | null;
  /**
   * Public base URL (what follows the key in GOSUMDB), without a trailing slash; a function when it
   * is known only once the server listens (port 0).
   */
  publicUrl: string | null | (() => string | null);
}

/** The GOSUMDB value: `<verifier key> <public URL>` (one space). */
export function gosumdbValue(verifierKey: string, url: string): string {
  return `${verifierKey} ${url}`;
}

/**
 * The text of /api/v1/gosumdb. The first line is exactly `GOSUMDB=<verifier key> <url>` (what
 * `sumkeep serve` prints), the rest are comments and commands a shell can run as they are.
 */
export function gosumdbText(verifierKey: string, url: string, trust: TrustBundle | null): string {
  const value = gosumdbValue(verifierKey, url);
  const lines = [
    `GOSUMDB=${value}`,
    '',
    '# Make the go command check every new module version against this checksum database:',
    `go env -w 'GOSUMDB=${value}'`,
  ];
  if (url.startsWith('https://') && trust !== null) {
    lines.push(
      '',
      '# If the server certificate comes from the private root of this database, give the go command',
      '# a CA bundle that holds it (root certificate SHA-256 below), e.g.:',
      `#   export SSL_CERT_FILE=/path/to/bundle-with-root-ca.pem   # root sha256 ${trust.root.sha256}`,
    );
  }
  if (trust !== null) {
    lines.push(
      '',
      '# Check a go.sum against the log, with signed answers pinned to the root in trust.json:',
      `curl -fsS ${url}/.well-known/sumkeep/trust.json -o trust.json`,
      `npx sumkeep verify go.sum --server ${url} --trust trust.json`,
    );
  }
  return lines.join('\n') + '\n';
}

export function registerTrustRoutes(app: FastifyInstance, opts: TrustRouteOptions): void {
  const bundle = (): TrustBundle => {
    const trust = opts.keys?.trust ?? null;
    if (trust === null) {
      throw new SumkeepError(
        'not_found',
        'this server has no trust bundle: its key directory was not made by `npx sumkeep ceremony init`',
      );
    }
    return trust;
  };

  app.get('/.well-known/sumkeep/trust.json', async (_req, reply) =>
    reply
      .header('content-type', JSON_TYPE)
      .header('cache-control', CACHE)
      .send(JSON.stringify(bundle(), null, 2) + '\n'),
  );

  app.get('/.well-known/jwks.json', async (_req, reply) =>
    reply
      .header('content-type', JSON_TYPE)
      .header('cache-control', CACHE)
      .send(JSON.stringify({ keys: bundle().jwks.keys }) + '\n'),
  );

  app.get('/api/v1/gosumdb', async (_req, reply) => {
    const url = typeof opts.publicUrl === 'function' ? opts.publicUrl() : opts.publicUrl;
    if (opts.keys === null || url === null) {
      throw new SumkeepError('not_found', 'this server was started without a verifier key or public URL');
    }
    return reply
      .header('content-type', TEXT)
      .header('cache-control', CACHE)
      .send(gosumdbText(opts.keys.verifierKey, url, opts.keys.trust));
  });
}
