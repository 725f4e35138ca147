/**
 * Checks on zip entry names, in the order hashModuleZip applies them. Names are judged as the go
 * command sees them: the raw bytes of the central directory read as UTF-8, whatever the zip's
 * "UTF-8" flag or Info-ZIP Unicode-path extra field say (Go's archive/zip ignores both).
 */
import { isUtf8 } from 'node:buffer';
import { checkFilePath } from '../core/module.ts';
import { isSumkeepError } from '../core/errors.ts';
import { quoted, shown } from '../core/module-quote.ts';
import { foldKey } from './fold.ts';
import type { RuleProblem } from './rules.ts';

// ignoreBOM: a leading U+FEFF is part of the name (and then refused by checkFilePath), not
// something to strip: stripping would hash a name that is not the one in the zip.
const lossyDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * The entry name as a string, or null when its bytes are not valid UTF-8 (overlong forms,
 * surrogates and truncated sequences included). Buffer#toString keeps a leading BOM.
 */
export function decodeName(raw: Uint8Array): string | null {
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return isUtf8(b) ? b.toString('utf8') : null;
}

/** A readable form of bytes that are not UTF-8 (invalid sequences become U+FFFD), for messages. */
export function lossyName(raw: Uint8Array): string {
  return lossyDecoder.decode(raw);
}

/**
 * Shape rules on the whole entry name, before the prefix is compared, so that "../x" is reported
 * as traversal rather than as a missing prefix. One trailing "/" marks a directory entry and is
 * not an empty element.
 */
export function nameShapeProblem(name: string): RuleProblem | null {
  if (name.startsWith('/')) return { rule: 'absolute path' };
  if (name.includes('\\')) return { rule: 'backslash' };
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  const elems = body.split('/');
  if (elems.includes('..')) return { rule: 'path traversal' };
  if (elems.includes('.')) return { rule: 'unclean path', detail: '"." element' };
  if (elems.includes('')) return { rule: 'unclean path', detail: 'empty element' };
  return null;
}

/**
 * The `M@V/` prefix of a first entry name: everything up to and including the first "/" after the
 * first "@" (a module path holds slashes but no "@"; a version holds neither). Null when there is
 * no such "@" and "/".
 */
export function prefixOf(name: string): { path: string; version: string; prefix: string } | null {
  const at = name.indexOf('@');
  if (at <= 0) return null;
  const slash = name.indexOf('/', at);
  if (slash < 0) return null;
  return { path: name.slice(0, at), version: name.slice(at + 1, slash), prefix: name.slice(0, slash + 1) };
}

/** module.CheckFilePath as a problem instead of a throw. */
export function filePathProblem(rel: string): RuleProblem | null {
  try {
    checkFilePath(rel);
    return null;
  } catch (e) {
    if (!isSumkeepError(e)) throw e;
    // The message is '<shown path>: <reason>'; the path is already in the refusal.
    const head = `${shown(rel)}: `;
    const reason = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
    return { rule: 'bad file path', detail: reason };
  }
}

/** The last element of a slash-separated path. */
export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

interface Seen {
  path: string;
  isDir: boolean;
}

/**
 * Remembers every file and directory path below the prefix (directories implied by file paths
 * included) under its case-fold key, and reports the same conflicts as Go's collision check:
 * two spellings of one key, a path used both as file and as directory, a file listed twice.
 * A directory listed twice, or listed after files inside it, is fine.
 */
export class CollisionChecker {
  private readonly seen = new Map<string, Seen>();

  check(path: string, isDir: boolean): RuleProblem | null {
    let p = path;
    let dir = isDir;
    for (;;) {
      const key = foldKey(p);
      const other = this.seen.get(key);
      if (other === undefined) {
        this.seen.set(key, { path: p, isDir: dir });
      } else if (other.path !== p) {
        return { rule: 'case-fold collision', detail: `with ${quoted(other.path)}` };
      } else if (other.isDir !== dir) {
        return { rule: 'file and directory', detail: `${quoted(p)} is both` };
      } else if (!dir) {
        return { rule: 'duplicate entry' };
      }
      const slash = p.lastIndexOf('/');
      if (slash < 0) return null;
      p = p.slice(0, slash);
      dir = true;
    }
  }
}
