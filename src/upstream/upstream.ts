/**
 * The upstream GOPROXY client: fetches one module version from the configured proxy list and
 * returns the two hashes of its go.sum record, after checking that the proxy served the module
 * that was asked for.
 *
 * Per proxy entry, in list order:
 *   1. GET `<base>/<escaped path>/@v/<escaped version>.mod` (at most limits.mod bytes). Its
 *      `module` directive must equal the requested path: the go command refuses any other
 *      ("module declares its path as ... but was required as ..."), so a record for it would
 *      only ever be used by a build that fails.
 *   2. GET `.../@v/<version>.zip` (at most limits.zip bytes), streamed into a private temporary
 *      directory, hashed by the module-zip reader, which applies the go command's zip rules.
 *      Every entry must sit under `<path>@<version>/`; a zip for another module (the reader's
 *      rule "outside module prefix") is 'module_mismatch', any other broken rule 'invalid_zip'.
 *      The reader's own limits (the go command's: 500 MiB) apply whatever limits.zip says.
 *   3. Zip go.mod versus `.mod`: for a version without `+incompatible`, if the zip has a root
 *      go.mod its bytes must equal the `.mod` served. The go command does not compare the two
 *      (through a proxy it cannot know which go.mod the zip "should" have), but in the go command's
 *      own direct mode, which every proxy mirrors, the `.mod` of such a version IS the zip's go.mod;
 *      a proxy serving two different go.mods would let the go.mod hash (which drives dependency
 *      resolution) vouch for a file that is not in the module. A zip without go.mod is accepted
 *      (legacy v0/v1 and gopkg.in modules: the proxy synthesises `module <path>`). A
 *      `+incompatible` version is not compared: its `.mod` may be synthesised while the zip carries
 *      an old go.mod. In every case the go.mod hash is the hash of the `.mod` bytes the proxy
 *      served, which is exactly what the go command hashes for the `/go.mod` line.
 *   Both files come from the same entry: a record is never assembled from two proxies.
 *
 * Falling through the list (as the go command): "not found" (404, 410, a missing file:// file)
 * moves on after `,` and `|`; any other failure, including a proxy that served the wrong module
 * ('module_mismatch'), an invalid zip or an oversized file, moves on only after `|`. Those are
 * proxy faults, not absence: after `,` they are reported rather than masked by a later proxy.
 * The final error is the last failure that was not "not found", else 'upstream_not_found' naming
 * every proxy that was asked. `off` ends the walk with "not found".
 *
 * Modules matching the private patterns (`--private`, else GOPRIVATE and GONOSUMDB: GOPRIVATE glob
 * syntax, each pattern trimmed) are never fetched: 'private_module'.
 *
 * Safe to call concurrently: no state is shared between calls except the immutable
 * configuration and the limit on requests in flight (`concurrency`, shared by every call: a
 * stalled upstream ties up at most that many requests, the rest wait in a queue they leave when
 * their signal aborts), and every call has its own temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goModHash } from '../core/dirhash.ts';
import { SumkeepError } from '../core/errors.ts';
import {
  checkModuleVersion,
  escapePath,
  escapeVersion,
  matchAnyPrefix,
  parsePatternList,
} from '../core/module.ts';
import { hashModuleZip, ruleOf } from '../zip/index.ts';
import type { ZipHashResult } from '../zip/index.ts';
import { checkModuleFiles } from './module-files.ts';
import { parseProxyList } from './proxy-list.ts';
import type { ProxyList } from './proxy-list.ts';
import { scrubUserinfo } from './redact.ts';
import { fsReason } from '../fs-reason.ts';
import { ProxyTransport, proxyTarget } from './transport.ts';
import { Limiter } from './limiter.ts';
import type { ProxyTarget, RequestObserver } from './transport.ts';
import { HttpSumdbSource } from './sumdb.ts';

export interface FetchedModule {
  readonly path: string;
  readonly version: string;
  /** `h1:` hash of the module zip (go.sum line `<path> <version> h1:...`). */
  readonly zipHash: string;
  /** `h1:` hash of the `.mod` file served (go.sum line `<path> <version>/go.mod h1:...`). */
  readonly modHash: string;
  /** The proxy it came from, without userinfo (safe to log). */
  readonly source: string;
}

