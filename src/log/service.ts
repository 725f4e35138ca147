/**
 * The log service, the one implementation of LogApi (api.ts) behind the HTTP routes: answers "what
 * is the record for M@V?", filling the log on demand from the upstream, serves the signed head and
 * tiles, and compares go.sum lines with the log. Concurrent requests for one module version share
 * one upstream fetch and produce one record (single flight); the sequencer dedups again at the
 * batch level.
 *
 * Cancellation: a client passes an AbortSignal (LookupOptions.signal) that aborts when it goes
 * away. Its lookup then rejects at once with the signal's reason, whatever the shared fetch is
 * doing; the fetch itself is cancelled (its own AbortController, which the upstream passes down to
 * its queue place and its HTTP requests) only when the last client that could leave has left. A
 * client without a signal never leaves. A cancelled fetch records nothing and logs nothing.
 *
 * Policy (--policy, src/core/policy.ts) is decided here, before the record cache, the store and the
 * upstream: a denied version is answered `policy_denied` (403 "denied by policy: <reason>") whether
 * or not the log holds it. A logged version stays logged (the log is append-only) and is served
 * again once the policy allows it; an unlogged one is never fetched while denied. A denial is not
 * remembered by the negative cache: the policy may change at any time (setPolicy, on SIGHUP).
 */
import { SumkeepError, isRefusal, isSumkeepError } from '../core/errors.ts';
import { formatRecordLines, type GoSumInvalid, type GoSumLine } from '../core/gosum.ts';
import { checkModuleVersion } from '../core/module.ts';
import { deniedMessage, evaluatePolicy, OPEN_POLICY, type Policy } from '../core/policy.ts';
import { utf8 } from '../core/bytes.ts';
import { eachLimited, stepsYielding, yieldToLoop } from '../concurrency.ts';
import { LruCache } from '../lru.ts';
import type { LogRecord, SignedHead, Store } from '../store/store.ts';
import type {
  GoSumCheck,
  GoSumCheckOptions,
  LogApi,
  LogStats,
  GrowthPoint,
  LookupAnswer,
  LookupOptions,
  Readiness,
  RecordSummary,
  ServedTile,
} from './api.ts';
import { compareGoSumSteps, loggedHashes, versionKey, type Logged } from './compare.ts';
import type { Sequencer } from './sequencer.ts';
import { TileServer } from './tiles.ts';
import { NegativeCache } from './negative-cache.ts';
import { NO_EVENTS, type LogEvents } from './events.ts';
import { refusalReason } from './refusals.ts';

