// The status page's one script, served by sumkeep as /static/status.js (plain ES module, no build
// step, nothing from another host). The page works without it: the copy button stays hidden and
// the verify form posts to /verify, which answers with the page and the result table. With it:
//  - the copy button copies the GOSUMDB line;
//  - the verify form sends the go.sum to POST /api/v1/verify and builds the same table
//    (same ids, classes and data-status as src/http/status-html.ts) from its JSON, with
//    textContent only, never markup. When the API cannot answer (503: no response-signing key),
//    the form is posted the plain way.

const copyButton = document.getElementById('copy-gosumdb');
const copyStatus = document.getElementById('copy-status');

if (copyButton !== null) {
  const input = document.getElementById(copyButton.dataset.copy ?? '');
  copyButton.hidden = false;
  copyButton.addEventListener('click', async () => {
    if (!(input instanceof HTMLInputElement)) return;
    try {
      // Only in a secure context (https, or http on localhost).
      await navigator.clipboard.writeText(input.value);
      if (copyStatus !== null) copyStatus.textContent = 'Copied.';
    } catch {
      input.focus();
      input.select();
      if (copyStatus !== null) copyStatus.textContent = 'Selected: press Ctrl+C (or Cmd+C) to copy.';
    }
  });
}

/** An element with text content and a class. */
function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className !== undefined) e.className = className;
  return e;
}

function codeCell(text, className) {
  const td = el('td', undefined, className);
  td.append(el('code', text ?? ''));
  return td;
}

function resultRow(r) {
  const tr = el('tr', undefined, `status-${r.status}`);
  tr.dataset.status = r.status;
  tr.append(
    el('td', r.line, 'num'),
    codeCell(r.module, 'path'),
    codeCell(r.version),
    el('td', r.kind ?? ''),
    el('td', r.status, 'status'),
    codeCell(r.hash),
  );
  const detail = el('td');
  if (r.status === 'mismatch') {
    detail.append('logged ', el('code', r.logged ?? ''), ` (record ${r.recordId})`);
  } else if (r.status === 'match') {
    detail.textContent = `record ${r.recordId}`;
  } else {
    detail.textContent = r.reason ?? '';
  }
  tr.append(detail);
  return tr;
}

function resultTable(answer) {
  const s = answer.summary;
  const table = el('table');
  table.id = 'verify-table';
  table.append(
    el(
      'caption',
      `${s.match} match, ${s.mismatch} mismatch, ${s.unknown} unknown, ${s.invalid} invalid (tree size ${answer.tree.size})`,
    ),
  );
  const head = el('thead');
  const hr = el('tr');
  for (const h of ['Line', 'Module', 'Version', 'Kind', 'Status', 'Hash in go.sum', 'Log']) {
    const th = el('th', h);
    th.scope = 'col';
    hr.append(th);
  }
  head.append(hr);
  const body = el('tbody');
  for (const r of answer.results) body.append(resultRow(r));
  table.append(head, body);
  return table;
}

const form = document.getElementById('verify-form');
const result = document.getElementById('verify-result');
const textarea = document.getElementById('gosum');

if (form instanceof HTMLFormElement && result !== null && textarea instanceof HTMLTextAreaElement) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button instanceof HTMLButtonElement) button.disabled = true;
    result.replaceChildren(el('p', 'Checking...'));
    try {
      const r = await fetch('/api/v1/verify', {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' },
        body: textarea.value.replace(/\r\n?/g, '\n'),
      });
      if (r.status === 503) {
        // No response-signing key (or the log is busy): the server-rendered check needs neither.
        form.submit();
        return;
      }
      if (!r.ok) {
        const p = el('p', (await r.text()).trim() || `HTTP ${r.status}`, 'error');
        p.setAttribute('role', 'alert');
        result.replaceChildren(p);
      } else {
        result.replaceChildren(resultTable(await r.json()));
      }
    } catch (e) {
      const p = el('p', `The check failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
      p.setAttribute('role', 'alert');
      result.replaceChildren(p);
    } finally {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    }
    result.focus();
  });
}
