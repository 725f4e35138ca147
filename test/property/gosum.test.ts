// Properties of go.sum lines and sumdb record texts (src/core/gosum.ts): every line and record
// the formatters write parses back to the same values, the lenient parser never throws (bar the
// line bound) and judges each line as the strict one does, and what it accepts is exactly what
// formatGoSumLine writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_GO_MOD_HASH,
  GOSUM_MAX_LINE_LENGTH,
  formatGoSumLine,
  formatRecordLines,
  parseGoSum,
  parseGoSumStrict,
  parseRecordLines,
  type GoSumLine,
} from '../../src/core/gosum.ts';
import { h1Arb, moduleVersionArb } from './arbitraries.ts';
import { attempt, attemptWithCodes, editsArb, fc, mutateString, noiseString } from './fc.ts';

const LINE_CODES = ['bad_module_path', 'bad_version', 'bad_gosum'];

const lineArb: fc.Arbitrary<Omit<GoSumLine, 'line'>> = fc
  .tuple(moduleVersionArb, fc.constantFrom('zip' as const, 'go.mod' as const), h1Arb)
  .map(([{ path, version }, kind, hash]) => ({ path, version, kind, hash }));

/** Lines formatGoSumLine writes, "\n" included (lines over the length bound are refused). */
const formattedLineArb: fc.Arbitrary<string> = lineArb
  .map((l) => attempt(() => formatGoSumLine(l)))
  .filter((r) => r.ok)
  .map((r) => (r.ok ? r.value : ''));

/** go.sum texts: formatted lines, damaged ones, noise, blank lines, CRLF, no final newline. */
const goSumTextArb = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: formattedLineArb.map((l) => l.slice(0, -1)) },
      {
        weight: 3,
        arbitrary: fc.tuple(formattedLineArb, editsArb).map(([l, e]) => mutateString(l, e)),
      },
      { weight: 1, arbitrary: noiseString },
      { weight: 1, arbitrary: fc.constantFrom('', '  \t', '\r', '\ufeff') },
    ),
    { maxLength: 8 },
  )
  .chain((lines) => fc.constantFrom('\n', '\r\n').map((nl) => lines.join(nl)));

describe('formatGoSumLine and parseGoSum', () => {
  it('every line formatGoSumLine writes parses back, or it refuses the line', () => {
    fc.assert(
      fc.property(lineArb, (l) => {
        const f = attemptWithCodes(LINE_CODES, () => formatGoSumLine(l));
        if (!f.ok) {
          // The only valid module versions refused are those whose line would be over the bound.
          const line = `${l.path} ${l.version}${l.kind === 'go.mod' ? '/go.mod' : ''} ${l.hash}`;
          assert.ok(line.length > GOSUM_MAX_LINE_LENGTH, `refused a line: ${f.error.message}`);
          return;
        }
        if (l.hash === EMPTY_GO_MOD_HASH) return; // reported by design: the go command drops it
        assert.deepEqual(parseGoSumStrict(f.value), [{ line: 1, ...l }]);
      }),
      { numRuns: 200 },
    );
  });

  it('parseGoSum never throws, numbers lines from 1, agrees with parseGoSumStrict, and accepts only formatted lines', () => {
    fc.assert(
      fc.property(goSumTextArb, (text) => {
        const r = attempt(() => parseGoSum(text));
        assert.ok(r.ok);
        const { lines, invalid } = r.value;
        const raw = text.split('\n');
        for (const l of lines) {
          const { line, ...rest } = l;
          assert.equal(formatGoSumLine(rest), raw[line - 1] + '\n', 'accepted a non-canonical line');
        }
        const numbers = [...lines, ...invalid].map((l) => l.line);
        assert.equal(new Set(numbers).size, numbers.length);
        for (const n of numbers) assert.ok(n >= 1 && n <= raw.length);
        const strict = attemptWithCodes(['bad_gosum'], () => parseGoSumStrict(text));
        assert.equal(strict.ok, invalid.length === 0);
        if (strict.ok) assert.deepEqual(strict.value, lines);
        else
          assert.match(
            strict.error.message,
            new RegExp(`^go\\.sum:${Math.min(...invalid.map((i) => i.line))}: `),
          );
      }),
      { numRuns: 100 },
    );
  });

  it('parseGoSum throws only too_large, past maxLines', () => {
    fc.assert(
      fc.property(goSumTextArb, fc.integer({ min: 0, max: 10 }), (text, maxLines) => {
        const r = attemptWithCodes(['too_large'], () => parseGoSum(text, { maxLines }));
        let count = 0;
        for (let start = 0; start < text.length; start = text.indexOf('\n', start) + 1 || text.length)
          count++;
        assert.equal(r.ok, count <= maxLines);
      }),
    );
  });
});

/** Record hashes: any h1 hash, and the empty go.mod's, which a module with an empty go.mod has. */
const recordHashArb = fc.oneof(h1Arb, fc.constant(EMPTY_GO_MOD_HASH));

describe('formatRecordLines and parseRecordLines', () => {
  it('every record formatRecordLines writes parses back to the same module version and hashes', () => {
    fc.assert(
      fc.property(moduleVersionArb, recordHashArb, recordHashArb, ({ path, version }, zipHash, modHash) => {
        const f = attemptWithCodes(LINE_CODES, () => formatRecordLines(path, version, zipHash, modHash));
        if (!f.ok) {
          assert.ok(`${path} ${version}/go.mod ${modHash}`.length > GOSUM_MAX_LINE_LENGTH, f.error.message);
          return;
        }
        assert.deepEqual(parseRecordLines(f.value), { path, version, zipHash, modHash });
      }),
      { numRuns: 200 },
    );
  });

  it('parseRecordLines raises only bad_gosum and accepts only what formatRecordLines writes', () => {
    const recordArb = fc
      .tuple(moduleVersionArb, h1Arb, h1Arb)
      .map(([{ path, version }, a, b]) => attempt(() => formatRecordLines(path, version, a, b)))
      .filter((r) => r.ok)
      .map((r) => (r.ok ? r.value : ''));
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          fc.tuple(recordArb, editsArb).map(([r, e]) => mutateString(r, e)),
        ),
        (s) => {
          const r = attemptWithCodes(['bad_gosum'], () => parseRecordLines(s));
          if (r.ok) {
            const { path, version, zipHash, modHash } = r.value;
            assert.equal(formatRecordLines(path, version, zipHash, modHash), s);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
