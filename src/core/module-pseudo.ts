/**
 * Pseudo-versions: the versions the go command invents for untagged commits
 * (golang.org/x/mod/module/pseudo.go). Three forms, each optionally followed by "+incompatible":
 *
 *   vX.0.0-yyyymmddhhmmss-rev            no earlier tag for this major version
 *   vX.Y.(Z+1)-0.yyyymmddhhmmss-rev      after the release tag vX.Y.Z
 *   vX.Y.Z-pre.0.yyyymmddhhmmss-rev      after the pre-release tag vX.Y.Z-pre
 *
 * The timestamp is the commit time in UTC; rev is the commit's short name (12 hex digits for git).
 * Only the syntax can be checked here: whether rev and time match a real commit is the proxy's
 * business.
 */
import { isValidSemver, semverBuild, semverMajor, semverPrerelease } from './semver.ts';

// The syntax Go accepts. Applied only to strings that are valid semver with at least two dashes,
// so "[^+]*" cannot run into build metadata. \d is ASCII-only without the u flag, as in RE2.
const PSEUDO_RE =
  /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** True when `v` has the syntax of a pseudo-version (module.IsPseudoVersion). */
export function isPseudoVersion(v: string): boolean {
  let dashes = 0;
  for (let i = 0; i < v.length && dashes < 2; i++) if (v.charCodeAt(i) === 0x2d) dashes++;
  return dashes >= 2 && isValidSemver(v) && PSEUDO_RE.test(v);
}

/** The parts of a pseudo-version; `base` is the version before ".yyyymmddhhmmss" or "-yyyy...". */
export interface PseudoParts {
  base: string;
  timestamp: string;
  rev: string;
  build: string;
}

/** Splits a pseudo-version; null when `v` is not one. */
export function parsePseudoVersion(v: string): PseudoParts | null {
  if (!isPseudoVersion(v)) return null;
  const build = semverBuild(v);
  let rest = v.slice(0, v.length - build.length);
  const j = rest.lastIndexOf('-');
  const rev = rest.slice(j + 1);
  rest = rest.slice(0, j);
  const i = rest.lastIndexOf('-');
  const dot = rest.lastIndexOf('.');
  if (dot > i) return { base: rest.slice(0, dot), timestamp: rest.slice(dot + 1), rev, build };
  return { base: rest.slice(0, i), timestamp: rest.slice(i + 1), rev, build };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True when `ts` (14 ASCII digits) is a real UTC time yyyymmddhhmmss (no leap seconds). */
export function isValidPseudoTimestamp(ts: string): boolean {
  if (!/^[0-9]{14}$/.test(ts)) return false;
  const n = (a: number, b: number): number => Number(ts.slice(a, b));
  const year = n(0, 4);
  const month = n(4, 6);
  const day = n(6, 8);
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(month, year) &&
    n(8, 10) <= 23 &&
    n(10, 12) <= 59 &&
    n(12, 14) <= 59
  );
}

/** Decrements a decimal digit string; "" for "0" (no predecessor). */
function decDecimal(d: string): string {
  const digits = d.split('');
  let i = digits.length - 1;
  for (; i >= 0 && digits[i] === '0'; i--) digits[i] = '9';
  if (i < 0) return '';
  if (i === 0 && digits[0] === '1' && digits.length > 1) digits.shift();
  else digits[i] = String(Number(digits[i]) - 1);
  return digits.join('');
}

/**
 * The tagged version a pseudo-version builds on ("" for the no-tag form), as
 * module.PseudoVersionBase; `v` must not carry "+incompatible" (strip it first, as the go command
 * does). Returns `{ problem }` when the pseudo-version cannot be derived from any version.
 */
export function pseudoVersionBase(v: string): { base: string } | { problem: string } {
  const p = parsePseudoVersion(v);
  if (p === null) return { problem: 'not a pseudo-version' };
  const pre = semverPrerelease(p.base);
  if (pre === '') {
    if (p.build !== '') return { problem: `lacks base version, but has build metadata ${p.build}` };
    return { base: '' };
  }
  if (pre === '-0') {
    const release = p.base.slice(0, p.base.length - 2);
    const dot = release.lastIndexOf('.');
    const patch = decDecimal(release.slice(dot + 1));
    if (patch === '') return { problem: `version before ${release} would have negative patch number` };
    return { base: release.slice(0, dot + 1) + patch + p.build };
  }
  return { base: p.base.slice(0, p.base.length - 2) + p.build };
}

/**
 * Why `v` (a pseudo-version, possibly "+incompatible") is not one the go command could have made
 * for a module whose path has major suffix `pathMajor`, judging syntax only; null when fine.
 */
export function pseudoVersionProblem(v: string, pathMajor: string): string | null {
  const plain = v.endsWith('+incompatible') ? v.slice(0, -'+incompatible'.length) : v;
  const p = parsePseudoVersion(plain);
  if (p === null) return 'malformed pseudo-version';
  if (!isValidPseudoTimestamp(p.timestamp)) return `malformed time ${p.timestamp}`;
  const b = pseudoVersionBase(plain);
  if ('problem' in b) return b.problem;
  // Without a tag the go command numbers a pseudo-version vN.0.0 for the path's own major
  // version; for a path without suffix that is v0, never v1.
  if (b.base === '' && pathMajor === '' && semverMajor(v) === 'v1') {
    return 'major version without preceding tag must be v0, not v1';
  }
  return null;
}
