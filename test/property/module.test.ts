// Properties of module paths and versions (src/core/module*.ts): escaping round-trips and is
// the only encoding unescaping accepts, the path checks nest (module within import within file
// paths) and raise only bad_module_path, pseudo-versions split back into the tag, time and
// revision they were made from, and GOPRIVATE patterns match literal prefixes as documented.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalModuleVersion,
  checkFilePath,
  checkImportPath,
  checkModuleVersion,
  checkPath,
  escapePath,
  escapeVersion,
  globMatch,
  isPseudoVersion,
  isValidPseudoTimestamp,
  matchPrefixPatterns,
  parsePseudoVersion,
  pseudoVersionBase,
  unescapePath,
  unescapeVersion,
} from '../../src/core/module.ts';
import { isValidSemver } from '../../src/core/semver.ts';
import {
  escapableVersionArb,
  modulePathArb,
  moduleVersionArb,
  pseudoVersion,
  revArb,
  semverArb,
  timestampArb,
} from './arbitraries.ts';
import { attempt, attemptWithCodes, editsArb, fc, mutateString, noiseString } from './fc.ts';

const PATH_CODES = ['bad_module_path'];
const VERSION_CODES = ['bad_module_path', 'bad_version'];

describe('escapePath and unescapePath', () => {
  it('round-trip every valid module path, upper case and all', () => {
    fc.assert(
      fc.property(modulePathArb, (p) => {
        const e = escapePath(p);
        assert.ok(!/[A-Z]/.test(e), e);
        assert.equal(unescapePath(e), p);
      }),
    );
  });

  it('unescapePath raises only bad_module_path and accepts only what escapePath writes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          fc.tuple(modulePathArb, editsArb).map(([p, e]) => mutateString(escapePath(p), e)),
          modulePathArb,
        ),
        (s) => {
          const r = attemptWithCodes(PATH_CODES, () => unescapePath(s));
          if (r.ok) assert.equal(escapePath(r.value), s);
          attemptWithCodes(PATH_CODES, () => escapePath(s));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('escapeVersion and unescapeVersion', () => {
  it('round-trip every escapable version', () => {
    fc.assert(
      fc.property(escapableVersionArb, (v) => {
        const e = escapeVersion(v);
        assert.ok(!/[A-Z]/.test(e), e);
        assert.equal(unescapeVersion(e), v);
      }),
    );
  });

  it('unescapeVersion raises only bad_version and accepts only what escapeVersion writes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          fc.tuple(escapableVersionArb, editsArb).map(([v, e]) => mutateString(escapeVersion(v), e)),
        ),
        (s) => {
          const r = attemptWithCodes(['bad_version'], () => unescapeVersion(s));
          if (r.ok) assert.equal(escapeVersion(r.value), s);
          attemptWithCodes(['bad_version'], () => escapeVersion(s));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('checkPath, checkImportPath and checkFilePath', () => {
  it('raise only bad_module_path, and every module path is an import path and every import path a file path', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          modulePathArb,
          fc.tuple(modulePathArb, editsArb).map(([p, e]) => mutateString(p, e)),
        ),
        (s) => {
          const m = attemptWithCodes(PATH_CODES, () => checkPath(s));
          const i = attemptWithCodes(PATH_CODES, () => checkImportPath(s));
          const f = attemptWithCodes(PATH_CODES, () => checkFilePath(s));
          if (m.ok) assert.ok(i.ok, `module path ${JSON.stringify(s)} refused as an import path`);
          if (i.ok) assert.ok(f.ok, `import path ${JSON.stringify(s)} refused as a file path`);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('checkModuleVersion', () => {
  it('accepts the generated module versions, each canonical', () => {
    fc.assert(
      fc.property(moduleVersionArb, ({ path, version }) => {
        checkModuleVersion(path, version);
        assert.equal(canonicalModuleVersion(version), version);
      }),
    );
  });

  it('raises only bad_module_path or bad_version, and accepts only canonical semantic versions', () => {
    fc.assert(
      fc.property(
        fc.oneof(modulePathArb, noiseString),
        fc.oneof(
          noiseString,
          semverArb(),
          fc.tuple(moduleVersionArb, editsArb).map(([mv, e]) => mutateString(mv.version, e)),
        ),
        (path, version) => {
          const r = attemptWithCodes(VERSION_CODES, () => checkModuleVersion(path, version));
          if (r.ok) {
            assert.ok(isValidSemver(version));
            assert.equal(canonicalModuleVersion(version), version);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** Independent oracle for a 14-digit UTC timestamp: the calendar must give the same fields back. */
function realTime(ts: string): boolean {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(ts.slice(i, k === 0 ? 4 : i + 2)));
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h!, mi!, s!);
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo! - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s
  );
}

describe('pseudo-versions', () => {
  it('split back into the tag, time and revision they were made from', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.option(semverArb(), { freq: 3 }),
        timestampArb,
        revArb,
        (major, older, ts, rev) => {
          const v = pseudoVersion(major, older, ts, rev);
          assert.ok(isPseudoVersion(v), v);
          const p = parsePseudoVersion(v);
          assert.ok(p !== null);
          assert.equal(p.timestamp, ts);
          assert.equal(p.rev, rev);
          assert.equal(p.build, '');
          assert.deepEqual(pseudoVersionBase(v), { base: older ?? '' });
        },
      ),
    );
  });

  it('judge timestamps as the calendar does', () => {
    const digits14 = fc.stringMatching(/^[0-9]{14}$/);
    fc.assert(
      fc.property(fc.oneof(digits14, timestampArb), (ts) => {
        assert.equal(isValidPseudoTimestamp(ts), realTime(ts), ts);
      }),
    );
  });

  it('never throw on arbitrary strings', () => {
    fc.assert(
      fc.property(noiseString, (s) => {
        const r = attempt(() => [isPseudoVersion(s), parsePseudoVersion(s), pseudoVersionBase(s)] as const);
        assert.ok(r.ok);
        if (r.value[1] !== null) assert.ok(r.value[0]);
      }),
    );
  });
});

/** A glob that matches `s` literally: every character escaped with a backslash. */
function escapedGlob(s: string): string {
  return Array.from(s, (c) => '\\' + c).join('');
}

describe('globMatch and matchPrefixPatterns', () => {
  it('never throw, whatever the patterns and targets', () => {
    const globText = fc.stringMatching(/^[a-z*?[\]\\^\-/,.]{0,20}$/);
    fc.assert(
      fc.property(fc.oneof(noiseString, globText), fc.oneof(noiseString, modulePathArb), (g, t) => {
        const r = attempt(() => [globMatch(g, t), matchPrefixPatterns(g, t)]);
        assert.ok(r.ok);
      }),
      { numRuns: 200 },
    );
  });

  it('a literal module path, plain or escaped, matches itself and every path below it, and no sibling', () => {
    fc.assert(
      fc.property(modulePathArb, fc.stringMatching(/^[a-z0-9]{1,8}(\/[a-z0-9]{1,8}){0,2}$/), (p, below) => {
        const literal = /[*?[\\,]/.test(p) ? escapedGlob(p) : p;
        for (const glob of [literal, escapedGlob(p), `x.example,${literal}`, `${literal}/`]) {
          assert.ok(matchPrefixPatterns(glob, p), `${glob} vs ${p}`);
          assert.ok(matchPrefixPatterns(glob, `${p}/${below}`), `${glob} vs ${p}/${below}`);
          assert.equal(matchPrefixPatterns(glob, `${p}x`), false, `${glob} vs ${p}x`);
        }
        assert.ok(globMatch(escapedGlob(p), p));
      }),
    );
  });

  it('"*" matches exactly the names without "/", and "?" exactly the one-character ones', () => {
    fc.assert(
      fc.property(fc.oneof(noiseString, fc.stringMatching(/^[a-z/]{0,4}$/)), (s) => {
        assert.equal(globMatch('*', s), !s.includes('/'));
        assert.equal(globMatch('?', s), Array.from(s).length === 1 && s !== '/');
      }),
    );
  });
});
