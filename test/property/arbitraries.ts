/**
 * Generators of valid module paths, versions and go.sum hashes for the property tests. Each is
 * built to be valid by construction and then filtered through the real check, so a generator
 * bug shows up as a slow filter, never as an invalid value.
 */
import { goModHash } from '../../src/core/dirhash.ts';
import { checkModuleVersion, checkPath, escapeVersion } from '../../src/core/module.ts';
import { attempt, fc } from './fc.ts';

/** Strings over `chars` (fc.string with a unit is much cheaper than fc.stringMatching). */
function over(chars: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars.split('')), minLength, maxLength });
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const label = over(LOWER + '-', 2, 10).filter((s) => !s.startsWith('-') && !s.endsWith('-'));
const element = over(LOWER + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ._~-', 1, 13);

/** A path element of thousands of characters, for the length bounds of go.sum lines and lookups. */
const longElement = fc
  .tuple(
    fc.constantFrom('a', 'Z', '0', 'x_y'),
    fc.oneof(fc.integer({ min: 300, max: 1200 }), fc.integer({ min: 8100, max: 8400 })),
  )
  .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));

/**
 * Valid module paths: a domain, more elements (in one path of eight a very long one, over the
 * go.sum line bound half the time), an optional /vN.
 */
export const modulePathArb: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 7,
      arbitrary: fc
        .tuple(
          fc.array(label, { minLength: 2, maxLength: 3 }),
          fc.array(fc.oneof({ weight: 7, arbitrary: element }, { weight: 1, arbitrary: longElement }), {
            maxLength: 3,
          }),
          fc.option(fc.integer({ min: 2, max: 30 }), { freq: 3 }),
        )
        .map(
          ([domain, elems, major]) => [domain.join('.'), ...elems].join('/') + (major ? `/v${major}` : ''),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(label, fc.integer({ min: 0, max: 12 }), fc.boolean())
        .map(([name, n, unstable]) => `gopkg.in/${name}.v${n}${unstable ? '-unstable' : ''}`),
    },
  )
  .filter((p) => attempt(() => checkPath(p)).ok);

const num = fc.oneof(fc.constantFrom('0', '1', '2', '10'), fc.nat({ max: 10 ** 6 }).map(String));
const ident = over(LOWER + 'ABCDEFXYZ-', 1, 8).filter((s) => !/^0[0-9]+$/.test(s));
const prerelease = fc.array(ident, { minLength: 1, maxLength: 3 }).map((ids) => '-' + ids.join('.'));

/** Canonical semantic versions vX.Y.Z[-pre] with major `major` (any when undefined). */
export function semverArb(major?: number): fc.Arbitrary<string> {
  return fc
    .tuple(major === undefined ? num : fc.constant(String(major)), num, num, fc.option(prerelease))
    .map(([a, b, c, pre]) => `v${a}.${b}.${c}${pre ?? ''}`);
}

/** 14 digits of a real UTC time yyyymmddhhmmss. */
export const timestampArb = fc
  .date({ min: new Date(Date.UTC(1970, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true })
  .map((d) => d.toISOString().replace(/[-T:]/g, '').slice(0, 14));

export const revArb = over('0123456789abcdef', 12, 12);

/** The major version a path's suffix asks for ("" when it has none). */
export function pathMajor(path: string): number | undefined {
  const m = /(?:\/v|^gopkg\.in\/.*\.v)(\d+)(?:-unstable)?$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** A version checkModuleVersion accepts for `path`: a release, pre-release or pseudo-version. */
export function versionForPath(path: string): fc.Arbitrary<string> {
  const major = pathMajor(path);
  const m = major ?? 1;
  const tagged = fc.oneof(
    semverArb(m),
    ...(major === undefined
      ? [semverArb(0), semverArb().map((v) => v.replace(/^v[0-9]+/, 'v7') + '+incompatible')]
      : []),
  );
  const pseudo = fc
    .tuple(fc.option(semverArb(m), { freq: 3 }), timestampArb, revArb)
    .map(([older, ts, rev]) => pseudoVersion(major === undefined ? 0 : m, older, ts, rev));
  return fc.oneof(tagged, pseudo).filter((v) => attempt(() => checkModuleVersion(path, v)).ok);
}

/**
 * The pseudo-version the go command writes (module.PseudoVersion) for a commit at `ts` with
 * revision `rev`, after tag `older` (null: no tag, then the version is vMAJOR.0.0-ts-rev).
 */
export function pseudoVersion(major: number, older: string | null, ts: string, rev: string): string {
  if (older === null) return `v${major}.0.0-${ts}-${rev}`;
  if (older.includes('-')) return `${older}.0.${ts}-${rev}`;
  const [, a, b, c] = /^v(\d+)\.(\d+)\.(\d+)$/.exec(older)!;
  return `v${a}.${b}.${BigInt(c!) + 1n}-0.${ts}-${rev}`;
}

/** Valid (path, version) pairs. */
export const moduleVersionArb = modulePathArb.chain((path) =>
  versionForPath(path).map((version) => ({ path, version })),
);

/** Versions escapeVersion accepts: ASCII file-name characters (upper case and "@" included), no "!". */
export const escapableVersionArb = fc
  .stringMatching(/^[A-Za-z0-9#$%&()+,\-.=@[\]^_{}~ ]{1,40}$/)
  .filter((v) => attempt(() => escapeVersion(v)).ok);

/** h1 hashes: of real go.mod texts, so each is base64 of 32 bytes. */
export const h1Arb = fc.string({ maxLength: 30 }).map((s) => goModHash(new TextEncoder().encode(s)));
