/**
 * The GOPROXY list, read as the go command reads it (cmd/go/internal/modfetch/proxy.go):
 *
 * - Entries are separated by `,` or `|`. The separator AFTER an entry decides how a failure of
 *   that entry falls through: after `,` only "not found" (HTTP 404 or 410) moves on to the next
 *   entry, after `|` any error does. The last entry has no separator; its failure is final.
 * - Entries are trimmed; empty entries (`a,,b`, a trailing `,`) are skipped.
 * - `off` disallows fetching: reaching it fails with "not found", and entries after it are ignored.
 * - An entry that contains `.`, `:` or `/` but not `:/` gets an implicit `https://`
 *   (`proxy.corp.example` means `https://proxy.corp.example`), as in the go command.
 * - Schemes: `https`, `http`, `file`. Trailing slashes of the base path are dropped.
 *
 * Refused at start (SumkeepError 'config'), each with a message that says how to fix it:
 * `direct` (sumkeep must never fetch from version control itself), `noproxy` and other bare words,
 * other schemes, URLs with a query or fragment, file URLs with a host, and a list with no entry.
 */
import { SumkeepError } from '../core/errors.ts';
import { redactUrl } from './redact.ts';

/** How a failure of this entry moves on to the next entry. */
export type FallThrough = 'notfound' | 'any';

export interface ProxyEntry {
  /**
   * Normalised base URL without a trailing slash (it keeps any userinfo, which is needed to
   * authenticate: never print it, print {@link displayProxy} instead), or the word `off`.
   */
  readonly url: string;
  readonly fallThrough: FallThrough;
}

export type ProxyList = readonly ProxyEntry[];

/** Bounds on hostile or mistaken configuration. */
const MAX_SPEC_LENGTH = 64 * 1024;
const MAX_ENTRIES = 64;

const DIRECT_EXPLANATION =
  'entry "direct" is not supported: sumkeep must not fetch modules from version control ' +
  'itself (a checksum database only records what a module proxy serves); put a GOPROXY in front ' +
  '(Athens, Artifactory, a file:// mirror) and list its URL instead';

/** Parses a GOPROXY list. Throws SumkeepError('config') with a message that says how to fix it. */
export function parseProxyList(spec: string): ProxyList {
  if (spec.length > MAX_SPEC_LENGTH) {
    throw new SumkeepError('config', `upstream GOPROXY list is longer than ${MAX_SPEC_LENGTH} characters`);
  }
  const out: ProxyEntry[] = [];
  let rest = spec;
  while (rest !== '') {
    let raw: string;
    let fallThrough: FallThrough = 'notfound';
    const i = rest.search(/[,|]/);
    if (i >= 0) {
      raw = rest.slice(0, i);
      fallThrough = rest[i] === '|' ? 'any' : 'notfound';
      rest = rest.slice(i + 1);
    } else {
      raw = rest;
      rest = '';
    }
    const word = raw.trim();
    if (word === '') continue;
    if (word === 'off') {
      // As in the go command, "off" always fails hard, so the walk stops here.
      out.push({ url: 'off', fallThrough: 'notfound' });
      break;
    }
    if (word === 'direct') throw new SumkeepError('config', DIRECT_EXPLANATION);
    if (out.length >= MAX_ENTRIES) {
      throw new SumkeepError('config', `upstream GOPROXY list has more than ${MAX_ENTRIES} entries`);
    }
    out.push({ url: normaliseProxyUrl(word), fallThrough });
  }
  if (out.length === 0) {
    throw new SumkeepError(
      'config',
      'upstream GOPROXY list contains no entries; give at least one proxy URL (https://, http:// or file://), or "off"',
    );
  }
  return out;
}

/**
 * sumkeep's upstream list from the go command's GOPROXY, read as the go command reads it: entries
 * trimmed, empty ones skipped, the walk ending at `off` (kept: it means "no further") and at
 * `direct` (dropped, with everything after it, which the go command ignores too: sumkeep never
 * fetches from version control). The separator after each kept entry is kept, so `a|b,direct`
 * gives `a|b`. A GOPROXY with no entry before `direct` is refused, as `--upstream direct` is.
 * The result is a list for parseProxyList (which checks the URLs).
 */
export function upstreamFromGoproxy(goproxy: string): { spec: string; stoppedAtDirect: boolean } {
  let spec = '';
  let sep = '';
  let stoppedAtDirect = false;
  let rest = goproxy;
  while (rest !== '') {
    const i = rest.search(/[,|]/);
    const word = (i >= 0 ? rest.slice(0, i) : rest).trim();
    const next = i >= 0 ? rest[i]! : '';
    rest = i >= 0 ? rest.slice(i + 1) : '';
    if (word === '') continue;
    if (word === 'direct') {
      stoppedAtDirect = true;
      break;
    }
    spec += sep + word;
    sep = next;
    if (word === 'off') break;
  }
  if (spec === '' && stoppedAtDirect) throw new SumkeepError('config', DIRECT_EXPLANATION);
  return { spec, stoppedAtDirect };
}

/** The entry as it may be printed: userinfo removed. */
export function displayProxy(entry: ProxyEntry): string {
  return entry.url === 'off' ? 'off' : redactUrl(entry.url);
}

/** The list as it may be printed (logs, the startup line): userinfo removed, original separators. */
export function formatProxyList(list: ProxyList): string {
  let s = '';
  list.forEach((e, i) => {
    s += displayProxy(e);
    if (i < list.length - 1) s += e.fallThrough === 'any' ? '|' : ',';
  });
  return s;
}

function normaliseProxyUrl(word: string): string {
  let text = word;
  // The go command's rule: single words are reserved for built-in behaviours; anything else
  // without "://"-like scheme and not an absolute path is an https host.
  if (/[.:/]/.test(text) && !text.includes(':/') && !text.startsWith('/') && !text.startsWith('\\')) {
    text = 'https://' + text;
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    if (!/[.:/]/.test(word)) {
      throw new SumkeepError(
        'config',
        `entry ${JSON.stringify(word)} is not supported: give a proxy URL (https://, http:// or file://) or "off"`,
      );
    }
    if (word.startsWith('/')) {
      throw new SumkeepError(
        'config',
        `invalid proxy URL missing scheme: ${redactUrl(word)} (for a directory, write file://${word})`,
      );
    }
    throw new SumkeepError('config', `invalid proxy URL: ${redactUrl(word)}`);
  }
  const shown = redactUrl(u.href);
  switch (u.protocol) {
    case 'http:':
    case 'https:':
      if (u.hostname === '') throw new SumkeepError('config', `invalid proxy URL without a host: ${shown}`);
      break;
    case 'file:':
      if (u.host !== '' || u.username !== '' || u.password !== '') {
        throw new SumkeepError('config', `invalid file:// proxy URL with non-path elements: ${shown}`);
      }
      break;
    default:
      throw new SumkeepError('config', `invalid proxy URL scheme (must be https, http, file): ${shown}`);
  }
  if (u.search !== '' || u.hash !== '' || word.includes('?') || word.includes('#')) {
    throw new SumkeepError(
      'config',
      `invalid proxy URL with a query or fragment: ${redactUrl(u.origin + u.pathname)}`,
    );
  }
  let href = u.href;
  while (href.endsWith('/')) href = href.slice(0, -1);
  if (u.protocol === 'file:' && href === 'file:') href = 'file://';
  return href;
}
