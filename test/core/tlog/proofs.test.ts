// Brute-force checks of record and tree proofs over every small tree, plus the contracts
// around them: checks never throw, provers refuse impossible sizes, and the indexes a proof
// reads never depend on hash values (what withAsyncReader relies on).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../../src/core/errors.ts';
import {
  checkRecord,
  checkTree,
  emptyTreeHash,
  proveRecord,
  proveTree,
  recordHash,
  storedHashCount,
  storedHashIndex,
  splitStoredHashIndex,
  treeHash,
  withAsyncReader,
  type Hash,
} from '../../../src/core/tlog/index.ts';
import { MemLog, flipBit } from './memlog.ts';

const MAX = 300;
const log = new MemLog().growTo(MAX);
const roots: Hash[] = [emptyTreeHash()];
for (let t = 1; t <= MAX; t++) roots.push(treeHash(t, log.reader));
const leaves = log.records.map(recordHash);

describe('checkRecord(proveRecord(t, n))', () => {
  // Every (t, n) is proven and checked. Every (t, n) with t <= 100 is also checked against all
  // three mutations; above that one mutation per (t, n), in turn, keeps the run to a few seconds.
  it('accepts every record of every tree of 1..300 records, and refuses a wrong index, leaf or proof', () => {
    let checked = 0;
    const refused = [0, 0, 0];
    for (let t = 1; t <= MAX; t++) {
      const th = roots[t]!;
      for (let n = 0; n < t; n++) {
        const proof = proveRecord(t, n, log.reader);
        const leaf = leaves[n]!;
        assert.ok(checkRecord(proof, t, th, n, leaf), `t=${t} n=${n}`);
        checked++;
        if (t === 1) {
          assert.deepEqual(proof, []);
          assert.equal(checkRecord([leaf], t, th, n, leaf), false, 'extra hash in an empty proof');
          continue;
        }
        for (let kind = 0; kind < 3; kind++) {
          if (t > 100 && kind !== n % 3) continue;
          let ok: boolean;
          if (kind === 0) {
            ok = checkRecord(proof, t, th, (n + 1) % t, leaf); // another position
          } else if (kind === 1) {
            ok = checkRecord(proof, t, th, n, leaves[(n + 1) % t]!); // another leaf
          } else {
            const bad = proof.slice();
            const k = n % proof.length;
            bad[k] = flipBit(bad[k]!, n);
            ok = checkRecord(bad, t, th, n, leaf);
          }
          assert.equal(ok, false, `mutation ${kind} accepted for t=${t} n=${n}`);
          refused[kind]!++;
        }
      }
    }
    assert.equal(checked, (MAX * (MAX + 1)) / 2);
    for (const r of refused) assert.ok(r > 15000, `each mutation refused often (${refused.join(', ')})`);
  });

  it('refuses a proof with a hash missing or added, a wrong tree hash or a wrong tree size', () => {
    for (const [t, n] of [
      [2, 0],
      [7, 3],
      [256, 255],
      [300, 123],
      [300, 299],
    ] as const) {
      const proof = proveRecord(t, n, log.reader);
      const leaf = leaves[n]!;
      assert.equal(checkRecord(proof.slice(1), t, roots[t]!, n, leaf), false);
      assert.equal(checkRecord(proof.slice(0, -1), t, roots[t]!, n, leaf), false);
      assert.equal(checkRecord([...proof, leaf], t, roots[t]!, n, leaf), false);
      assert.equal(checkRecord(proof, t, flipBit(roots[t]!, 31), n, leaf), false);
      // Another tree's size and root. (The same root under another size can pass: a proof
      // binds the root, and trees of different sizes can share a proof shape.)
      assert.equal(checkRecord(proof, t - 1, roots[t - 1]!, Math.min(n, t - 2), leaf), false);
    }
  });

  it('never throws: bad sizes, non-hashes and junk proofs are false', () => {
    const p = proveRecord(10, 3, log.reader);
    const th = roots[10]!;
    const leaf = leaves[3]!;
    const junk: [unknown, unknown, unknown, unknown, unknown][] = [
      [p, 10, th, 10, leaf],
      [p, 10, th, -1, leaf],
      [p, 0, th, 0, leaf],
      [p, 10.5, th, 3, leaf],
      [p, NaN, th, 3, leaf],
      [p, Infinity, th, 3, leaf],
      [p, 2 ** 53, th, 3, leaf],
      [p, 10, th.subarray(1), 3, leaf],
      [p, 10, th, 3, new Uint8Array(33)],
      [p, 10, 'hash', 3, leaf],
      [null, 10, th, 3, leaf],
      ['proof', 10, th, 3, leaf],
      [[...p.slice(1), new Uint8Array(31)], 10, th, 3, leaf],
      [[...p.slice(1), null], 10, th, 3, leaf],
      [new Array(200).fill(leaf), 10, th, 3, leaf],
      [new Array(60).fill(leaf), 2 ** 53 - 1, th, 2 ** 53 - 2, leaf],
    ];
    for (const args of junk) {
      assert.equal(checkRecord(...(args as Parameters<typeof checkRecord>)), false);
    }
  });
});

