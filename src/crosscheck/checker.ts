/**
 * The cross-check (--check-sumdb): before a public module version enters the log, the two hashes
 * sumkeep computed from what the upstream served must equal what an independent checksum database
 * (sum.golang.org, or any other) logs for that version, proven the way the go command proves it
 * (golang.org/x/mod/sumdb client.go: Lookup, mergeLatest, checkRecord), trusting nothing but the
 * verifier key and the tree head remembered in the store:
 *
 *  1. a fork proof kept in the store (or seen by this process) fails every check at once;
 *  2. GET lookup/<M>@<V> (escaped): 404/410 is `crosscheck_missing`; any other failure
 *     `crosscheck_unavailable` (fail closed, never remembered as a negative answer);
 *  3. the answer is "<id>\n<record text>\n<signed note>": the note must verify with the key, the id
 *     be below its tree size, the text be the two lines of exactly M@V;
 *  4. the heads: the one remembered in the store (its "latest"), the lookup's, and for an offline
 *     copy the go command's own latest. Every one must be a prefix of the largest: treeHash of its
 *     size, computed over the largest tree's tiles, which are themselves tied to the largest's
 *     signed root (tlog.tileHashReader), must equal its root. Otherwise the database has forked:
 *     the proof (both notes) is logged and kept in the store, and the check fails closed;
 *  5. the record must be in the largest tree: an inclusion proof from its tiles (offline, where the
 *     copy may lack those tiles, in the lookup's own tree, itself proven a prefix in step 4);
 *  6. the largest head is remembered (a compare-and-set: only a larger tree replaces it);
 *  7. the record's two hashes must equal sumkeep's: otherwise `crosscheck_mismatch`, naming both.
 *
 * Bounds: one lookup of at most LOOKUP_LIMIT bytes and at most MAX_TILES_PER_CHECK tile reads per
 * check, each exactly W*32 bytes; the source applies its timeouts. A module matching --private is
 * never asked (check returns 'private' without any request).
 */
import { decodeUtf8, toBase64 } from '../core/bytes.ts';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { parseRecordLines } from '../core/gosum.ts';
import { escapePath, escapeVersion } from '../core/module.ts';
import { open, verifierSet, type VerifierSet } from '../core/note.ts';
import {
  checkRecord,
  hashesEqual,
  parseRecord,
  parseTree,
  proveRecord,
  recordHash,
  tileHashReader,
  tilePath,
  treeHash,
  withAsyncReader,
  type Hash,
  type Tile,
  type Tree,
  SUMDB_FULL_TILE,
  SUMDB_TILE_HEIGHT,
} from '../core/tlog/index.ts';
import { utf8 } from '../core/bytes.ts';
import { LruCache } from '../lru.ts';
import type { Store } from '../store/store.ts';
import type { SumdbSpec } from './spec.ts';
import type { SumdbSource } from './source.ts';

/** A lookup answer: a record of two lines and a note with a few signatures. */
export const LOOKUP_LIMIT = 256 * 1024;
/** The go command's latest file, and a note in the offline copy. */
const NOTE_LIMIT = 64 * 1024;
/**
 * Tile reads per check. A consistency proof plus an inclusion proof in a tree of 2^40 records
 * read well under 40 tiles of height 8; more is a database trying to make sumkeep work.
 */
export const MAX_TILES_PER_CHECK = 64;
/** Longest one check may take (a lookup and at most three rounds of tile reads). */
export const CHECK_TIMEOUT_MS = 60_000;
/** Authenticated tiles kept in memory (8 KiB each at most). */
const TILE_CACHE_ENTRIES = 512;

/** What the checker needs of the store. */
export type RemoteHeadStore = Pick<Store, 'remoteState' | 'saveRemoteHead' | 'saveRemoteFork'>;

