/**
 * What the log reports as it works, for /metrics: the one sink interface between src/log (and the
 * upstream and store it drives) and src/http/metrics.ts, which implements it. Counters and
 * histograms need every event; figures that are a state (tree size, records pending, requests in
 * flight) are read from LogApi.stats() at scrape time instead.
 *
 * Calls are made on the hot path: an implementation must not throw, block or do I/O.
 */

/** How one upstream HTTP request (one attempt of one file) ended. */
export type UpstreamOutcome = 'ok' | 'not_found' | 'error' | 'timeout';

export interface LogEvents {
  /**
   * A module version was refused (src/log/refusals.ts names the reason). Each refusal is reported
   * once: a refusal answered again from the negative cache, or shared by several clients of one
   * fetch, is not a new one.
   */
  refused(reason: string): void;
  /** The sequencer committed a batch of `records` records in `seconds` (hashing, signing, store). */
  committed(seconds: number, records: number): void;
  /** A store call failed with this SumkeepError code ('internal' for anything else). */
  storeError(code: string): void;
  /** One upstream HTTP request ended; `seconds` from when it got its slot to its end. */
  upstreamRequest(outcome: UpstreamOutcome, seconds: number): void;
}

/** The sink of a log without metrics (tests, `sumkeep ingest`). */
export const NO_EVENTS: LogEvents = {
  refused: () => undefined,
  committed: () => undefined,
  storeError: () => undefined,
  upstreamRequest: () => undefined,
};
