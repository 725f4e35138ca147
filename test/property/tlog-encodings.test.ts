// Properties of the tlog encodings (src/core/tlog/note.ts, record.ts, tilepath.ts): each
// format/parse pair round-trips over its whole range, every parser raises only its own
// SumkeepError code on arbitrary and damaged input, and whatever a parser accepts is exactly what
// its formatter writes for the value it returns (one encoding per value).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, concatBytes, decodeUtf8 } from '../../src/core/bytes.ts';
import {
  DEFAULT_MAX_DATA_TILE_RECORDS,
  MAX_RECORD_TEXT,
  checkRecordText,
  formatDataTile,
  formatRecord,
  formatTree,
  parseDataTile,
  parseRecord,
  parseTilePath,
  parseTree,
  tilePath,
  type Tile,
} from '../../src/core/tlog/index.ts';
import {
  attempt,
  attemptWithCodes,
  editsArb,
  fc,
  mutateBytes,
  mutateString,
  noiseBytes,
  noiseString,
} from './fc.ts';

const enc = new TextEncoder();

/** Indexes across the whole safe range, small ones and the edges included. */
const indexArb = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER),
);
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Valid record texts: non-empty lines without controls, each ending in "\n"; some near the size bound. */
const recordLineArb = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  // eslint-disable-next-line no-control-regex
  .map((s) => s.replace(/[\u0000-\u001f]/g, '') || 'x');
const smallRecordTextArb = fc
  .array(recordLineArb, { minLength: 1, maxLength: 4 })
  .map((ls) => enc.encode(ls.join('\n') + '\n'));
const recordTextArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: smallRecordTextArb },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_RECORD_TEXT - 8, max: MAX_RECORD_TEXT + 8 })
      .map((n) => enc.encode('r'.repeat(n - 1) + '\n')),
  },
);

/** The record-text rule restated independently (see record.ts): the oracle for checkRecordText. */
function isRecordText(b: Uint8Array): boolean {
  const s = decodeUtf8(b);
  return (
    s !== null &&
    b.length > 0 &&
    b.length <= MAX_RECORD_TEXT &&
    s.endsWith('\n') &&
    !s.startsWith('\n') &&
    !s.includes('\n\n') &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u0009\u000b-\u001f]/.test(s)
  );
}

