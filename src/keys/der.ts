/**
 * A small DER (ITU-T X.690 Distinguished Encoding Rules) encoder and reader: just what X.509
 * certificates need. node:crypto parses certificates but cannot build them, and sumkeep takes no
 * dependency for that.
 *
 * Encoding (every function returns one complete TLV):
 *   tag byte || length || content
 *   length: one byte 0..127; else 0x80|n followed by n big-endian bytes, minimal (no leading 0).
 *   INTEGER: two's complement, minimal (a leading 0x00 only when the next byte has its top bit set).
 *   BIT STRING: one byte "unused bits" count, then the bits.
 *   SET OF: the encoded elements sorted as byte strings (X.690 11.6).
 *
 * Reading is strict DER for the subset above: single-byte tags only, definite minimal lengths,
 * every length inside its parent. Anything else throws SumkeepError('bad_input'); no RangeError
 * escapes.
 */
import { compareBytes, concatBytes, utf8 } from '../core/bytes.ts';
import { SumkeepError } from '../core/errors.ts';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Largest content length the encoder writes or the reader accepts (16 MiB; certificates are ~1 KiB). */
export const MAX_DER_LENGTH = 1 << 24;
/** Most children `readChildren` returns for one constructed value. */
export const MAX_DER_CHILDREN = 10_000;

function lengthBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_DER_LENGTH) {
    throw new SumkeepError('bad_input', `der: content length ${n} out of range`);
  }
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.from([0x80 | out.length, ...out]);
}

/** One TLV with a single-byte tag. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new SumkeepError('bad_input', `der: unsupported tag ${tag}`);
  }
  return concatBytes(Uint8Array.of(tag), lengthBytes(content.length), content);
}

export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.SEQUENCE, concatBytes(...items));
}

/** SET OF: DER orders the elements by their encodings. */
export function setOf(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.SET, concatBytes(...[...items].sort(compareBytes)));
}

/** A non-negative INTEGER from big-endian unsigned bytes (leading zeros dropped, sign byte added). */
export function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = bytes.subarray(i);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0]! & 0x80) body = concatBytes(Uint8Array.of(0), body);
  return tlv(TAG.INTEGER, body);
}

/** A non-negative INTEGER from a JavaScript number or bigint. */
export function integer(n: number | bigint): Uint8Array {
  const v = BigInt(n);
  if (v < 0n) throw new SumkeepError('bad_input', 'der: negative integers are not supported');
  const bytes: number[] = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
  return unsignedInteger(Uint8Array.from(bytes));
}

export function boolean(v: boolean): Uint8Array {
  return tlv(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0x00));
}

export function nullValue(): Uint8Array {
  return tlv(TAG.NULL, new Uint8Array(0));
}

export function octetString(b: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, b);
}

/** BIT STRING holding whole bytes (unused-bits count 0): keys and signatures. */
export function bitString(b: Uint8Array): Uint8Array {
  return tlv(TAG.BIT_STRING, concatBytes(Uint8Array.of(0), b));
}

/**
 * BIT STRING of a NamedBitList (X.690 11.2.2): bit i is the i-th bit from the top of the first
 * byte; trailing zero bits are removed and the unused-bits count says how many of the last byte
 * are padding. No bit set encodes as the empty bit string.
 */
export function namedBits(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return tlv(TAG.BIT_STRING, Uint8Array.of(0));
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0 || b > 63) throw new SumkeepError('bad_input', `der: bad bit ${b}`);
  }
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (highest & 7);
  return tlv(TAG.BIT_STRING, concatBytes(Uint8Array.of(unused), bytes));
}

export function utf8String(s: string): Uint8Array {
  if (!s.isWellFormed()) throw new SumkeepError('bad_input', 'der: string is not valid Unicode');
  return tlv(TAG.UTF8_STRING, utf8(s));
}

/** IA5String (ASCII), as dNSName in subjectAltName. */
export function ia5String(s: string): Uint8Array {
  // eslint-disable-next-line no-control-regex
  if (!/^[\u0000-\u007f]*$/.test(s)) throw new SumkeepError('bad_input', 'der: IA5String must be ASCII');
  return tlv(TAG.IA5_STRING, utf8(s));
}

