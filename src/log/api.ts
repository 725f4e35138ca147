/**
 * The one interface between the HTTP routes (src/http) and the log, as x/mod's sumdb ServerOps is
 * for Go's server: the routes see nothing of the sequencer, the store or the upstream. LogService
 * (service.ts) implements it; tests may implement it with fakes.
 */
import type { GoSumInvalid, GoSumLine } from '../core/gosum.ts';
import type { VerifyLineResult } from '../verify/response.ts';
import type { SignedHead } from '../store/store.ts';

export interface LookupOptions {
  /** Fill an unlogged version from the upstream (default true); false: `not_found` instead. */
  fill?: boolean;
  /** The caller gave up (client disconnected): its share of an upstream fetch is released. */
  signal?: AbortSignal;
}

export interface LookupAnswer {
  /** Record id (log index). */
  id: number;
  /** Record text, exactly the two go.sum lines "M V h1:...\nM V/go.mod h1:...\n". */
  text: Uint8Array;
  /** A signed head whose tree contains the record (id < head.size). */
  head: SignedHead;
}

export interface ServedTile {
  data: Uint8Array;
  /** A full tile (W = 256) never changes; a partial one is replaced by wider ones as the log grows. */
  full: boolean;
  /** Strong ETag, quoted. */
  etag: string;
}

export interface GoSumCheckOptions {
  /** Fill unlogged versions from the upstream first (POST /api/v1/verify?fetch=1). */
  fetch: boolean;
  /** At most this many versions are fetched per check; the rest stay unknown ("not fetched"). */
  maxFetch: number;
  signal?: AbortSignal;
}

export interface GoSumCheck {
  /** One result per line (lines and invalid lines), in line order. */
  results: VerifyLineResult[];
  /** A signed head covering every record id in results; null only while the log is empty. */
  head: SignedHead | null;
}

export interface Readiness {
  ok: boolean;
  /** One line for the probe's body when not ok. */
  reason?: string;
  /** The error behind it, for the server's log (never for the response). */
  cause?: unknown;
}

export interface LogStats {
  treeSize: number;
  /** When the latest signed tree head was made (ms since epoch; by any writer); null while empty. */
  lastCommitMs: number | null;
  /** Records added but not yet committed (queued or in the batch being committed). */
  pendingRecords: number;
  /** Every note key signs a probe now (no database; a token key is asked). */
  signerReady: boolean;
  upstreamFetches: number;
  /** Upstream fetches cancelled because every client waiting for them had gone. */
  fetchesCancelled: number;
  recordsAdded: number;
  /**
   * Lookups (/lookup, /sumdb/<name>/lookup, /api/v1/gosum) answered 403 `policy_denied`; go.sum
   * lines reported `denied` by the verify API are counted there, by status, not here.
   */
  denied: number;
  /** Upstream HTTP requests running now, and waiting for a slot (--upstream-concurrency). */
  upstreamInFlight: number;
  upstreamQueued: number;
}

/** A logged module version as the status page lists it (no record text, no source). */
export interface RecordSummary {
  id: number;
  path: string;
  version: string;
  /** Milliseconds since the Unix epoch at which its batch was committed. */
  createdAt: number;
}

/** The tree size at a moment: one signed head's size and commit time (ms since the epoch). */
export interface GrowthPoint {
  size: number;
  createdAt: number;
}

export interface LogApi {
  /** The record of path@version with a head covering it (see LookupOptions). */
  lookup(path: string, version: string, opts?: LookupOptions): Promise<LookupAnswer>;
  /** The latest signed tree head; null while the log is empty. */
  latest(): Promise<SignedHead | null>;
  /**
   * The note /latest serves: the latest signed head's note, or while the log is empty a signed
   * note of the size-0 tree (never stored).
   */
  latestNote(): Promise<Uint8Array>;
  /** A hash or data tile by its path ("tile/8/0/x001/234[.p/7]", "tile/8/data/..."). */
  readTile(path: string): Promise<ServedTile>;
  /** Compares parsed go.sum lines with the log (the verify API). */
  checkGoSum(
    gosum: { lines: GoSumLine[]; invalid: GoSumInvalid[] },
    opts: GoSumCheckOptions,
  ): Promise<GoSumCheck>;
  /** Readiness: the database takes writes and every note key signs. */
  ready(): Promise<Readiness>;
  /** The `limit` (at most MAX_LIST) most recently logged module versions, newest first. */
  recent(limit: number): Promise<RecordSummary[]>;
  /**
   * At most `limit` (at most MAX_LIST) logged module versions whose path starts with `prefix`,
   * compared bytewise, by path then version. bad_input unless the prefix is 1 to 512 printable
   * ASCII characters without spaces (what module paths are made of).
   */
  search(prefix: string, limit: number): Promise<RecordSummary[]>;
  /** The tree size over time at most `points` (2 .. MAX_GROWTH_POINTS) samples, oldest first. */
  growth(points: number): Promise<GrowthPoint[]>;
  /**
   * Figures for /metrics; cheap, never touches the database. Events that /metrics counts
   * (refusals, commits, store errors, upstream requests) go to the LogEvents sink (events.ts).
   */
  stats(): LogStats;
}
