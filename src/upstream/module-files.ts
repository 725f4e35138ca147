import { SumkeepError } from '../core/errors.ts';
import { bytesEqual } from '../core/bytes.ts';
import { goModModulePath } from './gomod-module.ts';

/**
 * Checks that a module version's files belong to it: the .mod file declares `path`, and (except for
 * +incompatible versions, whose zip go.mod is not the one served) a go.mod inside the zip is the
 * same file. Throws SumkeepError('module_mismatch') naming what differs.
 */
export function checkModuleFiles(
  path: string,
  version: string,
  mod: Uint8Array,
  zipGoMod: Uint8Array | null,
  labels: { mod: string; zip: string } = { mod: 'the .mod file', zip: 'the zip' },
): void {
  const declared = goModModulePath(mod);
  if (declared !== path) {
    throw new SumkeepError(
      'module_mismatch',
      declared === null
        ? `${labels.mod} has no module directive`
        : `${labels.mod} declares module ${JSON.stringify(declared)}, not the requested ${path}`,
    );
  }
  if (!version.endsWith('+incompatible') && zipGoMod !== null && !bytesEqual(zipGoMod, mod)) {
    throw new SumkeepError('module_mismatch', `the go.mod in ${labels.zip} differs from ${labels.mod}`);
  }
}