/** What the service needs from an upstream GOPROXY client (src/upstream). */
export interface ModuleSource {
  fetchModule(
    path: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<{ zipHash: string; modHash: string; source: string }>;
  /** Upstream requests running and queued now (src/upstream's limit), for /metrics. */
  load?(): { active: number; queued: number };
}

export interface LookupResult {
  record: LogRecord;
  /** A signed head whose tree contains the record (record.id < head.size). */
  head: SignedHead;
}

/** One upstream fetch of a module version, and how many clients still wait for it. */
interface Flight {
  readonly done: Promise<LogRecord>;
  readonly controller: AbortController;
  waiters: number;
  /** The fetch has ended (a client leaving after that cancels nothing). */
  settled: boolean;
}

export interface ServiceStats {
  upstreamFetches: number;
  /** Fetches cancelled because every client waiting for them had gone. */
  fetchesCancelled: number;
  recordsAdded: number;
  /** Lookups (/lookup, /api/v1/gosum) answered `policy_denied`. */
  denied: number;
}

/** Logged records kept in memory by module version (a few hundred bytes each). */
const RECORD_CACHE_ENTRIES = 100_000;
/** Module versions looked up, or lines compared, between two yields to the event loop. */
const CHECK_CHUNK = 2000;
/** Upstream fetches of one go.sum check at once. */
const CHECK_FETCH_CONCURRENCY = 8;

/**
 * Why a module version could not be filled during a go.sum check, for these upstream (and
 * cross-check) outcomes: the line stays `unknown` with the reason (one unreachable module, or an
 * unreachable --check-sumdb database, must not hide the answer for the rest). Other errors are
 * server faults and fail the check.
 */
const UNAVAILABLE_CODES = new Set([
  'not_found',
  'upstream_not_found',
  'upstream_error',
  'upstream_timeout',
  'crosscheck_unavailable',
]);
const leavesUnknown = (e: unknown): e is SumkeepError =>
  isSumkeepError(e) && (isRefusal(e) || UNAVAILABLE_CODES.has(e.code));

/** How long a database write check of the readiness probe is answered from memory (ms). */
export const READY_CACHE_MS = 10_000;

/** Module versions whose lasting upstream failure is remembered (a few hundred bytes each). */
const NEGATIVE_CACHE_ENTRIES = 10_000;

export interface LogServiceOptions {
  /**
   * How long a version the upstream does not have, or a refused one, is answered from memory
   * (--negative-cache-ttl, in ms). Default 0: not remembered.
   */
  negativeCacheTtlMs?: number;
  /** Clock for the negative cache and the readiness cache (tests). */
  now?: () => number;
  /** Where refusals are reported (/metrics); default nowhere. */
  events?: Pick<LogEvents, 'refused'>;
  /** The policy in force (default: everything allowed); replaced by setPolicy. */
  policy?: Policy;
  /**
   * The cross-check with an independent checksum database (--check-sumdb, src/crosscheck): asked
   * after the upstream fetch and before the version is logged. Its refusals are remembered like the
   * upstream's; 'crosscheck_unavailable' is not (fail closed, asked again next time).
   */
  crossCheck?: CrossCheck;
}

/** What the service needs of the cross-check (src/crosscheck/checker.ts CrossChecker). */
export interface CrossCheck {
  check(
    path: string,
    version: string,
    zipHash: string,
    modHash: string,
    signal?: AbortSignal,
  ): Promise<unknown>;
}

/** What Store.searchRecords takes (its checks.ts prefixRange), checked here for a user's message. */
const SEARCH_PREFIX_RE = /^[\x21-\x7e]{1,512}$/;

const summary = (r: LogRecord): RecordSummary => ({
  id: r.id,
  path: r.path,
  version: r.version,
  createdAt: r.createdAt,
});

export class LogService implements LogApi {
  readonly store: Store;
  readonly sequencer: Sequencer;
  private readonly upstream: ModuleSource | null;
  private readonly tiles: TileServer;
  private readonly inflight = new Map<string, Flight>();
  /** Records never change once logged, so a hit skips validation and the database. */
  private readonly records = new LruCache<string, { id: number; text: Uint8Array }>(RECORD_CACHE_ENTRIES);
  private readonly negative: NegativeCache;
  private readonly crossCheck: CrossCheck | null;
  private readonly now: () => number;
  /** The last database write check (ready), kept READY_CACHE_MS. */
  private writeCheck: { at: number; pending: boolean; result: Promise<Readiness> } | null = null;
  private readonly events: Pick<LogEvents, 'refused'>;
  /**
   * Refusals already reported: one refusal reaches several clients of a fetch and, from the
   * negative cache, later lookups as the same error object; it is counted once.
   */
  private readonly reported = new WeakSet<object>();
  readonly counters: ServiceStats = { upstreamFetches: 0, fetchesCancelled: 0, recordsAdded: 0, denied: 0 };
  private policy: Policy;

  constructor(
    store: Store,
    sequencer: Sequencer,
    upstream: ModuleSource | null,
    opts: LogServiceOptions = {},
  ) {
    this.store = store;
    this.sequencer = sequencer;
    this.upstream = upstream;
    this.tiles = new TileServer(store);
    this.negative = new NegativeCache(opts.negativeCacheTtlMs ?? 0, NEGATIVE_CACHE_ENTRIES, opts.now);
    this.crossCheck = opts.crossCheck ?? null;
    this.now = opts.now ?? Date.now;
    this.events = opts.events ?? NO_EVENTS;
    this.policy = opts.policy ?? OPEN_POLICY;
  }

  /**
   * Puts `policy` in force for every request that starts from now on (a reload on SIGHUP); a
   * request already past its policy check finishes under the old one.
   */
  setPolicy(policy: Policy): void {
    this.policy = policy;
  }

