// Properties of the byte helpers every core parser builds on (src/core/bytes.ts): strict base64
// round-trips and accepts only the canonical padded encoding, and strict UTF-8 decoding gives
// back every well-formed string and refuses exactly the invalid byte strings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { bytesEqual, decodeUtf8, fromBase64, toBase64, utf8 } from '../../src/core/bytes.ts';
import { attempt, editsArb, fc, mutateBytes, mutateString, noiseBytes, noiseString } from './fc.ts';

describe('toBase64 and fromBase64', () => {
  it('round-trip every byte string', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const back = fromBase64(toBase64(b));
        assert.ok(back !== null && bytesEqual(back, b));
      }),
    );
  });

  it('fromBase64 never throws and accepts only canonical padded base64', () => {
    const encoded = fc.uint8Array({ minLength: 1, maxLength: 40 }).map(toBase64);
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          encoded,
          fc.tuple(encoded, editsArb).map(([s, e]) => mutateString(s, e)),
        ),
        (s) => {
          const r = attempt(() => fromBase64(s));
          assert.ok(r.ok);
          if (r.value !== null) assert.equal(toBase64(r.value), s);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('utf8 and decodeUtf8', () => {
  it('decodeUtf8 gives back every well-formed string, a leading byte-order mark included', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme' }),
          fc.string().map((s) => '\ufeff' + s),
        ),
        (s) => {
          assert.equal(decodeUtf8(utf8(s)), s);
        },
      ),
    );
  });

  it('decodeUtf8 refuses exactly the byte strings that are not UTF-8, and never throws', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 30 }).map(utf8);
    fc.assert(
      fc.property(
        fc.oneof(
          noiseBytes,
          fc.tuple(text, editsArb).map(([b, e]) => mutateBytes(b, e)),
        ),
        (b) => {
          const r = attempt(() => decodeUtf8(b));
          assert.ok(r.ok);
          assert.equal(r.value !== null, isUtf8(b));
          if (r.value !== null) assert.ok(bytesEqual(utf8(r.value), b));
        },
      ),
      { numRuns: 200 },
    );
  });
});