describe('checkTree(proveTree(t, n))', () => {
  // n strided by 7 above t = 100, always including n = 1 and n = t; one mutation per pair, in turn.
  it('accepts every prefix n of every tree t <= 300 (n strided above t = 100), and refuses mutations', () => {
    let checked = 0;
    const refused = [0, 0, 0, 0, 0];
    for (let t = 1; t <= MAX; t++) {
      const ns: number[] = [];
      for (let n = 1; n <= t; n += t <= 100 ? 1 : 7) ns.push(n);
      if (ns[ns.length - 1] !== t) ns.push(t);
      for (const n of ns) {
        const proof = proveTree(t, n, log.reader);
        assert.ok(checkTree(proof, t, roots[t]!, n, roots[n]!), `t=${t} n=${n}`);
        checked++;
        if (proof.length === 0) {
          assert.equal(n, t);
          assert.equal(checkTree([roots[n]!], t, roots[t]!, n, roots[n]!), false, `extra hash t=${t}`);
          continue;
        }
        const kind = (t + n) % 5;
        let ok: boolean;
        if (kind === 0) {
          const bad = proof.slice();
          const k = (t * 7 + n) % proof.length;
          bad[k] = flipBit(bad[k]!, t);
          ok = checkTree(bad, t, roots[t]!, n, roots[n]!);
        } else if (kind === 1) {
          ok = checkTree(proof.slice(1), t, roots[t]!, n, roots[n]!);
        } else if (kind === 2) {
          ok = checkTree([...proof, roots[1]!], t, roots[t]!, n, roots[n]!);
        } else if (kind === 3) {
          ok = checkTree(proof, t, roots[t]!, n, roots[n === 1 ? 2 : n - 1]!); // wrong old root
        } else {
          ok = checkTree(proof, t, roots[t - 1]!, n, roots[n]!); // wrong new root
        }
        assert.equal(ok, false, `mutation ${kind} accepted for t=${t} n=${n}`);
        refused[kind]!++;
      }
    }
    assert.ok(checked > 10000, `checked ${checked}`);
    for (const r of refused) assert.ok(r > 1000, `each mutation refused often (${refused.join(', ')})`);
  });

  it('never throws: bad sizes and junk proofs are false', () => {
    const p = proveTree(20, 7, log.reader);
    for (const [t, n] of [
      [20, 0],
      [20, 21],
      [0, 0],
      [-1, 1],
      [20.5, 7],
      [NaN, 7],
      [2 ** 53, 7],
    ]) {
      assert.equal(checkTree(p, t!, roots[20]!, n!, roots[7]!), false);
    }
    assert.equal(checkTree(null as unknown as Hash[], 20, roots[20]!, 7, roots[7]!), false);
    assert.equal(checkTree([new Uint8Array(5)], 20, roots[20]!, 7, roots[7]!), false);
    assert.equal(checkTree(p, 20, roots[20]!.subarray(2), 7, roots[7]!), false);
  });
});

