/**
 * The log service: answers "what is the record for M@V?", filling the log on demand from the
 * upstream. Concurrent requests for one module version share one upstream fetch and produce one
 * record (single flight); the sequencer dedups again at the batch level.
 */
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { formatRecordLines } from '../core/gosum.ts';
import { checkModuleVersion } from '../core/module.ts';
import { utf8 } from '../core/bytes.ts';
import type { LogRecord, SignedHead, Store } from '../store/store.ts';
import type { Sequencer } from './sequencer.ts';

/** What the service needs from an upstream GOPROXY client (src/upstream). */
export interface ModuleSource {
  fetchModule(
    path: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<{ zipHash: string; modHash: string; source: string }>;
}

export interface LookupResult {
  record: LogRecord;
  /** A signed head whose tree contains the record (record.id < head.size). */
  head: SignedHead;
}

export interface ServiceStats {
  upstreamFetches: number;
  recordsAdded: number;
}

export class LogService {
  readonly store: Store;
  readonly sequencer: Sequencer;
  private readonly upstream: ModuleSource | null;
  private readonly inflight = new Map<string, Promise<LogRecord>>();
  readonly stats: ServiceStats = { upstreamFetches: 0, recordsAdded: 0 };

  constructor(store: Store, sequencer: Sequencer, upstream: ModuleSource | null) {
    this.store = store;
    this.sequencer = sequencer;
    this.upstream = upstream;
  }

  /**
   * The record for path@version with a head that covers it. With `fill` (the default) an unknown
   * version is fetched from the upstream and logged; otherwise it is `not_found`.
   */
  async lookup(path: string, version: string, opts: { fill?: boolean } = {}): Promise<LookupResult> {
    checkModuleVersion(path, version);
    let record = await this.store.lookup(path, version);
    if (record === null) {
      if (opts.fill === false) {
        throw new SumkeepError('not_found', `${path}@${version}: not in the log`);
      }
      record = await this.fill(path, version);
    }
    return { record, head: await this.headCovering(record.id) };
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

  private fill(path: string, version: string): Promise<LogRecord> {
    const k = `${path}@${version}`;
    let p = this.inflight.get(k);
    if (p === undefined) {
      p = this.fetchAndAdd(path, version).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  private async fetchAndAdd(path: string, version: string): Promise<LogRecord> {
    if (this.upstream === null) {
      throw new SumkeepError(
        'not_found',
        `${path}@${version}: not in the log, and this server has no upstream`,
      );
    }
    this.stats.upstreamFetches++;
    let m;
    try {
      m = await this.upstream.fetchModule(path, version);
    } catch (e) {
      // An oversized .mod or .zip is a refused module (410), not an oversized request (413).
      if (isSumkeepError(e, 'too_large')) throw new SumkeepError('invalid_zip', e.message, { cause: e });
      throw e;
    }
    const text = utf8(formatRecordLines(path, version, m.zipHash, m.modHash));
    const rec = await this.sequencer.add({ path, version, text, source: `upstream:${m.source}` });
    this.stats.recordsAdded++;
    return rec;
  }
}
