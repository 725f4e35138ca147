// Tile math and reads: tiles agree with the stored hashes they are cut from, and a client
// reading hashes through tiles checks every tile against the signed tree hash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../../src/core/errors.ts';
import {
  HASH_SIZE,
  hashFromTile,
  newTiles,
  proveRecord,
  proveTree,
  readTileData,
  storedHashIndex,
  tileForIndex,
  tileHashReader,
  tileIsWithinTree,
  tileParent,
  tilePath,
  treeHash,
  withAsyncReader,
  type Tile,
} from '../../../src/core/tlog/index.ts';
import { MemLog } from './memlog.ts';

const log = new MemLog().growTo(1100);

describe('tileForIndex / hashFromTile / readTileData', () => {
  it('recovers every stored hash of a 1100-record tree from its tiles, for heights 1, 2, 3 and 8', () => {
    for (const h of [1, 2, 3, 8]) {
      for (let x = 0; x < log.hashes.length; x++) {
        const t = tileForIndex(h, x);
        assert.ok(t.L >= 0 && t.W >= 1 && t.W <= 2 ** h, `tile for ${x}`);
        const data = readTileData(t, log.reader);
        assert.equal(data.length, t.W * HASH_SIZE);
        assert.deepEqual(hashFromTile(t, data, x), log.hashes[x], `h=${h} index ${x} in ${tilePath(t)}`);
        // A wider tile at the same place works too, when the tree has it.
        const full = { ...t, W: 2 ** h };
        if (tileIsWithinTree(full, log.size)) {
          assert.deepEqual(hashFromTile(full, readTileData(full, log.reader), x), log.hashes[x]);
        }
      }
    }
  });

  it('lays out a tile as the W hashes of its level, 32 bytes each', () => {
    const t: Tile = { H: 2, L: 1, N: 3, W: 3 };
    const data = readTileData(t, log.reader);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(data.subarray(i * 32, i * 32 + 32), log.hashes[storedHashIndex(2, 12 + i)]);
    }
  });

  it('refuses an index that is not in the tile, a short buffer, and a data tile', () => {
    const t = tileForIndex(8, storedHashIndex(0, 300));
    const data = readTileData(t, log.reader);
    assert.throws(
      () => hashFromTile(t, data, storedHashIndex(0, 600)),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
    assert.throws(
      () => hashFromTile({ ...t, W: t.W + 1 }, data, storedHashIndex(0, 300)),
      (e: unknown) => isSumkeepError(e, 'malformed_tile'),
    );
    assert.throws(
      () => readTileData({ H: 8, L: -1, N: 0, W: 5 }, log.reader),
      (e: unknown) => isSumkeepError(e, 'malformed_tile'),
    );
    assert.throws(
      () => hashFromTile({ H: 8, L: 0, N: 0, W: 0 }, data, 0),
      (e: unknown) => isSumkeepError(e, 'malformed_tile'),
    );
  });
});

describe('tileIsWithinTree', () => {
  it('is true from the size that first publishes a tile on, false before it and one hash wider', () => {
    for (const h of [2, 8]) {
      const published = new Set<string>();
      for (let s = 1; s <= 300; s++) {
        const tiles = newTiles(h, s - 1, s);
        for (const t of tiles) {
          assert.ok(tileIsWithinTree(t, s), `${tilePath(t)} at ${s}`);
          if (!published.has(tilePath(t)))
            assert.equal(tileIsWithinTree(t, s - 1), false, `${tilePath(t)} before ${s}`);
          // The data tile at a level-0 place covers the same records.
          if (t.L === 0) assert.ok(tileIsWithinTree({ ...t, L: -1 }, s));
        }
        // The widest tile listed at each place is exactly what the tree has there.
        for (const t of tiles) {
          const widest = !tiles.some((u) => u.L === t.L && u.N === t.N && u.W > t.W);
          if (widest && t.W < 2 ** h) {
            assert.equal(tileIsWithinTree({ ...t, W: t.W + 1 }, s), false, `${tilePath(t)}+1 at ${s}`);
            if (t.L === 0) assert.equal(tileIsWithinTree({ ...t, L: -1, W: t.W + 1 }, s), false);
          }
        }
        for (const t of tiles) published.add(tilePath(t));
      }
    }
  });

  it('handles the edges: full tiles, data tiles, high levels, invalid tiles', () => {
    assert.equal(tileIsWithinTree({ H: 8, L: 0, N: 0, W: 256 }, 256), true);
    assert.equal(tileIsWithinTree({ H: 8, L: 0, N: 0, W: 256 }, 255), false);
    assert.equal(tileIsWithinTree({ H: 8, L: 1, N: 0, W: 1 }, 256), true);
    assert.equal(tileIsWithinTree({ H: 8, L: 1, N: 0, W: 2 }, 511), false);
    assert.equal(tileIsWithinTree({ H: 8, L: 1, N: 0, W: 2 }, 512), true);
    assert.equal(tileIsWithinTree({ H: 8, L: -1, N: 3, W: 10 }, 3 * 256 + 10), true);
    assert.equal(tileIsWithinTree({ H: 8, L: -1, N: 3, W: 10 }, 3 * 256 + 9), false);
    assert.equal(tileIsWithinTree({ H: 8, L: 6, N: 0, W: 1 }, 2 ** 48), true);
    assert.equal(tileIsWithinTree({ H: 8, L: 7, N: 0, W: 1 }, Number.MAX_SAFE_INTEGER), false);
    assert.equal(tileIsWithinTree({ H: 30, L: 63, N: 0, W: 1 }, Number.MAX_SAFE_INTEGER), false);
    assert.equal(tileIsWithinTree({ H: 8, L: 0, N: 0, W: 0 }, 1000), false);
    assert.equal(tileIsWithinTree({ H: 8, L: 0, N: 0, W: 1 }, -1), false);
    assert.equal(tileIsWithinTree({ H: 0, L: 0, N: 0, W: 1 }, 1000), false);
  });
});

