/**
 * One GET from one proxy entry, with the limits every upstream request carries:
 *
 * - Timeouts, per attempt: `connectMs` bounds the wait for the response headers AND every silence
 *   while the body streams (a stalled body is a hung connection); `totalMs` bounds the whole
 *   request. The caller's AbortSignal is honoured throughout; when it aborts, the promise rejects
 *   with its reason (as fetch does) and nothing is retried.
 * - Sizes: a Content-Length above the limit is refused before reading; the body is counted as it
 *   arrives (after content decoding) and the read stops at limit + 1 bytes.
 * - Concurrency: every attempt runs under the shared Limiter (limiter.ts), queued in arrival order;
 *   the caller's signal also takes a queued attempt out of the queue.
 * - Retries with backoff (see backoff.ts) on 5xx, network errors and silence timeouts. Never on a
 *   4xx, an oversized body, or the total timeout (a proxy that is merely slow would be asked for
 *   the same slow answer again).
 * - Redirects: followed only within the proxy base's origin, at most MAX_REDIRECTS hops (see
 *   followSameOrigin); anything else is 'upstream_error'.
 * - `file://` bases read from disk with the same size limits; a missing file is "not found".
 *
 * Failures are SumkeepError: 'upstream_not_found' (404, 410, missing file), 'upstream_timeout',
 * 'too_large', 'upstream_error'. Their messages are one line, start with the file's label
 * (`@v/v1.2.3.zip`), and never carry credentials or text the proxy chose (status texts come from
 * Node's own table, not from the response).
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../core/errors.ts';
import { SumkeepError } from '../core/errors.ts';
import { backoffDelay, sleep } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Limiter } from './limiter.ts';
import type { ProxyEntry } from './proxy-list.ts';
import { displayProxy } from './proxy-list.ts';
import { scrubUserinfo } from './redact.ts';

/**
 * A proxy entry resolved once into what a request needs. `display` is the entry without
 * userinfo, for the operator (the start line, a record's source); `shown` is how error messages,
 * which reach clients and the log, name it: the same for http(s), but `file:// mirror #<n>` (its
 * place in the list) for a file:// entry, whose URL is a local directory.
 */
export type ProxyTarget =
  | { readonly kind: 'off'; readonly display: string; readonly shown: string }
  | {
      readonly kind: 'http';
      readonly display: string;
      readonly shown: string;
      /** Base URL without userinfo and without a trailing slash. */
      readonly base: string;
      /** `Basic ...` from the URL's userinfo, or null. Never printed. */
      readonly authorization: string | null;
    }
  | { readonly kind: 'file'; readonly display: string; readonly shown: string; readonly dir: string };

/** `index`: the entry's place in the list (0 for the first). */
export function proxyTarget(entry: ProxyEntry, index = 0): ProxyTarget {
  const display = displayProxy(entry);
  if (entry.url === 'off') return { kind: 'off', display, shown: display };
  const u = new URL(entry.url);
  if (u.protocol === 'file:') {
    return {
      kind: 'file',
      display,
      shown: `file:// mirror #${index + 1}`,
      dir: fileURLToPath(entry.url + '/'),
    };
  }
  let authorization: string | null = null;
  if (u.username !== '' || u.password !== '') {
    // fetch refuses URLs with credentials; send them as HTTP Basic auth, as the go command does.
    const creds = `${decodeComponent(u.username)}:${decodeComponent(u.password)}`;
    authorization = 'Basic ' + Buffer.from(creds, 'utf8').toString('base64');
    u.username = '';
    u.password = '';
  }
  let base = u.href;
  while (base.endsWith('/')) base = base.slice(0, -1);
  return { kind: 'http', display, shown: display, base, authorization };
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface TransportConfig {
  readonly fetch: typeof fetch;
  readonly connectMs: number;
  readonly totalMs: number;
  /** Total attempts per request, at least 1. */
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  /** The process's limit on requests in flight: each attempt holds a slot while it runs. */
  readonly limiter: Limiter;
  /** Told how each HTTP attempt ended (not a cancelled one: the client left, not the upstream). */
  readonly onRequest?: RequestObserver | undefined;
}

/** How one HTTP attempt ended: 200 read; 404/410; timed out; anything else (5xx, network, size). */
export type RequestOutcome = 'ok' | 'not_found' | 'error' | 'timeout';
export type RequestObserver = (outcome: RequestOutcome, seconds: number) => void;

function outcomeOf(e: unknown): RequestOutcome {
  if (!(e instanceof AttemptFailure)) return 'error';
  if (e.code === 'upstream_not_found') return 'not_found';
  return e.code === 'upstream_timeout' ? 'timeout' : 'error';
}

/** A failed attempt, before the retry loop decides whether it is final. */
class AttemptFailure {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly retryable: boolean,
    readonly cause?: unknown,
  ) {}
}

