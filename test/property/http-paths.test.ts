// Properties of the URL path parsers at the HTTP edge: parseLookupTarget (src/http/sumdb.ts,
// "/lookup/<escaped M>@<escaped V>"), parseApiTarget (src/http/gosum.ts, the same or plain) and
// TileServer.parse (src/log/tiles.ts, "tile/8/..."). Each raises only 400/404-class
// SumkeepErrors, round-trips what the go command sends, and holds its length bounds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { tilePath, type Tile } from '../../src/core/tlog/index.ts';
import { parseApiTarget } from '../../src/http/gosum.ts';
import { parseLookupTarget } from '../../src/http/sumdb.ts';
import { TileServer } from '../../src/log/tiles.ts';
import type { Store } from '../../src/store/store.ts';
import { escapableVersionArb, modulePathArb } from './arbitraries.ts';
import { attemptWithCodes, editsArb, fc, mutateString, noiseString } from './fc.ts';

/** The bounds sumdb.ts documents: escaped path at most 1,024 bytes, escaped version at most 240. */
const MAX_ESCAPED_PATH = 1024;
const MAX_ESCAPED_VERSION = 240;
const TARGET_CODES = ['bad_input', 'bad_module_path', 'bad_version'];

/** A version arbitrary with, now and then, one longer than the bound. */
const versionArb = fc.oneof(
  { weight: 9, arbitrary: escapableVersionArb },
  { weight: 1, arbitrary: fc.integer({ min: 230, max: 260 }).map((n) => 'v1.0.0-' + 'a'.repeat(n - 7)) },
);

const targetArb = fc
  .tuple(modulePathArb, versionArb)
  .map(([p, v]) => ({ path: p, version: v, target: `${escapePath(p)}@${escapeVersion(v)}` }));

function withinBounds(escapedPath: string, escapedVersion: string): boolean {
  return escapedPath.length <= MAX_ESCAPED_PATH && escapedVersion.length <= MAX_ESCAPED_VERSION;
}

describe('parseLookupTarget', () => {
  it('gives back the path and version of every escaped target within the bounds, and refuses the rest', () => {
    fc.assert(
      fc.property(targetArb, ({ path, version, target }) => {
        const r = attemptWithCodes(TARGET_CODES, () => parseLookupTarget(target));
        if (withinBounds(escapePath(path), escapeVersion(version))) {
          assert.ok(r.ok, `refused ${target}: ${r.ok ? '' : r.error.message}`);
          assert.deepEqual(r.value, { path, version });
        } else {
          assert.ok(!r.ok && r.error.code === 'bad_input', 'a target over the bounds was accepted');
        }
      }),
    );
  });

  it('raises only 400-class errors and accepts only canonical escaped targets within the bounds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          fc.tuple(targetArb, editsArb).map(([t, e]) => mutateString(t.target, e)),
        ),
        (s) => {
          const r = attemptWithCodes(TARGET_CODES, () => parseLookupTarget(s));
          if (!r.ok) return;
          const ep = escapePath(r.value.path);
          const ev = escapeVersion(r.value.version);
          assert.equal(`${ep}@${ev}`, s);
          assert.ok(withinBounds(ep, ev));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('parseApiTarget', () => {
  it('reads escaped targets as parseLookupTarget does, and plain ones with upper case as they are', () => {
    fc.assert(
      fc.property(targetArb, ({ path, version, target }) => {
        const escaped = attemptWithCodes(TARGET_CODES, () => parseApiTarget(target));
        const lookup = attemptWithCodes(TARGET_CODES, () => parseLookupTarget(target));
        assert.deepEqual(escaped, lookup);
        const plain = `${path}@${version}`;
        if (plain === target || !withinBounds(path, version)) return;
        const r = attemptWithCodes(TARGET_CODES, () => parseApiTarget(plain));
        assert.ok(r.ok, `refused ${plain}: ${r.ok ? '' : r.error.message}`);
        assert.deepEqual(r.value, { path, version });
      }),
    );
  });

  it('raises only 400-class errors and holds the length bounds for plain targets too', () => {
    const plainArb = fc.tuple(modulePathArb, versionArb).map(([p, v]) => `${p}@${v}`);
    fc.assert(
      fc.property(
        fc.oneof(
          noiseString,
          plainArb,
          fc.tuple(plainArb, editsArb).map(([t, e]) => mutateString(t, e)),
        ),
        (s) => {
          const r = attemptWithCodes(TARGET_CODES, () => parseApiTarget(s));
          if (!r.ok) return;
          assert.ok(withinBounds(r.value.path, r.value.version), `over the bounds: ${s.length} characters`);
          assert.equal(`${r.value.path}@${r.value.version}`.length <= s.length, true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('TileServer.parse', () => {
  const server = new TileServer({} as Store);
  const tileArb: fc.Arbitrary<Tile> = fc
    .record({
      H: fc.oneof(fc.constant(8), fc.integer({ min: 1, max: 30 })),
      L: fc.integer({ min: -1, max: 63 }),
      N: fc.oneof(fc.nat({ max: 5000 }), fc.maxSafeNat()),
      w: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ H, L, N, w }) => ({ H, L, N, W: Math.max(1, Math.ceil(w * 2 ** H)) }));

  it('accepts exactly the canonical paths of height-8 tiles, and raises only malformed_tile or not_found', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          tileArb.map(tilePath),
          fc.tuple(tileArb, editsArb).map(([t, e]) => mutateString(tilePath(t), e)),
          noiseString.map((s) => 'tile/' + s),
        ),
        (path) => {
          const r = attemptWithCodes(['malformed_tile', 'not_found'], () => server.parse(path));
          if (r.ok) {
            assert.equal(r.value.H, 8);
            assert.equal(tilePath(r.value), path);
          } else if (r.error.code === 'not_found') {
            assert.match(path, /^tile\/(?!8\/)[0-9]+\//);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
