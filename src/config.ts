/**
 * Server configuration, read in typed stages: flags and environment → validated config with
 * defaults → secrets (keys are loaded later, by src/keys). Every problem is reported at start with
 * what to do about it.
 */
import { SumkeepError, isSumkeepError } from './core/errors.ts';
import { parsePatternList } from './core/module-match.ts';
import { SETTINGS, envName, readSettings, storeOptions, type SettingName } from './settings.ts';
import { formatProxyList, parseProxyList, upstreamFromGoproxy } from './upstream/proxy-list.ts';
import { parseSumdbSpec, type SumdbSpec } from './crosscheck/spec.ts';
import { redactUrl } from './upstream/redact.ts';
import { parseStoreLocation } from './store/open.ts';
import { join } from 'node:path';

/** The settings of `sumkeep serve` (src/settings.ts holds their flags, twins and defaults). */
export const SERVE_SETTINGS = [
  'keys',
  'db',
  'dbPoolMax',
  'dbStatementTimeoutMs',
  'checkpointFile',
  'publish',
  'upstream',
  'listen',
  'metricsListen',
  'url',
  'private',
  'checkSumdb',
  'policy',
  'upstreamConcurrency',
  'negativeCacheTtl',
  'batchDelayMs',
  'batchMax',
  'workers',
  'verifyMaxBytes',
  'verifyMaxLines',
  'verifyConcurrency',
  'requestTimeoutMs',
  'headersTimeoutMs',
  'keepAliveTimeoutMs',
  'maxRequestsPerSocket',
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
  /** The rollback guard's file (see checkpointLocation), or null for an in-memory database. */
  checkpoint: CheckpointLocation | null;
  /** --publish: the directory the read path is published into, or null. */
  publishDir: string | null;
  /** PostgreSQL pool options for openStore (ignored by SQLite). */
  store: { poolMax: number; statementTimeoutMs: number };
  /**
   * GOPROXY-syntax list of upstream proxies, checked (parseProxyList accepts it); "off" (or a list
   * starting with "off") for none. It may carry credentials: print it only through formatProxyList.
   */
  upstream: string;
  /** Where the upstream came from: "--upstream", "SUMKEEP_UPSTREAM", "GOPROXY" or "default". */
  upstreamFrom: UpstreamSource;
  /** Notes about how the upstream was read, printed at start. */
  upstreamNotes: string[];
  host: string;
  port: number;
  /** --metrics-listen: where /metrics and /readyz are served instead; null: on host:port. */
  metricsListen: { host: string; port: number } | null;
  /** Public base URL of this server (what goes after the key in GOSUMDB). */
  url: string;
  /** True when --url or SUMKEEP_URL gave it (else it follows the listen address). */
  urlGiven: boolean;
  /** Modules never fetched upstream (GOPRIVATE glob syntax, trimmed, checked). */
  privatePatterns: readonly string[];
  /**
   * Where they came from: ["--private"], ["SUMKEEP_PRIVATE"], or those of GOPRIVATE and GONOSUMDB
   * that are set; empty when none is.
   */
  privateFrom: readonly string[];
  /** Warnings about the patterns (white space trimmed), printed at start. */
  privateNotes: string[];
  /** The independent checksum database public module versions are cross-checked with, or null. */
  checkSumdb: SumdbSpec | null;
  /** The policy file (--policy), read by src/policy/file.ts at start and on SIGHUP; null: none. */
  policyFile: string | null;
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
  /** POST /api/v1/verify requests in flight at once. */
  verifyConcurrency: number;
  /** HTTP timeouts and the requests per connection (src/http/server.ts ServerTimeouts). */
  http: {
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxRequestsPerSocket: number;
  };
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

/** Where the rollback guard keeps the latest signed head (src/log/checkpoint.ts). */
export interface CheckpointLocation {
  file: string;
  /** False when the file is the published `latest` (the publisher writes it, after the tiles). */
  writes: boolean;
}

/**
 * The rollback guard's file: --checkpoint-file, else `<db file>.checkpoint` for SQLite, else (on
 * PostgreSQL) the published `<dir>/latest` with --publish; a PostgreSQL database without either is
 * refused, since the guard must live outside the database and there is no file to put it beside.
 * An in-memory SQLite database (tests) has none: it cannot be restored from a backup.
 */
export function checkpointLocation(
  db: string,
  checkpointFile: string | undefined,
  publishDir: string | undefined,
): CheckpointLocation | null {
  if (checkpointFile !== undefined) return { file: checkpointFile, writes: true };
  const loc = parseStoreLocation(db);
  if (loc.kind === 'sqlite')
    return loc.file === ':memory:' ? null : { file: `${loc.file}.checkpoint`, writes: true };
  if (publishDir !== undefined) return { file: join(publishDir, 'latest'), writes: false };
  throw new SumkeepError(
    'config',
    'a PostgreSQL database needs --checkpoint-file <file> (serve: or --publish <dir>, whose latest is kept): the ' +
      'rollback guard keeps the latest signed head outside the database, one file per node ' +
      '(docs/operations.md, "Disaster recovery")',
  );
}

export function parseListen(listen: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new SumkeepError(
      'config',
      `${flag} ${JSON.stringify(listen)}: want <host>:<port>, e.g. 127.0.0.1:3080`,
    );
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export type UpstreamSource = '--upstream' | 'SUMKEEP_UPSTREAM' | 'GOPROXY' | 'default';

/** `e` (a config error) with `where` in front, so that the message says what to fix. */
function from(where: string, e: unknown): unknown {
  return isSumkeepError(e, 'config') ? new SumkeepError('config', `${where}: ${e.message}`, { cause: e }) : e;
}

/**
 * The upstream list, failing closed: --upstream, else SUMKEEP_UPSTREAM, else the go command's
 * GOPROXY as the go command reads it (its separators kept; `off` ends it and, first, means no
 * upstream; `direct` ends it and is dropped, and a GOPROXY of only `direct` is refused, as
 * --upstream direct is), else, only when none of the three is set, the public proxy. The list is
 * checked here (parseProxyList), so that a bad one is refused at start naming where it came from.
 */
function chooseUpstream(
  given: string | undefined,
  flags: ServeFlags,
  env: Env,
): { upstream: string; from: UpstreamSource; notes: string[] } {
  let upstream: string;
  let source: UpstreamSource;
  const notes: string[] = [];
  if (given !== undefined) {
    upstream = given;
    source = flags.upstream !== undefined && flags.upstream !== false ? '--upstream' : 'SUMKEEP_UPSTREAM';
  } else if ((env.GOPROXY ?? '') !== '') {
    source = 'GOPROXY';
    let read;
    try {
      read = upstreamFromGoproxy(env.GOPROXY!);
    } catch (e) {
      throw from(source, e);
    }
    upstream = read.spec;
    if (read.stoppedAtDirect) {
      notes.push('its entries from "direct" on are dropped: sumkeep never fetches from version control');
    }
  } else {
    return { upstream: DEFAULTS.upstream, from: 'default', notes };
  }
  try {
    parseProxyList(upstream);
  } catch (e) {
    throw from(source, e);
  }
  return { upstream, from: source, notes };
}

/**
 * The private patterns: --private, else SUMKEEP_PRIVATE (an explicitly empty --private means none),
 * else the go command's GOPRIVATE and GONOSUMDB together (the union). The go command asks a
 * checksum database only about modules that do not match GONOSUMDB, which defaults to GOPRIVATE;
 * taking both lists means that a GONOSUMDB narrower than GOPRIVATE never sends a GOPRIVATE path
 * upstream (fail closed). GONOPROXY is not read: it is about fetching code, not about the sumdb.
 */
export function choosePrivate(
  given: string | undefined,
  flags: Partial<Record<string, unknown>>,
  env: Env,
): { patterns: readonly string[]; from: string[]; notes: string[] } {
  const lists: [string, string][] = [];
  if (given !== undefined) {
    const flag = flags.private !== undefined && flags.private !== false;
    lists.push([flag ? '--private' : envName('private'), given]);
  } else {
    for (const name of ['GOPRIVATE', 'GONOSUMDB']) {
      const v = env[name] ?? '';
      if (v !== '') lists.push([name, v]);
    }
  }
  const patterns: string[] = [];
  const notes: string[] = [];
  for (const [where, globs] of lists) {
    const read = parsePatternList(globs, where);
    for (const p of read.patterns) if (!patterns.includes(p)) patterns.push(p);
    for (const raw of read.spaced) {
      notes.push(
        `${where} pattern ${JSON.stringify(raw.slice(0, 200))} has white space around it: sumkeep trims ` +
          'it, the go command does not (a client with this list looks those modules up here, and gets ' +
          '410 unless they were ingested); write the list without spaces',
      );
    }
  }
  return { patterns, from: lists.map(([where]) => where), notes };
}

/** One start-up log line: pino level, message and fields. */
export interface StartupLine {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * What `serve` logs at start about its upstream and private patterns: what is in effect and
 * where it came from. The list is printed without credentials (formatProxyList).
 */
export function serveStartupLog(cfg: ServeConfig): StartupLine[] {
  const lines: StartupLine[] = [];
  const list = parseProxyList(cfg.upstream);
  const notes = cfg.upstreamNotes.length > 0 ? `; ${cfg.upstreamNotes.join('; ')}` : '';
  if (list[0]?.url === 'off') {
    lines.push({
      level: 'info',
      msg:
        `no upstream (${cfg.upstreamFrom}${notes}): lookups of versions not in the log answer 404; ` +
        'the log grows only by sumkeep ingest',
      fields: { upstream: 'off', upstreamFrom: cfg.upstreamFrom },
    });
  } else {
    const shown = formatProxyList(list);
    const why =
      cfg.upstreamFrom === 'default'
        ? 'default: none of --upstream, SUMKEEP_UPSTREAM, GOPROXY is set'
        : cfg.upstreamFrom + notes;
    lines.push({
      level: 'info',
      msg: `upstream ${shown} (${why})`,
      fields: { upstream: shown, upstreamFrom: cfg.upstreamFrom },
    });
  }
  const privateFrom = cfg.privateFrom.join(' and ');
  if (cfg.privatePatterns.length === 0) {
    lines.push({
      level: 'info',
      msg: `private patterns: none${privateFrom !== '' ? ` (${privateFrom})` : ''}`,
      fields: { private: [], privateFrom: cfg.privateFrom },
    });
  } else {
    lines.push({
      level: 'info',
      msg: `private patterns ${cfg.privatePatterns.join(',')} (${privateFrom}): never fetched upstream`,
      fields: { private: cfg.privatePatterns, privateFrom: cfg.privateFrom },
    });
  }
  for (const note of cfg.privateNotes) lines.push({ level: 'warn', msg: note, fields: {} });
  if (cfg.checkSumdb !== null && list[0]?.url === 'off') {
    lines.push({
      level: 'warn',
      msg: '--check-sumdb has nothing to check without an upstream: ingested modules are checked by `sumkeep ingest --check-sumdb`',
      fields: {},
    });
  } else if (cfg.checkSumdb !== null) {
    // A URL may carry credentials (https://user:token@...): logged without them.
    const url = cfg.checkSumdb.url === null ? null : redactUrl(cfg.checkSumdb.url);
    const via = url ?? `the upstream's /sumdb/${cfg.checkSumdb.name}/ (else https://${cfg.checkSumdb.name})`;
    lines.push({
      level: 'info',
      msg: `cross-checking public module versions with the checksum database ${cfg.checkSumdb.name} at ${via}`,
      fields: { checkSumdb: cfg.checkSumdb.vkey, checkSumdbUrl: url },
    });
  }
  return lines;
}

/** How a message names where a setting came from: its flag, else its environment twin. */
export function settingSource(name: SettingName, flags: Partial<Record<string, unknown>>): string {
  const f = flags[name];
  return f !== undefined && f !== false ? `--${SETTINGS[name].flag}` : envName(name);
}

export function loadServeConfig(flags: ServeFlags, env: Env = process.env): ServeConfig {
  const s = readSettings(SERVE_SETTINGS, flags, env);
  const { host, port } = parseListen(s.listen);
  const metricsListen =
    s.metricsListen === undefined ? null : parseListen(s.metricsListen, '--metrics-listen');
  const up = chooseUpstream(s.upstream, flags, env);
  const priv = choosePrivate(s.private, flags, env);
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined)) {
    throw new SumkeepError('config', '--tls-cert and --tls-key go together');
  }
  if (s.headersTimeoutMs > s.requestTimeoutMs) {
    // Node checks the whole request first: a longer headers timeout would never apply.
    throw new SumkeepError(
      'config',
      `--headers-timeout-ms ${s.headersTimeoutMs} is longer than --request-timeout-ms ${s.requestTimeoutMs}: ` +
        'the headers are part of the request; give it at most the request timeout',
    );
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
    checkpoint: checkpointLocation(s.db, s.checkpointFile, s.publish),
    publishDir: s.publish ?? null,
    store: storeOptions(s),
    upstream: up.upstream,
    upstreamFrom: up.from,
    upstreamNotes: up.notes,
    host,
    port,
    metricsListen,
    url,
    urlGiven: s.url !== undefined,
    privatePatterns: priv.patterns,
    privateFrom: priv.from,
    privateNotes: priv.notes,
    checkSumdb:
      s.checkSumdb === undefined ? null : parseSumdbSpec(s.checkSumdb, settingSource('checkSumdb', flags)),
    policyFile: s.policy === undefined || s.policy === '' ? null : s.policy,
    upstreamConcurrency: s.upstreamConcurrency,
    negativeCacheTtlS: s.negativeCacheTtl,
    batchDelayMs: s.batchDelayMs,
    batchMax: s.batchMax,
    workers: s.workers,
    verifyMaxBytes: s.verifyMaxBytes,
    verifyMaxLines: s.verifyMaxLines,
    verifyConcurrency: s.verifyConcurrency,
    http: {
      requestTimeoutMs: s.requestTimeoutMs,
      headersTimeoutMs: s.headersTimeoutMs,
      keepAliveTimeoutMs: s.keepAliveTimeoutMs,
      maxRequestsPerSocket: s.maxRequestsPerSocket,
    },
    logLevel: s.logLevel,
    dev: s.dev,
    allowRootKey: s.allowRootKey,
    tls,
  };
}
