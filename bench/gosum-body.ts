/**
 * `npm run bench -- gosum-body [--runs N]`: how long parseGoSumBytes (src/verify/gosum-text.ts,
 * the parser of POST /api/v1/verify bodies) takes on hostile 1 MiB bodies, with the server's
 * default line bound (verifyMaxLines, 100,000) and with the library default (500,000).
 *
 * Bodies: "\xff\n" repeated (every line invalid UTF-8), one invalid byte then newlines only,
 * "a b c\n" repeated (valid UTF-8, every line an invalid go.sum line), and real go.sum lines.
 * Prints the median of N runs (default 5) in milliseconds and whether the run ended in too_large.
 */
import { parseGoSumBytes } from '../src/verify/gosum-text.ts';
import { isSumkeepError } from '../src/core/errors.ts';

const MiB = 1 << 20;

function repeatTo(piece: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size - (size % piece.length));
  for (let i = 0; i < out.length; i += piece.length) out.set(piece, i);
  return out;
}

const enc = new TextEncoder();
const LINE =
  'golang.org/x/sys v0.0.0-20191109021931-daa7c04131f5 h1:V5VMDjClD3GiElqLWO7mz2MxNAK/vTfRHdAubSIPRgs=\n';

function bodies(): [string, Uint8Array][] {
  const newlines = new Uint8Array(MiB).fill(0x0a);
  newlines[0] = 0xff;
  return [
    ['"\\xff\\n" x 512Ki', repeatTo(new Uint8Array([0xff, 0x0a]), MiB)],
    ['"\\xff" then 1Mi "\\n"', newlines],
    ['"a b c\\n" x 174Ki', repeatTo(enc.encode('a b c\n'), MiB)],
    ['valid lines, 1 MiB', repeatTo(enc.encode(LINE), MiB)],
  ];
}

function once(body: Uint8Array, maxLines: number): { ms: number; tooLarge: boolean } {
  const start = performance.now();
  let tooLarge = false;
  try {
    parseGoSumBytes(body, { maxLines });
  } catch (e) {
    if (!isSumkeepError(e, 'too_large')) throw e;
    tooLarge = true;
  }
  return { ms: performance.now() - start, tooLarge };
}

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
  console.log(`parseGoSumBytes on 1 MiB bodies, median of ${runs} runs (ms)`);
  console.log(['body'.padEnd(24), 'maxLines'.padStart(9), 'median'.padStart(9), '  too_large'].join(''));
  for (const [name, body] of bodies()) {
    for (const maxLines of [100_000, 500_000]) {
      const times: number[] = [];
      let tooLarge = false;
      for (let r = 0; r < runs; r++) {
        const o = once(body, maxLines);
        times.push(o.ms);
        tooLarge = o.tooLarge;
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      console.log(
        [name.padEnd(24), String(maxLines).padStart(9), median.toFixed(1).padStart(9), `  ${tooLarge}`].join(
          '',
        ),
      );
    }
  }
}