describe('formatTree and parseTree', () => {
  it('round-trip every tree size 0..2^53-1 and hash', () => {
    fc.assert(
      fc.property(indexArb, hashArb, (N, hash) => {
        const t = parseTree(formatTree({ N, hash }));
        assert.equal(t.N, N);
        assert.ok(bytesEqual(t.hash, hash));
      }),
    );
  });

  it('parseTree raises only malformed_tree, and accepts only what formatTree writes', () => {
    const good = formatTree({ N: 1234567, hash: new Uint8Array(32).fill(0xab) });
    fc.assert(
      fc.property(
        fc.oneof(
          noiseBytes,
          editsArb.map((e) => mutateBytes(good, e)),
        ),
        (b) => {
          const r = attemptWithCodes(['malformed_tree'], () => parseTree(b));
          if (r.ok) assert.ok(bytesEqual(formatTree(r.value), b), 'accepted a non-canonical tree text');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('formatTree raises only malformed_tree on sizes outside 0..2^53-1 or bad hashes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), indexArb), fc.uint8Array({ maxLength: 40 }), (N, hash) => {
        const r = attemptWithCodes(['malformed_tree'], () => formatTree({ N, hash }));
        assert.equal(r.ok, Number.isSafeInteger(N) && N >= 0 && hash.length === 32);
      }),
    );
  });
});

describe('formatRecord and parseRecord', () => {
  it('round-trip every id and record text, leaving what follows the record in rest', () => {
    fc.assert(
      fc.property(indexArb, recordTextArb, fc.uint8Array({ maxLength: 50 }), (id, text, rest) => {
        const f = attemptWithCodes(['malformed_record'], () => formatRecord(id, text));
        assert.equal(f.ok, isRecordText(text));
        if (!f.ok) return;
        const p = parseRecord(concatBytes(f.value, rest));
        assert.equal(p.id, id);
        assert.ok(bytesEqual(p.text, text));
        assert.ok(bytesEqual(p.rest, rest));
      }),
      { numRuns: 150 },
    );
  });

  it('checkRecordText accepts exactly the valid record texts', () => {
    const good = enc.encode(
      'golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\nline two\n',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          noiseBytes,
          editsArb.map((e) => mutateBytes(good, e)),
        ),
        (b) => {
          const r = attemptWithCodes(['malformed_record'], () => checkRecordText(b));
          assert.equal(r.ok, isRecordText(b));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parseRecord raises only malformed_record, and accepts only what formatRecord writes', () => {
    const good = concatBytes(formatRecord(42, enc.encode('example.com/m v1.0.0 h1:x\n')), enc.encode('note'));
    fc.assert(
      fc.property(
        fc.oneof(
          noiseBytes,
          editsArb.map((e) => mutateBytes(good, e)),
        ),
        (b) => {
          const r = attemptWithCodes(['malformed_record'], () => parseRecord(b));
          if (!r.ok) return;
          const again = concatBytes(formatRecord(r.value.id, r.value.text), r.value.rest);
          assert.ok(bytesEqual(again, b), 'accepted a non-canonical record');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('formatDataTile and parseDataTile', () => {
  it('round-trip 1..256 record texts', () => {
    fc.assert(
      fc.property(
        fc.array(smallRecordTextArb, { minLength: 1, maxLength: DEFAULT_MAX_DATA_TILE_RECORDS }),
        (texts) => {
          const valid = texts.filter(isRecordText);
          fc.pre(valid.length > 0);
          const got = parseDataTile(formatDataTile(valid));
          assert.equal(got.length, valid.length);
          got.forEach((t, i) => assert.ok(bytesEqual(t, valid[i]!)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('parseDataTile raises only malformed_tile, and accepts only what formatDataTile writes', () => {
    const good = formatDataTile(['a b c\nd e f\n', 'x\n', '\u00e9t\u00e9\n'].map((s) => enc.encode(s)));
    fc.assert(
      fc.property(
        fc.oneof(
          noiseBytes,
          editsArb.map((e) => mutateBytes(good, e)),
        ),
        fc.integer({ min: 0, max: 300 }),
        (b, max) => {
          const r = attemptWithCodes(['malformed_tile'], () => parseDataTile(b, max));
          if (!r.ok) return;
          assert.ok(r.value.length <= max);
          assert.ok(bytesEqual(formatDataTile(r.value), b), 'accepted a non-canonical data tile');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('formatDataTile raises only malformed_record or malformed_tile on arbitrary texts', () => {
    fc.assert(
      fc.property(fc.array(noiseBytes, { maxLength: 4 }), (texts) => {
        const r = attemptWithCodes(['malformed_record', 'malformed_tile'], () => formatDataTile(texts));
        assert.equal(r.ok, texts.length > 0 && texts.every(isRecordText));
      }),
    );
  });
});

/** Valid tiles across every field's whole range. */
const tileArb: fc.Arbitrary<Tile> = fc
  .record({
    H: fc.integer({ min: 1, max: 30 }),
    L: fc.integer({ min: -1, max: 63 }),
    N: indexArb,
    w: fc.double({ min: 0, max: 1, noNaN: true }),
    full: fc.boolean(),
  })
  .map(({ H, L, N, w, full }) => ({ H, L, N, W: full ? 2 ** H : Math.max(1, Math.ceil(w * 2 ** H)) }));

describe('tilePath and parseTilePath', () => {
  it('round-trip every valid tile', () => {
    fc.assert(
      fc.property(tileArb, (t) => {
        assert.deepEqual(parseTilePath(tilePath(t)), t);
      }),
    );
  });

  it('parseTilePath raises only malformed_tile, and accepts only the canonical path of a tile', () => {
    const goods = [
      'tile/8/0/x001/x234/067.p/8',
      'tile/8/data/000',
      'tile/30/63/x009/x007/x199/x254/x740/991',
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          fc.tuple(fc.constantFrom(...goods), editsArb).map(([g, e]) => mutateString(g, e)),
          tileArb.map((t) => tilePath(t).replace(/\d/, (d) => `0${d}`)),
        ),
        (path) => {
          const r = attemptWithCodes(['malformed_tile'], () => parseTilePath(path));
          if (r.ok) assert.equal(tilePath(r.value), path);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('tilePath raises only malformed_tile for out-of-range fields', () => {
    const field = fc.oneof(fc.integer({ min: -3, max: 70 }), fc.double(), indexArb);
    fc.assert(
      fc.property(field, field, field, field, (H, L, N, W) => {
        const r = attempt(() => tilePath({ H, L, N, W }));
        if (!r.ok) assert.equal(r.error.code, 'malformed_tile');
      }),
    );
  });
});
