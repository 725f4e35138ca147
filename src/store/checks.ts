/**
 * The argument and batch checks every Store backend makes, in one place so that the backends refuse
 * the same things with the same codes: bad_input for a malformed argument (whatever the log holds),
 * conflict for a batch that does not extend the log as it is under the write lock.
 */
import { SumkeepError } from '../core/errors.ts';
import { storedHashCount } from '../core/tlog/index.ts';
import {
  MAX_GROWTH_POINTS,
  MAX_LIST,
  type AppendBatch,
  type HeadPoint,
  type RemoteFork,
  type RemoteHead,
} from './store.ts';

export const HASH_SIZE = 32;

export function badInput(message: string): SumkeepError {
  return new SumkeepError('bad_input', `store: ${message}`);
}

export function conflict(message: string, cause?: unknown): SumkeepError {
  return new SumkeepError('conflict', `store: ${message}`, cause === undefined ? undefined : { cause });
}

export function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export function checkIndex(what: string, n: unknown): asserts n is number {
  if (!isIndex(n)) throw badInput(`${what} must be a non-negative integer, got ${String(n)}`);
}

/** Checks a [start, start + count) range argument. */
export function checkRange(what: string, start: unknown, count: unknown): void {
  checkIndex('start', start);
  checkIndex('count', count);
  if (!isIndex(start + count)) throw badInput(`${what} range out of bounds`);
}

/** Checks a recentRecords / searchRecords limit (0 .. MAX_LIST). */
export function checkListLimit(limit: unknown): asserts limit is number {
  if (!isIndex(limit) || limit > MAX_LIST)
    throw badInput(`limit must be an integer from 0 to ${MAX_LIST}, got ${String(limit)}`);
}

/** Longest searchRecords prefix (a module path is at most a few hundred bytes). */
export const MAX_PREFIX = 512;
const PREFIX_RE = /^[\x21-\x7e]+$/;

/**
 * Checks a searchRecords prefix and returns the exclusive upper end of its range: the prefix with
 * its last character incremented. For printable ASCII (0x21..0x7e, so the increment is at most
 * 0x7f, still one byte) a string s starts with p exactly when p <= s < prefixEnd(p) in byte order,
 * whatever bytes follow: no LIKE, no wildcard, no escaping.
 */
export function prefixRange(prefix: unknown): [string, string] {
  if (typeof prefix !== 'string' || prefix.length > MAX_PREFIX || !PREFIX_RE.test(prefix)) {
    throw badInput(`search prefix must be 1 to ${MAX_PREFIX} printable ASCII characters without spaces`);
  }
  const last = prefix.charCodeAt(prefix.length - 1);
  return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
}

/** Checks a headGrowth points argument (2 .. MAX_GROWTH_POINTS). */
export function checkGrowthPoints(points: unknown): asserts points is number {
  if (!isIndex(points) || points < 2 || points > MAX_GROWTH_POINTS)
    throw badInput(`points must be an integer from 2 to ${MAX_GROWTH_POINTS}, got ${String(points)}`);
}

/** The instants headGrowth samples: lo + floor((hi - lo) * i / (points - 1)), i = 0 .. points-1. */
export function growthInstants(lo: number, hi: number, points: number): number[] {
  const span = Math.max(hi - lo, 0);
  return Array.from({ length: points }, (_, i) => lo + Math.floor((span * i) / (points - 1)));
}

/** Drops each point equal to the one before it (headGrowth). */
export function dedupePoints(points: readonly HeadPoint[]): HeadPoint[] {
  const out: HeadPoint[] = [];
  for (const p of points) {
    const prev = out.at(-1);
    if (prev === undefined || prev.size !== p.size || prev.createdAt !== p.createdAt) out.push(p);
  }
  return out;
}

