import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError, type ErrorCode } from '../../src/core/errors.ts';
import {
  canonicalModuleVersion,
  checkFilePath,
  checkImportPath,
  checkModuleVersion,
  checkPath,
  checkPathMajor,
  escapePath,
  escapeVersion,
  globMatch,
  isPseudoVersion,
  isValidPseudoTimestamp,
  matchPrefixPatterns,
  pseudoVersionBase,
  splitPathVersion,
  unescapePath,
  unescapeVersion,
} from '../../src/core/module.ts';
import { oracle, pick, randomString, rng, type OracleRequest } from './xmod-oracle.ts';
import { caught } from '../helpers/errors.ts';

function passes(f: () => unknown): boolean {
  return caught(f) === null;
}

function assertFails(f: () => unknown, code: ErrorCode, reason?: RegExp): SumkeepError {
  const e = caught(f);
  assert.ok(e !== null, 'expected a SumkeepError');
  assert.equal(e.code, code, e.message);
  if (reason !== undefined) assert.match(e.message, reason);
  assert.ok(!/[\n\r]/.test(e.message), `message is one line: ${JSON.stringify(e.message)}`);
  return e;
}

// [path, valid module path, valid import path, valid file path]
const PATH_CASES: [string, boolean, boolean, boolean][] = [
  ['x.y/z', true, true, true],
  ['x.y', true, true, true],
  ['', false, false, false],
  ['x.y/\ud800z', false, false, false],
  ['x.y/z\udc00', false, false, false],
  ['/x.y/z', false, false, false],
  ['x./z', false, false, false],
  ['.x/z', false, true, true],
  ['-x/z', false, false, true],
  ['x..y/z', true, true, true],
  ['x.y/z/../../w', false, false, false],
  ['x.y//z', false, false, false],
  ['x.y/z//w', false, false, false],
  ['x.y/z/', false, false, false],
  ['x.y/z/v0', false, true, true],
  ['x.y/z/v1', false, true, true],
  ['x.y/z/v2', true, true, true],
  ['x.y/z/v2.0', false, true, true],
  ['x.y/z/v02', false, true, true],
  ['X.y/z', false, true, true],
  ['!x.y/z', false, false, true],
  ['_x.y/z', false, true, true],
  ['x.y!/z', false, false, true],
  ['x.y"/z', false, false, false],
  ['x.y#/z', false, false, true],
  ["x.y'/z", false, false, false],
  ['x.y*/z', false, false, false],
  ['x.y+/z', false, true, true],
  ['x.y,/z', false, false, true],
  ['x.y-/z', true, true, true],
  ['x.y:/z', false, false, false],
  ['x.y</z', false, false, false],
  ['x.y=/z', false, false, true],
  ['x.y?/z', false, false, false],
  ['x.y@/z', false, false, true],
  ['x.y\\/z', false, false, false],
  ['x.y`/z', false, false, false],
  ['x.y|/z', false, false, false],
  ['x.y~/z', false, true, true],
  ['x.y/z++', false, true, true],
  ['x.y/z.t', true, true, true],
  ['x.y/z/t', true, true, true],
  ['x.y/z_', true, true, true],
  ['x.y/z~', true, true, true],
  ['x.y/z~0', false, false, true],
  ['x.y/z~09', false, false, true],
  ['x.y/z09~', true, true, true],
  ['x.y/z09~09z', true, true, true],
  ['x.y/z09~09z~09', false, false, true],
  ['x.y/x.foo', true, true, true],
  ['x.y/aux.foo', false, false, false],
  ['x.y/AUX.foo', false, false, false],
  ['x.y/prn', false, false, false],
  ['x.y/Prn', false, false, false],
  ['x.y/prn2', true, true, true],
  ['x.y/com', true, true, true],
  ['x.y/com1', false, false, false],
  ['x.y/cOm1.txt', false, false, false],
  ['x.y/lpt9', false, false, false],
  ['x.y/lpt0', true, true, true],
  ['x.y/calm1', true, true, true],
  ['x.y/nul.tar.gz', false, false, false],
  ['github.com/!123/logrus', false, false, true],
  ['github.com/user/unicode/\u0438\u0441\u043f\u044b\u0442\u0430\u043d\u0438\u0435', false, false, true],
  ['../x', false, false, false],
  ['./y', false, false, false],
  ['x:y', false, false, false],
  ['\\temp\\foo', false, false, false],
  ['.gitignore', false, true, true],
  ['.github/ISSUE_TEMPLATE', false, true, true],
  ['x\u263ay', false, false, false],
  // real-world module paths
  ['github.com/Azure/go-autorest', true, true, true],
  ['github.com/Azure/go-autorest/autorest/v14', true, true, true],
  ['gopkg.in/yaml.v2', true, true, true],
  ['gopkg.in/yaml', false, true, true],
  ['golang.org/x/mod', true, true, true],
  ['golang.org/toolchain', true, true, true],
  ['rsc.io/quote/v3', true, true, true],
  ['localhost', false, true, true],
  ['corp.internal:8080/x', false, false, false],
  // Unicode: letters only in file paths, and no case folding into Windows names
  ['x.y/\u00e9t\u00e9.go', false, false, true],
  ['x.y/\u212a', false, false, true], // KELVIN SIGN, a letter that case-folds to k
  ['x.y/\uff23\uff2f\uff2e', false, false, true], // fullwidth CON is not CON
  ['x.y/\u{1d518}', false, false, true], // a letter outside the BMP (surrogate pair in UTF-16)
  ['x.y/\u00e9\u0301', false, false, false], // combining mark: not a letter
  ['x.y/\ufeffgo.mod', false, false, false], // byte-order mark
  ['x.y/a\u200eb', false, false, false], // left-to-right mark
  ['x.y/\u2028', false, false, false],
  ['x.y/a b', false, false, true],
  ['x.y/a\tb', false, false, false],
  ['x.y/a\u0000b', false, false, false],
  ['x.y/a\nb', false, false, false],
  ['x.y/...', false, false, false],
  ['x.y/.../a', false, false, false],
  ['x.y/a.', false, false, false],
];

