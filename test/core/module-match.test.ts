/**
 * Reading a GOPRIVATE-syntax list for sumkeep: patterns trimmed, malformed ones refused, and the
 * matching of the trimmed list. matchPrefixPatterns itself (the go command's exact rule) is tested
 * in module.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import {
  isMalformedGlob,
  matchAnyPrefix,
  matchPrefixPatterns,
  parsePatternList,
} from '../../src/core/module-match.ts';
import { oracle, randomString, rng, type OracleRequest } from './xmod-oracle.ts';

describe('parsePatternList', () => {
  const CASES: [string, string[]][] = [
    ['', []],
    [',,', []],
    ['a.example.com', ['a.example.com']],
    ['a.example.com, b.example.com', ['a.example.com', 'b.example.com']],
    [' a.example.com ,\tb.example.com\n', ['a.example.com', 'b.example.com']],
    // Go's strings.TrimSpace set: NEL and NO-BREAK SPACE are white space, a BOM is not.
    ['\u0085a.example.com\u00a0,\u3000b.example.com', ['a.example.com', 'b.example.com']],
    ['\ufeffa.example.com', ['\ufeffa.example.com']],
    // Trailing slash dropped after trimming (as MatchPrefixPatterns drops one), empties skipped.
    ['corp.example.com/ , ,github.com/corp/', ['corp.example.com', 'github.com/corp']],
    ['*.corp.example.com,[a-c]*.io', ['*.corp.example.com', '[a-c]*.io']],
  ];
  for (const [globs, want] of CASES) {
    it(`reads ${JSON.stringify(globs)}`, () => {
      assert.deepEqual(parsePatternList(globs, '--private').patterns, want);
    });
  }

  it('says which patterns had white space around them', () => {
    assert.deepEqual(parsePatternList('a.example.com, b.example.com ,c', 'GOPRIVATE').spaced, [
      ' b.example.com ',
    ]);
    assert.deepEqual(parsePatternList('a,b', 'GOPRIVATE').spaced, []);
  });

  const BAD: [string, string][] = [
    ['a.example.com,[oops', '[oops'],
    ['[', '['],
    ['corp\\', 'corp\\'],
    ['x[a-]', 'x[a-]'],
    ['x[]', 'x[]'],
    ['*/[^', '*/[^'],
    // White space inside a pattern: no module path has any, so it could never match.
    ['a.example.com b.example.com', 'a.example.com b.example.com'],
  ];
  for (const [globs, named] of BAD) {
    it(`refuses ${JSON.stringify(globs)}, naming ${JSON.stringify(named)} and where it came from`, () => {
      assert.throws(
        () => parsePatternList(globs, 'GOPRIVATE'),
        (e) =>
          isSumkeepError(e, 'config') &&
          e.message.startsWith('GOPRIVATE: ') &&
          e.message.includes(JSON.stringify(named)) &&
          !e.message.includes('\n'),
      );
    });
  }
});

describe('matchAnyPrefix', () => {
  it('matches every trimmed pattern (b after ", " included)', () => {
    const { patterns } = parsePatternList('a.example.com, b.example.com', '--private');
    assert.equal(matchAnyPrefix(patterns, 'a.example.com/x'), true);
    assert.equal(matchAnyPrefix(patterns, 'b.example.com/x'), true);
    assert.equal(matchAnyPrefix(patterns, 'b.example.com'), true);
    assert.equal(matchAnyPrefix(patterns, 'c.example.com/x'), false);
    assert.equal(matchAnyPrefix(patterns, 'b.example.community/x'), false);
    assert.equal(matchAnyPrefix([], 'a.example.com/x'), false);
  });

  it('agrees with matchPrefixPatterns on lists without white space', () => {
    const r = rng(41);
    let matched = 0;
    for (let i = 0; i < 5000; i++) {
      const globs = randomString(r, 'aab*?/,.', Math.floor(r() * 9));
      const target = randomString(r, 'aab/.', Math.floor(r() * 7));
      const want = matchPrefixPatterns(globs, target);
      if (want) matched++;
      // The list as MatchPrefixPatterns reads it: split at ",", one trailing "/" dropped, empties skipped.
      const patterns = globs
        .split(',')
        .map((g) => g.replace(/\/$/, ''))
        .filter((g) => g !== '');
      assert.equal(
        matchAnyPrefix(patterns, target),
        want,
        `${JSON.stringify(globs)} ${JSON.stringify(target)}`,
      );
    }
    assert.ok(matched > 200, `only ${matched} matches generated`);
  });
});

describe('isMalformedGlob against Go path.Match', () => {
  const o = oracle();
  const skip = 'skip' in o ? o.skip : false;
  it('reports exactly the patterns for which path.Match returns ErrBadPattern', { skip }, () => {
    if ('skip' in o) return;
    const r = rng(43);
    const globs: string[] = ['[', '\\', 'a[', '[]', '[]]', '[^]', '[a-]', '[-a]', '[\\]', '*[', 'a\\'];
    for (let i = 0; i < 6000; i++) globs.push(randomString(r, 'ab*?[]^-\\/', Math.floor(r() * 8)));
    const reqs: OracleRequest[] = globs.map((g) => ({ op: 'badPattern', a: g }));
    const got = o.run(reqs);
    let bad = 0;
    globs.forEach((g, i) => {
      if (got[i] === true) bad++;
      assert.equal(isMalformedGlob(g), got[i], `path.Match(${JSON.stringify(g)}, "")`);
    });
    assert.ok(bad > 500 && bad < globs.length - 500, `${bad} malformed of ${globs.length}`);
  });
});
