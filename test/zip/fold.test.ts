import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { foldKey, foldTable } from '../../src/zip/fold.ts';

describe('foldKey', () => {
  const same: Array<[string, string, string]> = [
    ['ASCII case', 'README.md', 'readme.MD'],
    ['Kelvin sign K (U+212A) and k', '\u212A', 'k'],
    ['Kelvin sign and K', '\u212A', 'K'],
    ['long s (U+017F) and s', '\u017F', 's'],
    ['long s and S', '\u017F', 'S'],
    ['micro sign (U+00B5) and Greek mu', '\u00B5', '\u03BC'],
    ['micro sign and Greek capital Mu', '\u00B5', '\u039C'],
    ['angstrom sign (U+212B) and A with ring', '\u212B', '\u00E5'],
    ['final sigma and sigma', '\u03C2', '\u03C3'],
    ['final sigma and capital sigma', '\u03C2', '\u03A3'],
    ['theta symbol (U+03D1), theta and capital theta', '\u03D1', '\u0398'],
    ['sharp s and capital sharp s (U+1E9E)', '\u00DF', '\u1E9E'],
    ['Latin DZ digraph, title case and lower case', '\u01C4', '\u01C5'],
    ['Cherokee capital and small letters', '\u13A0', '\uAB70'],
    ['Georgian Mtavruli and Mkhedruli', '\u1C90', '\u10D0'],
    ['Deseret (above U+FFFF)', '\u{10400}', '\u{10428}'],
    ['a whole path', 'Dir/Sub/\u212Aey.go', 'dir/sub/key.GO'],
  ];
  for (const [name, a, b] of same) {
    it(`folds together: ${name}`, () => assert.equal(foldKey(a), foldKey(b)));
  }

  const different: Array<[string, string, string]> = [
    ['sharp s and "ss" (full folding is not simple folding)', '\u00DF', 'ss'],
    ['Straße and STRASSE', 'Straße', 'STRASSE'],
    ['dotted capital I (U+0130) and i (no simple fold in Go)', '\u0130', 'i'],
    ['dotless i (U+0131) and I', '\u0131', 'I'],
    ['dotless i and i', '\u0131', 'i'],
    ['a and b', 'a', 'b'],
    ['e and e with acute', 'e', '\u00E9'],
    ['precomposed and decomposed e acute (no normalization)', '\u00E9', 'e\u0301'],
    ['fi ligature and "fi"', '\uFB01', 'fi'],
  ];
  for (const [name, a, b] of different) {
    it(`keeps apart: ${name}`, () => assert.notEqual(foldKey(a), foldKey(b)));
  }

  it('is the identity on lower-case ASCII (no table needed)', () => {
    assert.equal(foldKey('example.com/m@v1.0.0/a_b-c.go'), 'example.com/m@v1.0.0/a_b-c.go');
  });

  it('keys ASCII classes by their lower-case letter', () => {
    assert.equal(foldKey('GO.MOD'), 'go.mod');
    assert.equal(foldKey('\u212A\u017F'), 'ks');
  });

  it('is idempotent and maps every code point of the table into a fixed point', () => {
    for (const [c, k] of foldTable()) {
      assert.equal(
        foldTable().get(k),
        undefined,
        `U+${c.toString(16)} -> U+${k.toString(16)} is not a fixed point`,
      );
    }
  });

  it('never changes the length of a string in code points', () => {
    const s = '\u00DF\u0130\uFB01\u0149\u1F80';
    assert.equal([...foldKey(s)].length, [...s].length);
  });
});
