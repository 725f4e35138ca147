/**
 * The status page, for people rather than the go command:
 *   GET /                 HTML when the client asks for text/html (a browser), else plain text (curl)
 *   GET /?q=<prefix>      the same with the logged versions of modules whose path starts with prefix
 *   POST /verify          form body gosum=<go.sum> (application/x-www-form-urlencoded): the page with
 *                         that go.sum checked against the log (the verify box without JavaScript)
 *   GET /static/status.js, /static/status.css   the page's one script and its stylesheet
 *
 * Everything comes from this server (these networks are offline) under a strict
 * Content-Security-Policy: scripts, styles, fetches and form posts to this origin only, no inline
 * script or style, no framing. The data comes through LogApi only, in bounded amounts: the latest
 * head, STATUS_LIMITS.growthPoints samples of the heads, the STATUS_LIMITS.recent newest records,
 * at most STATUS_LIMITS.search search results; POST /verify keeps the verify API's limits and never
 * fetches from the upstream.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { utf8 } from '../core/bytes.ts';
import type { LogApi } from '../log/api.ts';
import type { ServingKeys } from '../keys/types.ts';
import { parseGoSumBytes } from '../verify/gosum-text.ts';
import { summarize } from '../verify/response.ts';
import { clientGone } from './client-gone.ts';
import { oneLine, toHttpError } from './errors.ts';
import { renderStatusHtml } from './status-html.ts';
import { renderStatusText } from './status-text.ts';
import type { StatusView, VerifyView } from './status-view.ts';
import { gosumdbValue } from './trust.ts';

export const STATUS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const STATUS_LIMITS = { recent: 20, search: 50, growthPoints: 48 } as const;

/** static/ at the package root, from src/http/ (tsx) and from dist/http/ (built) alike. */
const STATIC_DIR = new URL('../../static/', import.meta.url);

export interface StatusRouteOptions {
  log: LogApi;
  name: string;
  keys: Pick<ServingKeys, 'verifierKey'> | null;
  /** Public base URL, as for /api/v1/gosumdb (src/http/trust.ts). */
  publicUrl: string | null | (() => string | null);
  /** The verify API's limits: largest go.sum (bytes) and most lines. */
  verify: { bodyLimit: number; maxLines: number };
}

/**
 * True when the Accept header asks for text/html (or XHTML) at least as much as for text/plain:
 * browsers send "text/html,...,*\/*;q=0.8", curl sends "*\/*" (text then).
 */
export function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let html = 0;
  let text = 0;
  for (const part of accept.slice(0, 1000).split(',')) {
    const [media = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    if (!Number.isFinite(q)) continue;
    if (media === 'text/html' || media === 'application/xhtml+xml') html = Math.max(html, q);
    else if (media === 'text/plain') text = Math.max(text, q);
  }
  return html > 0 && html >= text;
}

/** Headers of every status response: the CSP and the usual refusals of sniffing, framing, referrers. */
function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', STATUS_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

export function registerStatusRoutes(app: FastifyInstance, opts: StatusRouteOptions): void {
  const { log } = opts;
  const script = readFileSync(new URL('status.js', STATIC_DIR));
  const style = readFileSync(new URL('status.css', STATIC_DIR));
  const limits = {
    recent: STATUS_LIMITS.recent,
    search: STATUS_LIMITS.search,
    verifyLines: opts.verify.maxLines,
    verifyBytes: opts.verify.bodyLimit,
  };

  const view = async (search: StatusView['search'], verify: VerifyView | null): Promise<StatusView> => {
    const url = typeof opts.publicUrl === 'function' ? opts.publicUrl() : opts.publicUrl;
    const [head, growth, recent] = [
      await log.latest(),
      await log.growth(STATUS_LIMITS.growthPoints),
      await log.recent(STATUS_LIMITS.recent),
    ];
    return {
      name: opts.name,
      gosumdb: opts.keys === null || url === null ? null : gosumdbValue(opts.keys.verifierKey, url),
      head: head === null ? null : { size: head.size, createdAt: head.createdAt },
      growth,
      recent,
      search,
      verify,
      limits,
      now: Date.now(),
    };
  };

  /** A user's mistake (bad prefix, go.sum too large) is shown on the page, with its status. */
  const userError = (e: unknown): { status: number; message: string } => {
    if (!isSumkeepError(e)) throw e;
    const h = toHttpError(e);
    if (h.internal || h.status >= 500) throw e;
    return { status: h.status, message: h.message };
  };

  app.get('/', async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = (req.query as Record<string, unknown> | undefined)?.q;
    let search: StatusView['search'] = null;
    let status = 200;
    if (raw !== undefined) {
      const q = typeof raw === 'string' ? raw.trim() : '';
      if (typeof raw !== 'string') {
        status = 400;
        search = { q: '', results: [], more: false, error: 'give one search prefix (q)' };
      } else if (q !== '') {
        try {
          const found = await log.search(q, STATUS_LIMITS.search + 1);
          search = {
            q,
            results: found.slice(0, STATUS_LIMITS.search),
            more: found.length > STATUS_LIMITS.search,
            error: null,
          };
        } catch (e) {
          const u = userError(e);
          status = u.status;
          search = { q: q.slice(0, 512), results: [], more: false, error: u.message };
        }
      }
    }
    const v = await view(search, null);
    const asHtml = wantsHtml(req.headers.accept);
    return secure(reply)
      .code(status)
      .header('vary', 'Accept')
      .header('cache-control', 'no-store')
      .header('content-type', asHtml ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8')
      .send(asHtml ? renderStatusHtml(v) : renderStatusText(v));
  });

  app.get('/static/status.js', async (_req, reply) =>
    secure(reply)
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(script),
  );
  app.get('/static/status.css', async (_req, reply) =>
    secure(reply)
      .header('content-type', 'text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .send(style),
  );

  // A percent-encoded go.sum is at most three times its size, plus the field name.
  const formLimit = 3 * opts.verify.bodyLimit + 1024;
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: formLimit },
      (_req, body, done) => done(null, new URLSearchParams(body as string)),
    );
    scope.post('/verify', { bodyLimit: formLimit }, async (req, reply) => {
      if (!(req.body instanceof URLSearchParams)) {
        throw new SumkeepError(
          'unsupported_media_type',
          'POST /verify takes the status page form (application/x-www-form-urlencoded); for a go.sum as text use POST /api/v1/verify',
        );
      }
      // Browsers send a textarea's line breaks as CRLF; go.sum lines end in LF.
      const gosum = (req.body.get('gosum') ?? '').replace(/\r\n?/g, '\n');
      const bytes = utf8(gosum);
      let verify: VerifyView;
      let status = 200;
      try {
        if (bytes.length > opts.verify.bodyLimit) {
          throw new SumkeepError(
            'too_large',
            `go.sum of ${bytes.length} bytes is over the limit of ${opts.verify.bodyLimit} bytes`,
          );
        }
        const parsed = parseGoSumBytes(bytes, { maxLines: opts.verify.maxLines });
        const { results, head } = await log.checkGoSum(parsed, {
          fetch: false,
          maxFetch: 0,
          signal: clientGone(reply),
        });
        verify = { gosum, results, summary: summarize(results), treeSize: head?.size ?? 0 };
      } catch (e) {
        const u = userError(e);
        status = u.status;
        verify = { gosum: bytes.length > opts.verify.bodyLimit ? '' : gosum, error: oneLine(u.message) };
      }
      const v = await view(null, verify);
      return secure(reply)
        .code(status)
        .header('cache-control', 'no-store')
        .header('content-type', 'text/html; charset=utf-8')
        .send(renderStatusHtml(v));
    });
  });
}