export interface UpstreamOptions {
  /** A GOPROXY list string (parsed with parseProxyList) or an already parsed list. */
  readonly proxies: string | ProxyList;
  /**
   * Modules never fetched: a GOPRIVATE-syntax list (comma-separated globs, read by
   * parsePatternList: trimmed, a malformed pattern refused) or the already parsed patterns.
   */
  readonly private?: string | readonly string[];
  /** Where the patterns came from, as the refusal names it ("--private", "GOPRIVATE"). Default "--private". */
  readonly privateSource?: string;
  readonly timeouts?: {
    /** Wait for response headers and longest silence while a body streams. Default 30 s. */
    readonly connectMs?: number;
    /** Whole request, per attempt. Default 10 min (a 500 MiB zip on a slow link). */
    readonly totalMs?: number;
  };
  readonly limits?: {
    /** `.mod` size limit. Default 16 MiB, the go command's MaxGoMod. */
    readonly mod?: number;
    /** `.zip` size limit. Default 500 MiB, the go command's MaxZipFile. */
    readonly zip?: number;
  };
  readonly retries?: {
    /** Retries after the first attempt (so count + 1 attempts at most). Default 2. */
    readonly count?: number;
    /** First backoff step. Default 250 ms. */
    readonly baseDelayMs?: number;
    /** Largest backoff step. Default 10 s. */
    readonly maxDelayMs?: number;
  };
  /**
   * Upstream HTTP requests in flight at once, over all calls (each attempt of each file takes a
   * slot; the rest wait in a FIFO queue). Default 16 (`--upstream-concurrency`).
   */
  readonly concurrency?: number;
  /** The fetch implementation; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Where zips are downloaded to (a private directory is created inside per call). Default os.tmpdir(). */
  readonly tmpDir?: string;
  /** Jitter source, uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Told how each upstream HTTP request ended and how long it took (for /metrics). */
  readonly onRequest?: RequestObserver;
}

const MiB = 1024 * 1024;

export const UPSTREAM_DEFAULTS = {
  connectMs: 30_000,
  totalMs: 600_000,
  modLimit: 16 * MiB,
  zipLimit: 500 * MiB,
  retryCount: 2,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  concurrency: 16,
} as const;

export class Upstream {
  /** The parsed list, with credentials: print it only through formatProxyList. */
  readonly proxies: ProxyList;
  private readonly targets: readonly ProxyTarget[];
  private readonly privatePatterns: readonly string[];
  private readonly privateSource: string;
  private readonly transport: ProxyTransport;
  private readonly modLimit: number;
  private readonly zipLimit: number;
  private readonly tmpDir: string;
  private readonly limiter: Limiter;
  private readonly fetchImpl: typeof fetch;

