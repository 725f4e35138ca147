/**
 * Server configuration, read in typed stages: flags and environment → validated config with
 * defaults → secrets (keys are loaded later, by src/keys). Every problem is reported at start with
 * what to do about it.
 */
import { SumkeepError } from './core/errors.ts';
import { readSettings, type SettingName } from './settings.ts';

/** The settings of `sumkeep serve` (src/settings.ts holds their flags, twins and defaults). */
export const SERVE_SETTINGS = [
  'keys',
  'db',
  'upstream',
  'listen',
  'url',
  'private',
  'upstreamConcurrency',
  'negativeCacheTtl',
  'batchDelayMs',
  'batchMax',
  'workers',
  'verifyMaxBytes',
  'verifyMaxLines',
  'logLevel',
  'tlsCert',
  'tlsKey',
  'dev',
  'allowRootKey',
] as const satisfies readonly SettingName[];

/** Commander's parsed options of serve: raw strings (switches true), keyed by setting name. */
export type ServeFlags = Partial<Record<(typeof SERVE_SETTINGS)[number], string | boolean>>;

export interface ServeConfig {
  keysDir: string;
  dbFile: string;
  /** GOPROXY-syntax list of upstream proxies; "off" for none. */
  upstream: string;
  /** Notes about how the upstream was chosen, printed at start. */
  upstreamNotes: string[];
  host: string;
  port: number;
  /** Public base URL of this server (what goes after the key in GOSUMDB). */
  url: string;
  /** True when --url or SUMKEEP_URL gave it (else it follows the listen address). */
  urlGiven: boolean;
  privateGlobs: string;
  /** Upstream HTTP requests in flight at once in this process (each worker has its own limit). */
  upstreamConcurrency: number;
  /** Seconds a missing or refused module version is answered from memory; 0: not at all. */
  negativeCacheTtlS: number;
  batchDelayMs: number;
  batchMax: number;
  /** HTTP worker processes (node:cluster); 1 serves from this process. */
  workers: number;
  /** Largest go.sum body and most lines POST /api/v1/verify accepts. */
  verifyMaxBytes: number;
  verifyMaxLines: number;
  logLevel: string;
  dev: boolean;
  allowRootKey: boolean;
  tls: { cert: string; key: string } | null;
}

export const DEFAULTS = {
  /** The public Go module mirror: the upstream only when none is configured anywhere. */
  upstream: 'https://proxy.golang.org',
  devLogName: 'sumkeep-dev.localhost',
} as const;

type Env = Record<string, string | undefined>;

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new SumkeepError(
      'config',
      `--listen ${JSON.stringify(listen)}: want <host>:<port>, e.g. 127.0.0.1:3080`,
    );
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * The upstream list: --upstream, else SUMKEEP_UPSTREAM, else the go command's GOPROXY with its
 * `direct` and `off` entries removed (sumkeep never fetches from version control), else the default.
 */
function chooseUpstream(explicit: string | undefined, env: Env): { upstream: string; notes: string[] } {
  if (explicit !== undefined && explicit !== '') return { upstream: explicit, notes: [] };
  const goproxy = env.GOPROXY;
  if (goproxy !== undefined && goproxy !== '') {
    const kept = goproxy
      .split(/[,|]/)
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== 'direct' && s !== 'off');
    if (kept.length > 0) {
      const notes =
        kept.length !== goproxy.split(/[,|]/).length
          ? [`upstream: from GOPROXY without its direct/off entries`]
          : [];
      return { upstream: kept.join(','), notes };
    }
  }
  return { upstream: DEFAULTS.upstream, notes: [`upstream: ${DEFAULTS.upstream} (default; set --upstream)`] };
}

export function loadServeConfig(flags: ServeFlags, env: Env = process.env): ServeConfig {
  const s = readSettings(SERVE_SETTINGS, flags, env);
  const { host, port } = parseListen(s.listen);
  const { upstream, notes } = chooseUpstream(s.upstream, env);
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined)) {
    throw new SumkeepError('config', '--tls-cert and --tls-key go together');
  }
  const tls = s.tlsCert !== undefined && s.tlsKey !== undefined ? { cert: s.tlsCert, key: s.tlsKey } : null;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = (s.url ?? `${tls ? 'https' : 'http'}://${urlHost}:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) {
    throw new SumkeepError('config', `--url ${JSON.stringify(url)}: want an http(s) URL`);
  }
  return {
    keysDir: s.keys,
    dbFile: s.db,
    upstream,
    upstreamNotes: notes,
    host,
    port,
    url,
    urlGiven: s.url !== undefined,
    privateGlobs: s.private ?? '',
    upstreamConcurrency: s.upstreamConcurrency,
    negativeCacheTtlS: s.negativeCacheTtl,
    batchDelayMs: s.batchDelayMs,
    batchMax: s.batchMax,
    workers: s.workers,
    verifyMaxBytes: s.verifyMaxBytes,
    verifyMaxLines: s.verifyMaxLines,
    logLevel: s.logLevel,
    dev: s.dev,
    allowRootKey: s.allowRootKey,
    tls,
  };
}
