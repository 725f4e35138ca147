import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { isSumkeepError } from '../../src/core/errors.ts';
import { hashModuleZip, ruleOf, type HashZipOptions, type ZipRule } from '../../src/zip/index.ts';
import { ZipWriter, repeatedDeflate, writeZip, type ZipEntrySpec } from '../helpers/zipwriter.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-zip-rules-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const zipPath = (): string => path.join(dir, `z${++seq}.zip`);

const M = 'example.com/m';
const V = 'v1.0.0';
const P = `${M}@${V}/`;
const MiB = 1 << 20;

/** Runs hashModuleZip and returns the rule of the invalid_zip refusal (fails on anything else). */
async function refusal(
  file: string,
  opts: HashZipOptions = {},
): Promise<{ rule: ZipRule | null; message: string }> {
  try {
    const r = await hashModuleZip(file, opts);
    assert.fail(`expected a refusal, got ${r.h1}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(isSumkeepError(e, 'invalid_zip'), `expected invalid_zip, got ${String(e)}`);
    return { rule: ruleOf(e), message: e.message };
  }
}

interface Case {
  name: string;
  entries: ZipEntrySpec[];
  rule: ZipRule;
  /** Entry name (or other subject) the message must name. */
  subject: string;
  opts?: HashZipOptions;
}

const goMod = { name: P + 'go.mod', content: `module ${M}\n` };
const big = Buffer.alloc(2 * MiB, 'x'); // above the one-piece threshold: read as a stream

const cases: Case[] = [
  {
    name: 'a ".." element inside the module',
    entries: [goMod, { name: P + '../x.go', content: 'x' }],
    rule: 'path traversal',
    subject: P + '../x.go',
  },
  {
    name: 'a ".." element before the prefix',
    entries: [goMod, { name: `../${P}x.go`, content: 'x' }],
    rule: 'path traversal',
    subject: `../${P}x.go`,
  },
  {
    name: 'a trailing ".." directory entry',
    entries: [goMod, { name: P + 'a/../' }],
    rule: 'path traversal',
    subject: P + 'a/../',
  },
  {
    name: 'an absolute name',
    entries: [goMod, { name: '/' + P + 'x.go', content: 'x' }],
    rule: 'absolute path',
    subject: '/' + P + 'x.go',
  },
  {
    name: 'a backslash',
    entries: [goMod, { name: P + 'a\\b.go', content: 'x' }],
    rule: 'backslash',
    subject: P + 'a\\b.go',
  },
  {
    name: 'a "." element',
    entries: [goMod, { name: P + 'a/./b.go', content: 'x' }],
    rule: 'unclean path',
    subject: P + 'a/./b.go',
  },
  {
    name: 'an empty element',
    entries: [goMod, { name: P + 'a//b.go', content: 'x' }],
    rule: 'unclean path',
    subject: P + 'a//b.go',
  },
  {
    name: 'an empty element right after the prefix',
    entries: [goMod, { name: P + '/b.go', content: 'x' }],
    rule: 'unclean path',
    subject: P + '/b.go',
  },
  {
    name: 'Kelvin sign K (U+212A) against k',
    entries: [goMod, { name: P + 'k.go', content: 'a' }, { name: P + '\u212A.go', content: 'b' }],
    rule: 'case-fold collision',
    subject: P + '\u212A.go',
  },
  {
    name: 'long s (U+017F) against S',
    entries: [goMod, { name: P + 'S.txt', content: 'a' }, { name: P + '\u017F.txt', content: 'b' }],
    rule: 'case-fold collision',
    subject: P + '\u017F.txt',
  },
  {
    name: 'ASCII case',
    entries: [goMod, { name: P + 'README', content: 'a' }, { name: P + 'readme', content: 'b' }],
    rule: 'case-fold collision',
    subject: P + 'readme',
  },
  {
    name: 'directories that differ in case',
    entries: [goMod, { name: P + 'Dir/a.go', content: 'a' }, { name: P + 'dir/b.go', content: 'b' }],
    rule: 'case-fold collision',
    subject: P + 'dir/b.go',
  },
  {
    name: 'Greek final sigma against capital sigma',
    entries: [goMod, { name: P + '\u03a3.txt', content: 'a' }, { name: P + '\u03c2.txt', content: 'b' }],
    rule: 'case-fold collision',
    subject: P + '\u03c2.txt',
  },
  {
    name: 'one file twice',
    entries: [goMod, { name: P + 'a.go', content: 'a' }, { name: P + 'a.go', content: 'a' }],
    rule: 'duplicate entry',
    subject: P + 'a.go',
  },
  {
    name: 'a file that is also a directory',
    entries: [goMod, { name: P + 'a', content: 'a' }, { name: P + 'a/b.go', content: 'b' }],
    rule: 'file and directory',
    subject: P + 'a/b.go',
  },
  {
    name: 'a directory entry named like a file',
    entries: [goMod, { name: P + 'a.go', content: 'a' }, { name: P + 'a.go/' }],
    rule: 'file and directory',
    subject: P + 'a.go/',
  },
  {
    name: 'go.mod in a subdirectory (a nested module)',
    entries: [goMod, { name: P + 'sub/go.mod', content: 'module x\n' }],
    rule: 'go.mod not at root',
    subject: P + 'sub/go.mod',
  },
  {
    name: 'GO.MOD in a subdirectory',
    entries: [goMod, { name: P + 'sub/GO.MOD', content: 'module x\n' }],
    rule: 'go.mod not at root',
    subject: P + 'sub/GO.MOD',
  },
  {
    name: 'go.mod at the root in upper case',
    entries: [{ name: P + 'GO.mod', content: 'module x\n' }],
    rule: 'go.mod name case',
    subject: P + 'GO.mod',
  },
  {
    name: 'a symlink (Unix mode 0120777)',
    entries: [goMod, { name: P + 'link', content: 'go.mod', unixMode: 0o120777 }],
    rule: 'symlink',
    subject: P + 'link',
  },
  {
    name: 'a symlink made on macOS',
    entries: [
      goMod,
      {
        name: P + 'link',
        content: 'x',
        versionMadeBy: (19 << 8) | 20,
        externalAttrs: (0o120755 << 16) >>> 0,
      },
    ],
    rule: 'symlink',
    subject: P + 'link',
  },
  {
    name: 'a fifo',
    entries: [goMod, { name: P + 'fifo', unixMode: 0o010644 }],
    rule: 'irregular file',
    subject: P + 'fifo',
  },
  {
    name: 'a character device',
    entries: [goMod, { name: P + 'tty', unixMode: 0o020620 }],
    rule: 'irregular file',
    subject: P + 'tty',
  },
  {
    name: 'a socket',
    entries: [goMod, { name: P + 'sock', unixMode: 0o140755 }],
    rule: 'irregular file',
    subject: P + 'sock',
  },
  {
    name: 'a Unix directory mode on a name without "/"',
    entries: [goMod, { name: P + 'd', unixMode: 0o040755 }],
    rule: 'directory as file',
    subject: P + 'd',
  },
  {
    name: 'an MS-DOS directory attribute on a name without "/"',
    entries: [goMod, { name: P + 'd', versionMadeBy: 20, externalAttrs: 0x10 }],
    rule: 'directory as file',
    subject: P + 'd',
  },
  {
    name: 'a directory entry with content',
    entries: [goMod, { name: P + 'd/', content: 'data' }],
    rule: 'directory with content',
    subject: P + 'd/',
  },
  {
    name: 'a declared size smaller than the content',
    entries: [goMod, { name: P + 'a.go', content: 'hello, world', size: 5 }],
    rule: 'size mismatch',
    subject: P + 'a.go',
  },
  {
    name: 'a declared size larger than the content',
    entries: [goMod, { name: P + 'a.go', content: 'hello, world', size: 50 }],
    rule: 'size mismatch',
    subject: P + 'a.go',
  },
  {
    name: 'a streamed entry larger than declared',
    entries: [goMod, { name: P + 'big.bin', content: big, size: 1.5 * MiB }],
    rule: 'size mismatch',
    subject: P + 'big.bin',
  },
  {
    name: 'a streamed entry smaller than declared',
    entries: [goMod, { name: P + 'big.bin', content: big, size: 3 * MiB }],
    rule: 'size mismatch',
    subject: P + 'big.bin',
  },
  {
    name: 'a stored entry whose compressed and uncompressed sizes differ',
    entries: [goMod, { name: P + 'a.go', content: 'hello', method: 0, size: 9 }],
    rule: 'size mismatch',
    subject: 'entry #2',
  },
  {
    name: 'a wrong CRC-32',
    entries: [goMod, { name: P + 'a.go', content: 'hello', crc: 0x12345678 }],
    rule: 'crc mismatch',
    subject: P + 'a.go',
  },
  {
    name: 'a wrong CRC-32 on a streamed entry',
    entries: [goMod, { name: P + 'big.bin', content: big, crc: 1 }],
    rule: 'crc mismatch',
    subject: P + 'big.bin',
  },
  {
    name: 'an entry of another module',
    entries: [goMod, { name: 'example.com/other@v1.0.0/x.go', content: 'x' }],
    rule: 'outside module prefix',
    subject: 'example.com/other@v1.0.0/x.go',
  },
  {
    name: 'an entry of another version of the module',
    entries: [goMod, { name: `${M}@v1.0.1/x.go`, content: 'x' }],
    rule: 'outside module prefix',
    subject: `${M}@v1.0.1/x.go`,
  },
  {
    name: 'a zip of another version than asked for',
    entries: [goMod],
    opts: { path: M, version: 'v1.0.1' },
    rule: 'outside module prefix',
    subject: P + 'go.mod',
  },
  {
    name: 'an entry without the prefix slash',
    entries: [goMod, { name: `${M}@${V}`, content: 'x' }],
    rule: 'outside module prefix',
    subject: `${M}@${V}`,
  },
  {
    name: 'a first entry without "@"',
    entries: [{ name: 'example.com/m/go.mod', content: 'x' }],
    rule: 'bad module prefix',
    subject: 'example.com/m/go.mod',
  },
  {
    name: 'a first entry with an invalid module path',
    entries: [{ name: 'Example.com/m@v1.0.0/go.mod', content: 'x' }],
    rule: 'bad module prefix',
    subject: 'Example.com/m@v1.0.0/go.mod',
  },
  {
    name: 'a first entry with a non-canonical version',
    entries: [{ name: 'example.com/m@v1.0/go.mod', content: 'x' }],
    rule: 'bad module prefix',
    subject: 'example.com/m@v1.0/go.mod',
  },
  {
    name: 'a v2 version of a path without /v2',
    entries: [{ name: 'example.com/m@v2.0.0/go.mod', content: 'x' }],
    rule: 'bad module prefix',
    subject: 'example.com/m@v2.0.0/go.mod',
  },
  {
    name: 'a colon in a file name',
    entries: [goMod, { name: P + 'a:b.go', content: 'x' }],
    rule: 'bad file path',
    subject: P + 'a:b.go',
  },
  {
    name: 'a Windows device name',
    entries: [goMod, { name: P + 'sub/aux.go', content: 'x' }],
    rule: 'bad file path',
    subject: P + 'sub/aux.go',
  },
  {
    name: 'a name that is not UTF-8',
    entries: [
      goMod,
      { name: Buffer.concat([Buffer.from(P), Buffer.from([0x61, 0xff, 0x2e, 0x67, 0x6f])]), content: 'x' },
    ],
    rule: 'bad file path',
    subject: P + 'a\ufffd.go',
  },
  {
    name: 'a byte order mark in a name',
    entries: [goMod, { name: P + '\ufeffa.go', content: 'x' }],
    rule: 'bad file path',
    subject: P + '\ufeffa.go',
  },
  {
    name: 'a control character in a name',
    entries: [goMod, { name: P + 'a\nb.go', content: 'x' }],
    rule: 'bad file path',
    subject: P + 'a\nb.go',
  },
  {
    name: 'an encrypted entry',
    entries: [goMod, { name: P + 'a.go', content: 'x', flags: 0x1 }],
    rule: 'encrypted',
    subject: P + 'a.go',
  },
  {
    name: 'bzip2 compression',
    entries: [goMod, { name: P + 'a.go', data: Buffer.from('BZh91AY'), method: 12, size: 1, crc: 0 }],
    rule: 'unsupported compression',
    subject: P + 'a.go',
  },
  {
    name: 'deflate data that is garbage',
    entries: [
      goMod,
      { name: P + 'a.go', data: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), method: 8, size: 4, crc: 0 },
    ],
    rule: 'corrupt data',
    subject: P + 'a.go',
  },
  {
    name: 'a truncated deflate stream',
    entries: [
      goMod,
      {
        name: P + 'a.go',
        data: zlib.deflateRawSync(Buffer.alloc(1000, 'a')).subarray(0, 3),
        method: 8,
        size: 1000,
        crc: 0,
      },
    ],
    rule: 'corrupt data',
    subject: P + 'a.go',
  },
  {
    name: 'content over a small total limit',
    entries: [goMod, { name: P + 'a.go', content: 'x'.repeat(100) }],
    opts: { limits: { maxContentBytes: 110 } },
    rule: 'content too large',
    subject: P + 'a.go',
  },
  {
    name: 'a zip over a small file limit',
    entries: [goMod],
    opts: { limits: { maxZipBytes: 100 } },
    rule: 'zip too large',
    subject: '',
  },
  {
    name: 'more entries than a small count limit',
    entries: [goMod, { name: P + 'a.go', content: 'a' }, { name: P + 'b.go', content: 'b' }],
    opts: { limits: { maxFiles: 2 } },
    rule: 'too many files',
    subject: P + 'b.go',
  },
  {
    name: 'go.mod over a small limit',
    entries: [{ name: P + 'go.mod', content: 'module example.com/m\n' }],
    opts: { limits: { maxGoModBytes: 10 } },
    rule: 'go.mod too large',
    subject: P + 'go.mod',
  },
  {
    name: 'LICENSE over a small limit',
    entries: [goMod, { name: P + 'LICENSE', content: 'x'.repeat(11) }],
    opts: { limits: { maxLicenseBytes: 10 } },
    rule: 'LICENSE too large',
    subject: P + 'LICENSE',
  },
];

describe('hashModuleZip refuses zips that break a rule', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.name}`, async () => {
      const file = writeZip(zipPath(), c.entries);
      const got = await refusal(file, c.opts);
      assert.equal(got.rule, c.rule, got.message);
      const subject = c.subject === '' ? file : c.subject;
      assert.ok(
        got.message.includes(JSON.stringify(subject).slice(1, -1)) || got.message.includes(subject),
        got.message,
      );
    });
  }

  it('names the rule and the entry in the message: "<rule>: <entry>"', async () => {
    const file = writeZip(zipPath(), [{ name: 'ex.com/m@v1.0.0/../x', content: 'x' }]);
    const got = await refusal(file);
    assert.equal(got.message, 'path traversal: ex.com/m@v1.0.0/../x');
  });

  it('quotes a hostile entry name instead of printing it raw', async () => {
    const file = writeZip(zipPath(), [goMod, { name: P + 'a\u001b[31m.go', content: 'x' }]);
    const got = await refusal(file);
    assert.equal(got.rule, 'bad file path');
    assert.ok(!got.message.includes('\u001b'), got.message);
    assert.ok(got.message.includes('\\u001b'), got.message);
  });

  it('accepts a LICENSE or go.mod below the module root without the size rule (only the root ones are bounded)', async () => {
    const file = writeZip(zipPath(), [goMod, { name: P + 'sub/LICENSE', content: 'x'.repeat(20) }]);
    const r = await hashModuleZip(file, { limits: { maxLicenseBytes: 10 } });
    assert.equal(r.files, 2);
  });
});

