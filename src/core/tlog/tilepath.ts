/**
 * Tile coordinate paths, the URL paths under which tiles are served:
 *
 *     tile/<H>/<L>/<N>[.p/<W>]        hash tile, L in decimal
 *     tile/<H>/data/<N>[.p/<W>]       data tile (L = -1)
 *
 * N is written in groups of three decimal digits, most significant first, every group but the
 * last prefixed with "x" (1234067 -> x001/x234/067), so no directory holds more than 3000
 * entries. ".p/<W>" is present exactly when the tile is partial (W < 2^H). Every tile has one
 * path and every accepted path is that one (no leading zeros, no "+", no empty groups).
 */
import { SumkeepError } from '../errors.ts';
import { pow2 } from './int.ts';
import { assertTile, isValidTile, type Tile } from './tile.ts';

/** Longest path accepted: "tile/30/63/x009/x007/x199/x254/x740/991.p/1073741823" is 52 bytes. */
const MAX_TILE_PATH_LENGTH = 64;

const TILE_PATH_RE =
  /^tile\/([0-9]{1,2})\/(data|[0-9]{1,2})\/((?:x[0-9]{3}\/){0,5}[0-9]{3})(?:\.p\/([0-9]{1,10}))?$/;

function group(n: number): string {
  return String(n).padStart(3, '0');
}

/** The canonical path of tile t. Throws `malformed_tile` for an invalid tile. */
export function tilePath(t: Tile): string {
  assertTile(t, false);
  let n = t.N;
  let digits = group(n % 1000);
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    digits = `x${group(n % 1000)}/${digits}`;
  }
  const level = t.L === -1 ? 'data' : String(t.L);
  const partial = t.W === pow2(t.H) ? '' : `.p/${t.W}`;
  return `tile/${t.H}/${level}/${digits}${partial}`;
}

function malformed(path: unknown): SumkeepError {
  const shown =
    typeof path === 'string' ? JSON.stringify(path.slice(0, MAX_TILE_PATH_LENGTH)) : '(not a string)';
  return new SumkeepError('malformed_tile', `malformed tile path ${shown}`);
}

/**
 * Parses a tile path (without a leading "/"). Throws `malformed_tile` for anything that is not
 * exactly tilePath of a valid tile: H outside 1..30, L outside 0..63, W outside 1..2^H-1 after
 * ".p/", N above 2^53-1, leading zeros, misplaced "x", extra or missing elements.
 */
export function parseTilePath(path: string): Tile {
  if (typeof path !== 'string' || path.length > MAX_TILE_PATH_LENGTH) throw malformed(path);
  const m = TILE_PATH_RE.exec(path);
  if (m === null) throw malformed(path);
  const [, hText, lText, nText, wText] = m;
  const H = Number(hText);
  const L = lText === 'data' ? -1 : Number(lText);
  let N = 0;
  for (const g of nText!.split('/')) N = N * 1000 + Number(g.startsWith('x') ? g.slice(1) : g);
  if (!Number.isSafeInteger(N)) throw malformed(path);
  const W = wText === undefined ? (H >= 1 && H <= 30 ? pow2(H) : 0) : Number(wText);
  const t: Tile = { H, L, N, W };
  if (!isValidTile(t) || tilePath(t) !== path) throw malformed(path);
  return t;
}
