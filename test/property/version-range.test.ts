// Properties of the policy's version ranges (src/core/version-range.ts): only SumkeepError escapes
// the parser, the normal form reads back as the same range, and membership is exactly what
// compareSemver says for bounds, exact versions and complementary alternatives — pseudo-versions
// and +incompatible included.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareSemver } from '../../src/core/semver.ts';
import { formatVersionRange, inVersionRange, parseVersionRange } from '../../src/core/version-range.ts';
import { pseudoVersion, revArb, semverArb, timestampArb } from './arbitraries.ts';
import { attemptWithCodes, fc, noiseString } from './fc.ts';

/** Versions a lookup may name: releases, pre-releases, +incompatible and pseudo-versions. */
const versionArb = fc.oneof(
  semverArb(),
  semverArb().map((v) => v + '+incompatible'),
  fc
    .tuple(fc.option(semverArb(1), { freq: 3 }), timestampArb, revArb)
    .map(([older, ts, rev]) => pseudoVersion(1, older, ts, rev)),
);
const opArb = fc.constantFrom('<', '<=', '>', '>=', '=', '');
const rangeTextArb = fc
  .array(fc.array(fc.tuple(opArb, versionArb, fc.constantFrom('', ' ')), { minLength: 1, maxLength: 3 }), {
    minLength: 1,
    maxLength: 3,
  })
  .map((alts) => alts.map((alt) => alt.map(([op, v, sp]) => `${op}${sp}${v}`).join(' ')).join(' || '));

describe('version ranges', () => {
  it('throw only bad_input for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          rangeTextArb.map((r) => r.replace(/v/, '')),
        ),
        (text) => {
          attemptWithCodes(['bad_input'], () => parseVersionRange(text));
        },
      ),
    );
  });

  it('read their normal form back as the same range', () => {
    fc.assert(
      fc.property(rangeTextArb, (text) => {
        const r = parseVersionRange(text);
        const again = parseVersionRange(formatVersionRange(r));
        assert.deepEqual(again.alternatives, r.alternatives);
      }),
    );
  });

  it('hold a version exactly when compareSemver says so', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (lo, hi, v) => {
        const between = inVersionRange(parseVersionRange(`>=${lo} <${hi}`), v);
        assert.equal(between, compareSemver(v, lo) >= 0 && compareSemver(v, hi) < 0);
        assert.equal(inVersionRange(parseVersionRange(lo), v), compareSemver(v, lo) === 0);
        assert.equal(inVersionRange(parseVersionRange(`>${lo}`), v), compareSemver(v, lo) > 0);
        assert.equal(inVersionRange(parseVersionRange(`<=${lo}`), v), compareSemver(v, lo) <= 0);
        // Complements: every version is in exactly one of "<lo" and ">=lo".
        assert.equal(
          inVersionRange(parseVersionRange(`<${lo}`), v),
          !inVersionRange(parseVersionRange(`>=${lo}`), v),
        );
        assert.ok(inVersionRange(parseVersionRange(`<${lo} || >=${lo}`), v));
        assert.ok(inVersionRange(parseVersionRange('*'), v));
      }),
    );
  });
});
