import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MerkleFrontier,
  emptyTreeHash,
  recordHash,
  storedHashes,
  treeHash,
  type Hash,
} from '../../../src/core/tlog/index.ts';
import { utf8 } from '../../../src/core/bytes.ts';

describe('MerkleFrontier', () => {
  it('produces exactly the stored hashes and tree hashes of tlog for every size up to 600', () => {
    const stored: Hash[] = [];
    const reader = (indexes: readonly number[]) => indexes.map((i) => stored[i]!);
    const f = new MerkleFrontier();
    assert.deepEqual(f.root(), emptyTreeHash());
    for (let n = 0; n < 600; n++) {
      const text = utf8(`record ${n}\n`);
      const want = storedHashes(n, text, reader);
      const got = f.append(recordHash(text));
      assert.deepEqual(got, want, `stored hashes of record ${n}`);
      stored.push(...want);
      assert.equal(f.size, n + 1);
      assert.deepEqual(f.root(), treeHash(n + 1, reader), `tree hash of size ${n + 1}`);
    }
  });

  it('refuses a leaf that is not 32 bytes', () => {
    assert.throws(() => new MerkleFrontier().append(new Uint8Array(31)), /not 32 bytes/);
  });
});
