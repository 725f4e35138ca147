import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32Portable } from '../../src/zip/crc32.ts';

describe('crc32', () => {
  const vectors: Array<[string, string, number]> = [
    ['empty', '', 0],
    ['check value of CRC-32/ISO-HDLC', '123456789', 0xcbf43926],
    ['a sentence', 'The quick brown fox jumps over the lazy dog', 0x414fa339],
  ];
  for (const [name, s, want] of vectors) {
    it(`${name}: native`, () => assert.equal(crc32(Buffer.from(s)), want));
    it(`${name}: portable`, () => assert.equal(crc32Portable(Buffer.from(s)), want));
  }
  it('continues across chunks', () => {
    const whole = Buffer.from('123456789');
    assert.equal(crc32(whole.subarray(4), crc32(whole.subarray(0, 4))), 0xcbf43926);
    assert.equal(crc32Portable(whole.subarray(4), crc32Portable(whole.subarray(0, 4))), 0xcbf43926);
  });
  it('native and portable agree on every byte value', () => {
    const b = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) b[i] = i;
    assert.equal(crc32(b), crc32Portable(b));
  });
});
