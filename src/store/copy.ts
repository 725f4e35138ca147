/**
 * `sumkeep store copy`: copies a log from one store to another (SQLite to PostgreSQL and back),
 * head by head, verifying everything it writes:
 *  - every record: its text is the go.sum record of its own path and version, and its leaf hash is
 *    the source's stored hash;
 *  - every stored hash: recomputed from the leaf hashes (tlog) and compared with the source's;
 *  - every signed head: its tree hash recomputed from those hashes equals the head's hash, it is
 *    proven to extend the previous head, and the text of its note (and of every further note of
 *    it) is exactly the tree it claims. Signatures are not checked (that needs the note keys;
 *    `sumkeep audit` does it).
 * Each source head becomes one appendBatch on the destination, so the destination holds exactly
 * the source's heads, records (with their source and creation time) and notes, and a copy that
 * stops half way is a valid, shorter log that a second run continues.
 *
 * A non-empty destination must be a prefix of the source: the same heads (size, hash and note
 * bytes) up to its size, and stored hashes that hash to its latest head. Anything else is refused
 * with `conflict` before a byte is written.
 */
import { SumkeepError } from '../core/errors.ts';
import { bytesEqual, toBase64 } from '../core/bytes.ts';
import {
  checkTree,
  formatTree,
  proveTree,
  recordHash,
  storedHashCount,
  treeHash,
  withAsyncReader,
} from '../core/tlog/index.ts';
import { appendHashes } from '../log/append-hashes.ts';
import type { AuditStore, SignedHead } from './store.ts';

export interface CopyProgress {
  /** Records now in the destination. */
  records: number;
  /** Records in the source. */
  total: number;
  heads: number;
}

export interface CopyResult {
  /** Records and heads the destination held before (its prefix of the source). */
  before: { records: number; heads: number };
  /** Records and heads copied by this call. */
  copied: { records: number; heads: number };
  /** Further head notes added by this call. */
  notes: number;
  /** The source's size, now also the destination's. */
  size: number;
}

/** Records read and written per step within one head's batch read. */
const READ_CHUNK = 10_000;

function notCopyable(message: string): SumkeepError {
  return new SumkeepError('log_inconsistent', `store copy: the source ${message}`);
}

/** True when `note` is a signed note whose text is exactly the tree (size, hash). */
function noteNames(note: Uint8Array, size: number, hash: Uint8Array): boolean {
  const text = formatTree({ N: size, hash });
  // A note is its text, a blank line, then signature lines: the text is followed by "\n".
  return (
    note.length > text.length && bytesEqual(note.subarray(0, text.length), text) && note[text.length] === 0x0a
  );
}

function sameHead(a: SignedHead, b: SignedHead): boolean {
  return a.size === b.size && bytesEqual(a.hash, b.hash) && bytesEqual(a.note, b.note);
}

/**
 * Copies what `from` holds beyond `to`'s prefix into `to` (see the module comment). Throws
 * `conflict` when `to` is not a prefix of `from`, `log_inconsistent` when the source fails a check
 * (nothing of the failing head is written).
 */
