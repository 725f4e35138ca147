/**
 * The LogEvents the log reports (src/log/events.ts), with a real SQLite store and sequencer:
 * commits with their batch sizes and the records pending meanwhile, refusals once each (shared
 * fetches, negative-cache replays), policy refusals as "policy", and store failures by code from
 * whichever caller met them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { SumkeepError } from '../../src/core/errors.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/sha256.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, type ModuleSource } from '../../src/log/service.ts';
import { countStoreErrors } from '../../src/log/store-errors.ts';
import type { LogEvents } from '../../src/log/events.ts';
import { zipError } from '../../src/zip/rules.ts';
import { parseGoSumBytes } from '../../src/verify/gosum-text.ts';
import { Upstream } from '../../src/upstream/index.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { moduleEntries } from '../helpers/zipwriter.ts';
import { tempDir } from '../helpers/server.ts';

const H = (s: string) => 'h1:' + toBase64(sha256(utf8(s)));
const signer = () => newSigner(generateKey('events.test').skey);

class Recorder implements LogEvents {
  readonly refusals: string[] = [];
  readonly commits: { seconds: number; records: number }[] = [];
  readonly storeErrors: string[] = [];
  refused(reason: string) {
    this.refusals.push(reason);
  }
  committed(seconds: number, records: number) {
    this.commits.push({ seconds, records });
  }
  storeError(code: string) {
    this.storeErrors.push(code);
  }
  upstreamRequest() {}
}

/** An upstream that refuses example.com/evil* (after `gate`), denies example.com/denied*. */
class Source implements ModuleSource {
  calls = 0;
  gate: Promise<void> = Promise.resolve();
  async fetchModule(path: string, version: string) {
    this.calls++;
    await this.gate;
    if (path.startsWith('example.com/evil')) throw zipError('path traversal', `${path}@${version}/../x`);
    if (path.startsWith('example.com/denied')) throw new SumkeepError('policy_denied', `${path}: denied`);
    if (path.startsWith('example.com/missing')) throw new SumkeepError('upstream_not_found', 'not found');
    const k = `${path}@${version}`;
    return { zipHash: H('zip ' + k), modHash: H('mod ' + k), source: 'test' };
  }
}

const rec = (i: number) => ({
  path: `example.com/m${i}`,
  version: 'v1.0.0',
  text: utf8(`example.com/m${i} v1.0.0 ${H(`z${i}`)}\nexample.com/m${i} v1.0.0/go.mod ${H(`m${i}`)}\n`),
  source: 'test',
});