describe('checkPath, checkImportPath, checkFilePath', () => {
  for (const [path, mod, imp, file] of PATH_CASES) {
    it(`judges ${JSON.stringify(path)} as module=${mod} import=${imp} file=${file}`, () => {
      assert.equal(
        passes(() => checkPath(path)),
        mod,
        'checkPath',
      );
      assert.equal(
        passes(() => checkImportPath(path)),
        imp,
        'checkImportPath',
      );
      assert.equal(
        passes(() => checkFilePath(path)),
        file,
        'checkFilePath',
      );
    });
  }

  const REASONS: [(p: string) => void, string, RegExp][] = [
    [checkPath, 'a/b', /^a\/b: missing dot in first path element$/],
    [checkPath, 'Example.com/x', /^Example\.com\/x: invalid char 'E' in first path element$/],
    [checkPath, 'example.com/x/v1', /^example\.com\/x\/v1: invalid version: .*N >= 2/],
    [checkPath, 'gopkg.in/yaml', /^gopkg\.in\/yaml: invalid version: gopkg\.in paths must end in \.vN/],
    [checkPath, 'x.y/.z', /leading dot in path element/],
    [checkPath, '-x.y', /leading dash/],
    [checkPath, 'x.y/z~1', /trailing tilde and digits/],
    [checkFilePath, 'a//b', /^a\/\/b: double slash$/],
    [checkFilePath, 'a/', /trailing slash/],
    [checkFilePath, 'a/com1.txt', /com1 disallowed as path element component on Windows/],
    [checkFilePath, 'a/x:y', /invalid char ':'$/],
    [checkFilePath, 'a/\u263a', /invalid char U\+263A$/],
    [checkFilePath, 'a/\ud800', /invalid UTF-8/],
    [checkFilePath, '', /^"": empty string$/],
    [checkFilePath, 'a/..', /invalid path element \.\./],
  ];
  for (const [f, path, re] of REASONS) {
    it(`${f.name} names the rule ${JSON.stringify(path)} breaks`, () => {
      assertFails(() => f(path), 'bad_module_path', re);
    });
  }

  it('never echoes control characters or megabytes of a hostile path', () => {
    const e1 = assertFails(
      () => checkFilePath('a/b\nc'),
      'bad_module_path',
      /^"a\/b\\nc": invalid char U\+000A$/,
    );
    assert.ok(e1.message.length < 100);
    const e2 = assertFails(
      () => checkPath('x.y/' + 'a'.repeat(1 << 20) + '\u0000'),
      'bad_module_path',
      /invalid char U\+0000/,
    );
    assert.ok(e2.message.length < 400, 'message is cut');
    const e3 = assertFails(() => checkFilePath('\u202eevil'), 'bad_module_path');
    assert.ok(e3.message.startsWith('"\u202eevil"') || e3.message.startsWith('"\\u202e'), e3.message);
  });
});

