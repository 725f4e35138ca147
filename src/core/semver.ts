/**
 * Semantic versions as the go command reads them (golang.org/x/mod/semver): Semantic Versioning
 * 2.0.0 with a leading "v", where "vMAJOR" and "vMAJOR.MINOR" are accepted shorthands for
 * ".0.0" / ".0" (without pre-release or build suffixes).
 *
 *   v<major>[.<minor>[.<patch>[-<prerelease>][+<build>]]]
 *
 * Numbers are ASCII digits without leading zeros, of any length (compared as digit strings, so
 * huge numbers never overflow). Pre-release and build are dot-separated non-empty identifiers of
 * [0-9A-Za-z-]; numeric pre-release identifiers have no leading zeros.
 *
 * None of these functions throws: invalid input gives false, "" or the ordering rule below.
 */

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  /** ".0.0" or ".0" when the input used a shorthand, else "". */
  short: string;
  /** Including the leading "-", or "". */
  prerelease: string;
  /** Including the leading "+", or "". */
  build: string;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentChar(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

/** Length of the number at v[i:], or -1 when there is none or it has a leading zero. */
function numberEnd(v: string, i: number): number {
  let j = i;
  while (j < v.length && isDigit(v.charCodeAt(j))) j++;
  if (j === i) return -1;
  if (v.charCodeAt(i) === 0x30 && j - i > 1) return -1;
  return j;
}

/** An all-digit identifier with a leading zero ("01"), forbidden in pre-releases. */
function isBadNum(s: string): boolean {
  return s.length > 1 && s.charCodeAt(0) === 0x30 && /^[0-9]+$/.test(s);
}

/**
 * End index of dot-separated identifiers starting after the sigil at v[i], stopping at `stop`
 * (a char code) or the end; -1 when malformed.
 */
function identsEnd(v: string, i: number, stop: number, prerelease: boolean): number {
  let j = i + 1;
  let start = j;
  for (; j < v.length && v.charCodeAt(j) !== stop; j++) {
    const c = v.charCodeAt(j);
    if (c === 0x2e) {
      if (start === j || (prerelease && isBadNum(v.slice(start, j)))) return -1;
      start = j + 1;
    } else if (!isIdentChar(c)) {
      return -1;
    }
  }
  if (start === j || (prerelease && isBadNum(v.slice(start, j)))) return -1;
  return j;
}

function parse(v: string): Parsed | null {
  if (v.charCodeAt(0) !== 0x76) return null; // 'v'
  let e = numberEnd(v, 1);
  if (e < 0) return null;
  const major = v.slice(1, e);
  if (e === v.length) return { major, minor: '0', patch: '0', short: '.0.0', prerelease: '', build: '' };
  if (v[e] !== '.') return null;
  let s = e + 1;
  e = numberEnd(v, s);
  if (e < 0) return null;
  const minor = v.slice(s, e);
  if (e === v.length) return { major, minor, patch: '0', short: '.0', prerelease: '', build: '' };
  if (v[e] !== '.') return null;
  s = e + 1;
  e = numberEnd(v, s);
  if (e < 0) return null;
  const patch = v.slice(s, e);
  let prerelease = '';
  let build = '';
  if (v[e] === '-') {
    const end = identsEnd(v, e, 0x2b, true);
    if (end < 0) return null;
    prerelease = v.slice(e, end);
    e = end;
  }
  if (v[e] === '+') {
    const end = identsEnd(v, e, -1, false);
    if (end < 0) return null;
    build = v.slice(e, end);
    e = end;
  }
  if (e !== v.length) return null;
  return { major, minor, patch, short: '', prerelease, build };
}

/** True when `v` is a valid semantic version (shorthands "v1", "v1.2" included). */
export function isValidSemver(v: string): boolean {
  return parse(v) !== null;
}

/**
 * Canonical form: shorthands expanded, build metadata dropped ("v1.2" -> "v1.2.0",
 * "v1.2.3+meta" -> "v1.2.3"); "" for an invalid version. Note "+incompatible" is build metadata
 * here; module.ts keeps it where the go command does.
 */
export function canonicalSemver(v: string): string {
  const p = parse(v);
  if (p === null) return '';
  if (p.build !== '') return v.slice(0, v.length - p.build.length);
  return v + p.short;
}

/** "vN" for a valid version, else "". */
export function semverMajor(v: string): string {
  const p = parse(v);
  return p === null ? '' : 'v' + p.major;
}

/** The pre-release suffix including "-" ("-rc.1"), or "". */
export function semverPrerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** The build suffix including "+" ("+incompatible"), or "". */
export function semverBuild(v: string): string {
  return parse(v)?.build ?? '';
}

function compareInt(x: string, y: string): number {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

function comparePrerelease(x: string, y: string): number {
  if (x === y) return 0;
  if (x === '') return 1; // a release sorts after its pre-releases
  if (y === '') return -1;
  const xs = x.slice(1).split('.');
  const ys = y.slice(1).split('.');
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const dx = xs[i]!;
    const dy = ys[i]!;
    if (dx === dy) continue;
    const nx = /^[0-9]+$/.test(dx);
    const ny = /^[0-9]+$/.test(dy);
    if (nx !== ny) return nx ? -1 : 1; // numeric identifiers sort before alphanumeric ones
    if (nx && dx.length !== dy.length) return dx.length < dy.length ? -1 : 1;
    return dx < dy ? -1 : 1;
  }
  return xs.length < ys.length ? -1 : 1;
}

/**
 * Orders two versions: -1, 0 or +1. Build metadata is ignored; invalid versions are equal to each
 * other and sort before every valid one (as semver.Compare).
 */
export function compareSemver(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa === null && pb === null) return 0;
  if (pa === null) return -1;
  if (pb === null) return 1;
  return (
    compareInt(pa.major, pb.major) ||
    compareInt(pa.minor, pb.minor) ||
    compareInt(pa.patch, pb.patch) ||
    comparePrerelease(pa.prerelease, pb.prerelease)
  );
}
