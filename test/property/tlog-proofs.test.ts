// Properties of the tlog proof and tile code (src/core/tlog/stored.ts, tree.ts, tile.ts,
// reader.ts): stored-hash indexes round-trip, honest proofs check and damaged ones never do,
// the checks never throw whatever they are given, tiles give back the hashes they hold, and a
// tile reader fed damaged tiles either refuses them or still returns only proven hashes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual } from '../../src/core/bytes.ts';
import {
  checkRecord,
  checkTree,
  hashFromTile,
  proveRecord,
  proveTree,
  readTileData,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  tileForIndex,
  tileHashReader,
  tileParent,
  treeHash,
  withAsyncReader,
  type Hash,
  type Tile,
} from '../../src/core/tlog/index.ts';
import { MemLog } from '../core/tlog/memlog.ts';
import { attempt, attemptWithCodes, fc } from './fc.ts';

const SIZE = 600;
const log = new MemLog().growTo(SIZE);
const roots: Hash[] = [new Uint8Array(32)];
for (let t = 1; t <= SIZE; t++) roots.push(treeHash(t, log.reader));
const leaves = log.records.map(recordHash);

/** A tree size 1..SIZE and a record or older-tree size inside it. */
const treeAndRecord = fc
  .tuple(fc.integer({ min: 1, max: SIZE }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
  .map(([t, f]) => ({ t, n: Math.floor(f * t) }));
const treeAndOlder = treeAndRecord.map(({ t, n }) => ({ t, n: n + 1 }));

/** Ways to damage a proof (a list of 32-byte hashes); each changes it. */
type ProofDamage =
  | { kind: 'flip'; at: number; byte: number; bit: number }
  | { kind: 'drop'; at: number }
  | { kind: 'add'; at: number; hash: Uint8Array }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number }
  | { kind: 'replace'; at: number; hash: Uint8Array };
const hashArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const damageArb: fc.Arbitrary<ProofDamage> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 31 }),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), hash: hashArb }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), hash: hashArb }),
);

/** The damaged proof, or null when this damage cannot apply (or would change nothing). */
function damage(proof: readonly Hash[], d: ProofDamage): Hash[] | null {
  const p = proof.slice();
  const n = p.length;
  if (d.kind === 'add') {
    p.splice(d.at % (n + 1), 0, d.hash);
    return p;
  }
  if (n === 0) return null;
  const i = d.at % n;
  switch (d.kind) {
    case 'flip': {
      const h = p[i]!.slice();
      h[d.byte] = h[d.byte]! ^ (1 << d.bit);
      p[i] = h;
      return p;
    }
    case 'drop':
      p.splice(i, 1);
      return p;
    case 'duplicate':
      p.splice(i, 0, p[i]!);
      return p;
    case 'swap': {
      if (n < 2) return null;
      const j = (i + 1) % n;
      if (bytesEqual(p[i]!, p[j]!)) return null;
      [p[i], p[j]] = [p[j]!, p[i]!];
      return p;
    }
    case 'replace':
      if (bytesEqual(p[i]!, d.hash)) return null;
      p[i] = d.hash;
      return p;
  }
}

/** Anything: numbers of every kind, arrays of junk, non-arrays. */
const junk = fc.oneof(
  fc.integer({ min: -5, max: SIZE + 5 }),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53, -0, NaN, Infinity),
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 3 }),
);
const junkHash = fc.oneof(hashArb, fc.uint8Array({ maxLength: 40 }), junk);
const junkProof = fc.oneof(
  fc.array(junkHash, { maxLength: 12 }),
  fc.array(hashArb, { maxLength: 120 }),
  junk,
);

describe('storedHashIndex and splitStoredHashIndex', () => {
  it('are inverse over the whole safe range and raise only bad_input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 62 }), fc.maxSafeNat(), fc.maxSafeNat(), (level, n, index) => {
        const m = Math.floor(n / 2 ** level);
        const i = attemptWithCodes(['bad_input'], () => storedHashIndex(level, m));
        if (i.ok) assert.deepEqual(splitStoredHashIndex(i.value), [level, m]);
        const [l, k] = splitStoredHashIndex(index);
        assert.equal(storedHashIndex(l, k), index);
      }),
    );
  });

  it('raise only bad_input on arguments outside their range', () => {
    fc.assert(
      fc.property(junk, junk, (a, b) => {
        attemptWithCodes(['bad_input'], () => storedHashIndex(a as number, b as number));
        attemptWithCodes(['bad_input'], () => splitStoredHashIndex(a as number));
        attemptWithCodes(['bad_input'], () => storedHashCount(a as number));
      }),
    );
  });
});

describe('checkRecord', () => {
  it('accepts every honest record proof and refuses every damaged one', () => {
    fc.assert(
      fc.property(treeAndRecord, damageArb, ({ t, n }, d) => {
        const proof = proveRecord(t, n, log.reader);
        assert.ok(checkRecord(proof, t, roots[t]!, n, leaves[n]!));
        const bad = damage(proof, d);
        if (bad !== null) assert.equal(checkRecord(bad, t, roots[t]!, n, leaves[n]!), false);
        assert.equal(checkRecord(proof, t, roots[t]!, n, leaves[(n + 1) % SIZE]!), false);
        if (t > 1) assert.equal(checkRecord(proof, t, roots[t]!, (n + 1) % t, leaves[n]!), false);
        if (t < SIZE) assert.equal(checkRecord(proof, t, roots[t + 1]!, n, leaves[n]!), false);
      }),
      { numRuns: 150 },
    );
  });

  it('returns false, never throws, for arbitrary arguments', () => {
    fc.assert(
      fc.property(junkProof, junk, junkHash, junk, junkHash, (p, t, th, n, h) => {
        const r = attempt(() => checkRecord(p as Hash[], t as number, th as Hash, n as number, h as Hash));
        assert.ok(r.ok, 'checkRecord threw');
        assert.equal(typeof r.value, 'boolean');
      }),
      { numRuns: 150 },
    );
  });
});

