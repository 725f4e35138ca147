/**
 * The sequencer: the single writer of the log. New records wait in a batch (bounded by a short delay
 * and a maximum size); each batch is hashed into the tree, a new tree head is signed over exactly
 * that data, and records + stored hashes + head are committed in one store transaction.
 *
 * Crash ordering (what recovery finds if the process dies at each step of `flush`):
 *  1. Records are only in memory (the queue): nothing is in the store; no caller got a 200 for them
 *     (`add` resolves only after step 4), so nothing promised is lost. Clients retry.
 *  2. Hashes and the new tree hash are computed in memory from the store's committed hashes: no
 *     effect on disk.
 *  3. The new head is proven to extend the previous committed head (tree proof) and signed: the
 *     signature exists only in memory. A head is never signed over uncommitted data because it is
 *     committed in the same transaction as the data it covers (step 4) or not at all.
 *  4. `store.appendBatch` commits records, hashes and head atomically (SQLite: one transaction with
 *     synchronous=FULL; PostgreSQL: one transaction under an advisory lock, synchronous_commit=on).
 *     Dying before COMMIT leaves the previous state; dying after leaves the new state, durable.
 *     Either way the latest head in the store covers exactly the stored records. A lost connection
 *     during COMMIT leaves the outcome unknown to this process: the waiters get an error, the
 *     in-memory head stays, and the next batch finds the truth (conflict, reload, settleExisting).
 *  5. The rollback guard keeps the new head outside the database (`guard.keep`: the checkpoint
 *     file replaced by temporary file, fsync, rename, directory fsync; src/log/checkpoint.ts).
 *     Dying before the rename leaves the previous head in the file and the new one in the store:
 *     at start the guard finds the store's head a proven extension of the kept one and keeps it
 *     then. Nobody has been answered with the new head yet, so the file never lags an answer.
 *  6. With --publish, the head's tiles, the new records' lookup files and then `latest` are
 *     written (`publisher.publishCommitted`, each file temporary + fsync + rename; src/log/
 *     publish.ts). Dying here leaves the directory at an older head (or with some of the new
 *     tiles and lookups, which are correct bytes already); at start `sync` re-publishes from what
 *     `latest` holds up to the store's head before anything is served.
 *     If step 5 or 6 fails without dying (disk full, permissions), the waiters get the error and
 *     the in-memory head stays the old one: the new head is in the store but is served only after
 *     a reload (the next batch conflicts, a retried lookup or /latest notices the store's size)
 *     has kept and published it, through the same steps.
 *  7. Waiters are resolved. Dying here means callers saw an error though the records are logged; a
 *     retry finds them with `lookup`.
 * Start-up (`open`) runs the same checks as a flush: it recomputes the tree hash of the stored
 * hashes and requires it to equal the latest signed head, checks that head against the kept one
 * (guard.check: equal or a proven extension, else `log_inconsistent` and nothing is served), keeps
 * it, and brings the published directory up to it (the empty log's `latest` too; after a note-key
 * rotation, the lookup files re-signed with the co-signed head, src/log/publish.ts) before serving
 * anything. A reload (a head written by another process) goes through the same steps.
 *
 * Another process (e.g. `sumkeep ingest`, or another `serve` node on PostgreSQL) may append to the
 * same database: the store refuses a batch whose ids do not follow its tree (`conflict`); the
 * sequencer then reloads the tree and sequences the batch again.
 *
 * A note key that cannot sign (a PKCS#11 token removed, its library failing, a wrong PIN after a
 * restart of the token: the signer throws `unavailable`) holds the batch at step 3: nothing is
 * committed, no head is signed by fewer keys or another key. The batch is tried again after
 * SIGNER_HOLD_MS pauses (each attempt lets the signer re-open its session); when the key still
 * cannot sign, its waiters get `unavailable` (HTTP 503, one line: which key and why) and nothing of
 * theirs was logged, so a client retry starts clean. Records already in the log stay readable: the
 * stored heads are served as they are. The next batch tries again, so the log recovers by itself
 * when the key returns; /readyz (signersReady) shows the state meanwhile.
 */
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { sign, type Signer } from '../core/note.ts';
import {
  checkTree,
  emptyTreeHash,
  formatTree,
  proveTree,
  recordHash,
  treeHash,
  type Hash,
  withAsyncReader,
} from '../core/tlog/index.ts';
import { bytesEqual, decodeUtf8 } from '../core/bytes.ts';
import type { LogRecord, NewRecord, SignedHead, Store } from '../store/store.ts';
import { appendHashes } from './append-hashes.ts';
import { KnownHashes } from './known-hashes.ts';
import { NO_EVENTS, type LogEvents } from './events.ts';

