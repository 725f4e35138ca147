/**
 * The status page in a real browser: Debian's headless Chromium (playwright-core, executablePath)
 * against a listening sumkeep server on 127.0.0.1 with some records. It shows the tree size, the
 * search finds a module (reached and typed with the keyboard), the verify box shows a mismatch row
 * through POST /api/v1/verify (the one script), and the same without JavaScript through the form;
 * the page breaks none of its own Content-Security-Policy and loads nothing from elsewhere.
 * Screenshots go to $SUMKEEP_TEST_SCREENSHOTS (default: a new temporary directory, named in the
 * test output); with SUMKEEP_STATUS_SCREENSHOT=<file> the README's screenshot
 * (docs/status-page.png) is written there too.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';
import { launchChromium, requireChromium } from '../helpers/chromium.ts';

const WRONG = 'h1:' + Buffer.alloc(32, 7).toString('base64');
const HOUR = 3_600_000;

/** Module versions logged day by day over two weeks (a few a day), as a private log might hold. */
const DAYS: string[][] = [
  ['golang.org/x/mod@v0.21.0', 'golang.org/x/text@v0.20.0'],
  ['github.com/google/uuid@v1.6.0'],
  ['gopkg.in/yaml.v3@v3.0.1', 'github.com/stretchr/testify@v1.9.0', 'github.com/davecgh/go-spew@v1.1.1'],
  ['github.com/pmezard/go-difflib@v1.0.0'],
  ['git.corp.example/platform/auth@v1.2.0', 'git.corp.example/platform/billing@v0.9.3'],
  ['golang.org/x/sys@v0.27.0'],
  ['golang.org/x/net@v0.31.0', 'golang.org/x/crypto@v0.29.0', 'golang.org/x/sync@v0.9.0'],
  ['github.com/spf13/cobra@v1.8.1', 'github.com/spf13/pflag@v1.0.5'],
  ['git.corp.example/platform/auth@v1.3.0'],
  ['github.com/prometheus/client_golang@v1.20.5', 'github.com/prometheus/common@v0.60.1'],
  ['golang.org/x/mod@v0.22.0', 'golang.org/x/text@v0.21.0', 'github.com/stretchr/testify@v1.10.0'],
  ['git.corp.example/platform/billing@v1.0.0', 'git.corp.example/tools/deploy@v0.4.1'],
  ['go.uber.org/zap@v1.27.0', 'go.uber.org/multierr@v1.11.0'],
  ['golang.org/x/sys@v0.28.0', 'golang.org/x/net@v0.33.0'],
];
const ALL = DAYS.flat();

const line = (mv: string, kind: 'zip' | 'go.mod', hash?: string): string => {
  const [path, version] = mv.split('@') as [string, string];
  return `${path} ${version}${kind === 'go.mod' ? '/go.mod' : ''} ${hash ?? fakeHash(path, version, kind)}`;
};

/** The go.sum pasted into the verify box: one match, one mismatch (go.mod), one unknown. */
const GOSUM = [
  line('golang.org/x/mod@v0.22.0', 'zip'),
  line('github.com/google/uuid@v1.6.0', 'go.mod', WRONG),
  line('example.com/not-logged@v1.0.0', 'zip'),
].join('\n');

/** The id of the focused element (a string expression: the tests have no DOM types). */
const activeId = (page: Page): Promise<string> =>
  page.evaluate<string>("document.activeElement === null ? '' : document.activeElement.id");

const bin = requireChromium('the status page in Chromium');

