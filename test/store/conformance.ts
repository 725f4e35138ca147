/**
 * The shared conformance suite of the Store contract (src/store/store.ts). Every backend runs it
 * from its own test file:
 *
 *   storeConformance('sqlite', () => openSqliteStore(':memory:'), async () => { ...; return () => openSqliteStore(file); });
 *
 * `open` must give a fresh, empty store on every call. `reopen`, for persistent backends, allocates
 * one new empty location and returns an opener that opens that same location on every call (the
 * suite closes one store before opening the next).
 *
 * Batches are real: record texts in go.sum form, stored hashes from tlog.storedHashes, heads with
 * the real tree hash, so a backend that mixes up hash positions fails here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError, type ErrorCode } from '../../src/core/errors.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/sha256.ts';
import { storedHashCount, storedHashes, storedHashIndex, treeHash } from '../../src/core/tlog/index.ts';
import type { AppendBatch, AuditStore, NewRecord, SignedHead, StoredHash } from '../../src/store/store.ts';

export type StoreOpener = () => Promise<AuditStore>;

/** A module version to put in a batch; source defaults to a proxy URL. */
export interface Entry {
  path: string;
  version: string;
  source?: string;
}

/** go.sum record text of a module version, with made-up but well-formed h1: hashes. */
export function recordText(path: string, version: string): Uint8Array {
  const zip = toBase64(sha256(utf8(`zip ${path}@${version}`)));
  const mod = toBase64(sha256(utf8(`mod ${path}@${version}`)));
  return utf8(`${path} ${version} h1:${zip}\n${path} ${version}/go.mod h1:${mod}\n`);
}

/**
 * Builds valid batches for a log, mirroring what the store holds: `next` computes the batch that
 * appends the given entries without changing the builder; `commit` records it once the store
 * took it.
 */
export class LogBuilder {
  /** Every stored hash so far, by stored-hash index. */
  readonly hashes: Uint8Array[] = [];
  readonly texts: Uint8Array[] = [];
  readonly heads: SignedHead[] = [];

  get size(): number {
    return this.texts.length;
  }

  next(entries: readonly Entry[]): AppendBatch {
    const all = [...this.hashes];
    const reader = (ix: readonly number[]): Uint8Array[] => ix.map((i) => all[i]!);
    const records: NewRecord[] = [];
    const hashes: StoredHash[] = [];
    entries.forEach((e, k) => {
      const id = this.size + k;
      const text = recordText(e.path, e.version);
      records.push({
        id,
        path: e.path,
        version: e.version,
        text,
        source: e.source ?? 'upstream:https://proxy.test',
      });
      for (const h of storedHashes(id, text, reader)) {
        hashes.push({ index: all.length, hash: h });
        all.push(h);
      }
    });
    const size = this.size + entries.length;
    const root = treeHash(size, reader);
    const note = utf8(
      `go.sum database tree\n${size}\n${toBase64(root)}\n\n\u2014 test.example ${toBase64(sha256(root, utf8('sig')))}\n`,
    );
    return { records, hashes, head: { size, hash: root, note, createdAt: 1_700_000_000_000 + size } };
  }

  commit(batch: AppendBatch): void {
    for (const r of batch.records) this.texts.push(r.text);
    for (const h of batch.hashes) this.hashes.push(h.hash);
    this.heads.push(batch.head);
  }

  /** next + appendBatch + commit. */
  async append(store: AuditStore, entries: readonly Entry[]): Promise<AppendBatch> {
    const batch = this.next(entries);
    await store.appendBatch(batch);
    this.commit(batch);
    return batch;
  }
}

/** `count` distinct module versions: example.com/m<first+i> v1.0.0. */
export function entries(first: number, count: number): Entry[] {
  return Array.from({ length: count }, (_, i) => ({ path: `example.com/m${first + i}`, version: 'v1.0.0' }));
}

