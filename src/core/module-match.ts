/**
 * GOPRIVATE / GONOSUMDB / GONOPROXY patterns (module.MatchPrefixPatterns and path.Match).
 *
 * A pattern list is comma-separated globs; a glob with N slashes is matched against the first N+1
 * path elements of the target, so "corp.example.com" covers "corp.example.com/x/y". Empty globs
 * and trailing slashes are ignored; a malformed glob never matches (it is not an error).
 * {@link matchPrefixPatterns} is that rule exactly, as the go command applies it.
 *
 * sumkeep's own configuration is read more strictly, by {@link parsePatternList}: each pattern is
 * trimmed of white space (the go command does NOT trim these lists, so "a.example.com, b.example.com"
 * never matches b there: for a list that keeps modules away from the upstream, matching more is the
 * safe side), and a malformed pattern is an error rather than a pattern that silently never matches.
 *
 * Glob syntax (path.Match): "*" any run of non-"/" characters, "?" one non-"/" character,
 * "[abc]" "[a-z]" "[^a-z]" character classes, "\\c" a literal c. Matching never backtracks across
 * "*" (each chunk commits to its first match, as Go's does), so it runs in O(pattern x target).
 *
 * Go walks the name in bytes where it skips over "*" and in runes elsewhere; this walks code
 * points throughout. The two agree on every ASCII name (all valid module paths) and on every
 * case the differential test generates; they could differ only where Go would resume a match in
 * the middle of a multi-byte character.
 */

import { SumkeepError } from './errors.ts';

const BAD = Symbol('bad pattern');
type Bad = typeof BAD;

/** Splits off the leading stars and the next star-free chunk of `p` starting at `i`. */
function scanChunk(p: string[], i: number): { star: boolean; chunk: string[]; next: number } {
  let star = false;
  while (i < p.length && p[i] === '*') {
    star = true;
    i++;
  }
  let inRange = false;
  let j = i;
  for (; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') {
      if (j + 1 < p.length) j++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: p.slice(i, j), next: j };
}

/** Reads one class character (escape-aware) at chunk[k]; BAD for a syntax error. */
function getEsc(chunk: string[], k: number): { c: string; next: number } | Bad {
  if (k >= chunk.length || chunk[k] === '-' || chunk[k] === ']') return BAD;
  if (chunk[k] === '\\') {
    k++;
    if (k >= chunk.length) return BAD;
  }
  const c = chunk[k]!;
  if (k + 1 >= chunk.length) return BAD; // a class must be closed
  return { c, next: k + 1 };
}

function cp(s: string): number {
  return s.codePointAt(0) ?? -1;
}

/**
 * Matches `chunk` against the start of `s` (from index `at`): the index after the match, -1 for
 * no match, or BAD when the chunk is malformed. Like Go, it scans the whole chunk even after a
 * mismatch so that syntax errors are found.
 */
function matchChunk(chunk: string[], s: string[], at: number): number | Bad {
  let failed = false;
  let k = 0;
  let i = at;
  while (k < chunk.length) {
    if (!failed && i >= s.length) failed = true;
    const c = chunk[k]!;
    if (c === '[') {
      let r = -1;
      if (!failed) r = cp(s[i++]!);
      k++;
      let negated = false;
      if (k < chunk.length && chunk[k] === '^') {
        negated = true;
        k++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (k < chunk.length && chunk[k] === ']' && nrange > 0) {
          k++;
          break;
        }
        const lo = getEsc(chunk, k);
        if (lo === BAD) return BAD;
        k = lo.next;
        let hi = lo;
        if (chunk[k] === '-') {
          const h = getEsc(chunk, k + 1);
          if (h === BAD) return BAD;
          hi = h;
          k = h.next;
        }
        if (cp(lo.c) <= r && r <= cp(hi.c)) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[i] === '/') failed = true;
        i++;
      }
      k++;
    } else {
      if (c === '\\') {
        k++;
        if (k >= chunk.length) return BAD;
      }
      if (!failed) {
        if (chunk[k] !== s[i]) failed = true;
        i++;
      }
      k++;
    }
  }
  return failed ? -1 : i;
}

