// Stored-hash index math: exact for every value below 2^53, and bad_input outside.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../../src/core/errors.ts';
import {
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  tileForIndex,
} from '../../../src/core/tlog/index.ts';
import { MemLog } from './memlog.ts';

const badInput = (e: unknown) => isSumkeepError(e, 'bad_input');

describe('storedHashIndex / splitStoredHashIndex', () => {
  it('are inverse over the first 5000 indexes, which are dense and in append order', () => {
    const log = new MemLog().growTo(2000);
    let expected = 0;
    for (let n = 0; n < 2000; n++) {
      // Record n stores its leaf, then one hash per subtree it completes, level by level.
      assert.equal(storedHashIndex(0, n), expected);
      expected++;
      for (let level = 1; (n + 1) % 2 ** level === 0; level++) {
        assert.equal(storedHashIndex(level, (n + 1) / 2 ** level - 1), expected);
        expected++;
      }
      assert.equal(storedHashCount(n + 1), expected);
    }
    assert.equal(log.hashes.length, expected);
    for (let x = 0; x < 5000; x++) {
      const [level, n] = splitStoredHashIndex(x);
      assert.equal(storedHashIndex(level, n), x);
    }
  });

  it('stay exact for coordinates up to 2^53', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 3000; i++) {
      const level = Math.floor(rand() * 50);
      const maxN = Math.floor(2 ** (51 - level));
      const n = Math.floor(rand() * rand() * maxN);
      const x = storedHashIndex(level, n);
      assert.ok(Number.isSafeInteger(x));
      assert.deepEqual(splitStoredHashIndex(x), [level, n], `(${level}, ${n})`);
      const t = tileForIndex(8, x);
      assert.ok(Number.isSafeInteger(t.N));
    }
    // The largest leaf whose index is still exact: 2n - popcount(n) <= 2^53 - 1.
    const n = 2 ** 52 - 1;
    assert.equal(storedHashIndex(0, n), 2 * n - 52);
    assert.deepEqual(splitStoredHashIndex(2 * n - 52), [0, n]);
    assert.equal(storedHashCount(2 ** 52), 2 ** 53 - 1);
  });

  it('refuse negative, fractional, unsafe or out-of-range arguments with bad_input', () => {
    for (const [level, n] of [
      [-1, 0],
      [0, -1],
      [0.5, 0],
      [0, 0.5],
      [64, 0],
      [0, NaN],
      [0, Infinity],
      [0, 2 ** 53],
      [0, 2 ** 52 + 1],
      [40, 2 ** 13],
    ]) {
      assert.throws(() => storedHashIndex(level!, n!), badInput, `(${level}, ${n})`);
    }
    for (const x of [-1, 0.5, NaN, 2 ** 53, Infinity]) {
      assert.throws(() => splitStoredHashIndex(x), badInput, String(x));
      assert.throws(() => storedHashCount(x), badInput, String(x));
    }
  });
});
