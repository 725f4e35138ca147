import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CollisionChecker, decodeName, nameShapeProblem, prefixOf } from '../../src/zip/names.ts';

describe('decodeName', () => {
  const cases: Array<[string, number[], string | null]> = [
    ['ASCII', [0x61, 0x2f, 0x62], 'a/b'],
    ['two-byte UTF-8', [0xc3, 0xa9], '\u00e9'],
    ['four-byte UTF-8', [0xf0, 0x9d, 0x92, 0x9c], '\u{1D49C}'],
    ['a leading byte order mark is kept', [0xef, 0xbb, 0xbf, 0x61], '\ufeffa'],
    ['a lone continuation byte', [0x61, 0x80], null],
    ['an overlong "/"', [0xc0, 0xaf], null],
    ['an encoded surrogate', [0xed, 0xa0, 0x80], null],
    ['a truncated sequence', [0xe2, 0x82], null],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], null],
  ];
  for (const [name, bytes, want] of cases) {
    it(name, () => assert.equal(decodeName(new Uint8Array(bytes)), want));
  }
});

describe('nameShapeProblem', () => {
  const cases: Array<[string, string | null]> = [
    ['example.com/m@v1.0.0/a.go', null],
    ['example.com/m@v1.0.0/', null],
    ['example.com/m@v1.0.0/dir/', null],
    ['/example.com/m@v1.0.0/a.go', 'absolute path'],
    ['example.com/m@v1.0.0/../a.go', 'path traversal'],
    ['..', 'path traversal'],
    ['example.com/m@v1.0.0/a/../', 'path traversal'],
    ['example.com/m@v1.0.0/a\\b', 'backslash'],
    ['example.com/m@v1.0.0/./a', 'unclean path'],
    ['example.com/m@v1.0.0//a', 'unclean path'],
    ['example.com/m@v1.0.0/a//', 'unclean path'],
    ['', 'unclean path'],
    ['example.com/m@v1.0.0/...', null], // not a "." or ".." element (CheckFilePath judges it)
  ];
  for (const [name, rule] of cases) {
    it(`${JSON.stringify(name)} -> ${rule ?? 'fine'}`, () =>
      assert.equal(nameShapeProblem(name)?.rule ?? null, rule));
  }
});

describe('prefixOf', () => {
  it('takes everything up to the first "/" after the "@"', () => {
    assert.deepEqual(prefixOf('example.com/a/b@v1.2.3/sub/x.go'), {
      path: 'example.com/a/b',
      version: 'v1.2.3',
      prefix: 'example.com/a/b@v1.2.3/',
    });
  });
  it('works for the prefix directory entry itself', () => {
    assert.equal(prefixOf('example.com/m@v1.0.0/')?.prefix, 'example.com/m@v1.0.0/');
  });
  for (const name of ['example.com/m/go.mod', '@v1.0.0/x', 'example.com/m@v1.0.0']) {
    it(`is null for ${JSON.stringify(name)}`, () => assert.equal(prefixOf(name), null));
  }
});

describe('CollisionChecker', () => {
  const run = (entries: Array<[string, boolean]>): Array<string | null> => {
    const c = new CollisionChecker();
    return entries.map(([p, isDir]) => c.check(p, isDir)?.rule ?? null);
  };
  it('accepts distinct files and the directories they imply', () => {
    assert.deepEqual(
      run([
        ['a/b.go', false],
        ['a/c.go', false],
        ['a', true],
        ['d', true],
      ]),
      [null, null, null, null],
    );
  });
  it('accepts a directory listed twice', () => {
    assert.deepEqual(
      run([
        ['a', true],
        ['a', true],
      ]),
      [null, null],
    );
  });
  it('refuses a file listed twice', () => {
    assert.deepEqual(
      run([
        ['a.go', false],
        ['a.go', false],
      ]),
      [null, 'duplicate entry'],
    );
  });
  it('refuses a path used as file and as directory, in either order', () => {
    assert.deepEqual(
      run([
        ['a', false],
        ['a/b', false],
      ]),
      [null, 'file and directory'],
    );
    assert.deepEqual(
      run([
        ['a/b', false],
        ['a', false],
      ]),
      [null, 'file and directory'],
    );
  });
  it('refuses two spellings that fold together, also as parent directories', () => {
    assert.deepEqual(
      run([
        ['A.go', false],
        ['a.go', false],
      ]),
      [null, 'case-fold collision'],
    );
    assert.deepEqual(
      run([
        ['Dir/x', false],
        ['dir/y', false],
      ]),
      [null, 'case-fold collision'],
    );
    assert.deepEqual(
      run([
        ['\u212A', false],
        ['k', false],
      ]),
      [null, 'case-fold collision'],
    );
  });
});