  /** Throws SumkeepError('config') for a bad list or option, at start rather than per request. */
  constructor(opts: UpstreamOptions) {
    this.proxies = typeof opts.proxies === 'string' ? parseProxyList(opts.proxies) : opts.proxies;
    if (this.proxies.length === 0)
      throw new SumkeepError('config', 'upstream GOPROXY list contains no entries');
    this.targets = this.proxies.map((entry, i) => proxyTarget(entry, i));
    this.privateSource = opts.privateSource ?? '--private';
    this.privatePatterns =
      typeof opts.private === 'string'
        ? parsePatternList(opts.private, this.privateSource).patterns
        : (opts.private ?? []);
    const connectMs = positiveInt(
      'timeouts.connectMs',
      opts.timeouts?.connectMs ?? UPSTREAM_DEFAULTS.connectMs,
    );
    const totalMs = positiveInt('timeouts.totalMs', opts.timeouts?.totalMs ?? UPSTREAM_DEFAULTS.totalMs);
    this.modLimit = positiveInt('limits.mod', opts.limits?.mod ?? UPSTREAM_DEFAULTS.modLimit);
    this.zipLimit = positiveInt('limits.zip', opts.limits?.zip ?? UPSTREAM_DEFAULTS.zipLimit);
    const count = nonNegativeInt('retries.count', opts.retries?.count ?? UPSTREAM_DEFAULTS.retryCount);
    const baseDelayMs = nonNegativeInt(
      'retries.baseDelayMs',
      opts.retries?.baseDelayMs ?? UPSTREAM_DEFAULTS.baseDelayMs,
    );
    const maxDelayMs = nonNegativeInt(
      'retries.maxDelayMs',
      opts.retries?.maxDelayMs ?? UPSTREAM_DEFAULTS.maxDelayMs,
    );
    this.tmpDir = opts.tmpDir ?? tmpdir();
    this.limiter = new Limiter(positiveInt('concurrency', opts.concurrency ?? UPSTREAM_DEFAULTS.concurrency));
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.transport = new ProxyTransport({
      limiter: this.limiter,
      fetch: this.fetchImpl,
      connectMs,
      totalMs,
      attempts: count + 1,
      backoff: { baseDelayMs, maxDelayMs, random: opts.random ?? Math.random },
      onRequest: opts.onRequest,
    });
  }

  /** Upstream HTTP requests running now and waiting for a slot (for /metrics and tests). */
  load(): { active: number; queued: number } {
    return { active: this.limiter.active, queued: this.limiter.queued };
  }

  /**
   * The independent checksum database `name` (--check-sumdb) over HTTP: at `url`, or through these
   * proxies' /sumdb/<name>/ paths when url is null (sumdb.ts). Its requests share this upstream's
   * limit on requests in flight.
   */
  sumdb(name: string, url: string | null): HttpSumdbSource {
    return new HttpSumdbSource({
      name,
      url,
      proxies: this.proxies,
      limiter: this.limiter,
      fetch: this.fetchImpl,
    });
  }

  /** True when `path` matches the private patterns: it enters the log only by ingest. */
  isPrivate(path: string): boolean {
    return matchAnyPrefix(this.privatePatterns, path);
  }

  /**
   * Fetches, checks and hashes `path@version` (see the file comment for the steps). Rejects with
   * SumkeepError: 'bad_module_path'/'bad_version' (from checkModuleVersion), 'private_module',
   * 'upstream_not_found', 'upstream_timeout', 'upstream_error', 'too_large', 'invalid_zip',
   * 'module_mismatch'; 'internal' when sumkeep's own side fails (temporary directory, disk), which
   * never falls through; or with the signal's reason when `signal` aborts (nothing falls through).
   * Private modules and invalid versions are refused before any request is made.
   */
  async fetchModule(path: string, version: string, signal?: AbortSignal): Promise<FetchedModule> {
    checkModuleVersion(path, version);
    if (this.isPrivate(path)) {
      throw new SumkeepError(
        'private_module',
        `${path} matches ${this.privateSource}; it enters the log only by \`sumkeep ingest\``,
      );
    }
    const notFound: string[] = [];
    let failure: SumkeepError | undefined;
    for (const [i, target] of this.targets.entries()) {
      try {
        return await this.fromProxy(target, path, version, signal);
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (!(e instanceof SumkeepError)) {
          // Our side failed (temporary directory, disk): not the proxy's fault, so no fall-through.
          // Described by its error code, not kept as the cause: a cause's message, which names the
          // temporary path, would be printed with this error in the log.
          throw new SumkeepError(
            'internal',
            `${path}@${version}: local error while fetching from upstream (${fsReason(e)})`,
          );
        }
        if (e.code === 'internal') throw e;
        if (e.code === 'upstream_not_found') {
          notFound.push(target.kind === 'off' ? e.message : `${target.shown}: ${e.message}`);
          if (target.kind === 'off') break;
          continue;
        }
        failure = wrapFailure(e, path, version, target);
        if (this.proxies[i]?.fallThrough !== 'any') break;
      }
    }
    if (failure !== undefined) throw failure;
    throw new SumkeepError(
      'upstream_not_found',
      scrubUserinfo(`${path}@${version}: not found upstream (${notFound.join('; ')})`),
    );
  }

