/**
 * What `sumkeep verify` prints and how it exits.
 *
 * Exit codes: 0 when every line matches; 1 when any line mismatches or is denied by the server's
 * policy (a definite finding that must not be missed, and that no retry or --fetch changes: it
 * wins over unknown and invalid lines); 2 when, without those, any line is unknown or invalid, and
 * for every error (unreachable server, bad signature, broken chain, failed proof).
 */
import type { VerifyLineResult, VerifyResponse, VerifyStatus } from './response.ts';

export const EXIT_OK = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_INCOMPLETE = 2;

export function exitCodeFor(summary: Record<VerifyStatus, number>): number {
  if (summary.mismatch > 0 || summary.denied > 0) return EXIT_MISMATCH;
  if (summary.unknown > 0 || summary.invalid > 0) return EXIT_INCOMPLETE;
  return EXIT_OK;
}

/** "h1:AbCdEfGhIjKl..." — enough of a hash to tell two apart at a glance. */
export function shortHash(h: string | null): string {
  if (h === null) return '-';
  return h.length > 15 ? h.slice(0, 15) + '...' : h;
}

function hashColumn(r: VerifyLineResult): string {
  switch (r.status) {
    case 'match':
      return shortHash(r.hash);
    case 'mismatch':
      return `go.sum ${shortHash(r.hash)}  log ${shortHash(r.logged)}`;
    default:
      return r.reason ?? '';
  }
}

/** Printable: control characters of hostile text are shown as spaces. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** The table: LINE, MODULE@VERSION, KIND, STATUS, HASH (or the reason), then a summary line. */
export function formatTable(response: VerifyResponse): string {
  const rows = response.results.map((r) => [
    String(r.line),
    r.module === null ? '-' : `${r.module}@${r.version ?? ''}`,
    r.kind ?? '-',
    r.status,
    hashColumn(r),
  ]);
  const head = ['LINE', 'MODULE@VERSION', 'KIND', 'STATUS', 'HASH'];
  const widths = head.map((h, i) => Math.min(80, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const s = response.summary;
  return (
    [head, ...rows].map((row) => clean(fmt(row))).join('\n') +
    `\n\n${s.match} match, ${s.mismatch} mismatch, ${s.unknown} unknown, ` +
    (s.denied > 0 ? `${s.denied} denied, ` : '') +
    `${s.invalid} invalid` +
    ` (log tree size ${response.tree.size})\n`
  );
}
