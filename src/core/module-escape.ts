/**
 * The case-safe escaping of module paths and versions used in proxy and sumdb URLs
 * (`/lookup/<escaped path>@<escaped version>`) and in cache directories: every upper-case ASCII
 * letter becomes "!" followed by its lower-case form, so no two valid paths ever differ only in
 * case once escaped (github.com/Azure/go-autorest -> github.com/!azure/go-autorest).
 *
 * The escaped alphabet is ASCII without upper-case letters; "!" appears only before a-z. Valid
 * module paths never contain "!" or non-ASCII, which is what makes the mapping reversible.
 */
import { SumkeepError } from './errors.ts';
import { checkPath, fileElemProblem } from './module-path.ts';
import { shown } from './module-quote.ts';

/** Escapes an ASCII string known to hold no "!" (the callers' checks guarantee it). */
function escapeString(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => '!' + ch.toLowerCase());
}

/** Reverses escapeString; null when `escaped` is not a possible escaped form. */
function unescapeString(escaped: string): string | null {
  let out = '';
  let bang = false;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c >= 0x80) return null;
    if (bang) {
      bang = false;
      if (c < 0x61 || c > 0x7a) return null;
      out += String.fromCharCode(c - 0x20);
      continue;
    }
    if (c === 0x21) {
      bang = true;
      continue;
    }
    if (c >= 0x41 && c <= 0x5a) return null;
    out += escaped[i];
  }
  return bang ? null : out;
}

/** Escaped form of a module path; throws bad_module_path when `path` is not a valid module path. */
export function escapePath(path: string): string {
  checkPath(path);
  return escapeString(path);
}

/**
 * Module path for an escaped path. Throws bad_module_path for a "!" not followed by a-z, a
 * trailing "!", an upper-case letter or non-ASCII in the escaped form, or when the result is not a
 * valid module path.
 */
export function unescapePath(escaped: string): string {
  const path = unescapeString(escaped);
  if (path === null) {
    throw new SumkeepError(
      'bad_module_path',
      `${shown(escaped)}: invalid escaped module path ("!" must be followed by a-z; no upper case or non-ASCII)`,
    );
  }
  checkPath(path);
  return path;
}

/** Why `v` cannot be escaped, or null. Versions need not be semver, but must be one file name. */
function versionProblem(v: string): string | null {
  const p = fileElemProblem(v);
  if (p !== null) return p;
  if (v.includes('!')) return 'disallowed character "!"';
  // Letters outside ASCII pass the file-name rule but have no escaped form.
  if (/[^ -~]/.test(v)) return 'disallowed non-ASCII character';
  return null;
}

/**
 * Escaped form of a version. The version need not be semver (the proxy protocol also carries
 * queries like "latest"), but must be a valid file name element without "!" and in ASCII.
 * Throws bad_version.
 */
export function escapeVersion(v: string): string {
  const p = versionProblem(v);
  if (p !== null) throw new SumkeepError('bad_version', `${shown(v)}: disallowed version string: ${p}`);
  return escapeString(v);
}

/** Version for an escaped version; throws bad_version for a malformed escape or file name. */
export function unescapeVersion(escaped: string): string {
  const v = unescapeString(escaped);
  if (v === null) {
    throw new SumkeepError(
      'bad_version',
      `${shown(escaped)}: invalid escaped version ("!" must be followed by a-z; no upper case or non-ASCII)`,
    );
  }
  const p = fileElemProblem(v);
  if (p !== null) throw new SumkeepError('bad_version', `${shown(escaped)}: invalid escaped version: ${p}`);
  return v;
}
