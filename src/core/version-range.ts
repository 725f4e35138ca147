/**
 * Version ranges of the policy file (--policy): which versions of a module a rule covers. Pure.
 *
 * Syntax (one string):
 *   range       = alternative *( "||" alternative )        a version in any alternative
 *   alternative = "*" | comparator *( spaces comparator )   every comparator holds ("*": any version)
 *   comparator  = [ "<" | "<=" | ">" | ">=" | "=" ] version  no operator: exactly that version
 * e.g. ">=v1.2.0 <v1.5.0", "<v0.3.1", "v1.2.3", "*", "<v1.0.0 || >=v2.0.0 <v2.1.3".
 * White space around operators is allowed (">= v1.2.0"). A version is a Go semantic version with
 * its "v" ("v1.2.3", "v1.2.3-rc.1"; shorthands "v1" and "v1.2" stand for v1.0.0 and v1.2.0).
 *
 * Order is Go's (semver.Compare, src/core/semver.ts): pre-releases sort before their release,
 * so "<v1.5.0" covers v1.5.0-rc.1; a pseudo-version sorts where its commit lies between tags
 * (v1.4.1-0.20240102030405-abcdefabcdef, a commit after v1.4.0, is inside ">=v1.4.0 <v1.4.1");
 * build metadata is ignored, so "+incompatible" does not matter: ">=v2.0.0" covers
 * v2.3.0+incompatible and "v2.0.0" is equal to v2.0.0+incompatible.
 */
import { SumkeepError } from './errors.ts';
import { canonicalSemver, compareSemver, isValidSemver } from './semver.ts';

export type RangeOp = '<' | '<=' | '>' | '>=' | '=';

export interface Comparator {
  readonly op: RangeOp;
  /** Canonical (shorthand expanded, build metadata dropped). */
  readonly version: string;
}

export interface VersionRange {
  /** The range as written (trimmed). */
  readonly text: string;
  /** Alternatives; an empty alternative (from "*") holds for every version. */
  readonly alternatives: readonly (readonly Comparator[])[];
}

/** Longest range text and most comparators read: a range is written by hand. */
export const MAX_RANGE_LENGTH = 1000;
const MAX_COMPARATORS = 64;

/** Every version. */
export const ANY_VERSION: VersionRange = { text: '*', alternatives: [[]] };

const bad = (text: string, rule: string): never => {
  const shown = JSON.stringify(text.length > 100 ? text.slice(0, 100) + '...' : text);
  throw new SumkeepError('bad_input', `version range ${shown}: ${rule}`);
};

/**
 * Parses a range (syntax above). Throws SumkeepError('bad_input') naming the range and the rule
 * it breaks: empty, an unknown operator, an operator without a version, a version that is not a
 * Go semantic version, "*" beside a comparator.
 */
export function parseVersionRange(text: string): VersionRange {
  const t = text.trim();
  if (t.length > MAX_RANGE_LENGTH) bad(t, `longer than ${MAX_RANGE_LENGTH} characters`);
  if (t === '') bad(t, 'empty (write "*" for every version)');
  const alternatives: Comparator[][] = [];
  let count = 0;
  for (const alt of t.split('||')) {
    // Operators may stand apart from their version: join them first (">= v1" -> ">=v1").
    const words = alt
      .trim()
      .replace(/([<>=]+)\s+/g, '$1')
      .split(/\s+/)
      .filter((w) => w !== '');
    if (words.length === 0) bad(t, 'an empty alternative around "||"');
    if (words.includes('*')) {
      if (words.length > 1) bad(t, '"*" must stand alone in its alternative');
      alternatives.push([]);
      continue;
    }
    const comparators: Comparator[] = [];
    for (const w of words) {
      if (++count > MAX_COMPARATORS) bad(t, `more than ${MAX_COMPARATORS} comparators`);
      comparators.push(parseComparator(t, w));
    }
    alternatives.push(comparators);
  }
  return { text: t, alternatives };
}

function parseComparator(range: string, word: string): Comparator {
  const m = /^([<>=]*)(.*)$/s.exec(word)!;
  const opText = m[1]!;
  const v = m[2]!;
  const op: RangeOp | undefined =
    opText === '' ? '=' : (['<', '<=', '>', '>=', '='] as const).find((o) => o === opText);
  if (op === undefined)
    bad(range, `unknown operator ${JSON.stringify(opText)} (want <, <=, >, >=, = or none)`);
  if (v === '') bad(range, `operator ${JSON.stringify(opText)} without a version`);
  if (!isValidSemver(v)) {
    const hint = /^[0-9]/.test(v) ? `; Go versions start with "v" (v${v})` : ' (want e.g. v1.2.3)';
    bad(range, `${JSON.stringify(v.slice(0, 100))} is not a semantic version${hint}`);
  }
  return { op: op!, version: canonicalSemver(v) };
}

function holds(c: Comparator, version: string): boolean {
  const d = compareSemver(version, c.version);
  switch (c.op) {
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    case '=':
      return d === 0;
  }
}

/**
 * True when `version` is in the range. `version` must be a valid semantic version (the caller
 * checked the module version); an invalid one is in no range but "*".
 */
export function inVersionRange(range: VersionRange, version: string): boolean {
  const valid = isValidSemver(version);
  return range.alternatives.some((alt) => alt.length === 0 || (valid && alt.every((c) => holds(c, version))));
}

/** The range in a normal form ("*" or comparators with their operator, "||" between). */
export function formatVersionRange(range: VersionRange): string {
  return range.alternatives
    .map((alt) =>
      alt.length === 0 ? '*' : alt.map((c) => `${c.op === '=' ? '' : c.op}${c.version}`).join(' '),
    )
    .join(' || ');
}
