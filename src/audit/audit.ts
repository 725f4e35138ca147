/**
 * `sumkeep audit`: an offline consistency check (fsck) of a log database, trusting nothing the
 * database says about itself. In one pass over the records, in id order, it
 *
 *  1. checks every record: ids 0, 1, 2, ... without gaps; the text is exactly the two go.sum
 *     lines "M V h1:...\nM V/go.mod h1:...\n" of the record's own module path and version, a valid
 *     path and version, within the record-text rules;
 *  2. recomputes its leaf hash from the text and every stored hash from the leaves (a Merkle
 *     frontier, O(log n) memory) and compares each with the stored hash in the database;
 *  3. at every signed head's size, compares the head's root with the recomputed tree hash, checks
 *     that its note (and every co-signed note kept for it) verifies with a known note key and
 *     names exactly that size and root. Consecutive heads are then consistent by construction:
 *     both roots are recomputed from one sequence of records;
 *  4. finds module versions claimed by more than one record (one query), and records beyond the
 *     latest head (logged but never signed).
 *
 * Memory is bounded by the batch size and the finding limit, not by the log: heads are paged,
 * records read in batches, duplicate versions found by the database.
 */
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { decodeUtf8, toBase64 } from '../core/bytes.ts';
import { open, type VerifierSet } from '../core/note.ts';
import { parseRecordLines } from '../core/gosum.ts';
import { checkModuleVersion } from '../core/module.ts';
import {
  MerkleFrontier,
  checkRecordText,
  hashesEqual,
  parseTree,
  recordHash,
  splitStoredHashIndex,
  storedHashIndex,
  type Hash,
} from '../core/tlog/index.ts';
import type { AuditStore, LogRecord, SignedHead } from '../store/store.ts';

export type FindingKind =
  | 'record_missing'
  | 'record_text'
  | 'record_duplicate'
  | 'record_unsigned'
  | 'stored_hash'
  | 'head_root'
  | 'head_note'
  | 'split_view';

export interface AuditFinding {
  kind: FindingKind;
  /** One line naming what is wrong and where. */
  message: string;
  recordId?: number;
  size?: number;
}

/** A tree head seen elsewhere (a serving endpoint, a published directory), for --against. */
export interface OtherTree {
  size: number;
  hash: Hash;
  /** Where it was seen, for messages ("https://sum.corp.internal/latest"). */
  where: string;
}

export interface AuditOptions {
  /** The note keys heads must be signed with (every generation the log has used). */
  verifiers: VerifierSet;
  /** Records read per database round trip (default 10,000). */
  batch?: number;
  /** Findings kept in the report (default 1,000); the rest are only counted. */
  maxFindings?: number;
  /** Called after each batch with records checked so far and the number to check. */
  onProgress?: (done: number, total: number) => void;
  /** Trees shown elsewhere to compare with the recomputed tree of their size (split view). */
  others?: readonly OtherTree[];
}

export interface AuditReport {
  /** True when there is no finding. */
  ok: boolean;
  /** Size of the latest signed head (0 for an empty log). */
  size: number;
  /** Records read. */
  records: number;
  /** Signed heads checked. */
  heads: number;
  /** Root recomputed from the records for the latest head, base64. */
  root: string;
  findings: AuditFinding[];
  /** Findings beyond maxFindings, counted but not kept. */
  moreFindings: number;
  /** Sizes of the `others` trees that were compared (those not larger than the log). */
  compared: number[];
}

const HEAD_PAGE = 1000;

class Findings {
  readonly list: AuditFinding[] = [];
  more = 0;
  constructor(private readonly max: number) {}
  add(f: AuditFinding): void {
    if (this.list.length < this.max) this.list.push(f);
    else this.more++;
  }
}

/** Reads heads in size order, a page at a time. */
class HeadCursor {
  private page: SignedHead[] = [];
  private last = -1;
  private done = false;
  constructor(private readonly store: AuditStore) {}

  async peek(): Promise<SignedHead | null> {
    if (this.page.length === 0 && !this.done) {
      this.page = await this.store.headsAfter(this.last, HEAD_PAGE);
      if (this.page.length < HEAD_PAGE) this.done = true;
    }
    return this.page[0] ?? null;
  }

  take(): void {
    const h = this.page.shift();
    if (h !== undefined) this.last = h.size;
  }
}

function checkRecordShape(r: LogRecord, findings: Findings): void {
  const bad = (why: string) =>
    findings.add({
      kind: 'record_text',
      recordId: r.id,
      message: `record ${r.id} (${r.path}@${r.version}): ${why}`,
    });
  try {
    checkRecordText(r.text);
    checkModuleVersion(r.path, r.version);
    const text = decodeUtf8(r.text);
    if (text === null) return bad('text is not UTF-8');
    const lines = parseRecordLines(text);
    if (lines.path !== r.path || lines.version !== r.version) {
      bad(`text is the record of ${lines.path}@${lines.version}`);
    }
  } catch (e) {
    if (!isSumkeepError(e)) throw e;
    bad(e.message);
  }
}

/** Checks one signed note of the head of `size` with root `root`; returns the problem or null. */
function noteProblem(note: Uint8Array, size: number, root: Hash, verifiers: VerifierSet): string | null {
  let tree;
  try {
    tree = parseTree(new TextEncoder().encode(open(note, verifiers).text));
  } catch (e) {
    if (!isSumkeepError(e)) throw e;
    return e.message;
  }
  if (tree.N !== size) return `its note signs a tree of size ${tree.N}`;
  if (!hashesEqual(tree.hash, root)) return 'its note signs another root hash';
  return null;
}

