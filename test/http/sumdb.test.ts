import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { generateKey, newSigner, newVerifier, open, verifierSet } from '../../src/core/note.ts';
import {
  parseRecord,
  parseTree,
  tilePath,
  checkRecord,
  recordHash,
  tileHashReader,
  withAsyncReader,
  proveRecord,
} from '../../src/core/tlog/index.ts';
import { SumkeepError } from '../../src/core/errors.ts';
import { decodeUtf8, utf8 } from '../../src/core/bytes.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, READY_CACHE_MS, type ModuleSource } from '../../src/log/service.ts';
import { buildServer } from '../../src/http/server.ts';

const NAME = 'http.test';
const { skey, vkey } = generateKey(NAME);
const verifiers = verifierSet([newVerifier(vkey)]);
const H = (c: string) => 'h1:' + Buffer.alloc(32, c).toString('base64');

/** A fake upstream: known modules answer at once; special paths fail the way real proxies do. */
class FakeUpstream implements ModuleSource {
  calls = new Map<string, number>();
  async fetchModule(path: string, version: string) {
    const k = `${path}@${version}`;
    this.calls.set(k, (this.calls.get(k) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 5));
    if (path === 'example.com/missing')
      throw new SumkeepError('upstream_not_found', `${k}: not found upstream (fake: 404 Not Found)`);
    if (path === 'example.com/badzip')
      throw new SumkeepError('invalid_zip', 'path traversal: example.com/badzip@v1.0.0/../x');
    if (path === 'example.com/down') throw new SumkeepError('upstream_error', `${k}: upstream answered 500`);
    if (path === 'example.com/slow') throw new SumkeepError('upstream_timeout', `${k}: upstream timed out`);
    if (path === 'example.com/bug') throw new Error('SELECT secret FROM internals failed at /srv/x');
    return { zipHash: H(path.length.toString()), modHash: H('m'), source: 'fake' };
  }
}

