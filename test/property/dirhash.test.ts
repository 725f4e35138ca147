// Properties of dirhash Hash1 (src/core/dirhash.ts): the summary is exactly one
// "<hex>  <name>\n" line per file in UTF-8 name order, so the hash does not depend on the order
// files are listed in; bad names and digests raise only bad_dirhash; and isH1 accepts exactly
// the hashes a go.sum line may carry.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareBytes, toHex, utf8 } from '../../src/core/bytes.ts';
import { hash1, hash1Summary, isH1, type FileDigest } from '../../src/core/dirhash.ts';
import { formatGoSumLine } from '../../src/core/gosum.ts';
import { h1Arb } from './arbitraries.ts';
import { attempt, attemptWithCodes, editsArb, fc, mutateString, noiseString } from './fc.ts';

const digestArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nameArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\n')),
  fc.stringMatching(/^example\.com\/m@v1\.0\.0\/[a-z\u00e9\ue000\u{10000}/.]{1,12}$/u),
);
const filesArb = fc.uniqueArray(fc.record({ name: nameArb, sha256: digestArb }), {
  selector: (f) => f.name,
  maxLength: 12,
});

describe('hash1Summary and hash1', () => {
  it('write one line per file, sorted by the UTF-8 bytes of the names, and do not depend on input order', () => {
    fc.assert(
      fc.property(filesArb, fc.array(fc.nat()), (files, keys) => {
        const summary = new TextDecoder().decode(hash1Summary(files));
        const lines = summary === '' ? [] : summary.slice(0, -1).split('\n');
        assert.equal(lines.length, files.length);
        const want = files
          .map((f) => ({ key: utf8(f.name), line: `${toHex(f.sha256)}  ${f.name}` }))
          .sort((a, b) => compareBytes(a.key, b.key))
          .map((e) => e.line);
        assert.deepEqual(lines, want);
        const shuffled = files
          .map((f, i) => ({ f, k: keys[i % Math.max(1, keys.length)] ?? 0 }))
          .sort((a, b) => a.k - b.k)
          .map((e) => e.f);
        assert.equal(hash1(shuffled), hash1(files));
        assert.ok(isH1(hash1(files)));
      }),
    );
  });

  it('raise only bad_dirhash for names with a newline or a lone surrogate, or digests not of 32 bytes', () => {
    const fileArb: fc.Arbitrary<FileDigest> = fc.record({
      name: fc.oneof(nameArb, noiseString),
      sha256: fc.oneof(digestArb, fc.uint8Array({ maxLength: 40 })),
    });
    fc.assert(
      fc.property(fc.array(fileArb, { maxLength: 5 }), (files) => {
        const r = attemptWithCodes(['bad_dirhash'], () => hash1(files));
        const fine = files.every(
          (f) => !f.name.includes('\n') && f.name.isWellFormed() && f.sha256.length === 32,
        );
        assert.equal(r.ok, fine);
      }),
    );
  });
});

/** An h1 hash with the base64 character before "=" replaced: often non-zero unused bits. */
const lastCharChanged = fc
  .tuple(h1Arb, fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'))
  .map(([h, c]) => h.slice(0, -2) + c + '=');

describe('isH1', () => {
  it('accepts exactly the hashes a go.sum line may carry', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          h1Arb,
          lastCharChanged,
          fc.tuple(h1Arb, editsArb).map(([h, e]) => mutateString(h, e)),
          noiseString,
        ),
        (h) => {
          const line = attempt(() =>
            formatGoSumLine({ path: 'example.com/m', version: 'v1.0.0', kind: 'zip', hash: h }),
          );
          assert.equal(isH1(h), line.ok, h);
        },
      ),
      { numRuns: 200 },
    );
  });
});