describe('provers', () => {
  it('refuse impossible sizes with bad_input', () => {
    const bad = (e: unknown) => isSumkeepError(e, 'bad_input');
    assert.throws(() => proveRecord(10, 10, log.reader), bad);
    assert.throws(() => proveRecord(0, 0, log.reader), bad);
    assert.throws(() => proveRecord(10, -1, log.reader), bad);
    assert.throws(() => proveRecord(10, 1.5, log.reader), bad);
    assert.throws(() => proveTree(10, 0, log.reader), bad);
    assert.throws(() => proveTree(10, 11, log.reader), bad);
    assert.throws(() => treeHash(-1, log.reader), bad);
    assert.throws(() => treeHash(2 ** 53, log.reader), bad);
  });

  it('report a reader that returns the wrong number of hashes as internal', () => {
    assert.throws(
      () => proveRecord(10, 3, () => []),
      (e: unknown) => isSumkeepError(e, 'internal'),
    );
    assert.throws(
      () => treeHash(10, (ix) => ix.map(() => new Uint8Array(31))),
      (e: unknown) => isSumkeepError(e, 'internal'),
    );
  });

  it('read only hashes stored for the tree: popcount(t) for a tree hash, at most 2 ceil(log2 t) for a proof', () => {
    for (let t = 1; t <= MAX; t += 13) {
      const limit = storedHashCount(t);
      const bound = 2 * Math.ceil(Math.log2(t));
      const seen: number[] = [];
      const counting = () => {
        let count = 0;
        const reader = (ix: readonly number[]) => {
          count += ix.length;
          seen.push(...ix);
          return log.reader(ix);
        };
        return { reader, count: () => count };
      };
      const th = counting();
      treeHash(t, th.reader);
      assert.equal(th.count(), t.toString(2).replaceAll('0', '').length, `treeHash(${t})`);
      for (const n of [0, Math.floor(t / 2), t - 1]) {
        const pr = counting();
        proveRecord(t, n, pr.reader);
        assert.ok(pr.count() <= bound, `proveRecord(${t}, ${n}) read ${pr.count()}`);
        const pt = counting();
        proveTree(t, n + 1, pt.reader);
        assert.ok(pt.count() <= bound, `proveTree(${t}, ${n + 1}) read ${pt.count()}`);
      }
      for (const x of seen) {
        assert.ok(x < limit, `t=${t} read ${x} >= ${limit}`);
        const [level, n] = splitStoredHashIndex(x);
        assert.equal(storedHashIndex(level, n), x);
      }
    }
  });
});

describe('withAsyncReader', () => {
  it('gives the same proofs and tree hashes as the synchronous reader, in one read', async () => {
    for (const [t, n] of [
      [1, 0],
      [2, 1],
      [7, 3],
      [256, 0],
      [300, 257],
    ] as const) {
      let calls = 0;
      const read = async (ix: readonly number[]) => {
        calls++;
        return log.reader(ix);
      };
      assert.deepEqual(
        await withAsyncReader((r) => proveRecord(t, n, r), read),
        proveRecord(t, n, log.reader),
      );
      assert.deepEqual(await withAsyncReader((r) => treeHash(t, r), read), roots[t]);
      assert.deepEqual(
        await withAsyncReader((r) => proveTree(t, n + 1, r), read),
        proveTree(t, n + 1, log.reader),
      );
      assert.ok(calls <= 3);
    }
  });

  it('does not call read when nothing is needed', async () => {
    const proof = await withAsyncReader(
      (r) => proveRecord(1, 0, r),
      async () => {
        throw new Error('must not read');
      },
    );
    assert.deepEqual(proof, []);
  });

  it('refuses a source that answers with the wrong number or size of hashes', async () => {
    const bad = (e: unknown) => isSumkeepError(e, 'malformed_proof');
    await assert.rejects(
      withAsyncReader(
        (r) => treeHash(7, r),
        async () => [],
      ),
      bad,
    );
    await assert.rejects(
      withAsyncReader(
        (r) => treeHash(7, r),
        async (ix) => ix.map(() => new Uint8Array(16)),
      ),
      bad,
    );
  });

  it('reports a computation whose indexes change between runs as internal', async () => {
    let run = 0;
    await assert.rejects(
      withAsyncReader(
        (r) => r([run++]),
        async (ix) => log.reader(ix),
      ),
      (e: unknown) => isSumkeepError(e, 'internal'),
    );
  });
});
