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
  upstreamFetches: number;
  /** Upstream fetches cancelled because every client waiting for them had gone. */
  fetchesCancelled: number;
  recordsAdded: number;
  /** Upstream HTTP requests running now, and waiting for a slot (--upstream-concurrency). */
  upstreamInFlight: number;
  upstreamQueued: number;
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
  /** Figures for /metrics; cheap, never touches the database. */
  stats(): LogStats;
}