/** The rollback guard as the sequencer uses it (CheckpointGuard, src/log/checkpoint.ts). */
export interface HeadGuard {
  /** Throws `log_inconsistent` unless `head` (the store's latest) is the kept head or extends it. */
  check(
    head: SignedHead | null,
    readHashes: (indexes: readonly number[]) => Promise<Uint8Array[]>,
  ): Promise<void>;
  /** Throws unless a head extending `old` may be signed (`conflict`: another writer is ahead). */
  checkSigning(
    old: SignedHead | null,
    readHashes: (indexes: readonly number[]) => Promise<Uint8Array[]>,
  ): Promise<void>;
  /** Keeps `head` outside the database; durable when it resolves. */
  keep(head: SignedHead): Promise<void>;
}

/** The published read path as the sequencer uses it (Publisher, src/log/publish.ts). */
export interface HeadPublisher {
  /**
   * Brings the directory up to `head` from the store; for the empty log (null), `latest` is
   * `emptyNote`, the signed size-0 note /latest serves.
   */
  sync(head: SignedHead | null, opts?: { emptyNote?: Uint8Array }): Promise<void>;
  /** Publishes a head this process committed with its new records; durable when it resolves. */
  publishCommitted(head: SignedHead, records: readonly LogRecord[]): Promise<void>;
}

export interface SequencerOptions {
  /** Longest a new record waits for more records before its batch is committed (ms). */
  maxDelayMs: number;
  /** Most records in one batch. */
  maxBatch: number;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** Where each committed batch is reported (/metrics); default nowhere. */
  events?: Pick<LogEvents, 'committed'>;
  /** The rollback guard: every head is checked against it before it is extended and kept in it
   * before it is served. */
  guard?: HeadGuard;
  /** With --publish: every head is published before it is served. */
  publisher?: HeadPublisher;
}

export interface PendingRecord {
  path: string;
  version: string;
  /** Record text, "<M> <V> h1:...\n<M> <V>/go.mod h1:...\n". */
  text: Uint8Array;
  source: string;
}

interface Waiter {
  rec: PendingRecord;
  resolve: (r: LogRecord) => void;
  reject: (e: unknown) => void;
  promise: Promise<LogRecord>;
}

const key = (path: string, version: string): string => `${path}@${version}`;

/** Commit attempts for one batch while other writers keep appending first. */
const MAX_COMMIT_ATTEMPTS = 20;

/** Pauses (ms) before each new attempt of a batch whose note key could not sign; bounds the hold. */
export const SIGNER_HOLD_MS: readonly number[] = [250, 500, 1000, 2000];

/** How stale current() may be about commits made by another process. */
const FRESHNESS_MS = 200;

export class Sequencer {
  private readonly store: Store;
  private readonly signers: Signer[];
  private readonly opts: Required<Omit<SequencerOptions, 'guard' | 'publisher'>>;
  private readonly guard: HeadGuard | undefined;
  private readonly publisher: HeadPublisher | undefined;
  private queue = new Map<string, Waiter>();
  /** Records taken from the queue whose batch is being committed now. */
  private committing = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** The chain of announce() (keep, publish, serve), one head at a time. */
  private announcing: Promise<void> = Promise.resolve();
  private head: SignedHead | null = null;
  private closed = false;
  /** When current() last compared the store's tree size with ours (ms). */
  private checkedAt = 0;
  /** The refresh in flight, shared by its concurrent callers. */
  private refreshing: Promise<SignedHead | null> | null = null;
  /** emptyNote's answer, once made. */
  private emptyHeadNote: Uint8Array | null = null;
  /** The committed hashes the next batch reads (src/log/known-hashes.ts). */
  private readonly known = new KnownHashes();

  private constructor(store: Store, signers: Signer[], opts: SequencerOptions) {
    this.store = store;
    this.signers = signers;
    const { guard, publisher, ...rest } = opts;
    this.opts = { now: Date.now, events: NO_EVENTS, ...rest };
    this.guard = guard;
    this.publisher = publisher;
  }

