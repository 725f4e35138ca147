/**
 * The nginx configuration of docs/operations.md ("Static read path"), taken from the document itself
 * (test/helpers/nginx.ts), checked by Debian's nginx (`nginx -t`) and then run: over a directory
 * written by `sumkeep publish`, in front of a real `sumkeep serve` on the same log that holds more
 * records than were published. It must answer the published files with the documented content
 * types and cache headers, pass everything else to sumkeep, answer the /sumdb/<name>/ paths the
 * same, and keep answering the published files with sumkeep stopped.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { createNoteKey, loadNoteKeys } from '../../src/keys/notekey.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import {
  documentedNginxSite,
  mainConfig,
  requireNginx,
  siteConfig,
  startNginx,
  testConfig,
} from '../helpers/nginx.ts';
import { runCli, startServer, tempDir } from '../helpers/server.ts';

const NAME = 'nginx.test.local';
const PUBLISHED = 260;
const TOTAL = 300;
const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');
/**
 * Upper-case letters (escaped as "!x") and "+incompatible" versions: what try_files must find; and
 * a version ending in ".html", which must not be served as HTML.
 */
const rec = (i: number) => ({
  path: `example.com/Azure/p${i}`,
  version: i === 9 ? 'v1.0.0-pre.html' : i % 2 === 0 ? 'v1.0.0' : 'v2.0.0+incompatible',
});
const target = (i: number) => `${escapePath(rec(i).path)}@${escapeVersion(rec(i).version)}`;

async function grow(db: string, keys: string, from: number, to: number): Promise<void> {
  const store = await openSqliteStore(db);
  const seq = await Sequencer.open(store, loadNoteKeys(keys).signers, { maxDelayMs: 1, maxBatch: 1000 });
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => {
      const { path, version } = rec(from + k);
      return seq.add({
        path,
        version,
        text: utf8(formatRecordLines(path, version, H('z'), H('m'))),
        source: 't',
      });
    }),
  );
  await seq.close();
  await store.close();
}

interface Answer {
  status: number;
  type: string | null;
  cache: string | null;
  body: Buffer;
}