export async function copyLog(
  from: AuditStore,
  to: AuditStore,
  opts: { onProgress?: (p: CopyProgress) => void } = {},
): Promise<CopyResult> {
  const srcHeads = await from.heads();
  const dstHeads = await to.heads();
  const total = srcHeads.at(-1)?.size ?? 0;

  // The destination must be a prefix: the same heads, in order, and its own hashes consistent.
  if (dstHeads.length > srcHeads.length) {
    throw new SumkeepError(
      'conflict',
      `store copy: the destination has ${dstHeads.length} signed heads, more than the source's ${srcHeads.length}; it is not a prefix of the source`,
    );
  }
  for (let i = 0; i < dstHeads.length; i++) {
    if (!sameHead(dstHeads[i]!, srcHeads[i]!)) {
      throw new SumkeepError(
        'conflict',
        `store copy: the destination's signed head ${i} (size ${dstHeads[i]!.size}) differs from the source's; the destination is not empty and not a prefix of the source`,
      );
    }
  }
  const dstLatest = dstHeads.at(-1);
  let size = dstLatest?.size ?? 0;
  if (dstLatest !== undefined && size > 0) {
    const th = await withAsyncReader(
      (r) => treeHash(size, r),
      (ix) => to.readHashes(ix),
    );
    if (!bytesEqual(th, dstLatest.hash)) {
      throw new SumkeepError(
        'conflict',
        `store copy: the destination's stored hashes do not hash to its latest head (size ${size}); it is not a prefix of the source`,
      );
    }
  }

  const result: CopyResult = {
    before: { records: size, heads: dstHeads.length },
    copied: { records: 0, heads: 0 },
    notes: 0,
    size: total,
  };
  let prevHash: Uint8Array | null = dstLatest?.hash ?? null;
  for (let h = dstHeads.length; h < srcHeads.length; h++) {
    const head = srcHeads[h]!;
    if (head.size < size || (h > 0 && head.size === size))
      throw notCopyable(`heads do not grow at head ${h}`);
    if (!noteNames(head.note, head.size, head.hash)) {
      throw notCopyable(
        `note of head ${head.size} does not name its tree (size ${head.size}, hash ${toBase64(head.hash)})`,
      );
    }
    const count = head.size - size;
    const records = [];
    for (let at = size; at < head.size; at += READ_CHUNK) {
      const want = Math.min(READ_CHUNK, head.size - at);
      const got = await from.recordsRange(at, want);
      if (got.length !== want) throw notCopyable(`lacks records of ${at}..${at + want - 1}`);
      records.push(...got);
    }
    const leaves = records.map((r, k) => {
      if (r.id !== size + k) throw notCopyable(`record ${size + k} has id ${r.id}`);
      const line = new TextEncoder().encode(`${r.path} ${r.version} h1:`);
      if (!bytesEqual(r.text.subarray(0, line.length), line)) {
        throw notCopyable(`record ${r.id} text is not the record of ${r.path}@${r.version}`);
      }
      return recordHash(r.text);
    });
    // Recompute the stored hashes from the leaves over the destination's (verified) hashes and
    // compare them with the source's.
    const { hashes, reader } = await appendHashes(size, leaves, (ix) => to.readHashes(ix));
    const first = storedHashCount(size);
    const theirs = hashes.length > 0 ? await from.readHashes(hashes.map((x) => x.index)) : [];
    if (hashes.length !== storedHashCount(head.size) - first)
      throw notCopyable(`hash count differs at head ${head.size}`);
    hashes.forEach((x, i) => {
      if (!bytesEqual(x.hash, theirs[i]!))
        throw notCopyable(`stored hash ${x.index} differs from the one recomputed from the records`);
    });
    if (head.size > 0) {
      const th = treeHash(head.size, reader);
      if (!bytesEqual(th, head.hash))
        throw notCopyable(`head of size ${head.size} does not hash to its records`);
      if (prevHash !== null && size > 0) {
        const proof = proveTree(head.size, size, reader);
        if (!checkTree(proof, head.size, th, size, prevHash)) {
          throw notCopyable(`head of size ${head.size} does not extend the head of size ${size}`);
        }
      }
    }
    await to.appendBatch({
      records: records.map((r) => ({
        id: r.id,
        path: r.path,
        version: r.version,
        text: r.text,
        source: r.source,
      })),
      hashes,
      head,
    });
    result.copied.records += count;
    result.copied.heads++;
    size = head.size;
    prevHash = head.hash;
    opts.onProgress?.({ records: size, total, heads: h + 1 });
  }

  // Further notes of every head (after a note-key rotation); adding one again is a no-op.
  for (const head of srcHeads) {
    const theirs = await from.headNotes(head.size);
    if (theirs.length === 0) continue;
    const ours = await to.headNotes(head.size);
    for (const note of theirs) {
      if (ours.some((n) => bytesEqual(n, note))) continue;
      if (!noteNames(note, head.size, head.hash))
        throw notCopyable(`a further note of head ${head.size} names another tree`);
      await to.addHeadNote(head.size, note, head.createdAt);
      result.notes++;
    }
  }
  return result;
}
