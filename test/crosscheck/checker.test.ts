/**
 * CrossChecker against an in-process checksum database whose answers a test can break: a log built
 * with the tlog core, notes signed with a test key, lookups and tiles served through a SumdbSource
 * that records every read. The store is a real SQLite store (remote_heads, remote_forks). The
 * end-to-end test (crosscheck.test.ts) plays the same against Go's reference server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { SumkeepError, isSumkeepError, type ErrorCode } from '../../src/core/errors.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { generateKey, newSigner, sign } from '../../src/core/note.ts';
import { sha256 } from '../../src/core/sha256.ts';
import {
  formatRecord,
  formatTree,
  parseTilePath,
  readTileData,
  storedHashes,
  treeHash,
  type Hash,
} from '../../src/core/tlog/index.ts';
import { decodeUtf8 } from '../../src/core/bytes.ts';
import { CrossChecker, type CrossCheckLogger } from '../../src/crosscheck/checker.ts';
import { parseSumdbSpec } from '../../src/crosscheck/spec.ts';
import type { SumdbSource } from '../../src/crosscheck/source.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AuditStore } from '../../src/store/store.ts';

const NAME = 'sum.unit.test';
const KEY = generateKey(NAME);
const OTHER_KEY = generateKey(NAME);

const h1 = (s: string) => 'h1:' + toBase64(sha256(utf8(s)));
const zipOf = (p: string) => h1(`zip ${p}`);
const modOf = (p: string) => h1(`mod ${p}`);

/** A checksum database in memory: records in order, every prefix signable. */
class MemDb {
  readonly texts: Uint8Array[] = [];
  readonly hashes: Hash[] = [];
  readonly ids = new Map<string, number>();
  constructor(private readonly skey = KEY.skey) {}

  add(path: string, version = 'v1.0.0', zip = zipOf(path), mod = modOf(path)): this {
    const text = utf8(formatRecordLines(path, version, zip, mod));
    const id = this.texts.length;
    for (const h of storedHashes(id, text, (ix) => ix.map((i) => this.hashes[i]!))) this.hashes.push(h);
    this.texts.push(text);
    this.ids.set(`${path}@${version}`, id);
    return this;
  }

  note(size = this.texts.length, skey = this.skey): Uint8Array {
    const hash = treeHash(size, (ix) => ix.map((i) => this.hashes[i]!));
    return sign(decodeUtf8(formatTree({ N: size, hash }))!, [newSigner(skey)]);
  }
}

interface Tamper {
  /** Replace the lookup answer. */
  lookup?: (path: string, body: Uint8Array | null) => Uint8Array | null;
  /** Flip a byte of every tile. */
  flipTiles?: boolean;
  /** Throw this code for every read. */
  fail?: ErrorCode;
}

/** A SumdbSource over `db()` (the current database: tests switch it), logging every path read. */
function source(db: () => MemDb, tamper: Tamper = {}, latest?: () => Uint8Array | null) {
  const reads: string[] = [];
  const s: SumdbSource = {
    where: () => 'the in-memory database',
    async read(rel, limit) {
      reads.push(rel);
      if (tamper.fail !== undefined) throw new SumkeepError(tamper.fail, `injected ${tamper.fail}`);
      const d = db();
      if (rel.startsWith('lookup/')) {
        const key = rel.slice('lookup/'.length);
        let body: Uint8Array | null = null;
        for (const [k, id] of d.ids) {
          const [p, v] = k.split('@') as [string, string];
          if (`${escapePath(p)}@${escapeVersion(v)}` !== key) continue;
          const rec = formatRecord(id, d.texts[id]!);
          const note = d.note();
          body = new Uint8Array([...rec, ...note]);
        }
        if (tamper.lookup) body = tamper.lookup(key, body);
        if (body !== null) assert.ok(body.length <= limit);
        return body;
      }
      const t = parseTilePath(rel);
      const size = d.texts.length;
      const available = Math.floor(size / 2 ** (t.H * t.L));
      if (t.N * 2 ** t.H + t.W > available) return null;
      const data = readTileData(t, (ix) => ix.map((i) => d.hashes[i]!));
      if (tamper.flipTiles) data[0] = data[0]! ^ 1;
      return data;
    },
    ...(latest ? { latest: async () => latest() } : {}),
  };
  return { s, reads };
}

function recordingLog() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log: CrossCheckLogger = {
    error: (fields, msg) => lines.push({ level: 'error', msg, fields }),
    warn: (fields, msg) => lines.push({ level: 'warn', msg, fields }),
  };
  return { log, lines };
}

