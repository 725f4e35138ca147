/** Small byte helpers shared by the pure core. */

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a JavaScript string (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decode UTF-8 strictly, keeping a leading byte-order mark; null for invalid UTF-8 instead of throwing. */
export function decodeUtf8(b: Uint8Array): string | null {
  try {
    return strictDecoder.decode(b);
  } catch {
    return null;
  }
}

/** True when a JavaScript string holds a lone (unpaired) surrogate and so is not valid Unicode. */
export function hasLoneSurrogate(s: string): boolean {
  return !s.isWellFormed();
}

/** Compare two byte strings lexicographically (memcmp order); negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Standard padded base64 (RFC 4648 section 4), as Go's base64.StdEncoding writes it. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict standard padded base64 decode: returns null for anything Go's StdEncoding would refuse
 * (wrong alphabet, missing padding, whitespace) or for non-canonical trailing bits.
 */
export function fromBase64(s: string): Uint8Array | null {
  if (!BASE64_RE.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  // Reject non-canonical encodings (non-zero unused bits): re-encoding must give the input back.
  if (b.toString('base64') !== s) return null;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