/** Resolves when `p` rejects with a SumkeepError of the given code; fails otherwise. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSumkeepError(e), `expected a SumkeepError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

/** What a store holds, read through the AuditStore interface (for before/after comparisons). */
interface Snapshot {
  size: number;
  heads: SignedHead[];
  texts: Uint8Array[];
  hashes: Uint8Array[];
  nextHashMissing: boolean;
  nextRecordMissing: boolean;
}

async function snapshot(store: AuditStore): Promise<Snapshot> {
  const size = await store.treeSize();
  const count = storedHashCount(size);
  return {
    size,
    heads: await store.heads(),
    texts: await store.recordTexts(0, size),
    hashes: await store.readHashes(Array.from({ length: count }, (_, i) => i)),
    nextHashMissing: await store.readHashes([count]).then(
      () => false,
      (e: unknown) => isSumkeepError(e, 'not_found'),
    ),
    nextRecordMissing: (await store.recordById(size)) === null,
  };
}

/** Checks that the store holds exactly what the builder committed. */
async function assertHolds(store: AuditStore, log: LogBuilder): Promise<void> {
  assert.equal(await store.treeSize(), log.size);
  assert.deepEqual(await store.heads(), log.heads);
  assert.deepEqual(await store.latestHead(), log.heads.at(-1) ?? null);
  assert.deepEqual(await store.recordTexts(0, log.size), log.texts);
  assert.deepEqual(await store.readHashes(log.hashes.map((_, i) => i)), log.hashes);
  assert.equal(await store.recordById(log.size), null);
}

