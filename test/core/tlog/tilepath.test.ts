// tilePath / parseTilePath: one canonical path per tile, and nothing else accepted.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError, isSumkeepError } from '../../../src/core/errors.ts';
import { parseTilePath, tilePath, type Tile } from '../../../src/core/tlog/index.ts';

const malformedTile = (e: unknown) => isSumkeepError(e, 'malformed_tile');

describe('tilePath', () => {
  it('writes N in x-prefixed groups of three digits and .p/W only for partial tiles', () => {
    const table: [Tile, string][] = [
      [{ H: 8, L: 0, N: 0, W: 256 }, 'tile/8/0/000'],
      [{ H: 8, L: 0, N: 1234067, W: 8 }, 'tile/8/0/x001/x234/067.p/8'],
      [{ H: 8, L: 3, N: 999, W: 255 }, 'tile/8/3/999.p/255'],
      [{ H: 8, L: 0, N: 1000, W: 1 }, 'tile/8/0/x001/000.p/1'],
      [{ H: 8, L: -1, N: 1000000, W: 256 }, 'tile/8/data/x001/x000/000'],
      [{ H: 1, L: 63, N: 5, W: 1 }, 'tile/1/63/005.p/1'],
      [{ H: 30, L: 0, N: 0, W: 2 ** 30 }, 'tile/30/0/000'],
      [{ H: 30, L: 0, N: 0, W: 2 ** 30 - 1 }, 'tile/30/0/000.p/1073741823'],
      [{ H: 8, L: 0, N: Number.MAX_SAFE_INTEGER, W: 256 }, 'tile/8/0/x009/x007/x199/x254/x740/991'],
    ];
    for (const [t, p] of table) assert.equal(tilePath(t), p);
  });

  it('refuses invalid tiles with malformed_tile', () => {
    const bad: Tile[] = [
      { H: 0, L: 0, N: 0, W: 1 },
      { H: 31, L: 0, N: 0, W: 1 },
      { H: 8, L: -2, N: 0, W: 1 },
      { H: 8, L: 64, N: 0, W: 1 },
      { H: 8, L: 0, N: -1, W: 1 },
      { H: 8, L: 0, N: 1.5, W: 1 },
      { H: 8, L: 0, N: 2 ** 53, W: 1 },
      { H: 8, L: 0, N: 0, W: 0 },
      { H: 8, L: 0, N: 0, W: 257 },
      { H: 8, L: 0.5, N: 0, W: 1 },
      { H: NaN, L: 0, N: 0, W: 1 },
      null as unknown as Tile,
    ];
    for (const t of bad) assert.throws(() => tilePath(t), malformedTile, JSON.stringify(t));
  });
});

describe('parseTilePath', () => {
  it('round-trips hash and data tiles of every partial width, x groups and huge N', () => {
    let n = 0;
    const Ns = [
      0,
      1,
      9,
      10,
      99,
      100,
      999,
      1000,
      1001,
      999999,
      1000000,
      1234067,
      2 ** 32 + 7,
      2 ** 45,
      Number.MAX_SAFE_INTEGER,
    ];
    for (const N of Ns) {
      for (const L of [-1, 0, 1, 5, 63]) {
        for (let W = 1; W <= 256; W++) {
          const t = { H: 8, L, N, W };
          const p = tilePath(t);
          assert.deepEqual(parseTilePath(p), t, p);
          n++;
        }
      }
    }
    for (let H = 1; H <= 30; H++) {
      for (const W of [1, 2 ** H - 1, 2 ** H]) {
        if (W < 1) continue;
        const t = { H, L: H % 3, N: H * 1001, W };
        assert.deepEqual(parseTilePath(tilePath(t)), t);
        n++;
      }
    }
    assert.ok(n > 19000);
  });

  it('refuses every non-canonical or out-of-range path with malformed_tile', () => {
    const bad = [
      '',
      'tile',
      'tile/',
      'tile/8',
      'tile/8/0',
      'tile/8/0/',
      '/tile/8/0/000',
      'tile/8/0/000/',
      'tile//0/000',
      'tiles/8/0/000',
      'Tile/8/0/000',
      'tile/8/0/1',
      'tile/8/0/01',
      'tile/8/0/0000',
      'tile/8/0/x000',
      'tile/8/0/x1000',
      'tile/8/0/x001',
      'tile/8/0/001/000',
      'tile/8/0/x000/001',
      'tile/8/0/x001/234/067',
      'tile/8/0/xx001/000',
      'tile/8/0/x01/000',
      'tile/8/0/X001/000',
      'tile/8/0/000x',
      'tile/8/0/-001',
      'tile/8/0/+001',
      'tile/8/0/ 001',
      'tile/8/0/00a',
      'tile/8/0/999999999999999999999',
      'tile/8/0/x999/x999/x999/x999/x999/x999/999',
      'tile/8/0/x009/x007/x199/x254/x740/992',
      'tile/08/0/000',
      'tile/+8/0/000',
      'tile/0/0/000',
      'tile/31/0/000',
      'tile/99/0/000',
      'tile/-1/0/000',
      'tile/8/-1/000',
      'tile/8/00/000',
      'tile/8/01/000',
      'tile/8/64/000',
      'tile/8/99/000',
      'tile/8/100/000',
      'tile/8/DATA/000',
      'tile/8/data/000.p/256',
      'tile/8/0/000.p/256',
      'tile/8/0/000.p/0',
      'tile/8/0/000.p/',
      'tile/8/0/000.p',
      'tile/8/0/000.p/05',
      'tile/8/0/000.p/-5',
      'tile/8/0/000.p/5/6',
      'tile/8/0/000.p/5.p/6',
      'tile/8/0/000.q/5',
      'tile/8/0/.p/5',
      'tile/1/0/000.p/2',
      'tile/1/0/000.p/1x',
      'tile/30/0/000.p/1073741824',
      'tile/30/0/000.p/99999999999',
      'tile/8/0/000\0',
      'tile/8/0/\x00000',
      'tile/8/0/000\n',
      'tile/8/0/٠٠٠',
      'tile/８/0/000',
      'tile/8/0/000\ud800',
      '\udfff',
      'tile/8/0/' + 'x001/'.repeat(1000) + '000',
    ];
    for (const p of bad) assert.throws(() => parseTilePath(p), malformedTile, JSON.stringify(p));
  });

  it('throws only SumkeepError on random input', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [
      'tile',
      '/',
      '8',
      '0',
      '1',
      '9',
      'x',
      'data',
      '.p',
      '.',
      'p',
      '-',
      '\0',
      '\ud800',
      'é',
      '000',
    ];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      let p = '';
      const len = Math.floor(rand() * 12);
      for (let j = 0; j < len; j++) p += alphabet[Math.floor(rand() * alphabet.length)];
      if (rand() < 0.5) p = 'tile/8/' + p;
      try {
        const t = parseTilePath(p);
        assert.equal(tilePath(t), p);
        accepted++;
      } catch (e) {
        assert.ok(
          e instanceof SumkeepError && e.code === 'malformed_tile',
          `${JSON.stringify(p)}: ${String(e)}`,
        );
      }
    }
    assert.ok(accepted > 0, 'some random paths are valid');
  });

  it('refuses non-string input with malformed_tile', () => {
    for (const v of [undefined, null, 8, {}, ['tile/8/0/000']]) {
      assert.throws(() => parseTilePath(v as unknown as string), malformedTile);
    }
  });
});