/** The subset of a pino logger the checker writes to. */
export interface CrossCheckLogger {
  error(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface CrossCheckOptions {
  spec: SumdbSpec;
  source: SumdbSource;
  store: RemoteHeadStore;
  /** True for a module matching --private: never asked. */
  isPrivate: (path: string) => boolean;
  log?: CrossCheckLogger;
  now?: () => number;
  /** Longest one check may take, all requests together. Default CHECK_TIMEOUT_MS. */
  timeoutMs?: number;
  /** What sumkeep computed its hashes from, for the mismatch message. Default "the upstream". */
  origin?: string;
}

/** What one check found: the version is in that database with sumkeep's hashes, or private. */
export type CrossCheckOutcome = 'verified' | 'private';

/** One signed tree head and where it came from (for messages and the fork proof). */
interface Head {
  tree: Tree;
  note: Uint8Array;
  where: string;
}

/** The database showed two heads that cannot both be prefixes of one log. */
class ForkFound extends Error {
  constructor(
    readonly older: Head,
    readonly newer: Head,
  ) {
    super('fork');
  }
}

export class CrossChecker {
  readonly name: string;
  private readonly verifiers: VerifierSet;
  private readonly tiles = new LruCache<string, Uint8Array>(TILE_CACHE_ENTRIES);
  /** A fork this process found or read from the store: every check fails with it. */
  private fork: string | null = null;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** Counters for tests and /metrics. */
  readonly counters = { lookups: 0, tileReads: 0, verified: 0, refused: 0, unavailable: 0 };

  constructor(private readonly opts: CrossCheckOptions) {
    this.name = opts.spec.name;
    this.verifiers = verifierSet([opts.spec.verifier]);
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? CHECK_TIMEOUT_MS;
  }

  /**
   * Cross-checks M@V with the hashes sumkeep computed (see the file comment). Resolves 'verified'
   * or 'private'; rejects with SumkeepError crosscheck_mismatch, crosscheck_missing or
   * crosscheck_unavailable (or the signal's reason, or a store error).
   */
  async check(
    path: string,
    version: string,
    zipHash: string,
    modHash: string,
    signal?: AbortSignal,
  ): Promise<CrossCheckOutcome> {
    if (this.opts.isPrivate(path)) return 'private';
    // One deadline for the whole check (lookup and every round of tiles), beside each request's own.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new SumkeepError('upstream_timeout', `no answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    const both = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal]);
    try {
      await this.run(path, version, zipHash, modHash, both);
      this.counters.verified++;
      return 'verified';
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      let err = e;
      if (deadline.signal.aborted && !isSumkeepError(e, 'crosscheck_mismatch')) {
        err = new SumkeepError(
          'crosscheck_unavailable',
          `${path}@${version}: cannot cross-check with the checksum database ${this.name}: ` +
            `no complete answer within ${this.timeoutMs} ms`,
        );
      }
      if (isSumkeepError(err, 'crosscheck_unavailable')) this.counters.unavailable++;
      else if (isSumkeepError(err, 'crosscheck_mismatch') || isSumkeepError(err, 'crosscheck_missing'))
        this.counters.refused++;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(
    path: string,
    version: string,
    zipHash: string,
    modHash: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const key = `${path}@${version}`;
    const db = `the checksum database ${this.name}`;
    const unavailable = (why: string, cause?: unknown) =>
      new SumkeepError(
        'crosscheck_unavailable',
        `${key}: cannot cross-check with ${db}: ${why}`,
        cause === undefined ? undefined : { cause },
      );

    // 1. A known fork fails closed.
    const state = await this.opts.store.remoteState(this.name);
    if (this.fork === null && state.fork !== null) this.fork = firstLine(state.fork.proof);
    if (this.fork !== null) {
      throw unavailable(`SECURITY ERROR: it has forked (${this.fork}); every cross-check fails closed`);
    }

    // 2. The lookup.
    if (signal?.aborted) throw signal.reason;
    this.counters.lookups++;
    const rel = `lookup/${escapePath(path)}@${escapeVersion(version)}`;
    let body: Uint8Array | null;
    try {
      body = await this.opts.source.read(rel, LOOKUP_LIMIT, signal);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      throw unavailable(`${this.opts.source.where()}: ${reason(e)}`, e);
    }
    if (body === null) {
      throw new SumkeepError(
        'crosscheck_missing',
        `${key}: not in ${db} (${this.opts.source.where()}); a private module missing from --private?`,
      );
    }

    // 3. The answer must verify and be the record of exactly this version.
    let id: number;
    let text: Uint8Array;
    let lookupHead: Head;
    let logged: { zipHash: string; modHash: string };
    try {
      const rec = parseRecord(body);
      id = rec.id;
      text = rec.text;
      lookupHead = { tree: this.openNote(rec.rest), note: rec.rest, where: `its lookup of ${key}` };
      const lines = parseRecordLines(decodeUtf8(text) ?? '');
      if (lines.path !== path || lines.version !== version) {
        throw new SumkeepError(
          'malformed_record',
          `it answered the record of ${lines.path}@${lines.version}`,
        );
      }
      logged = lines;
    } catch (e) {
      this.misbehaved(key, `its lookup answer does not verify: ${reason(e)}`);
      throw unavailable(`its lookup answer does not verify (${reason(e)})`, e);
    }
    if (id >= lookupHead.tree.N) {
      this.misbehaved(key, `record id ${id} is outside its own tree of size ${lookupHead.tree.N}`);
      throw unavailable(`it answered record ${id}, outside its own tree of size ${lookupHead.tree.N}`);
    }

    // 4. One history: every head a prefix of the largest.
    const heads: Head[] = [lookupHead];
    const stored: Head | null =
      state.head === null
        ? null
        : {
            tree: { N: state.head.size, hash: state.head.hash },
            note: state.head.note,
            where: 'the tree head remembered in the store',
          };
    if (stored !== null) heads.push(stored);
    // Offline, the go command's latest is further evidence, used when the copy holds the tiles
    // to tie it to the others: the go command proved its heads one after the other and cached the
    // tiles of those proofs, which need not be the tiles of a proof from this lookup's head to its
    // latest. Without them it is left out (an inconsistency it does show is a fork all the same).
    let goLatest: Head | null = null;
    if (this.opts.source.latest !== undefined) {
      try {
        const note = await this.opts.source.latest();
        if (note !== null) goLatest = { tree: this.openNote(note), note, where: "the go command's latest" };
      } catch (e) {
        throw unavailable(`its latest in ${this.opts.source.where()} does not verify (${reason(e)})`, e);
      }
    }
    const budget = { left: MAX_TILES_PER_CHECK };
    const proveAll = async (all: Head[]): Promise<Head> => {
      let big = all[0]!;
      for (const h of all) if (h.tree.N > big.tree.N) big = h;
      for (const h of all) if (h !== big) await this.proveExtends(h, big, budget, signal);
      return big;
    };
    let largest: Head;
    try {
      try {
        largest = await proveAll(goLatest === null ? heads : [...heads, goLatest]);
      } catch (e) {
        if (goLatest === null || e instanceof ForkFound || signal?.aborted) throw e;
        largest = await proveAll(heads);
      }
    } catch (e) {
      if (e instanceof ForkFound) throw await this.forked(key, e, unavailable);
      if (signal?.aborted) throw signal.reason;
      throw unavailable(`cannot prove its tree heads consistent (${reason(e)})`, e);
    }

    // 5. The record in the largest tree (else in the lookup's own, proven a prefix above: offline,
    // the copy may hold the tiles of one and not of the other).
    const leaf = recordHash(text);
    let proven = false;
    let lastError: unknown;
    for (const h of largest === lookupHead ? [largest] : [largest, lookupHead]) {
      try {
        const proof = await withAsyncReader(
          (r) => proveRecord(h.tree.N, id, r),
          this.reader(h.tree, budget, signal),
        );
        proven = checkRecord(proof, h.tree.N, h.tree.hash, id, leaf);
        if (!proven)
          lastError = new SumkeepError(
            'log_inconsistent',
            `record ${id} is not in the tree of size ${h.tree.N}`,
          );
        break;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        lastError = e;
        if (isSumkeepError(e, 'log_inconsistent')) break;
      }
    }
    if (!proven) {
      if (isSumkeepError(lastError, 'log_inconsistent')) {
        this.misbehaved(
          key,
          `the record it answered (id ${id}) is not in its signed tree: ${reason(lastError)}`,
        );
      }
      throw unavailable(`cannot prove its record ${id} in its signed tree (${reason(lastError)})`, lastError);
    }

    // 6. Remember the largest head; a larger one stored meanwhile must extend it too.
    if (stored === null || largest.tree.N > stored.tree.N) {
      const saved = await this.opts.store.saveRemoteHead(this.name, {
        size: largest.tree.N,
        hash: largest.tree.hash,
        note: largest.note,
        seenAt: this.now(),
      });
      if (!saved) {
        const again = (await this.opts.store.remoteState(this.name)).head;
        if (again !== null) {
          const other: Head = {
            tree: { N: again.size, hash: again.hash },
            note: again.note,
            where: 'the tree head another cross-check remembered meanwhile',
          };
          try {
            if (other.tree.N >= largest.tree.N) await this.proveExtends(largest, other, budget, signal);
            else await this.proveExtends(other, largest, budget, signal);
          } catch (e) {
            if (e instanceof ForkFound) throw await this.forked(key, e, unavailable);
            if (signal?.aborted) throw signal.reason;
            throw unavailable(`cannot prove its tree heads consistent (${reason(e)})`, e);
          }
        }
      }
    }

    // 7. The hashes.
    if (logged.zipHash !== zipHash || logged.modHash !== modHash) {
      const msg =
        `${key}: refused: ${db} logs ${logged.zipHash} (zip) and ${logged.modHash} (go.mod), ` +
        `but sumkeep computed ${zipHash} (zip) and ${modHash} (go.mod) from ${this.opts.origin ?? 'the upstream'}`;
      this.opts.log?.error(
        {
          module: key,
          sumdb: this.name,
          logged: { zip: logged.zipHash, mod: logged.modHash },
          computed: { zip: zipHash, mod: modHash },
          recordId: id,
          treeSize: largest.tree.N,
        },
        `cross-check mismatch: ${msg}`,
      );
      throw new SumkeepError('crosscheck_mismatch', msg);
    }
  }

  /** The tree of a note signed by the database's key; throws SumkeepError. */
  private openNote(note: Uint8Array): Tree {
    if (note.length > NOTE_LIMIT) throw new SumkeepError('too_large', 'signed note too large');
    return parseTree(utf8(open(note, this.verifiers).text));
  }

  /** Throws ForkFound unless `small` is a prefix of `big` (big.tree.N >= small.tree.N). */
  private async proveExtends(
    small: Head,
    big: Head,
    budget: { left: number },
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (small.tree.N === big.tree.N) {
      if (!hashesEqual(small.tree.hash, big.tree.hash)) throw new ForkFound(small, big);
      return;
    }
    if (small.tree.N === 0) return;
    let h: Hash;
    try {
      h = await withAsyncReader((r) => treeHash(small.tree.N, r), this.reader(big.tree, budget, signal));
    } catch (e) {
      // The larger tree's own tiles disagree with its signed root or with each other: that
      // database signed something its tiles do not show, which is a fork of its own kind.
      if (isSumkeepError(e, 'log_inconsistent')) throw new ForkFound(small, big);
      throw e;
    }
    if (!hashesEqual(h, small.tree.hash)) throw new ForkFound(small, big);
  }

  /**
   * A hash reader of `tree` over the database's tiles: a missing partial tile is read as the
   * prefix of the full one (as the go command does); tiles are counted against `budget` and kept
   * in memory only once tileHashReader has tied them to the signed root.
   */
  private reader(tree: Tree, budget: { left: number }, signal: AbortSignal | undefined) {
    const fresh = new Map<string, Uint8Array>();
    const read = async (t: Tile): Promise<Uint8Array> => {
      const path = tilePath(t);
      const known = this.tiles.get(path);
      if (known !== undefined) return known;
      const want = t.W * 32;
      const fetchOne = async (p: string, limit: number): Promise<Uint8Array | null> => {
        if (budget.left <= 0) {
          throw new SumkeepError('too_large', `more than ${MAX_TILES_PER_CHECK} tile reads in one check`);
        }
        budget.left--;
        this.counters.tileReads++;
        return this.opts.source.read(p, limit, signal);
      };
      let data = await fetchOne(path, want);
      if ((data === null || data.length !== want) && t.W < SUMDB_FULL_TILE) {
        const full = await fetchOne(tilePath({ ...t, W: SUMDB_FULL_TILE }), SUMDB_FULL_TILE * 32);
        if (full !== null && full.length === SUMDB_FULL_TILE * 32) data = full.slice(0, want);
      }
      if (data === null || data.length !== want) {
        throw new SumkeepError(
          'upstream_not_found',
          `${path} ${data === null ? 'is missing' : 'has the wrong size'}`,
        );
      }
      fresh.set(path, data);
      return data;
    };
    const inner = tileHashReader(tree, SUMDB_TILE_HEIGHT, (ts) => Promise.all(ts.map(read)));
    return async (indexes: readonly number[]): Promise<Hash[]> => {
      const out = await inner(indexes);
      for (const [p, d] of fresh) this.tiles.set(p, d);
      fresh.clear();
      return out;
    };
  }

  /** Logs and keeps the proof of a fork; returns the error every check fails with from now on. */
  private async forked(
    key: string,
    f: ForkFound,
    unavailable: (why: string) => SumkeepError,
  ): Promise<SumkeepError> {
    const summary =
      `its tree of size ${f.newer.tree.N} (${f.newer.where}) does not extend ` +
      `its tree of size ${f.older.tree.N} (${f.older.where})`;
    const proof =
      `checksum database ${this.name} forked at ${new Date(this.now()).toISOString()}: ${summary}\n` +
      `--- ${f.older.where}: tree ${f.older.tree.N} ${toBase64(f.older.tree.hash)}\n` +
      `${decodeUtf8(f.older.note) ?? '(not UTF-8)'}\n` +
      `--- ${f.newer.where}: tree ${f.newer.tree.N} ${toBase64(f.newer.tree.hash)}\n` +
      `${decodeUtf8(f.newer.note) ?? '(not UTF-8)'}\n`;
    this.fork = summary;
    this.opts.log?.error(
      {
        sumdb: this.name,
        module: key,
        older: { size: f.older.tree.N, note: decodeUtf8(f.older.note) },
        newer: { size: f.newer.tree.N, note: decodeUtf8(f.newer.note) },
      },
      `SECURITY ERROR: checksum database ${this.name} misbehavior: ${summary}; every cross-check fails closed`,
    );
    try {
      await this.opts.store.saveRemoteFork(this.name, { proof, detectedAt: this.now() });
    } catch (e) {
      this.opts.log?.error({ sumdb: this.name, err: e }, 'cannot keep the fork proof in the store');
    }
    return unavailable(`SECURITY ERROR: it has forked (${summary}); every cross-check fails closed`);
  }

  private misbehaved(key: string, what: string): void {
    this.opts.log?.error(
      { sumdb: this.name, module: key },
      `SECURITY ERROR: checksum database ${this.name} misbehavior: ${what}`,
    );
  }
}

function reason(e: unknown): string {
  if (e instanceof SumkeepError) return e.message.replace(/\s+/g, ' ').slice(0, 300);
  return 'internal error';
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? line.slice(0, 297) + '...' : line;
}
