import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SumkeepError } from '../../src/core/errors.ts';
import type { ErrorCode } from '../../src/core/errors.ts';
import { parseProxyList } from '../../src/upstream/proxy-list.ts';
import { ProxyTransport, proxyTarget } from '../../src/upstream/transport.ts';
import type { TransportConfig } from '../../src/upstream/transport.ts';
import { Limiter } from '../../src/upstream/limiter.ts';
import { FakeProxy } from '../helpers/fake-proxy.ts';

const REL = 'example.com/m/@v/v1.0.0.mod';
const PATH = '/' + REL;
const LABEL = '@v/v1.0.0.mod';

function transport(over: Partial<TransportConfig> = {}): ProxyTransport {
  return new ProxyTransport({
    fetch: globalThis.fetch,
    connectMs: 2_000,
    totalMs: 10_000,
    attempts: 3,
    backoff: { baseDelayMs: 1, maxDelayMs: 5, random: () => 0 },
    limiter: new Limiter(16),
    ...over,
  });
}

function target(spec: string) {
  return proxyTarget(parseProxyList(spec)[0]!);
}

function fails(code: ErrorCode, match?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SumkeepError, `not a SumkeepError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (match) assert.match(e.message, match);
    return true;
  };
}

describe('ProxyTransport over http', () => {
  const proxy = new FakeProxy();
  before(() => proxy.start());
  after(() => proxy.stop());
  beforeEach(() => {
    proxy.requests.length = 0;
  });

  it('reads a 200 body', async () => {
    proxy.on(PATH, { status: 200, body: 'module example.com/m\n' });
    const got = await transport().readBytes(target(proxy.url), REL, LABEL, 1024);
    assert.equal(new TextDecoder().decode(got), 'module example.com/m\n');
    assert.equal(proxy.count(), 1);
  });

  for (const status of [404, 410]) {
    it(`maps ${status} to upstream_not_found without retrying`, async () => {
      proxy.on(PATH, { status });
      await assert.rejects(
        transport().readBytes(target(proxy.url), REL, LABEL, 1024),
        fails('upstream_not_found', new RegExp(`^${status} `)),
      );
      assert.equal(proxy.count(), 1);
    });
  }

  it('retries 5xx and succeeds on the third attempt', async () => {
    proxy.on(PATH, { status: 500 }, { status: 502 }, { status: 200, body: 'ok' });
    const got = await transport().readBytes(target(proxy.url), REL, LABEL, 1024);
    assert.equal(new TextDecoder().decode(got), 'ok');
    assert.equal(proxy.count(), 3);
  });

  it('gives up after the bounded number of attempts and says so', async () => {
    proxy.on(PATH, { status: 503 });
    await assert.rejects(
      transport({ attempts: 4 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_error', /^@v\/v1\.0\.0\.mod: 503 Service Unavailable \(after 4 attempts\)$/),
    );
    assert.equal(proxy.count(), 4);
  });

  for (const status of [400, 401, 403, 429]) {
    it(`does not retry ${status}`, async () => {
      proxy.on(PATH, { status });
      await assert.rejects(
        transport().readBytes(target(proxy.url), REL, LABEL, 1024),
        fails('upstream_error', new RegExp(`: ${status} `)),
      );
      assert.equal(proxy.count(), 1);
    });
  }

  it('does not echo the status text the proxy chose', async () => {
    proxy.on(
      PATH,
      { status: 502, reasonPhrase: 'Injected <script>' },
      { status: 599, reasonPhrase: 'Other' },
    );
    await assert.rejects(
      transport({ attempts: 1 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_error', /: 502 Bad Gateway$/),
    );
    await assert.rejects(
      transport({ attempts: 1 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_error', /: 599 Unknown Status$/),
    );
  });

  it('retries a reset connection as a network error', async () => {
    proxy.on(PATH, { reset: true }, { status: 200, body: 'ok' });
    const got = await transport().readBytes(target(proxy.url), REL, LABEL, 1024);
    assert.equal(new TextDecoder().decode(got), 'ok');
    assert.equal(proxy.count(), 2);
  });

  it('reports a refused connection as upstream_error after its attempts', async () => {
    const gone = new FakeProxy();
    await gone.start();
    const url = gone.url;
    await gone.stop();
    await assert.rejects(
      transport({ attempts: 2 }).readBytes(target(url), REL, LABEL, 1024),
      fails('upstream_error', /network error.*\(after 2 attempts\)$/),
    );
  });

  it('times out a proxy that never answers, retrying within bounds', async () => {
    proxy.on(PATH, { hang: true });
    const started = Date.now();
    await assert.rejects(
      transport({ connectMs: 100, attempts: 2 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_timeout', /no response for 100 ms \(after 2 attempts\)$/),
    );
    assert.equal(proxy.count(), 2);
    assert.ok(Date.now() - started < 3_000);
  });

  it('times out a body that stalls', async () => {
    proxy.on(PATH, { stallAfter: 'module exa' });
    await assert.rejects(
      transport({ connectMs: 100, attempts: 1 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_timeout', /no response for 100 ms$/),
    );
  });

  it('does not retry the total timeout', async () => {
    proxy.on(PATH, { stallAfter: 'module exa' });
    await assert.rejects(
      transport({ connectMs: 5_000, totalMs: 150 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('upstream_timeout', /not complete within 150 ms$/),
    );
    assert.equal(proxy.count(), 1);
  });

  it('refuses a declared Content-Length over the limit without retrying', async () => {
    proxy.on(PATH, { status: 200, body: 'x'.repeat(2048) });
    await assert.rejects(
      transport().readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('too_large', /^@v\/v1\.0\.0\.mod is larger than 1024 bytes$/),
    );
    assert.equal(proxy.count(), 1);
  });

  it('refuses on the declared Content-Length alone, before reading the body', async () => {
    // The body stalls after one byte: only the header check can refuse it at once.
    proxy.on(PATH, { stallAfter: 'x', headers: { 'content-length': '2048' } });
    await assert.rejects(
      transport({ connectMs: 5_000 }).readBytes(target(proxy.url), REL, LABEL, 1024),
      fails('too_large'),
    );
    assert.equal(proxy.count(), 1);
  });

  it('keeps reading a slow body as long as it keeps moving', async () => {
    proxy.on(PATH, { trickle: ['mod', 'ule ', 'exa', 'mple', '.com/m', '\n'], gapMs: 60 });
    const got = await transport({ connectMs: 200, attempts: 1 }).readBytes(
      target(proxy.url),
      REL,
      LABEL,
      1024,
    );
    assert.equal(new TextDecoder().decode(got), 'module example.com/m\n');
  });

  it('refuses an undeclared body over the limit', async () => {
    // No Content-Length: the server streams chunked; the reader must stop counting at the limit.
    const chunked = new FakeProxy();
    await chunked.start();
    try {
      chunked.on(PATH, { status: 200, body: 'y'.repeat(3000), headers: { 'transfer-encoding': 'chunked' } });
      await assert.rejects(transport().readBytes(target(chunked.url), REL, LABEL, 1024), fails('too_large'));
    } finally {
      await chunked.stop();
    }
  });

  it('accepts a body of exactly the limit', async () => {
    proxy.on(PATH, { status: 200, body: 'z'.repeat(1024) });
    const got = await transport().readBytes(target(proxy.url), REL, LABEL, 1024);
    assert.equal(got.length, 1024);
  });

  it('sends URL userinfo as Basic auth and keeps it out of messages', async () => {
    proxy.on(PATH, { status: 502 });
    const url = proxy.url.replace('http://', 'http://alice:s3cr%3At@');
    await assert.rejects(
      transport({ attempts: 1 }).readBytes(target(url), REL, LABEL, 1024),
      (e: unknown) => e instanceof SumkeepError && !/alice|s3cr/.test(e.message),
    );
    assert.equal(proxy.requests[0]?.authorization, 'Basic ' + Buffer.from('alice:s3cr:t').toString('base64'));
    assert.equal(proxy.requests[0]?.path, PATH);
  });

  it('rejects with the caller reason when the caller aborts, and does not retry', async () => {
    proxy.on(PATH, { hang: true });
    const ac = new AbortController();
    const reason = new Error('client went away');
    setTimeout(() => ac.abort(reason), 50);
    await assert.rejects(
      transport({ connectMs: 5_000 }).readBytes(target(proxy.url), REL, LABEL, 1024, ac.signal),
      (e) => e === reason,
    );
    assert.equal(proxy.count(), 1);
  });

  it('streams to a file and truncates a partial earlier attempt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sumkeep-transport-'));
    try {
      const dest = join(dir, 'f.zip');
      proxy.on('/' + REL.replace('.mod', '.zip'), { reset: true }, { status: 200, body: 'ZIPBYTES' });
      const got = await transport().fetchToFile(
        target(proxy.url),
        REL.replace('.mod', '.zip'),
        '@v/v1.0.0.zip',
        100,
        dest,
      );
      assert.equal(got, dest);
      assert.equal(readFileSync(dest, 'utf8'), 'ZIPBYTES');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ProxyTransport over file://', () => {
  const root = mkdtempSync(join(tmpdir(), 'sumkeep-fileproxy-'));
  const base = pathToFileURL(root).href;
  mkdirSync(join(root, 'example.com/m/@v'), { recursive: true });
  writeFileSync(join(root, REL), 'module example.com/m\n');
  writeFileSync(join(root, 'example.com/m/@v/v1.0.1.mod'), 'x'.repeat(2000));
  mkdirSync(join(root, 'example.com/m/@v/v1.0.2.mod'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads a file', async () => {
    const got = await transport().readBytes(target(base), REL, LABEL, 1024);
    assert.equal(new TextDecoder().decode(got), 'module example.com/m\n');
  });

  it('maps a missing file to upstream_not_found', async () => {
    await assert.rejects(
      transport().readBytes(target(base), 'example.com/m/@v/v9.0.0.mod', LABEL, 1024),
      fails('upstream_not_found', /^404 Not Found$/),
    );
    await assert.rejects(
      transport().fetchToFile(
        target(base),
        'example.com/other/@v/v1.0.0.zip',
        '@v/v1.0.0.zip',
        1024,
        '/nonexistent',
      ),
      fails('upstream_not_found'),
    );
  });

  it('applies the size limit', async () => {
    await assert.rejects(
      transport().readBytes(target(base), 'example.com/m/@v/v1.0.1.mod', LABEL, 1024),
      fails('too_large', /larger than 1024 bytes/),
    );
    await assert.rejects(
      transport().fetchToFile(target(base), 'example.com/m/@v/v1.0.1.mod', LABEL, 1024, '/nonexistent'),
      fails('too_large'),
    );
  });

  it('refuses a directory where a file should be', async () => {
    await assert.rejects(
      transport().readBytes(target(base), 'example.com/m/@v/v1.0.2.mod', LABEL, 1024),
      fails('upstream_error', /not a regular file/),
    );
  });

  it('hands back the mirror file itself for large downloads', async () => {
    const got = await transport().fetchToFile(target(base), REL, LABEL, 1024, '/nonexistent');
    assert.equal(got, join(root, REL));
  });
});

describe('ProxyTransport redirects', () => {
  const a = new FakeProxy();
  const b = new FakeProxy();
  before(async () => {
    await a.start();
    await b.start();
  });
  after(async () => {
    await a.stop();
    await b.stop();
  });
  beforeEach(() => {
    a.requests.length = 0;
    b.requests.length = 0;
  });
  const withCreds = (url: string): string => url.replace('http://', 'http://alice:s3cret@');
  const basic = 'Basic ' + Buffer.from('alice:s3cret').toString('base64');

  it('follows a same-origin redirect and sends the credentials on every hop', async () => {
    a.on(PATH, { status: 302, headers: { location: '/moved/v1.0.0.mod' } });
    a.on('/moved/v1.0.0.mod', { status: 301, headers: { location: `${a.url}/final/v1.0.0.mod?x=1` } });
    a.on('/final/v1.0.0.mod?x=1', { status: 200, body: 'module example.com/m\n' });
    const got = await transport().readBytes(target(withCreds(a.url)), REL, LABEL, 1024);
    assert.equal(new TextDecoder().decode(got), 'module example.com/m\n');
    assert.deepEqual(
      a.requests.map((r) => [r.path, r.authorization]),
      [
        [PATH, basic],
        ['/moved/v1.0.0.mod', basic],
        ['/final/v1.0.0.mod?x=1', basic],
      ],
    );
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`refuses a ${status} to another origin (another port), without asking it or retrying`, async () => {
      const elsewhere = withCreds(b.url) + '/steal?token=t0ps3cret';
      a.on(PATH, { status, headers: { location: elsewhere } });
      await assert.rejects(
        transport().readBytes(target(withCreds(a.url)), REL, LABEL, 1024),
        fails('upstream_error', /^@v\/v1\.0\.0\.mod: redirect to another origin$/),
      );
      assert.equal(a.count(), 1, 'not retried');
      assert.equal(b.count(), 0, 'the other origin is never asked (and never sees the credentials)');
    });
  }

  it('refuses https to http on the same host and port', async () => {
    const asked: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const url = String(input);
      asked.push(url);
      if (url.startsWith('https:')) {
        return new Response('', { status: 302, headers: { location: url.replace('https:', 'http:') } });
      }
      return new Response('module example.com/m\n', { status: 200 });
    }) as typeof fetch;
    await assert.rejects(
      transport({ fetch: fakeFetch }).readBytes(target('https://proxy.test.local'), REL, LABEL, 1024),
      fails('upstream_error', /redirect to another origin$/),
    );
    assert.deepEqual(asked, [`https://proxy.test.local/${REL}`]);
  });

  it('refuses a redirect loop', async () => {
    a.on(PATH, { status: 302, headers: { location: '/loop' } });
    a.on('/loop', { status: 302, headers: { location: PATH } });
    await assert.rejects(
      transport().readBytes(target(a.url), REL, LABEL, 1024),
      fails('upstream_error', /^@v\/v1\.0\.0\.mod: redirect loop$/),
    );
    assert.equal(a.count(), 2);
  });

  it('refuses more than 5 redirects', async () => {
    for (let i = 0; i < 6; i++) {
      a.on(i === 0 ? PATH : `/hop${i}`, { status: 307, headers: { location: `/hop${i + 1}` } });
    }
    await assert.rejects(
      transport().readBytes(target(a.url), REL, LABEL, 1024),
      fails('upstream_error', /^@v\/v1\.0\.0\.mod: too many redirects \(more than 5\)$/),
    );
    assert.equal(a.count(), 6);
  });

  it('refuses a redirect without a Location', async () => {
    a.on(PATH, { status: 302 });
    await assert.rejects(
      transport().readBytes(target(a.url), REL, LABEL, 1024),
      fails('upstream_error', /^@v\/v1\.0\.0\.mod: 302 Found without a Location$/),
    );
  });
});
