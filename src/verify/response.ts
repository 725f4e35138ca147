/**
 * The JSON answer of `POST /api/v1/verify`, shared by the server (src/http/verify.ts) that writes it
 * and the client (sumkeep verify) that checks it:
 *
 *     {"tree": {"size": N, "note": "<signed tree head>"},
 *      "results": [{"line": n, "module": M, "version": V, "kind": "zip" | "go.mod", "hash": "h1:...",
 *                   "status": "match" | "mismatch" | "unknown" | "denied" | "invalid",
 *                   "logged": "h1:..." | null, "recordId": n | null, "reason"?: "..."}],
 *      "summary": {"match": n, "mismatch": n, "unknown": n, "denied": n, "invalid": n}}
 *
 * One result per non-blank go.sum line, in line order. `logged` and `recordId` are set exactly for
 * match and mismatch; `reason` (one line) exactly for unknown, denied and invalid. `denied`: the
 * server's policy (--policy) denies that module version, "denied by policy: <reason>"; an answer
 * from a server without policies may lack summary.denied (read as 0). An invalid line has null
 * module, version, kind and hash. Every recordId is below tree.size, and tree.note is the signed
 * tree head of that size (empty, with size 0, only while the log is empty).
 */
import { SumkeepError } from '../core/errors.ts';
import type { GoSumInvalid } from '../core/gosum.ts';

export type VerifyStatus = 'match' | 'mismatch' | 'unknown' | 'denied' | 'invalid';
export const VERIFY_STATUSES: readonly VerifyStatus[] = ['match', 'mismatch', 'unknown', 'denied', 'invalid'];

export interface VerifyLineResult {
  line: number;
  module: string | null;
  version: string | null;
  kind: 'zip' | 'go.mod' | null;
  hash: string | null;
  status: VerifyStatus;
  logged: string | null;
  recordId: number | null;
  reason?: string;
}

export interface VerifyResponse {
  tree: { size: number; note: string };
  results: VerifyLineResult[];
  summary: Record<VerifyStatus, number>;
}

/** Counts of each status in `results`. */
export function summarize(results: readonly VerifyLineResult[]): Record<VerifyStatus, number> {
  const s: Record<VerifyStatus, number> = { match: 0, mismatch: 0, unknown: 0, denied: 0, invalid: 0 };
  for (const r of results) s[r.status]++;
  return s;
}

/** Longest answer the client reads: 100,000 lines of a few hundred bytes each, with room. */
/** The result for a go.sum line that is not a go.sum line (its reason, no module). */
export function invalidResult(inv: GoSumInvalid): VerifyLineResult {
  return {
    line: inv.line,
    module: null,
    version: null,
    kind: null,
    hash: null,
    status: 'invalid',
    logged: null,
    recordId: null,
    reason: inv.reason,
  };
}

export const MAX_VERIFY_RESPONSE = 128 << 20;

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isStrOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
const bad = (why: string): never => {
  throw new SumkeepError('bad_input', `malformed verify response: ${why}`);
};

function checkResult(x: unknown, i: number): VerifyLineResult {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return bad(`results[${i}] is not an object`);
  const r = x as Record<string, unknown>;
  const status = r.status;
  if (typeof status !== 'string' || !(VERIFY_STATUSES as readonly string[]).includes(status)) {
    return bad(`results[${i}].status`);
  }
  if (!isNat(r.line) || r.line === 0) bad(`results[${i}].line`);
  for (const k of ['module', 'version', 'hash', 'logged'] as const) {
    if (!isStrOrNull(r[k])) bad(`results[${i}].${k}`);
  }
  if (r.kind !== 'zip' && r.kind !== 'go.mod' && r.kind !== null) bad(`results[${i}].kind`);
  if (r.recordId !== null && !isNat(r.recordId)) bad(`results[${i}].recordId`);
  if (r.reason !== undefined && typeof r.reason !== 'string') bad(`results[${i}].reason`);
  const logged = status === 'match' || status === 'mismatch';
  if (logged !== (r.logged !== null) || logged !== (r.recordId !== null)) {
    bad(`results[${i}]: logged and recordId must be set exactly for match and mismatch`);
  }
  const out: VerifyLineResult = {
    line: r.line as number,
    module: r.module as string | null,
    version: r.version as string | null,
    kind: r.kind as VerifyLineResult['kind'],
    hash: r.hash as string | null,
    status: status as VerifyStatus,
    logged: r.logged as string | null,
    recordId: r.recordId as number | null,
  };
  if (typeof r.reason === 'string') out.reason = r.reason;
  return out;
}

/**
 * Parses and shape-checks an answer (hostile until its signature and contents are checked).
 * Throws SumkeepError('bad_input') for anything not of the form above, including a summary that
 * does not count the results or a recordId not below tree.size.
 */
export function parseVerifyResponse(body: Uint8Array): VerifyResponse {
  if (body.length > MAX_VERIFY_RESPONSE) bad('too large');
  let j: unknown;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return bad('not JSON');
  }
  if (typeof j !== 'object' || j === null) return bad('not an object');
  const o = j as Record<string, unknown>;
  const tree = o.tree as Record<string, unknown> | null | undefined;
  if (typeof tree !== 'object' || tree === null || !isNat(tree.size) || typeof tree.note !== 'string') {
    return bad('tree');
  }
  if (!Array.isArray(o.results)) return bad('results');
  const results = o.results.map(checkResult);
  for (let i = 1; i < results.length; i++) {
    if (results[i]!.line <= results[i - 1]!.line) bad('results are not in line order');
  }
  for (const r of results) {
    if (r.recordId !== null && r.recordId >= (tree.size as number))
      bad(`recordId ${r.recordId} is not in the tree`);
  }
  const summary = o.summary as Record<string, unknown> | null | undefined;
  const counted = summarize(results);
  if (typeof summary !== 'object' || summary === null) return bad('summary');
  for (const s of VERIFY_STATUSES) {
    // Servers from before the policy (issue 11) send no "denied" count.
    const n = s === 'denied' && summary[s] === undefined ? 0 : summary[s];
    if (n !== counted[s]) bad(`summary.${s} does not count the results`);
  }
  return { tree: { size: tree.size as number, note: tree.note as string }, results, summary: counted };
}