describe('splitPathVersion', () => {
  const CASES: [string, { prefix: string; pathMajor: string } | null][] = [
    ['x.y/z', { prefix: 'x.y/z', pathMajor: '' }],
    ['x.y/z/v2', { prefix: 'x.y/z', pathMajor: '/v2' }],
    ['x.y/z/v3', { prefix: 'x.y/z', pathMajor: '/v3' }],
    ['x.y/v', { prefix: 'x.y/v', pathMajor: '' }],
    ['x.y/z/v1', null],
    ['x.y/z/v0', null],
    ['x.y/z/v02', null],
    ['x.y/z/v2.1', null],
    [
      'x.y/z/v123456789012345678901234567890',
      { prefix: 'x.y/z', pathMajor: '/v123456789012345678901234567890' },
    ],
    ['x.y/zv2', { prefix: 'x.y/zv2', pathMajor: '' }],
    ['x.y/z.v2', { prefix: 'x.y/z.v2', pathMajor: '' }],
    ['gopkg.in/yaml.v0', { prefix: 'gopkg.in/yaml', pathMajor: '.v0' }],
    ['gopkg.in/yaml.v1', { prefix: 'gopkg.in/yaml', pathMajor: '.v1' }],
    ['gopkg.in/yaml.v2', { prefix: 'gopkg.in/yaml', pathMajor: '.v2' }],
    ['gopkg.in/yaml.v3', { prefix: 'gopkg.in/yaml', pathMajor: '.v3' }],
    ['gopkg.in/yaml.v2-unstable', { prefix: 'gopkg.in/yaml', pathMajor: '.v2-unstable' }],
    ['gopkg.in/user/pkg.v3', { prefix: 'gopkg.in/user/pkg', pathMajor: '.v3' }],
    ['gopkg.in/yaml', null],
    ['gopkg.in/yaml.v02', null],
    ['gopkg.in/yaml/v2', null],
  ];
  for (const [path, want] of CASES) {
    it(`splits ${path}`, () => {
      const got = splitPathVersion(path);
      assert.deepEqual(got, want);
      if (got !== null) assert.equal(got.prefix + got.pathMajor, path);
    });
  }
});

describe('checkPathMajor', () => {
  const CASES: [string, string, boolean][] = [
    ['v0.0.0', '', true],
    ['v1.9.0', '', true],
    ['v0.0.0', '/v2', false],
    ['v0.0.0', '.v0', true],
    ['v0.0.0-20190510104115-cbcb75029529', '.v1', true],
    ['v1.0.0', '/v2', false],
    ['v1.0.0', '.v1', true],
    ['v1.0.0', '.v1-unstable', true],
    ['v2.0.0+incompatible', '', true],
    ['v14.2.0+incompatible', '', true],
    ['v2.0.0', '', false],
    ['v2.0.0', '/v2', true],
    ['v2.0.0', '.v2', true],
    ['v3.0.0', '/v2', false],
    ['bad', '', false],
  ];
  for (const [v, pm, ok] of CASES) {
    it(`${ok ? 'accepts' : 'refuses'} ${v} for ${JSON.stringify(pm)}`, () => {
      if (ok) checkPathMajor(v, pm);
      else assertFails(() => checkPathMajor(v, pm), 'bad_version');
    });
  }
  it('says what the major version should be', () => {
    assertFails(() => checkPathMajor('v3.0.0', '/v2'), 'bad_version', /^v3\.0\.0: should be v2, not v3$/);
    assertFails(() => checkPathMajor('v2.0.0', ''), 'bad_version', /should be v0 or v1, not v2$/);
  });
});

