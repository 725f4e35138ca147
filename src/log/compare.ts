/**
 * The go.sum comparison: each go.sum line against the logged record of its module version. One
 * function for the server (LogService.checkGoSum, behind POST /api/v1/verify) and the client
 * (`sumkeep verify --proofs`, src/verify/proofs.ts), so that both judge a line alike. Pure.
 */
import { SumkeepError } from '../core/errors.ts';
import { drain, parseRecordLines, type GoSumInvalid, type GoSumLine } from '../core/gosum.ts';
import { decodeUtf8 } from '../core/bytes.ts';
import { invalidResult, type VerifyLineResult } from '../verify/response.ts';

/**
 * What the log holds for one module version: its record's two hashes, or why there are none
 * (`denied`: the server's policy denies the version, whatever the log holds).
 */
export type Logged = { id: number; zipHash: string; modHash: string } | { reason: string; denied?: boolean };

/** The key of a module version in the maps below: "<path>@<version>". */
export function versionKey(path: string, version: string): string {
  return `${path}@${version}`;
}

/**
 * The two hashes of a logged record. Throws `internal` when the record text is not the two
 * go.sum lines of (path, version): the log never holds such a record, so it is a server fault.
 */
export function loggedHashes(record: {
  id: number;
  path: string;
  version: string;
  text: Uint8Array;
}): Logged {
  const text = decodeUtf8(record.text);
  if (text === null) throw new SumkeepError('internal', `record ${record.id} is not UTF-8`);
  const r = parseRecordLines(text);
  if (r.path !== record.path || r.version !== record.version) {
    throw new SumkeepError('internal', `record ${record.id} names another module version`);
  }
  return { id: record.id, zipHash: r.zipHash, modHash: r.modHash };
}

/**
 * One result per go.sum line, in line order: `match`/`mismatch` against the logged hash of the
 * line's kind (zip or go.mod), `unknown` with the reason when the version is not logged, `denied`
 * with the reason when the policy denies it, and `invalid` for lines that are not go.sum lines. `logged` must answer every line's versionKey.
 */
export function compareGoSum(
  gosum: { lines: readonly GoSumLine[]; invalid: readonly GoSumInvalid[] },
  logged: (key: string) => Logged,
): VerifyLineResult[] {
  return drain(compareGoSumSteps(gosum, logged, Infinity));
}

/**
 * compareGoSum in steps: yields after every `chunk` results (src/concurrency.ts stepsYielding runs
 * it on the server). `gosum.lines` and `gosum.invalid` are each in line order, as the parser
 * gives them, and are merged (not sorted) into one list in line order.
 */
export function* compareGoSumSteps(
  gosum: { lines: readonly GoSumLine[]; invalid: readonly GoSumInvalid[] },
  logged: (key: string) => Logged,
  chunk = 2000,
): Generator<void, VerifyLineResult[]> {
  const results: VerifyLineResult[] = [];
  const { lines, invalid } = gosum;
  let i = 0;
  let j = 0;
  while (i < lines.length || j < invalid.length) {
    if (j < invalid.length && (i >= lines.length || invalid[j]!.line < lines[i]!.line)) {
      results.push(invalidResult(invalid[j++]!));
    } else {
      results.push(compareLine(lines[i++]!, logged));
    }
    if (results.length % chunk === 0) yield;
  }
  return results;
}

function compareLine(l: GoSumLine, logged: (key: string) => Logged): VerifyLineResult {
  const f = logged(versionKey(l.path, l.version));
  const base = { line: l.line, module: l.path, version: l.version, kind: l.kind, hash: l.hash };
  if (!('id' in f)) {
    const status = f.denied === true ? 'denied' : 'unknown';
    return { ...base, status, logged: null, recordId: null, reason: f.reason };
  }
  const hash = l.kind === 'zip' ? f.zipHash : f.modHash;
  return { ...base, status: hash === l.hash ? 'match' : 'mismatch', logged: hash, recordId: f.id };
}
