/**
 * Case-fold keys for the "no two names equal under Unicode case folding" rule. Two names collide
 * exactly when their keys are equal, as with the go command's collision check (x/mod/zip uses
 * unicode.SimpleFold: each rune maps to the smallest rune of its case-folding orbit, ASCII
 * upper-case then lowered).
 *
 * `name.toLowerCase()` is not that: it misses the Kelvin sign K (U+212A, lower-cases to "k" but
 * nothing lower-cases to it), the long s (U+017F, upper-cases to "S"), the micro sign (U+00B5,
 * upper-cases to Greek Mu), and it turns "ß" into "ss" (full, not simple, folding).
 *
 * The key of a code point is the smallest code point of its class, where classes join each code
 * point with its single-code-point toLowerCase() and toUpperCase() (multi-code-point results such
 * as "ß" -> "SS" are full mappings and are ignored), computed once over planes 0 and 1 (no cased
 * letter lives above U+1FFFF). Two exceptions match Go: dotted capital I (U+0130) and dotless
 * small i (U+0131) fold to nothing; Unicode's CaseFolding.txt gives them only Turkic and full
 * mappings, and Go's SimpleFold leaves them alone.
 *
 * Checked against Go 1.19 over every code point below U+20000 (test/e2e/hash-go.test.ts drives
 * the real zip.CheckZip): identical except for characters that Unicode 14 and later added, which
 * Go 1.19 does not know (and whose file names its CheckFilePath refuses anyway), where this key
 * follows the newer Unicode of the running engine, as newer Go releases do.
 */

const FOLD_EXCLUDED = new Set([0x130, 0x131]);
const TOP = 0x20000;

let table: Map<number, number> | null = null;

function singleCodePoint(s: string): number {
  const cp = s.codePointAt(0);
  if (cp === undefined) return -1;
  return s.length === (cp > 0xffff ? 2 : 1) ? cp : -1;
}

/** Union-find over code points; each root is the smallest member of its class. */
function buildTable(): Map<number, number> {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    for (let p = parent.get(r); p !== undefined && p !== r; p = parent.get(r)) r = p;
    // Path compression keeps later finds short.
    for (let y = x, p = parent.get(y); p !== undefined && p !== r; p = parent.get(y)) {
      parent.set(y, r);
      y = p;
    }
    return r;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    if (!parent.has(ra)) parent.set(ra, ra);
    if (!parent.has(rb)) parent.set(rb, rb);
    if (ra < rb) parent.set(rb, ra);
    else parent.set(ra, rb);
  };
  for (let c = 0; c < TOP; c++) {
    if ((c >= 0xd800 && c <= 0xdfff) || FOLD_EXCLUDED.has(c)) continue;
    const s = String.fromCodePoint(c);
    const lower = singleCodePoint(s.toLowerCase());
    const upper = singleCodePoint(s.toUpperCase());
    if (lower >= 0 && lower !== c && !FOLD_EXCLUDED.has(lower)) union(c, lower);
    if (upper >= 0 && upper !== c && !FOLD_EXCLUDED.has(upper)) union(c, upper);
  }
  const keys = new Map<number, number>();
  for (const c of parent.keys()) {
    let k = find(c);
    if (k >= 0x41 && k <= 0x5a) k += 0x20; // ASCII classes are keyed by their lower-case letter
    if (k !== c) keys.set(c, k);
  }
  return keys;
}

/** Code point -> key code point, for the code points whose key is not themselves. */
export function foldTable(): ReadonlyMap<number, number> {
  table ??= buildTable();
  return table;
}

/** ASCII without upper-case letters is its own key: no table needed (the common case). */
function isAsciiWithoutUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || (c >= 0x41 && c <= 0x5a)) return false;
  }
  return true;
}

/** The case-fold key of `s`: foldKey(a) === foldKey(b) iff Go would call a and b a collision. */
export function foldKey(s: string): string {
  if (isAsciiWithoutUpper(s)) return s;
  const t = foldTable();
  let out = '';
  for (const ch of s) {
    const k = t.get(ch.codePointAt(0)!);
    out += k === undefined ? ch : String.fromCodePoint(k);
  }
  return out;
}
