/**
 * go.sum lines and checksum-database records.
 *
 * A go.sum line is exactly three fields separated by single spaces, ending in "\n":
 *
 *     <module path> <version>[/go.mod] h1:<base64 of 32 bytes>
 *
 * "<version>" lines hash the module zip, "<version>/go.mod" lines hash its go.mod file. A sumdb
 * record for M@V is the two lines for M V, zip line first:
 *
 *     M V h1:<zip hash>\nM V/go.mod h1:<go.mod hash>\n
 *
 * The go command itself splits go.sum lines on any white space and never checks paths or
 * versions; these parsers are stricter on purpose (they serve CI checks that should point at
 * anything odd): CR, tabs, doubled spaces, invalid module paths or versions and hashes other
 * than h1 are reported. Blank lines (empty, or only spaces and tabs) are skipped, as the go
 * command skips them. Duplicate or conflicting lines are not judged here: that is the verifier's
 * job.
 */
import { fromBase64, hasLoneSurrogate } from './bytes.ts';
import { SumkeepError, isSumkeepError } from './errors.ts';
import { checkModuleVersion } from './module.ts';

export interface GoSumLine {
  /** 1-based line number in the text. */
  line: number;
  path: string;
  /** Without the "/go.mod" suffix. */
  version: string;
  kind: 'zip' | 'go.mod';
  /** "h1:" + base64 of 32 bytes. */
  hash: string;
}

export interface GoSumInvalid {
  line: number;
  /** The line as found (cut to GOSUM_MAX_SHOWN code units, then "..."). */
  text: string;
  /** One-line reason, safe to show a user. */
  reason: string;
}

/** Default bound on the number of lines of one go.sum (a large monorepo has tens of thousands). */
export const GOSUM_MAX_LINES = 500_000;
/** Longer lines are reported invalid without being parsed. Real lines are a few hundred bytes. */
export const GOSUM_MAX_LINE_LENGTH = 8192;
/** How much of an invalid line is echoed back in GoSumInvalid.text. */
export const GOSUM_MAX_SHOWN = 256;

/** Bound on a record's text, far above any real record (two lines of path, version, hash). */
const MAX_RECORD_LENGTH = 2 * GOSUM_MAX_LINE_LENGTH + 2;

/**
 * The hash of an empty go.mod. Old go commands wrote it by mistake and the go command still drops
 * such lines when it reads go.sum.
 */
export const EMPTY_GO_MOD_HASH = 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=';

/** White space as Go's unicode.IsSpace sees it: the Unicode White_Space property (U+FEFF is not in it). */
const GO_SPACE_RE = /\p{White_Space}+/u;

/** Why `hash` is not a usable go.sum hash, or null. */
function hashProblem(hash: string): string | null {
  const m = /^(h[0-9]+):/.exec(hash);
  if (m === null) return 'hash must start with h1:';
  if (m[1] !== 'h1') return `unsupported hash algorithm ${m[1]} (only h1 exists)`;
  const b = fromBase64(hash.slice(3));
  if (b === null || b.length !== 32) return 'h1 hash must be standard base64 of 32 bytes';
  return null;
}

/** Reason for a path/version problem, from the module checks' SumkeepError. */
function moduleProblem(path: string, version: string): string | null {
  try {
    checkModuleVersion(path, version);
    return null;
  } catch (e) {
    if (isSumkeepError(e)) return e.message;
    throw e;
  }
}

type LineResult = { ok: Omit<GoSumLine, 'line'> } | { reason: string } | 'blank';

/**
 * Parses one line without its "\n". `inRecord` is set for the lines of a sumdb record, which keep
 * the empty go.mod hash: the go command drops such go.sum lines, but a module whose go.mod is
 * empty really has that hash, and its record must stay readable once logged.
 */
