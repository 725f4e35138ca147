/**
 * The status page over plain HTTP (no browser): text for curl, HTML for a browser, the CSP and
 * other headers, escaping of attacker-controlled text, search by prefix and the verify form
 * without JavaScript, and their bounds. The page in a real browser: test/e2e/status-chromium.test.ts.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';
import { buildServer } from '../../src/http/server.ts';
import type { LogApi, RecordSummary } from '../../src/log/api.ts';
import { STATUS_CSP, STATUS_LIMITS, wantsHtml } from '../../src/http/status.ts';

const URL_BASE = 'http://sum.status.test:8080';
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const WRONG = 'h1:' + Buffer.alloc(32, 7).toString('base64');
/** 60 modules example.com/m0 .. m59, logged one per request (one head each). */
const MODULES = Array.from({ length: 60 }, (_, i) => `example.com/m${i}`);

const page = (s: App, url: string, accept?: string) =>
  s.app.inject({ url, headers: accept === undefined ? {} : { accept } });

const postForm = (s: App, body: string, type = 'application/x-www-form-urlencoded') =>
  s.app.inject({
    method: 'POST',
    url: '/verify',
    headers: { 'content-type': type, accept: HTML },
    payload: body,
  });

/** The rows (tr elements) of the table with this id, as their text without tags. */
function rows(body: string, id: string): string[] {
  const m = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(body);
  if (m === null) return [];
  return [...m[1]!.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)]
    .map((r) =>
      r[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((t) => !t.startsWith('Record Module') && !t.startsWith('Line Module'));
}

describe('status page (GET /, POST /verify)', () => {
  let auth: TestAuthority;
  let s: App;

  before(async () => {
    auth = makeAuthority({ name: 'sum.status.test' });
    s = await startApp(auth.keys, { publicUrl: URL_BASE, verify: { maxLines: 20, bodyLimit: 4096 } });
    for (const m of MODULES) assert.equal((await s.app.inject(`/lookup/${m}@v1.0.0`)).statusCode, 200);
  });
  after(async () => s.close());

  it('answers curl with text: name, GOSUMDB line, tree size, the newest records', async () => {
    const r = await page(s, '/', '*/*');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.headers.vary, 'Accept');
    const lines = r.body.split('\n');
    assert.equal(lines[0], 'sum.status.test: a Go checksum database (sumkeep)');
    assert.ok(lines.includes(`GOSUMDB=${auth.keys.verifierKey} ${URL_BASE}`), r.body);
    assert.match(r.body, /^tree size: 60 \(signed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/m);
    const recent = lines
      .slice(lines.indexOf('recent records (newest first):') + 1)
      .filter((l) => l.startsWith('  '));
    assert.equal(recent.length, STATUS_LIMITS.recent);
    assert.match(recent[0]!, /^ {2}59 {2}example\.com\/m59 v1\.0\.0 {2}\d{4}-/);
    assert.match(recent.at(-1)!, /^ {2}40 {2}example\.com\/m40 v1\.0\.0 /);
    assert.ok(lines.includes(`search: curl '${URL_BASE}/?q=<module path prefix>'`), r.body);
    // No Accept header at all: text too.
    assert.equal((await page(s, '/')).headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('answers a browser with HTML under the strict CSP, with nothing from another host', async () => {
    const r = await page(s, '/', HTML);
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(
      r.headers['content-security-policy'],
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    assert.equal(r.headers['content-security-policy'], STATUS_CSP);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.body, /^<!doctype html>/);
    assert.match(r.body, /<h1 id="log-name">sum\.status\.test<\/h1>/);
    assert.match(r.body, /<strong id="tree-size">60<\/strong>/);
    assert.ok(r.body.includes(`value="${auth.keys.verifierKey} ${URL_BASE}"`));
    assert.match(
      r.body,
      /<button type="button" id="copy-gosumdb" data-copy="gosumdb-line" hidden>Copy<\/button>/,
    );
    // Exactly one script, from this server; no inline script, no style attribute or element.
    assert.deepEqual(
      [...r.body.matchAll(/<script[^>]*>/g)].map((m) => m[0]),
      ['<script type="module" src="/static/status.js">'],
    );
    assert.doesNotMatch(r.body, /<script>|\son[a-z]+=|\sstyle=|<style/i);
    for (const [, url] of r.body.matchAll(/\s(?:src|href|action)="([^"]*)"/g)) {
      assert.match(url!, /^(\/(?!\/)|#|data:,$)/, `resource from elsewhere: ${url}`);
    }
    // Every form control has a label.
    for (const [, id] of r.body.matchAll(/<(?:input|textarea)[^>]* id="([^"]+)"/g)) {
      assert.ok(r.body.includes(`<label for="${id}">`), `no label for #${id}`);
    }
    assert.equal(rows(r.body, 'recent-records').length, STATUS_LIMITS.recent);
  });

  it('serves the one script and the stylesheet itself, under the same headers', async () => {
    const js = await s.app.inject('/static/status.js');
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['content-security-policy'], STATUS_CSP);
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.match(js.body, /fetch\('\/api\/v1\/verify'/);
    assert.doesNotMatch(js.body, /https?:\/\/|innerHTML|eval\(/);
    const css = await s.app.inject('/static/status.css');
    assert.equal(css.statusCode, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.doesNotMatch(css.body, /url\(|@import|https?:/);
    assert.equal((await s.app.inject('/static/other.js')).statusCode, 404);
  });

  it('draws the growth chart from a bounded number of heads, ending at the tree size', async () => {
    const r = await page(s, '/', HTML);
    assert.match(
      r.body,
      /<svg id="growth-chart" viewBox="0 0 640 200" role="img" aria-labelledby="chart-title chart-desc"/,
    );
    assert.match(r.body, /<path class="chart-line" d="M[\d.]+ [\d.]+( H[\d.]+ V[\d.]+)+ H[\d.]+"\/>/);
    const samples = [
      ...r.body.matchAll(/<tr><td><time [^>]*>[^<]*<\/time><\/td><td class="num">(\d+)<\/td><\/tr>/g),
    ].map((m) => Number(m[1]));
    // 61 heads (the empty one and one per lookup), at most 48 samples, in order, the last the latest.
    assert.ok(samples.length >= 2 && samples.length <= STATUS_LIMITS.growthPoints, String(samples.length));
    assert.deepEqual(
      [...samples].sort((a, b) => a - b),
      samples,
    );
    assert.equal(samples.at(-1), 60);
    const text = (await page(s, '/')).body;
    assert.match(text, /growth \(signed at, tree size\):\n( {2}\S+ {2}\d+\n)+/);
  });

  it('searches by module path prefix without JavaScript: GET /?q=, byte order, bounded', async () => {
    const r = await page(s, '/?q=example.com/m1', HTML);
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /<input id="q" name="q" type="search" value="example\.com\/m1"/);
    const found = rows(r.body, 'search-results').map((t) => t.split(' ')[1]);
    // m1, then m10..m19: bytewise, not numeric, and not m2.
    assert.deepEqual(found, [
      'example.com/m1',
      ...Array.from({ length: 10 }, (_, i) => `example.com/m1${i}`),
    ]);

    const all = await page(s, '/?q=example.com/', HTML);
    assert.equal(rows(all.body, 'search-results').length, STATUS_LIMITS.search);
    assert.match(all.body, /narrow the prefix for more/);

    // '_' and '%' are no wildcards; case matters.
    for (const q of ['example.com/m_', 'example.com/m%25', 'EXAMPLE.com/']) {
      const n = await page(s, `/?q=${q}`, HTML);
      assert.equal(n.statusCode, 200);
      assert.match(n.body, /<p id="search-empty">No logged module path starts with/);
      assert.deepEqual(rows(n.body, 'search-results'), []);
    }

    const text = await page(s, '/?q=example.com/m5');
    assert.match(
      text.body,
      /^search "example\.com\/m5":\n {3}5 {2}example\.com\/m5 v1\.0\.0 .*\n {2}50 {2}example\.com\/m50 /m,
    );
    // An empty q is no search.
    assert.doesNotMatch((await page(s, '/?q=', HTML)).body, /search-results|search-empty/);
  });

  it('refuses a search prefix that no module path could start with, on the page, with 400', async () => {
    for (const q of ['has%20space', '%C3%A9t%C3%A9', 'x'.repeat(513), 'a&q=b']) {
      const r = await page(s, `/?q=${q}`, HTML);
      assert.equal(r.statusCode, 400, q);
      assert.match(r.body, /<p class="error" role="alert">/);
      assert.match(r.body, /<strong id="tree-size">60<\/strong>/);
    }
    const t = await page(s, '/?q=has%20space');
    assert.equal(t.statusCode, 400);
    assert.match(t.body, /^search "has space": search by a module path prefix of 1 to 512 printable ASCII/m);
  });

  it('escapes a hostile search query everywhere it is echoed', async () => {
    const hostile = `"><script>alert(1)</script><img/src=x/onerror=alert(2)>'`;
    const r = await page(s, `/?q=${encodeURIComponent(hostile)}`, HTML);
    assert.equal(r.statusCode, 200);
    assert.ok(!r.body.includes('<script>alert'), 'script tag echoed');
    assert.ok(!r.body.includes('<img/src'), 'img tag echoed');
    assert.ok(
      r.body.includes(
        'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img/src=x/onerror=alert(2)&gt;&#39;"',
      ),
    );
    assert.ok(r.body.includes('<code>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    // Text: quoted, with control characters as escapes.
    const t = await page(s, `/?q=${encodeURIComponent('\u001b[31m')}`);
    assert.equal(t.statusCode, 400);
    assert.ok(t.body.includes('search "\\u001b[31m":'), t.body);
    assert.ok(!t.body.includes('\u001b'));
  });

  it('escapes hostile module paths and versions from the log', async () => {
    const evil: RecordSummary = {
      id: 7,
      path: 'example.com/<script>alert(1)</script>',
      version: 'v1.0.0"><b>',
      createdAt: Date.now(),
    };
    // The real log behind the routes, with one record no real lookup could log.
    const log: LogApi = Object.create(s.service) as LogApi;
    log.recent = async () => [evil];
    log.search = async () => [evil];
    const app = buildServer({ log, name: 'evil<name>', keys: auth.keys, publicUrl: URL_BASE });
    try {
      for (const url of ['/', '/?q=example.com/']) {
        const r = await app.inject({ url, headers: { accept: HTML } });
        assert.equal(r.statusCode, 200);
        assert.ok(!r.body.includes('<script>alert'), url);
        assert.ok(!r.body.includes('<b>'), url);
        assert.ok(r.body.includes('<code>example.com/&lt;script&gt;alert(1)&lt;/script&gt;</code>'), url);
        assert.ok(r.body.includes('<code>v1.0.0&quot;&gt;&lt;b&gt;</code>'), url);
        assert.ok(r.body.includes('<h1 id="log-name">evil&lt;name&gt;</h1>'), url);
      }
    } finally {
      await app.close();
    }
  });

  it('checks a pasted go.sum without JavaScript: POST /verify renders the result table', async () => {
    const gosum =
      `example.com/m1 v1.0.0 ${fakeHash('example.com/m1', 'v1.0.0', 'zip')}\r\n` +
      `example.com/m2 v1.0.0/go.mod ${WRONG}\r\n` +
      `example.com/new v1.0.0 ${fakeHash('example.com/new', 'v1.0.0', 'zip')}\r\n` +
      `<script>alert(1)</script> v1.0.0 h1:x\r\n`;
    const r = await postForm(s, new URLSearchParams({ gosum }).toString());
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], STATUS_CSP);
    assert.match(r.body, /<caption>1 match, 1 mismatch, 1 unknown, 1 invalid \(tree size 60\)<\/caption>/);
    const mismatch = /<tr class="status-mismatch" data-status="mismatch">(.*)<\/tr>/.exec(r.body)?.[1] ?? '';
    assert.ok(mismatch.includes('<code>example.com/m2</code>'), mismatch);
    assert.ok(mismatch.includes(`<code>${WRONG}</code>`), mismatch);
    assert.ok(
      mismatch.includes(`logged <code>${fakeHash('example.com/m2', 'v1.0.0', 'go.mod')}</code>`),
      mismatch,
    );
    // CRLF from the textarea is taken as LF: line 1 matches.
    assert.match(r.body, /<tr class="status-match" data-status="match"><td class="num">1<\/td>/);
    assert.ok(!r.body.includes('<script>alert'));
    // The textarea keeps what was pasted (escaped), for another try.
    assert.match(
      r.body,
      /<textarea [^>]*>\nexample\.com\/m1 v1\.0\.0 h1:[^\n]*\n[\s\S]*&lt;script&gt;alert\(1\)&lt;\/script&gt; v1\.0\.0 h1:x\n<\/textarea>/,
    );
    // Nothing was fetched from the upstream, nothing logged.
    assert.equal(await s.store.treeSize(), 60);
  });

  it('keeps the verify limits on POST /verify and refuses other bodies', async () => {
    const many = Array.from({ length: 21 }, (_, i) => `example.com/m${i} v1.0.0 ${WRONG}`).join('\n');
    const r = await postForm(s, new URLSearchParams({ gosum: many }).toString());
    assert.equal(r.statusCode, 413);
    assert.match(
      r.body,
      /<div id="verify-result" tabindex="-1" aria-live="polite"><p class="error" role="alert">[^<]*20/,
    );
    const big = await postForm(s, new URLSearchParams({ gosum: 'x'.repeat(5000) }).toString());
    assert.equal(big.statusCode, 413);
    assert.match(big.body, /over the limit of 4096 bytes/);
    const huge = await postForm(s, 'gosum=' + '%41'.repeat(5000));
    assert.equal(huge.statusCode, 413);
    const json = await postForm(s, '{"gosum":""}', 'application/json');
    assert.equal(json.statusCode, 415);
  });

  it('says so when the log is empty, and when the GOSUMDB line is not known', async () => {
    const empty = await startApp(auth.keys, { noKeys: true });
    try {
      const r = await page(empty, '/', HTML);
      assert.equal(r.statusCode, 200);
      assert.match(r.body, /<strong id="tree-size">0<\/strong> records \(nothing signed yet\)/);
      assert.match(r.body, /<p>No records yet\.<\/p>/);
      assert.match(r.body, /started without a verifier key or public URL/);
      assert.doesNotMatch(r.body, /id="gosumdb-line"/);
      const t = await page(empty, '/');
      assert.match(t.body, /^GOSUMDB: not known/m);
      assert.match(t.body, /^recent records: none yet$/m);
    } finally {
      await empty.close();
    }
  });
});

describe('wantsHtml', () => {
  it('is true only when text/html is asked for at least as much as text/plain', () => {
    assert.equal(wantsHtml(undefined), false);
    assert.equal(wantsHtml('*/*'), false);
    assert.equal(wantsHtml(HTML), true);
    assert.equal(wantsHtml('text/html'), true);
    assert.equal(wantsHtml('application/xhtml+xml'), true);
    assert.equal(wantsHtml('text/plain, text/html;q=0.5'), false);
    assert.equal(wantsHtml('text/html;q=0'), false);
    assert.equal(wantsHtml('text/plain;q=0.5, TEXT/HTML'), true);
    assert.equal(wantsHtml('application/json'), false);
  });
});