const READ_CHUNK = 64 * 1024;

export class ProxyTransport {
  constructor(private readonly cfg: TransportConfig) {}

  /**
   * The whole body of `<base>/<rel>`, at most `limit` bytes. `rel` is already escaped
   * (escapePath/escapeVersion output: no `..`, no `%`); `label` names it in messages.
   */
  async readBytes(
    target: ProxyTarget,
    rel: string,
    label: string,
    limit: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    if (target.kind === 'file') return readLocalBytes(join(target.dir, ...rel.split('/')), label, limit);
    if (target.kind === 'off')
      throw new SumkeepError('upstream_not_found', 'module lookup disabled by GOPROXY=off');
    return this.withRetries(signal, () =>
      this.httpOnce(target, rel, label, limit, signal, async (body, kick) => {
        const chunks: Uint8Array[] = [];
        let n = 0;
        for await (const chunk of body) {
          kick();
          n += chunk.byteLength;
          if (n > limit) throw tooLarge(label, limit);
          chunks.push(chunk);
        }
        return joinChunks(chunks, n);
      }),
    );
  }

  /**
   * Makes `<base>/<rel>` (at most `limit` bytes) available as a file and returns its path: for
   * http(s) the body is streamed into `dest` (created or truncated, mode 0600; the caller owns and
   * deletes it, also on failure); for file:// it is the file in the mirror itself, read in place.
   */
  async fetchToFile(
    target: ProxyTarget,
    rel: string,
    label: string,
    limit: number,
    dest: string,
    signal?: AbortSignal,
  ): Promise<string> {
    if (target.kind === 'file') {
      const file = join(target.dir, ...rel.split('/'));
      await statLocalFile(file, label, limit);
      return file;
    }
    if (target.kind === 'off')
      throw new SumkeepError('upstream_not_found', 'module lookup disabled by GOPROXY=off');
    return this.withRetries(signal, () =>
      this.httpOnce(target, rel, label, limit, signal, async (body, kick) => {
        const fh = await open(dest, 'w', 0o600);
        try {
          let n = 0;
          for await (const chunk of body) {
            kick();
            n += chunk.byteLength;
            if (n > limit) throw tooLarge(label, limit);
            await writeAll(fh, chunk);
          }
        } finally {
          await fh.close();
        }
        return dest;
      }),
    );
  }

  /** `once`, reported to onRequest with its duration and outcome. */
  private async observed<T>(once: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const report = this.cfg.onRequest;
    if (report === undefined) return once();
    const started = performance.now();
    try {
      const r = await once();
      report('ok', (performance.now() - started) / 1000);
      return r;
    } catch (e) {
      if (!signal?.aborted) report(outcomeOf(e), (performance.now() - started) / 1000);
      throw e;
    }
  }