async function withStore(fn: (store: AuditStore) => Promise<void>) {
  const store = await openSqliteStore(':memory:');
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function checker(store: AuditStore, src: SumdbSource, log?: CrossCheckLogger) {
  return new CrossChecker({
    spec: parseSumdbSpec(KEY.vkey),
    source: src,
    store,
    isPrivate: (p) => p.startsWith('corp.example/'),
    ...(log ? { log } : {}),
  });
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, re?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSumkeepError(e, code), `want ${code}, got ${String(e)}`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

const check = (c: CrossChecker, path: string) => c.check(path, 'v1.0.0', zipOf(path), modOf(path));

describe('CrossChecker', () => {
  it('verifies a version with a proof, and remembers the head', () =>
    withStore(async (store) => {
      const db = new MemDb();
      for (let i = 0; i < 300; i++) db.add(`example.com/m${i}`);
      const { s, reads } = source(() => db);
      const c = checker(store, s);
      assert.equal(await check(c, 'example.com/m17'), 'verified');
      assert.ok(reads.some((r) => r.startsWith('tile/8/')));
      assert.equal((await store.remoteState(NAME)).head?.size, 300);
      // The tree grows: the new head must extend the remembered one.
      for (let i = 300; i < 700; i++) db.add(`example.com/m${i}`);
      assert.equal(await check(c, 'example.com/m650'), 'verified');
      assert.equal((await store.remoteState(NAME)).head?.size, 700);
    }));

  it('refuses other hashes with crosscheck_mismatch naming both and the database, and logs it', () =>
    withStore(async (store) => {
      const db = new MemDb().add('example.com/a').add('example.com/b');
      const { log, lines } = recordingLog();
      const c = checker(store, source(() => db).s, log);
      const bad = h1('re-tagged');
      await rejectsWith(
        c.check('example.com/b', 'v1.0.0', bad, modOf('example.com/b')),
        'crosscheck_mismatch',
        new RegExp(
          `sum\\.unit\\.test logs ${zipOf('example.com/b').replace(/[+/]/g, '.')}.*${bad.replace(/[+/]/g, '.')}`,
        ),
      );
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, 'error');
      assert.match(lines[0]!.msg, /^cross-check mismatch: example\.com\/b@v1\.0\.0/);
    }));

  it('refuses a version the database does not have with crosscheck_missing and a hint', () =>
    withStore(async (store) => {
      const c = checker(store, source(() => new MemDb().add('example.com/a')).s);
      await rejectsWith(check(c, 'example.com/zzz'), 'crosscheck_missing', /--private\?/);
    }));

  it('never asks about a --private module', () =>
    withStore(async (store) => {
      const { s, reads } = source(() => new MemDb().add('example.com/a'));
      assert.equal(await check(checker(store, s), 'corp.example/secret'), 'private');
      assert.deepEqual(reads, []);
    }));

  for (const fail of ['upstream_error', 'upstream_timeout', 'too_large'] as const) {
    it(`fails closed with crosscheck_unavailable when the source fails (${fail})`, () =>
      withStore(async (store) => {
        const c = checker(store, source(() => new MemDb().add('example.com/a'), { fail }).s);
        await rejectsWith(check(c, 'example.com/a'), 'crosscheck_unavailable', /cannot cross-check/);
        assert.deepEqual(await store.remoteState(NAME), { head: null, fork: null });
      }));
  }

  const misbehaving: [string, Tamper][] = [
    [
      'a note signed by another key',
      {
        lookup: (_k, b) => {
          const db = new MemDb(OTHER_KEY.skey).add('example.com/a');
          return b === null ? null : new Uint8Array([...formatRecord(0, db.texts[0]!), ...db.note()]);
        },
      },
    ],
    [
      'the record of another module',
      {
        lookup: (_k, b) => {
          const db = new MemDb().add('example.com/other').add('example.com/a');
          return b === null ? null : new Uint8Array([...formatRecord(0, db.texts[0]!), ...db.note()]);
        },
      },
    ],
    [
      'a record id outside its tree',
      {
        lookup: (_k, b) => {
          const db = new MemDb().add('example.com/a');
          return b === null ? null : new Uint8Array([...formatRecord(5, db.texts[0]!), ...db.note()]);
        },
      },
    ],
    [
      'a record that is not in its tree (its tiles and note are honest)',
      {
        lookup: (_k, b) => {
          // The served tree, signed again (Ed25519 is deterministic: the very same note).
          const same = new MemDb().add('example.com/x').add('example.com/a').add('example.com/y');
          const fake = utf8(
            formatRecordLines('example.com/a', 'v1.0.0', h1('other'), modOf('example.com/a')),
          );
          return b === null ? null : new Uint8Array([...formatRecord(1, fake), ...same.note()]);
        },
      },
    ],
    ['tiles that do not match the signed root', { flipTiles: true }],
  ];
  for (const [what, tamper] of misbehaving) {
    it(`fails closed, logs a SECURITY ERROR and remembers nothing for ${what}`, () =>
      withStore(async (store) => {
        const db = new MemDb().add('example.com/x').add('example.com/a').add('example.com/y');
        const { log, lines } = recordingLog();
        const c = checker(store, source(() => db, tamper).s, log);
        await rejectsWith(check(c, 'example.com/a'), 'crosscheck_unavailable');
        assert.ok(
          lines.some((l) => l.level === 'error' && /SECURITY ERROR/.test(l.msg)),
          JSON.stringify(lines),
        );
        assert.equal((await store.remoteState(NAME)).head, null);
      }));
  }

  it('fails closed when the whole check takes longer than its deadline, and honours the caller leaving', () =>
    withStore(async (store) => {
      const hanging: SumdbSource = {
        where: () => 'a database that never answers',
        read: (_rel, _limit, signal) =>
          new Promise((_resolve, reject) => {
            if (signal?.aborted) reject(signal.reason as Error);
            signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          }),
      };
      const c = new CrossChecker({
        spec: parseSumdbSpec(KEY.vkey),
        source: hanging,
        store,
        isPrivate: () => false,
        timeoutMs: 50,
      });
      await rejectsWith(
        check(c, 'example.com/a'),
        'crosscheck_unavailable',
        /no complete answer within 50 ms/,
      );
      const gone = new AbortController();
      const p = c.check(
        'example.com/a',
        'v1.0.0',
        zipOf('example.com/a'),
        modOf('example.com/a'),
        gone.signal,
      );
      gone.abort(new SumkeepError('cancelled', 'client left'));
      await rejectsWith(p, 'cancelled');
    }));

  it('detects a fork, keeps the proof with both notes, and fails every later check closed', () =>
    withStore(async (store) => {
      const honest = new MemDb();
      for (let i = 0; i < 10; i++) honest.add(`example.com/m${i}`);
      const forked = new MemDb().add('example.com/evil');
      for (let i = 0; i < 12; i++) forked.add(`example.com/m${i}`);
      let current = honest;
      const { log, lines } = recordingLog();
      const c = checker(store, source(() => current).s, log);
      assert.equal(await check(c, 'example.com/m1'), 'verified');
      current = forked;
      await rejectsWith(
        check(c, 'example.com/m2'),
        'crosscheck_unavailable',
        /SECURITY ERROR: it has forked/,
      );
      const fork = (await store.remoteState(NAME)).fork;
      assert.ok(fork !== null);
      assert.ok(fork.proof.includes(decodeUtf8(honest.note())!), fork.proof);
      assert.ok(fork.proof.includes(decodeUtf8(forked.note())!), fork.proof);
      assert.ok(lines.some((l) => /misbehavior/.test(l.msg)));
      // The remembered head did not move to the forked tree.
      assert.equal((await store.remoteState(NAME)).head?.size, 10);
      // Back on the honest tree: still closed, in this checker and in a new one on the same store.
      current = honest;
      await rejectsWith(check(c, 'example.com/m3'), 'crosscheck_unavailable', /forked/);
      const { s, reads } = source(() => honest);
      await rejectsWith(check(checker(store, s), 'example.com/m3'), 'crosscheck_unavailable', /forked/);
      assert.deepEqual(reads, [], 'a known fork asks nothing');
    }));

  it('detects a database that signs a smaller tree that is not a prefix of the remembered one', () =>
    withStore(async (store) => {
      const big = new MemDb();
      for (let i = 0; i < 20; i++) big.add(`example.com/m${i}`);
      const small = new MemDb().add('example.com/m0').add('example.com/evil').add('example.com/m2');
      let current = big;
      const c = checker(store, source(() => current).s);
      assert.equal(await check(c, 'example.com/m2'), 'verified');
      current = small;
      await rejectsWith(check(c, 'example.com/m2'), 'crosscheck_unavailable', /forked/);
    }));

  it('offline: proves the record with the go command’s latest when it is larger than the lookup’s tree', () =>
    withStore(async (store) => {
      const db = new MemDb();
      for (let i = 0; i < 5; i++) db.add(`example.com/m${i}`);
      const oldNote = db.note();
      for (let i = 5; i < 40; i++) db.add(`example.com/m${i}`);
      const newest = db.note();
      // The cached lookup carries the old, smaller tree head.
      const { s } = source(
        () => db,
        {
          lookup: (_k, b) =>
            b === null ? null : new Uint8Array([...formatRecord(3, db.texts[3]!), ...oldNote]),
        },
        () => newest,
      );
      assert.equal(await check(checker(store, s), 'example.com/m3'), 'verified');
      assert.equal((await store.remoteState(NAME)).head?.size, 40);
    }));

  it('offline: leaves out the go command’s latest when the copy lacks the tiles to tie it in', () =>
    withStore(async (store) => {
      const small = new MemDb();
      for (let i = 0; i < 5; i++) small.add(`example.com/m${i}`);
      const big = new MemDb();
      for (let i = 0; i < 40; i++) big.add(`example.com/m${i}`);
      // The copy holds the tiles of the lookup's tree (5) only; its latest is of size 40.
      const { s } = source(
        () => small,
        {},
        () => big.note(),
      );
      assert.equal(await check(checker(store, s), 'example.com/m3'), 'verified');
      assert.equal((await store.remoteState(NAME)).head?.size, 5);
    }));
});
