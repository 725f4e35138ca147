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
 * no response-signing key → 503. All record ids are below the returned tree's size.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { parseRecordLines, type GoSumLine } from '../core/gosum.ts';
import { parseGoSumBytes } from '../verify/gosum-text.ts';
import { decodeUtf8 } from '../core/bytes.ts';
import type { LogRecord, SignedHead } from '../store/store.ts';
import type { LogService } from '../log/service.ts';
import type { ResponseSigner } from '../keys/types.ts';
import { invalidResult, summarize, type VerifyLineResult, type VerifyResponse } from '../verify/response.ts';
import { requireSigner, signedResponseHook } from './sign.ts';
import { eachLimited } from '../concurrency.ts';
import { DEFAULTS } from '../config.ts';

export const VERIFY_DEFAULTS = {
  bodyLimit: DEFAULTS.verifyMaxBytes,
  maxLines: DEFAULTS.verifyMaxLines,
  maxFetch: 1000,
  fetchConcurrency: 8,
} as const;

/** Mismatches of one request logged line by line; the rest are summed in one line (no log floods). */
const MAX_LOGGED_MISMATCHES = 20;

export interface VerifyRouteOptions {
  service: LogService;
  signer: ResponseSigner | null;
  /** Where the verify counters go (the /metrics registry); null: not counted. */
  registry: Registry | null;
  bodyLimit?: number;
  maxLines?: number;
  maxFetch?: number;
  fetchConcurrency?: number;
}

/** Why a module version could not be filled, for these upstream outcomes; others are server faults. */
const UNKNOWN_CODES = new Set([
  'not_found',
  'upstream_not_found',
  'upstream_error',
  'upstream_timeout',
  'invalid_zip',
  'module_mismatch',
  'private_module',
  'too_large',
]);

/** The ?fetch flag: 1/true or 0/false (absent: false). */
function fetchFlag(query: unknown): boolean {
  const v = (query as Record<string, unknown> | undefined)?.fetch;
  if (v === undefined || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true' || v === '') return true;
  throw new SumkeepError('bad_input', 'fetch must be 1 or 0');
}

type Found = { record: LogRecord; zipHash: string; modHash: string } | { reason: string };

function parseLogged(record: LogRecord): Found {
  const text = decodeUtf8(record.text);
  if (text === null) throw new SumkeepError('internal', `record ${record.id} is not UTF-8`);
  const r = parseRecordLines(text);
  if (r.path !== record.path || r.version !== record.version) {
    throw new SumkeepError('internal', `record ${record.id} names another module version`);
  }
  return { record, zipHash: r.zipHash, modHash: r.modHash };
}

export function registerVerifyRoutes(app: FastifyInstance, opts: VerifyRouteOptions): void {
  const bodyLimit = opts.bodyLimit ?? VERIFY_DEFAULTS.bodyLimit;
  const maxLines = opts.maxLines ?? VERIFY_DEFAULTS.maxLines;
  const maxFetch = opts.maxFetch ?? VERIFY_DEFAULTS.maxFetch;
  const concurrency = opts.fetchConcurrency ?? VERIFY_DEFAULTS.fetchConcurrency;
  const { service } = opts;
  const lines = opts.registry
    ? new Counter({
        name: 'sumkeep_verify_lines_total',
        help: 'go.sum lines checked by POST /api/v1/verify, by result',
        labelNames: ['status'] as const,
        registers: [opts.registry],
      })
    : null;

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
    const parsed = parseGoSumBytes(raw, { maxLines });

    // Pass 1: what the log already holds. Paths and versions were checked by parseGoSum.
    const byKey = new Map<string, GoSumLine>();
    for (const l of parsed.lines) byKey.set(`${l.path}@${l.version}`, l);
    const found = new Map<string, Found>();
    for (const [key, l] of byKey) {
      const record = await service.store.lookup(l.path, l.version);
      found.set(key, record === null ? { reason: `${key}: not in the log` } : parseLogged(record));
    }

    // Pass 2 (?fetch=1): fill unknown versions from the upstream, a bounded number per request.
    if (fetch) {
      const missing = [...byKey].filter(([key]) => !('record' in found.get(key)!));
      missing.slice(maxFetch).forEach(([key]) =>
        found.set(key, {
          reason: `${key}: not in the log and not fetched (over ${maxFetch} fetches in one request)`,
        }),
      );
      await eachLimited(missing.slice(0, maxFetch), concurrency, async ([key, l]) => {
        try {
          found.set(key, parseLogged((await service.lookup(l.path, l.version)).record));
        } catch (e) {
          if (!isSumkeepError(e) || !UNKNOWN_CODES.has(e.code)) throw e;
          found.set(key, { reason: e.message.split('\n')[0]!.slice(0, 500) });
        }
      });
    }

    // One head for the whole answer, taken after every lookup: it covers all their records.
    let maxId = -1;
    for (const f of found.values()) if ('record' in f) maxId = Math.max(maxId, f.record.id);
    const head: SignedHead | null =
      maxId >= 0 ? await service.headCovering(maxId) : await service.sequencer.current();

    const results: VerifyLineResult[] = [];
    let mismatches = 0;
    for (const l of parsed.lines) {
      const key = `${l.path}@${l.version}`;
      const f = found.get(key)!;
      const base = { line: l.line, module: l.path, version: l.version, kind: l.kind, hash: l.hash };
      if (!('record' in f)) {
        results.push({ ...base, status: 'unknown', logged: null, recordId: null, reason: f.reason });
        continue;
      }
      const logged = l.kind === 'zip' ? f.zipHash : f.modHash;
      const status = logged === l.hash ? 'match' : 'mismatch';
      if (status === 'mismatch' && ++mismatches <= MAX_LOGGED_MISMATCHES) {
        req.log.warn(
          { module: key, kind: l.kind, line: l.line, recordId: f.record.id },
          'go.sum line does not match the log',
        );
      }
      results.push({ ...base, status, logged, recordId: f.record.id });
    }
    if (mismatches > MAX_LOGGED_MISMATCHES) {
      req.log.warn(
        { more: mismatches - MAX_LOGGED_MISMATCHES },
        'go.sum lines do not match the log (not logged one by one)',
      );
    }
    for (const inv of parsed.invalid) results.push(invalidResult(inv));
    results.sort((a, b) => a.line - b.line);
    const summary = summarize(results);
    if (lines !== null)
      for (const [status, n] of Object.entries(summary)) if (n > 0) lines.inc({ status }, n);

    const answer: VerifyResponse = {
      tree: { size: head?.size ?? 0, note: head === null ? '' : (decodeUtf8(head.note) ?? '') },
      results,
      summary,
    };
    // Serialized once: the signature (onSend) covers exactly these bytes.
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(JSON.stringify(answer) + '\n');
  };

  // Own scope: a text/plain parser that keeps the raw bytes, with this route's body limit.
  app.register(async (scope) => {
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => {
      done(null, body);
    });
    scope.post('/api/v1/verify', {
      bodyLimit,
      onRequest: checkRequest,
      onSend: signedResponseHook(() => opts.signer),
      handler,
    });
  });
}
