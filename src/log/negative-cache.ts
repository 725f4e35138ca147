/**
 * Answers the upstream gave that hold for a while: a module version it does not have
 * ('upstream_not_found') or one sumkeep refused (isRefusal: invalid zip, another module, too
 * large, ...). Remembered per module version for `ttlMs` (--negative-cache-ttl) and replayed with
 * the same code and message, so that a client retrying a missing version (the go command does,
 * and so do CI fleets) costs no upstream request. Transient failures (5xx, timeouts, network
 * errors) and cancelled fetches are never remembered: the next lookup asks again.
 *
 * Bounded: at most `maxEntries` versions, the least recently used dropped first; an expired entry
 * is dropped when it is next looked at.
 */
import { SumkeepError, isRefusal, isSumkeepError } from '../core/errors.ts';
import { LruCache } from '../lru.ts';

interface Remembered {
  readonly code: SumkeepError['code'];
  readonly message: string;
  readonly until: number;
}

/** Whether a failed fill is worth remembering (see the file comment). */
export function isLasting(e: unknown): e is SumkeepError {
  return isSumkeepError(e) && (e.code === 'upstream_not_found' || isRefusal(e));
}

export class NegativeCache {
  private readonly entries: LruCache<string, Remembered>;

  /** `ttlMs` 0 remembers nothing; `now` is injectable for tests. */
  constructor(
    private readonly ttlMs: number,
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = new LruCache(maxEntries);
  }

  /** The remembered failure of `key` as a fresh error, or undefined. */
  get(key: string): SumkeepError | undefined {
    if (this.ttlMs === 0) return undefined;
    const r = this.entries.get(key);
    if (r === undefined) return undefined;
    if (this.now() >= r.until) {
      this.entries.delete(key);
      return undefined;
    }
    return new SumkeepError(r.code, r.message);
  }

  /** Remembers `e` for `key` when it is a lasting failure; anything else is ignored. */
  remember(key: string, e: unknown): void {
    if (this.ttlMs === 0 || !isLasting(e)) return;
    this.entries.set(key, { code: e.code, message: e.message, until: this.now() + this.ttlMs });
  }
}
