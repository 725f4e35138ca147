// Properties of semantic versions (src/core/semver.ts): nothing throws, canonical forms are
// fixed points that compare equal to their source, and compareSemver is a total preorder
// (antisymmetric, transitive) in which invalid versions sort first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalSemver,
  compareSemver,
  isValidSemver,
  semverBuild,
  semverMajor,
  semverPrerelease,
} from '../../src/core/semver.ts';
import { semverArb } from './arbitraries.ts';
import { attempt, editsArb, fc, mutateString, noiseString } from './fc.ts';

/** Versions of every shape: valid (shorthands and build metadata too), damaged, arbitrary. */
const versionArb = fc.oneof(
  semverArb(),
  semverArb().map((v) => v.replace(/\.[0-9]+(-.*)?$/, '')),
  semverArb().map((v) => v.replace(/\.[0-9]+\.[0-9]+(-.*)?$/, '')),
  fc
    .tuple(semverArb(), fc.stringMatching(/^[0-9A-Za-z-]{1,6}(\.[0-9A-Za-z-]{1,6}){0,2}$/))
    .map(([v, b]) => `${v}+${b}`),
  fc.tuple(semverArb(), editsArb).map(([v, e]) => mutateString(v, e)),
  noiseString,
);

describe('semver', () => {
  it('never throws, and gives "" parts exactly for invalid versions', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const r = attempt(() => ({
          valid: isValidSemver(v),
          canonical: canonicalSemver(v),
          major: semverMajor(v),
          pre: semverPrerelease(v),
          build: semverBuild(v),
        }));
        assert.ok(r.ok);
        assert.equal(r.value.canonical !== '', r.value.valid);
        assert.equal(r.value.major !== '', r.value.valid);
        if (!r.value.valid) assert.deepEqual([r.value.pre, r.value.build], ['', '']);
      }),
      { numRuns: 200 },
    );
  });

  it('canonical forms are valid fixed points that compare equal to their version', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const c = canonicalSemver(v);
        if (c === '') return;
        assert.ok(isValidSemver(c));
        assert.equal(canonicalSemver(c), c);
        assert.equal(semverBuild(c), '');
        assert.equal(semverMajor(c), semverMajor(v));
        assert.equal(semverPrerelease(c), semverPrerelease(v));
        assert.equal(compareSemver(v, c), 0);
      }),
      { numRuns: 200 },
    );
  });

  it('compareSemver is antisymmetric and transitive, with invalid versions first', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        const ab = compareSemver(a, b);
        assert.ok([-1, 0, 1].includes(ab));
        assert.equal(compareSemver(b, a), -ab || 0);
        if (ab <= 0 && compareSemver(b, c) <= 0) assert.ok(compareSemver(a, c) <= 0, `${a} <= ${b} <= ${c}`);
        if (!isValidSemver(a)) assert.equal(compareSemver(a, b), isValidSemver(b) ? -1 : 0);
      }),
      { numRuns: 200 },
    );
  });
});
