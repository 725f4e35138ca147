/**
 * HTTP access to an independent checksum database for the cross-check (--check-sumdb), through the
 * same transport as module downloads: the process's one limit on upstream requests in flight,
 * same-origin redirects only, size limits, timeouts and retries (transport.ts), with shorter
 * timeouts than a zip download (a lookup or a tile is a few KiB).
 *
 * Where (as the go command, cmd/go/internal/modfetch/sumdb.go, dbDial):
 *  - `--check-sumdb "<key> <url>"`: `<url>/lookup/...`, `<url>/tile/...`.
 *  - `--check-sumdb "<key>"`: each upstream proxy in list order is asked
 *    `<proxy>/sumdb/<name>/supported`; the first that answers 200 is used for everything
 *    (`<proxy>/sumdb/<name>/lookup/...`), one that answers 404/410 (or a file:// mirror without
 *    that file) passes to the next, any other failure is final (fail closed: the cross-check is
 *    unavailable, and asked again next time). When no proxy supports it: https://<name> directly.
 *    The choice is kept once made.
 */
import { SumkeepError } from '../core/errors.ts';
import type { SumdbSource } from '../crosscheck/source.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Limiter } from './limiter.ts';
import type { ProxyList } from './proxy-list.ts';
import { ProxyTransport, proxyTarget, type ProxyTarget } from './transport.ts';

/** Timeouts of one sumdb request: a few KiB from a server that answers from memory. */
export const SUMDB_TIMEOUTS = { connectMs: 15_000, totalMs: 30_000, attempts: 2 } as const;
/** The answer to /supported is empty; anything much larger is not a sumdb proxy. */
const SUPPORTED_LIMIT = 4096;

export interface SumdbHttpOptions {
  name: string;
  /** The database's own URL, or null: through `proxies` (see the file comment). */
  url: string | null;
  proxies: ProxyList;
  limiter: Limiter;
  fetch?: typeof fetch;
  backoff?: BackoffPolicy;
  timeouts?: { connectMs?: number; totalMs?: number };
}

export class HttpSumdbSource implements SumdbSource {
  private readonly transport: ProxyTransport;
  private readonly name: string;
  private readonly proxies: readonly ProxyTarget[];
  /** The base in use once chosen: the target and the path below it ("" or "sumdb/<name>/"). */
  private chosen: { target: ProxyTarget; prefix: string; where: string } | null = null;
  private choosing: Promise<{ target: ProxyTarget; prefix: string; where: string }> | null = null;

  constructor(opts: SumdbHttpOptions) {
    this.name = opts.name;
    this.transport = new ProxyTransport({
      fetch: opts.fetch ?? globalThis.fetch,
      connectMs: opts.timeouts?.connectMs ?? SUMDB_TIMEOUTS.connectMs,
      totalMs: opts.timeouts?.totalMs ?? SUMDB_TIMEOUTS.totalMs,
      attempts: SUMDB_TIMEOUTS.attempts,
      backoff: opts.backoff ?? { baseDelayMs: 250, maxDelayMs: 2_000, random: Math.random },
      limiter: opts.limiter,
    });
    if (opts.url !== null) {
      const target = proxyTarget({ url: opts.url, fallThrough: 'notfound' });
      this.chosen = { target, prefix: '', where: target.shown };
    }
    this.proxies = opts.proxies.map((e, i) => proxyTarget(e, i));
  }

  where(): string {
    return this.chosen?.where ?? `${this.name} (through the upstream's /sumdb/${this.name}/, or directly)`;
  }

  async read(rel: string, limit: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    const base = await this.base(signal);
    try {
      return await this.transport.readBytes(base.target, base.prefix + rel, rel, limit, signal);
    } catch (e) {
      if (e instanceof SumkeepError && e.code === 'upstream_not_found') return null;
      throw e;
    }
  }

  private base(
    signal: AbortSignal | undefined,
  ): Promise<{ target: ProxyTarget; prefix: string; where: string }> {
    if (this.chosen !== null) return Promise.resolve(this.chosen);
    if (this.choosing === null) {
      // Not bound to the first caller's signal: others may be waiting for the same choice (the
      // transport's timeouts bound it).
      this.choosing = this.choose().then(
        (c) => {
          this.chosen = c;
          return c;
        },
        (e: unknown) => {
          // Not kept: the next cross-check asks again.
          this.choosing = null;
          throw e;
        },
      );
    }
    if (signal === undefined) return this.choosing;
    // This caller may still leave while the choice is being made.
    const choosing = this.choosing;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const leave = () => reject(signal.reason as Error);
      signal.addEventListener('abort', leave, { once: true });
      choosing.then(
        (c) => {
          signal.removeEventListener('abort', leave);
          resolve(c);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(e as Error);
        },
      );
    });
  }

  private async choose(): Promise<{ target: ProxyTarget; prefix: string; where: string }> {
    const prefix = `sumdb/${this.name}/`;
    for (const target of this.proxies) {
      if (target.kind === 'off') break;
      try {
        await this.transport.readBytes(target, `${prefix}supported`, `${prefix}supported`, SUPPORTED_LIMIT);
        return { target, prefix, where: `${target.shown}/sumdb/${this.name}` };
      } catch (e) {
        if (e instanceof SumkeepError && e.code === 'upstream_not_found') continue;
        throw e;
      }
    }
    const direct = proxyTarget({ url: `https://${this.name}`, fallThrough: 'notfound' });
    return { target: direct, prefix: '', where: direct.shown };
  }
}
