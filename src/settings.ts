/**
 * The one settings schema of sumkeep. Every setting is declared once here, with its flag, its
 * environment twin (SUMKEEP_ + the flag in upper case, `-` as `_`), its default and its help text;
 * the commands (serve, ingest, audit, ...) and the benchmarks take their options, defaults and
 * `--help` lines from this table, so that a setting has one name and one default everywhere.
 *
 * Precedence: the flag, else the environment twin, else the default. A value is parsed the same
 * way wherever it came from, and a bad one is refused at start with where it came from and what
 * is wanted (SumkeepError 'config', exit 2).
 *
 * This module is light on purpose (no I/O, no heavy imports): `sumkeep --help` loads it.
 */
import type { Command } from 'commander';
import { SumkeepError } from './core/errors.ts';

/** Parses one raw value; `where` names its source for messages ("--batch-max", "SUMKEEP_BATCH_MAX"). */
type Parser<T> = (raw: string, where: string) => T;

export interface Setting<T> {
  /** The long flag without its dashes, e.g. "batch-max". */
  readonly flag: string;
  /** The value placeholder in --help, e.g. "<n>"; absent for an on/off switch. */
  readonly arg?: string;
  readonly help: string;
  /** The default as a raw value (parsed like any other); absent: no default. */
  readonly default?: string;
  /** What --help shows as the default when it is not a plain value. */
  readonly defaultHelp?: string;
  readonly parse: Parser<T>;
}

const bad = (where: string, raw: string, want: string): SumkeepError =>
  new SumkeepError('config', `${where} ${JSON.stringify(raw.slice(0, 200))}: want ${want}`);

const text: Parser<string> = (raw) => raw;

function whole(min: number, max: number): Parser<number> {
  return (raw, where) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      throw bad(where, raw, `a whole number from ${min} to ${max}`);
    return n;
  };
}

const onOff: Parser<boolean> = (raw, where) => {
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'no' || v === 'off' || v === '') return false;
  throw bad(where, raw, '1/true or 0/false');
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const logLevel: Parser<string> = (raw, where) => {
  if (!LOG_LEVELS.includes(raw)) throw bad(where, raw, `one of ${LOG_LEVELS.join(', ')}`);
  return raw;
};

/** A setting with a default: its value is always there. */
function withDefault<T>(s: Setting<T> & { default: string }): Setting<T> {
  return s;
}
/** A setting without a default: undefined when neither flag nor environment gives it. */
function optional<T>(s: Omit<Setting<T>, 'default'>): Setting<T | undefined> {
  return s;
}
/** An on/off switch (false unless given). */
function toggle(s: Pick<Setting<boolean>, 'flag' | 'help'>): Setting<boolean> {
  return { ...s, default: 'false', parse: onOff };
}