  /** Throws `policy_denied` (counted) when the policy denies path@version (both checked). */
  private enforcePolicy(path: string, version: string): void {
    const d = evaluatePolicy(this.policy, path, version);
    if (d.allowed) return;
    this.counters.denied++;
    const e = new SumkeepError('policy_denied', deniedMessage(d.reason));
    // Counted here once (reportRefusal keeps it from being counted again by lookupRecord).
    this.reportRefusal(e);
    throw e;
  }

  async lookup(path: string, version: string, opts: LookupOptions = {}): Promise<LookupAnswer> {
    const k = versionKey(path, version);
    const cached = this.records.get(k);
    if (cached !== undefined) {
      // Cached records were checked as a module version when they were first looked up.
      this.enforcePolicy(path, version);
      return { ...cached, head: await this.headCovering(cached.id) };
    }
    const { record, head } = await this.lookupRecord(path, version, opts);
    this.records.set(k, { id: record.id, text: record.text });
    return { id: record.id, text: record.text, head };
  }

  /**
   * The record for path@version with a head that covers it. With `fill` (the default) an unknown
   * version is fetched from the upstream and logged; otherwise it is `not_found`. A version the
   * policy denies is `policy_denied`, logged or not.
   */
  async lookupRecord(path: string, version: string, opts: LookupOptions = {}): Promise<LookupResult> {
    try {
      return await this.lookupOrFill(path, version, opts);
    } catch (e) {
      this.reportRefusal(e);
      throw e;
    }
  }

  /**
   * Counts `e` in sumkeep_refused_total when it refuses a module version, once per refusal (by
   * error object). Every refusal of a lookup and of a go.sum check's fetch passes lookupRecord; a
   * check made elsewhere (a policy decision before the record cache of `lookup`) calls this too.
   */
  reportRefusal(e: unknown): void {
    const reason = refusalReason(e);
    if (reason === null || this.reported.has(e as object)) return;
    this.reported.add(e as object);
    this.events.refused(reason);
  }

  private async lookupOrFill(path: string, version: string, opts: LookupOptions): Promise<LookupResult> {
    checkModuleVersion(path, version);
    this.enforcePolicy(path, version);
    let record = await this.store.lookup(path, version);
    if (record === null) {
      if (opts.fill === false) {
        throw new SumkeepError('not_found', `${path}@${version}: not in the log`);
      }
      record = await this.fill(path, version, opts.signal);
    }
    return { record, head: await this.headCovering(record.id) };
  }

  latest(): Promise<SignedHead | null> {
    return this.sequencer.current();
  }

  async latestNote(): Promise<Uint8Array> {
    const head = await this.sequencer.current();
    return head === null ? this.sequencer.emptyNote() : head.note;
  }

  async readTile(path: string): Promise<ServedTile> {
    const t = this.tiles.parse(path);
    const size = this.sequencer.latest()?.size ?? 0;
    try {
      return await this.tiles.read(path, t, size);
    } catch (e) {
      // Another writer (sumkeep ingest, another node) may have grown the log: look once more
      // before saying 404, with one store read shared by all concurrent callers and no signature
      // unless the tree did grow (Sequencer.refresh).
      const head = await this.sequencer.refresh();
      if ((head?.size ?? 0) === size) throw e;
      return this.tiles.read(path, t, head?.size ?? 0);
    }
  }