/** path.Match(pattern, name) with a malformed pattern counting as no match. */
export function globMatch(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  let pi = 0;
  let si = 0;
  outer: while (pi < p.length) {
    const { star, chunk, next } = scanChunk(p, pi);
    pi = next;
    if (star && chunk.length === 0) return !s.slice(si).includes('/');
    const t = matchChunk(chunk, s, si);
    if (t !== BAD && t >= 0 && (t === s.length || pi < p.length)) {
      si = t;
      continue;
    }
    if (t === BAD) return false;
    if (star) {
      for (let i = si; i < s.length && s[i] !== '/'; i++) {
        const u = matchChunk(chunk, s, i + 1);
        if (u === BAD) return false;
        if (u >= 0) {
          if (pi === p.length && u < s.length) continue;
          si = u;
          continue outer;
        }
      }
    }
    return false;
  }
  return si === s.length;
}

/**
 * True when `pattern` is malformed for path.Match (ErrBadPattern): an unclosed or empty "[...]"
 * class, a range with a missing end ("[a-]"), or a trailing backslash. Go's path.Match(pattern, "")
 * checks every chunk of the pattern, and so does this.
 */
export function isMalformedGlob(pattern: string): boolean {
  const p = Array.from(pattern);
  let pi = 0;
  while (pi < p.length) {
    const { chunk, next } = scanChunk(p, pi);
    pi = next;
    if (matchChunk(chunk, [], 0) === BAD) return true;
  }
  return false;
}

/** True when the first path elements of `target` match `glob` (one pattern of the list). */
function matchPrefix(glob: string, target: string): boolean {
  // A glob with n slashes is compared with the target cut just before its (n+1)th slash.
  let n = 0;
  for (const ch of glob) if (ch === '/') n++;
  let prefix = target;
  for (let i = 0; i < target.length; i++) {
    if (target[i] === '/') {
      if (n === 0) {
        prefix = target.slice(0, i);
        break;
      }
      n--;
    }
  }
  if (n > 0) return false; // not enough path elements
  return globMatch(glob, prefix);
}

/**
 * True when some path prefix of `target` matches one of the comma-separated globs
 * (module.MatchPrefixPatterns, the GOPRIVATE rule, exactly: no trimming, malformed globs ignored).
 */
export function matchPrefixPatterns(globs: string, target: string): boolean {
  for (let glob of globs.split(',')) {
    if (glob.endsWith('/')) glob = glob.slice(0, -1);
    if (glob !== '' && matchPrefix(glob, target)) return true;
  }
  return false;
}

/** True when some path prefix of `target` matches one of `patterns` (from {@link parsePatternList}). */
export function matchAnyPrefix(patterns: readonly string[], target: string): boolean {
  return patterns.some((glob) => matchPrefix(glob, target));
}

export interface PatternList {
  /** The patterns in list order, trimmed, without a trailing "/", no empty ones, no duplicates. */
  readonly patterns: readonly string[];
  /** The raw patterns that had white space around them (worth a warning: the go command keeps it). */
  readonly spaced: readonly string[];
}

/**
 * Go's unicode.IsSpace, which strings.TrimSpace trims: U+0009-U+000D, space, U+0085, U+00A0 and
 * the other White_Space characters. (JavaScript's trim() also strips U+FEFF and keeps U+0085.)
 */
const GO_SPACE = '\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
const EDGE_SPACE = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');
const ANY_SPACE = new RegExp(`[${GO_SPACE}]`);

/**
 * Reads a GOPRIVATE-syntax list for sumkeep's configuration: split at ",", each pattern trimmed
 * (Go's strings.TrimSpace), one trailing "/" dropped (as MatchPrefixPatterns does), empty patterns
 * skipped. Throws SumkeepError('config'), starting with `where` (the flag or variable the list came
 * from) and naming the pattern, for a pattern path.Match rejects, and for one with white space
 * inside it: no module path contains white space, so such a pattern (say, a space where a comma
 * was meant) could never match anything.
 */
export function parsePatternList(globs: string, where: string): PatternList {
  const patterns: string[] = [];
  const spaced: string[] = [];
  for (const raw of globs.split(',')) {
    let glob = raw.replace(EDGE_SPACE, '');
    if (glob !== raw) spaced.push(raw);
    if (glob.endsWith('/')) glob = glob.slice(0, -1);
    if (glob === '') continue;
    const shown = JSON.stringify(glob.length > 200 ? glob.slice(0, 200) + '...' : glob);
    if (ANY_SPACE.test(glob)) {
      throw new SumkeepError(
        'config',
        `${where}: pattern ${shown} contains white space, which no module path has; separate patterns with ","`,
      );
    }
    if (isMalformedGlob(glob)) {
      throw new SumkeepError(
        'config',
        `${where}: malformed pattern ${shown} (path.Match rejects it: check its "[...]" classes and "\\" escapes)`,
      );
    }
    if (!patterns.includes(glob)) patterns.push(glob);
  }
  return { patterns, spaced };
}