export async function auditLog(store: AuditStore, opts: AuditOptions): Promise<AuditReport> {
  const batch = opts.batch ?? 10_000;
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new SumkeepError('config', 'audit batch must be positive');
  const findings = new Findings(opts.maxFindings ?? 1000);
  const latest = await store.latestHead();
  const size = latest?.size ?? 0;
  const others = [...(opts.others ?? [])].filter((o) => o.size <= size).sort((a, b) => a.size - b.size);
  const compared: number[] = [];
  const heads = new HeadCursor(store);
  const frontier = new MerkleFrontier();
  let headsChecked = 0;
  let records = 0;
  let latestRoot: Hash = frontier.root();

  /** Every check that applies at the current tree size (heads and other trees of that size). */
  const atSize = async () => {
    const n = frontier.size;
    const root = frontier.root();
    if (n === size) latestRoot = root;
    while (others.length > 0 && others[0]!.size === n) {
      const o = others.shift()!;
      compared.push(o.size);
      if (!hashesEqual(o.hash, root)) {
        findings.add({
          kind: 'split_view',
          size: n,
          message: `${o.where} shows a tree of size ${n} with root ${toBase64(o.hash)}, the log's records give ${toBase64(root)}`,
        });
      }
    }
    for (let h = await heads.peek(); h !== null && h.size === n; h = await heads.peek()) {
      heads.take();
      headsChecked++;
      if (!hashesEqual(h.hash, root)) {
        findings.add({
          kind: 'head_root',
          size: n,
          message: `head of size ${n}: stored root ${toBase64(h.hash)}, the records give ${toBase64(root)}`,
        });
      }
      const notes = [h.note, ...(await store.headNotes(n))];
      notes.forEach((note, i) => {
        const p = noteProblem(note, n, root, opts.verifiers);
        if (p !== null) {
          findings.add({
            kind: 'head_note',
            size: n,
            message: `head of size ${n}${i > 0 ? ` (co-signed note ${i})` : ''}: ${p}`,
          });
        }
      });
    }
  };

  await atSize();
  for (let start = 0; start < size; start += batch) {
    const count = Math.min(batch, size - start);
    const got = await store.recordsRange(start, count);
    const byId = new Map(got.map((r) => [r.id, r]));
    // The stored hashes this batch's records must have produced: contiguous indexes.
    const first = storedHashIndex(0, start);
    const computed: Hash[] = [];
    for (let id = start; id < start + count; id++) {
      const r = byId.get(id);
      if (r === undefined) {
        findings.add({ kind: 'record_missing', recordId: id, message: `record ${id} is missing` });
        // Nothing more can be recomputed from here on: every later hash depends on this leaf.
        return finish();
      }
      records++;
      checkRecordShape(r, findings);
      computed.push(...frontier.append(recordHash(r.text)));
      await atSize();
    }
    await compareStoredHashes(store, first, computed, findings);
    opts.onProgress?.(start + count, size);
  }

  // Records beyond the latest head were committed without a head that signs them.
  const extra = await store.recordsRange(size, 1);
  if (extra.length > 0) {
    findings.add({
      kind: 'record_unsigned',
      recordId: extra[0]!.id,
      message: `record ${extra[0]!.id} (and any after it) lies beyond the latest signed head of size ${size}`,
    });
  }
  for (const d of await store.duplicateVersions(opts.maxFindings ?? 1000)) {
    findings.add({
      kind: 'record_duplicate',
      recordId: d.ids[1],
      message: `${d.path}@${d.version} is logged more than once: records ${d.ids.join(', ')}`,
    });
  }
  return finish();

  function finish(): AuditReport {
    return {
      ok: findings.list.length === 0,
      size,
      records,
      heads: headsChecked,
      root: toBase64(latestRoot),
      findings: findings.list,
      moreFindings: findings.more,
      compared,
    };
  }
}

async function compareStoredHashes(
  store: AuditStore,
  first: number,
  computed: readonly Hash[],
  findings: Findings,
): Promise<void> {
  const indexes = computed.map((_, i) => first + i);
  let stored: Uint8Array[];
  try {
    stored = await store.readHashes(indexes);
  } catch (e) {
    if (!isSumkeepError(e, 'not_found')) throw e;
    // Find which: one at a time (only on a damaged log).
    stored = [];
    for (const i of indexes) {
      try {
        stored.push((await store.readHashes([i]))[0]!);
      } catch (e2) {
        if (!isSumkeepError(e2, 'not_found')) throw e2;
        stored.push(new Uint8Array(0));
      }
    }
  }
  computed.forEach((h, i) => {
    if (hashesEqual(h, stored[i]!)) return;
    const [level, n] = splitStoredHashIndex(first + i);
    const what =
      level === 0
        ? `record ${n}: the stored leaf hash`
        : `the stored hash of records ${n * 2 ** level}..${(n + 1) * 2 ** level - 1} (level ${level})`;
    findings.add({
      kind: 'stored_hash',
      ...(level === 0 ? { recordId: n } : {}),
      message:
        stored[i]!.length === 0
          ? `${what} is missing`
          : `${what} differs from the hash of the record text${level === 0 ? '' : 's'}`,
    });
  });
}
