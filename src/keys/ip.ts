/**
 * IP address text to bytes, for the iPAddress entries of subjectAltName (4 bytes for IPv4, 16 for
 * IPv6, RFC 5280 4.2.1.6). Written here rather than taken from node:net so that the ceremony code
 * imports no networking module at all.
 */

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(s: string): Uint8Array | null {
  if (!V4_RE.test(s)) return null;
  return Uint8Array.from(s.split('.').map(Number));
}

function parseGroups(s: string): number[] | null {
  if (s === '') return [];
  const out: number[] = [];
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  if (s.length > 45) return null;
  let text = s;
  let tail: number[] = [];
  // An IPv4 dotted quad may end the address ("::ffff:192.0.2.1"): it is the last two groups.
  if (text.includes('.')) {
    const i = text.lastIndexOf(':');
    const v4 = parseV4(text.slice(i + 1));
    if (v4 === null) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, i + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const parts = text.split('::');
  if (parts.length > 2) return null;
  let groups: number[];
  if (parts.length === 2) {
    const head = parseGroups(parts[0]!);
    const rest = parseGroups(parts[1]!);
    if (head === null || rest === null) return null;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    const all = parseGroups(parts[0]!);
    if (all === null) return null;
    groups = [...all, ...tail];
  }
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** The bytes of an IPv4 (dotted quad) or IPv6 (RFC 4291 text, no zone) address, or null. */
export function parseIpAddress(s: string): Uint8Array | null {
  if (typeof s !== 'string') return null;
  return s.includes(':') ? parseV6(s) : parseV4(s);
}