  /**
   * Opens the log: checks that the stored hashes hash to the latest signed head (recovery and normal
   * start are the same path).
   *
   * An empty log has no stored head. /latest serves a signed note of the size-0 tree for it
   * (emptyNote), made in memory and never stored: the rollback guard, the audit and the store see
   * heads of committed batches only.
   */
  static async open(store: Store, signers: Signer[], opts: SequencerOptions): Promise<Sequencer> {
    if (signers.length === 0) throw new SumkeepError('config', 'sequencer: no note signer');
    const s = new Sequencer(store, signers, opts);
    // The empty log is published too (`latest` is the signed size-0 note /latest serves); a
    // non-empty one through reload.
    if ((await s.reload()) === null) await s.publisher?.sync(null, { emptyNote: s.emptyNote() });
    return s;
  }

  /**
   * True when every note key signs: a probe text is signed and the signature has the right size.
   * For the readiness probe: a signer that stopped working (a key store gone away) shows here
   * before the next batch fails.
   */
  signersReady(): boolean {
    const probe = new TextEncoder().encode('sumkeep readiness probe\n');
    try {
      return this.signers.length > 0 && this.signers.every((s) => s.sign(probe).length === 64);
    } catch {
      return false;
    }
  }

  /**
   * The signed note of the size-0 tree, "go.sum database tree\n0\n<base64 SHA-256 of \"\">\n" signed
   * by every note key, for /latest of an empty log (monitors poll it, and an empty body is no
   * signed statement). The root is RFC 6962's empty-tree hash, as today's x/mod TreeHash(0)
   * answers. The go command never fetches /latest (it reads tree heads from lookups, whose trees
   * are never empty), so the older x/mod of Go 1.19, for which the size-0 root is 32 zero bytes,
   * never compares it. Signed once per process (Ed25519 is deterministic: every process serves
   * the same bytes); a note key that cannot sign throws `unavailable`.
   */
  emptyNote(): Uint8Array {
    this.emptyHeadNote ??= this.signHead(0, emptyTreeHash()).note;
    return this.emptyHeadNote;
  }

  /** The latest committed signed head, or null while the log is empty. */
  latest(): SignedHead | null {
    return this.head;
  }

  /**
   * Records added but not yet durable: queued, or in the batch being committed (or held while a
   * note key cannot sign). Non-zero for longer than a batch delay means commits are stuck.
   */
  pending(): number {
    return this.queue.size + this.committing;
  }

  /**
   * Re-reads the latest head from the store (another process may have appended) and checks that the
   * stored hashes hash to it. Stored hashes never change once written, so the check holds whatever
   * another writer appends meanwhile. The head kept in memory never moves back: a reload that
   * raced with a newer commit of this process keeps the newer head.
   *
   * The store's head must pass the rollback guard (the kept head or a proven extension of it),
   * else `log_inconsistent` and nothing of it is served; a head not served before is kept and
   * published (steps 5 and 6 of the file comment) before it becomes the one served.
   */
  async reload(): Promise<SignedHead | null> {
    const head = await this.store.latestHead();
    if (head !== null) {
      const th = await this.treeHashFromStore(head.size);
      if (!bytesEqual(th, head.hash)) {
        throw new SumkeepError(
          'log_inconsistent',
          `stored hashes do not hash to the latest signed head (size ${head.size})`,
        );
      }
    }
    await this.guard?.check(head, (ix) => this.store.readHashes(ix));
    const loaded = head === null ? null : await this.cosign(head);
    const newer = () =>
      loaded !== null &&
      (this.head === null ||
        loaded.size > this.head.size ||
        (loaded.size === this.head.size && !bytesEqual(loaded.note, this.head.note)));
    if (newer()) {
      await this.announce(async () => {
        // A commit of this process may have moved past it meanwhile: then nothing is left to do.
        if (!newer()) return;
        await this.guard?.keep(loaded!);
        await this.publisher?.sync(loaded);
        if (newer()) this.head = loaded;
      });
    }
    return this.head;
  }

  /**
   * The latest head. This process's own commits update it at once; a commit by another writer on
   * the same database (`sumkeep ingest`) is noticed within FRESHNESS_MS, so that serving /latest
   * costs no database read per request.
   */
  async current(): Promise<SignedHead | null> {
    const now = this.opts.now();
    if (now - this.checkedAt < FRESHNESS_MS) return this.head;
    this.checkedAt = now;
    const size = await this.store.treeSize();
    return size === (this.head?.size ?? 0) ? this.head : this.reload();
  }

