// Tree notes, record framing and data tiles: mirrored pairs round-trip, and hostile bytes
// only ever produce a SumkeepError with the parser's code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../../src/core/bytes.ts';
import { SumkeepError, isSumkeepError, type ErrorCode } from '../../../src/core/errors.ts';
import {
  MAX_RECORD_TEXT,
  checkRecordText,
  formatDataTile,
  formatRecord,
  formatTree,
  parseDataTile,
  parseRecord,
  parseTree,
  recordHash,
} from '../../../src/core/tlog/index.ts';

const code = (c: ErrorCode) => (e: unknown) => isSumkeepError(e, c);

let seed = 987654321;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
}
function randomBytes(maxLen: number, alphabet?: number[]): Uint8Array {
  const b = new Uint8Array(Math.floor(rand() * maxLen));
  for (let i = 0; i < b.length; i++) {
    b[i] = alphabet ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
  }
  return b;
}

/** Runs f on many random inputs; it may succeed, or throw a SumkeepError with code c only. */
function fuzz(c: ErrorCode, f: (b: Uint8Array) => void, alphabet?: number[]): void {
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(80, alphabet);
    try {
      f(b);
    } catch (e) {
      assert.ok(e instanceof SumkeepError && e.code === c, `${Buffer.from(b).toString('hex')}: ${String(e)}`);
    }
  }
}

const nearText = [...utf8('go.sum database tree\n0123456789+/=ABCxyz \t\r-é'), 0, 0xff, 0xed, 0xa0, 0x80];

describe('formatTree / parseTree', () => {
  it('round-trips sizes from 0 to 2^53-1 and any hash', () => {
    for (const N of [0, 1, 9, 10, 300, 65537, 2 ** 40, 2 ** 53 - 1]) {
      const hash = recordHash(utf8(`tree ${N}`));
      const text = formatTree({ N, hash });
      assert.deepEqual(parseTree(text), { N, hash });
      assert.equal(
        Buffer.from(text).toString(),
        `go.sum database tree\n${N}\n${Buffer.from(hash).toString('base64')}\n`,
      );
    }
  });

  it('refuses anything but the exact three lines, with malformed_tree', () => {
    const h = Buffer.from(recordHash(utf8('x'))).toString('base64');
    const bad = [
      '',
      'go.sum database tree\n',
      `go.sum database tree\n5\n${h}`,
      `go.sum database tree\n5\n${h}\n\n`,
      `go.sum database tree\n5\n${h}\nextra line\n`,
      `go.sum database tree v2\n5\n${h}\n`,
      `Go.sum database tree\n5\n${h}\n`,
      `go.sum database tree\r\n5\n${h}\n`,
      `go.sum database tree\n05\n${h}\n`,
      `go.sum database tree\n-5\n${h}\n`,
      `go.sum database tree\n+5\n${h}\n`,
      `go.sum database tree\n-0\n${h}\n`,
      `go.sum database tree\n 5\n${h}\n`,
      `go.sum database tree\n5.0\n${h}\n`,
      `go.sum database tree\n1e3\n${h}\n`,
      `go.sum database tree\n\n${h}\n`,
      `go.sum database tree\n9007199254740992\n${h}\n`,
      `go.sum database tree\n99999999999999999999\n${h}\n`,
      `go.sum database tree\n5\n${h.slice(0, -1)}\n`,
      `go.sum database tree\n5\n${h.slice(0, -2)}==\n`,
      `go.sum database tree\n5\n${h}=\n`,
      `go.sum database tree\n5\nA${h}\n`,
      `go.sum database tree\n5\n${h.replace(/.=$/, 'B=')}\n`, // non-zero padding bits
      `go.sum database tree\n5\n${h.slice(0, 10)}-${h.slice(11)}\n`,
      `go.sum database tree\n5\n${h} \n`,
      `go.sum database tree\n5\0\n${h}\n`,
      `go.sum database tree\n5\n${h}\n`.repeat(2),
    ];
    for (const s of bad) assert.throws(() => parseTree(utf8(s)), code('malformed_tree'), JSON.stringify(s));
    assert.throws(() => parseTree(new Uint8Array(2_000_000).fill(0x41)), code('malformed_tree'));
    assert.throws(() => parseTree(Uint8Array.of(0xff, 0xfe)), code('malformed_tree'));
    assert.throws(() => parseTree('go.sum database tree\n' as unknown as Uint8Array), code('malformed_tree'));
  });

  it('refuses to format an invalid tree', () => {
    for (const t of [
      { N: -1, hash: new Uint8Array(32) },
      { N: 1.5, hash: new Uint8Array(32) },
      { N: 2 ** 53, hash: new Uint8Array(32) },
      { N: 1, hash: new Uint8Array(31) },
      null,
    ]) {
      assert.throws(() => formatTree(t as never), code('malformed_tree'));
    }
  });

  it('throws only malformed_tree on random bytes', () => {
    fuzz('malformed_tree', (b) => void parseTree(b), nearText);
    fuzz('malformed_tree', (b) => void parseTree(b));
  });
});

