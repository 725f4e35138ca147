// Properties of the go.sum body parser (src/verify/gosum-text.ts parseGoSumBytes), which reads
// the bytes of POST /api/v1/verify and of the local file `sumkeep verify` compares: it never
// throws but too_large, keeps the line numbers of the bytes, reports exactly the lines that are
// not UTF-8 as "invalid UTF-8", and judges every other line as parseGoSum judges it alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8 } from '../../src/core/bytes.ts';
import { formatGoSumLine, parseGoSum, type GoSumInvalid, type GoSumLine } from '../../src/core/gosum.ts';
import { parseGoSumBytes } from '../../src/verify/gosum-text.ts';
import { moduleVersionArb, h1Arb } from './arbitraries.ts';
import { attempt, attemptWithCodes, editsArb, fc, mutateBytes, noiseBytes } from './fc.ts';

const enc = new TextEncoder();

/**
 * Valid go.sum lines (without "\n"): a pool drawn once, since generating module versions costs
 * more than parsing them and gosum.test.ts already explores their variety; this file is about
 * how bytes become lines.
 */
const linePool = fc
  .sample(
    fc
      .tuple(moduleVersionArb, fc.boolean(), h1Arb)
      .map(([{ path, version }, mod, hash]) =>
        attempt(() => formatGoSumLine({ path, version, kind: mod ? 'go.mod' : 'zip', hash })),
      )
      .filter((r) => r.ok)
      .map((r) => enc.encode(r.ok ? r.value.slice(0, -1) : '')),
    60,
  )
  .filter((b) => b.length < 400);
const lineBytesArb: fc.Arbitrary<Uint8Array> = fc.constantFrom(...linePool);

/** Bodies: lines that are valid, damaged (invalid UTF-8 included), noise or empty, joined by "\n". */
const bodyArb = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: lineBytesArb },
      { weight: 4, arbitrary: fc.tuple(lineBytesArb, editsArb).map(([l, e]) => mutateBytes(l, e)) },
      { weight: 1, arbitrary: noiseBytes },
      { weight: 1, arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array([0xef, 0xbb, 0xbf])) },
    ),
    { maxLength: 8 },
  )
  .map((lines) => {
    const out: number[] = [];
    lines.forEach((l, i) => {
      if (i > 0) out.push(0x0a);
      out.push(...l);
    });
    return new Uint8Array(out);
  });

/** Byte lines as the body parser numbers them: split at every "\n"; a final "\n" ends the last line. */
function byteLines(body: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    lines.push(body.subarray(start, end));
    start = end + 1;
  }
  return lines;
}

describe('parseGoSumBytes', () => {
  it('judges each line of the bytes alone: not UTF-8 is "invalid UTF-8", the rest as parseGoSum does', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const got = attemptWithCodes(['too_large'], () => parseGoSumBytes(body));
        assert.ok(got.ok);
        const want: { lines: GoSumLine[]; invalid: GoSumInvalid[] } = { lines: [], invalid: [] };
        byteLines(body).forEach((b, i) => {
          const line = i + 1;
          const text = decodeUtf8(b);
          if (text === null) {
            want.invalid.push({ line, text: '\ufffd', reason: 'invalid UTF-8' });
            return;
          }
          // Alone, but as line 1 only when it is line 1 (a byte-order mark is judged there).
          const alone = parseGoSum(line === 1 ? text : '\n' + text);
          for (const l of alone.lines) want.lines.push({ ...l, line });
          for (const inv of alone.invalid) want.invalid.push({ ...inv, line });
        });
        assert.deepEqual(got.value, want);
      }),
      { numRuns: 150 },
    );
  });

  it('throws too_large exactly when the body has more than maxLines lines', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 0, max: 10 }), (body, maxLines) => {
        const r = attemptWithCodes(['too_large'], () => parseGoSumBytes(body, { maxLines }));
        assert.equal(r.ok, byteLines(body).length <= maxLines);
      }),
    );
  });
});