describe('checkModuleVersion', () => {
  const OK: [string, string][] = [
    ['rsc.io/quote', 'v1.5.2'],
    ['github.com/Azure/go-autorest', 'v14.2.0+incompatible'],
    ['github.com/Azure/go-autorest', 'v10.15.5-0.20180830183815-d4e6b95c12a0+incompatible'],
    ['golang.org/x/sys', 'v0.0.0-20191109021931-daa7c04131f5'],
    ['example.com/m', 'v1.2.4-0.20191109021931-daa7c04131f5'],
    ['example.com/m', 'v1.2.3-pre.0.20191109021931-daa7c04131f5'],
    ['example.com/m/v2', 'v2.0.0-20191109021931-daa7c04131f5'],
    ['example.com/m/v2', 'v2.1.0'],
    ['example.com/m/v2', 'v2.0.0-rc.1'],
    ['example.com/m', 'v1.0.0-rc.1'],
    ['gopkg.in/yaml.v2', 'v2.4.0'],
    ['gopkg.in/check.v1', 'v0.0.0-20161208181325-20d25e280405'],
    ['gopkg.in/check.v1', 'v1.0.0-20201130134442-10cb98267c6c'],
    ['gopkg.in/yaml.v0', 'v0.8.0'],
    ['golang.org/toolchain', 'v0.0.1-go1.21.0.linux-amd64'],
    ['example.com/m', 'v0.0.0-20200229235959-0123456789ab'], // leap day
    ['example.com/m', 'v123456789012345678901234567890.0.0+incompatible'],
  ];
  for (const [p, v] of OK) {
    it(`accepts ${p}@${v}`, () => checkModuleVersion(p, v));
  }

  const BAD: [string, string, ErrorCode, RegExp][] = [
    ['rsc io/quote', 'v1.0.0', 'bad_module_path', /^rsc io\/quote: invalid char U\+0020$/],
    [
      'github.com/Azure/go-autorest',
      'v14.2.0',
      'bad_version',
      /should be v0 or v1, not v14.*needs \+incompatible/,
    ],
    ['rsc.io/quote', 'latest', 'bad_version', /not a semantic version/],
    ['rsc.io/quote', '0.1.0', 'bad_version', /not a semantic version/],
    ['rsc.io/quote', 'v1.5', 'bad_version', /not canonical \(want v1\.5\.0\)/],
    ['rsc.io/quote', 'v1', 'bad_version', /not canonical \(want v1\.0\.0\)/],
    ['rsc.io/quote', 'v1.5.2+meta', 'bad_version', /build metadata \+meta is not allowed/],
    ['rsc.io/quote', 'v1.5.2+incompatible', 'bad_version', /major version v1 is compatible/],
    ['rsc.io/quote', 'v0.1.0+incompatible', 'bad_version', /major version v0 is compatible/],
    ['rsc.io/quote/v3', 'v3.0.0+incompatible', 'bad_version', /includes a major version suffix/],
    ['gopkg.in/yaml.v2', 'v2.4.0+incompatible', 'bad_version', /includes a major version suffix/],
    ['gopkg.in/yaml.v2', 'v3.0.0', 'bad_version', /should be v2, not v3/],
    ['gopkg.in/yaml.v1', 'v0.8.0', 'bad_version', /should be v1, not v0/],
    ['example.com/m/v2', 'v1.0.0', 'bad_version', /should be v2, not v1/],
    ['example.com/m/v2', 'v3.0.0', 'bad_version', /should be v2, not v3/],
    [
      'example.com/m',
      'v1.0.0-20191109021931-daa7c04131f5',
      'bad_version',
      /without preceding tag must be v0, not v1/,
    ],
    ['example.com/m', 'v0.0.0-20191309021931-daa7c04131f5', 'bad_version', /malformed time 20191309021931/],
    ['example.com/m', 'v0.0.0-20190229000000-daa7c04131f5', 'bad_version', /malformed time/],
    ['example.com/m', 'v0.0.0-20191109240000-daa7c04131f5', 'bad_version', /malformed time/],
    ['example.com/m', 'v0.0.0-20191109235960-daa7c04131f5', 'bad_version', /malformed time/],
    ['example.com/m', 'v1.2.0-0.20191109021931-daa7c04131f5', 'bad_version', /negative patch number/],
    ['example.com/m', 'v1.2.3\u0000', 'bad_version', /not a semantic version/],
    ['example.com/m', '', 'bad_version', /not a semantic version/],
    ['example.com/m/v1', 'v1.0.0', 'bad_module_path', /invalid version/],
    ['Example.com/m', 'v1.0.0', 'bad_module_path', /first path element/],
  ];
  for (const [p, v, code, re] of BAD) {
    it(`refuses ${JSON.stringify(p + '@' + v)} (${code})`, () => {
      assertFails(() => checkModuleVersion(p, v), code, re);
    });
  }

  it('names the module version in front of the reason', () => {
    assertFails(
      () => checkModuleVersion('rsc.io/quote', 'v1.5'),
      'bad_version',
      /^rsc\.io\/quote@v1\.5: invalid version: not canonical \(want v1\.5\.0\)$/,
    );
  });

  it('keeps +incompatible in the canonical module version', () => {
    assert.equal(canonicalModuleVersion('v2.0.0+incompatible'), 'v2.0.0+incompatible');
    assert.equal(canonicalModuleVersion('v2.0+incompatible'), '');
    assert.equal(canonicalModuleVersion('v2.0.0+meta'), 'v2.0.0');
    assert.equal(canonicalModuleVersion('v2'), 'v2.0.0');
    assert.equal(canonicalModuleVersion('x'), '');
  });
});

