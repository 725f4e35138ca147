/**
 * `sumkeep verify --proofs`: checks go.sum lines against a checksum database the way the go command
 * does, trusting nothing but the verifier key(s) and the tree head remembered in the state file.
 * It speaks only the public protocol (GET <server>/latest, /lookup/<M>@<V>, /tile/8/...), so it
 * works against any go.sum database, sum.golang.org included.
 *
 * For one run:
 *  1. the remembered tree (state file), if any; /latest, if the log is not empty;
 *  2. for each module version of the go.sum: /lookup → record id, record text, signed note. The
 *     note must verify, the id be below its size, and the text be the two lines of exactly that
 *     module version; a 404/410 makes its lines `unknown`, and a 403 "denied by policy: <reason>"
 *     (sumkeep's --policy) makes them `denied`;
 *  3. every tree head seen (remembered, /latest, each lookup's) must be consistent with the largest
 *     one: treeHash(smaller.N) computed over the larger tree's tiles — tiles that are themselves
 *     authenticated against the larger signed root hash (tlog.tileHashReader) — must equal the
 *     smaller root hash. Otherwise the log has forked: ForkError, naming both heads;
 *  4. every record must be in the largest tree: an inclusion proof from its tiles (RecordProofError);
 *  5. each go.sum line's hash is compared with the record's zip or go.mod hash;
 *  6. the largest tree is stored in the state file (when it grew).
 * A failure in 3 or 4 is a security error that stops the run; nothing is stored then.
 */