const goodTexts = [
  'a\n',
  'example.com/a v1.0.0 h1:ad67Tuap1U9Rdn6FV5NqwFAlXQF52mb4jcm65FPAWcM=\nexample.com/a v1.0.0/go.mod h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=\n',
  'unicode é \u2014 \u{1F600} \uFFFD ok\n',
  'tab-free \x7f del is allowed as in Go\n',
  'x'.repeat(1000) + '\n' + 'y\n',
].map(utf8);

describe('checkRecordText', () => {
  it('accepts valid record texts', () => {
    for (const t of goodTexts) checkRecordText(t);
    checkRecordText(new Uint8Array(MAX_RECORD_TEXT).fill(0x61).fill(0x0a, MAX_RECORD_TEXT - 1));
  });

  it('refuses empty, unterminated, blank lines, control characters, bad UTF-8 and oversize', () => {
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      utf8('\n'),
      utf8('\nleading blank line\n'),
      utf8('no newline'),
      utf8('blank\n\nline\n'),
      utf8('ends in blank\n\n'),
      utf8('tab\there\n'),
      utf8('cr\r\n'),
      utf8('nul\0\n'),
      utf8('esc\x1b\n'),
      Uint8Array.of(0x61, 0xff, 0x0a),
      Uint8Array.of(0x61, 0xc0, 0xaf, 0x0a), // overlong "/"
      Uint8Array.of(0x61, 0xed, 0xa0, 0x80, 0x0a), // UTF-8-encoded lone surrogate U+D800
      Uint8Array.of(0x61, 0xe2, 0x82, 0x0a), // truncated sequence
      Uint8Array.of(0x61, 0xf4, 0x90, 0x80, 0x80, 0x0a), // above U+10FFFF
      new Uint8Array(MAX_RECORD_TEXT + 1).fill(0x61).fill(0x0a, MAX_RECORD_TEXT),
      'a\n' as unknown as Uint8Array,
    ];
    for (const t of bad) assert.throws(() => checkRecordText(t), code('malformed_record'), String(t));
  });

  it('throws only malformed_record on random bytes', () => {
    fuzz(
      'malformed_record',
      (b) => checkRecordText(b),
      [0x0a, 0x0a, 0x61, 0x62, 0x20, 0x00, 0x09, 0xc3, 0xa9, 0xed, 0xa0, 0xff],
    );
    fuzz('malformed_record', (b) => checkRecordText(b));
  });
});