describe('isPseudoVersion and pseudoVersionBase', () => {
  // [version, is pseudo, base ('!' = no base: invalid)]
  const CASES: [string, boolean, string][] = [
    ['v0.0.0-20191109021931-daa7c04131f5', true, ''],
    ['v1.2.4-0.20191109021931-daa7c04131f5', true, 'v1.2.3'],
    ['v1.2.3-pre.0.20191109021931-daa7c04131f5', true, 'v1.2.3-pre'],
    ['v1.3.0-pre.0.20060102150405-hash', true, 'v1.3.0-pre'],
    ['v0.0.0--.0.20060102150405-hash', true, 'v0.0.0--'],
    ['v1.0.1-0.20060102150405-hash+metadata', true, 'v1.0.0+metadata'],
    ['v1.2.100000000000000000-0.20060102150405-hash', true, 'v1.2.99999999999999999'],
    ['v1.2.10-0.20060102150405-hash', true, 'v1.2.9'],
    ['v1.2.0-0.20060102150405-hash', true, '!'],
    ['v0.0.0-20060102150405-hash+meta', true, '!'],
    ['v2.0.0-20191109021931-daa7c04131f5', true, ''],
    ['v1.2.3', false, '!'],
    ['v1.2.3-rc.1', false, '!'],
    ['v0.0.0-2019110902193-daa7c04131f5', false, '!'], // 13 digits
    ['v0.0.0-20191109021931-', false, '!'],
    ['v0.0.0-20191109021931-daa7c04131f5!', false, '!'],
    ['v0.0.1-20191109021931-daa7c04131f5', false, '!'],
    ['v1.2.3-0.20191109021931', false, '!'],
    ['v0.0.0-20191109021931-daa7c04131f5+incompatible', true, '!'],
  ];
  for (const [v, pseudo, base] of CASES) {
    it(`reads ${v}`, () => {
      assert.equal(isPseudoVersion(v), pseudo);
      const b = pseudoVersionBase(v);
      if (base === '!') assert.ok('problem' in b, JSON.stringify(b));
      else assert.deepEqual(b, { base });
    });
  }

  it('checks pseudo-version timestamps as real UTC times', () => {
    const cases: [string, boolean][] = [
      ['20060102150405', true],
      ['20000229000000', true],
      ['19000229000000', false],
      ['21000228235959', true],
      ['20231131000000', false],
      ['20231200000000', false],
      ['20230001000000', false],
      ['20231301000000', false],
      ['00000101000000', true],
      ['2023010100000', false],
      ['2023010100000a', false],
    ];
    for (const [ts, ok] of cases) assert.equal(isValidPseudoTimestamp(ts), ok, ts);
  });
});

describe('escapePath and unescapePath', () => {
  const CASES: [string, string][] = [
    [
      'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789',
      'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789',
    ],
    ['github.com/GoogleCloudPlatform/omega', 'github.com/!google!cloud!platform/omega'],
    ['github.com/Azure/go-autorest', 'github.com/!azure/go-autorest'],
    ['github.com/Sirupsen/logrus', 'github.com/!sirupsen/logrus'],
    ['example.com/ABC/v2', 'example.com/!a!b!c/v2'],
  ];
  for (const [path, esc] of CASES) {
    it(`escapes ${path} as ${esc} and back`, () => {
      assert.equal(escapePath(path), esc);
      assert.equal(unescapePath(esc), path);
    });
  }

  const BAD_UNESCAPE = [
    'github.com/GoogleCloudPlatform/omega',
    'github.com/!google!cloud!platform!/omega',
    'github.com/!0google!cloud!platform/omega',
    'github.com/!_google!cloud!platform/omega',
    'github.com/!!google!cloud!platform/omega',
    'github.com/x!',
    'github.com/\u00e9',
    'github.com/!\u212a', // Kelvin sign is not an escaped k
    '',
    'github.com/x/v1',
    'x/y',
    'github.com/!\ud800',
  ];
  for (const esc of BAD_UNESCAPE) {
    it(`refuses to unescape ${JSON.stringify(esc)}`, () => {
      assertFails(() => unescapePath(esc), 'bad_module_path');
    });
  }

  it('refuses to escape an invalid module path', () => {
    assertFails(() => escapePath('github.com/x!y'), 'bad_module_path');
    assertFails(() => escapePath('github.com/\u212a'), 'bad_module_path');
    assertFails(() => escapePath('Github.com/x'), 'bad_module_path');
  });

  it('round-trips random valid paths with upper case', () => {
    const r = rng(11);
    let n = 0;
    for (let i = 0; i < 3000; i++) {
      const elems = ['ex' + randomString(r, 'abc09-.', Math.floor(r() * 5)) + '.com'];
      const k = 1 + Math.floor(r() * 4);
      for (let j = 0; j < k; j++) elems.push(randomString(r, 'aAbBzZ09-._~', 1 + Math.floor(r() * 8)));
      const path = elems.join('/');
      if (!passes(() => checkPath(path))) continue;
      n++;
      const esc = escapePath(path);
      assert.ok(!/[A-Z]/.test(esc), esc);
      assert.equal(unescapePath(esc), path);
      // Escaping makes case-different paths different without relying on case.
      assert.equal(esc.toLowerCase(), esc);
    }
    assert.ok(n > 1000, `only ${n} valid paths generated`);
  });
});

