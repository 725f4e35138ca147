/**
 * The status page as HTML: one server-rendered document, readable without JavaScript, with the
 * page's one script (/static/status.js: the copy button, and the verify box through
 * POST /api/v1/verify) and its stylesheet, both from this server. Every value goes through the
 * escaping `markup` template (module paths, the search query and the go.sum are
 * attacker-controlled). The verify table here and the one status.js builds have the same markup
 * (ids, classes, data-status), so the page looks the same with or without the script.
 */
import type { RecordSummary } from '../log/api.ts';
import type { VerifyLineResult } from '../verify/response.ts';
import { markup, type Html } from './html.ts';
import { growthChart, isoUtc, minuteUtc } from './status-chart.ts';
import type { StatusView, VerifyView } from './status-view.ts';

const when = (ms: number): Html => markup`<time datetime="${isoUtc(ms)}">${minuteUtc(ms)}</time>`;

function recordTable(id: string, caption: string, rows: readonly RecordSummary[]): Html {
  return markup`<table id="${id}">
<caption>${caption}</caption>
<thead><tr><th scope="col">Record</th><th scope="col">Module</th><th scope="col">Version</th><th scope="col">Logged</th></tr></thead>
<tbody>
${rows.map(
  (r) =>
    markup`<tr><td class="num">${r.id}</td><td class="path"><code>${r.path}</code></td><td><code>${r.version}</code></td><td>${when(r.createdAt)}</td></tr>\n`,
)}</tbody>
</table>`;
}

function gosumdbSection(v: StatusView): Html {
  if (v.gosumdb === null) {
    return markup`<p>This server was started without a verifier key or public URL, so its GOSUMDB line is not known here.</p>`;
  }
  return markup`<p>Point the go command at this checksum database:</p>
<div class="copy-row">
<label for="gosumdb-line">GOSUMDB</label>
<input id="gosumdb-line" type="text" readonly value="${v.gosumdb}" spellcheck="false">
<button type="button" id="copy-gosumdb" data-copy="gosumdb-line" hidden>Copy</button>
<span id="copy-status" role="status" aria-live="polite"></span>
</div>
<pre><code>go env -w 'GOSUMDB=${v.gosumdb}'</code></pre>
<p class="hint">The same as text: <a href="/api/v1/gosumdb">/api/v1/gosumdb</a>.</p>`;
}

function searchSection(v: StatusView): Html {
  const s = v.search;
  let results: Html | null = null;
  if (s !== null && s.error !== null) {
    results = markup`<p class="error" role="alert">${s.error}</p>`;
  } else if (s !== null && s.results.length === 0) {
    results = markup`<p id="search-empty">No logged module path starts with <code>${s.q}</code>.</p>`;
  } else if (s !== null) {
    const caption = s.more
      ? `The first ${s.results.length} logged versions of modules whose path starts with ${s.q} (narrow the prefix for more)`
      : `Logged versions of modules whose path starts with ${s.q}`;
    results = recordTable('search-results', caption, s.results);
  }
  return markup`<form method="get" action="/" role="search" class="search">
<label for="q">Module path prefix</label>
<input id="q" name="q" type="search" value="${s?.q ?? ''}" placeholder="example.com/" maxlength="512" spellcheck="false" autocapitalize="off">
<button type="submit">Search</button>
</form>
<p class="hint">Case-sensitive, compared byte by byte; at most ${v.limits.search} results.</p>
${results}`;
}

function verifyRow(r: VerifyLineResult): Html {
  const detail =
    r.status === 'mismatch'
      ? markup`logged <code>${r.logged}</code> (record ${r.recordId})`
      : r.status === 'match'
        ? markup`record ${r.recordId}`
        : (r.reason ?? '');
  return markup`<tr class="status-${r.status}" data-status="${r.status}"><td class="num">${r.line}</td><td class="path"><code>${r.module ?? ''}</code></td><td><code>${r.version ?? ''}</code></td><td>${r.kind ?? ''}</td><td class="status">${r.status}</td><td><code>${r.hash ?? ''}</code></td><td>${detail}</td></tr>\n`;
}

/** The verify result table (same markup as status.js builds from the API's JSON). */
function verifyResult(vv: VerifyView | null): Html | null {
  if (vv === null) return null;
  if (vv.error !== undefined) return markup`<p class="error" role="alert">${vv.error}</p>`;
  const s = vv.summary;
  return markup`<table id="verify-table">
<caption>${s.match} match, ${s.mismatch} mismatch, ${s.unknown} unknown, ${s.invalid} invalid (tree size ${vv.treeSize})</caption>
<thead><tr><th scope="col">Line</th><th scope="col">Module</th><th scope="col">Version</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Hash in go.sum</th><th scope="col">Log</th></tr></thead>
<tbody>
${vv.results.map(verifyRow)}</tbody>
</table>`;
}

function verifySection(v: StatusView): Html {
  // The newline after <textarea> is dropped by HTML parsers; a go.sum starting with one keeps it.
  return markup`<form id="verify-form" method="post" action="/verify">
<label for="gosum">go.sum to check against the log</label>
<textarea id="gosum" name="gosum" rows="8" spellcheck="false" autocapitalize="off" placeholder="example.com/m v1.0.0 h1:...">
${v.verify?.gosum ?? ''}</textarea>
<button type="submit">Check</button>
</form>
<p class="hint">Only versions already in the log are compared; nothing is fetched. At most ${v.limits.verifyLines} lines. For a signed answer run <code>npx sumkeep verify go.sum</code>.</p>
<div id="verify-result" tabindex="-1" aria-live="polite">${verifyResult(v.verify)}</div>`;
}

export function renderStatusHtml(v: StatusView): string {
  const head = v.head;
  const base = v.gosumdb === null ? '<server>' : v.gosumdb.slice(v.gosumdb.indexOf(' ') + 1);
  const doc = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${v.name}: checksum database status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/status.css">
<script type="module" src="/static/status.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<h1 id="log-name">${v.name}</h1>
<p>A private Go checksum database (sumkeep). Every record below is in a signed, append-only Merkle tree.</p>
</header>
<main id="main">
<section aria-labelledby="h-use"><h2 id="h-use">Use it</h2>
${gosumdbSection(v)}
</section>
<section aria-labelledby="h-tree"><h2 id="h-tree">Tree</h2>
${
  head === null
    ? markup`<p>Tree size: <strong id="tree-size">0</strong> records (nothing signed yet).</p>`
    : markup`<p>Tree size: <strong id="tree-size">${head.size}</strong> records, signed ${when(head.createdAt)}. The signed head: <a href="/latest">/latest</a>.</p>`
}
${growthChart(v.growth, v.now)}
</section>
<section aria-labelledby="h-search"><h2 id="h-search">Search</h2>
${searchSection(v)}
</section>
<section aria-labelledby="h-verify"><h2 id="h-verify">Check a go.sum</h2>
${verifySection(v)}
</section>
<section aria-labelledby="h-recent"><h2 id="h-recent">Recent records</h2>
${
  v.recent.length === 0
    ? markup`<p>No records yet.</p>`
    : recordTable(
        'recent-records',
        `The ${v.recent.length} most recently logged module versions, newest first`,
        v.recent,
      )
}
</section>
</main>
<footer><p>The same as plain text: <code>curl ${base}/</code>. Trust material: <a href="/.well-known/sumkeep/trust.json">trust.json</a>.</p></footer>
</body>
</html>
`;
  return doc.text;
}
