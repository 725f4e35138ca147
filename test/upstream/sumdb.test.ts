/**
 * HttpSumdbSource: where the cross-check's requests go (the database's URL, else the first
 * upstream proxy that answers /sumdb/<name>/supported, else https://<name>), with a fetch that
 * records every URL instead of reaching any network.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import { HttpSumdbSource } from '../../src/upstream/sumdb.ts';
import { Limiter } from '../../src/upstream/limiter.ts';
import { parseProxyList } from '../../src/upstream/proxy-list.ts';

/** A fetch answering from `routes` (URL prefix → status, body), recording every URL and header. */
function fakeFetch(routes: Record<string, [number, string]>) {
  const urls: string[] = [];
  const auth: (string | undefined)[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    urls.push(url);
    auth.push((init?.headers as Record<string, string> | undefined)?.authorization);
    const hit = Object.entries(routes).find(([p]) => url.startsWith(p));
    const [status, body] = hit?.[1] ?? [404, 'not found\n'];
    return new Response(body, { status });
  }) as typeof fetch;
  return { f, urls, auth };
}

const source = (proxies: string, url: string | null, f: typeof fetch) =>
  new HttpSumdbSource({
    name: 'sum.example.test',
    url,
    proxies: parseProxyList(proxies),
    limiter: new Limiter(4),
    fetch: f,
    backoff: { baseDelayMs: 1, maxDelayMs: 1, random: () => 0 },
  });

describe('HttpSumdbSource', () => {
  it('goes straight to the URL when one is given', async () => {
    const { f, urls } = fakeFetch({ 'https://db.test/lookup/': [200, 'record'] });
    const s = source('https://p1.test', 'https://db.test', f);
    assert.equal(new TextDecoder().decode((await s.read('lookup/m@v1.0.0', 100))!), 'record');
    assert.deepEqual(urls, ['https://db.test/lookup/m@v1.0.0']);
  });

  it('uses the first proxy that answers /sumdb/<name>/supported, and keeps the choice', async () => {
    const { f, urls, auth } = fakeFetch({
      'https://p2.test/sumdb/sum.example.test/supported': [200, ''],
      'https://p2.test/sumdb/sum.example.test/lookup/m@': [200, 'via p2'],
    });
    const s = source('https://p1.test,https://user:secret@p2.test', null, f);
    assert.equal(new TextDecoder().decode((await s.read('lookup/m@v1.0.0', 100))!), 'via p2');
    assert.equal(await s.read('lookup/gone@v1.0.0', 100), null, '404 is "not there"');
    assert.deepEqual(urls, [
      'https://p1.test/sumdb/sum.example.test/supported',
      'https://p2.test/sumdb/sum.example.test/supported',
      'https://p2.test/sumdb/sum.example.test/lookup/m@v1.0.0',
      'https://p2.test/sumdb/sum.example.test/lookup/gone@v1.0.0',
    ]);
    // The proxy's credentials travel as Basic auth, and appear in no message.
    assert.equal(auth[1], 'Basic ' + Buffer.from('user:secret').toString('base64'));
    assert.equal(s.where(), 'https://p2.test/sumdb/sum.example.test');
  });

  it('connects to https://<name> when no proxy supports it', async () => {
    const { f, urls } = fakeFetch({ 'https://sum.example.test/lookup/': [200, 'direct'] });
    const s = source('https://p1.test|https://p2.test', null, f);
    assert.equal(new TextDecoder().decode((await s.read('lookup/m@v1.0.0', 100))!), 'direct');
    assert.equal(urls.at(-1), 'https://sum.example.test/lookup/m@v1.0.0');
  });

  it('fails (closed) when a proxy answers /supported with an error, and asks again next time', async () => {
    const routes: Record<string, [number, string]> = {
      'https://p1.test/sumdb/sum.example.test/supported': [500, 'boom'],
      'https://p2.test/': [200, 'p2'],
    };
    const { f, urls } = fakeFetch(routes);
    const s = source('https://p1.test,https://p2.test', null, f);
    await assert.rejects(s.read('lookup/m@v1.0.0', 100), (e: unknown) => isSumkeepError(e, 'upstream_error'));
    assert.ok(!urls.some((u) => u.startsWith('https://p2.test')), 'a failure is not a "not supported"');
    routes['https://p1.test/sumdb/sum.example.test/supported'] = [200, ''];
    routes['https://p1.test/sumdb/sum.example.test/lookup/'] = [200, 'p1'];
    assert.equal(new TextDecoder().decode((await s.read('lookup/m@v1.0.0', 100))!), 'p1');
  });

  it('refuses an answer over the limit', async () => {
    const { f } = fakeFetch({ 'https://db.test/': [200, 'x'.repeat(101)] });
    await assert.rejects(source('off', 'https://db.test', f).read('tile/8/0/000', 100), (e: unknown) =>
      isSumkeepError(e, 'too_large'),
    );
  });
});
