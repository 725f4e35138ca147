/**
 * Module, import and file path rules, as the go command applies them (golang.org/x/mod/module
 * CheckPath, CheckImportPath, CheckFilePath and SplitPathVersion, Go 1.19).
 *
 * A path is one or more non-empty elements separated by single slashes, with no leading or
 * trailing slash. An element is never all dots, never ends in a dot, and its part before the first
 * dot is never a reserved Windows device name (CON, com1, NuL, ...), compared case-insensitively.
 *
 * | kind   | element characters                                   | extra rules                                  |
 * |--------|------------------------------------------------------|----------------------------------------------|
 * | module | ASCII letters and digits, `-` `.` `_` `~`            | no leading dash or dot; no `~<digits>` short-name suffix; first element a lower-case domain with a dot; a valid major-version suffix |
 * | import | as module, plus `+`                                  | no leading dash; no `~<digits>` suffix        |
 * | file   | Unicode letters, ASCII digits, space, `!#$%&()+,-.=@[]^_{}~` | leading dash and leading dot allowed   |
 *
 * JavaScript strings are UTF-16, so where Go reports "invalid UTF-8" these checks report a lone
 * surrogate (the only way a JS string can fail to be Unicode); callers that start from bytes must
 * decode them strictly first (bytes.decodeUtf8). Unicode letters are judged by the running
 * engine's Unicode tables (\p{L}), which may be a version newer than Go 1.19's.
 *
 * Every check throws SumkeepError('bad_module_path', '<path>: <reason>') and nothing else.
 */
import { hasLoneSurrogate } from './bytes.ts';
import { SumkeepError } from './errors.ts';
import { shown, shownChar } from './module-quote.ts';

const enum Kind {
  Module,
  Import,
  File,
}

/** Reserved device names on Windows; compared ASCII-case-insensitively (see badWindowsName). */
const BAD_WINDOWS_NAMES = new Set([
  'con',
  'prn',
  'aux',
  'nul',
  'com1',
  'com2',
  'com3',
  'com4',
  'com5',
  'com6',
  'com7',
  'com8',
  'com9',
  'lpt1',
  'lpt2',
  'lpt3',
  'lpt4',
  'lpt5',
  'lpt6',
  'lpt7',
  'lpt8',
  'lpt9',
]);

