/**
 * The one place that maps errors to HTTP. Every non-2xx answer is `text/plain; charset=utf-8` with a
 * single line the go command prints to its user. Known errors (SumkeepError) carry a message written
 * for users; anything else is a server fault: the client gets a generic line and the details go to the
 * log only, so no internals (SQL, paths, stack traces, secrets) ever reach a response.
 *
 * fastify's own client errors (a URL that does not decode, a body over the route's limit, ...) and
 * Node's (a request the HTTP parser refuses, headers too large, a client too slow to send its
 * request) are mapped here too, to a status and a line of our own: their texts name fastify's error
 * codes and echo the request, and Node's default answer is JSON.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorCode } from '../core/errors.ts';
import { isRefusal, isSumkeepError } from '../core/errors.ts';

export interface HttpError {
  status: number;
  /** One line, no trailing newline. */
  message: string;
  /** True when the error is a server fault that belongs in the error log. */
  internal: boolean;
  /** Seconds for a Retry-After header (a limit that frees up soon), when there is one. */
  retryAfterS?: number;
}

/** What the request was allowed: the mapper names the limit a client went over. */
export interface ErrorContext {
  /** The route's body limit in bytes. */
  bodyLimit?: number;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_input: 400,
  bad_module_path: 400,
  bad_version: 400,
  bad_gosum: 400,
  malformed_tile: 400,
  not_found: 404,
  upstream_not_found: 404,
  too_large: 413,
  unsupported_media_type: 415,
  conflict: 409,
  upstream_error: 502,
  upstream_timeout: 504,
  unavailable: 503,
  overloaded: 503,
  store_busy: 503,
  crosscheck_unavailable: 503,
  // The go command prints the body of a 403 to its user: "denied by policy: <reason>".
  policy_denied: 403,
  // nginx's "client closed request": the client has gone, so nobody sees it; it keeps the error
  // out of the internal-error log and shows in the request metrics.
  cancelled: 499,
};

/** Lines for fastify's client errors (by fastify error code), in place of fastify's own texts. */
const FRAMEWORK: Record<string, (ctx: ErrorContext) => string> = {
  FST_ERR_BAD_URL: () => 'malformed URL: a percent-encoding that does not decode to UTF-8',
  FST_ERR_MAX_PARAM_LENGTH: () => 'URL path too long',
  FST_ERR_CTP_BODY_TOO_LARGE: (ctx) =>
    ctx.bodyLimit !== undefined
      ? `request body over the limit of ${ctx.bodyLimit} bytes`
      : 'request body over the limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => 'unsupported content type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => 'request body length does not match Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'empty request body',
  FST_ERR_CTP_INVALID_JSON_BODY: () => 'request body is not valid JSON',
};

/** The status of a fastify client error (a 4xx statusCode on an error that is not ours). */
function frameworkStatus(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const status = (e as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status <= 499 ? status : undefined;
}

/** "Bad Request" -> "bad request": the line for a client error without a text of our own. */
function statusLine(status: number): string {
  return (STATUS_CODES[status] ?? 'bad request').toLowerCase();
}

export function toHttpError(e: unknown, ctx: ErrorContext = {}): HttpError {
  if (isSumkeepError(e)) {
    // A refused module (core/errors.ts isRefusal) is gone for good: 410.
    const status = isRefusal(e) ? 410 : STATUS[e.code];
    if (status !== undefined) {
      const h: HttpError = { status, message: oneLine(e.message), internal: false };
      if (e.code === 'overloaded') h.retryAfterS = 1;
      return h;
    }
    return { status: 500, message: 'internal server error', internal: true };
  }
  const status = frameworkStatus(e);
  if (status !== undefined) {
    const code = String((e as { code?: unknown }).code);
    const text = FRAMEWORK[code];
    return { status, message: text !== undefined ? text(ctx) : statusLine(status), internal: false };
  }
  return { status: 500, message: 'internal server error', internal: true };
}

/**
 * The answer to a request Node's HTTP parser refused or timed out (the server's 'clientError'):
 * status and line, or null when nothing can be sent (the connection is gone).
 */
export function clientErrorToHttp(e: { code?: string }): HttpError | null {
  switch (e.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'request not received in time', internal: false };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request headers too large', internal: false };
    default:
      return { status: 400, message: 'malformed HTTP request', internal: false };
  }
}

/** The bytes of an HttpError written straight to a socket (no fastify reply), closing it. */
export function rawHttpAnswer(h: HttpError): string {
  const body = h.message + '\n';
  return (
    `HTTP/1.1 ${h.status} ${STATUS_CODES[h.status] ?? ''}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Collapses a message to one printable line of bounded length. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > 1000 ? line.slice(0, 997) + '...' : line;
}
