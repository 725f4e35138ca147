/**
 * Which versions go with which module paths: the major-version suffix rule (module.CheckPathMajor)
 * and what a checksum database must enforce before it looks up or logs M@V.
 */
import { SumkeepError } from './errors.ts';
import { checkPath, splitPathVersion } from './module-path.ts';
import { isPseudoVersion, pseudoVersionProblem } from './module-pseudo.ts';
import { shown } from './module-quote.ts';
import { canonicalSemver, isValidSemver, semverBuild, semverMajor } from './semver.ts';

const INCOMPATIBLE = '+incompatible';

/** Why `v` does not match `pathMajor` ("", "/vN", ".vN", ".vN-unstable"), or null. */
function pathMajorProblem(v: string, pathMajor: string): string | null {
  let pm = pathMajor;
  if (pm.startsWith('.v') && pm.endsWith('-unstable')) pm = pm.slice(0, -'-unstable'.length);
  // An old go command bug wrote v0.0.0- pseudo-versions for gopkg.in .v1 paths; they stay valid.
  if (v.startsWith('v0.0.0-') && pm === '.v1') return null;
  const m = semverMajor(v);
  if (m === '') return 'not a semantic version';
  let want: string;
  if (pm === '') {
    if (m === 'v0' || m === 'v1' || semverBuild(v) === INCOMPATIBLE) return null;
    want = 'v0 or v1';
  } else if (pm[0] === '/' || pm[0] === '.') {
    if (m === pm.slice(1)) return null;
    want = pm.slice(1);
  } else {
    want = pm;
  }
  return `should be ${shown(want)}, not ${m}`;
}

/**
 * Throws SumkeepError('bad_version', '<version>: should be vN, not vM') unless semantic version
 * `version` matches the path major suffix `pathMajor` (from splitPathVersion). With no suffix
 * v0, v1 and any "+incompatible" version match; gopkg.in ".v1" also takes v0.0.0- pseudo-versions.
 */
export function checkPathMajor(version: string, pathMajor: string): void {
  const p = pathMajorProblem(version, pathMajor);
  if (p !== null) throw new SumkeepError('bad_version', `${shown(version)}: ${p}`);
}

/**
 * Canonical form the go command uses for module versions: canonical semver, except that the
 * build suffix "+incompatible" is kept (module.CanonicalVersion). "" for an invalid version.
 */
export function canonicalModuleVersion(v: string): string {
  const c = canonicalSemver(v);
  if (c !== '' && semverBuild(v) === INCOMPATIBLE) return c + INCOMPATIBLE;
  return c;
}

/**
 * Throws unless M@V is a module version a checksum database may answer for, judged without
 * fetching anything:
 *  - `path` is a valid module path (bad_module_path);
 *  - `version` is canonical semver: full vX.Y.Z form, no build metadata but "+incompatible"
 *    (so "latest", "v1.2", "v1.2.3+meta" are refused);
 *  - the major version matches the path's /vN or gopkg.in .vN suffix;
 *  - "+incompatible" only on v2+ of a path without a major suffix (whether the module has a
 *    go.mod cannot be known here, so it is accepted on syntax alone);
 *  - a pseudo-version has a real timestamp and a base version it can follow, and is not a
 *    v1.0.0-<time>-<rev> of a path without suffix.
 * Errors are bad_version with message '<path>@<version>: <reason>', one line.
 */
export function checkModuleVersion(path: string, version: string): void {
  checkPath(path);
  const bad = (reason: string): never => {
    throw new SumkeepError('bad_version', `${path}@${shown(version)}: ${reason}`);
  };
  if (!isValidSemver(version)) {
    bad('invalid version: not a semantic version (want vMAJOR.MINOR.PATCH)');
  }
  const canonical = canonicalModuleVersion(version);
  if (canonical !== version) {
    const build = semverBuild(version);
    if (build !== '' && build !== INCOMPATIBLE) {
      bad(`invalid version: build metadata ${shown(build)} is not allowed (only +incompatible)`);
    }
    bad(`invalid version: not canonical (want ${canonical})`);
  }
  const pathMajor = splitPathVersion(path)?.pathMajor ?? '';
  const incompatible = version.endsWith(INCOMPATIBLE);
  if (incompatible) {
    if (pathMajor !== '') {
      bad('invalid version: +incompatible not allowed: module path includes a major version suffix');
    }
    const m = semverMajor(version);
    if (m === 'v0' || m === 'v1') {
      bad(`invalid version: +incompatible suffix not allowed: major version ${m} is compatible`);
    }
  }
  const mp = pathMajorProblem(version, pathMajor);
  if (mp !== null) {
    const hint =
      pathMajor === ''
        ? ` (a ${semverMajor(version)} module without a major suffix needs +incompatible)`
        : '';
    bad(`invalid version: ${mp}${hint}`);
  }
  const plain = incompatible ? version.slice(0, -INCOMPATIBLE.length) : version;
  if (isPseudoVersion(plain)) {
    const pp = pseudoVersionProblem(version, pathMajor);
    if (pp !== null) bad(`invalid pseudo-version: ${pp}`);
  }
}