describe('hashModuleZip refuses files that are not zips', () => {
  const bad: Array<[string, Uint8Array]> = [
    ['an empty file', new Uint8Array(0)],
    ['random bytes', Buffer.from('this is not a zip file at all, just text\n'.repeat(10))],
    ['a zip cut before its end record', Buffer.alloc(0)], // filled below
  ];
  for (const [name, bytes] of bad) {
    it(`not a zip file: ${name}`, async () => {
      const file = zipPath();
      if (name.startsWith('a zip cut')) {
        const whole = writeZip(zipPath(), [goMod, { name: P + 'a.go', content: 'package a\n' }]);
        const b = fs.readFileSync(whole);
        fs.writeFileSync(file, b.subarray(0, b.length - 30));
      } else {
        fs.writeFileSync(file, bytes);
      }
      const got = await refusal(file);
      assert.equal(got.rule, 'not a zip file', got.message);
    });
  }

  it('not a zip file: a corrupt central directory record', async () => {
    const file = writeZip(zipPath(), [goMod]);
    const b = fs.readFileSync(file);
    // Corrupt the central directory signature of the only record.
    const cd = b.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    b[cd] = 0;
    fs.writeFileSync(file, b);
    const got = await refusal(file);
    assert.equal(got.rule, 'not a zip file', got.message);
  });

  it('corrupt data: a local header that is not one', async () => {
    const file = writeZip(zipPath(), [goMod, { name: P + 'a.go', content: 'package a\n' }]);
    const b = fs.readFileSync(file);
    const second = b.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4);
    b[second] = 0;
    fs.writeFileSync(file, b);
    const got = await refusal(file);
    assert.equal(got.rule, 'corrupt data', got.message);
  });

  it('reports a missing file as bad input, not as an invalid zip', async () => {
    await assert.rejects(hashModuleZip(path.join(dir, 'missing.zip')), (e) => isSumkeepError(e, 'bad_input'));
  });

  it('reports a directory as bad input', async () => {
    await assert.rejects(hashModuleZip(dir), (e) => isSumkeepError(e, 'bad_input'));
  });
});

