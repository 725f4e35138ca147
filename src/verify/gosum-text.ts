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
import { parseGoSum, type GoSumInvalid, type GoSumLine } from '../core/gosum.ts';

function decode(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return null;
  }
}

export function decodeGoSum(body: Uint8Array): { text: string; badUtf8: Set<number> } {
  const whole = decode(body);
  if (whole !== null) return { text: whole, badUtf8: new Set() };
  const parts: string[] = [];
  const badUtf8 = new Set<number>();
  let start = 0;
  while (start <= body.length) {
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
  const { text, badUtf8 } = decodeGoSum(body);
  const parsed = parseGoSum(text, opts);
  for (const inv of parsed.invalid) if (badUtf8.has(inv.line)) inv.reason = 'invalid UTF-8';
  return parsed;
}
