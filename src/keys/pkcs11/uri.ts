/**
 * PKCS#11 URIs (RFC 7512) naming a signing key in a token, as sumkeep accepts them:
 *
 *   pkcs11:token=<label>;object=<label>?module-path=<library>&pin-source=file:<path>
 *
 * Path attributes (separated by ";"): `token` (token label, at most 32 bytes), `serial` (token
 * serial number, at most 16 bytes), `slot-id` (decimal), `object` (key label), `id` (key id, bytes,
 * usually written %01%02...), `type` (only "private": the key that signs). Query attributes
 * (separated by "&"): `module-path` (absolute path of the PKCS#11 library, required) and
 * `pin-source` (`file:<absolute path>` or `file:///<path>`; without it the PIN comes from the
 * environment variable SUMKEEP_PKCS11_PIN). A URI must name the token (token, serial or slot-id)
 * and the key (object or id).
 *
 * Refused, each with its own message: anything but "pkcs11:" at the start, an attribute not listed
 * above (RFC 7512 lets applications refuse what they do not understand; ignoring one could select
 * another key than meant), an attribute given twice, `pin-value` (a PIN in a URI ends up on command
 * lines and in shell history: use pin-source), `module-name` (use module-path), a character outside
 * RFC 7512's sets, malformed percent-encoding, labels that are not UTF-8, and over-long values.
 * Messages name the attribute, never its value. `formatPkcs11Uri` writes the canonical form that
 * `parsePkcs11Uri` reads back unchanged.
 */
import { SumkeepError } from '../../core/errors.ts';

export const PIN_ENV = 'SUMKEEP_PKCS11_PIN';
/** Longest URI accepted, in characters. */
export const MAX_URI_LENGTH = 4096;
/** CK_TOKEN_INFO.label and .serialNumber are fixed fields of 32 and 16 bytes. */
export const MAX_TOKEN_LABEL_BYTES = 32;
export const MAX_SERIAL_BYTES = 16;
export const MAX_OBJECT_LABEL_BYTES = 256;
export const MAX_ID_BYTES = 128;
export const MAX_PATH_BYTES = 1024;

export type PinSource = { kind: 'file'; path: string } | { kind: 'env'; name: typeof PIN_ENV };

export interface Pkcs11Uri {
  token?: string;
  serial?: string;
  slotId?: number;
  object?: string;
  id?: Uint8Array;
  /** Absolute path of the PKCS#11 library. */
  modulePath: string;
  pinSource: PinSource;
}

const PATH_ATTRS = ['token', 'serial', 'slot-id', 'object', 'id', 'type'] as const;
const QUERY_ATTRS = ['module-path', 'pin-source'] as const;
const KNOWN_ELSEWHERE = new Set([
  'manufacturer',
  'model',
  'library-manufacturer',
  'library-description',
  'library-version',
  'slot-description',
  'slot-manufacturer',
]);

// RFC 7512 section 2.3: pk11-unreserved plus pk11-p-special (path) or pk11-q-special (query).
const UNRESERVED = 'A-Za-z0-9\\-._~';
const PATH_CHAR_RE = new RegExp(`^(?:[${UNRESERVED}:\\[\\]@!$'()*+,=&]|%[0-9A-Fa-f]{2})*$`);
const QUERY_CHAR_RE = new RegExp(`^(?:[${UNRESERVED}:\\[\\]@!$'()*+,=/?|;]|%[0-9A-Fa-f]{2})*$`);

function bad(what: string): SumkeepError {
  return new SumkeepError(
    'config',
    `invalid PKCS#11 URI: ${what} (want pkcs11:token=<label>;object=<label>?module-path=<library>[&pin-source=file:<path>], RFC 7512)`,
  );
}