const OID_RE = /^(0|1|2)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** OBJECT IDENTIFIER from dotted decimal ("1.2.840.113549.1.1.10"); arcs of any size. */
export function oid(dotted: string): Uint8Array {
  if (!OID_RE.test(dotted) || dotted.length > 512) {
    throw new SumkeepError('bad_input', `der: malformed OID ${JSON.stringify(dotted)}`);
  }
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const [a0, a1] = [arcs[0]!, arcs[1]!];
  if (a0 < 2n && a1 > 39n) throw new SumkeepError('bad_input', `der: malformed OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...arcs.slice(2)]) {
    const groups: number[] = [];
    for (let x = arc; ; x >>= 7n) {
      groups.unshift(Number(x & 0x7fn));
      if (x < 0x80n) break;
    }
    for (let i = 0; i < groups.length - 1; i++) groups[i]! |= 0x80;
    out.push(...groups);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * An X.509 Time (RFC 5280 4.1.2.5): UTCTime "YYMMDDHHMMSSZ" for years 1950..2049, GeneralizedTime
 * "YYYYMMDDHHMMSSZ" otherwise; always UTC, whole seconds (milliseconds are dropped).
 */
export function time(ms: number): Uint8Array {
  const d = new Date(ms);
  if (!Number.isFinite(ms) || Number.isNaN(d.getTime())) throw new SumkeepError('bad_input', 'der: bad time');
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw new SumkeepError('bad_input', `der: year ${y} out of range`);
  const rest =
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z';
  return y < 2050
    ? tlv(TAG.UTC_TIME, utf8(pad(y % 100, 2) + rest))
    : tlv(TAG.GENERALIZED_TIME, utf8(pad(y, 4) + rest));
}

/** [n] EXPLICIT: a constructed context-specific tag around one complete TLV. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 30)
    throw new SumkeepError('bad_input', `der: bad tag number ${n}`);
  return tlv(0xa0 | n, inner);
}

/** [n] IMPLICIT on a primitive value: context-specific tag n with the given content bytes. */
export function implicitPrimitive(n: number, content: Uint8Array): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 30)
    throw new SumkeepError('bad_input', `der: bad tag number ${n}`);
  return tlv(0x80 | n, content);
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One decoded TLV. `raw` is the whole encoding (tag, length and content). */
export interface DerNode {
  tag: number;
  content: Uint8Array;
  raw: Uint8Array;
}

function malformed(what: string): SumkeepError {
  return new SumkeepError('bad_input', `malformed DER: ${what}`);
}

/** Reads the TLV at `offset` of `b`; returns it and the offset just after it. */
export function readTlv(b: Uint8Array, offset = 0): { node: DerNode; next: number } {
  if (!(b instanceof Uint8Array)) throw malformed('not bytes');
  if (offset + 2 > b.length) throw malformed('truncated header');
  const tag = b[offset]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tags are not supported');
  let len = b[offset + 1]!;
  let pos = offset + 2;
  if (len === 0x80) throw malformed('indefinite length');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw malformed('length too large');
    if (pos + n > b.length) throw malformed('truncated length');
    if (b[pos] === 0) throw malformed('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[pos + i]!;
    if (len < 0x80) throw malformed('non-minimal length');
    pos += n;
  }
  if (len > MAX_DER_LENGTH) throw malformed('length too large');
  if (pos + len > b.length) throw malformed('content runs past the end');
  return {
    node: { tag, content: b.subarray(pos, pos + len), raw: b.subarray(offset, pos + len) },
    next: pos + len,
  };
}

/** Reads exactly one TLV filling all of `b` (no trailing bytes). */
export function readDer(b: Uint8Array): DerNode {
  const { node, next } = readTlv(b, 0);
  if (next !== b.length) throw malformed('trailing bytes');
  return node;
}

/** The TLVs inside a constructed value (SEQUENCE, SET, [n] EXPLICIT). */
export function readChildren(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw malformed(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  for (let off = 0; off < node.content.length;) {
    if (out.length >= MAX_DER_CHILDREN) throw malformed('too many elements');
    const { node: child, next } = readTlv(node.content, off);
    out.push(child);
    off = next;
  }
  return out;
}

/** Checks the tag of `node` and returns it, for readable parsers. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw malformed(`missing ${what}`);
  if (node.tag !== tag)
    throw malformed(`${what}: tag 0x${node.tag.toString(16)}, want 0x${tag.toString(16)}`);
  return node;
}

/** Dotted decimal of an OBJECT IDENTIFIER's content. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0 || content.length > 256) throw malformed('OID length');
  const arcs: bigint[] = [];
  let v = 0n;
  let start = true;
  for (const byte of content) {
    if (start && byte === 0x80) throw malformed('OID arc not minimal');
    v = (v << 7n) | BigInt(byte & 0x7f);
    start = false;
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
      start = true;
    }
  }
  if (!start) throw malformed('OID truncated');
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Milliseconds since the epoch of a UTCTime or GeneralizedTime in the RFC 5280 form ("...Z"). */
export function decodeTime(node: DerNode): number {
  const s = String.fromCharCode(...node.content);
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
  } else if (
    node.tag === TAG.GENERALIZED_TIME &&
    (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))
  ) {
    year = Number(m[1]);
  } else {
    throw malformed('time is not in the RFC 5280 form');
  }
  const [mo, d, h, mi, sec] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, mo - 1, d, h, mi, sec);
  const back = new Date(ms);
  if (
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    sec > 59 ||
    back.getUTCFullYear() !== year
  ) {
    throw malformed('time out of range');
  }
  return ms;
}
