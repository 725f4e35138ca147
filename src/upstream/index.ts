/** The upstream GOPROXY client: entry points used by the server and by ingest. */
import { Upstream } from './upstream.ts';
import { parseProxyList, type ProxyList } from './proxy-list.ts';
import type { RequestObserver } from './transport.ts';

export { Upstream, type FetchedModule, type UpstreamOptions } from './upstream.ts';
export { checkModuleFiles } from './module-files.ts';
export { Limiter } from './limiter.ts';
export { HttpSumdbSource } from './sumdb.ts';
export type { RequestObserver, RequestOutcome } from './transport.ts';
export { parseProxyList, formatProxyList, type ProxyList } from './proxy-list.ts';

/**
 * The server's upstream for a GOPROXY-syntax list (or a parsed one); null when the list starts
 * with "off" (the go command ignores what follows "off"): no upstream, the log grows by ingest only.
 * Throws SumkeepError('config') for a bad list or pattern.
 */
export function createUpstream(opts: {
  proxies: string | ProxyList;
  privatePatterns: readonly string[];
  privateSource?: string;
  /** Upstream requests in flight at once in this process (default 16). */
  concurrency?: number;
  /** Told how each upstream HTTP request ended (for /metrics). */
  onRequest?: RequestObserver;
}): Upstream | null {
  const proxies = typeof opts.proxies === 'string' ? parseProxyList(opts.proxies) : opts.proxies;
  if (proxies[0]?.url === 'off') return null;
  return new Upstream({
    proxies,
    private: opts.privatePatterns,
    ...(opts.privateSource !== undefined ? { privateSource: opts.privateSource } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.onRequest !== undefined ? { onRequest: opts.onRequest } : {}),
  });
}