  private async withRetries<T>(signal: AbortSignal | undefined, once: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        // Waiting for a slot is not part of the attempt: its timers start once it holds one.
        return await this.cfg.limiter.run(() => this.observed(once, signal), signal);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (!(e instanceof AttemptFailure)) throw e;
        if (!e.retryable || attempt >= this.cfg.attempts) {
          const reason = attempt > 1 ? `${e.reason} (after ${attempt} attempts)` : e.reason;
          throw new SumkeepError(e.code, scrubUserinfo(reason), { cause: e.cause });
        }
      }
      await sleep(backoffDelay(this.cfg.backoff, attempt), signal);
    }
  }

  /**
   * GET `<base>/<rel>`, following redirects by hand (fetch's `follow` would go anywhere, https to
   * http included, and decide itself which headers travel). A hop is followed only when its
   * Location resolves to the proxy base's own origin (scheme, host and port): the credentials of
   * the proxy URL are sent on such hops and on no other, and a proxy cannot point sumkeep at a
   * host of its choosing. Another origin, a loop or more than MAX_REDIRECTS hops is a final
   * 'upstream_error' (not retried: the proxy would answer the same). Messages never show the
   * Location (it may carry a token in its userinfo or query).
   */
  private async followSameOrigin(
    target: Extract<ProxyTarget, { kind: 'http' }>,
    rel: string,
    label: string,
    timer: AttemptTimer,
  ): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': 'sumkeep' };
    if (target.authorization !== null) headers.authorization = target.authorization;
    const origin = new URL(target.base).origin;
    let url = `${target.base}/${rel}`;
    const seen = new Set<string>([url]);
    for (let hops = 0; ; hops++) {
      let res: Response;
      try {
        res = await this.cfg.fetch(url, { signal: timer.signal, headers, redirect: 'manual' });
      } catch (e) {
        throw timer.classify(e, label);
      }
      if (!REDIRECT_STATUS.has(res.status)) return res;
      await discard(res);
      const location = res.headers.get('location');
      if (location === null || location === '') {
        throw new AttemptFailure(
          'upstream_error',
          `${label}: ${res.status} ${STATUS_CODES[res.status] ?? ''} without a Location`,
          false,
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new AttemptFailure('upstream_error', `${label}: redirect to an invalid URL`, false);
      }
      if (next.origin !== origin) {
        throw new AttemptFailure('upstream_error', `${label}: redirect to another origin`, false);
      }
      // fetch refuses URLs with userinfo; the same origin gets the proxy's own credentials anyway.
      next.username = '';
      next.password = '';
      next.hash = '';
      url = next.href;
      if (seen.has(url)) throw new AttemptFailure('upstream_error', `${label}: redirect loop`, false);
      if (hops + 1 > MAX_REDIRECTS) {
        throw new AttemptFailure(
          'upstream_error',
          `${label}: too many redirects (more than ${MAX_REDIRECTS})`,
          false,
        );
      }
      seen.add(url);
    }
  }

  /** One attempt: GET, status check, then `consume` the body under the attempt's timers. */
  private async httpOnce<T>(
    target: Extract<ProxyTarget, { kind: 'http' }>,
    rel: string,
    label: string,
    limit: number,
    caller: AbortSignal | undefined,
    consume: (body: AsyncIterable<Uint8Array>, kick: () => void) => Promise<T>,
  ): Promise<T> {
    const timer = new AttemptTimer(this.cfg.connectMs, this.cfg.totalMs, caller);
    try {
      const res = await this.followSameOrigin(target, rel, label, timer);
      if (res.status !== 200) {
        await discard(res);
        const status = `${res.status} ${STATUS_CODES[res.status] ?? 'Unknown Status'}`;
        if (res.status === 404 || res.status === 410) {
          throw new AttemptFailure('upstream_not_found', status, false);
        }
        throw new AttemptFailure(
          'upstream_error',
          `${label}: ${status}`,
          res.status >= 500 && res.status <= 599,
        );
      }
      // Content-Length counts encoded bytes; with a Content-Encoding only the decoded count decides.
      const declared = res.headers.get('content-length');
      const encoding = res.headers.get('content-encoding');
      const identity = encoding === null || encoding.trim().toLowerCase() === 'identity';
      if (identity && declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > limit) {
        await discard(res);
        throw tooLarge(label, limit);
      }
      timer.kick();
      try {
        return await consume(res.body ?? emptyBody(), () => timer.kick());
      } catch (e) {
        if (e instanceof AttemptFailure) throw e;
        throw timer.classify(e, label);
      }
    } finally {
      timer.done();
    }
  }
}

