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
import { oracle, pick, randomString, rng, type OracleRequest } from './xmod-oracle.ts';

// [input, canonical ('' = invalid), major, prerelease, build]
const CASES: [string, string, string, string, string][] = [
  ['bad', '', '', '', ''],
  ['', '', '', '', ''],
  ['v', '', '', '', ''],
  ['1.2.3', '', '', '', ''],
  ['V1.2.3', '', '', '', ''],
  ['v1-alpha.beta.gamma', '', '', '', ''],
  ['v1-pre', '', '', '', ''],
  ['v1+meta', '', '', '', ''],
  ['v1.2-pre', '', '', '', ''],
  ['v1.2+meta', '', '', '', ''],
  ['v1.2-pre+meta', '', '', '', ''],
  ['v01.2.3', '', '', '', ''],
  ['v1.02.3', '', '', '', ''],
  ['v1.2.03', '', '', '', ''],
  ['v1.2.3.4', '', '', '', ''],
  ['v1.2.3-', '', '', '', ''],
  ['v1.2.3-01', '', '', '', ''],
  ['v1.2.3-a..b', '', '', '', ''],
  ['v1.2.3-a.', '', '', '', ''],
  ['v1.2.3+', '', '', '', ''],
  ['v1.2.3+a..b', '', '', '', ''],
  ['v1.2.3-a_b', '', '', '', ''],
  ['v1.2.3 ', '', '', '', ''],
  [' v1.2.3', '', '', '', ''],
  ['v1.2.3\n', '', '', '', ''],
  ['v1.2.3-\u00e9', '', '', '', ''],
  ['v1.0.0-alpha', 'v1.0.0-alpha', 'v1', '-alpha', ''],
  ['v1.0.0-alpha.1', 'v1.0.0-alpha.1', 'v1', '-alpha.1', ''],
  ['v1.0.0-rc.1', 'v1.0.0-rc.1', 'v1', '-rc.1', ''],
  ['v1', 'v1.0.0', 'v1', '', ''],
  ['v1.0', 'v1.0.0', 'v1', '', ''],
  ['v1.2', 'v1.2.0', 'v1', '', ''],
  ['v0.0.0', 'v0.0.0', 'v0', '', ''],
  ['v1.2.3-456-789', 'v1.2.3-456-789', 'v1', '-456-789', ''],
  ['v1.2.3-0', 'v1.2.3-0', 'v1', '-0', ''],
  ['v1.2.3-01a', 'v1.2.3-01a', 'v1', '-01a', ''],
  ['v1.2.3-pre+meta', 'v1.2.3-pre', 'v1', '-pre', '+meta'],
  ['v1.2.3+meta-pre.sha.256a', 'v1.2.3', 'v1', '', '+meta-pre.sha.256a'],
  ['v1.2.3+01', 'v1.2.3', 'v1', '', '+01'],
  ['v14.2.0+incompatible', 'v14.2.0', 'v14', '', '+incompatible'],
  [
    'v0.0.0-20191109021931-daa7c04131f5',
    'v0.0.0-20191109021931-daa7c04131f5',
    'v0',
    '-20191109021931-daa7c04131f5',
    '',
  ],
  [
    'v1.2.4-0.20191109021931-daa7c04131f5',
    'v1.2.4-0.20191109021931-daa7c04131f5',
    'v1',
    '-0.20191109021931-daa7c04131f5',
    '',
  ],
  ['v0.0.1-go1.21.0.linux-amd64', 'v0.0.1-go1.21.0.linux-amd64', 'v0', '-go1.21.0.linux-amd64', ''],
  [
    'v123456789012345678901234567890.0.0',
    'v123456789012345678901234567890.0.0',
    'v123456789012345678901234567890',
    '',
    '',
  ],
];

describe('semver parsing', () => {
  for (const [v, canonical, major, pre, build] of CASES) {
    it(`reads ${JSON.stringify(v)}`, () => {
      assert.equal(isValidSemver(v), canonical !== '');
      assert.equal(canonicalSemver(v), canonical);
      assert.equal(semverMajor(v), major);
      assert.equal(semverPrerelease(v), pre);
      assert.equal(semverBuild(v), build);
    });
  }
});

