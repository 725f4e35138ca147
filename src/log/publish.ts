/**
 * Published tiles: the read path of the log as plain files, for any static web server, CDN or
 * bucket (the read path of Sunlight and Tessera). Layout under the publish directory, byte for
 * byte what the routes serve:
 *
 *   latest                                   the latest signed tree head (note)
 *   tile/8/<L>/<N>[.p/<W>]                   hash tiles
 *   tile/8/data/<N>[.p/<W>]                  data tiles
 *   lookup/<escaped path>@<escaped version>  "<id>\n<record text>\n<note of the first head that
 *                                            includes it>": a lookup answer that never needs to
 *                                            change (the go command accepts an older head and
 *                                            proves it consistent with the one it remembers)
 *
 * Order, for every head (crash-safe: each file is written to a temporary name, fsynced and
 * renamed, and the directories are fsynced before the next step):
 *   1. the tiles a client holding this head needs: for each level, the full tiles completed
 *      since the previous head and the one partial tile of this head's width;
 *   2. the lookup files of the head's new records;
 *   3. `latest`.
 * So `latest` never names a head whose tiles are missing, and a lookup file exists only for a
 * record whose head's tiles exist. Partial tiles of a tile stay until its full tile is written
 * (a client holding an old head asks for its partial tile, and on any error for the full one);
 * then they are removed. Dying anywhere leaves a directory that a restart completes: `sync`
 * republishes from what `latest` says up to the store's head, and rewriting a file with the same
 * bytes is harmless.
 *
 * After a note-key rotation (docs/ceremony.md) the lookup files written before it carry notes
 * signed with the old keys only, which a go client holding only the new key rejects ("no
 * verifiable signatures"). So every `sync` ends by checking that each lookup file carries a
 * signature by every key that signs the head it was brought up to (`resignLookups`): files that
 * lack one are rewritten with that head's note (the go command accepts any head that includes
 * the record and is consistent with the one it remembers; the head's tiles are published
 * already). The marker `<dir>/lookup-keys` (src/log/lookup-keys.ts) names the keys every lookup
 * file is known to carry; it is written only after all files are checked, so a crash in between
 * leaves no marker and the next start checks again, skipping the files already rewritten. No file
 * is read back when the keys are known otherwise: a directory published from scratch (or from
 * the empty log) by this process carries the keys of the notes it wrote; it gets the marker then.
 * Before a lookup file signed by fewer keys than the marker names is written, the marker goes.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SumkeepError } from '../core/errors.ts';
import { eachLimited } from '../concurrency.ts';
import { escapePath, escapeVersion } from '../core/module.ts';
import {
  formatDataTile,
  formatRecord,
  parseTree,
  SUMDB_FULL_TILE,
  SUMDB_TILE_HEIGHT,
  tilePath,
  type Tile,
} from '../core/tlog/index.ts';
import type { AuditStore, LogRecord, SignedHead } from '../store/store.ts';
import {
  LOOKUP_KEYS_FILE,
  coversKeys,
  formatLookupKeys,
  parseLookupKeys,
  signingKeys,
} from './lookup-keys.ts';

const H = SUMDB_TILE_HEIGHT;
const FULL = SUMDB_FULL_TILE;
/** Lookup files written (and fsynced) at once. */
const WRITE_CONCURRENCY = 16;
/** Records read from the store at once while checking the lookup files' signatures. */
const RESIGN_PAGE = 1000;

/** What publishing reads from the store. */
export type PublishStore = Pick<AuditStore, 'readTileHashes' | 'recordTexts' | 'recordsRange' | 'headsAfter'>;

/** The tiles a client holding a head of size `size` may ask for that are new since `oldSize`. */
export function tilesOfHead(oldSize: number, size: number): Tile[] {
  const tiles: Tile[] = [];
  for (let L = 0; Math.floor(size / FULL ** L) > 0; L++) {
    const oldCount = Math.floor(oldSize / FULL ** L);
    const count = Math.floor(size / FULL ** L);
    for (let N = Math.floor(oldCount / FULL); N < Math.floor(count / FULL); N++) {
      tiles.push({ H, L, N, W: FULL });
    }
    const W = count % FULL;
    if (W > 0 && count > oldCount) tiles.push({ H, L, N: Math.floor(count / FULL), W });
  }
  return tiles;
}