function pctDecode(value: string, attr: string): Uint8Array {
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) throw bad(`${attr}: malformed percent-encoding`);
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (value[i] === '%') {
      out.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(c); // the character sets above are ASCII only
    }
  }
  return Uint8Array.from(out);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, attr: string, max: number): string {
  if (bytes.length === 0) throw bad(`${attr} is empty`);
  if (bytes.length > max) throw bad(`${attr} is longer than ${max} bytes`);
  let s: string;
  try {
    s = UTF8.decode(bytes);
  } catch {
    throw bad(`${attr} is not UTF-8`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) throw bad(`${attr} holds a control character`);
  return s;
}

function absolutePath(bytes: Uint8Array, attr: string): string {
  const p = text(bytes, attr, MAX_PATH_BYTES);
  if (!p.startsWith('/')) throw bad(`${attr} must be an absolute path`);
  if (p.split('/').includes('..')) throw bad(`${attr} must not contain ".."`);
  return p;
}

function pinSource(bytes: Uint8Array): PinSource {
  const v = text(bytes, 'pin-source', MAX_PATH_BYTES + 8);
  if (!v.startsWith('file:')) throw bad('pin-source must be file:<absolute path>');
  let rest = v.slice('file:'.length);
  if (rest.startsWith('//')) {
    // file://<host>/<path>: only the empty host (file:///path) names this machine.
    if (!rest.startsWith('///')) throw bad('pin-source file URI must be file:///<path> or file:<path>');
    rest = rest.slice(2);
  }
  return { kind: 'file', path: absolutePath(new TextEncoder().encode(rest), 'pin-source') };
}

function splitAttrs(part: string, sep: string, where: string): Map<string, string> {
  const out = new Map<string, string>();
  if (part === '') return out;
  for (const item of part.split(sep)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad(`${where} attribute without a name=value form`);
    const name = item.slice(0, eq);
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw bad(`${where} has an attribute name outside [a-z0-9-]`);
    if (out.has(name)) throw bad(`attribute ${name} given twice`);
    out.set(name, item.slice(eq + 1));
  }
  return out;
}

/** Parses and checks a key URI (see the file comment); `config` error naming the problem. */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (typeof uri !== 'string') throw bad('not a string');
  if (uri.length > MAX_URI_LENGTH) throw bad(`longer than ${MAX_URI_LENGTH} characters`);
  if (!uri.startsWith('pkcs11:')) throw bad('it does not start with "pkcs11:"');
  const body = uri.slice('pkcs11:'.length);
  if (body.includes('#')) throw bad('a fragment (#) is not allowed');
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  if (!PATH_CHAR_RE.test(pathPart.replace(/[;]/g, '')))
    throw bad('the path has a character RFC 7512 does not allow (escape it as %XX)');
  if (!QUERY_CHAR_RE.test(queryPart.replace(/[&]/g, '')))
    throw bad('the query has a character RFC 7512 does not allow (escape it as %XX)');
  const path = splitAttrs(pathPart, ';', 'path');
  const query = splitAttrs(queryPart, '&', 'query');

  if (query.has('pin-value')) {
    throw bad(
      `pin-value is refused: a PIN in a URI ends up on command lines and in logs; use pin-source=file:<path> or ${PIN_ENV}`,
    );
  }
  if (query.has('module-name'))
    throw bad('module-name is not supported: give module-path=<absolute path of the library>');
  for (const name of path.keys()) {
    if (!(PATH_ATTRS as readonly string[]).includes(name)) {
      if (QUERY_ATTRS.includes(name as (typeof QUERY_ATTRS)[number]))
        throw bad(`${name} belongs in the query (after "?")`);
      throw bad(
        KNOWN_ELSEWHERE.has(name)
          ? `path attribute ${name} is not supported here: name the token by token, serial or slot-id`
          : `unknown path attribute ${name}`,
      );
    }
  }
  for (const name of query.keys()) {
    if (!(QUERY_ATTRS as readonly string[]).includes(name)) {
      if ((PATH_ATTRS as readonly string[]).includes(name))
        throw bad(`${name} belongs in the path (before "?")`);
      throw bad(`unknown query attribute ${name}`);
    }
  }

  const out: Partial<Pkcs11Uri> = {};
  const v = (m: Map<string, string>, name: string) => {
    const raw = m.get(name);
    return raw === undefined ? undefined : pctDecode(raw, name);
  };
  const token = v(path, 'token');
  if (token !== undefined) out.token = text(token, 'token', MAX_TOKEN_LABEL_BYTES);
  const serial = v(path, 'serial');
  if (serial !== undefined) out.serial = text(serial, 'serial', MAX_SERIAL_BYTES);
  const slot = v(path, 'slot-id');
  if (slot !== undefined) {
    const s = text(slot, 'slot-id', 20);
    if (!/^(0|[1-9][0-9]*)$/.test(s) || !Number.isSafeInteger(Number(s)))
      throw bad('slot-id must be a decimal number');
    out.slotId = Number(s);
  }
  const object = v(path, 'object');
  if (object !== undefined) out.object = text(object, 'object', MAX_OBJECT_LABEL_BYTES);
  const id = v(path, 'id');
  if (id !== undefined) {
    if (id.length === 0 || id.length > MAX_ID_BYTES) throw bad(`id must be 1 to ${MAX_ID_BYTES} bytes`);
    out.id = id;
  }
  const type = v(path, 'type');
  if (type !== undefined && text(type, 'type', 16) !== 'private') {
    throw bad('type must be "private" (the URI names the key that signs)');
  }
  if (out.token === undefined && out.serial === undefined && out.slotId === undefined) {
    throw bad('name the token with token=<label> (or serial= or slot-id=)');
  }
  if (out.object === undefined && out.id === undefined)
    throw bad('name the key with object=<label> (or id=)');
  const module = v(query, 'module-path');
  if (module === undefined) throw bad('module-path=<absolute path of the PKCS#11 library> is missing');
  out.modulePath = absolutePath(module, 'module-path');
  const pin = v(query, 'pin-source');
  out.pinSource = pin === undefined ? { kind: 'env', name: PIN_ENV } : pinSource(pin);
  return out as Pkcs11Uri;
}

