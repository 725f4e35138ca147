/**
 * CRC-32 (IEEE 802.3, the zip checksum), continued from `prev` over `data`. Uses node:zlib's
 * native crc32 (Node >= 20.15); on older Node falls back to a table-driven implementation that
 * gives the same values.
 */
import zlib from 'node:zlib';

type Crc32Fn = (data: Uint8Array, prev?: number) => number;

let table: Uint32Array | null = null;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Bitwise reference implementation (reflected polynomial 0xEDB88320). Exported for tests. */
export function crc32Portable(data: Uint8Array, prev = 0): number {
  table ??= makeTable();
  let c = ~prev >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

export const crc32: Crc32Fn =
  typeof native === 'function' ? (data, prev = 0) => native(data, prev) >>> 0 : crc32Portable;