  async checkGoSum(
    gosum: { lines: GoSumLine[]; invalid: GoSumInvalid[] },
    opts: GoSumCheckOptions,
  ): Promise<GoSumCheck> {
    // Pass 1: what the policy denies (not looked up, never fetched; `denied` whatever the log
    // holds), then what the log already holds. Paths and versions were checked by the go.sum parser.
    // A go.sum of 100,000 lines is seconds of work: it lets other requests run every
    // CHECK_CHUNK versions (a SQLite lookup does not yield: better-sqlite3 is synchronous).
    const versions = new Map<string, GoSumLine>();
    for (const l of gosum.lines) versions.set(versionKey(l.path, l.version), l);
    const found = new Map<string, Logged>();
    const policy = this.policy;
    let n = 0;
    for (const [key, l] of versions) {
      if (++n % CHECK_CHUNK === 0) await yieldToLoop();
      opts.signal?.throwIfAborted();
      const d = evaluatePolicy(policy, l.path, l.version);
      if (!d.allowed) {
        found.set(key, { reason: deniedMessage(d.reason), denied: true });
        continue;
      }
      const record = await this.store.lookup(l.path, l.version);
      found.set(key, record === null ? { reason: `${key}: not in the log` } : loggedHashes(record));
    }

    // Pass 2 (fetch): fill unknown versions from the upstream, a bounded number per check.
    if (opts.fetch) {
      const missing = [...versions].filter(([key]) => {
        const f = found.get(key)!;
        return !('id' in f) && f.denied !== true;
      });
      for (const [key] of missing.slice(opts.maxFetch)) {
        found.set(key, {
          reason: `${key}: not in the log and not fetched (over ${opts.maxFetch} fetches in one request)`,
        });
      }
      await eachLimited(missing.slice(0, opts.maxFetch), CHECK_FETCH_CONCURRENCY, async ([key, l]) => {
        try {
          const looked = await this.lookupRecord(l.path, l.version, { signal: opts.signal });
          found.set(key, loggedHashes(looked.record));
        } catch (e) {
          // The policy was reloaded between pass 1 and this lookup, and now denies the version.
          if (isSumkeepError(e, 'policy_denied')) {
            found.set(key, { reason: e.message, denied: true });
            return;
          }
          if (!leavesUnknown(e)) throw e;
          found.set(key, { reason: e.message.split('\n')[0]!.slice(0, 500) });
        }
      });
    }

    // One head for the whole answer, taken after every lookup: it covers all their records.
    let maxId = -1;
    for (const f of found.values()) if ('id' in f) maxId = Math.max(maxId, f.id);
    const head = maxId >= 0 ? await this.headCovering(maxId) : await this.sequencer.current();
    const results = await stepsYielding(compareGoSumSteps(gosum, (key) => found.get(key)!, CHECK_CHUNK));
    return { results, head };
  }

  async recent(limit: number): Promise<RecordSummary[]> {
    return (await this.store.recentRecords(limit)).map(summary);
  }

  async search(prefix: string, limit: number): Promise<RecordSummary[]> {
    if (typeof prefix !== 'string' || !SEARCH_PREFIX_RE.test(prefix)) {
      throw new SumkeepError(
        'bad_input',
        'search by a module path prefix of 1 to 512 printable ASCII characters without spaces',
      );
    }
    return (await this.store.searchRecords(prefix, limit)).map(summary);
  }

  growth(points: number): Promise<GrowthPoint[]> {
    return this.store.headGrowth(points);
  }

  async ready(): Promise<Readiness> {
    if (!this.sequencer.signersReady()) return { ok: false, reason: 'the note key does not sign' };
    return this.writable();
  }

  /**
   * Whether the database takes a committed write, asked at most once per READY_CACHE_MS: the
   * answer (either way) is kept that long and shared by concurrent probes, so that probes from
   * every load balancer never cost more than one write per interval.
   */
  private writable(): Promise<Readiness> {
    const now = this.now();
    if (this.writeCheck !== null && (this.writeCheck.pending || now - this.writeCheck.at < READY_CACHE_MS)) {
      return this.writeCheck.result;
    }
    const check = {
      at: now,
      pending: true,
      result: this.store.checkWritable().then(
        (): Readiness => ({ ok: true }),
        (e: unknown): Readiness => ({ ok: false, reason: 'database is not writable', cause: e }),
      ),
    };
    // The interval counts from the answer: a slow check is not asked again at once.
    void check.result.finally(() => {
      check.pending = false;
      check.at = this.now();
    });
    this.writeCheck = check;
    return check.result;
  }