describe('checkTree', () => {
  it('accepts every honest consistency proof and refuses every damaged one', () => {
    fc.assert(
      fc.property(treeAndOlder, damageArb, ({ t, n }, d) => {
        const proof = proveTree(t, n, log.reader);
        assert.ok(checkTree(proof, t, roots[t]!, n, roots[n]!));
        const bad = damage(proof, d);
        if (bad !== null) assert.equal(checkTree(bad, t, roots[t]!, n, roots[n]!), false);
        if (n < t) assert.equal(checkTree(proof, t, roots[t]!, n, roots[n + 1]!), false);
        if (t < SIZE) assert.equal(checkTree(proof, t, roots[t + 1]!, n, roots[n]!), false);
      }),
      { numRuns: 150 },
    );
  });

  it('returns false, never throws, for arbitrary arguments', () => {
    fc.assert(
      fc.property(junkProof, junk, junkHash, junk, junkHash, (p, t, th, n, h) => {
        const r = attempt(() => checkTree(p as Hash[], t as number, th as Hash, n as number, h as Hash));
        assert.ok(r.ok, 'checkTree threw');
        assert.equal(typeof r.value, 'boolean');
      }),
      { numRuns: 150 },
    );
  });
});

describe('tiles', () => {
  const heightArb = fc.integer({ min: 1, max: 4 });
  const treeAndIndex = fc
    .tuple(fc.integer({ min: 1, max: SIZE }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }))
    .map(([t, f]) => ({ t, index: Math.floor(f * storedHashCount(t)) }));

  it('hashFromTile gives back every stored hash from its tile, as read for any tree that holds it', () => {
    fc.assert(
      fc.property(heightArb, treeAndIndex, (h, { t, index }) => {
        const tile = tileParent(tileForIndex(h, index), 0, t);
        assert.notEqual(tile.W, 0);
        const data = readTileData(tile, log.reader);
        assert.ok(bytesEqual(hashFromTile(tile, data, index), log.hashes[index]!));
      }),
    );
  });

  /** Where to damage what a tile reader is handed. */
  const tileDamage = fc.record({
    tile: fc.nat(),
    byte: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
    how: fc.constantFrom('flip', 'short', 'long', 'drop', 'extra'),
  });

  it('tileHashReader returns only proven hashes, whatever the tiles it is handed', async () => {
    await fc.assert(
      fc.asyncProperty(heightArb, treeAndIndex, fc.option(tileDamage), async (h, { t, index }, d) => {
        const honest = (tiles: Tile[]) => tiles.map((tl) => readTileData(tl, log.reader));
        const read = tileHashReader({ N: t, hash: roots[t]! }, h, async (tiles) => {
          const data = honest(tiles);
          if (d === null) return data;
          const i = d.tile % data.length;
          const b = data[i]!;
          if (d.how === 'flip') {
            const c = b.slice();
            c[d.byte % c.length] = c[d.byte % c.length]! ^ (1 << d.bit);
            data[i] = c;
          } else if (d.how === 'short') data[i] = b.subarray(0, b.length - 1);
          else if (d.how === 'long') data[i] = new Uint8Array([...b, 0]);
          else if (d.how === 'drop') data.splice(i, 1);
          else data.push(b);
          return data;
        });
        let got: Hash[];
        try {
          got = await read([index]);
        } catch (e) {
          assert.ok(d !== null, `honest tiles refused: ${String(e)}`);
          attemptWithCodes(['log_inconsistent', 'malformed_proof'], () => {
            throw e;
          });
          return;
        }
        assert.equal(got.length, 1);
        assert.ok(bytesEqual(got[0]!, log.hashes[index]!), 'returned a hash that is not in the tree');
      }),
      { numRuns: 150 },
    );
  });
});

describe('withAsyncReader', () => {
  const answer = fc.constantFrom('honest', 'short', 'long', 'bad-size');

  it('runs a proof over an asynchronous source as over the synchronous one, and refuses wrong answers', async () => {
    await fc.assert(
      fc.asyncProperty(treeAndRecord, answer, async ({ t, n }, how) => {
        const want = proveRecord(t, n, log.reader);
        const run = withAsyncReader(
          (r) => proveRecord(t, n, r),
          async (indexes) => {
            const hs = indexes.map((x) => log.hashes[x]!);
            if (how === 'short') return hs.slice(1);
            if (how === 'long') return [...hs, hs[0] ?? new Uint8Array(32)];
            if (how === 'bad-size') return hs.map((h) => h.subarray(1));
            return hs;
          },
        );
        // A proof that reads nothing (a tree of one record) cannot get a wrong answer.
        if (how === 'honest' || want.length === 0) {
          const got = await run;
          assert.equal(got.length, want.length);
          got.forEach((h, i) => assert.ok(bytesEqual(h, want[i]!)));
          return;
        }
        const e = await run.then(
          () => null,
          (err: unknown) => err,
        );
        assert.ok(e !== null, `a ${how} answer was accepted`);
        attemptWithCodes(['malformed_proof'], () => {
          throw e;
        });
      }),
    );
  });
});
