/**
 * Server configuration, read in typed stages: flags and environment → validated config with
 * defaults → secrets (keys are loaded later, by src/keys). Every problem is reported at start with
 * what to do about it.
 */
import { SumkeepError } from './core/errors.ts';

export interface ServeFlags {
  keys?: string;
  db?: string;
  upstream?: string;
  listen?: string;
  url?: string;
  private?: string;
  batchDelayMs?: string;
  batchMax?: string;
  workers?: string;
  verifyMaxBytes?: string;
  verifyMaxLines?: string;
  logLevel?: string;
  dev?: boolean;
  tlsCert?: string;
  tlsKey?: string;
}

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
  privateGlobs: string;
  batchDelayMs: number;
  batchMax: number;
  /** HTTP worker processes (node:cluster); 1 serves from this process. */
  workers: number;
  /** Largest go.sum body and most lines POST /api/v1/verify accepts. */
  verifyMaxBytes: number;
  verifyMaxLines: number;
  logLevel: string;
  dev: boolean;
  tls: { cert: string; key: string } | null;
}

export const DEFAULTS = {
  keysDir: 'keys',
  dbFile: 'data/sumkeep.db',
  listen: '127.0.0.1:3080',
  /** The public Go module mirror; override with --upstream or SUMKEEP_UPSTREAM. */
  upstream: 'https://proxy.golang.org',
  batchDelayMs: 10,
  batchMax: 1000,
  workers: 1,
  verifyMaxBytes: 4 << 20,
  verifyMaxLines: 100_000,
  logLevel: 'info',
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

function intOption(name: string, value: string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new SumkeepError(
      'config',
      `${name} ${JSON.stringify(value)}: want a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * The upstream list: --upstream, else SUMKEEP_UPSTREAM, else the go command's GOPROXY with its
 * `direct` and `off` entries removed (sumkeep never fetches from version control), else the default.
 */
function chooseUpstream(flag: string | undefined, env: Env): { upstream: string; notes: string[] } {
  const explicit = flag ?? env.SUMKEEP_UPSTREAM;
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
  const listen = flags.listen ?? env.SUMKEEP_LISTEN ?? DEFAULTS.listen;
  const { host, port } = parseListen(listen);
  const { upstream, notes } = chooseUpstream(flags.upstream, env);
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new SumkeepError('config', '--tls-cert and --tls-key go together');
  }
  const tls =
    flags.tlsCert !== undefined && flags.tlsKey !== undefined
      ? { cert: flags.tlsCert, key: flags.tlsKey }
      : null;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = (flags.url ?? env.SUMKEEP_URL ?? `${tls ? 'https' : 'http'}://${urlHost}:${port}`).replace(
    /\/+$/,
    '',
  );
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(url)) {
    throw new SumkeepError('config', `--url ${JSON.stringify(url)}: want an http(s) URL`);
  }
  return {
    keysDir: flags.keys ?? env.SUMKEEP_KEYS ?? DEFAULTS.keysDir,
    dbFile: flags.db ?? env.SUMKEEP_DB ?? DEFAULTS.dbFile,
    upstream,
    upstreamNotes: notes,
    host,
    port,
    url,
    privateGlobs: flags.private ?? env.SUMKEEP_PRIVATE ?? '',
    batchDelayMs: intOption(
      '--batch-delay-ms',
      flags.batchDelayMs ?? env.SUMKEEP_BATCH_DELAY_MS,
      DEFAULTS.batchDelayMs,
      0,
      60_000,
    ),
    batchMax: intOption(
      '--batch-max',
      flags.batchMax ?? env.SUMKEEP_BATCH_MAX,
      DEFAULTS.batchMax,
      1,
      100_000,
    ),
    workers: intOption('--workers', flags.workers ?? env.SUMKEEP_WORKERS, DEFAULTS.workers, 1, 64),
    verifyMaxBytes: intOption(
      '--verify-max-bytes',
      flags.verifyMaxBytes ?? env.SUMKEEP_VERIFY_MAX_BYTES,
      DEFAULTS.verifyMaxBytes,
      1,
      1 << 30,
    ),
    verifyMaxLines: intOption(
      '--verify-max-lines',
      flags.verifyMaxLines ?? env.SUMKEEP_VERIFY_MAX_LINES,
      DEFAULTS.verifyMaxLines,
      1,
      10_000_000,
    ),
    logLevel: flags.logLevel ?? env.SUMKEEP_LOG_LEVEL ?? DEFAULTS.logLevel,
    dev: flags.dev === true,
    tls,
  };
}
