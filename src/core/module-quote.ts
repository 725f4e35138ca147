/**
 * How module paths, versions and characters appear inside error messages. Messages are one line
 * that is safe to show a user (they end up in 404 bodies the go command prints), so hostile input
 * is never echoed raw: control and format characters, lone surrogates and over-long strings are
 * shown quoted and cut.
 */
import { hasLoneSurrogate } from './bytes.ts';

/** Longest string (UTF-16 code units) shown in full inside a message. */
const MAX_SHOWN = 200;

// Cc (controls, incl. NUL, CR, LF), Cf (format: BOM, bidi overrides), line/paragraph separators,
// and the quote character itself, which would make the raw form ambiguous.
const UNSAFE_RE = /[\p{Cc}\p{Cf}\u2028\u2029"]/u;

/**
 * `s` as it appears in a message: raw when it is short, well-formed and printable; otherwise a
 * JSON string literal (lone surrogates escaped), cut after MAX_SHOWN code units with "...".
 */
export function shown(s: string): string {
  if (s !== '' && s.length <= MAX_SHOWN && !hasLoneSurrogate(s) && !UNSAFE_RE.test(s)) return s;
  return quoted(s);
}

/** Always-quoted form of `s` (JSON string literal), cut after MAX_SHOWN code units. */
export function quoted(s: string): string {
  if (s.length <= MAX_SHOWN) return JSON.stringify(s);
  let cut = MAX_SHOWN;
  // Do not split a surrogate pair: a high surrogate at the cut would show as a lone escape.
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return JSON.stringify(s.slice(0, cut)) + '...';
}

/** One character (code point) for a message: 'x' when printable ASCII, else U+XXXX. */
export function shownChar(cp: number): string {
  if (cp >= 0x21 && cp <= 0x7e && cp !== 0x27) return `'${String.fromCodePoint(cp)}'`;
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}