export interface SyncOptions {
  onProgress?: (done: number, total: number) => void;
  /** The empty log's `latest`: the signed size-0 note (see sync). */
  emptyNote?: Uint8Array;
}

/** A set of note keys (src/log/lookup-keys.ts), or 'all' for the set no file has narrowed yet. */
type KeySet = Set<string> | 'all';

function intersect(a: KeySet, b: KeySet): KeySet {
  if (a === 'all') return b;
  if (b === 'all') return a;
  return new Set([...a].filter((k) => b.has(k)));
}

/** A record's lookup file, relative to the directory. */
function lookupFile(r: Pick<LogRecord, 'path' | 'version'>): string {
  return join('lookup', `${escapePath(r.path)}@${escapeVersion(r.version)}`);
}

export class Publisher {
  /** Size of the head `latest` holds (what a restart resumes from). */
  private published = -1;
  private readonly dirsToSync = new Set<string>();
  /** The keys `<dir>/lookup-keys` names (null: no marker); undefined until read. */
  private lookupKeys: Set<string> | null | undefined;
  /**
   * Keys every lookup file of the directory is known to carry without reading it back ('all': no
   * file exists; null: not known), from the marker and the notes of the files this process wrote.
   */
  private known: KeySet | null = null;

  /** `log` gets a line of progress while lookup files are re-signed (after a note-key rotation). */
  constructor(
    readonly dir: string,
    private readonly store: PublishStore,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** True when `<dir>/<name>` exists with exactly these bytes. */
  private async holds(name: string, bytes: Uint8Array): Promise<boolean> {
    try {
      return Buffer.compare(await readFile(join(this.dir, name)), bytes) === 0;
    } catch {
      return false;
    }
  }

  /**
   * Size of the tree in `<dir>/latest`: -1 when there is none (or it cannot be read), 0 for the
   * empty log's `latest` (the signed size-0 note; an empty file from an earlier version).
   */
  async publishedSize(): Promise<number> {
    try {
      const note = await readFile(join(this.dir, 'latest'));
      if (note.length === 0) return 0;
      const text = note.subarray(0, note.indexOf('\n\n') + 1);
      return parseTree(new Uint8Array(text)).N;
    } catch {
      return -1;
    }
  }

  /**
   * Brings the directory up to `head`: every head of the store after what `latest` holds, in
   * order, then `head` itself (the note as served, co-signatures included). `onProgress` gets the
   * records published so far. For the empty log (`head` null), `emptyNote` is what /latest serves
   * then: the signed note of the size-0 tree (Sequencer.emptyNote); without it (a publisher with
   * no note key, `sumkeep publish`) nothing is written, and a static server passes /latest on to
   * sumkeep until the first head.
   */
  async sync(head: SignedHead | null, opts: SyncOptions = {}): Promise<void> {
    const { onProgress, emptyNote } = opts;
    const from = await this.publishedSize();
    // Another writer publishing into the same directory (a worker of --workers N) may be ahead
    // of the head this one has just read: that is no rollback when the store has its head.
    if (from > (head?.size ?? 0) && (await this.store.headsAfter(from - 1, 1))[0]?.size === from) return;
    if (from > (head?.size ?? 0)) {
      throw new SumkeepError(
        'log_inconsistent',
        `${join(this.dir, 'latest')} holds a tree of size ${from}, larger than the log's ${head?.size ?? 0}: ` +
          'the database is older than what was published (see docs/operations.md, "Disaster recovery")',
      );
    }
    if (head === null) {
      // The empty log: `latest` is the signed size-0 note, byte for byte what /latest serves
      // then, so that a static server answers monitors before the first record. An empty file
      // left by an earlier version (size 0 as well) is replaced by it.
      if (emptyNote !== undefined && from <= 0 && !(await this.holds('latest', emptyNote))) {
        await this.writeFile('latest', emptyNote);
        await this.syncDirs();
      }
      this.published = Math.max(from, 0);
      this.known = 'all';
      return;
    }
    this.published = from;
    // The lookup files below `from` carry the marker's keys (none exist below an empty `latest`:
    // this sync writes them all); the ones it writes narrow that to their heads' notes' keys.
    this.known = from <= 0 ? 'all' : await this.readLookupKeys();
    const PAGE = 100;
    for (let cursor = from; ;) {
      const page = await this.store.headsAfter(cursor, PAGE);
      const before = page.filter((h) => h.size < head.size);
      for (const h of before) {
        await this.publishNext(h);
        cursor = h.size;
        onProgress?.(h.size, head.size);
      }
      if (page.length < PAGE || before.length < page.length) break;
    }
    await this.publishNext(head);
    onProgress?.(head.size, head.size);
    await this.resignLookups(head, this.known);
  }

  /**
   * Makes every lookup file of the records of `head` (the head `latest` now holds) carry a
   * signature by every key that signed `head`: a file that lacks one is rewritten as
   * "<id>\n<record text>\n<head's note>". Nothing to do when the marker already names those keys.
   * Resumable: files written before a crash already carry the keys and are only read again.
   * `known`: keys every lookup file is known to carry without reading it ('all': no file
   * exists; null: nothing is known), from the marker and what this sync wrote.
   */
  private async resignLookups(head: SignedHead, known: KeySet | null): Promise<void> {
    const want = signingKeys(head.note);
    if (want.size === 0) return;
    const have = await this.readLookupKeys();
    if (have !== null && coversKeys(have, want)) return;
    if (known === 'all' || (known !== null && coversKeys(known, want))) {
      // A directory published from scratch (or from a marker) by heads signed with these keys:
      // nothing to read.
      await this.writeLookupKeys(want);
      return;
    }
    const started = performance.now();
    let rewritten = 0;
    let lastLog = started;
    for (let start = 0; start < head.size; start += RESIGN_PAGE) {
      const records = await this.store.recordsRange(start, Math.min(RESIGN_PAGE, head.size - start));
      await eachLimited(records, WRITE_CONCURRENCY, async (r) => {
        const rel = lookupFile(r);
        let old: Uint8Array | null = null;
        try {
          old = await readFile(join(this.dir, rel));
        } catch {
          // missing: written below
        }
        if (old !== null && coversKeys(signingKeys(old), want)) return;
        await this.writeFile(rel, Buffer.concat([formatRecord(r.id, r.text), head.note]));
        rewritten++;
      });
      await this.syncDirs();
      const now = performance.now();
      if (now - lastLog > 5000) {
        lastLog = now;
        this.log(
          `publish: re-signing lookup files for ${[...want].join(', ')}: ` +
            `${start + records.length} of ${head.size} checked, ${rewritten} rewritten`,
        );
      }
    }
    await this.writeLookupKeys(want);
    if (rewritten > 0 || have !== null) {
      this.log(
        `publish: lookup files of ${head.size} records carry signatures by ${[...want].join(', ')} ` +
          `(${rewritten} rewritten with the note of tree size ${head.size}, ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }

  private async writeLookupKeys(keys: Set<string>): Promise<void> {
    await this.writeFile(LOOKUP_KEYS_FILE, formatLookupKeys(keys));
    await this.syncDirs();
    this.lookupKeys = keys;
    this.known = keys;
  }

  private async readLookupKeys(): Promise<Set<string> | null> {
    if (this.lookupKeys !== undefined) return this.lookupKeys;
    try {
      this.lookupKeys = parseLookupKeys(await readFile(join(this.dir, LOOKUP_KEYS_FILE)));
    } catch {
      this.lookupKeys = null;
    }
    return this.lookupKeys;
  }

  /** Publishes `head` with the records since the last published head, read from the store. */
  private async publishNext(head: SignedHead): Promise<void> {
    const start = Math.max(this.published, 0);
    const records = head.size > start ? await this.store.recordsRange(start, head.size - start) : [];
    await this.publish(head, records);
  }

  /**
   * Publishes `head`, a head this process has just committed, whose new records are `records`
   * (ids head.size - records.length ..). When the directory is not exactly at the head before
   * them (a publish that failed half way, heads of another writer in between), it catches up from
   * the store instead (sync), so that no record's lookup file is skipped.
   */
  async publishCommitted(head: SignedHead, records: readonly LogRecord[]): Promise<void> {
    if (this.published >= 0 && this.published === head.size - records.length) {
      await this.publish(head, records);
      // A directory this process has published from its start (serve --publish from the empty
      // log): the marker, once, so that the next start reads no lookup file back.
      const known = this.known;
      if (records.length > 0 && known instanceof Set && known.size > 0) {
        if ((await this.readLookupKeys()) === null) await this.writeLookupKeys(known);
      }
    } else {
      await this.sync(head);
    }
  }

  /**
   * Publishes one head and the records it adds (ids from the previous published size). Must be
   * called with heads in increasing size; durable when it resolves.
   */
  async publish(head: SignedHead, records: readonly LogRecord[]): Promise<void> {
    const oldSize = Math.max(this.published, 0);
    for (const t of tilesOfHead(oldSize, head.size)) {
      await this.writeTile(t);
      if (t.L === 0) await this.writeTile({ ...t, L: -1 });
    }
    // A head signed by fewer keys than the marker names (a node not restarted after a rotation,
    // a key that could not sign): the marker goes before such a lookup file is written, and the
    // next sync checks every file again.
    if (records.length > 0 && this.known !== null) {
      this.known = intersect(this.known, signingKeys(head.note));
    }
    const marked = records.length > 0 ? await this.readLookupKeys() : null;
    if (marked !== null && !coversKeys(signingKeys(head.note), marked)) {
      await rm(join(this.dir, LOOKUP_KEYS_FILE), { force: true });
      this.dirsToSync.add(this.dir);
      await this.syncDirs();
      this.lookupKeys = null;
    }
    // Several files at once: their fsyncs share the file system's journal commits.
    await eachLimited(records, WRITE_CONCURRENCY, (r) =>
      this.writeFile(lookupFile(r), Buffer.concat([formatRecord(r.id, r.text), head.note])),
    );
    await this.syncDirs();
    // Never moves back: another writer into the same directory may have published a larger head.
    if ((await this.publishedSize()) <= head.size) {
      await this.writeFile('latest', head.note);
      await this.syncDirs();
    }
    // A full tile now exists for every partial tile below the head's last ones: drop those.
    for (const t of tilesOfHead(oldSize, head.size)) {
      if (t.W !== FULL) continue;
      await rm(join(this.dir, tilePath({ ...t, W: 1 }).replace(/\/1$/, '')), {
        recursive: true,
        force: true,
      });
      if (t.L === 0) {
        await rm(join(this.dir, tilePath({ ...t, L: -1, W: 1 }).replace(/\/1$/, '')), {
          recursive: true,
          force: true,
        });
      }
    }
    this.published = head.size;
  }

  private async writeTile(t: Tile): Promise<void> {
    const start = t.N * FULL;
    const data =
      t.L < 0
        ? formatDataTile(await this.store.recordTexts(start, t.W))
        : Buffer.concat(await this.store.readTileHashes(t.L * H, start, t.W));
    await this.writeFile(tilePath(t), data);
  }

  /** Writes `rel` under the directory: temporary file, fsync, rename (the directory is synced later). */
  private async writeFile(rel: string, data: Uint8Array): Promise<void> {
    const file = join(this.dir, rel);
    const d = dirname(file);
    await mkdir(d, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    this.dirsToSync.add(d);
  }

  private async syncDirs(): Promise<void> {
    for (const d of this.dirsToSync) {
      const fh = await open(d, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    this.dirsToSync.clear();
  }
}
