/**
 * The version ranges of the policy file (src/core/version-range.ts): what each form covers, in
 * Go's version order (pre-releases, pseudo-versions, +incompatible), and the rule a bad range
 * breaks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import { formatVersionRange, inVersionRange, parseVersionRange } from '../../src/core/version-range.ts';

describe('inVersionRange', () => {
  // [range, versions inside, versions outside]
  const CASES: [string, string[], string[]][] = [
    ['*', ['v0.0.0', 'v1.2.3', 'v2.0.0+incompatible', 'v0.0.0-20200101000000-abcdefabcdef'], []],
    ['v1.2.3', ['v1.2.3'], ['v1.2.2', 'v1.2.4', 'v1.2.3-rc.1', 'v1.2.4-0.20240102030405-abcdefabcdef']],
    ['=v1.2.3', ['v1.2.3'], ['v1.2.4']],
    [
      '<v0.3.1',
      ['v0.3.0', 'v0.0.1', 'v0.3.1-rc.1', 'v0.3.1-0.20240102030405-abcdefabcdef'],
      ['v0.3.1', 'v0.4.0', 'v1.0.0'],
    ],
    [
      '>=v1.2.0 <v1.5.0',
      ['v1.2.0', 'v1.4.9', 'v1.5.0-rc.1', 'v1.2.1-0.20240102030405-abcdefabcdef'],
      ['v1.1.9', 'v1.5.0', 'v1.2.0-rc.1', 'v1.2.0-0.20240102030405-abcdefabcdef', 'v2.0.0+incompatible'],
    ],
    ['>= v1.2.0  < v1.5.0', ['v1.3.0'], ['v1.5.0']],
    ['>v1.0.0', ['v1.0.1', 'v1.0.1-0.20240102030405-abcdefabcdef'], ['v1.0.0', 'v0.9.0']],
    ['<=v1.0.0', ['v1.0.0', 'v0.1.0'], ['v1.0.1']],
    // +incompatible is build metadata: ignored in the order, on either side.
    ['>=v2.0.0', ['v2.0.0+incompatible', 'v3.1.0+incompatible', 'v2.0.0'], ['v1.9.9']],
    ['v2.0.0+incompatible', ['v2.0.0+incompatible', 'v2.0.0'], ['v2.0.1+incompatible']],
    ['>=v2.0.0 <v4.0.0', ['v3.0.0+incompatible'], ['v4.0.0+incompatible']],
    // Shorthands stand for their .0 forms.
    ['<v2', ['v1.99.0'], ['v2.0.0', 'v2.0.1']],
    ['>=v1.2 <v1.3', ['v1.2.0', 'v1.2.9'], ['v1.3.0', 'v1.1.0']],
    // Alternatives.
    ['<v1.0.0 || >=v2.0.0 <v2.1.3', ['v0.5.0', 'v2.1.2', 'v2.0.0'], ['v1.0.0', 'v1.9.0', 'v2.1.3']],
    ['v1.0.0 || *', ['v7.0.0'], []],
    // Pre-release order: numeric identifiers first, then by length and text.
    ['>v1.0.0-rc.2', ['v1.0.0-rc.10', 'v1.0.0'], ['v1.0.0-rc.1', 'v1.0.0-beta']],
  ];
  for (const [range, inside, outside] of CASES) {
    const r = parseVersionRange(range);
    for (const v of inside)
      it(`${JSON.stringify(range)} covers ${v}`, () => assert.equal(inVersionRange(r, v), true));
    for (const v of outside) {
      it(`${JSON.stringify(range)} does not cover ${v}`, () => assert.equal(inVersionRange(r, v), false));
    }
  }

  it('puts an invalid version in no range but "*"', () => {
    assert.equal(inVersionRange(parseVersionRange('<v9.0.0'), 'junk'), false);
    assert.equal(inVersionRange(parseVersionRange('*'), 'junk'), true);
  });
});

describe('parseVersionRange', () => {
  const GOOD: [string, string][] = [
    ['*', '*'],
    ['  v1.2.3 ', 'v1.2.3'],
    ['>=v1.2 <v1.5.0', '>=v1.2.0 <v1.5.0'],
    ['> = v1', '>=v1.0.0'],
    ['v2.0.0+incompatible', 'v2.0.0'],
    ['<v1||>v2', '<v1.0.0 || >v2.0.0'],
  ];
  for (const [text, normal] of GOOD) {
    it(`reads ${JSON.stringify(text)} as ${normal}`, () => {
      assert.equal(formatVersionRange(parseVersionRange(text)), normal);
    });
  }

  // [range, a piece of the message that names the rule]
  const BAD: [string, string][] = [
    ['', 'empty'],
    ['   ', 'empty'],
    ['>=1.2.0', 'Go versions start with "v" (v1.2.0)'],
    ['v1.2.3.4', 'is not a semantic version'],
    ['=>v1.2.0', 'unknown operator "=>"'],
    ['==v1.2.0', 'unknown operator "=="'],
    ['<<v1', 'unknown operator "<<"'],
    ['>=', 'without a version'],
    ['>=v1.0.0 <', 'without a version'],
    ['* <v1.0.0', '"*" must stand alone'],
    ['v1.0.0 ||', 'an empty alternative'],
    ['|| v1.0.0', 'an empty alternative'],
    ['~v1.2.0', 'is not a semantic version'],
    ['^v1.2.0', 'is not a semantic version'],
    ['v1.2.0 - v1.3.0', 'is not a semantic version'],
    ['latest', 'is not a semantic version'],
    ['x'.repeat(1001), 'longer than 1000'],
    [Array(65).fill('>v1.0.0').join(' '), 'more than 64 comparators'],
  ];
  for (const [text, rule] of BAD) {
    it(`refuses ${JSON.stringify(text.slice(0, 40))}: ${rule}`, () => {
      assert.throws(
        () => parseVersionRange(text),
        (e) => isSumkeepError(e, 'bad_input') && e.message.includes(rule),
      );
    });
  }
});