describe('log events', () => {
  it('reports each committed batch, and the records pending until it is durable', async () => {
    const events = new Recorder();
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer()], { maxDelayMs: 60_000, maxBatch: 3, events });
    assert.equal(seq.pending(), 0);
    const first = [seq.add(rec(0)), seq.add(rec(1))];
    assert.equal(seq.pending(), 2, 'queued, waiting for the batch delay');
    assert.equal(events.commits.length, 0);
    await seq.flush();
    await Promise.all(first);
    assert.equal(seq.pending(), 0);
    const more = [0, 1, 2, 3, 4].map((i) => seq.add(rec(10 + i)));
    await seq.flush();
    await Promise.all(more);
    assert.deepEqual(
      events.commits.map((c) => c.records),
      [2, 3, 2],
      'batches of at most maxBatch',
    );
    for (const c of events.commits) assert.ok(c.seconds >= 0 && c.seconds < 60, String(c.seconds));
    assert.equal(seq.latest()?.size, 7);
    await seq.close();
    await store.close();
  });

  it('counts a refusal once: for every client of one fetch, and not again from the negative cache', async () => {
    const events = new Recorder();
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer()], { maxDelayMs: 1, maxBatch: 10 });
    const source = new Source();
    let open!: () => void;
    source.gate = new Promise((r) => (open = r));
    const svc = new LogService(store, seq, source, { negativeCacheTtlMs: 60_000, events });
    const clients = [0, 1, 2].map(() => svc.lookup('example.com/evil', 'v1.0.0'));
    open();
    for (const c of clients) await assert.rejects(c, { code: 'invalid_zip' });
    assert.equal(source.calls, 1, 'one shared fetch');
    await assert.rejects(svc.lookup('example.com/evil', 'v1.0.0'), { code: 'invalid_zip' });
    assert.equal(source.calls, 1, 'answered by the negative cache');
    assert.deepEqual(events.refusals, ['path_traversal']);

    await assert.rejects(svc.lookup('example.com/denied', 'v1.0.0'), { code: 'policy_denied' });
    await assert.rejects(svc.lookup('example.com/missing', 'v1.0.0'), { code: 'upstream_not_found' });
    assert.equal((await svc.lookup('example.com/ok', 'v1.0.0')).id, 0);
    // A go.sum check that fetches: its refusals are counted too.
    const gosum = parseGoSumBytes(utf8(`example.com/evil2 v1.0.0 ${H('x')}\n`), { maxLines: 10 });
    const check = await svc.checkGoSum(gosum, { fetch: true, maxFetch: 10 });
    assert.equal(check.results[0]?.status, 'unknown');
    assert.deepEqual(events.refusals, ['path_traversal', 'policy', 'path_traversal']);
    await seq.close();
    await store.close();
  });

  it('labels refusals of the real upstream client: a zip rule, too_large, module_mismatch', async () => {
    const dir = tempDir('events-proxy');
    const proxy = buildGoProxy(dir, [
      {
        path: 'example.com/big',
        version: 'v1.0.0',
        files: { 'go.mod': 'module example.com/big\n', 'a.bin': randomBytes(4096) },
      },
      {
        path: 'example.com/other',
        version: 'v1.0.0',
        files: {},
        mod: 'module example.com/other\n',
        zipEntries: moduleEntries('example.com/wrong', 'v1.0.0', { 'go.mod': 'module example.com/other\n' }),
      },
      {
        path: 'example.com/dup',
        version: 'v1.0.0',
        files: {},
        mod: 'module example.com/dup\n',
        zipEntries: [
          { name: 'example.com/dup@v1.0.0/a.go', content: 'a' },
          { name: 'example.com/dup@v1.0.0/A.go', content: 'b' },
        ],
      },
    ]);
    const events = new Recorder();
    const store = await openSqliteStore(':memory:');
    const seq = await Sequencer.open(store, [signer()], { maxDelayMs: 1, maxBatch: 10 });
    const upstream = new Upstream({ proxies: proxy.url, limits: { zip: 1024 }, tmpDir: dir });
    const svc = new LogService(store, seq, upstream, { events });
    await assert.rejects(svc.lookup('example.com/big', 'v1.0.0'), { code: 'invalid_zip' });
    await assert.rejects(svc.lookup('example.com/other', 'v1.0.0'), { code: 'module_mismatch' });
    await assert.rejects(svc.lookup('example.com/dup', 'v1.0.0'), { code: 'invalid_zip' });
    assert.deepEqual(events.refusals, ['too_large', 'module_mismatch', 'case_fold_collision']);
    await seq.close();
    await store.close();
  });

  it('counts store failures by code, whichever caller met them', async () => {
    const events = new Recorder();
    const raw = await openSqliteStore(':memory:');
    const store = countStoreErrors(raw, events);
    const seq = await Sequencer.open(store, [signer()], { maxDelayMs: 1, maxBatch: 10 });
    const svc = new LogService(store, seq, new Source(), { events });
    assert.equal((await svc.lookup('example.com/ok', 'v1.0.0')).id, 0);
    assert.deepEqual(events.storeErrors, [], 'working calls are not counted');
    assert.equal(await store.treeSize(), 1, 'the wrapped store answers as the store');

    await raw.close();
    await assert.rejects(svc.lookup('example.com/other', 'v1.0.0'), { code: 'store_error' });
    assert.equal((await svc.ready()).ok, false);
    assert.deepEqual(events.storeErrors, ['store_error', 'store_error']);
  });
});