function pctEncode(bytes: Uint8Array, allowed: RegExp): string {
  let s = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    s += b < 0x80 && allowed.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return s;
}

// Characters written bare by the formatter: unreserved, plus "/" in the query (paths read better).
const BARE_PATH = /^[A-Za-z0-9\-._~]$/;
const BARE_QUERY = /^[A-Za-z0-9\-._~/]$/;

/** The canonical URI text of `u` (attributes in a fixed order; no PIN ever). */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const enc = new TextEncoder();
  const path: string[] = [];
  if (u.token !== undefined) path.push(`token=${pctEncode(enc.encode(u.token), BARE_PATH)}`);
  if (u.serial !== undefined) path.push(`serial=${pctEncode(enc.encode(u.serial), BARE_PATH)}`);
  if (u.slotId !== undefined) path.push(`slot-id=${u.slotId}`);
  if (u.object !== undefined) path.push(`object=${pctEncode(enc.encode(u.object), BARE_PATH)}`);
  if (u.id !== undefined) path.push(`id=${pctEncode(u.id, /^$/)}`);
  path.push('type=private');
  const query = [`module-path=${pctEncode(enc.encode(u.modulePath), BARE_QUERY)}`];
  if (u.pinSource.kind === 'file')
    // file://<path> (= file:///abs) stays unambiguous for a path that starts with "//".
    query.push(`pin-source=file://${pctEncode(enc.encode(u.pinSource.path), BARE_QUERY)}`);
  return `pkcs11:${path.join(';')}?${query.join('&')}`;
}

/** A short name for messages and logs: `token "<label>" key "<label>"` (no paths, no PIN). */
export function describeUri(u: Pkcs11Uri): string {
  const token =
    u.token !== undefined
      ? `token "${u.token}"`
      : u.serial !== undefined
        ? `token serial ${u.serial}`
        : `slot ${u.slotId}`;
  const key = u.object !== undefined ? `key "${u.object}"` : `key id ${Buffer.from(u.id!).toString('hex')}`;
  return `${token} ${key}`;
}