describe('sumdb HTTP routes', () => {
  let app: FastifyInstance;
  let store: Store;
  const upstream = new FakeUpstream();

  before(async () => {
    store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [newSigner(skey)], { maxDelayMs: 2, maxBatch: 50 });
    const service = new LogService(store, seq, upstream);
    app = buildServer({ log: service, name: NAME });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('answers /latest with a signed note of the size-0 tree while the log is empty', async () => {
    const r = await app.inject('/latest');
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    // Verified with nothing but the verifier key: the tree is size 0 with RFC 6962's empty root.
    const tree = parseTree(utf8(open(r.rawPayload, verifiers).text));
    assert.equal(tree.N, 0);
    assert.equal(Buffer.from(tree.hash).toString('hex'), createHash('sha256').update('').digest('hex'));
    // Not stored: the store has no head, the rollback guard and the audit see none.
    assert.equal(await store.latestHead(), null);
    assert.equal(await store.treeSize(), 0);
    // The same bytes every time, under /sumdb/<name>/ too.
    assert.deepEqual((await app.inject(`/sumdb/${NAME}/latest`)).rawPayload, r.rawPayload);
  });

  it('fills the log on lookup and returns id, record and a verifiable note', async () => {
    const r = await app.inject('/lookup/github.com/!azure/go-autorest@v14.2.0+incompatible');
    assert.equal(r.statusCode, 200, r.body);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const rec = parseRecord(r.rawPayload);
    assert.equal(rec.id, 0);
    assert.equal(
      decodeUtf8(rec.text),
      `github.com/Azure/go-autorest v14.2.0+incompatible ${H('28')}\ngithub.com/Azure/go-autorest v14.2.0+incompatible/go.mod ${H('m')}\n`,
    );
    const note = open(rec.rest, verifiers);
    const tree = parseTree(utf8(note.text));
    assert.ok(rec.id < tree.N);
  });

  it('makes one upstream fetch and one record for concurrent lookups', async () => {
    const rs = await Promise.all(
      Array.from({ length: 25 }, () => app.inject('/lookup/example.com/same@v1.2.3')),
    );
    assert.ok(rs.every((r) => r.statusCode === 200));
    assert.equal(upstream.calls.get('example.com/same@v1.2.3'), 1);
    const ids = new Set(rs.map((r) => parseRecord(r.rawPayload).id));
    assert.equal(ids.size, 1);
  });

  it('serves the same answers under /sumdb/<name>/ and says it is supported', async () => {
    assert.equal((await app.inject(`/sumdb/${NAME}/supported`)).statusCode, 200);
    const a = await app.inject('/lookup/example.com/same@v1.2.3');
    const b = await app.inject(`/sumdb/${NAME}/lookup/example.com/same@v1.2.3`);
    assert.equal(b.statusCode, 200);
    assert.equal(parseRecord(a.rawPayload).id, parseRecord(b.rawPayload).id);
    assert.equal((await app.inject(`/sumdb/other.name/supported`)).statusCode, 404);
    assert.equal((await app.inject(`/sumdb/${NAME}/latest`)).statusCode, 200);
  });

  it('serves tiles that prove every record, as the go command checks them', async () => {
    for (let i = 0; i < 300; i++) await app.inject(`/lookup/example.com/many${i}@v0.0.${i}`);
    const latest = await app.inject('/latest');
    const tree = parseTree(utf8(open(latest.rawPayload, verifiers).text));
    assert.ok(tree.N >= 300);
    const fetchTile = async (p: string) => {
      const r = await app.inject('/' + p);
      assert.equal(r.statusCode, 200, `${p}: ${r.body}`);
      return new Uint8Array(r.rawPayload);
    };
    const read = tileHashReader(tree, 8, (tiles) => Promise.all(tiles.map((t) => fetchTile(tilePath(t)))));
    const look = await app.inject('/lookup/example.com/many123@v0.0.123');
    const rec = parseRecord(look.rawPayload);
    const proof = await withAsyncReader((r) => proveRecord(tree.N, rec.id, r), read);
    assert.ok(checkRecord(proof, tree.N, tree.hash, rec.id, recordHash(rec.text)));
    // Data tile 0 holds record 0 first.
    const data = await fetchTile('tile/8/data/000');
    assert.ok(decodeUtf8(data)!.startsWith('github.com/Azure/go-autorest v14.2.0+incompatible h1:'));
  });

  it('marks full tiles immutable with an ETag and answers 304 to If-None-Match', async () => {
    const r = await app.inject('/tile/8/0/000');
    assert.equal(r.statusCode, 200);
    assert.equal(r.rawPayload.length, 256 * 32);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    const etag = String(r.headers.etag);
    const again = await app.inject({ url: '/tile/8/0/000', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    const partial = await app.inject('/tile/8/0/000.p/7');
    assert.equal(partial.statusCode, 200);
    assert.equal(partial.rawPayload.length, 7 * 32);
    assert.notEqual(partial.headers['cache-control'], 'public, max-age=31536000, immutable');
    const head = await app.inject({ method: 'HEAD', url: '/tile/8/0/000' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
  });

  const cases: [string, number, RegExp?][] = [
    ['/lookup/example.com/missing@v1.0.0', 404, /not found upstream/],
    ['/lookup/example.com/badzip@v1.0.0', 410, /path traversal/],
    ['/lookup/example.com/down@v1.0.0', 502, /500/],
    ['/lookup/example.com/slow@v1.0.0', 504, /timed out/],
    ['/lookup/example.com/bug@v1.0.0', 500, /^internal server error\n$/],
    ['/lookup/example.com/Upper@v1.0.0', 400],
    ['/lookup/example.com/!!x@v1.0.0', 400],
    ['/lookup/example.com/../etc@v1.0.0', 400],
    ['/lookup/example.com/mod@latest', 400],
    ['/lookup/example.com/mod@v1.0.0+build', 400],
    ['/lookup/example.com/mod@v' + '9'.repeat(3000) + '.0.0', 400],
    ['/lookup/example.com/mod', 400],
    ['/lookup/@v1.0.0', 400],
    ['/lookup/example.com/mod/v2@v1.0.0', 400],
    ['/tile/8/0/000.p/0', 400],
    ['/tile/8/0/000.p/256', 400],
    ['/tile/8/0/x999/999', 404, /beyond the tree/],
    ['/tile/8/data/x001/000', 404],
    ['/tile/8/3/000', 404],
    ['/tile/4/0/000', 404],
    ['/tile/8/0/abc', 400],
    ['/tile/8/-1/000', 400],
    ['/nope', 404],
    ['/lookup', 404],
  ];
  for (const [url, status, body] of cases) {
    it(`answers ${status} to ${url.slice(0, 80)}`, async () => {
      const r = await app.inject(url);
      assert.equal(r.statusCode, status, r.body);
      assert.match(String(r.headers['content-type']), /^text\/plain; charset=utf-8/);
      assert.equal(r.body.split('\n').length, 2, 'one line of reason');
      if (body) assert.match(r.body, body);
      assert.doesNotMatch(r.body, /SELECT|\/srv\/|at .*\.ts/);
    });
  }

  it('keeps serving after bad input', async () => {
    const r = await app.inject('/lookup/example.com/same@v1.2.3');
    assert.equal(r.statusCode, 200);
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    assert.equal((await app.inject('/readyz')).statusCode, 200);
    const m = await app.inject('/metrics');
    assert.match(m.body, /sumkeep_tree_size \d+/);
  });
});

describe('readiness', () => {
  it('answers 503 when a note key stops signing or the database cannot be written', async () => {
    const store = await openSqliteStore(':memory:');
    let broken = false;
    const real = newSigner(skey);
    const flaky = {
      name: real.name,
      keyHash: real.keyHash,
      sign: (m: Uint8Array) => {
        if (broken) throw new Error('key store unreachable');
        return real.sign(m);
      },
    };
    const seq = await Sequencer.open(store, [flaky], { maxDelayMs: 1, maxBatch: 10 });
    // The database write check is kept READY_CACHE_MS (test/http/readiness.test.ts): the clock
    // moves past it before the database is looked at again.
    let clock = 1_000_000;
    const app = buildServer({
      log: new LogService(store, seq, null, { now: () => clock }),
      name: NAME,
    });
    await app.ready();
    try {
      assert.equal((await app.inject('/readyz')).statusCode, 200);
      broken = true;
      const r = await app.inject('/readyz');
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /note key/);
      broken = false;
      await store.close();
      clock += READY_CACHE_MS;
      const r2 = await app.inject('/readyz');
      assert.equal(r2.statusCode, 503);
      assert.match(r2.body, /database/);
      assert.equal((await app.inject('/healthz')).statusCode, 200, 'the process is still up');
    } finally {
      await app.close();
    }
  });
});