export const SETTINGS = {
  keys: withDefault({ flag: 'keys', arg: '<dir>', help: 'key directory', default: 'keys', parse: text }),
  db: withDefault({
    flag: 'db',
    arg: '<db>',
    help: 'the log database: a SQLite file (a path or sqlite:<path>) or a postgres:// URL',
    default: 'data/sumkeep.db',
    parse: text,
  }),
  dbPoolMax: withDefault({
    flag: 'db-pool-max',
    arg: '<n>',
    help: 'PostgreSQL: most connections this process opens',
    default: '10',
    parse: whole(1, 1000),
  }),
  dbStatementTimeoutMs: withDefault({
    flag: 'db-statement-timeout-ms',
    arg: '<ms>',
    help: 'PostgreSQL: longest one statement may run, and a query may wait for a connection',
    default: '10000',
    parse: whole(100, 600_000),
  }),
  from: optional({ flag: 'from', arg: '<db>', help: 'source database (read only)', parse: text }),
  to: optional({
    flag: 'to',
    arg: '<db>',
    help: 'destination database: empty, or a prefix of the source',
    parse: text,
  }),
  upstream: optional({
    flag: 'upstream',
    arg: '<list>',
    help: 'GOPROXY-syntax list of upstream proxies, or "off"',
    defaultHelp:
      'GOPROXY up to its "direct" (GOPROXY=off: none); https://proxy.golang.org only when GOPROXY is unset too',
    parse: text,
  }),
  listen: withDefault({
    flag: 'listen',
    arg: '<host:port>',
    help: 'address to listen on',
    default: '127.0.0.1:3080',
    parse: text,
  }),
  metricsListen: optional({
    flag: 'metrics-listen',
    arg: '<host:port>',
    help: 'serve /metrics and /readyz on this address instead of the public one (plain http)',
    defaultHelp: 'on the --listen address',
    parse: text,
  }),
  url: optional({
    flag: 'url',
    arg: '<url>',
    help: 'public base URL printed in the GOSUMDB line',
    defaultHelp: 'http(s)://<listen address>',
    parse: text,
  }),
  private: optional({
    flag: 'private',
    arg: '<globs>',
    help:
      'GOPRIVATE-syntax globs of modules never fetched upstream (they enter the log by ingest); ' +
      'each one trimmed, a malformed one refused',
    defaultHelp: 'GOPRIVATE and GONOSUMDB together',
    parse: text,
  }),
  checkSumdb: optional({
    flag: 'check-sumdb',
    arg: '"<verifier key> [<url>]"',
    help:
      'cross-check every public module version (not matched by --private) with this independent checksum ' +
      'database before it is logged, GOSUMDB syntax (e.g. "sum.golang.org"); without a URL, serve asks ' +
      "through the upstream's /sumdb/<name>/ paths as the go command does, ingest needs --sumdb-cache",
    parse: text,
  }),
  sumdbCache: optional({
    flag: 'sumdb-cache',
    arg: '<dir>',
    help:
      "ingest --check-sumdb offline: a copy of the go command's files of that database, " +
      '<dir>/<name>/latest, <dir>/<name>/lookup/..., <dir>/<name>/tile/...',
    parse: text,
  }),
  policy: optional({
    flag: 'policy',
    arg: '<file>',
    help:
      'policy file (JSON if it ends in .json, else YAML): deny rules by module pattern and version ' +
      'range, optional allow-list; checked at start, reloaded on SIGHUP',
    parse: text,
  }),
  upstreamConcurrency: withDefault({
    flag: 'upstream-concurrency',
    arg: '<n>',
    help: 'upstream HTTP requests in flight at once, over all lookups and retries (the rest wait in a queue)',
    default: '16',
    parse: whole(1, 1024),
  }),
  negativeCacheTtl: withDefault({
    flag: 'negative-cache-ttl',
    arg: '<seconds>',
    help: 'how long a version the upstream does not have, or a refused one, is answered from memory (0: off)',
    default: '60',
    parse: whole(0, 86_400),
  }),
  batchDelayMs: withDefault({
    flag: 'batch-delay-ms',
    arg: '<ms>',
    help: 'longest a new record waits for more records before its batch is committed',
    default: '10',
    parse: whole(0, 60_000),
  }),
  batchMax: withDefault({
    flag: 'batch-max',
    arg: '<n>',
    help: 'most records in one committed batch',
    default: '1000',
    parse: whole(1, 100_000),
  }),
  workers: withDefault({
    flag: 'workers',
    arg: '<n>',
    help: 'HTTP worker processes sharing the port (see docs/operations.md)',
    default: '1',
    parse: whole(1, 64),
  }),
  verifyMaxBytes: withDefault({
    flag: 'verify-max-bytes',
    arg: '<n>',
    help: 'largest go.sum POST /api/v1/verify accepts (bytes)',
    default: String(4 << 20),
    parse: whole(1, 1 << 30),
  }),
  verifyMaxLines: withDefault({
    flag: 'verify-max-lines',
    arg: '<n>',
    help: 'most go.sum lines POST /api/v1/verify accepts',
    default: '100000',
    parse: whole(1, 10_000_000),
  }),
  verifyConcurrency: withDefault({
    flag: 'verify-concurrency',
    arg: '<n>',
    help: 'POST /api/v1/verify requests in flight at once; more answer 503 with Retry-After',
    default: '4',
    parse: whole(1, 1024),
  }),
  requestTimeoutMs: withDefault({
    flag: 'request-timeout-ms',
    arg: '<ms>',
    help:
      'longest a client may take to send a whole request, headers and body; a slower one gets 408 ' +
      'and its connection is closed',
    default: '30000',
    parse: whole(100, 3_600_000),
  }),
  headersTimeoutMs: withDefault({
    flag: 'headers-timeout-ms',
    arg: '<ms>',
    help: 'longest a client may take to send the headers of a request (at most --request-timeout-ms)',
    default: '10000',
    parse: whole(100, 3_600_000),
  }),
  keepAliveTimeoutMs: withDefault({
    flag: 'keep-alive-timeout-ms',
    arg: '<ms>',
    help:
      'how long an idle keep-alive connection stays open (keep it above the idle timeout of a load ' +
      'balancer in front)',
    default: '72000',
    parse: whole(100, 3_600_000),
  }),
  maxRequestsPerSocket: withDefault({
    flag: 'max-requests-per-socket',
    arg: '<n>',
    help: 'requests served on one connection before it is closed (0: no limit)',
    default: '1000',
    parse: whole(0, 10_000_000),
  }),
  logLevel: withDefault({
    flag: 'log-level',
    arg: '<level>',
    help: 'log level (pino)',
    default: 'info',
    parse: logLevel,
  }),
  tlsCert: optional({
    flag: 'tls-cert',
    arg: '<file>',
    help: 'serve HTTPS with this certificate (PEM)',
    parse: text,
  }),
  tlsKey: optional({ flag: 'tls-key', arg: '<file>', help: 'private key of --tls-cert (PEM)', parse: text }),
  dev: toggle({
    flag: 'dev',
    help: 'development mode: create a clearly labelled development signing authority if there is none',
  }),
  allowRootKey: toggle({
    flag: 'allow-root-key',
    help: 'serve from a key directory that still holds root-ca.key (refused otherwise; implied by --dev)',
  }),
  concurrency: withDefault({
    flag: 'concurrency',
    arg: '<n>',
    help: 'module zips hashed at once',
    default: '2',
    parse: whole(1, 16),
  }),
  against: optional({
    flag: 'against',
    arg: '<url-or-dir>',
    help: 'also check that this serving endpoint or published directory shows the same tree',
    parse: text,
  }),
  trust: optional({
    flag: 'trust',
    arg: '<trust.json>',
    help: "the log's trust bundle: its verifierKeys are the note keys heads must be signed with",
    parse: text,
  }),
  json: toggle({ flag: 'json', help: 'print the report as JSON' }),
  follow: toggle({ flag: 'follow', help: 'keep going: publish every new head as it is committed' }),
  publish: optional({
    flag: 'publish',
    arg: '<dir>',
    help:
      'write latest, tiles and lookups of every head into <dir> before it is served, for a static ' +
      'web server or CDN (docs/operations.md, "Static read path")',
    parse: text,
  }),
  checkpointFile: optional({
    flag: 'checkpoint-file',
    arg: '<file>',
    help:
      'the rollback guard: keeps the latest signed head outside the database and refuses a database ' +
      'that does not extend it (required for PostgreSQL unless --publish; one per node)',
    defaultHelp: '<db file>.checkpoint for SQLite; <publish dir>/latest for PostgreSQL with --publish',
    parse: text,
  }),
  out: optional({
    flag: 'out',
    arg: '<path>',
    help: 'where to write: the backup file (never overwritten) or the publish directory',
    parse: text,
  }),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
export type SettingValue<N extends SettingName> = (typeof SETTINGS)[N] extends Setting<infer T> ? T : never;
export type Settings<N extends SettingName> = { [K in N]: SettingValue<K> };
type Env = Record<string, string | undefined>;

/** The settings of every command that opens a log database. */
export const DB_SETTINGS = [
  'db',
  'dbPoolMax',
  'dbStatementTimeoutMs',
] as const satisfies readonly SettingName[];

/** openStore's pool options from read settings. */
export function storeOptions(s: { dbPoolMax: number; dbStatementTimeoutMs: number }): {
  poolMax: number;
  statementTimeoutMs: number;
} {
  return { poolMax: s.dbPoolMax, statementTimeoutMs: s.dbStatementTimeoutMs };
}

/** The environment twin of a setting: SUMKEEP_ + its flag in upper case with `_` for `-`. */
export function envName(name: SettingName): string {
  return 'SUMKEEP_' + SETTINGS[name].flag.toUpperCase().replace(/-/g, '_');
}

/** The default of a setting, parsed (for the benchmarks and tests); undefined when it has none. */
export function defaultOf<N extends SettingName>(name: N): SettingValue<N> {
  const s: Setting<unknown> = SETTINGS[name];
  return (
    s.default === undefined ? undefined : s.parse(s.default, `default of --${s.flag}`)
  ) as SettingValue<N>;
}

/** Adds the options of `names` to `cmd`, with help lines that name the environment twin and default. */
export function addSettings(cmd: Command, names: readonly SettingName[]): Command {
  for (const name of names) {
    const s: Setting<unknown> = SETTINGS[name];
    const dflt = s.defaultHelp ?? (s.arg !== undefined ? s.default : undefined);
    const extra = [`env ${envName(name)}`, ...(dflt !== undefined ? [`default ${dflt}`] : [])].join('; ');
    cmd.option(`--${s.flag}${s.arg !== undefined ? ' ' + s.arg : ''}`, `${s.help} (${extra})`);
  }
  return cmd;
}

/**
 * The values of `names`: from `flags` (commander's parsed options, keyed by the setting names),
 * else the environment, else the default. Throws SumkeepError('config') for a bad value.
 */
export function readSettings<N extends SettingName>(
  names: readonly N[],
  flags: Partial<Record<string, unknown>>,
  env: Env = process.env,
): Settings<N> {
  const out: Partial<Record<SettingName, unknown>> = {};
  for (const name of names) {
    const s: Setting<unknown> = SETTINGS[name];
    const flag = flags[name];
    if (flag !== undefined && flag !== false) {
      // A switch given on the command line is `true`; everything else is a string.
      out[name] = flag === true ? true : s.parse(String(flag), `--${s.flag}`);
      continue;
    }
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined && fromEnv !== '') out[name] = s.parse(fromEnv, envName(name));
    else out[name] = s.default === undefined ? undefined : s.parse(s.default, `default of --${s.flag}`);
  }
  return out as Settings<N>;
}

/** Whether a setting was given (flag or environment) rather than left to its default. */
export function isGiven(
  name: SettingName,
  flags: Partial<Record<string, unknown>>,
  env: Env = process.env,
): boolean {
  const flag = flags[name];
  return (flag !== undefined && flag !== false) || (env[envName(name)] ?? '') !== '';
}