export function storeConformance(name: string, open: StoreOpener, reopen?: () => Promise<StoreOpener>): void {
  /** Opens a fresh store, runs fn, closes the store whatever happens. */
  async function withStore(fn: (store: AuditStore) => Promise<void>): Promise<void> {
    const store = await open();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`Store conformance: ${name}`, () => {
    describe('an empty log', () => {
      it('has size 0, no head, no records and no hashes', () =>
        withStore(async (store) => {
          assert.equal(await store.treeSize(), 0);
          assert.equal(await store.latestHead(), null);
          assert.deepEqual(await store.heads(), []);
          assert.equal(await store.lookup('example.com/m', 'v1.0.0'), null);
          assert.equal(await store.recordById(0), null);
          assert.deepEqual(await store.recordTexts(0, 0), []);
          assert.deepEqual(await store.readHashes([]), []);
          assert.deepEqual(await store.readTileHashes(0, 0, 0), []);
          await rejectsWith(store.recordTexts(0, 1), 'not_found');
          await rejectsWith(store.readHashes([0]), 'not_found');
          await rejectsWith(store.readTileHashes(0, 0, 1), 'not_found');
        }));

      it('is writable', () => withStore((store) => store.checkWritable()));

      it('accepts a first head of size 0 and then only larger heads', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, []);
          assert.equal(await store.treeSize(), 0);
          assert.deepEqual(await store.latestHead(), log.heads[0]);
          await rejectsWith(store.appendBatch(log.next([])), 'conflict');
          await log.append(store, entries(0, 1));
          await assertHolds(store, log);
        }));
    });

    describe('appendBatch and reads', () => {
      it('reads back records, hashes and heads of several batches', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 1));
          await log.append(store, entries(1, 6));
          await log.append(store, entries(7, 10));
          await assertHolds(store, log);
          assert.equal(await store.treeSize(), 17);
        }));

      it('returns each record with its id, fields, and the committing head as createdAt', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          const b1 = await log.append(store, [
            { path: 'example.com/a', version: 'v0.1.0', source: 'ingest:a.zip' },
          ]);
          const b2 = await log.append(store, entries(1, 2));
          for (const [batch, ids] of [
            [b1, [0]],
            [b2, [1, 2]],
          ] as const) {
            for (const [k, id] of ids.entries()) {
              const want = { ...batch.records[k]!, createdAt: batch.head.createdAt };
              assert.deepEqual(await store.recordById(id), want);
              assert.deepEqual(await store.lookup(want.path, want.version), want);
            }
          }
          assert.equal((await store.recordById(0))?.source, 'ingest:a.zip');
        }));

      it('lists heads oldest first and reports the newest as latest', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          for (const n of [3, 1, 4, 1, 5]) await log.append(store, entries(log.size, n));
          const heads = await store.heads();
          assert.deepEqual(
            heads.map((h) => h.size),
            [3, 4, 8, 9, 14],
          );
          assert.deepEqual(heads, log.heads);
          assert.deepEqual(await store.latestHead(), log.heads[4]);
        }));
    });

    describe('head notes', () => {
      it('keeps further notes of an existing head once each, oldest first', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 3));
          const size = log.heads.at(-1)!.size;
          assert.deepEqual(await store.headNotes(size), []);
          const a = new TextEncoder().encode('note signed again by key A\n');
          const b = new TextEncoder().encode('note signed again by keys A and B\n');
          await store.addHeadNote(size, a, 1000);
          await store.addHeadNote(size, a, 2000);
          await store.addHeadNote(size, b, 3000);
          assert.deepEqual(await store.headNotes(size), [a, b]);
          // The head itself is unchanged.
          assert.deepEqual(await store.latestHead(), log.heads.at(-1));
        }));

      it('refuses a note for a head that does not exist with not_found', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 2));
          await rejectsWith(store.addHeadNote(99, new Uint8Array([1]), 1), 'not_found');
          await rejectsWith(store.addHeadNote(-1, new Uint8Array([1]), 1), 'bad_input');
          await rejectsWith(store.addHeadNote(2, new Uint8Array(0), 1), 'bad_input');
        }));
    });

    describe('remote heads (--check-sumdb)', () => {
      const head = (size: number, seed: number, seenAt = 1000) => ({
        size,
        hash: sha256(utf8(`root ${size} ${seed}`)),
        note: utf8(`go.sum database tree\n${size}\nsigned ${seed}\n`),
        seenAt,
      });

      it('is empty for an unknown database', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.remoteState('sum.golang.org'), { head: null, fork: null });
        }));

      it('keeps only a larger head, per database name', () =>
        withStore(async (store) => {
          assert.equal(await store.saveRemoteHead('a.example', head(5, 1)), true);
          assert.deepEqual((await store.remoteState('a.example')).head, head(5, 1));
          // Smaller and equal sizes never replace it (a compare-and-set, not a last-writer-wins).
          assert.equal(await store.saveRemoteHead('a.example', head(4, 2)), false);
          assert.equal(await store.saveRemoteHead('a.example', head(5, 3)), false);
          assert.deepEqual((await store.remoteState('a.example')).head, head(5, 1));
          assert.equal(await store.saveRemoteHead('a.example', head(9, 4, 2000)), true);
          assert.deepEqual((await store.remoteState('a.example')).head, head(9, 4, 2000));
          // Another name is another database.
          assert.deepEqual(await store.remoteState('b.example'), { head: null, fork: null });
          assert.equal(await store.saveRemoteHead('b.example', head(2, 5)), true);
          assert.deepEqual((await store.remoteState('b.example')).head, head(2, 5));
          assert.deepEqual((await store.remoteState('a.example')).head, head(9, 4, 2000));
          // The log itself is untouched.
          assert.equal(await store.treeSize(), 0);
        }));

      it('keeps the first fork proof, next to the head', () =>
        withStore(async (store) => {
          await store.saveRemoteHead('a.example', head(3, 1));
          await store.saveRemoteFork('a.example', { proof: 'first proof\nnote A\nnote B\n', detectedAt: 7 });
          await store.saveRemoteFork('a.example', { proof: 'second proof', detectedAt: 8 });
          assert.deepEqual(await store.remoteState('a.example'), {
            head: head(3, 1),
            fork: { proof: 'first proof\nnote A\nnote B\n', detectedAt: 7 },
          });
          // A fork can be kept for a database with no head yet.
          await store.saveRemoteFork('c.example', { proof: 'p', detectedAt: 1 });
          assert.deepEqual(await store.remoteState('c.example'), {
            head: null,
            fork: { proof: 'p', detectedAt: 1 },
          });
        }));

      it('refuses malformed arguments with bad_input', () =>
        withStore(async (store) => {
          await rejectsWith(store.remoteState(''), 'bad_input');
          await rejectsWith(store.saveRemoteHead('a', { ...head(1, 1), size: -1 }), 'bad_input');
          await rejectsWith(
            store.saveRemoteHead('a', { ...head(1, 1), hash: new Uint8Array(31) }),
            'bad_input',
          );
          await rejectsWith(
            store.saveRemoteHead('a', { ...head(1, 1), note: new Uint8Array(0) }),
            'bad_input',
          );
          await rejectsWith(store.saveRemoteFork('a', { proof: '', detectedAt: 1 }), 'bad_input');
          assert.deepEqual(await store.remoteState('a'), { head: null, fork: null });
        }));
    });

    describe('lookup', () => {
      const cases: Entry[] = [
        { path: 'github.com/Azure/go-autorest', version: 'v1.0.0' },
        { path: 'github.com/azure/go-autorest', version: 'v1.0.0' },
        { path: 'github.com/azure/go-autorest', version: 'v1.0.0-RC' },
        { path: 'github.com/azure/go-autorest', version: 'v1.0.0-rc' },
        { path: 'example.com/caf\u00e9', version: 'v1.0.0' }, // NFC
        { path: 'example.com/cafe\u0301', version: 'v1.0.0' }, // NFD: a different path
        { path: 'example.com/\u6a21\u5757/\u{1f600}', version: 'v2.0.0+incompatible' },
        { path: 'example.com/a', version: 'v1.0.0' },
        { path: 'example.com/a/b', version: 'v1.0.0' },
      ];

      it('finds each module version by its exact path and version', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          const batch = await log.append(store, cases);
          for (const [i, c] of cases.entries()) {
            const got = await store.lookup(c.path, c.version);
            assert.ok(got !== null, `${c.path}@${c.version} not found`);
            assert.equal(got.id, i);
            assert.equal(got.path, c.path);
            assert.equal(got.version, c.version);
            assert.deepEqual(got.text, batch.records[i]!.text);
          }
        }));

      it('does not match by case, normalization, prefix or version alone', () =>
        withStore(async (store) => {
          await new LogBuilder().append(store, cases);
          for (const [path, version] of [
            ['github.com/AZURE/go-autorest', 'v1.0.0'],
            ['github.com/Azure/go-autorest', 'v1.0.0-RC'],
            ['github.com/azure/go-autorest', 'V1.0.0'],
            ['example.com/cafe', 'v1.0.0'],
            ['example.com', 'v1.0.0'],
            ['example.com/a/', 'v1.0.0'],
            ['example.com/a', 'v1.0'],
            ['example.com/a', ''],
            ['', 'v1.0.0'],
          ]) {
            assert.equal(await store.lookup(path!, version!), null, `${path}@${version} should not be found`);
          }
        }));
    });

    describe('appendBatch refusals', () => {
      // Each case turns the valid next batch (3 records after a log of 3) into a bad one.
      const cases: { name: string; code: ErrorCode; mutate: (b: AppendBatch) => AppendBatch }[] = [
        {
          name: 'a (path, version) that is already logged',
          code: 'conflict',
          mutate: (b) => withRecord(b, 1, { path: 'example.com/m0', version: 'v1.0.0' }),
        },
        {
          name: 'the same (path, version) twice in the batch',
          code: 'conflict',
          mutate: (b) => withRecord(b, 2, { path: b.records[0]!.path, version: b.records[0]!.version }),
        },
        { name: 'a gap in the ids', code: 'conflict', mutate: (b) => withRecord(b, 2, { id: 6 }) },
        { name: 'a repeated id', code: 'conflict', mutate: (b) => withRecord(b, 1, { id: 3 }) },
        {
          name: 'ids that do not start at the tree size',
          code: 'conflict',
          mutate: (b) => ({ ...b, records: b.records.map((r) => ({ ...r, id: r.id - 1 })) }),
        },
        {
          name: 'ids that skip past the tree size',
          code: 'conflict',
          mutate: (b) => ({ ...b, records: b.records.map((r) => ({ ...r, id: r.id + 1 })) }),
        },
        {
          name: 'a head larger than the records cover',
          code: 'conflict',
          mutate: (b) => ({ ...b, head: { ...b.head, size: b.head.size + 1 } }),
        },
        {
          name: 'a head smaller than the records cover',
          code: 'conflict',
          mutate: (b) => ({ ...b, head: { ...b.head, size: b.head.size - 1 } }),
        },
        {
          name: 'a head no larger than the latest, with no records',
          code: 'conflict',
          mutate: (b) => ({ records: [], hashes: [], head: { ...b.head, size: 3 } }),
        },
        {
          name: 'a stored hash missing',
          code: 'conflict',
          mutate: (b) => ({ ...b, hashes: b.hashes.slice(0, -1) }),
        },
        {
          name: 'an extra stored hash',
          code: 'conflict',
          mutate: (b) => ({
            ...b,
            hashes: [...b.hashes, { index: b.hashes.at(-1)!.index + 1, hash: new Uint8Array(32) }],
          }),
        },
        {
          name: 'stored hash indexes that do not continue the tree',
          code: 'conflict',
          mutate: (b) => ({ ...b, hashes: b.hashes.map((h) => ({ ...h, index: h.index + 1 })) }),
        },
        {
          name: 'a stored hash that is not 32 bytes',
          code: 'bad_input',
          mutate: (b) => ({
            ...b,
            hashes: b.hashes.map((h, i) => (i === 1 ? { ...h, hash: h.hash.slice(1) } : h)),
          }),
        },
        {
          name: 'a head hash that is not 32 bytes',
          code: 'bad_input',
          mutate: (b) => ({ ...b, head: { ...b.head, hash: new Uint8Array(33) } }),
        },
        { name: 'a negative record id', code: 'bad_input', mutate: (b) => withRecord(b, 0, { id: -1 }) },
        { name: 'a fractional record id', code: 'bad_input', mutate: (b) => withRecord(b, 0, { id: 3.5 }) },
      ];

      for (const c of cases) {
        it(`refuses ${c.name} with ${c.code} and writes nothing`, () =>
          withStore(async (store) => {
            const log = new LogBuilder();
            await log.append(store, entries(0, 3));
            const before = await snapshot(store);
            await rejectsWith(store.appendBatch(c.mutate(log.next(entries(3, 3)))), c.code);
            assert.deepEqual(await snapshot(store), before);
            assert.equal(await store.lookup('example.com/m3', 'v1.0.0'), null);
            // The store is still usable and takes the valid batch.
            await log.append(store, entries(3, 3));
            await assertHolds(store, log);
          }));
      }
    });

    describe('recordsRange', () => {
      it('returns whole records of any range inside the log, in id order', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          const b1 = await log.append(store, [
            ...entries(0, 3),
            { path: 'example.com/s', version: 'v1.0.0', source: 'ingest:s.zip' },
          ]);
          const b2 = await log.append(store, entries(4, 3));
          const all = [
            ...b1.records.map((r) => ({ ...r, createdAt: b1.head.createdAt })),
            ...b2.records.map((r) => ({ ...r, createdAt: b2.head.createdAt })),
          ];
          for (const [start, count] of [
            [0, 7],
            [2, 3],
            [6, 1],
            [7, 0],
          ] as const) {
            assert.deepEqual(await store.recordsRange(start, count), all.slice(start, start + count));
          }
          // Past the end: the records that exist, no error (an audit reads whatever is there).
          assert.deepEqual(await store.recordsRange(5, 3), all.slice(5));
          await rejectsWith(store.recordsRange(-1, 1), 'bad_input');
        }));
    });

    describe('status page reads: recentRecords, searchRecords, headGrowth', () => {
      it('recentRecords gives the newest records first, whole, at most limit', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.recentRecords(5), []);
          const log = new LogBuilder();
          const b1 = await log.append(store, entries(0, 4));
          const b2 = await log.append(store, entries(4, 3));
          const all = [
            ...b1.records.map((r) => ({ ...r, createdAt: b1.head.createdAt })),
            ...b2.records.map((r) => ({ ...r, createdAt: b2.head.createdAt })),
          ];
          assert.deepEqual(await store.recentRecords(3), all.slice(4).reverse());
          assert.deepEqual(await store.recentRecords(100), [...all].reverse());
          assert.deepEqual(await store.recentRecords(0), []);
          for (const bad of [-1, 1.5, 1001, Number.NaN]) {
            await rejectsWith(store.recentRecords(bad), 'bad_input');
          }
        }));

      it('searchRecords matches a path prefix bytewise: byte order, case-sensitive, no wildcards', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          const paths = [
            'example.com/ab',
            'example.com/a',
            'example.com/a_b',
            'example.com/B',
            'example.com/a%c',
            'example.com/a/b',
            'example.com/b',
            'example.org/x',
            'example.com~',
            'example.com/a~',
          ];
          await log.append(store, [
            ...paths.map((path) => ({ path, version: 'v1.0.0' })),
            { path: 'example.com/a', version: 'v0.9.0' },
          ]);
          const found = async (prefix: string, limit = 100) =>
            (await store.searchRecords(prefix, limit)).map((r) => `${r.path}@${r.version}`);
          // Byte order: '%' 0x25 < '/' 0x2f < '_' 0x5f < 'b' 0x62 < '~' 0x7e; 'B' 0x42 before 'a'
          // (a locale collation would put 'B' among the b's). Versions bytewise too.
          assert.deepEqual(await found('example.com/a'), [
            'example.com/a@v0.9.0',
            'example.com/a@v1.0.0',
            'example.com/a%c@v1.0.0',
            'example.com/a/b@v1.0.0',
            'example.com/a_b@v1.0.0',
            'example.com/ab@v1.0.0',
            'example.com/a~@v1.0.0',
          ]);
          assert.deepEqual((await found('example.com/')).slice(0, 2), [
            'example.com/B@v1.0.0',
            'example.com/a@v0.9.0',
          ]);
          assert.equal((await found('example.com/')).length, 9);
          // '_' and '%' are plain characters (a LIKE would match 'ab' and 'a/b' here).
          assert.deepEqual(await found('example.com/a_'), ['example.com/a_b@v1.0.0']);
          assert.deepEqual(await found('example.com/a%'), ['example.com/a%c@v1.0.0']);
          // The range's upper end after '~' (0x7e) is 0x7f.
          assert.deepEqual(await found('example.com~'), ['example.com~@v1.0.0']);
          assert.deepEqual(await found('example.com/a~'), ['example.com/a~@v1.0.0']);
          assert.deepEqual(await found('Example.com/'), []);
          assert.deepEqual(await found('example.com/b'), ['example.com/b@v1.0.0']);
          assert.deepEqual(await found('example.com/a', 2), ['example.com/a@v0.9.0', 'example.com/a@v1.0.0']);
          assert.deepEqual(await found('example.com/a', 0), []);
          const [r] = await store.searchRecords('example.org/', 1);
          assert.deepEqual(r, await store.lookup('example.org/x', 'v1.0.0'));
          for (const bad of ['', 'has space', 'caf\u00e9', 'a\u0000b', 'x'.repeat(513), 'tab\t']) {
            await rejectsWith(store.searchRecords(bad, 10), 'bad_input');
          }
          await rejectsWith(store.searchRecords('example.com/', 1001), 'bad_input');
          await rejectsWith(store.searchRecords(42 as unknown as string, 1), 'bad_input');
        }));

      it('headGrowth samples the heads at evenly spaced instants, oldest first', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.headGrowth(10), []);
          const log = new LogBuilder();
          // LogBuilder heads are created at T + size.
          const T = 1_700_000_000_000;
          await log.append(store, []);
          await log.append(store, entries(0, 1));
          await log.append(store, entries(1, 6));
          await log.append(store, entries(7, 10));
          const p = (size: number) => ({ size, createdAt: T + size });
          assert.deepEqual(await store.headGrowth(2), [p(0), p(17)]);
          // Instants T, T+8, T+17: the head at T+8 is the one created at T+7.
          assert.deepEqual(await store.headGrowth(3), [p(0), p(7), p(17)]);
          // One instant per millisecond: every head once (repeats dropped).
          assert.deepEqual(await store.headGrowth(18), [p(0), p(1), p(7), p(17)]);
          assert.deepEqual(await store.headGrowth(1000), [p(0), p(1), p(7), p(17)]);
          for (const bad of [0, 1, 1001, 2.5]) await rejectsWith(store.headGrowth(bad), 'bad_input');
        }));

      it('headGrowth picks the larger head of one instant, and one point for a single head', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          const b1 = log.next(entries(0, 2));
          b1.head.createdAt = 5000;
          await store.appendBatch(b1);
          log.commit(b1);
          assert.deepEqual(await store.headGrowth(5), [{ size: 2, createdAt: 5000 }]);
          const b2 = log.next(entries(2, 3));
          b2.head.createdAt = 5000;
          await store.appendBatch(b2);
          log.commit(b2);
          assert.deepEqual(await store.headGrowth(5), [{ size: 5, createdAt: 5000 }]);
        }));
    });

    describe('recordTexts', () => {
      it('returns any range inside the log, in id order', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 5));
          await log.append(store, entries(5, 5));
          for (const [start, count] of [
            [0, 10],
            [0, 1],
            [3, 4],
            [4, 2],
            [9, 1],
            [10, 0],
            [7, 0],
          ] as const) {
            assert.deepEqual(await store.recordTexts(start, count), log.texts.slice(start, start + count));
          }
        }));

      it('throws not_found for a range that reaches past the end', () =>
        withStore(async (store) => {
          await new LogBuilder().append(store, entries(0, 4));
          for (const [start, count] of [
            [0, 5],
            [3, 2],
            [4, 1],
            [100, 1],
          ] as const) {
            await rejectsWith(store.recordTexts(start, count), 'not_found');
          }
        }));
    });

    describe('readHashes and readTileHashes', () => {
      it('returns hashes in the order asked, repeats included', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 20));
          const n = log.hashes.length;
          const ix = [n - 1, 0, 5, 5, 17, 2, n - 1, 1];
          assert.deepEqual(
            await store.readHashes(ix),
            ix.map((i) => log.hashes[i]),
          );
        }));

      it('throws not_found when any index is missing', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 5));
          const n = log.hashes.length;
          await rejectsWith(store.readHashes([n]), 'not_found');
          await rejectsWith(store.readHashes([0, 1, n + 10, 2]), 'not_found');
        }));

      it('reads tile ranges that equal the stored hashes at each level', () =>
        withStore(async (store) => {
          const log = new LogBuilder();
          await log.append(store, entries(0, 200));
          await log.append(store, entries(200, 100));
          const at = (level: number, n: number): Uint8Array => log.hashes[storedHashIndex(level, n)]!;
          const range = (level: number, start: number, count: number): Uint8Array[] =>
            Array.from({ length: count }, (_, i) => at(level, start + i));
          for (const [level, start, count] of [
            [0, 0, 256], // full tile, level 0
            [0, 256, 44], // partial tile at the end
            [0, 100, 150], // straddles the batch boundary
            [1, 0, 150],
            [2, 0, 75],
            [4, 3, 15],
            [8, 0, 1], // tile level 1, first hash
            [0, 299, 1],
          ] as const) {
            assert.deepEqual(await store.readTileHashes(level, start, count), range(level, start, count));
          }
        }));

      it('throws not_found for a tile range that is not all stored', () =>
        withStore(async (store) => {
          await new LogBuilder().append(store, entries(0, 300));
          for (const [level, start, count] of [
            [0, 256, 45],
            [0, 300, 1],
            [1, 149, 2],
            [8, 0, 2],
            [9, 0, 1],
          ] as const) {
            await rejectsWith(store.readTileHashes(level, start, count), 'not_found');
          }
        }));
    });

    describe('arguments', () => {
      it('refuses ids, indexes and counts that are not non-negative integers with bad_input', () =>
        withStore(async (store) => {
          await new LogBuilder().append(store, entries(0, 2));
          for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
            await rejectsWith(store.recordById(bad), 'bad_input');
            await rejectsWith(store.recordTexts(bad, 1), 'bad_input');
            await rejectsWith(store.recordTexts(0, bad), 'bad_input');
            await rejectsWith(store.readHashes([0, bad]), 'bad_input');
            await rejectsWith(store.readTileHashes(bad, 0, 1), 'bad_input');
            await rejectsWith(store.readTileHashes(0, bad, 1), 'bad_input');
            await rejectsWith(store.readTileHashes(0, 0, bad), 'bad_input');
          }
        }));
    });

    describe('close', () => {
      it('makes later calls fail with store_error and may be called twice', async () => {
        const store = await open();
        await store.close();
        await store.close();
        await rejectsWith(store.treeSize(), 'store_error');
        await rejectsWith(store.lookup('example.com/m0', 'v1.0.0'), 'store_error');
        await rejectsWith(store.appendBatch(new LogBuilder().next(entries(0, 1))), 'store_error');
      });
    });

    if (reopen !== undefined) {
      describe('durability', () => {
        it('keeps every committed batch across close and reopen, and keeps appending', async () => {
          const openAgain = await reopen();
          const log = new LogBuilder();
          let store = await openAgain();
          try {
            await log.append(store, entries(0, 5));
            await log.append(store, [{ path: 'example.com/\u00fcber', version: 'v1.0.0' }]);
          } finally {
            await store.close();
          }
          store = await openAgain();
          try {
            await assertHolds(store, log);
            assert.equal((await store.lookup('example.com/\u00fcber', 'v1.0.0'))?.id, 5);
            await log.append(store, entries(6, 3));
          } finally {
            await store.close();
          }
          store = await openAgain();
          try {
            await assertHolds(store, log);
            await rejectsWith(store.appendBatch(log.next(entries(0, 1))), 'conflict');
          } finally {
            await store.close();
          }
        });

        it('keeps nothing of a refused batch across reopen', async () => {
          const openAgain = await reopen();
          const log = new LogBuilder();
          let store = await openAgain();
          try {
            await log.append(store, entries(0, 2));
            const bad = log.next([...entries(2, 2), { path: 'example.com/m0', version: 'v1.0.0' }]);
            await rejectsWith(store.appendBatch(bad), 'conflict');
          } finally {
            await store.close();
          }
          store = await openAgain();
          try {
            await assertHolds(store, log);
            assert.equal(await store.lookup('example.com/m2', 'v1.0.0'), null);
          } finally {
            await store.close();
          }
        });
      });
    }
  });
}

/** A copy of b with record k's fields replaced. */
function withRecord(b: AppendBatch, k: number, fields: Partial<NewRecord>): AppendBatch {
  return { ...b, records: b.records.map((r, i) => (i === k ? { ...r, ...fields } : r)) };
}
