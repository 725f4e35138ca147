/**
 * Signed go.sum answers:
 *   GET /api/v1/gosum/<M>@<V>   200 text/plain: the two go.sum lines of M@V, exactly the record text
 *                               "M V h1:<zip>\nM V/go.mod h1:<go.mod>\n"
 * filled from the upstream on demand, as /lookup is. <M>@<V> is written as /lookup writes it
 * (escaped: "!" + lower case for upper case); a target with upper-case letters and no "!" is taken
 * as already unescaped, since "!" never occurs in a module path or version (so both forms of one
 * module version name it unambiguously). Signed as src/http/sign.ts says; 503 without a signing key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isRefusal, isSumkeepError } from '../core/errors.ts';
import type { LogApi } from '../log/api.ts';
import { clientGone } from './client-gone.ts';
import type { ResponseSigner } from '../keys/types.ts';
import { parseLookupTarget } from './sumdb.ts';
import { requireSigner, signedResponseHook } from './sign.ts';

const TEXT = 'text/plain; charset=utf-8';

export interface GosumRouteOptions {
  log: LogApi;
  signer: ResponseSigner | null;
  /** Counts `n` go.sum lines of result `status` (sumkeep_verify_lines_total); absent: not counted. */
  verifyLines?: (status: string, n: number) => void;
}

/** Not a module version (bad target): the two lines asked for are `invalid`. */
const INVALID_CODES = new Set(['bad_input', 'bad_module_path', 'bad_version']);
/** The log does not hold it and cannot (not upstream, refused, upstream down): `unknown`. */
const UNKNOWN_CODES = new Set(['not_found', 'upstream_not_found', 'upstream_error', 'upstream_timeout']);

/**
 * The result a failed answer counts under in sumkeep_verify_lines_total, for the two lines the
 * client asked about; null for a server fault or a client that left (nothing was checked). A served
 * answer compares nothing (the client compares the lines), so it counts no line.
 */
export function gosumLineStatus(e: unknown): 'invalid' | 'unknown' | null {
  if (!isSumkeepError(e)) return null;
  if (INVALID_CODES.has(e.code)) return 'invalid';
  return UNKNOWN_CODES.has(e.code) || isRefusal(e) || e.code === 'policy_denied' ? 'unknown' : null;
}

/** path and version of an API target, escaped or (see above) plain. Throws 400-class errors. */
export function parseApiTarget(target: string): { path: string; version: string } {
  try {
    return parseLookupTarget(target);
  } catch (e) {
    // Only the unescaping can object to a plain path with capitals; validation comes later. A
    // bad_input (over the length bounds, no "@") holds for the plain form too, so it stands.
    if (!isSumkeepError(e) || e.code === 'bad_input' || target.includes('!') || !/[A-Z]/.test(target))
      throw e;
    const at = target.indexOf('@');
    if (at <= 0 || at === target.length - 1) throw e;
    return { path: target.slice(0, at), version: target.slice(at + 1) };
  }
}

export function registerGosumRoutes(app: FastifyInstance, opts: GosumRouteOptions): void {
  const onSend = signedResponseHook(() => opts.signer);
  app.get<{ Params: { '*': string } }>(
    '/api/v1/gosum/*',
    { onSend },
    async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
      requireSigner(opts.signer);
      let text: Uint8Array;
      try {
        const { path, version } = parseApiTarget(req.params['*']);
        ({ text } = await opts.log.lookup(path, version, { signal: clientGone(reply) }));
      } catch (e) {
        const status = gosumLineStatus(e);
        if (status !== null) opts.verifyLines?.(status, 2);
        throw e;
      }
      return reply.header('content-type', TEXT).header('cache-control', 'no-cache').send(Buffer.from(text));
    },
  );
}
