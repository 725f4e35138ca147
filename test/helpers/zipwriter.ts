/**
 * A minimal zip writer for tests and benchmarks: stored and deflated entries, written straight to a
 * file with positional writes (a streamed entry's local header is patched once its sizes are
 * known). It writes what it is told, so it can also write broken zips: lying sizes and CRCs,
 * symlink and device modes, encryption flags, unknown methods, arbitrary name bytes, raw data.
 *
 * Layout per entry: local file header (30 bytes + name), data, and at the end one central
 * directory record (46 bytes + name) per entry and the end-of-central-directory record (22 bytes).
 * No zip64: every size and offset must stay below 4 GiB, and at most 65,535 entries.
 */
import { createCipheriv } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { crc32 } from '../../src/zip/crc32.ts';

export interface ZipEntrySpec {
  /** Entry name: a string (written as UTF-8) or raw bytes. A trailing "/" makes a directory entry. */
  name: string | Uint8Array;
  /** File content (default empty). Ignored when `data` is given. */
  content?: string | Uint8Array;
  /** 0 store, 8 deflate; default 8 for non-empty content, 0 otherwise. Any number is written as is. */
  method?: number;
  /** Raw entry data as stored in the zip (already compressed, or garbage); skips compression. */
  data?: Uint8Array;
  /** Unix st_mode with type bits (0o100644, 0o120777 for a symlink, ...): made-by Unix, mode in the high 16 bits. */
  unixMode?: number;
  /** Raw "version made by" and external attributes (override unixMode). */
  versionMadeBy?: number;
  externalAttrs?: number;
  /** Extra general-purpose flags, e.g. 0x1 (encrypted) or 0x8 (data descriptor). */
  flags?: number;
  /** Set the UTF-8 name flag (0x800); default: when the name has non-ASCII bytes, as Go's writer does. */
  utf8Flag?: boolean;
  /** Deflate level of a streamed entry (addStream, method 8); default 6. */
  level?: number;
  /** Declared values, overriding the true ones in both headers. */
  crc?: number;
  size?: number;
  compressedSize?: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const VERSION = 20;
const CREATOR_UNIX = 3;
// 2020-01-01 00:00:00 in MS-DOS time and date.
const DOS_TIME = 0;
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;

interface CentralRecord {
  name: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  versionMadeBy: number;
  externalAttrs: number;
  offset: number;
}

function bytesOf(s: string | Uint8Array | undefined): Uint8Array {
  if (s === undefined) return new Uint8Array(0);
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

export class ZipWriter {
  private pos: number;
  private readonly central: CentralRecord[] = [];
  private closed = false;
  private readonly fd: number;

  /**
   * Opens `file` for writing (truncating it). `offset` leaves a hole of that many bytes before the
   * first entry (a sparse file: a cheap way to make a zip larger than a limit).
   */
  constructor(
    readonly file: string,
    opts: { offset?: number } = {},
  ) {
    this.fd = fs.openSync(file, 'w');
    this.pos = opts.offset ?? 0;
  }

  /** Adds one entry whose content is in memory. */
  add(spec: ZipEntrySpec): void {
    const content = bytesOf(spec.content);
    const method = spec.method ?? (content.length > 0 ? 8 : 0);
    const data = spec.data ?? (method === 8 ? zlib.deflateRawSync(content) : content);
    const header = this.header(spec, method);
    const localOffset = this.pos;
    const rec: CentralRecord = {
      ...header,
      crc: spec.crc ?? crc32(content),
      csize: spec.compressedSize ?? data.length,
      usize: spec.size ?? content.length,
      offset: localOffset,
    };
    this.writeLocal(rec);
    this.write(data);
    this.central.push(rec);
  }

  /**
   * Adds one entry whose content comes from `source`, deflated (method 8, default) or stored as it
   * streams; only one chunk is in memory at a time.
   */
  async addStream(
    spec: ZipEntrySpec,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<void> {
    const method = spec.method ?? 8;
    const header = this.header(spec, method);
    const localOffset = this.pos;
    const rec: CentralRecord = { ...header, crc: 0, csize: 0, usize: 0, offset: localOffset };
    this.writeLocal(rec); // placeholder sizes, patched below
    const dataStart = this.pos;
    let crc = 0;
    let usize = 0;
    if (method === 8) {
      const deflate = zlib.createDeflateRaw({ level: spec.level ?? 6, chunkSize: 1 << 20 });
      const drain = (async () => {
        for await (const out of deflate as AsyncIterable<Buffer>) this.write(out);
      })();
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        usize += chunk.length;
        if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
      }
      deflate.end();
      await drain;
    } else {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        usize += chunk.length;
        this.write(chunk);
      }
    }
    rec.crc = spec.crc ?? crc;
    rec.usize = spec.size ?? usize;
    rec.csize = spec.compressedSize ?? this.pos - dataStart;
    const end = this.pos;
    this.pos = localOffset;
    this.writeLocal(rec);
    this.pos = end;
    this.central.push(rec);
  }

  /** Writes the central directory and the end record, and closes the file. */
  close(opts: { comment?: string } = {}): void {
    if (this.closed) return;
    this.closed = true;
    const cdStart = this.pos;
    for (const r of this.central) {
      const b = Buffer.alloc(46);
      b.writeUInt32LE(SIG_CENTRAL, 0);
      b.writeUInt16LE(r.versionMadeBy, 4);
      b.writeUInt16LE(VERSION, 6);
      b.writeUInt16LE(r.flags, 8);
      b.writeUInt16LE(r.method, 10);
      b.writeUInt16LE(DOS_TIME, 12);
      b.writeUInt16LE(DOS_DATE, 14);
      b.writeUInt32LE(r.crc >>> 0, 16);
      b.writeUInt32LE(r.csize, 20);
      b.writeUInt32LE(r.usize, 24);
      b.writeUInt16LE(r.name.length, 28);
      b.writeUInt16LE(0, 30); // extra
      b.writeUInt16LE(0, 32); // comment
      b.writeUInt16LE(0, 34); // disk
      b.writeUInt16LE(0, 36); // internal attributes
      b.writeUInt32LE(r.externalAttrs >>> 0, 38);
      b.writeUInt32LE(r.offset, 42);
      this.write(b);
      this.write(r.name);
    }
    const comment = bytesOf(opts.comment);
    const e = Buffer.alloc(22);
    e.writeUInt32LE(SIG_END, 0);
    e.writeUInt16LE(0, 4);
    e.writeUInt16LE(0, 6);
    e.writeUInt16LE(this.central.length, 8);
    e.writeUInt16LE(this.central.length, 10);
    e.writeUInt32LE(this.pos - cdStart, 12);
    e.writeUInt32LE(cdStart, 16);
    e.writeUInt16LE(comment.length, 20);
    this.write(e);
    this.write(comment);
    fs.closeSync(this.fd);
  }

  private header(
    spec: ZipEntrySpec,
    method: number,
  ): Pick<CentralRecord, 'name' | 'flags' | 'method' | 'versionMadeBy' | 'externalAttrs'> {
    const name = bytesOf(spec.name);
    const nonAscii = name.some((c) => c >= 0x80);
    const flags = (spec.flags ?? 0) | ((spec.utf8Flag ?? nonAscii) ? 0x800 : 0);
    let versionMadeBy = VERSION;
    let externalAttrs = 0;
    if (spec.unixMode !== undefined) {
      versionMadeBy = (CREATOR_UNIX << 8) | VERSION;
      externalAttrs = (spec.unixMode << 16) >>> 0;
    }
    return {
      name,
      flags,
      method,
      versionMadeBy: spec.versionMadeBy ?? versionMadeBy,
      externalAttrs: spec.externalAttrs ?? externalAttrs,
    };
  }

  private writeLocal(r: CentralRecord): void {
    const b = Buffer.alloc(30);
    b.writeUInt32LE(SIG_LOCAL, 0);
    b.writeUInt16LE(VERSION, 4);
    b.writeUInt16LE(r.flags, 6);
    b.writeUInt16LE(r.method, 8);
    b.writeUInt16LE(DOS_TIME, 10);
    b.writeUInt16LE(DOS_DATE, 12);
    b.writeUInt32LE(r.crc >>> 0, 14);
    b.writeUInt32LE(r.csize, 18);
    b.writeUInt32LE(r.usize, 22);
    b.writeUInt16LE(r.name.length, 26);
    b.writeUInt16LE(0, 28);
    this.write(b);
    this.write(r.name);
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += fs.writeSync(this.fd, b, off, b.length - off, this.pos + off);
    this.pos += b.length;
  }
}

/** Writes a whole zip of in-memory entries to `file`. */
export function writeZip(
  file: string,
  entries: readonly ZipEntrySpec[],
  opts: { offset?: number; comment?: string } = {},
): string {
  const w = new ZipWriter(file, { offset: opts.offset });
  try {
    for (const e of entries) w.add(e);
  } finally {
    w.close({ comment: opts.comment });
  }
  return file;
}

/** Entries for a module zip: each file name gets the `path@version/` prefix. */
export function moduleEntries(
  path: string,
  version: string,
  files: Record<string, string | Uint8Array>,
): ZipEntrySpec[] {
  return Object.entries(files).map(([name, content]) => ({ name: `${path}@${version}/${name}`, content }));
}

/**
 * A deflate stream (raw, as stored in a zip) of `chunk` repeated `times` times, built in
 * O(size of chunk): the chunk is compressed once with a full flush (byte-aligned, no references
 * into earlier data), repeated, and closed with an empty final block. Also returns the CRC-32 and
 * size of the whole inflated content, for a zip entry of any size that costs almost nothing to make.
 */
export function repeatedDeflate(
  chunk: Uint8Array,
  times: number,
): { data: Buffer; crc: number; size: number } {
  const block = zlib.deflateRawSync(chunk, { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const parts: Buffer[] = [];
  let crc = 0;
  for (let i = 0; i < times; i++) {
    parts.push(block);
    crc = crc32(chunk, crc);
  }
  // BFINAL=1, BTYPE=01 (fixed Huffman), end-of-block code 0000000: bits 1,1,0 then 7 zero bits.
  parts.push(Buffer.from([0x03, 0x00]));
  return { data: Buffer.concat(parts), crc, size: chunk.length * times };
}

/**
 * `totalBytes` of incompressible content in 1 MiB chunks: the AES-128-CTR keystream of a key made
 * from `seed`, so the same seed always gives the same bytes (and deflate cannot shrink them).
 */
export function* incompressible(totalBytes: number, seed = 1): Generator<Buffer> {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed >>> 0);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1 << 20);
  for (let left = totalBytes; left > 0; left -= zeros.length) {
    yield cipher.update(zeros.subarray(0, Math.min(zeros.length, left)));
  }
}