describe('escapeVersion and unescapeVersion', () => {
  const CASES: [string, string][] = [
    ['v1.2.3', 'v1.2.3'],
    ['v1.0.0-RC1', 'v1.0.0-!r!c1'],
    ['v14.2.0+incompatible', 'v14.2.0+incompatible'],
    ['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20191109021931-daa7c04131f5'],
    ['latest', 'latest'],
    ['master', 'master'],
  ];
  for (const [v, esc] of CASES) {
    it(`escapes ${v} as ${esc} and back`, () => {
      assert.equal(escapeVersion(v), esc);
      assert.equal(unescapeVersion(esc), v);
    });
  }
  const BAD_ESCAPE = ['', 'v1!', 'a/b', 'v1.0.', '..', 'con', 'v1\u0000', 'v\u00e9', 'v1 :x', '\ud800'];
  for (const v of BAD_ESCAPE) {
    it(`refuses to escape ${JSON.stringify(v)}`, () => {
      assertFails(() => escapeVersion(v), 'bad_version');
    });
  }
  const BAD_UNESCAPE = ['v1.0.0-RC1', 'v1!', '!', '!!a', 'a/b', '', 'v\u00e9', 'nul.x', '..'];
  for (const v of BAD_UNESCAPE) {
    it(`refuses to unescape ${JSON.stringify(v)}`, () => {
      assertFails(() => unescapeVersion(v), 'bad_version');
    });
  }

  it('round-trips random ASCII versions', () => {
    const r = rng(12);
    let n = 0;
    for (let i = 0; i < 3000; i++) {
      const v = randomString(r, 'vV0129.-+aAzZ~_', 1 + Math.floor(r() * 16));
      const e = caught(() => escapeVersion(v));
      if (e !== null) {
        assert.equal(e.code, 'bad_version');
        continue;
      }
      n++;
      assert.equal(unescapeVersion(escapeVersion(v)), v);
    }
    assert.ok(n > 1000, `only ${n} valid versions generated`);
  });
});

describe('matchPrefixPatterns', () => {
  const CASES: [string, string, boolean][] = [
    ['', 'rsc.io/quote', false],
    ['/', 'rsc.io/quote', false],
    ['*/quote', 'rsc.io/quote', true],
    ['*/quo', 'rsc.io/quote', false],
    ['*/quo??', 'rsc.io/quote', true],
    ['*/quo*', 'rsc.io/quote', true],
    ['*quo*', 'rsc.io/quote', false],
    ['rsc.io', 'rsc.io/quote', true],
    ['*.io', 'rsc.io/quote', true],
    ['rsc.io/', 'rsc.io/quote', true],
    ['rsc', 'rsc.io/quote', false],
    ['rsc*', 'rsc.io/quote', true],
    ['rsc.io', 'rsc.io/quote/v3', true],
    ['*/quote', 'rsc.io/quote/v3', true],
    ['*/quote/', 'rsc.io/quote/v3', true],
    ['*/quote/*', 'rsc.io/quote/v3', true],
    ['*/v3', 'rsc.io/quote/v3', false],
    ['*/*/v3', 'rsc.io/quote/v3', true],
    ['*/*/*', 'rsc.io/quote', false],
    ['*/*/*,,', 'rsc.io/quote', false],
    ['*/*/*,,*/quote', 'rsc.io/quote', true],
    [',,*/quote', 'rsc.io/quote', true],
    ['corp.example.com,github.com/corp', 'github.com/corp/lib/v2', true],
    ['corp.example.com,github.com/corp', 'github.com/corporate/lib', false],
    ['*.corp.example.com', 'git.corp.example.com/x', true],
    ['*.corp.example.com', 'corp.example.com/x', false],
    ['[a-c]sc.io', 'rsc.io/x', false],
    ['[p-s]sc.io', 'rsc.io/x', true],
    ['[^r]sc.io', 'rsc.io/x', false],
    ['\\rsc.io', 'rsc.io/x', true],
    ['[', 'rsc.io/x', false], // malformed: never matches
    ['rsc.io\\', 'rsc.io', false],
    ['[]a]', ']', false],
    ['?', 'x', true],
    ['?', '\u00e9', true],
  ];
  for (const [globs, target, want] of CASES) {
    it(`${want ? 'matches' : 'does not match'} ${JSON.stringify(globs)} against ${target}`, () => {
      assert.equal(matchPrefixPatterns(globs, target), want);
    });
  }
  it('stays fast on many stars', () => {
    const t0 = performance.now();
    assert.equal(globMatch('*a'.repeat(200) + 'b', 'a'.repeat(5000)), false);
    assert.ok(performance.now() - t0 < 3000);
  });
});

