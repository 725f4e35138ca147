/**
 * Shared setup for the property tests (test/property/*.test.ts): fast-check's global settings,
 * the "only SumkeepError escapes" check, and mutation arbitraries that damage valid encodings.
 *
 * Runs are bounded (numRuns below, smaller per property where one run is costly) so the whole
 * property suite stays well under 30 s on a busy 2-core machine. The seed is fast-check's random
 * one unless SUMKEEP_FC_SEED is set; a failure prints the seed and shrunk counterexample, and
 * `SUMKEEP_FC_SEED=<seed> npm test -- property` replays it.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SumkeepError } from '../../src/core/errors.ts';

const seedText = process.env.SUMKEEP_FC_SEED;
fc.configureGlobal({
  numRuns: 100,
  includeErrorInReport: true,
  ...(seedText !== undefined && seedText !== '' ? { seed: Number(seedText) } : {}),
});

export { fc };

/** What a parser did with one input: a value, or the SumkeepError it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SumkeepError };

/**
 * Runs f; any throw that is not a SumkeepError fails the property (with the error's class and
 * message), since parsers must turn every bad input into a domain error.
 */
export function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof SumkeepError) return { ok: false, error: e };
    const what = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
    throw new assert.AssertionError({ message: `threw a non-SumkeepError: ${what}` });
  }
}

/** As attempt, and the error (when there is one) must carry one of `codes`. */
export function attemptWithCodes<T>(codes: readonly string[], f: () => T): Outcome<T> {
  const r = attempt(f);
  if (!r.ok)
    assert.ok(codes.includes(r.error.code), `unexpected error code ${r.error.code}: ${r.error.message}`);
  return r;
}

// ---- mutations ----

/**
 * One edit. Positions are taken modulo the input length, so the same edit list applies to any
 * input and shrinks independently of it.
 */
export type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'repeat'; at: number; len: number; times: number }
  | { kind: 'truncate'; at: number };

const enc = new TextEncoder();

/** Bytes worth inserting: protocol punctuation, controls, non-ASCII, invalid UTF-8. */
const INTERESTING = [
  '\n',
  '\n\n',
  ' ',
  '\t',
  '\r',
  '\0',
  '+',
  '/',
  '@',
  '!',
  '.',
  '-',
  '=',
  'A',
  'x',
  '0',
  '9',
  '\u2014 ',
  '\u00e9',
  '\ufeff',
  '\u2028',
  '\u{1f600}',
].map((s) => enc.encode(s));
const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x80], [0x80]].map(
  (b) => new Uint8Array(b),
);

const insertion = fc.oneof(
  fc.constantFrom(...INTERESTING, ...INVALID_UTF8),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }).map((s) => enc.encode(s)),
);

export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: insertion }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
    times: fc.integer({ min: 2, max: 3000 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

/** One to three edits. */
export const editsArb = fc.array(editArb, { minLength: 1, maxLength: 3 });

function applyEdit(b: Uint8Array, e: Edit): Uint8Array {
  const n = b.length;
  const at = n === 0 ? 0 : e.at % (e.kind === 'insert' || e.kind === 'truncate' ? n + 1 : n);
  switch (e.kind) {
    case 'flip': {
      if (n === 0) return b;
      const c = b.slice();
      c[at] = c[at]! ^ (1 << e.bit);
      return c;
    }
    case 'set': {
      if (n === 0) return b;
      const c = b.slice();
      c[at] = e.value;
      return c;
    }
    case 'insert': {
      const c = new Uint8Array(n + e.bytes.length);
      c.set(b.subarray(0, at), 0);
      c.set(e.bytes, at);
      c.set(b.subarray(at), at + e.bytes.length);
      return c;
    }
    case 'delete': {
      const c = new Uint8Array(n - Math.min(e.len, n - at));
      c.set(b.subarray(0, at), 0);
      c.set(b.subarray(at + e.len), at);
      return c;
    }
    case 'repeat': {
      if (n === 0) return b;
      const piece = b.subarray(at, at + e.len);
      const c = new Uint8Array(n + piece.length * (e.times - 1));
      c.set(b.subarray(0, at), 0);
      for (let i = 0; i < e.times; i++) c.set(piece, at + i * piece.length);
      c.set(b.subarray(at + piece.length), at + e.times * piece.length);
      return c;
    }
    case 'truncate':
      return b.slice(0, at);
  }
}

/** `b` with every edit applied in turn (a fresh array; `b` is not changed). */
export function mutateBytes(b: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let out = b;
  for (const e of edits) out = applyEdit(out, e);
  return out === b ? b.slice() : out;
}

/**
 * `s` edited as UTF-8 bytes and decoded back leniently (invalid sequences become U+FFFD), then
 * with a lone surrogate spliced in when an edit asks for byte 0xed: string parsers see every
 * kind of damage a byte parser does, plus the one only a JavaScript string can hold.
 */
export function mutateString(s: string, edits: readonly Edit[]): string {
  const out = Buffer.from(mutateBytes(enc.encode(s), edits)).toString('utf8');
  const lone = edits.find((e) => e.kind === 'set' && e.value === 0xed);
  if (lone === undefined) return out;
  const at = lone.at % (out.length + 1);
  return out.slice(0, at) + '\ud800' + out.slice(at);
}

/** Arbitrary byte strings, from short noise to runs of one interesting byte. */
export const noiseBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }).map((s) => enc.encode(s)),
  fc
    .tuple(fc.constantFrom(...INTERESTING, ...INVALID_UTF8), fc.integer({ min: 1, max: 5000 }))
    .map(([piece, times]) => {
      const c = new Uint8Array(piece.length * times);
      for (let i = 0; i < times; i++) c.set(piece, i * piece.length);
      return c;
    }),
);

/** Arbitrary JavaScript strings, lone surrogates included. */
export const noiseString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: fc.constantFrom(...'aAzZ09.-_~!@+/ \n\u2014\ud800'.split('')), maxLength: 100 }),
);