import { SumkeepError } from '../core/errors.ts';
import { deniedMessage } from '../core/policy.ts';
import { decodeUtf8 } from '../core/bytes.ts';
import { newVerifier, verifierSet, type VerifierSet } from '../core/note.ts';
import { parseRecordLines, type GoSumLine } from '../core/gosum.ts';
import { escapePath, escapeVersion } from '../core/module.ts';
import {
  checkRecord,
  hashesEqual,
  parseRecord,
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
import { bodyLine, httpRequest, joinUrl, type HttpOptions } from './http.ts';
import { loadState, openTreeNote, saveState, type RememberedTree } from './state.ts';
import { parseGoSumBytes } from './gosum-text.ts';
import { summarize, type VerifyResponse } from './response.ts';
import { compareGoSum } from '../log/compare.ts';
import { eachLimited } from '../concurrency.ts';

/** The log forked: two signed tree heads that cannot both be prefixes of one log. */
export class ForkError extends SumkeepError {
  readonly older: RememberedTree;
  readonly newer: RememberedTree;
  constructor(older: RememberedTree, newer: RememberedTree, where: string) {
    super(
      'log_inconsistent',
      `SECURITY ERROR: go.sum database server misbehavior: its tree of size ${newer.tree.N} is not an extension ` +
        `of the tree of size ${older.tree.N} (${where}): the log has forked`,
    );
    this.name = 'ForkError';
    this.older = older;
    this.newer = newer;
  }
}

/** The server answered a record that its signed tree does not contain (or the wrong record). */
export class RecordProofError extends SumkeepError {
  constructor(message: string) {
    super('log_inconsistent', `SECURITY ERROR: go.sum database server misbehavior: ${message}`);
    this.name = 'RecordProofError';
  }
}

export interface ProofOptions {
  /** Base URL of the database (e.g. https://sum.golang.org, or a proxy's .../sumdb/<name>). */
  server: string;
  /** Verifier keys of the log ("<name>+<hash>+<key>"), all with one name. */
  verifierKeys: readonly string[];
  /** State file (see state.ts). */
  stateFile: string;
  ca?: string | null;
  timeoutMs?: number;
  concurrency?: number;
}

export interface ProofOutcome {
  /** The answer in the form of the verify API (tree = the largest verified tree head). */
  response: VerifyResponse;
  /** Size of the tree remembered before this run, or null without one. */
  rememberedSize: number | null;
  /** True when the state file now holds a larger tree. */
  stored: boolean;
}

interface Looked {
  id: number;
  text: Uint8Array;
  zipHash: string;
  modHash: string;
  head: RememberedTree;
}

/** The verifier set of `keys`, which must share one log name. Throws malformed_key / config. */
export function verifiersOf(keys: readonly string[]): { name: string; verifiers: VerifierSet } {
  const unique = [...new Set(keys)];
  if (unique.length === 0) throw new SumkeepError('config', 'no verifier key: pass --vkey or --trust');
  const vs = unique.map(newVerifier);
  const name = vs[0]!.name;
  if (vs.some((v) => v.name !== name)) {
    throw new SumkeepError('config', 'the verifier keys name different logs');
  }
  return { name, verifiers: verifierSet(vs) };
}

/** A served tree head, or a SumkeepError that says where it came from and why it was refused. */
function openHead(note: Uint8Array, verifiers: VerifierSet, where: string): Tree {
  try {
    return openTreeNote(note, verifiers);
  } catch (e) {
    if (!(e instanceof SumkeepError)) throw e;
    throw new SumkeepError(
      e.code === 'malformed_note' || e.code === 'malformed_tree' ? e.code : 'invalid_signature',
      `${where}: the signed tree head does not verify with the verifier key: ${e.message}`,
      { cause: e },
    );
  }
}

export async function verifyWithProofs(gosum: Uint8Array, opts: ProofOptions): Promise<ProofOutcome> {
  const { verifiers } = verifiersOf(opts.verifierKeys);
  const http: HttpOptions = { ca: opts.ca ?? null, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const get = (path: string) => httpRequest(joinUrl(opts.server, path), http);
  const parsed = parseGoSumBytes(gosum);

  // 1. What we remember, and what the server says now.
  const remembered = loadState(opts.stateFile, verifiers);
  const heads: { head: RememberedTree; where: string }[] = [];
  if (remembered !== null) heads.push({ head: remembered, where: `remembered in ${opts.stateFile}` });
  const latest = await get('latest');
  if (latest.status !== 200) {
    throw new SumkeepError(
      'upstream_error',
      `${opts.server}/latest answered ${latest.status}: ${bodyLine(latest.body)}`,
    );
  }
  if (latest.body.length > 0) {
    heads.push({
      head: { tree: openHead(latest.body, verifiers, '/latest'), note: latest.body },
      where: 'from /latest',
    });
  }

  // 2. Lookups.
  const byKey = new Map<string, GoSumLine>();
  for (const l of parsed.lines) byKey.set(`${l.path}@${l.version}`, l);
  const found = new Map<string, Looked | { reason: string; denied?: boolean }>();
  await eachLimited([...byKey], opts.concurrency ?? 8, async ([key, l]) => {
    const r = await get(`lookup/${escapePath(l.path)}@${escapeVersion(l.version)}`);
    if (r.status === 404 || r.status === 410) {
      found.set(key, { reason: bodyLine(r.body) || `${key}: not found (${r.status})` });
      return;
    }
    // sumkeep's policy answer (src/core/policy.ts deniedMessage); any other 403 is an error.
    if (r.status === 403 && bodyLine(r.body).startsWith(deniedMessage(''))) {
      found.set(key, { reason: bodyLine(r.body), denied: true });
      return;
    }
    if (r.status !== 200) {
      throw new SumkeepError(
        'upstream_error',
        `lookup ${key}: server answered ${r.status}: ${bodyLine(r.body)}`,
      );
    }
    const rec = parseRecord(r.body);
    const head = { tree: openHead(rec.rest, verifiers, `lookup ${key}`), note: rec.rest };
    if (rec.id >= head.tree.N) {
      throw new RecordProofError(
        `lookup ${key} answered record ${rec.id}, outside its own tree of size ${head.tree.N}`,
      );
    }
    const lines = parseRecordLines(decodeUtf8(rec.text) ?? '');
    if (lines.path !== l.path || lines.version !== l.version) {
      throw new RecordProofError(`lookup ${key} answered the record of ${lines.path}@${lines.version}`);
    }
    found.set(key, { id: rec.id, text: rec.text, zipHash: lines.zipHash, modHash: lines.modHash, head });
    heads.push({ head, where: `from the lookup of ${key}` });
  });

  // Tiles of one tree, each fetched once per run; a missing partial tile is read from the full one.
  const tiles = new Map<string, Promise<Uint8Array>>();
  const fetchTile = (t: Tile): Promise<Uint8Array> => {
    const path = tilePath(t);
    let p = tiles.get(path);
    if (p === undefined) {
      p = (async () => {
        const r = await get(path);
        if (r.status === 200 && r.body.length === t.W * 32) return r.body;
        if (t.W < SUMDB_FULL_TILE) {
          const full = await get(tilePath({ ...t, W: SUMDB_FULL_TILE }));
          if (full.status === 200 && full.body.length === SUMDB_FULL_TILE * 32)
            return full.body.slice(0, t.W * 32);
        }
        throw new SumkeepError('upstream_error', `${path}: server answered ${r.status}: ${bodyLine(r.body)}`);
      })();
      tiles.set(path, p);
    }
    return p;
  };
  const reader = (tree: Tree) =>
    tileHashReader(tree, SUMDB_TILE_HEIGHT, (ts) => Promise.all(ts.map(fetchTile)));

  /** Throws ForkError unless `small` is a prefix of `big` (big.tree.N >= small.tree.N). */
  const checkPrefix = async (small: RememberedTree, big: RememberedTree, where: string) => {
    if (small.tree.N === 0) return;
    let h: Hash;
    try {
      h = await withAsyncReader((r) => treeHash(small.tree.N, r), reader(big.tree));
    } catch (e) {
      if (!(e instanceof SumkeepError)) throw e;
      if (e.code === 'log_inconsistent') throw new ForkError(small, big, where);
      // No tiles of the larger tree (e.g. a replica behind the remembered head): not a pass.
      throw new SumkeepError(
        e.code,
        `cannot check that the tree of size ${small.tree.N} is a prefix of the tree of size ${big.tree.N} (${where}): ${e.message}`,
        { cause: e },
      );
    }
    if (!hashesEqual(h, small.tree.hash)) throw new ForkError(small, big, where);
  };

  // 3. One consistent history: every head against the largest.
  let largest: { head: RememberedTree; where: string } | null = null;
  for (const h of heads) if (largest === null || h.head.tree.N > largest.head.tree.N) largest = h;
  if (largest !== null) {
    const checked = new Set<string>();
    for (const h of heads) {
      const key = `${h.head.tree.N}/${Buffer.from(h.head.tree.hash).toString('base64')}`;
      if (checked.has(key) || h === largest) continue;
      checked.add(key);
      if (h.head.tree.N === largest.head.tree.N) {
        if (!hashesEqual(h.head.tree.hash, largest.head.tree.hash)) {
          throw new ForkError(h.head, largest.head, `${h.where}, and ${largest.where}`);
        }
        continue;
      }
      await checkPrefix(h.head, largest.head, `${h.where}, against the tree ${largest.where}`);
    }
  }

  // 4. Every record in the largest tree.
  const records = [...found.entries()].filter((e): e is [string, Looked] => 'id' in e[1]);
  await eachLimited(records, opts.concurrency ?? 8, async ([key, rec]) => {
    const tree = largest!.head.tree;
    let ok = false;
    try {
      const proof = await withAsyncReader((r) => proveRecord(tree.N, rec.id, r), reader(tree));
      ok = checkRecord(proof, tree.N, tree.hash, rec.id, recordHash(rec.text));
    } catch (e) {
      if (!(e instanceof SumkeepError && e.code === 'log_inconsistent')) throw e;
    }
    if (!ok) {
      throw new RecordProofError(
        `the record it answered for ${key} (id ${rec.id}) is not in its signed tree of size ${tree.N}`,
      );
    }
  });

  // 5. The lines, judged as the server judges them (src/log/compare.ts).
  const results = compareGoSum(parsed, (key) => {
    const f = found.get(key)!;
    return 'id' in f ? { id: f.id, zipHash: f.zipHash, modHash: f.modHash } : f;
  });

  // 6. Remember the largest tree.
  const stored = largest !== null ? saveState(opts.stateFile, largest.head, verifiers) : false;
  return {
    response: {
      tree: {
        size: largest?.head.tree.N ?? 0,
        note: largest === null ? '' : (decodeUtf8(largest.head.note) ?? ''),
      },
      results,
      summary: summarize(results),
    },
    rememberedSize: remembered?.tree.N ?? null,
    stored,
  };
}
