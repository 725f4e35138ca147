import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goModModulePath } from '../../src/upstream/gomod-module.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('goModModulePath', () => {
  const cases: { name: string; text: string; want: string | null }[] = [
    { name: 'bare path', text: 'module example.com/m\n', want: 'example.com/m' },
    { name: 'no final newline', text: 'module example.com/m', want: 'example.com/m' },
    { name: 'CRLF line ends', text: 'module example.com/m\r\ngo 1.19\r\n', want: 'example.com/m' },
    { name: 'tab and spaces', text: '\t module \t example.com/m  \n', want: 'example.com/m' },
    { name: 'double-quoted', text: 'module "example.com/m"\n', want: 'example.com/m' },
    { name: 'backquoted', text: 'module `example.com/m`\n', want: 'example.com/m' },
    { name: 'escaped quote', text: 'module "ex\\"ample"\n', want: 'ex"ample' },
    { name: 'trailing comment', text: 'module example.com/m // the module\n', want: 'example.com/m' },
    {
      name: 'after comments and other directives',
      text: '// Deprecated: use v2\n\ngo 1.19\nmodule example.com/m\nrequire x.y/z v1.0.0\n',
      want: 'example.com/m',
    },
    {
      name: 'first module line wins',
      text: 'module a.example/one\nmodule b.example/two\n',
      want: 'a.example/one',
    },
    {
      name: 'commented-out module line',
      text: '// module a.example/x\nmodule b.example/y\n',
      want: 'b.example/y',
    },
    { name: 'word that only starts with module', text: 'modulex a.example/x\n', want: null },
    { name: 'module without argument', text: 'module\nmodule  \n', want: null },
    { name: 'missing module line', text: 'go 1.19\n', want: null },
    { name: 'empty file', text: '', want: null },
    { name: 'unterminated quote', text: 'module "example.com/m\n', want: null },
    { name: 'text after closing quote', text: 'module "a" "b"\n', want: null },
    { name: 'unknown escape', text: 'module "a\\x41"\n', want: null },
    { name: 'comment cut inside quotes, as the go command does', text: 'module "a//b"\n', want: null },
  ];
  for (const c of cases) {
    it(`reads ${c.name}`, () => {
      assert.equal(goModModulePath(enc(c.text)), c.want);
    });
  }

  it('does not throw on invalid UTF-8 and never matches a path through it', () => {
    const bytes = new Uint8Array([...enc('module a.example/'), 0xff, 0xfe, 0x0a]);
    assert.equal(goModModulePath(bytes), 'a.example/\ufffd\ufffd');
  });
});