describe('hashModuleZip enforces the real 500 MiB and 16 MiB limits', () => {
  it('zip too large: a (sparse) zip file of more than 500 MiB', async () => {
    const file = zipPath();
    const w = new ZipWriter(file, { offset: 500 * MiB + 1 });
    w.add(goMod);
    w.close();
    assert.ok(fs.statSync(file).size > 500 * MiB);
    const got = await refusal(file);
    assert.equal(got.rule, 'zip too large', got.message);
  });

  it('content too large: a real deflated entry of 501 MiB (0.5 MiB compressed)', async () => {
    const z = repeatedDeflate(Buffer.alloc(MiB), 501);
    const file = writeZip(zipPath(), [
      goMod,
      { name: P + 'zeros.bin', data: z.data, method: 8, size: z.size, crc: z.crc },
    ]);
    assert.ok(fs.statSync(file).size < 2 * MiB);
    const t0 = Date.now();
    const got = await refusal(file);
    assert.equal(got.rule, 'content too large', got.message);
    assert.ok(Date.now() - t0 < 5000, 'refused from the declared size, without inflating');
  });

  it('content too large: two entries of 260 MiB each (each under the limit, not together)', async () => {
    const z = repeatedDeflate(Buffer.alloc(MiB, 'z'), 260);
    const entry = (name: string): ZipEntrySpec => ({
      name,
      data: z.data,
      method: 8,
      size: z.size,
      crc: z.crc,
    });
    const file = writeZip(zipPath(), [goMod, entry(P + 'a.bin'), entry(P + 'b.bin')]);
    const got = await refusal(file);
    assert.equal(got.rule, 'content too large', got.message);
    assert.ok(got.message.includes(P + 'b.bin'), got.message);
  });

  it('size mismatch: an entry declared at 1 MiB that inflates to 501 MiB stops early', async () => {
    const z = repeatedDeflate(Buffer.alloc(MiB), 501);
    const file = writeZip(zipPath(), [
      goMod,
      { name: P + 'bomb.bin', data: z.data, method: 8, size: MiB, crc: z.crc },
    ]);
    const t0 = Date.now();
    const got = await refusal(file);
    assert.equal(got.rule, 'size mismatch', got.message);
    assert.ok(Date.now() - t0 < 5000, 'stopped soon after the declared size');
  });

  it('go.mod too large: a real 17 MiB go.mod', async () => {
    const file = writeZip(zipPath(), [{ name: P + 'go.mod', content: Buffer.alloc(17 * MiB, 0x20) }]);
    const got = await refusal(file);
    assert.equal(got.rule, 'go.mod too large', got.message);
  });

  it('LICENSE too large: a real 17 MiB LICENSE', async () => {
    const file = writeZip(zipPath(), [goMod, { name: P + 'LICENSE', content: Buffer.alloc(17 * MiB, 0x20) }]);
    const got = await refusal(file);
    assert.equal(got.rule, 'LICENSE too large', got.message);
  });

  it('accepts a 16 MiB go.mod, exactly at the limit', async () => {
    const content = Buffer.alloc(16 * MiB, 0x20);
    const file = writeZip(zipPath(), [{ name: P + 'go.mod', content }]);
    const r = await hashModuleZip(file);
    assert.equal(r.goMod?.length, 16 * MiB);
  });
});
