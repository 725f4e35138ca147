/**
 * A small HTTP(S) client for sumkeep verify: exact response bytes (signatures cover them), a bound
 * on their size, a timeout, an optional CA bundle for servers whose certificate comes from a
 * private root, and no redirects (a signed answer is fetched from where the user pointed).
 */
import http from 'node:http';
import https from 'node:https';
import { SumkeepError } from '../core/errors.ts';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** PEM CA certificates that replace the default roots for https:// URLs. */
  ca?: string | null;
  timeoutMs?: number;
  /** Larger answers fail with too_large. */
  maxBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_BYTES = 16 << 20;

/** The first line of a text body, bounded: what a server says in its one-line error answers. */
export function bodyLine(body: Uint8Array): string {
  const s = Buffer.from(body.subarray(0, 1000)).toString('utf8');
  // eslint-disable-next-line no-control-regex
  return (s.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}

/**
 * One request. Resolves for every HTTP status (the caller judges it); rejects with
 * SumkeepError('upstream_error') when the server cannot be reached or the connection fails,
 * 'upstream_timeout' after timeoutMs, 'too_large' past maxBytes, 'bad_input' for a bad URL.
 */
export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new SumkeepError('bad_input', `not a URL: ${JSON.stringify(url.slice(0, 200))}`));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(
      new SumkeepError('bad_input', `${u.protocol} URLs are not supported: want http(s)`),
    );
  }
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const shown = `${u.origin}${u.pathname}`.slice(0, 300);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': 'sumkeep-verify', ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(opts.body.length);
    const reqOpts: https.RequestOptions = { method: opts.method ?? 'GET', headers };
    if (u.protocol === 'https:' && opts.ca) reqOpts.ca = opts.ca;
    const req = (u.protocol === 'https:' ? https : http).request(u, reqOpts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new SumkeepError('too_large', `${shown}: answer larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        if (size <= maxBytes) {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: new Uint8Array(Buffer.concat(chunks)),
          });
        }
      });
      res.on('error', (e) => req.destroy(e));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new SumkeepError('upstream_timeout', `${shown}: no answer in ${timeoutMs} ms`));
    });
    req.on('error', (e) => {
      if (e instanceof SumkeepError) reject(e);
      else reject(new SumkeepError('upstream_error', `cannot reach ${shown}: ${e.message}`, { cause: e }));
    });
    req.end(opts.body === undefined ? undefined : Buffer.from(opts.body));
  });
}

/** Joins a base URL (with or without a trailing slash, possibly with a path) and a relative path. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
