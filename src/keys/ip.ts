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

/**
 * One number of an IPv4 address as resolvers read it (inet_aton, the WHATWG URL host parser):
 * "0x" then hex digits (none: 0), "0" then octal digits, or decimal. null: not such a number.
 */
function ipv4Number(part: string): number | null {
  let radix = 10;
  let digits = part;
  if (part.startsWith('0x')) {
    radix = 16;
    digits = part.slice(2);
    if (digits === '') return 0;
  } else if (part.length > 1 && part.startsWith('0')) {
    radix = 8;
    digits = part.slice(1);
  }
  const re = radix === 16 ? /^[0-9a-f]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  return re.test(digits) ? parseInt(digits, radix) : null;
}

/**
 * The dotted quad a resolver makes of `parts` (1 to 4 numbers, the last filling the remaining
 * bytes: "127.1" is 127.0.0.1, "2130706433" too), or null.
 */
function lenientIpv4(parts: string[]): string | null {
  if (parts.length < 1 || parts.length > 4) return null;
  const nums = parts.map(ipv4Number);
  if (nums.some((n) => n === null)) return null;
  const last = nums.pop()!;
  if (nums.some((n) => n! > 255) || last >= 256 ** (4 - nums.length)) return null;
  const bytes = [...(nums as number[])];
  for (let i = 3 - nums.length; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes.join('.');
}

/**
 * Whether a would-be host name is written like an IP address, as a resolver or URL parser would
 * take it:
 *   IPv6   any ':' or a leading '[' (no DNS name holds either): brackets and a zone id ("%eth0",
 *          or "%25eth0" as in URLs) are dropped, since a certificate's iPAddress holds neither;
 *   IPv4   the last label (after one trailing dot) is all decimal digits, or a number in the
 *          lenient forms of ipv4Number ("0x7f"): the WHATWG URL standard's "ends in a number",
 *          under which the whole host is parsed as an address (RFC 1123 2.1 already keeps
 *          top-level labels from being all-numeric).
 * Returns null when not IP-shaped; else `address`, the text to pass as --ip (null when the host
 * looks like an address but is not a valid one).
 */
export function ipShapedHost(host: string): { address: string | null } | null {
  const h = host.toLowerCase();
  if (h.includes(':') || h.startsWith('[')) {
    const inner = /^\[(.*)\]$/.exec(h)?.[1] ?? h;
    const bare = inner.replace(/%(25)?[^%]*$/, '');
    return { address: bare !== '' && !bare.includes('[') && parseV6(bare) !== null ? bare : null };
  }
  const parts = h.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const last = parts[parts.length - 1]!;
  if (!/^[0-9]+$/.test(last) && ipv4Number(last) === null) return null;
  return { address: lenientIpv4(parts) };
}