if (bin !== null) {
  describe('the status page in headless Chromium', { timeout: 240_000 }, () => {
    let auth: TestAuthority;
    let s: App;
    let base = '';
    let browser: Browser;
    const shots =
      process.env.SUMKEEP_TEST_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'sumkeep-status-shots-'));

    before(async () => {
      mkdirSync(shots, { recursive: true });
      auth = makeAuthority({ name: 'sum.corp.example' });
      // The sequencer's clock: one batch a day over the last two weeks, so the chart has a history.
      let clock = Date.now() - DAYS.length * 24 * HOUR;
      s = await startApp(auth.keys, { publicUrl: () => base, now: () => clock });
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = s.app.server.address();
      assert.ok(addr !== null && typeof addr === 'object');
      base = `http://127.0.0.1:${addr.port}`;
      for (const day of DAYS) {
        clock += 20 * HOUR;
        const answers = await Promise.all(day.map((mv) => s.app.inject(`/lookup/${mv}`)));
        for (const a of answers) assert.equal(a.statusCode, 200, a.body);
        clock += 4 * HOUR;
      }
      assert.equal(await s.store.treeSize(), ALL.length);
      browser = await launchChromium(bin);
    });

    after(async () => {
      await browser?.close();
      await s?.close();
    });

    /**
     * A page of a new context that records every request and every CSP violation or script
     * error; `check` asserts there were none and that nothing came from another origin.
     */
    async function open(opts: { javaScriptEnabled?: boolean } = {}) {
      const context: BrowserContext = await browser.newContext({
        viewport: { width: 1100, height: 900 },
        colorScheme: 'light',
        ...opts,
      });
      const page: Page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      const check = () => {
        assert.deepEqual(problems, []);
        for (const u of requests)
          assert.ok(u.startsWith(`${base}/`) || u.startsWith('data:'), `request to ${u}`);
      };
      return { context, page, requests, check };
    }

    it('shows the log name, the GOSUMDB line with a copy button, the tree size and the chart', async (t) => {
      const { context, page, requests, check } = await open();
      try {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
        const r = await page.goto(`${base}/`, { waitUntil: 'load' });
        assert.equal(r?.status(), 200);
        assert.equal(r?.headers()['content-type'], 'text/html; charset=utf-8');
        assert.equal(await page.textContent('#log-name'), 'sum.corp.example');
        assert.equal(await page.textContent('#tree-size'), String(ALL.length));
        const gosumdb = `${auth.keys.verifierKey} ${base}`;
        assert.equal(await page.inputValue('#gosumdb-line'), gosumdb);
        assert.ok(await page.isVisible('#growth-chart'));
        assert.equal(await page.locator('#recent-records tbody tr').count(), 20);
        assert.match(
          (await page.textContent('#recent-records tbody tr')) ?? '',
          /golang\.org\/x\/net\s*v0\.33\.0/,
        );
        // The script ran: the copy button is shown and copies the line.
        const copy = page.getByRole('button', { name: 'Copy' });
        assert.ok(await copy.isVisible());
        await copy.click();
        await page.locator('#copy-status', { hasText: 'Copied.' }).waitFor();
        assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), gosumdb);
        assert.ok(requests.includes(`${base}/static/status.js`));
        assert.ok(requests.includes(`${base}/static/status.css`));
        await page.screenshot({ path: join(shots, 'status.png'), fullPage: true });
        t.diagnostic(`screenshots in ${shots}`);
        check();
      } finally {
        await context.close();
      }
    });

    it('finds a module by path prefix, with the keyboard only', async () => {
      const { context, page, check } = await open();
      try {
        await page.goto(`${base}/`, { waitUntil: 'load' });
        // Tab to the search box (skip link, GOSUMDB field, copy button, links, ...).
        let tabs = 0;
        while ((await activeId(page)) !== 'q') {
          assert.ok(++tabs <= 20, 'the search box is not reachable with Tab');
          await page.keyboard.press('Tab');
        }
        await page.keyboard.type('golang.org/x/');
        await Promise.all([page.waitForURL(/\/\?q=golang\.org%2Fx%2F$/), page.keyboard.press('Enter')]);
        const found = await page.locator('#search-results tbody tr td.path').allTextContents();
        assert.deepEqual(found, [
          'golang.org/x/crypto',
          'golang.org/x/mod',
          'golang.org/x/mod',
          'golang.org/x/net',
          'golang.org/x/net',
          'golang.org/x/sync',
          'golang.org/x/sys',
          'golang.org/x/sys',
          'golang.org/x/text',
          'golang.org/x/text',
        ]);
        assert.equal(await page.inputValue('#q'), 'golang.org/x/');
        await page.screenshot({ path: join(shots, 'search.png'), fullPage: true });
        check();
      } finally {
        await context.close();
      }
    });

    it('checks a pasted go.sum through POST /api/v1/verify and shows the mismatch row', async () => {
      const { context, page, requests, check } = await open();
      try {
        await page.goto(`${base}/`, { waitUntil: 'load' });
        await page.getByLabel('go.sum to check against the log').fill(GOSUM);
        const [api] = await Promise.all([
          page.waitForResponse((r) => r.url() === `${base}/api/v1/verify`),
          page.getByRole('button', { name: 'Check' }).click(),
        ]);
        assert.equal(api.status(), 200);
        const row = page.locator('#verify-result tr[data-status="mismatch"]');
        await row.waitFor();
        assert.equal(await row.count(), 1);
        const cells = await row.locator('td').allTextContents();
        assert.deepEqual(cells.slice(0, 6), [
          '2',
          'github.com/google/uuid',
          'v1.6.0',
          'go.mod',
          'mismatch',
          WRONG,
        ]);
        assert.equal(cells[6], `logged ${fakeHash('github.com/google/uuid', 'v1.6.0', 'go.mod')} (record 2)`);
        assert.equal(
          await page.textContent('#verify-table caption'),
          `1 match, 1 mismatch, 1 unknown, 0 invalid (tree size ${ALL.length})`,
        );
        // The script did it: no page load, no form post, and the result has the focus.
        assert.equal(page.url(), `${base}/`);
        assert.ok(!requests.includes(`${base}/verify`));
        assert.equal(await activeId(page), 'verify-result');
        await page.screenshot({ path: join(shots, 'verify.png'), fullPage: true });
        const readme = process.env.SUMKEEP_STATUS_SCREENSHOT;
        if (readme !== undefined && readme !== '') await page.screenshot({ path: readme, fullPage: true });
        check();
      } finally {
        await context.close();
      }
    });

    it('posts the form the plain way when the verify API cannot answer (no response-signing key)', async () => {
      const unsigned = await startApp(auth.keys, { noKeys: true });
      try {
        await unsigned.app.listen({ host: '127.0.0.1', port: 0 });
        const addr = unsigned.app.server.address();
        assert.ok(addr !== null && typeof addr === 'object');
        const other = `http://127.0.0.1:${addr.port}`;
        for (const mv of ['golang.org/x/mod@v0.22.0', 'github.com/google/uuid@v1.6.0']) {
          assert.equal((await unsigned.app.inject(`/lookup/${mv}`)).statusCode, 200);
        }
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          page.setDefaultTimeout(30_000);
          await page.goto(`${other}/`, { waitUntil: 'load' });
          await page.fill('#gosum', GOSUM);
          const [api] = await Promise.all([
            page.waitForResponse((r) => r.url() === `${other}/api/v1/verify`),
            page.waitForURL(`${other}/verify`),
            page.getByRole('button', { name: 'Check' }).click(),
          ]);
          assert.equal(api.status(), 503);
          const row = page.locator('#verify-result tr[data-status="mismatch"]');
          assert.equal(await row.count(), 1);
          assert.match((await row.textContent()) ?? '', /github\.com\/google\/uuid/);
        } finally {
          await context.close();
        }
      } finally {
        await unsigned.close();
      }
    });

    it('works without JavaScript: search and the verify form post render on the server', async () => {
      const { context, page, requests, check } = await open({ javaScriptEnabled: false });
      try {
        await page.goto(`${base}/`, { waitUntil: 'load' });
        assert.equal(await page.textContent('#tree-size'), String(ALL.length));
        assert.equal(await page.isVisible('#copy-gosumdb'), false);
        await page.fill('#q', 'git.corp.example/platform/');
        await Promise.all([page.waitForURL(/\?q=/), page.getByRole('button', { name: 'Search' }).click()]);
        assert.deepEqual(await page.locator('#search-results tbody tr td.path').allTextContents(), [
          'git.corp.example/platform/auth',
          'git.corp.example/platform/auth',
          'git.corp.example/platform/billing',
          'git.corp.example/platform/billing',
        ]);
        await page.fill('#gosum', GOSUM);
        await Promise.all([
          page.waitForURL(`${base}/verify`),
          page.getByRole('button', { name: 'Check' }).click(),
        ]);
        const row = page.locator('#verify-result tr[data-status="mismatch"]');
        assert.equal(await row.count(), 1);
        assert.match((await row.textContent()) ?? '', /github\.com\/google\/uuid/);
        // The pasted go.sum is kept in the box (the browser sent CRLF; the server took it as LF).
        assert.equal(await page.inputValue('#gosum'), GOSUM);
        assert.ok(!requests.some((u) => u.endsWith('/static/status.js')));
        await page.screenshot({ path: join(shots, 'no-javascript.png'), fullPage: true });
        check();
      } finally {
        await context.close();
      }
    });
  });
}