  private async fromProxy(
    target: ProxyTarget,
    path: string,
    version: string,
    signal: AbortSignal | undefined,
  ): Promise<FetchedModule> {
    const escVersion = escapeVersion(version);
    const dir = `${escapePath(path)}/@v`;
    const modLabel = `@v/${escVersion}.mod`;
    const zipLabel = `@v/${escVersion}.zip`;

    const mod = await this.transport.readBytes(
      target,
      `${dir}/${escVersion}.mod`,
      modLabel,
      this.modLimit,
      signal,
    );
    // The .mod is checked before the (possibly large) zip is downloaded, the zip's go.mod after.
    checkModuleFiles(path, version, mod, null, { mod: modLabel, zip: zipLabel });

    // file:// zips are read in place; downloads go to a private directory, removed whatever happens.
    const tmp = target.kind === 'http' ? await mkdtemp(join(this.tmpDir, 'sumkeep-upstream-')) : null;
    try {
      const file = await this.transport.fetchToFile(
        target,
        `${dir}/${escVersion}.zip`,
        zipLabel,
        this.zipLimit,
        join(tmp ?? this.tmpDir, 'module.zip'),
        signal,
      );
      const zip = await this.hashZip(target, file, path, version, zipLabel);
      checkModuleFiles(path, version, mod, zip.goMod, { mod: modLabel, zip: zipLabel });
      return { path, version, zipHash: zip.h1, modHash: goModHash(mod), source: target.display };
    } finally {
      if (tmp !== null) await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Hashes the downloaded zip with the go command's zip rules and the prefix `path@version/`.
   * A zip whose entries lie outside that prefix is a proxy serving another module
   * ('module_mismatch'); other broken rules stay 'invalid_zip'; a zip that cannot be read at all
   * is the file:// mirror's fault ('upstream_error') or, for a downloaded temporary file, ours.
   */
  private async hashZip(
    target: ProxyTarget,
    file: string,
    path: string,
    version: string,
    zipLabel: string,
  ): Promise<ZipHashResult> {
    try {
      return await hashModuleZip(file, { path, version, label: zipLabel });
    } catch (e) {
      if (!(e instanceof SumkeepError)) throw e;
      if (e.code === 'invalid_zip') {
        if (ruleOf(e) === 'outside module prefix') {
          throw new SumkeepError('module_mismatch', `${zipLabel}: ${e.message}`, { cause: e });
        }
        throw e;
      }
      // e names the zip by its label only (and keeps no system error as its cause).
      if (target.kind !== 'file') {
        throw new SumkeepError(
          'internal',
          `${path}@${version}: cannot read the downloaded zip: ${e.message}`,
        );
      }
      throw new SumkeepError('upstream_error', e.message);
    }
  }
}

const NOUN: Partial<Record<SumkeepError['code'], string>> = {
  upstream_timeout: 'upstream timed out',
  upstream_error: 'upstream error',
  too_large: 'refused from upstream',
  invalid_zip: 'invalid module zip from upstream',
  module_mismatch: 'upstream served another module',
};

/** `<path>@<version>: <what> (<proxy>: <reason>)`, one line, no credentials; the code is kept. */
function wrapFailure(e: SumkeepError, path: string, version: string, target: ProxyTarget): SumkeepError {
  const noun = NOUN[e.code] ?? 'upstream error';
  const reason = e.message.replace(/\s+/g, ' ');
  return new SumkeepError(e.code, scrubUserinfo(`${path}@${version}: ${noun} (${target.shown}: ${reason})`), {
    cause: e,
  });
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new SumkeepError('config', `upstream ${name} must be a positive integer`);
  return v;
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new SumkeepError('config', `upstream ${name} must be a non-negative integer`);
  }
  return v;
}