/** Redirects followed per request at most (the go command's client follows up to 10 across hosts). */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/**
 * The two timers of one attempt and the signal that combines them with the caller's. Own
 * timers (not AbortSignal.timeout) so that they are cleared as soon as the attempt ends.
 */
class AttemptTimer {
  readonly signal: AbortSignal;
  private readonly idle = new AbortController();
  private readonly total = new AbortController();
  private readonly idleTimer: ReturnType<typeof setTimeout>;
  private readonly totalTimer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly connectMs: number,
    private readonly totalMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.idleTimer = setTimeout(() => this.idle.abort(new Error('upstream silent')), connectMs);
    this.totalTimer = setTimeout(() => this.total.abort(new Error('upstream too slow')), totalMs);
    const parts = [this.idle.signal, this.total.signal];
    if (caller !== undefined) parts.push(caller);
    this.signal = AbortSignal.any(parts);
  }

  /** Progress was made: the silence timer starts again. */
  kick(): void {
    this.idleTimer.refresh();
  }

  done(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.totalTimer);
  }

  /** What an exception from fetch or the body stream means, given which signal fired. */
  classify(e: unknown, label: string): unknown {
    if (this.caller?.aborted) return e; // the retry loop rethrows the caller's reason
    if (this.total.signal.aborted) {
      return new AttemptFailure(
        'upstream_timeout',
        `${label}: not complete within ${this.totalMs} ms`,
        false,
        e,
      );
    }
    if (this.idle.signal.aborted) {
      return new AttemptFailure(
        'upstream_timeout',
        `${label}: no response for ${this.connectMs} ms`,
        true,
        e,
      );
    }
    return new AttemptFailure('upstream_error', `${label}: ${networkReason(e)}`, true, e);
  }
}

/** One line naming a network failure: the system error code where there is one. */
function networkReason(e: unknown): string {
  const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const message = cause.message.replace(/\s+/g, ' ').slice(0, 200);
    if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) {
      return message.includes(code) ? `network error: ${message}` : `network error: ${code}: ${message}`;
    }
    return `network error: ${message}`;
  }
  return 'network error';
}

function tooLarge(label: string, limit: number): AttemptFailure {
  return new AttemptFailure('too_large', `${label} is larger than ${formatSize(limit)}`, false);
}

/** Sizes in messages: whole MiB where exact, else bytes. */
export function formatSize(n: number): string {
  const mib = 1024 * 1024;
  return n >= mib && n % mib === 0 ? `${n / mib} MiB` : `${n} bytes`;
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // The connection is being torn down anyway.
  }
}

/** A plain Uint8Array (not a Buffer that may share Node's pool) holding the chunks in order. */
function joinChunks(chunks: readonly Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/** A mirror file that cannot be read. The system error is not kept as the cause: it names the path. */
function localFailure(e: unknown, label: string): SumkeepError {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SumkeepError('upstream_not_found', '404 Not Found');
  const what = typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'read error';
  return new SumkeepError('upstream_error', `${label}: ${what}`);
}

async function statLocalFile(file: string, label: string, limit: number): Promise<void> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    throw localFailure(e, label);
  }
  if (!st.isFile()) throw new SumkeepError('upstream_error', `${label}: not a regular file`);
  if (st.size > limit) throw new SumkeepError('too_large', tooLarge(label, limit).reason);
}

async function readLocalBytes(file: string, label: string, limit: number): Promise<Uint8Array> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw localFailure(e, label);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SumkeepError('upstream_error', `${label}: not a regular file`);
    if (st.size > limit) throw new SumkeepError('too_large', tooLarge(label, limit).reason);
    const chunks: Uint8Array[] = [];
    let n = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, READ_CHUNK));
      } catch (e) {
        throw localFailure(e, label);
      }
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > limit) throw new SumkeepError('too_large', tooLarge(label, limit).reason);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return joinChunks(chunks, n);
  } finally {
    await fh.close();
  }
}
