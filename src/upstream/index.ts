/** The upstream GOPROXY client: entry points used by the server and by ingest. */
import { Upstream } from './upstream.ts';

export { Upstream, type FetchedModule, type UpstreamOptions } from './upstream.ts';
export { checkModuleFiles } from './module-files.ts';
export { Limiter } from './limiter.ts';
export { parseProxyList, formatProxyList, type ProxyList } from './proxy-list.ts';

/**
 * The server's upstream for a GOPROXY-syntax list; null for "off" (the log grows by ingest only).
 * `concurrency`: upstream requests in flight at once in this process (default 16).
 */
export function createUpstream(opts: {
  proxies: string;
  privateGlobs: string;
  concurrency?: number;
}): Upstream | null {
  if (opts.proxies.trim() === 'off') return null;
  return new Upstream({
    proxies: opts.proxies,
    private: opts.privateGlobs,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  });
}