describe('compareSemver', () => {
  // Ascending order (Semantic Versioning 2.0.0 section 11); entries in one inner array are equal.
  const ORDER: string[][] = [
    ['bad', 'v1.2.3.4', 'v01'],
    ['v0.0.0-20191109021931-daa7c04131f5'],
    ['v0.0.0'],
    ['v0.9.9'],
    ['v1.0.0-alpha'],
    ['v1.0.0-alpha.1'],
    ['v1.0.0-alpha.beta'],
    ['v1.0.0-beta'],
    ['v1.0.0-beta.2'],
    ['v1.0.0-beta.11'],
    ['v1.0.0-rc.1'],
    ['v1', 'v1.0', 'v1.0.0', 'v1.0.0+build', 'v1.0.0+other'],
    ['v1.2.0'],
    ['v1.2.3-456'],
    ['v1.2.3-pre'],
    ['v1.2.3'],
    ['v1.2.4-0.20191109021931-daa7c04131f5'],
    ['v1.2.4'],
    ['v1.10.0'],
    ['v2.0.0'],
    ['v14.2.0+incompatible'],
    ['v99999999999999999999.0.0'],
    ['v100000000000000000000.0.0'],
  ];

  it('orders the ladder of versions and treats each rung as equal', () => {
    for (let i = 0; i < ORDER.length; i++) {
      for (let j = 0; j < ORDER.length; j++) {
        for (const a of ORDER[i]!) {
          for (const b of ORDER[j]!) {
            assert.equal(compareSemver(a, b), Math.sign(i - j), `compare(${a}, ${b})`);
          }
        }
      }
    }
  });

  it('compares numbers longer than any integer type by length, then digits', () => {
    const big = '9'.repeat(400);
    assert.equal(compareSemver(`v1.${big}.0`, `v1.1${'0'.repeat(400)}.0`), -1);
    assert.equal(compareSemver(`v1.0.0-${big}`, `v1.0.0-${big}8`), -1);
    assert.equal(compareSemver(`v1.0.0-${big}`, `v1.0.0-a`), -1);
  });
});

describe('semver on hostile input', () => {
  it('never throws and stays linear on megabyte inputs', () => {
    const inputs = [
      'v1.2.3-' + 'a.'.repeat(500_000) + 'a',
      'v1.2.3-' + 'a.'.repeat(500_000),
      'v' + '9'.repeat(1_000_000),
      'v1.2.3+' + 'x'.repeat(1_000_000),
      '\u0000'.repeat(1000),
      'v1.2.3-\ud800',
      'v1.2.3-\udc00\ud800',
    ];
    const t0 = performance.now();
    for (const v of inputs) {
      isValidSemver(v);
      canonicalSemver(v);
      compareSemver(v, v);
      compareSemver(v, 'v1.2.3');
    }
    assert.ok(performance.now() - t0 < 5000, 'semver on 1 MB inputs took too long');
    assert.equal(isValidSemver(inputs[0]!), true);
    assert.equal(isValidSemver(inputs[1]!), false);
    assert.equal(semverMajor(inputs[2]!), inputs[2]);
  });

  it('accepts random bytes without throwing', () => {
    const r = rng(7);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const n = Math.floor(r() * 20);
      for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(r() * 0x10000));
      const canonical = canonicalSemver(s);
      assert.equal(isValidSemver(s), canonical !== '');
      assert.equal(compareSemver(s, s), 0);
    }
  });
});

/** Random version-like strings: valid ones with random corruptions. */
function versionCorpus(seed: number, n: number): string[] {
  const r = rng(seed);
  const num = (): string => pick(r, ['0', '1', '2', '9', '10', '123', '0', '1', '01', '00', '']);
  const ident = (): string => randomString(r, 'aZ09-0.x', 1 + Math.floor(r() * 4));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let v = pick(r, ['v', 'v', 'v', 'V', '']) + num();
    if (r() < 0.8) v += '.' + num();
    if (r() < 0.8) v += '.' + num();
    if (r() < 0.4) v += '-' + ident();
    if (r() < 0.3) v += '+' + ident();
    if (r() < 0.05) v += randomString(r, '.-+ \u00e9', 1);
    out.push(v);
  }
  return out;
}

describe('semver against Go golang.org/x/mod/semver', () => {
  const o = oracle();
  it(
    'agrees on validity, canonical form, major, pre-release, build and order',
    { skip: 'skip' in o ? o.skip : false },
    () => {
      if ('skip' in o) return;
      const vs = versionCorpus(1, 3000).concat(CASES.map((c) => c[0]));
      const reqs: OracleRequest[] = [];
      for (const v of vs)
        for (const op of ['isValid', 'canonical', 'major', 'prerelease', 'build']) reqs.push({ op, a: v });
      const r = rng(2);
      const pairs: [string, string][] = [];
      for (let i = 0; i < 3000; i++) pairs.push([pick(r, vs), pick(r, vs)]);
      for (const [a, b] of pairs) reqs.push({ op: 'compare', a, b });
      const got = o.run(reqs);
      let k = 0;
      for (const v of vs) {
        assert.equal(isValidSemver(v), got[k++], `isValid(${v})`);
        assert.equal(canonicalSemver(v), got[k++], `canonical(${v})`);
        assert.equal(semverMajor(v), got[k++], `major(${v})`);
        assert.equal(semverPrerelease(v), got[k++], `prerelease(${v})`);
        assert.equal(semverBuild(v), got[k++], `build(${v})`);
      }
      for (const [a, b] of pairs) assert.equal(compareSemver(a, b), got[k++], `compare(${a}, ${b})`);
    },
  );
});