const LETTER_RE = /^\p{L}$/u;
/** ASCII punctuation allowed in file names (space included). */
const FILE_PUNCT = '!#$%&()+,-.=@[]^_{}~ ';

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function modPathOK(c: number): boolean {
  return isAsciiAlnum(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e; // - . _ ~
}

function charOK(c: number, kind: Kind): boolean {
  switch (kind) {
    case Kind.Module:
      return modPathOK(c);
    case Kind.Import:
      return modPathOK(c) || c === 0x2b; // +
    case Kind.File:
      if (c < 0x80) return isAsciiAlnum(c) || FILE_PUNCT.includes(String.fromCharCode(c));
      return LETTER_RE.test(String.fromCodePoint(c));
  }
}

function fail(path: string, reason: string): never {
  throw new SumkeepError('bad_module_path', `${shown(path)}: ${reason}`);
}

/**
 * Windows reserved names. Go compares with strings.EqualFold; every reserved name is made of ASCII
 * letters none of which has a non-ASCII case-fold partner (unlike k/K and the Kelvin sign), so an
 * ASCII lower-casing gives the same answer without touching non-ASCII characters.
 */
function badWindowsName(short: string): boolean {
  if (short.length < 3 || short.length > 4) return false;
  return BAD_WINDOWS_NAMES.has(short.replace(/[A-Z]/g, (ch) => ch.toLowerCase()));
}

/** Returns the reason `elem` is not a valid element of a path of `kind`, or null. */
function elemProblem(elem: string, kind: Kind): string | null {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${shown(elem)}`;
  if (elem.startsWith('.') && kind === Kind.Module) return 'leading dot in path element';
  if (elem.endsWith('.')) return 'trailing dot in path element';
  for (const ch of elem) {
    const c = ch.codePointAt(0)!;
    if (!charOK(c, kind)) return `invalid char ${shownChar(c)}`;
  }
  const dot = elem.indexOf('.');
  const short = dot >= 0 ? elem.slice(0, dot) : elem;
  if (badWindowsName(short)) return `${shown(short)} disallowed as path element component on Windows`;
  if (kind !== Kind.File) {
    // Windows 8.3 short names look like PROGRA~1: a tilde followed by digits ends the element.
    const tilde = short.lastIndexOf('~');
    if (tilde >= 0 && tilde < short.length - 1 && /^[0-9]+$/.test(short.slice(tilde + 1))) {
      return 'trailing tilde and digits in path element';
    }
  }
  return null;
}

/** The rules shared by all three kinds; returns the reason or null. */
function pathProblem(path: string, kind: Kind): string | null {
  if (hasLoneSurrogate(path)) return 'invalid UTF-8 (lone surrogate)';
  if (path === '') return 'empty string';
  if (path.startsWith('-') && kind !== Kind.File) return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const p = elemProblem(elem, kind);
    if (p !== null) return p;
  }
  return null;
}

/** Throws unless `path` is a valid module path (module.CheckPath). */
export function checkPath(path: string): void {
  const p = pathProblem(path, Kind.Module);
  if (p !== null) fail(path, p);
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  if (!first.includes('.')) fail(path, 'missing dot in first path element');
  for (const ch of first) {
    const c = ch.codePointAt(0)!;
    const ok = c === 0x2d || c === 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
    if (!ok) fail(path, `invalid char ${shownChar(c)} in first path element`);
  }
  if (splitPathVersion(path) === null) {
    fail(
      path,
      path.startsWith('gopkg.in/')
        ? 'invalid version: gopkg.in paths must end in .vN (N a number, no leading zero except .v0)'
        : 'invalid version: a /vN major suffix needs N >= 2, no leading zero and no dots',
    );
  }
}

/** Throws unless `path` is a valid package import path (module.CheckImportPath). */
export function checkImportPath(path: string): void {
  const p = pathProblem(path, Kind.Import);
  if (p !== null) fail(path, p);
}

/**
 * Throws unless `path` is a valid slash-separated file path (module.CheckFilePath): the rule for
 * the name of every file inside a module zip, below its `M@V/` prefix.
 */
export function checkFilePath(path: string): void {
  const p = pathProblem(path, Kind.File);
  if (p !== null) fail(path, p);
}

/** Reason `elem` is not a valid single file-path element, or null (used for escaped versions). */
export function fileElemProblem(elem: string): string | null {
  if (hasLoneSurrogate(elem)) return 'invalid UTF-8 (lone surrogate)';
  return elemProblem(elem, Kind.File);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Splits a module path into `prefix` and `pathMajor` with prefix + pathMajor === path.
 * pathMajor is "" (no suffix), "/vN" with N >= 2, or for gopkg.in paths ".vN" (any N, and an
 * optional "-unstable"). Returns null when the final element looks like a major suffix but is not
 * a valid one ("/v1", "/v02", "/v2.0"), or for a gopkg.in path without ".vN".
 * Does not check the rest of the path.
 */
export function splitPathVersion(path: string): { prefix: string; pathMajor: string } | null {
  if (path.startsWith('gopkg.in/')) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0) {
    const c = path.charCodeAt(i - 1);
    if (!isDigit(c) && c !== 0x2e) break;
    if (c === 0x2e) dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '' };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') return null;
  return { prefix, pathMajor };
}

function splitGopkgIn(path: string): { prefix: string; pathMajor: string } | null {
  let i = path.length;
  if (path.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigit(path.charCodeAt(i - 1))) i--;
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') return null;
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) return null;
  return { prefix, pathMajor };
}