describe('module functions on hostile input', () => {
  const fns: [string, (s: string) => unknown][] = [
    ['checkPath', checkPath],
    ['checkImportPath', checkImportPath],
    ['checkFilePath', checkFilePath],
    ['escapePath', escapePath],
    ['unescapePath', unescapePath],
    ['escapeVersion', escapeVersion],
    ['unescapeVersion', unescapeVersion],
    ['checkModuleVersion(path)', (s) => checkModuleVersion(s, 'v1.0.0')],
    ['checkModuleVersion(version)', (s) => checkModuleVersion('example.com/m', s)],
    ['checkPathMajor', (s) => checkPathMajor(s, '/v2')],
    ['splitPathVersion', splitPathVersion],
    ['isPseudoVersion', isPseudoVersion],
    ['pseudoVersionBase', pseudoVersionBase],
    ['matchPrefixPatterns', (s) => matchPrefixPatterns(s, s)],
  ];
  const big = [
    'x.y/' + 'a'.repeat(1 << 20),
    'x.y/' + 'A/'.repeat(1 << 19) + 'b',
    '!'.repeat(1 << 20),
    'v0.0.0-' + '1.'.repeat(1 << 19) + '0.20191109021931-abc',
    'v1.2.4-' + '0.'.repeat(1 << 19) + '20191109021931-abc',
    'v' + '9'.repeat(1 << 20) + '.0.0',
    '\u0000'.repeat(1 << 16),
    '\ud800'.repeat(1000),
    '\udc00\ud800',
    '[' + '*'.repeat(1 << 12),
    '*?'.repeat(1 << 10),
  ];
  for (const [name, f] of fns) {
    it(`${name} throws only SumkeepError on random and huge input`, () => {
      const r = rng(name.length * 7919);
      const t0 = performance.now();
      for (const s of big) caught(() => f(s));
      for (let i = 0; i < 2000; i++) {
        let s = '';
        const n = Math.floor(r() * 24);
        for (let k = 0; k < n; k++) {
          s +=
            r() < 0.5
              ? pick(r, ['x.y/', 'v1', '.', '-', '!', 'A', '/', '~1', '+', '\u212a'])
              : String.fromCharCode(Math.floor(r() * 0x10000));
        }
        caught(() => f(s));
      }
      assert.ok(performance.now() - t0 < 10_000, 'hostile input took too long');
    });
  }
});

/** Inputs for the differential run: near-valid paths, versions, globs. */
function corpus(seed: number): { paths: string[]; versions: string[]; globs: [string, string][] } {
  const r = rng(seed);
  const paths: string[] = PATH_CASES.map((c) => c[0]).filter((p) => p.isWellFormed());
  const elemChars = 'abzAZ09-._~+!@ ,:\u00e9\u212a\u0301';
  for (let i = 0; i < 4000; i++) {
    const parts: string[] = [];
    const first = pick(r, ['x.y', 'gopkg.in', 'github.com', 'a', 'Ex.com', '-x.y', '.x', 'x.', '']);
    parts.push(first);
    const k = Math.floor(r() * 4);
    for (let j = 0; j < k; j++) {
      parts.push(
        r() < 0.3
          ? pick(r, [
              'v1',
              'v2',
              'v02',
              'v2.0',
              'yaml.v2',
              'yaml.v0',
              'yaml.v1-unstable',
              'con',
              'Com1.x',
              'a~1',
              '..',
              '.',
            ])
          : randomString(r, elemChars, Math.floor(r() * 6)),
      );
    }
    paths.push(parts.join('/'));
  }
  const versions: string[] = [];
  const digits = (n: number): string => randomString(r, '0123456789', n);
  for (let i = 0; i < 3000; i++) {
    const major = pick(r, ['0', '1', '2', '14']);
    const ts = pick(r, ['20191109021931', '20190229000000', '20201301000000', '2019110902193', digits(14)]);
    const rev = pick(r, ['daa7c04131f5', 'abc', 'ABC', '', 'x-y']);
    const suffix = pick(r, ['', '', '+incompatible', '+meta', '+']);
    versions.push(
      pick(r, [
        `v${major}.0.0-${ts}-${rev}${suffix}`,
        `v${major}.2.${pick(r, ['0', '1', '10', '100'])}-0.${ts}-${rev}${suffix}`,
        `v${major}.2.3-${pick(r, ['pre', 'rc.1', '0', 'a.b'])}.0.${ts}-${rev}${suffix}`,
        `v${major}.${digits(1)}.${digits(1)}${suffix}`,
        randomString(r, 'v0129.-+aAzZ!~_ /', 1 + Math.floor(r() * 12)),
        `v0.0.0-${ts}-${rev}`,
      ]),
    );
  }
  const globs: [string, string][] = [];
  for (let i = 0; i < 6000; i++) {
    globs.push([
      randomString(r, 'aabb***?[]^-\\/,', Math.floor(r() * 7)),
      randomString(r, 'aab/\u00e9', Math.floor(r() * 6)),
    ]);
  }
  return { paths, versions, globs };
}

