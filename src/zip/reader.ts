/**
 * yauzl over one open file descriptor, read on demand: the central directory entry by entry, each
 * entry's bytes as a stream. Nothing holds more of the zip than a few read buffers.
 *
 * yauzl is run with lazyEntries (one entry at a time), validateEntrySizes (a stored entry whose
 * compressed and uncompressed sizes differ is an error) and decodeStrings off: entry names stay raw
 * bytes, decoded by names.ts exactly as the go command reads them (strictFileNames only applies to
 * names yauzl decodes itself). Entry data is taken raw from yauzl and inflated by hash.ts, which
 * counts every byte against the declared size itself.
 *
 * The reader serves small reads (central directory records, local headers, small entries) from
 * two cached 64 KiB blocks, one for the central directory cursor and one for the entry data
 * cursor: a zip of many small files is then read with one system call per 64 KiB instead of three
 * or four per entry. It counts the bytes it reads from the file, for progress reports.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** Chunk size of entry streams: large chunks keep per-chunk overhead (hash, crc, events) small. */
const READ_CHUNK = 1 << 20;
/** Size of a cached block, and the largest read served from the cache. */
export const BLOCK = 64 << 10;
const CACHED_BLOCKS = 2;

interface Block {
  start: number;
  data: Buffer;
}

type ReadCallback = (err: Error | null, bytesRead?: number) => void;

export class CountingFileReader extends yauzl.RandomAccessReader {
  /** Bytes read from the file so far (a few may be read twice). */
  bytesRead = 0;
  /** Most recently used first. */
  private blocks: Block[] = [];

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return new RangeStream(this, start, end);
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: ReadCallback,
  ): void {
    if (length > BLOCK) {
      this.readDirect(buffer, offset, length, position, callback);
      return;
    }
    this.cached(position, length, (err, got) => {
      if (err || got === undefined) return callback(err ?? new Error('read failed'));
      got.copy(buffer, offset);
      callback(null, got.length);
    });
  }

  /** Bytes [position, position + length) of the file, or fewer at its end; length <= 64 KiB. */
  readSmall(position: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.cached(position, length, (err, got) => (err || got === undefined ? reject(err) : resolve(got)));
    });
  }

  /** The descriptor belongs to whoever opened it (hashModuleZip closes it); nothing to do here. */
  override close(callback: (err: Error | null) => void): void {
    setImmediate(() => callback(null));
  }

  /** Direct positional read, counted. */
  readDirect(buffer: Buffer, offset: number, length: number, position: number, callback: ReadCallback): void {
    fs.read(this.fd, buffer, offset, length, position, (err, n) => {
      if (err) return callback(err);
      this.bytesRead += n;
      callback(null, n);
    });
  }

  /** A view of the cached bytes at [position, position + length), loading a block when needed. */
  private cached(
    position: number,
    length: number,
    callback: (err: Error | null, got?: Buffer) => void,
  ): void {
    const hit = this.lookup(position, length);
    if (hit !== undefined) {
      process.nextTick(callback, null, hit);
      return;
    }
    const want = Math.max(0, Math.min(BLOCK, this.size - position));
    if (want === 0) {
      process.nextTick(callback, null, Buffer.alloc(0));
      return;
    }
    const data = Buffer.allocUnsafe(want);
    this.readDirect(data, 0, want, position, (err, n = 0) => {
      if (err) return callback(err);
      const block = { start: position, data: data.subarray(0, n) };
      this.blocks = [block, ...this.blocks].slice(0, CACHED_BLOCKS);
      callback(null, block.data.subarray(0, Math.min(length, n)));
    });
  }

  private lookup(position: number, length: number): Buffer | undefined {
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      const end = b.start + b.data.length;
      // A hit needs the whole range in the block, or the block to reach the end of the file.
      if (position >= b.start && (position + length <= end || end === this.size) && position <= end) {
        if (i > 0) this.blocks = [b, ...this.blocks.filter((x) => x !== b)];
        return b.data.subarray(position - b.start, Math.min(position + length, end) - b.start);
      }
    }
    return undefined;
  }
}

/**
 * Bytes [start, end) of the reader's file. Not fs.createReadStream({fd}): destroying that stream
 * (which yauzl does when an entry stream is done) closes the shared descriptor.
 */
class RangeStream extends Readable {
  private pos: number;

  constructor(
    private readonly reader: CountingFileReader,
    start: number,
    private readonly end: number,
  ) {
    super({ highWaterMark: READ_CHUNK });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(READ_CHUNK, this.end - this.pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(want);
    this.reader.readDirect(buf, 0, want, this.pos, (err, n = 0) => {
      if (err) {
        this.destroy(err);
      } else if (n === 0) {
        this.destroy(new Error('unexpected end of file'));
      } else {
        this.pos += n;
        this.push(n === want ? buf : buf.subarray(0, n));
      }
    });
  }
}

export function openZipFile(reader: CountingFileReader, size: number): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
      size,
      {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: true,
        strictFileNames: true,
      },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

/** The next central directory entry, or null at the end. */
export function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry): void => {
      cleanup();
      resolve(e);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/**
 * An entry's data exactly as stored (compressed for method 8), as yauzl finds it: after checking
 * the local header, and never past the end of the file.
 */
export function openRawStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, { decodeFileData: false }, (err, stream) =>
      err ? reject(err) : resolve(stream),
    );
  });
}

/** Offset of an entry's data in the file (after its local header), as yauzl checks and finds it. */
export function entryDataStart(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<number> {
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, h) =>
      err ? reject(err) : resolve(h.fileDataStart),
    );
  });
}
