/**
 * Module zips: streaming validation and hashing (hash.ts), the rules they must keep (rules.ts) and
 * their limits (limits.ts). The single import point for the rest of sumkeep.
 */
export { hashModuleZip, type ZipHashResult, type HashZipOptions } from './hash.ts';
export { hashGoModFile } from './gomod.ts';
export { DEFAULT_ZIP_LIMITS, type ZipLimits } from './limits.ts';
export { ZIP_RULES, ruleOf, type ZipRule } from './rules.ts';
