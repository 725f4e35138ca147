/**
 * yauzl over one open file descriptor, read on demand: the central directory entry by entry, and
 * each entry's local header; the entry's data is read here (readSmall, chunks) from the offset
 * yauzl finds and checks, and inflated by hash.ts, which counts every byte against the declared
 * size itself. Nothing holds more of the zip than a few read buffers, and those are reused: a
 * buffer per chunk or block left to the garbage collector was most of the peak RSS of hashing a
 * 200 MiB zip.
 *
 * yauzl is run with lazyEntries (one entry at a time), validateEntrySizes (a stored entry whose
 * compressed and uncompressed sizes differ is an error) and decodeStrings off: entry names stay raw
 * bytes, decoded by names.ts exactly as the go command reads them (strictFileNames only applies to
 * names yauzl decodes itself).
 *
 * The reader serves small reads (central directory records, local headers, small entries) from
 * two cached 64 KiB blocks, one for the central directory cursor and one for the entry data
 * cursor: a zip of many small files is then read with one system call per 64 KiB instead of three
 * or four per entry. Large entries are read in 1 MiB chunks into two more buffers, in turn. It
 * counts the bytes it reads from the file, for progress reports.
 */
import fs from 'node:fs';
import yauzl from 'yauzl';

/** Chunk size of large entries: large chunks keep per-chunk overhead (hash, crc, events) small. */
const READ_CHUNK = 1 << 20;
/** Size of a cached block, and the largest read served from the cache. */
export const BLOCK = 64 << 10;
const CACHED_BLOCKS = 2;

interface Block {
  start: number;
  /** The bytes read, a view of `buffer` (BLOCK bytes). */
  data: Buffer;
  buffer: Buffer;
}

type ReadCallback = (err: Error | null, bytesRead?: number) => void;

export class CountingFileReader extends yauzl.RandomAccessReader {
  /** Bytes read from the file so far (a few may be read twice). */
  bytesRead = 0;
  /** Most recently used first. */
  private blocks: Block[] = [];
  /** The two READ_CHUNK buffers of `chunks`, allocated on first use and kept for every entry. */
  private readonly streamBuffers: (Buffer | undefined)[] = [undefined, undefined];
  private streaming = false;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
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

  /**
   * Bytes [position, position + length) of the file, or fewer at its end; length <= 64 KiB. The
   * result is a view of a cached block, valid until the next read from this reader.
   */
  readSmall(position: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.cached(position, length, (err, got) => (err || got === undefined ? reject(err) : resolve(got)));
    });
  }

  /**
   * Bytes [start, start + length) of the file as chunks of up to READ_CHUNK bytes, read into two
   * buffers of this reader used in turn, so that streaming an entry allocates nothing per chunk:
   * a chunk is a view that stays valid only until the next one is asked for (while the consumer
   * works on one chunk, the next is read into the other buffer). One range at a time per reader.
   * Throws when the file ends before the range does.
   */
  async *chunks(start: number, length: number): AsyncGenerator<Buffer, void, undefined> {
    if (this.streaming) throw new Error('CountingFileReader.chunks: one range at a time');
    this.streaming = true;
    const end = start + length;
    let pos = start;
    const next = (i: number): Promise<Buffer> | null => {
      if (pos >= end) return null;
      this.streamBuffers[i] ??= Buffer.allocUnsafe(READ_CHUNK);
      const want = Math.min(READ_CHUNK, end - pos);
      const at = pos;
      pos += want;
      return this.readFully(this.streamBuffers[i]!.subarray(0, want), at);
    };
    let turn = 0;
    let pending = next(turn);
    try {
      while (pending !== null) {
        const chunk = await pending;
        turn ^= 1;
        pending = next(turn);
        yield chunk;
      }
    } finally {
      // A consumer that stops early leaves a read in flight: let it land before the descriptor
      // can be closed, and drop its outcome.
      await pending?.catch(() => undefined);
      this.streaming = false;
    }
  }

  /** Fills `buf` from `position`, however many reads it takes; throws at the end of the file. */
  private async readFully(buf: Buffer, position: number): Promise<Buffer> {
    let off = 0;
    while (off < buf.length) {
      const n = await new Promise<number>((resolve, reject) =>
        this.readDirect(buf, off, buf.length - off, position + off, (err, got = 0) =>
          err ? reject(err) : resolve(got),
        ),
      );
      if (n === 0) throw new Error('unexpected end of file');
      off += n;
    }
    return buf;
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
    // The least recently used block's buffer is read into again once the cache is full: views
    // of it handed out earlier are dead by now (every caller copies or uses its bytes before
    // asking for more), and a zip of many small files would otherwise allocate a buffer per block.
    const evicted = this.blocks.length >= CACHED_BLOCKS ? this.blocks.pop()! : null;
    const data = evicted?.buffer ?? Buffer.allocUnsafe(BLOCK);
    this.readDirect(data, 0, want, position, (err, n = 0) => {
      if (err) return callback(err);
      const block = { start: position, data: data.subarray(0, n), buffer: data };
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

/** Offset of an entry's data in the file (after its local header), as yauzl checks and finds it. */
export function entryDataStart(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<number> {
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, h) =>
      err ? reject(err) : resolve(h.fileDataStart),
    );
  });
}
