/**
 * The one place that maps errors to HTTP. Every non-2xx answer is `text/plain; charset=utf-8` with a
 * single line the go command prints to its user. Known errors (SumkeepError) carry a message written
 * for users; anything else is a server fault: the client gets a generic line and the details go to the
 * log only, so no internals (SQL, paths, stack traces, secrets) ever reach a response.
 */
import type { ErrorCode } from '../core/errors.ts';
import { isRefusal, isSumkeepError } from '../core/errors.ts';

export interface HttpError {
  status: number;
  /** One line, no trailing newline. */
  message: string;
  /** True when the error is a server fault that belongs in the error log. */
  internal: boolean;
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
  store_busy: 503,
  crosscheck_unavailable: 503,
  // The go command prints the body of a 403 to its user: "denied by policy: <reason>".
  policy_denied: 403,
  // nginx's "client closed request": the client has gone, so nobody sees it; it keeps the error
  // out of the internal-error log and shows in the request metrics.
  cancelled: 499,
};

export function toHttpError(e: unknown): HttpError {
  if (isSumkeepError(e)) {
    // A refused module (core/errors.ts isRefusal) is gone for good: 410.
    const status = isRefusal(e) ? 410 : STATUS[e.code];
    if (status !== undefined) return { status, message: oneLine(e.message), internal: false };
  }
  return { status: 500, message: 'internal server error', internal: true };
}

/** Collapses a message to one printable line of bounded length. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > 1000 ? line.slice(0, 997) + '...' : line;
}
