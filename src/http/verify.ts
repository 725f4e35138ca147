/**
 * Verify-against-store API:
 *   POST /api/v1/verify[?fetch=1]   body: a go.sum (Content-Type text/plain, charset utf-8 if given)
 *   200 application/json, signed (src/http/sign.ts), the form of src/verify/response.ts.
 *
 * Each go.sum line is compared with the logged record of its module version (the zip or the go.mod
 * hash). `unknown`: not in the log; with ?fetch=1 the server first tries to fill it from the
 * upstream, and a version the upstream does not have, refuses (policy, invalid zip) or cannot
 * serve right now (5xx, timeout) stays `unknown` with the reason: one unreachable module must not
 * hide the answer for the rest, and the CLI exits 2 for any unknown line. At most `maxFetch` module
 * versions are fetched per request; the rest stay unknown ("not fetched").
 * A mismatch is a 200 (the check itself succeeded): it is logged (module@version, never the body;
 * the first 20 of a request one by one, the rest as a count) and counted in
 * sumkeep_verify_lines_total{status="mismatch"}.
 * Limits: body over bodyLimit or more than maxLines lines → 413; another content type → 415;
 * no response-signing key → 503; more than `concurrency` verify requests in flight → 503 with
 * `Retry-After: 1`, before the body is read. All record ids are below the returned tree's size.
 *
 * A go.sum of 100,000 lines is seconds of work: parsing, the lookups, the comparison and the JSON
 * of the answer each let the event loop run other requests every 2,000 lines (stepsYielding), so
 * that /healthz and lookups are answered meanwhile.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SumkeepError } from '../core/errors.ts';
import { parseGoSumBytesSteps } from '../verify/gosum-text.ts';
import { stepsYielding } from '../concurrency.ts';
import { decodeUtf8 } from '../core/bytes.ts';
import type { LogApi } from '../log/api.ts';
import { clientGone } from './client-gone.ts';
import type { ResponseSigner } from '../keys/types.ts';
import { summarize, type VerifyResponse } from '../verify/response.ts';
import { requireSigner, signedResponseHook } from './sign.ts';
import { defaultOf } from '../settings.ts';

export const VERIFY_DEFAULTS = {
  bodyLimit: defaultOf('verifyMaxBytes'),
  maxLines: defaultOf('verifyMaxLines'),
  maxFetch: 1000,
  concurrency: defaultOf('verifyConcurrency'),
} as const;

/** Results serialized between two yields to the event loop. */
const JSON_CHUNK = 2000;

/** Mismatches of one request logged line by line; the rest are summed in one line (no log floods). */
const MAX_LOGGED_MISMATCHES = 20;

export interface VerifyRouteOptions {
  log: LogApi;
  signer: ResponseSigner | null;
  /** Counts `n` lines of result `status` (sumkeep_verify_lines_total); absent: not counted. */
  verifyLines?: (status: string, n: number) => void;
  bodyLimit?: number;
  maxLines?: number;
  maxFetch?: number;
  /** Verify requests in flight at once (--verify-concurrency); more answer 503. */
  concurrency?: number;
  /** Told +1 and -1 as checks start and end (sumkeep_verify_requests_in_flight); absent: not told. */
  verifyInFlight?: (delta: 1 | -1) => void;
}

/**
 * JSON.stringify(answer) + "\n", byte for byte (the same keys in the same order, no white space),
 * in steps of JSON_CHUNK results.
 */
function* answerJsonSteps(answer: VerifyResponse): Generator<void, string> {
  const parts: string[] = [`{"tree":${JSON.stringify(answer.tree)},"results":[`];
  for (let i = 0; i < answer.results.length; i += JSON_CHUNK) {
    const piece = answer.results.slice(i, i + JSON_CHUNK).map((r) => JSON.stringify(r));
    parts.push((i > 0 ? ',' : '') + piece.join(','));
    yield;
  }
  parts.push(`],"summary":${JSON.stringify(answer.summary)}}\n`);
  return parts.join('');
}

