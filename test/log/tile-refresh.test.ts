// A tile request beyond the tree (issue 7 item 12): the log looks for growth by another writer
// with one store read shared by all concurrent callers, and signs nothing unless the tree grew.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { generateKey, newSigner, type Signer } from '../../src/core/note.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService } from '../../src/log/service.ts';
import { buildServer } from '../../src/http/server.ts';

const NAME = 'tile-refresh.test';
const { skey } = generateKey(NAME);
const H = (c: string) => 'h1:' + Buffer.alloc(32, c).toString('base64');

/** The store, with its head reads counted and slowed (so that concurrent requests overlap). */
function countingStore(inner: Store) {
  const counts = { treeSize: 0, latestHead: 0 };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'treeSize' || prop === 'latestHead') {
        return async () => {
          counts[prop]++;
          await new Promise((r) => setTimeout(r, 20));
          return prop === 'treeSize' ? target.treeSize() : target.latestHead();
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, counts };
}

function countingSigner(inner: Signer) {
  const c = { n: 0 };
  const signer: Signer = {
    name: inner.name,
    keyHash: inner.keyHash,
    sign(msg: Uint8Array) {
      c.n++;
      return inner.sign(msg);
    },
  };
  return { signer, signs: c };
}

const record = (i: number) => ({
  path: `example.com/m${i}`,
  version: 'v1.0.0',
  text: utf8(formatRecordLines(`example.com/m${i}`, 'v1.0.0', H(String(i % 10)), H('m'))),
  source: 'test',
});

describe('tiles beyond the tree', () => {
  let inner: Store;
  let app: FastifyInstance;
  let counts: { treeSize: number; latestHead: number };
  let signs: { n: number };
  let other: Sequencer;

  before(async () => {
    inner = await openSqliteStore(':memory:');
    const cs = countingStore(inner);
    counts = cs.counts;
    const sg = countingSigner(newSigner(skey));
    signs = sg.signs;
    const seq = await Sequencer.open(cs.store, [sg.signer], { maxDelayMs: 1, maxBatch: 100 });
    for (let i = 0; i < 10; i++) await seq.add(record(i));
    app = buildServer({ log: new LogService(cs.store, seq, null), name: NAME });
    await app.ready();
    // Another writer on the same database (as sumkeep ingest is), which the server does not see.
    other = await Sequencer.open(inner, [newSigner(skey)], { maxDelayMs: 1, maxBatch: 100 });
  });
  after(async () => {
    await app.close();
    await inner.close();
  });

  it('200 concurrent 404s cost one shared read of the tree size and no signature', async () => {
    counts.treeSize = 0;
    counts.latestHead = 0;
    signs.n = 0;
    const rs = await Promise.all(Array.from({ length: 200 }, () => app.inject('/tile/8/0/000.p/20')));
    for (const r of rs) assert.equal(r.statusCode, 404, r.body);
    assert.ok(counts.treeSize <= 2, `tree size read ${counts.treeSize} times for 200 concurrent requests`);
    assert.equal(counts.latestHead, 0, 'the head is not re-read while the tree did not grow');
    assert.equal(signs.n, 0, 'nothing is signed for a 404');
  });

  it('a tile that another writer added is found, with one re-read of the head', async () => {
    for (let i = 10; i < 20; i++) await other.add(record(i));
    counts.treeSize = 0;
    counts.latestHead = 0;
    const rs = await Promise.all(Array.from({ length: 50 }, () => app.inject('/tile/8/0/000.p/20')));
    for (const r of rs) assert.equal(r.statusCode, 200, r.body);
    assert.ok(counts.latestHead <= 1, `head re-read ${counts.latestHead} times`);
    assert.equal((await app.inject('/tile/8/0/000.p/20')).statusCode, 200);
  });
});