describe('newTiles', () => {
  it('publishes, over any sequence of sizes, the same tiles as one jump; full tiles exactly once', () => {
    for (const h of [1, 2, 8]) {
      const stepped: string[] = [];
      let old = 0;
      for (const size of [1, 2, 3, 7, 8, 64, 100, 255, 256, 257, 600, 1024, 1100]) {
        stepped.push(...newTiles(h, old, size).map(tilePath));
        old = size;
      }
      const full = (p: string) => !p.includes('.p/');
      const once = newTiles(h, 0, 1100).map(tilePath);
      assert.deepEqual(stepped.filter(full).sort(), once.filter(full).sort());
      assert.equal(new Set(stepped.filter(full)).size, stepped.filter(full).length);
      // Partial tiles of the final size are in both; a step lists its starting width again.
      for (const p of once) assert.ok(stepped.includes(p), p);
    }
  });

  it('lists, for an unchanged size, its partial tiles again (as Go does), and refuses a shrinking one', () => {
    assert.deepEqual(newTiles(8, 300, 300).map(tilePath), ['tile/8/0/001.p/44', 'tile/8/1/000.p/1']);
    assert.deepEqual(newTiles(8, 512, 512).map(tilePath), ['tile/8/1/000.p/2']);
    assert.deepEqual(newTiles(8, 0, 0), []);
    assert.throws(
      () => newTiles(8, 301, 300),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
    assert.throws(
      () => newTiles(0, 0, 1),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
  });
});

describe('tileParent', () => {
  it('widens to what the tree has and has no parent beyond it', () => {
    const t: Tile = { H: 8, L: 0, N: 1, W: 5 };
    assert.deepEqual(tileParent(t, 0, 300), { H: 8, L: 0, N: 1, W: 44 });
    assert.deepEqual(tileParent(t, 0, 600), { H: 8, L: 0, N: 1, W: 256 });
    assert.deepEqual(tileParent(t, 1, 300), { H: 8, L: 1, N: 0, W: 1 });
    assert.deepEqual(tileParent(t, 1, 255), { H: 0, L: 0, N: 0, W: 0 });
    assert.deepEqual(tileParent(t, 2, 70000), { H: 8, L: 2, N: 0, W: 1 });
    assert.deepEqual(tileParent({ H: 8, L: 0, N: 2 ** 40, W: 1 }, 5, 2 ** 50), { H: 8, L: 5, N: 1, W: 256 });
    assert.deepEqual(tileParent({ H: 8, L: 0, N: 2 ** 40, W: 1 }, 5, 2 ** 48 + 5), {
      H: 0,
      L: 0,
      N: 0,
      W: 0,
    });
  });
});

/** An in-memory tile server over `log`, optionally corrupting what it sends. */
function server(tamper?: (t: Tile, data: Uint8Array, i: number) => Uint8Array) {
  const fetched: Tile[][] = [];
  const readTiles = async (tiles: Tile[]) => {
    fetched.push(tiles);
    return tiles.map((t, i) => {
      const d = readTileData(t, log.reader);
      return tamper ? tamper(t, d, i) : d;
    });
  };
  return { readTiles, fetched };
}

describe('tileHashReader', () => {
  it('returns every stored hash of trees of 1..140 records through height-2 tiles', async () => {
    for (let n = 1; n <= 140; n++) {
      const tree = { N: n, hash: treeHash(n, log.reader) };
      const r = tileHashReader(tree, 2, server().readTiles);
      const all = Array.from({ length: storedHashIndex(0, n) }, (_, i) => i);
      assert.deepEqual(
        await r(all),
        all.map((x) => log.hashes[x]),
        `tree ${n}`,
      );
    }
  });

  it('gives the same proofs through tiles of height 8 as from storage', async () => {
    for (const n of [1, 255, 256, 257, 300, 1000, 1100]) {
      const tree = { N: n, hash: treeHash(n, log.reader) };
      const r = tileHashReader(tree, 8, server().readTiles);
      for (const i of [0, Math.floor(n / 2), n - 1]) {
        assert.deepEqual(
          await withAsyncReader((hr) => proveRecord(n, i, hr), r),
          proveRecord(n, i, log.reader),
        );
      }
      for (const old of [1, Math.ceil(n / 3), n]) {
        assert.deepEqual(
          await withAsyncReader((hr) => proveTree(n, old, hr), r),
          proveTree(n, old, log.reader),
        );
      }
      assert.deepEqual(await withAsyncReader((hr) => treeHash(n, hr), r), tree.hash);
    }
  });

  it('refuses a tree whose hash the tiles do not support', async () => {
    const tree = { N: 300, hash: treeHash(299, log.reader) };
    await assert.rejects(tileHashReader(tree, 8, server().readTiles)([0]), (e: unknown) =>
      isSumkeepError(e, 'log_inconsistent'),
    );
  });

  // Every tile fetched must be authenticated, including full tiles below a root tile that
  // several root subtrees share. (x/mod v0.7.0's TileHashReader skips such tiles: for a tree of
  // 300 records and index 0 it returns a hash from an unchecked tile/8/0/000.)
  it('refuses every fetched tile with any one hash changed', async () => {
    const cases: [number, number, number[]][] = [
      [300, 8, [0]],
      [300, 8, [0, storedHashIndex(0, 299), storedHashIndex(8, 0)]],
      [1100, 8, [storedHashIndex(0, 5), storedHashIndex(0, 700), storedHashIndex(3, 100)]],
      [100, 2, [0, storedHashIndex(0, 50), storedHashIndex(1, 40)]],
      [137, 3, [storedHashIndex(0, 1), storedHashIndex(2, 30)]],
    ];
    let refused = 0;
    for (const [n, h, indexes] of cases) {
      const tree = { N: n, hash: treeHash(n, log.reader) };
      const plan = server();
      assert.deepEqual(
        await tileHashReader(tree, h, plan.readTiles)(indexes),
        indexes.map((x) => log.hashes[x]),
      );
      const tiles = plan.fetched[0]!;
      for (let victim = 0; victim < tiles.length; victim++) {
        const w = tiles[victim]!.W;
        for (const entry of new Set([0, Math.floor(w / 2), w - 1])) {
          const bad = server((_, d, i) => {
            if (i === victim) d[entry * 32 + 7]! ^= 0x40;
            return d;
          });
          await assert.rejects(
            tileHashReader(tree, h, bad.readTiles)(indexes),
            (e: unknown) => isSumkeepError(e, 'log_inconsistent'),
            `tree ${n} h=${h}: ${tilePath(tiles[victim]!)} entry ${entry}`,
          );
          refused++;
        }
      }
    }
    assert.ok(refused >= 20, `refused ${refused}`);
  });

  it('refuses a reply with the wrong number of tiles or a tile of the wrong size', async () => {
    const tree = { N: 300, hash: treeHash(300, log.reader) };
    const bad = (e: unknown) => isSumkeepError(e, 'malformed_proof');
    await assert.rejects(tileHashReader(tree, 8, async () => [])([0]), bad);
    await assert.rejects(
      tileHashReader(tree, 8, server((_, d) => d.subarray(0, d.length - 1)).readTiles)([0]),
      bad,
    );
    await assert.rejects(
      tileHashReader(tree, 8, server((_, d) => new Uint8Array([...d, 0])).readTiles)([0]),
      bad,
    );
  });

  it('refuses indexes outside the tree without fetching', async () => {
    const plan = server();
    const r = tileHashReader({ N: 300, hash: treeHash(300, log.reader) }, 8, plan.readTiles);
    for (const x of [storedHashIndex(0, 300), -1, 1.5, NaN, 2 ** 53]) {
      await assert.rejects(r([x]), (e: unknown) => isSumkeepError(e, 'bad_input'), String(x));
    }
    const empty = tileHashReader({ N: 0, hash: treeHash(0, log.reader) }, 8, plan.readTiles);
    await assert.rejects(empty([0]), (e: unknown) => isSumkeepError(e, 'bad_input'));
    assert.deepEqual(await r([]), []);
    assert.equal(plan.fetched.length, 0);
  });

  it('refuses a bad tree or height up front', () => {
    const bad = (e: unknown) => isSumkeepError(e, 'bad_input');
    const read = server().readTiles;
    assert.throws(() => tileHashReader({ N: -1, hash: new Uint8Array(32) }, 8, read), bad);
    assert.throws(() => tileHashReader({ N: 1, hash: new Uint8Array(31) }, 8, read), bad);
    assert.throws(() => tileHashReader({ N: 1, hash: new Uint8Array(32) }, 31, read), bad);
  });
});
