/**
 * The status page as plain text (GET / for curl and anything that does not ask for HTML). Lines of
 * UTF-8 text ending in "\n"; fields separated by two spaces. Module paths and versions come from
 * the log; the echoed search query is quoted with JSON.stringify, so a control character in it
 * shows as an escape, never as terminal input.
 */
import { isoUtc } from './status-chart.ts';
import type { StatusView } from './status-view.ts';
import type { RecordSummary } from '../log/api.ts';

const records = (rows: readonly RecordSummary[]): string[] => {
  const w = Math.max(0, ...rows.map((r) => String(r.id).length));
  return rows.map((r) => `  ${String(r.id).padStart(w)}  ${r.path} ${r.version}  ${isoUtc(r.createdAt)}`);
};

export function renderStatusText(v: StatusView): string {
  const out: string[] = [`${v.name}: a Go checksum database (sumkeep)`, ''];
  if (v.gosumdb === null) {
    out.push('GOSUMDB: not known (this server was started without a verifier key or public URL)');
  } else {
    out.push(`GOSUMDB=${v.gosumdb}`, `  go env -w 'GOSUMDB=${v.gosumdb}'`);
  }
  out.push('');
  out.push(
    v.head === null
      ? 'tree size: 0 (nothing signed yet)'
      : `tree size: ${v.head.size} (signed ${isoUtc(v.head.createdAt)})`,
  );
  if (v.growth.length > 0) {
    out.push('', 'growth (signed at, tree size):');
    for (const p of v.growth) out.push(`  ${isoUtc(p.createdAt)}  ${p.size}`);
  }
  if (v.search !== null) {
    const q = JSON.stringify(v.search.q);
    out.push('');
    if (v.search.error !== null) out.push(`search ${q}: ${v.search.error}`);
    else if (v.search.results.length === 0) out.push(`search ${q}: no logged module path starts with it`);
    else {
      const more = v.search.more ? ` (the first ${v.search.results.length}; narrow the prefix for more)` : '';
      out.push(`search ${q}${more}:`, ...records(v.search.results));
    }
  }
  out.push('');
  if (v.recent.length === 0) out.push('recent records: none yet');
  else out.push('recent records (newest first):', ...records(v.recent));
  const base = v.gosumdb === null ? '<server>' : v.gosumdb.slice(v.gosumdb.indexOf(' ') + 1);
  out.push(
    '',
    `search: curl '${base}/?q=<module path prefix>'`,
    `check a go.sum: curl --data-binary @go.sum -H 'Content-Type: text/plain' ${base}/api/v1/verify`,
  );
  return out.join('\n') + '\n';
}