describe('module rules against Go golang.org/x/mod/module', () => {
  const o = oracle();
  const skip = 'skip' in o ? o.skip : false;

  it('agrees on every path check, split, escape and unescape', { skip }, () => {
    if ('skip' in o) return;
    const { paths } = corpus(21);
    const escaped = paths.map((p) => p.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase()));
    const reqs: OracleRequest[] = [];
    for (const p of paths) {
      for (const op of [
        'checkPath',
        'checkImportPath',
        'checkFilePath',
        'splitPathVersion',
        'escapePath',
        'unescapePath',
      ]) {
        reqs.push({ op, a: p });
      }
    }
    for (const e of escaped) reqs.push({ op: 'unescapePath', a: e });
    const got = o.run(reqs);
    let k = 0;
    for (const p of paths) {
      const m = `path ${JSON.stringify(p)}`;
      assert.equal(
        passes(() => checkPath(p)),
        got[k++],
        `checkPath ${m}`,
      );
      assert.equal(
        passes(() => checkImportPath(p)),
        got[k++],
        `checkImportPath ${m}`,
      );
      assert.equal(
        passes(() => checkFilePath(p)),
        got[k++],
        `checkFilePath ${m}`,
      );
      const [gp, gm, gok] = got[k++] as [string, string, boolean];
      const s = splitPathVersion(p);
      assert.deepEqual(s, gok ? { prefix: gp, pathMajor: gm } : null, `splitPathVersion ${m}`);
      const [ge, geok] = got[k++] as [string, boolean];
      const e = caught(() => escapePath(p));
      assert.equal(e === null, geok, `escapePath ${m}`);
      if (geok) assert.equal(escapePath(p), ge);
      const [gu, guok] = got[k++] as [string, boolean];
      assert.equal(
        passes(() => unescapePath(p)),
        guok,
        `unescapePath ${m}`,
      );
      if (guok) assert.equal(unescapePath(p), gu);
    }
    for (const esc of escaped) {
      const [gu, guok] = got[k++] as [string, boolean];
      assert.equal(
        passes(() => unescapePath(esc)),
        guok,
        `unescapePath ${JSON.stringify(esc)}`,
      );
      if (guok) assert.equal(unescapePath(esc), gu);
    }
  });

  it('agrees on pseudo-versions, version escaping and major-version matching', { skip }, () => {
    if ('skip' in o) return;
    const { versions } = corpus(22);
    const majors = ['', '/v2', '.v0', '.v1', '.v2', '.v1-unstable', '/v14'];
    const reqs: OracleRequest[] = [];
    for (const v of versions) {
      reqs.push({ op: 'isPseudo', a: v }, { op: 'pseudoBase', a: v }, { op: 'pseudoTime', a: v });
      reqs.push({ op: 'escapeVersion', a: v }, { op: 'unescapeVersion', a: v });
      for (const pm of majors) reqs.push({ op: 'checkPathMajor', a: v, b: pm });
    }
    const got = o.run(reqs);
    let k = 0;
    let pseudo = 0;
    for (const v of versions) {
      const m = `version ${JSON.stringify(v)}`;
      const isP = isPseudoVersion(v);
      assert.equal(isP, got[k++], `isPseudoVersion ${m}`);
      if (isP) pseudo++;
      const [gb, gbok] = got[k++] as [string, boolean];
      const b = pseudoVersionBase(v);
      assert.deepEqual(b, gbok ? { base: gb } : b, `pseudoVersionBase ${m}`);
      assert.equal('base' in b, gbok, `pseudoVersionBase ok ${m}`);
      const parsedTime = got[k++] as boolean;
      if (isP) {
        const ts = /(\d{14})-[A-Za-z0-9]+(\+.*)?$/.exec(v)![1]!;
        assert.equal(isValidPseudoTimestamp(ts), parsedTime, `timestamp ${m}`);
      }
      const [ge, geok] = got[k++] as [string, boolean];
      assert.equal(
        passes(() => escapeVersion(v)),
        geok,
        `escapeVersion ${m}`,
      );
      if (geok) assert.equal(escapeVersion(v), ge);
      const [gu, guok] = got[k++] as [string, boolean];
      assert.equal(
        passes(() => unescapeVersion(v)),
        guok,
        `unescapeVersion ${m}`,
      );
      if (guok) assert.equal(unescapeVersion(v), gu);
      for (const pm of majors) {
        assert.equal(
          passes(() => checkPathMajor(v, pm)),
          got[k++],
          `checkPathMajor ${m} ${pm}`,
        );
      }
    }
    assert.ok(pseudo > 500, `only ${pseudo} pseudo-versions generated`);
  });

  it('agrees on glob matching and prefix patterns', { skip }, () => {
    if ('skip' in o) return;
    const { globs } = corpus(23);
    const reqs: OracleRequest[] = [];
    for (const [g, t] of globs) reqs.push({ op: 'pathMatch', a: g, b: t }, { op: 'matchPrefix', a: g, b: t });
    const got = o.run(reqs);
    let k = 0;
    let matched = 0;
    for (const [g, t] of globs) {
      const gm = got[k++] as boolean;
      if (gm) matched++;
      assert.equal(globMatch(g, t), gm, `path.Match(${JSON.stringify(g)}, ${JSON.stringify(t)})`);
      assert.equal(
        matchPrefixPatterns(g, t),
        got[k++],
        `MatchPrefixPatterns(${JSON.stringify(g)}, ${JSON.stringify(t)})`,
      );
    }
    assert.ok(matched > 100, `only ${matched} glob matches generated`);
  });
});