/** The ?fetch flag: 1/true or 0/false (absent: false). */
function fetchFlag(query: unknown): boolean {
  const v = (query as Record<string, unknown> | undefined)?.fetch;
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true' || v === '') return true;
  throw new SumkeepError('bad_input', 'fetch must be 1 or 0');
}

export function registerVerifyRoutes(app: FastifyInstance, opts: VerifyRouteOptions): void {
  const bodyLimit = opts.bodyLimit ?? VERIFY_DEFAULTS.bodyLimit;
  const maxLines = opts.maxLines ?? VERIFY_DEFAULTS.maxLines;
  const maxFetch = opts.maxFetch ?? VERIFY_DEFAULTS.maxFetch;
  const concurrency = opts.concurrency ?? VERIFY_DEFAULTS.concurrency;
  const { log } = opts;
  let inFlight = 0;

  /**
   * Takes one of the `concurrency` places, before the body is read, or refuses the request
   * (`overloaded`: 503 with Retry-After). The place is given back when the answer has been sent or
   * the connection has gone, whichever comes first.
   */
  const takePlace = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (inFlight >= concurrency) {
      throw new SumkeepError(
        'overloaded',
        `${concurrency} go.sum checks are running (--verify-concurrency); try again in a moment`,
      );
    }
    inFlight++;
    opts.verifyInFlight?.(1);
    let held = true;
    const release = () => {
      if (held) {
        inFlight--;
        opts.verifyInFlight?.(-1);
      }
      held = false;
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  };

  /** Refuses what is not a text/plain go.sum before fastify reads the body. */
  const checkRequest = async (req: FastifyRequest) => {
    const ct = req.headers['content-type'];
    const [media, ...params] = (ct ?? '').split(';').map((s) => s.trim().toLowerCase());
    if (media !== 'text/plain') {
      throw new SumkeepError(
        'unsupported_media_type',
        `POST /api/v1/verify takes a go.sum as text/plain, not ${JSON.stringify((ct ?? 'no content type').slice(0, 100))}`,
      );
    }
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new SumkeepError(
        'unsupported_media_type',
        `go.sum must be UTF-8, not charset ${charset.slice(0, 40)}`,
      );
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > bodyLimit) {
      throw new SumkeepError(
        'too_large',
        `go.sum body of ${length} bytes is over the limit of ${bodyLimit} bytes`,
      );
    }
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    requireSigner(opts.signer);
    const fetch = fetchFlag(req.query);
    const raw = req.body instanceof Uint8Array ? req.body : new Uint8Array(0);
    const parsed = await stepsYielding(parseGoSumBytesSteps(raw, { maxLines }, JSON_CHUNK));

    const { results, head } = await log.checkGoSum(parsed, { fetch, maxFetch, signal: clientGone(reply) });

    const mismatched = results.filter((r) => r.status === 'mismatch');
    for (const r of mismatched.slice(0, MAX_LOGGED_MISMATCHES)) {
      req.log.warn(
        { module: `${r.module}@${r.version}`, kind: r.kind, line: r.line, recordId: r.recordId },
        'go.sum line does not match the log',
      );
    }
    if (mismatched.length > MAX_LOGGED_MISMATCHES) {
      req.log.warn(
        { more: mismatched.length - MAX_LOGGED_MISMATCHES },
        'go.sum lines do not match the log (not logged one by one)',
      );
    }
    const summary = summarize(results);
    // Every status of the summary, whatever later work adds (the label set is open).
    if (opts.verifyLines) for (const [status, n] of Object.entries(summary)) opts.verifyLines(status, n);

    const answer: VerifyResponse = {
      tree: { size: head?.size ?? 0, note: head === null ? '' : (decodeUtf8(head.note) ?? '') },
      results,
      summary,
    };
    // Serialized once: the signature (onSend) covers exactly these bytes.
    const json = await stepsYielding(answerJsonSteps(answer));
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(json);
  };

  // Own scope: a text/plain parser that keeps the raw bytes, with this route's body limit.
  app.register(async (scope) => {
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
      done(null, body);
    });
    scope.post('/api/v1/verify', {
      bodyLimit,
      onRequest: [takePlace, checkRequest],
      onSend: signedResponseHook(() => opts.signer),
      handler,
    });
  });
}
