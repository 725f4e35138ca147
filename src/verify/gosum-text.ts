/**
 * How a go.sum file's bytes become the text that is checked, the same on the server (the body of
 * POST /api/v1/verify) and in sumkeep verify (the local file it compares the answer with), so
 * that both number and judge the lines alike.
 *
 * Valid UTF-8 is taken as is, a byte-order mark included (parseGoSum reports it). Otherwise each
 * "\n"-separated line is decoded on its own and a line that is not valid UTF-8 is replaced by the
 * one-field placeholder U+FFFD, which parseGoSum reports invalid; its number is listed in `badUtf8`
 * so that the reason can say "invalid UTF-8". The other lines keep their numbers and text.
 */
import { isUtf8 } from 'node:buffer';
import { GOSUM_MAX_LINES, parseGoSumSteps, drain, type GoSumInvalid, type GoSumLine } from '../core/gosum.ts';

// One decoder, used only on bytes isUtf8 passed: a fatal decoder built and made to throw per line
// cost tens of microseconds a line, seconds for a 1 MiB body of "\xff\n" lines whatever maxLines
// (npm run bench -- gosum-body).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function decode(b: Uint8Array): string | null {
  return isUtf8(b) ? decoder.decode(b) : null;
}

/**
 * The text of `body`. Line by line (for a body that is not valid UTF-8) it stops after maxLines + 2
 * parts, so that the text still holds maxLines + 1 newline-terminated lines (a last part may be
 * empty, which parseGoSum does not count): parseGoSum refuses it then anyway, and the work stays
 * bounded by maxLines, not by the body size.
 */
export function decodeGoSum(body: Uint8Array, maxLines = Infinity): { text: string; badUtf8: Set<number> } {
  const whole = decode(body);
  if (whole !== null) return { text: whole, badUtf8: new Set() };
  const parts: string[] = [];
  const badUtf8 = new Set<number>();
  let start = 0;
  while (start <= body.length && parts.length <= maxLines + 1) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    const s = decode(body.subarray(start, end));
    if (s === null) badUtf8.add(parts.length + 1);
    parts.push(s ?? '\ufffd');
    start = end + 1;
  }
  return { text: parts.join('\n'), badUtf8 };
}

/**
 * decodeGoSum, then parseGoSum (lenient: every line parsed or invalid), with "invalid UTF-8" as
 * the reason for the lines that were not. Throws only SumkeepError('too_large') past maxLines.
 */
export function parseGoSumBytes(
  body: Uint8Array,
  opts: { maxLines?: number } = {},
): { lines: GoSumLine[]; invalid: GoSumInvalid[] } {
  return drain(parseGoSumBytesSteps(body, opts, Infinity));
}

/** parseGoSumBytes in steps of `chunk` lines (core/gosum.ts parseGoSumSteps). */
export function* parseGoSumBytesSteps(
  body: Uint8Array,
  opts: { maxLines?: number } = {},
  chunk = 2000,
): Generator<void, { lines: GoSumLine[]; invalid: GoSumInvalid[] }> {
  const { text, badUtf8 } = decodeGoSum(body, opts.maxLines ?? GOSUM_MAX_LINES);
  yield;
  const parsed = yield* parseGoSumSteps(text, opts, chunk);
  for (const inv of parsed.invalid) if (badUtf8.has(inv.line)) inv.reason = 'invalid UTF-8';
  return parsed;
}