function parseLine(raw: string, first: boolean, inRecord = false): LineResult {
  const cr = raw.indexOf('\r');
  if (cr >= 0) {
    return {
      reason:
        cr === raw.length - 1
          ? 'line ends in \\r (CRLF line endings); go.sum lines end in \\n only'
          : 'carriage return (\\r) inside the line',
    };
  }
  if (raw.length > GOSUM_MAX_LINE_LENGTH)
    return { reason: `line longer than ${GOSUM_MAX_LINE_LENGTH} characters` };
  if (hasLoneSurrogate(raw)) return { reason: 'invalid UTF-8' };
  if (/^[ \t]*$/.test(raw)) return 'blank';
  if (first && raw.startsWith('\ufeff')) return { reason: 'byte-order mark (U+FEFF) at the start of go.sum' };
  // Count fields as the go command does (any Unicode white space), then insist on single spaces.
  const fields = raw.split(GO_SPACE_RE).filter((f) => f !== '');
  if (fields.length !== 3) return { reason: `wrong number of fields ${fields.length} (want 3)` };
  const odd = /[^ \P{White_Space}]/u.exec(raw);
  if (odd !== null) {
    const cp = odd[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { reason: `fields must be separated by single spaces (found U+${cp})` };
  }
  if (raw.split(' ').length !== 3) return { reason: 'fields must be separated by single spaces' };
  const [path, versionField, hash] = fields as [string, string, string];
  const isMod = versionField.endsWith('/go.mod');
  const version = isMod ? versionField.slice(0, -'/go.mod'.length) : versionField;
  const mp = moduleProblem(path, version);
  if (mp !== null) return { reason: mp };
  const hp = hashProblem(hash);
  if (hp !== null) return { reason: hp };
  if (hash === EMPTY_GO_MOD_HASH && !inRecord) {
    return {
      reason: 'hash of an empty go.mod, written by an old go command bug (the go command ignores this line)',
    };
  }
  return { ok: { path, version, kind: isMod ? 'go.mod' : 'zip', hash } };
}

function cut(s: string): string {
  if (s.length <= GOSUM_MAX_SHOWN) return s;
  let n = GOSUM_MAX_SHOWN;
  const c = s.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n--;
  return s.slice(0, n) + '...';
}

/**
 * Walks the lines of `text` ("\n"-separated; a final line without "\n" counts), calling `each`
 * for every non-blank line. Throws too_large past `maxLines` lines, before looking further.
 */
function walk(
  text: string,
  maxLines: number,
  each: (line: number, raw: string, r: Exclude<LineResult, 'blank'>) => void,
): void {
  drain(walkSteps(text, maxLines, each, Infinity));
}

/** walk as steps: it yields after every `chunk` lines (see parseGoSumSteps). */
function* walkSteps(
  text: string,
  maxLines: number,
  each: (line: number, raw: string, r: Exclude<LineResult, 'blank'>) => void,
  chunk: number,
): Generator<void, void> {
  if (!Number.isSafeInteger(maxLines) || maxLines < 0) {
    throw new SumkeepError('bad_input', 'go.sum maxLines must be a non-negative integer');
  }
  let start = 0;
  let line = 0;
  let sinceYield = 0;
  while (start < text.length) {
    line++;
    if (line > maxLines) throw new SumkeepError('too_large', `go.sum has more than ${maxLines} lines`);
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    const r = parseLine(raw, line === 1);
    if (r !== 'blank') each(line, raw, r);
    start = end + 1;
    if (++sinceYield >= chunk) {
      sinceYield = 0;
      yield;
    }
  }
}

/** Runs steps to the end without pausing; their result. */
export function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Lenient parse for the verify API: every line is either parsed or reported in `invalid`, never
 * thrown. Throws only SumkeepError('too_large') when the text has more than `maxLines` lines
 * (default GOSUM_MAX_LINES).
 */
export function parseGoSum(
  text: string,
  opts: { maxLines?: number } = {},
): { lines: GoSumLine[]; invalid: GoSumInvalid[] } {
  return drain(parseGoSumSteps(text, opts, Infinity));
}

/**
 * parseGoSum in steps: the generator yields after every `chunk` lines and returns what parseGoSum
 * returns, so that a caller with an event loop can let other work run in between (the server,
 * for a go.sum of 100,000 lines; see src/concurrency.ts stepsYielding). Pure.
 */
export function* parseGoSumSteps(
  text: string,
  opts: { maxLines?: number } = {},
  chunk = 2000,
): Generator<void, { lines: GoSumLine[]; invalid: GoSumInvalid[] }> {
  const lines: GoSumLine[] = [];
  const invalid: GoSumInvalid[] = [];
  yield* walkSteps(
    text,
    opts.maxLines ?? GOSUM_MAX_LINES,
    (line, raw, r) => {
      if ('ok' in r) lines.push({ line, ...r.ok });
      else invalid.push({ line, text: cut(raw), reason: r.reason });
    },
    chunk,
  );
  return { lines, invalid };
}

/** Strict parse: throws SumkeepError('bad_gosum', 'go.sum:<line>: <reason>') at the first bad line. */
export function parseGoSumStrict(text: string): GoSumLine[] {
  const lines: GoSumLine[] = [];
  walk(text, GOSUM_MAX_LINES, (line, _raw, r) => {
    if ('reason' in r) throw new SumkeepError('bad_gosum', `go.sum:${line}: ${r.reason}`);
    lines.push({ line, ...r.ok });
  });
  return lines;
}

/**
 * "<path> <version>[/go.mod] <hash>\n". Throws what checkModuleVersion throws (bad_module_path,
 * bad_version) for an invalid path or version, and bad_gosum for a hash that is not h1, a bad kind
 * or a line over GOSUM_MAX_LINE_LENGTH, so that whatever it writes parses back (a line with the
 * empty go.mod hash parses back only inside a record; parseGoSum reports it, as the go command
 * drops it).
 */
export function formatGoSumLine(l: Omit<GoSumLine, 'line'>): string {
  checkModuleVersion(l.path, l.version);
  if (l.kind !== 'zip' && l.kind !== 'go.mod')
    throw new SumkeepError('bad_gosum', 'go.sum line kind must be zip or go.mod');
  const hp = hashProblem(l.hash);
  if (hp !== null) throw new SumkeepError('bad_gosum', `${l.path}@${l.version}: ${hp}`);
  const line = `${l.path} ${l.version}${l.kind === 'go.mod' ? '/go.mod' : ''} ${l.hash}`;
  // Module paths and versions have no length bound of their own, but the parsers refuse longer
  // lines; writing one would log a record that nothing can read back.
  if (line.length > GOSUM_MAX_LINE_LENGTH) {
    throw new SumkeepError('bad_gosum', `go.sum line longer than ${GOSUM_MAX_LINE_LENGTH} characters`);
  }
  return line + '\n';
}

/** The sumdb record text for M@V: its zip line, then its go.mod line. Throws as formatGoSumLine. */
export function formatRecordLines(path: string, version: string, zipHash: string, modHash: string): string {
  return (
    formatGoSumLine({ path, version, kind: 'zip', hash: zipHash }) +
    formatGoSumLine({ path, version, kind: 'go.mod', hash: modHash })
  );
}

/**
 * Inverse of formatRecordLines: exactly two "\n"-terminated lines, zip then go.mod, same path and
 * version, judged as parseGoSum judges lines except that the empty go.mod hash is accepted.
 * Throws SumkeepError('bad_gosum', 'record: <reason>') otherwise.
 */
export function parseRecordLines(text: string): {
  path: string;
  version: string;
  zipHash: string;
  modHash: string;
} {
  const bad = (reason: string): never => {
    throw new SumkeepError('bad_gosum', `record: ${reason}`);
  };
  if (text.length > MAX_RECORD_LENGTH) bad('too long');
  if (!text.endsWith('\n')) bad('must end in a newline');
  const parts = text.slice(0, -1).split('\n');
  if (parts.length !== 2) bad(`want 2 lines, have ${parts.length}`);
  const [a, b] = parts as [string, string];
  const ra = parseLine(a, false, true);
  const rb = parseLine(b, false, true);
  if (ra === 'blank' || rb === 'blank') return bad('blank line');
  if ('reason' in ra) return bad(`line 1: ${ra.reason}`);
  if ('reason' in rb) return bad(`line 2: ${rb.reason}`);
  const zip = ra.ok;
  const mod = rb.ok;
  if (zip.kind !== 'zip') bad('line 1 must be the zip hash (no /go.mod)');
  if (mod.kind !== 'go.mod') bad('line 2 must be the go.mod hash (version/go.mod)');
  if (zip.path !== mod.path || zip.version !== mod.version)
    bad('the two lines name different module versions');
  return { path: zip.path, version: zip.version, zipHash: zip.hash, modHash: mod.hash };
}
