/**
 * Module paths and versions as the go command defines them (golang.org/x/mod/module): path
 * checks, major-version suffixes, pseudo-versions, the "!" case escaping of URLs, and
 * GOPRIVATE-style prefix patterns. The rules live in src/core/module-*.ts; this file is the
 * single import point.
 */
export { checkPath, checkImportPath, checkFilePath, splitPathVersion } from './module-path.ts';
export { escapePath, unescapePath, escapeVersion, unescapeVersion } from './module-escape.ts';
export { checkPathMajor, checkModuleVersion, canonicalModuleVersion } from './module-version.ts';
export {
  isPseudoVersion,
  parsePseudoVersion,
  pseudoVersionBase,
  isValidPseudoTimestamp,
  type PseudoParts,
} from './module-pseudo.ts';
export {
  matchPrefixPatterns,
  matchAnyPrefix,
  globMatch,
  isMalformedGlob,
  parsePatternList,
  type PatternList,
} from './module-match.ts';