  /**
   * The latest head, after asking the store whether another writer grew the log. One read of the
   * store's tree size serves every concurrent caller (single flight); the head itself is re-read,
   * checked and re-signed (reload) only when that size differs from ours. So a flood of requests
   * beyond the tree (tiles that do not exist yet) costs one cheap read per wave and no signature.
   */
  refresh(): Promise<SignedHead | null> {
    this.refreshing ??= (async () => {
      try {
        const size = await this.store.treeSize();
        this.checkedAt = this.opts.now();
        return size === (this.head?.size ?? 0) ? this.head : await this.reload();
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * The head as the current note keys sign it. After a note-key rotation the stored note of the
   * latest tree carries only the old key's signature, and clients configured with the new key would
   * see "no verifiable signatures" until the tree grows. Signing the same tree text again with every
   * current key fixes that: Ed25519 signatures are deterministic, so every process and every start
   * produces the same bytes, and a note for an unchanged tree (same size, same hash) is not a new
   * tree head: clients accept it as the one they already know. The stored note is not replaced;
   * the new one is kept beside it (Store.addHeadNote).
   */
  private async cosign(head: SignedHead): Promise<SignedHead> {
    let resigned: SignedHead;
    try {
      resigned = this.signHead(head.size, head.hash, head.createdAt);
    } catch (e) {
      // A key that cannot sign now: serve the stored note, signed as it was (never a fallback key).
      if (isSumkeepError(e, 'unavailable')) return head;
      throw e;
    }
    if (bytesEqual(resigned.note, head.note)) return head;
    // Kept before it is served, like every note the server hands out (idempotent across restarts
    // and workers: the bytes are the same).
    await this.store.addHeadNote(head.size, resigned.note, this.opts.now());
    return { ...head, note: resigned.note };
  }

  /**
   * Queues a record for the log; resolves with the logged record once it is durable. Adding the same
   * path@version while it waits returns the same promise (one record). If the store already holds a
   * record for path@version (added by another writer) that record is returned when its text is the
   * same, and `conflict` is thrown when it differs: a record is never replaced.
   */
  add(rec: PendingRecord): Promise<LogRecord> {
    if (this.closed) return Promise.reject(new SumkeepError('internal', 'sequencer is closed'));
    const k = key(rec.path, rec.version);
    const existing = this.queue.get(k);
    if (existing) {
      if (!bytesEqual(existing.rec.text, rec.text)) {
        return Promise.reject(new SumkeepError('conflict', `${k}: two different records for one version`));
      }
      return existing.promise;
    }
    let resolve!: (r: LogRecord) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<LogRecord>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.queue.set(k, { rec, resolve, reject, promise });
    if (this.queue.size >= this.opts.maxBatch) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.opts.maxDelayMs);
    return promise;
  }

  /** Commits everything queued now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(() => this.drain());
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.drain());
    }, delay);
  }

  /** Commits the queue in batches of at most maxBatch. Never rejects: failures reject the waiters. */
  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      const batch: Waiter[] = [];
      for (const [k, w] of this.queue) {
        batch.push(w);
        this.queue.delete(k);
        if (batch.length >= this.opts.maxBatch) break;
      }
      await this.commitWithRetry(batch);
    }
  }

  /**
   * Commits a batch. The first attempt goes straight to the store: callers check the log before they
   * add, so a record that is already there is rare, and the store refuses it (`conflict`) anyway.
   * After a conflict (another writer appended first, or logged one of these versions) or a database
   * that stayed locked by another writer (`store_busy`), the tree is reloaded, versions now logged are settled, and the rest is tried again after a short random
   * pause, so that writers racing for the database do not collide in lock step.
   */
  private async commitWithRetry(batch: Waiter[]): Promise<void> {
    this.committing = batch.length;
    try {
      await this.commitAttempts(batch);
    } finally {
      this.committing = 0;
    }
  }

  private async commitAttempts(batch: Waiter[]): Promise<void> {
    let todo = batch;
    let held = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0) todo = await this.settleExisting(todo);
        if (todo.length === 0) return;
        const started = performance.now();
        const logged = await this.commit(todo.map((w) => w.rec));
        this.opts.events.committed((performance.now() - started) / 1000, logged.length);
        todo.forEach((w, i) => w.resolve(logged[i]!));
        return;
      } catch (e) {
        let failure: unknown = e;
        if (isSumkeepError(e, 'unavailable')) {
          // A note key cannot sign (see the file comment): hold the batch, then give up on it.
          const pause = SIGNER_HOLD_MS[held++];
          if (pause !== undefined) {
            await new Promise((r) => setTimeout(r, pause));
            attempt--;
            continue;
          }
          failure = new SumkeepError(
            'unavailable',
            `the log cannot sign a new tree head now (${e.message}); nothing was logged, try again later`,
            { cause: e },
          );
          for (const w of todo) w.reject(failure);
          return;
        }
        // `store_busy`: another writer held the database past the busy timeout; nothing was written.
        const retryable = isSumkeepError(e, 'conflict') || isSumkeepError(e, 'store_busy');
        if (retryable && attempt < MAX_COMMIT_ATTEMPTS) {
          try {
            await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
            await this.reload();
            continue;
          } catch (e2) {
            failure = e2;
          }
        }
        for (const w of todo) w.reject(failure);
        return;
      }
    }
  }

  /** Resolves waiters whose module version another writer has logged; returns the rest. */
  private async settleExisting(batch: Waiter[]): Promise<Waiter[]> {
    const todo: Waiter[] = [];
    for (const w of batch) {
      const found = await this.store.lookup(w.rec.path, w.rec.version);
      if (found === null) {
        todo.push(w);
      } else if (bytesEqual(found.text, w.rec.text)) {
        w.resolve(found);
      } else {
        w.reject(
          new SumkeepError(
            'conflict',
            `${w.rec.path}@${w.rec.version}: the log already holds different hashes (record ${found.id}); it is never overwritten`,
          ),
        );
      }
    }
    return todo;
  }

  /** Steps 2-7 of the crash ordering above, for one batch. */
  private async commit(recs: PendingRecord[]): Promise<LogRecord[]> {
    const old = this.head;
    const oldSize = old?.size ?? 0;
    const newSize = oldSize + recs.length;
    const now = this.opts.now();

    // Step 2: stored hashes of the new records, computed over the store's committed hashes (those
    // kept from this process's last commit, the rest read from the store at once) and the ones
    // this batch produces.
    const leafHashes = recs.map((r) => recordHash(r.text));
    const reads = this.known.reads((ix) => this.store.readHashes(ix));
    const { hashes, reader } = await appendHashes(oldSize, leafHashes, reads.read);
    const newHash = treeHash(newSize, reader);

    // Step 3: prove the new tree extends the committed one before signing it.
    if (old !== null && oldSize > 0) {
      const proof = proveTree(newSize, oldSize, reader);
      if (!checkTree(proof, newSize, newHash, oldSize, old.hash)) {
        throw new SumkeepError('log_inconsistent', `new tree ${newSize} does not extend tree ${oldSize}`);
      }
    }
    // The rollback guard: the tree being extended is the kept head or extends it, so the new
    // head does too (a size already signed is never signed again with another hash).
    await this.guard?.checkSigning(old, (ix) => this.store.readHashes(ix));
    const head = this.signHead(newSize, newHash, now);

    // Step 4: one atomic, durable commit of records, hashes and head.
    const records: NewRecord[] = recs.map((r, i) => ({ id: oldSize + i, ...r }));
    await this.store.appendBatch({ records, hashes, head });
    this.known.committed(newSize, reads, hashes);
    const logged = records.map((r) => ({ ...r, createdAt: now }));

    // Step 5: keep the head outside the database. Step 6: publish it. Step 7: serve it (the
    // caller resolves the waiters).
    await this.announce(async () => {
      await this.guard?.keep(head);
      await this.publisher?.publishCommitted(head, logged);
      if (this.head === null || head.size > this.head.size) this.head = head;
    });
    return logged;
  }

  /**
   * Runs the steps that make a head the served one (keep, publish, this.head) one at a time: a
   * reload (a lookup, /latest) may find a head in the store while this process's commit of it is
   * still publishing, and the publisher writes one head after the other.
   */
  private announce(fn: () => Promise<void>): Promise<void> {
    const run = this.announcing.then(fn);
    this.announcing = run.catch(() => {});
    return run;
  }

  private treeHashFromStore(size: number): Promise<Hash> {
    return withAsyncReader(
      (r) => treeHash(size, r),
      (indexes) => this.store.readHashes(indexes),
    );
  }

  private signHead(size: number, hash: Hash, now = this.opts.now()): SignedHead {
    const text = formatTree({ N: size, hash });
    const textStr = decodeUtf8(text);
    if (textStr === null) throw new SumkeepError('internal', 'tree note is not UTF-8');
    return { size, hash, note: sign(textStr, this.signers), createdAt: now };
  }
}