/** Refuses a batch that is malformed whatever the log holds (bad_input). */
export function checkBatchShape(batch: AppendBatch): void {
  if (batch === null || typeof batch !== 'object') throw badInput('batch is not an object');
  const { records, hashes, head } = batch;
  if (!Array.isArray(records) || !Array.isArray(hashes) || head === null || typeof head !== 'object') {
    throw badInput('batch needs records, hashes and head');
  }
  for (const r of records) {
    checkIndex('record id', r.id);
    if (typeof r.path !== 'string' || r.path === '' || typeof r.version !== 'string' || r.version === '') {
      throw badInput(`record ${r.id} has an empty path or version`);
    }
    if (!(r.text instanceof Uint8Array) || typeof r.source !== 'string') {
      throw badInput(`record ${r.id} has no text or source`);
    }
  }
  for (const h of hashes) {
    checkIndex('stored hash index', h.index);
    if (!(h.hash instanceof Uint8Array) || h.hash.length !== HASH_SIZE) {
      throw badInput(`stored hash ${h.index} is not ${HASH_SIZE} bytes`);
    }
  }
  checkIndex('head size', head.size);
  if (!(head.hash instanceof Uint8Array) || head.hash.length !== HASH_SIZE) {
    throw badInput(`head hash is not ${HASH_SIZE} bytes`);
  }
  if (!(head.note instanceof Uint8Array) || head.note.length === 0) throw badInput('head has no note');
  if (!Number.isSafeInteger(head.createdAt)) throw badInput('head createdAt is not an integer');
}

/**
 * Refuses (conflict) a batch that does not extend a log whose latest head has size `latestSize`
 * (null: no head yet): the head must be larger, cover exactly the old records plus these, ids and
 * stored-hash indexes must continue the log. Run under the write lock, against the committed size.
 */
export function checkExtends(batch: AppendBatch, latestSize: number | null): void {
  const { records, hashes, head } = batch;
  const oldSize = latestSize ?? 0;
  if (latestSize !== null && head.size <= latestSize) {
    throw conflict(`tree head of size ${head.size} does not extend the latest signed size ${latestSize}`);
  }
  if (head.size !== oldSize + records.length) {
    throw conflict(`tree head of size ${head.size} does not cover ${oldSize} + ${records.length} records`);
  }
  for (let i = 0; i < records.length; i++) {
    const id = records[i]!.id;
    if (id !== oldSize + i) throw conflict(`record id ${id} is not the next log index ${oldSize + i}`);
  }
  const firstHash = storedHashCount(oldSize);
  const wantHashes = storedHashCount(head.size) - firstHash;
  if (hashes.length !== wantHashes) {
    throw conflict(`batch has ${hashes.length} stored hashes, the new records add ${wantHashes}`);
  }
  for (let i = 0; i < hashes.length; i++) {
    const index = hashes[i]!.index;
    if (index !== firstHash + i)
      throw conflict(`stored hash index ${index} is not the next one ${firstHash + i}`);
  }
}

/** The first module version that a batch holds twice, as "path@version", or null. */
export function duplicateInBatch(batch: AppendBatch): string | null {
  const seen = new Set<string>();
  for (const r of batch.records) {
    const k = `${r.path}@${r.version}`;
    if (seen.has(k)) return k;
    seen.add(k);
  }
  return null;
}

/** Largest checksum database name kept (a note key name is far shorter). */
const MAX_REMOTE_NAME = 256;
/** Largest remote note or fork proof kept (a signed tree head is a few hundred bytes). */
export const MAX_REMOTE_TEXT = 64 * 1024;

/** Checks the name of an independent checksum database (remote_heads.name). */
export function checkRemoteName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.length > MAX_REMOTE_NAME) {
    throw badInput('remote database name must be a non-empty string of at most 256 characters');
  }
}

/** Checks a remote head argument (saveRemoteHead). */
export function checkRemoteHead(head: RemoteHead): void {
  checkIndex('remote head size', head.size);
  if (!(head.hash instanceof Uint8Array) || head.hash.length !== HASH_SIZE) {
    throw badInput('remote head hash must be 32 bytes');
  }
  if (!(head.note instanceof Uint8Array) || head.note.length === 0 || head.note.length > MAX_REMOTE_TEXT) {
    throw badInput('remote head note must be 1 to 65536 bytes');
  }
  if (!Number.isSafeInteger(head.seenAt)) throw badInput('remote head seenAt is not an integer');
}

/** Checks a remote fork argument (saveRemoteFork). */
export function checkRemoteFork(fork: RemoteFork): void {
  if (typeof fork.proof !== 'string' || fork.proof === '' || fork.proof.length > MAX_REMOTE_TEXT) {
    throw badInput('remote fork proof must be 1 to 65536 characters');
  }
  if (!Number.isSafeInteger(fork.detectedAt)) throw badInput('remote fork detectedAt is not an integer');
}