async function get(base: string, p: string): Promise<Answer> {
  const res = await fetch(base + p);
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    cache: res.headers.get('cache-control'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

const TEXT = 'text/plain; charset=utf-8';
const BYTES = 'application/octet-stream';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=5';
const LOOKUP = 'public, max-age=86400';

describe('the nginx configuration in docs/operations.md', () => {
  it('passes nginx -t', (t) => {
    const nginx = requireNginx(t);
    if (nginx === null) return;
    const dir = tempDir('nginx-t');
    const conf = join(dir, 'nginx.conf');
    const site = siteConfig({ listen: '127.0.0.1:1', sumkeep: '127.0.0.1:2', root: dir, name: NAME });
    writeFileSync(conf, mainConfig(dir, site));
    const r = testConfig(nginx, conf);
    assert.equal(r.status, 0, r.output);
    // And nginx -t is a real check: a broken copy of the same block fails it.
    writeFileSync(conf, mainConfig(dir, site.replace('try_files $uri @sumkeep;', 'try_files;')));
    assert.notEqual(testConfig(nginx, conf).status, 0);
  });

  it('fails loudly when the documented block no longer holds a value it substitutes', () => {
    const site = documentedNginxSite();
    assert.match(site, /upstream sumkeep \{/);
    assert.throws(() =>
      siteConfig({ listen: 'x', sumkeep: 'x', root: 'x', name: 'x' }, site.replace('listen 80;', '')),
    );
  });

  it('serves the published files, passes the rest to sumkeep, and serves the files with sumkeep stopped', async (t) => {
    const nginxBin = requireNginx(t);
    if (nginxBin === null) return;
    const dir = tempDir('nginx-docs');
    const keys = join(dir, 'keys');
    createNoteKey(keys, NAME);
    const db = join(dir, 'log.db');
    const out = join(dir, 'pub');
    await grow(db, keys, 0, PUBLISHED);
    const pub = runCli(['publish', '--db', db, '--out', out]);
    assert.equal(pub.status, 0, pub.stderr);
    await grow(db, keys, PUBLISHED, TOTAL);

    const sk = await startServer({ keys, db, upstream: 'off' });
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
    try {
      nginx = await startNginx(nginxBin, join(dir, 'nginx'), {
        sumkeep: new URL(sk.url).host,
        root: out,
        name: NAME,
      });
      const ng = nginx.url;
      const file = (rel: string) => readFileSync(join(out, rel));

      // /latest: the published head (260), not sumkeep's (300).
      let a = await get(ng, '/latest');
      assert.deepEqual([a.status, a.type, a.cache], [200, TEXT, SHORT]);
      assert.ok(a.body.equals(file('latest')));
      assert.match(a.body.toString(), new RegExp(`^go\\.sum database tree\\n${PUBLISHED}\\n`));

      // Tiles: full ones immutable and byte-identical to sumkeep's, partial ones short-lived.
      for (const p of ['/tile/8/0/000', '/tile/8/data/000']) {
        a = await get(ng, p);
        assert.deepEqual([a.status, a.type, a.cache], [200, BYTES, IMMUTABLE], p);
        assert.ok(a.body.equals((await get(sk.url, p)).body), p);
      }
      for (const p of ['/tile/8/0/001.p/4', '/tile/8/data/001.p/4', '/tile/8/1/000.p/1']) {
        a = await get(ng, p);
        assert.deepEqual([a.status, a.type, a.cache], [200, BYTES, SHORT], p);
        assert.ok(a.body.equals(file(p.slice(1))), p);
      }
      // A tile of a head not published yet comes from sumkeep (its own headers).
      a = await get(ng, `/tile/8/0/001.p/${TOTAL - 256}`);
      assert.deepEqual([a.status, a.cache], [200, SHORT]);
      assert.ok(a.body.equals((await get(sk.url, `/tile/8/0/001.p/${TOTAL - 256}`)).body));

      // Lookups: a published version from its file (long-lived; also percent-encoded), a new one
      // from sumkeep (its no-cache answer carrying its own latest head).
      const inFile = `/lookup/${target(7)}`;
      assert.match(inFile, /!azure\/p7@v2\.0\.0\+incompatible$/);
      for (const p of [inFile, inFile.replace('+', '%2B')]) {
        a = await get(ng, p);
        assert.deepEqual([a.status, a.type, a.cache], [200, TEXT, LOOKUP], p);
        assert.ok(a.body.equals(file(inFile.slice(1))), p);
      }
      assert.match(a.body.toString(), /^7\nexample\.com\/Azure\/p7 v2\.0\.0\+incompatible h1:/);
      // The type comes from the location, never from a name's "extension".
      a = await get(ng, `/lookup/${target(9)}`);
      assert.deepEqual([a.status, a.type, a.cache], [200, TEXT, LOOKUP]);
      const fresh = `/lookup/${target(PUBLISHED + 20)}`;
      a = await get(ng, fresh);
      const direct = await get(sk.url, fresh);
      assert.deepEqual([a.status, a.type, a.cache], [200, TEXT, 'no-cache']);
      assert.ok(a.body.equals(direct.body));
      assert.match(a.body.toString(), new RegExp(`\\n${TOTAL}\\n`));
      // A version that is not in the log: sumkeep's 404, not cached as a file would be.
      a = await get(ng, '/lookup/example.com/nothing@v1.0.0');
      assert.equal(a.status, 404);
      assert.notEqual(a.cache, LOOKUP);
      // A path naming a directory of the published files is no lookup either: sumkeep's answer,
      // not nginx's redirect or directory refusal.
      for (const p of ['/lookup/example.com', '/lookup/example.com/', '/lookup/']) {
        a = await get(ng, p);
        const d = await get(sk.url, p);
        assert.deepEqual([a.status, a.type, a.body.toString()], [d.status, d.type, d.body.toString()], p);
      }

      // A file being written is never served; the request goes to sumkeep.
      const tmp = `lookup/${target(0)}.tmp-1-deadbeef`;
      writeFileSync(join(out, tmp), 'half a file');
      a = await get(ng, '/' + tmp);
      assert.notEqual(a.status, 200);
      assert.ok(!a.body.toString().includes('half a file'));

      // The /sumdb/<name>/ paths answer exactly as the root ones.
      const prefix = `/sumdb/${NAME}`;
      a = await get(ng, `${prefix}/supported`);
      assert.equal(a.status, 200);
      for (const p of ['/latest', '/tile/8/0/000', '/tile/8/1/000.p/1', inFile, fresh]) {
        const [x, y] = [await get(ng, prefix + p), await get(ng, p)];
        assert.deepEqual([x.status, x.type, x.cache], [y.status, y.type, y.cache], prefix + p);
        assert.ok(x.body.equals(y.body), prefix + p);
      }
      a = await get(ng, `${prefix}/elsewhere`);
      assert.equal(a.status, 404);
      // Anything else goes to sumkeep.
      assert.equal((await get(ng, '/healthz')).status, 200);

      // sumkeep stopped: every published answer still comes from the files, new lookups fail.
      await sk.stop();
      for (const p of ['/latest', '/tile/8/0/000', '/tile/8/data/001.p/4', inFile, `${prefix}${inFile}`]) {
        assert.equal((await get(ng, p)).status, 200, p);
      }
      assert.equal((await get(ng, `/lookup/${target(PUBLISHED + 21)}`)).status, 502);
    } finally {
      await nginx?.stop();
      await sk.stop();
    }
  });
});