describe('formatRecord / parseRecord', () => {
  it('round-trips ids and texts, leaving the rest (the note) untouched', () => {
    for (const id of [0, 1, 42, 999, 2 ** 40, 2 ** 53 - 1]) {
      for (const text of goodTexts) {
        const msg = formatRecord(id, text);
        const note = utf8('go.sum database tree\n5\nAAAA\n\n\u2014 key sig\n');
        const full = new Uint8Array([...msg, ...note]);
        const r = parseRecord(full);
        assert.equal(r.id, id);
        assert.deepEqual(r.text, text);
        assert.deepEqual(r.rest, note);
        assert.deepEqual(parseRecord(msg), { id, text, rest: new Uint8Array(0) });
      }
    }
  });

  it('refuses invalid ids and texts when formatting', () => {
    for (const id of [-1, 1.5, NaN, 2 ** 53])
      assert.throws(() => formatRecord(id, goodTexts[0]!), code('malformed_record'));
    assert.throws(() => formatRecord(1, utf8('no newline')), code('malformed_record'));
  });

  it('refuses malformed messages with malformed_record', () => {
    const bad = [
      '',
      '5',
      '5\n',
      '5\na\n',
      '\na\n\n',
      'x\na\n\n',
      '05\na\n\n',
      '-5\na\n\n',
      '+5\na\n\n',
      ' 5\na\n\n',
      '5 \na\n\n',
      '9007199254740992\na\n\n',
      '99999999999999999999999\na\n\n',
      '5\n\n',
      '5\n\n\n',
      '5\nno final newline',
      '5\nctl\x01\n\n',
      '5\r\na\n\n',
    ];
    for (const s of bad)
      assert.throws(() => parseRecord(utf8(s)), code('malformed_record'), JSON.stringify(s));
    assert.throws(() => parseRecord(Uint8Array.of(0x35, 0x0a, 0xff, 0x0a, 0x0a)), code('malformed_record'));
    assert.throws(() => parseRecord(null as unknown as Uint8Array), code('malformed_record'));
  });

  it('throws only malformed_record on random bytes', () => {
    fuzz(
      'malformed_record',
      (b) => void parseRecord(b),
      [0x0a, 0x0a, 0x30, 0x31, 0x39, 0x61, 0x2d, 0x00, 0xed, 0xa0, 0x80],
    );
    fuzz('malformed_record', (b) => void parseRecord(b));
  });
});

describe('formatDataTile / parseDataTile', () => {
  it('writes each text followed by one newline, and parses it back', () => {
    assert.deepEqual(formatDataTile([utf8('a\n'), utf8('b c\nd\n')]), utf8('a\n\nb c\nd\n\n'));
    for (let n = 1; n <= 256; n += 15) {
      const texts = Array.from({ length: n }, (_, i) => goodTexts[i % goodTexts.length]!);
      assert.deepEqual(parseDataTile(formatDataTile(texts)), texts);
    }
  });

  it('refuses malformed tiles with malformed_tile', () => {
    const bad = [
      '',
      '\n',
      '\n\n',
      'a\n',
      'a\n\nb\n',
      'a\n\n\n',
      'a\n\n\nb\n\n',
      'a\nb',
      'ctl\x01\n\n',
      '\na\n\n',
    ];
    for (const s of bad)
      assert.throws(() => parseDataTile(utf8(s)), code('malformed_tile'), JSON.stringify(s));
    assert.throws(() => parseDataTile(Uint8Array.of(0xff, 0x0a, 0x0a)), code('malformed_tile'));
    const tooMany = formatDataTile(Array.from({ length: 257 }, () => utf8('r\n')));
    assert.throws(() => parseDataTile(tooMany), code('malformed_tile'));
    assert.equal(parseDataTile(tooMany, 257).length, 257);
    assert.throws(() => parseDataTile(null as unknown as Uint8Array), code('malformed_tile'));
  });

  it('refuses to format an empty list or an invalid text', () => {
    assert.throws(() => formatDataTile([]), code('malformed_tile'));
    assert.throws(() => formatDataTile([utf8('a\n'), utf8('bad')]), code('malformed_record'));
  });

  it('throws only malformed_tile on random bytes', () => {
    fuzz(
      'malformed_tile',
      (b) => void parseDataTile(b),
      [0x0a, 0x0a, 0x61, 0x62, 0x00, 0xed, 0xa0, 0x80, 0xc3, 0xa9],
    );
    fuzz('malformed_tile', (b) => void parseDataTile(b));
  });
});