  stats(): LogStats {
    const load = this.upstream?.load?.();
    return {
      treeSize: this.sequencer.latest()?.size ?? 0,
      lastCommitMs: this.sequencer.latest()?.createdAt ?? null,
      pendingRecords: this.sequencer.pending(),
      signerReady: this.sequencer.signersReady(),
      ...this.counters,
      upstreamInFlight: load?.active ?? 0,
      upstreamQueued: load?.queued ?? 0,
    };
  }

  /** The latest head, re-read from the store when it does not yet cover `id` (another writer). */
  async headCovering(id: number): Promise<SignedHead> {
    let head = this.sequencer.latest();
    if (head === null || head.size <= id) {
      head = await this.sequencer.reload();
    }
    if (head === null || head.size <= id) {
      throw new SumkeepError('internal', `record ${id} is not covered by the latest signed head`);
    }
    return head;
  }

  private fill(path: string, version: string, signal: AbortSignal | undefined): Promise<LogRecord> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const k = versionKey(path, version);
    let flight = this.inflight.get(k);
    if (flight === undefined) {
      // Asked only when the log does not hold the version (the caller looked first): a version
      // ingested meanwhile is served, whatever the upstream said before.
      const known = this.negative.get(k);
      if (known !== undefined) {
        // A replay of a refusal counted when it happened, not a new one.
        this.reported.add(known);
        return Promise.reject(known);
      }
      const controller = new AbortController();
      const f: Flight = {
        controller,
        waiters: 0,
        settled: false,
        done: this.fetchAndAdd(path, version, controller.signal).finally(() => {
          f.settled = true;
          if (this.inflight.get(k) === f) this.inflight.delete(k);
        }),
      };
      // A cancelled fetch rejects when nobody waits for it any more.
      f.done.catch(() => undefined);
      this.inflight.set(k, f);
      flight = f;
    }
    return this.join(k, flight, signal);
  }

  /** `flight.done` for one client, which leaves when `signal` aborts (see the file comment). */
  private join(k: string, flight: Flight, signal: AbortSignal | undefined): Promise<LogRecord> {
    flight.waiters++;
    if (signal === undefined) return flight.done;
    return new Promise<LogRecord>((resolve, reject) => {
      const leave = (): void => {
        reject(signal.reason as Error);
        if (--flight.waiters > 0 || flight.settled) return;
        // The last client is gone. A new client from now on starts a fetch of its own rather
        // than joining one that is being cancelled.
        if (this.inflight.get(k) === flight) this.inflight.delete(k);
        this.counters.fetchesCancelled++;
        flight.controller.abort(new SumkeepError('cancelled', `${k}: every client of this fetch went away`));
      };
      signal.addEventListener('abort', leave, { once: true });
      flight.done.then(
        (r) => {
          signal.removeEventListener('abort', leave);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(e as Error);
        },
      );
    });
  }

  private async fetchAndAdd(path: string, version: string, signal: AbortSignal): Promise<LogRecord> {
    if (this.upstream === null) {
      throw new SumkeepError(
        'not_found',
        `${path}@${version}: not in the log, and this server has no upstream`,
      );
    }
    this.counters.upstreamFetches++;
    let m;
    try {
      m = await this.upstream.fetchModule(path, version, signal);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      // An oversized .mod or .zip is a refused module (410), not an oversized request (413).
      const failure = isSumkeepError(e, 'too_large')
        ? new SumkeepError('invalid_zip', e.message, { cause: e })
        : e;
      this.negative.remember(versionKey(path, version), failure);
      throw failure;
    }
    // Every client left while the answer came in: a cancelled fetch records nothing.
    if (signal.aborted) throw signal.reason;
    if (this.crossCheck !== null) {
      try {
        // The upstream refuses private modules before any request, so this is a public one.
        await this.crossCheck.check(path, version, m.zipHash, m.modHash, signal);
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        // Only refusals are lasting (negative-cache.ts): an unreachable database is asked again.
        this.negative.remember(versionKey(path, version), e);
        throw e;
      }
      if (signal.aborted) throw signal.reason;
    }
    const text = utf8(formatRecordLines(path, version, m.zipHash, m.modHash));
    const rec = await this.sequencer.add({ path, version, text, source: `upstream:${m.source}` });
    this.counters.recordsAdded++;
    return rec;
  }
}
