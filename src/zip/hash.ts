/**
 * Validate a module zip and compute its go.sum hash ("h1:", dirhash Hash1 over the zip entries) in
 * one streaming pass: the central directory is read entry by entry and each entry's content is
 * hashed (SHA-256) and checksummed (CRC-32) as it inflates. Memory holds a few read and inflate
 * buffers, reused for every entry (two 64 KiB blocks and two 1 MiB chunks in reader.ts, one 1 MiB
 * inflate output), one name and digest per entry, and the content of `<prefix>go.mod` (at most
 * 16 MiB), which callers need.
 *
 * Every rule of rules.ts is checked; the first broken one ends the pass with
 * SumkeepError('invalid_zip', '<rule>: <entry name>[ (<detail>)]'). Hash parity with the go
 * command: every entry is in the hash under its full name, directory entries included (hashed as
 * empty, as dirhash.HashZip does), sorted by the UTF-8 bytes of the names.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type yauzl from 'yauzl';
import { hash1, type FileDigest } from '../core/dirhash.ts';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { fsReason } from '../fs-reason.ts';
import { checkModuleVersion } from '../core/module.ts';
import { attributeKind } from './attrs.ts';
import { crc32 } from './crc32.ts';
import { foldKey } from './fold.ts';
import { INFLATE_CHUNK, createRawInflater } from './inflate.ts';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './limits.ts';
import {
  CollisionChecker,
  baseName,
  decodeName,
  filePathProblem,
  lossyName,
  nameShapeProblem,
  prefixOf,
} from './names.ts';
import { BLOCK, CountingFileReader, entryDataStart, nextEntry, openZipFile } from './reader.ts';
import { zipError, type RuleProblem, type ZipRule } from './rules.ts';

export interface ZipHashResult {
  /** The go.sum hash of the zip: "h1:" + base64 of 32 bytes. */
  h1: string;
  /** "M@V/" as written in the zip (module path and version unescaped); "" for a zip without entries hashed without a module. */
  prefix: string;
  /** Content of `<prefix>go.mod`, or null when the zip has none. */
  goMod: Uint8Array | null;
  /** File entries (directory entries are hashed but not counted). */
  files: number;
  /** Sum of the uncompressed sizes of the file entries. */
  bytes: number;
}

export interface HashZipOptions {
  /** Module path and version: the prefix must then be exactly `path@version/`. Give both or neither. */
  path?: string;
  version?: string;
  /** Called as the zip is read: bytes of the zip file read so far, and the zip file size. */
  onProgress?: (compressedBytesRead: number, totalCompressed: number) => void;
  /** Lower (or raise) the limits; defaults are the go command's (DEFAULT_ZIP_LIMITS). */
  limits?: Partial<ZipLimits>;
  /**
   * How messages name the zip; default `file`. The upstream passes the GOPROXY label
   * (`@v/v1.0.0.zip`): a temporary file's or a mirror's path must not reach a client or a log.
   */
  label?: string;
}

const EMPTY_SHA256 = new Uint8Array(createHash('sha256').digest());
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
/** Entries up to these sizes are read and inflated in one piece (see smallContent). */
const SMALL_COMPRESSED = BLOCK;
const SMALL_UNCOMPRESSED = 1 << 20;

/** Hash and validate the module zip at `file`. Throws invalid_zip for a zip that breaks a rule. */
export async function hashModuleZip(file: string, opts: HashZipOptions = {}): Promise<ZipHashResult> {
  const limits: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...opts.limits };
  let prefix: string | null = null;
  if (opts.path !== undefined || opts.version !== undefined) {
    if (opts.path === undefined || opts.version === undefined) {
      throw new SumkeepError(
        'bad_input',
        'hashModuleZip: give both the module path and the version, or neither',
      );
    }
    checkModuleVersion(opts.path, opts.version);
    prefix = `${opts.path}@${opts.version}/`;
  }

  const label = opts.label ?? file;
  const fd = await openFile(file, label);
  try {
    const st = await fstat(fd);
    if (!st.isFile()) throw new SumkeepError('bad_input', `${label} is not a regular file`);
    const size = st.size;
    if (size > limits.maxZipBytes) {
      throw zipError('zip too large', label, `${size} bytes, limit ${limits.maxZipBytes}`);
    }
    const reader = new CountingFileReader(fd, size);
    let zip: yauzl.ZipFile;
    try {
      zip = await openZipFile(reader, size);
    } catch (e) {
      if (isIoError(e)) throw ioError(e, label);
      throw zipError('not a zip file', label, messageOf(e), e);
    }
    try {
      const progress =
        opts.onProgress === undefined
          ? undefined
          : (): void => opts.onProgress?.(Math.min(reader.bytesRead, size), size);
      const pass = new ZipPass(zip, reader, prefix, limits, progress);
      const result = await pass.run();
      opts.onProgress?.(size, size);
      return result;
    } finally {
      zip.close();
    }
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

const fstat = promisify(fs.fstat);
const closeFd = promisify(fs.close);
const openFd = promisify(fs.open);

/**
 * System errors are described by fsReason and not kept as causes: their messages name the path,
 * and a cause's message is printed with the error wherever it is logged.
 */
async function openFile(file: string, label: string): Promise<number> {
  try {
    return await openFd(file, 'r');
  } catch (e) {
    throw new SumkeepError('bad_input', `cannot open ${label}: ${fsReason(e)}`);
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One validation and hashing pass over the entries of an open zip. */
class ZipPass {
  private readonly digests: FileDigest[] = [];
  private readonly collisions = new CollisionChecker();
  private entries = 0;
  private files = 0;
  private declaredTotal = 0;
  private bytes = 0;
  private goMod: Uint8Array | null = null;
  /** Output buffer of the inflater, shared by every large deflated entry of the pass. */
  private inflated: Buffer | undefined;

  constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly reader: CountingFileReader,
    private prefix: string | null,
    private readonly limits: ZipLimits,
    private readonly progress: (() => void) | undefined,
  ) {}

  async run(): Promise<ZipHashResult> {
    for (;;) {
      let entry: yauzl.Entry | null;
      try {
        entry = await nextEntry(this.zip);
      } catch (e) {
        throw this.directoryError(e);
      }
      if (entry === null) break;
      await this.entry(entry);
      this.progress?.();
    }
    return {
      h1: hash1(this.digests),
      prefix: this.prefix ?? '',
      goMod: this.goMod,
      files: this.files,
      bytes: this.bytes,
    };
  }

  /** An error yauzl raised while reading the central directory. */
  private directoryError(e: unknown): SumkeepError {
    if (isIoError(e)) return ioError(e);
    const msg = messageOf(e);
    // validateEntrySizes: a stored entry whose compressed and uncompressed sizes differ is caught
    // before yauzl hands out the entry, so only its position is known.
    if (msg.startsWith('compressed/uncompressed size mismatch')) {
      return zipError('size mismatch', `entry #${this.entries + 1}`, msg, e);
    }
    return zipError('not a zip file', `entry #${this.entries + 1}`, msg, e);
  }

  private async entry(entry: yauzl.Entry): Promise<void> {
    const raw = entry.fileNameRaw;
    const name = decodeName(raw);
    if (name === null) throw zipError('bad file path', lossyName(raw), 'name is not valid UTF-8');
    const refuse = (p: RuleProblem | ZipRule, detail?: string): never => {
      if (typeof p === 'string') throw zipError(p, name, detail);
      throw zipError(p.rule, name, p.detail);
    };

    this.entries++;
    if (this.entries > this.limits.maxFiles) refuse('too many files', `limit ${this.limits.maxFiles}`);
    if (entry.generalPurposeBitFlag & FLAG_ENCRYPTED) refuse('encrypted');
    if (entry.compressionMethod !== METHOD_STORE && entry.compressionMethod !== METHOD_DEFLATE) {
      refuse('unsupported compression', `method ${entry.compressionMethod}`);
    }
    const shape = nameShapeProblem(name);
    if (shape !== null) refuse(shape);
    const prefix = this.prefix ?? this.derivePrefix(name);
    if (!name.startsWith(prefix)) refuse('outside module prefix', `want ${prefix}`);

    const isDir = name.endsWith('/');
    const rel = name.slice(prefix.length, isDir ? -1 : undefined); // "" for the prefix's own entry
    const kind = attributeKind(entry.versionMadeBy, entry.externalFileAttributes);
    if (kind === 'symlink') refuse('symlink');
    if (kind === 'irregular')
      refuse('irregular file', `mode 0o${(entry.externalFileAttributes >>> 16).toString(8)}`);
    if (kind === 'dir' && !isDir) refuse('directory as file');
    if (rel !== '') {
      const fp = filePathProblem(rel);
      if (fp !== null) refuse(fp);
      const col = this.collisions.check(rel, isDir);
      if (col !== null) refuse(col);
    }

    if (isDir) {
      // Directories carry no data; Go (1.20+) refuses to read one that declares some, and hashes
      // the others as empty without reading them.
      if (entry.uncompressedSize !== 0) refuse('directory with content', `${entry.uncompressedSize} bytes`);
      this.digests.push({ name, sha256: EMPTY_SHA256 });
      return;
    }

    const base = baseName(rel);
    if (foldKey(base) === 'go.mod') {
      if (base !== rel) refuse('go.mod not at root');
      if (rel !== 'go.mod') refuse('go.mod name case');
    }
    const declared = entry.uncompressedSize;
    if (declared > this.limits.maxContentBytes - this.declaredTotal) {
      refuse('content too large', `more than ${this.limits.maxContentBytes} bytes uncompressed`);
    }
    this.declaredTotal += declared;
    if (rel === 'go.mod' && declared > this.limits.maxGoModBytes) {
      refuse('go.mod too large', `${declared} bytes, limit ${this.limits.maxGoModBytes}`);
    }
    if (rel === 'LICENSE' && declared > this.limits.maxLicenseBytes) {
      refuse('LICENSE too large', `${declared} bytes, limit ${this.limits.maxLicenseBytes}`);
    }

    const keep = rel === 'go.mod';
    const content = await this.readContent(entry, name, keep);
    this.digests.push({ name, sha256: content.sha256 });
    if (keep) this.goMod = content.kept;
    this.files++;
    this.bytes += declared;
  }

  private derivePrefix(name: string): string {
    const p = prefixOf(name);
    if (p === null) throw zipError('bad module prefix', name, 'first entry has no "<module>@<version>/"');
    try {
      checkModuleVersion(p.path, p.version);
    } catch (e) {
      if (!isSumkeepError(e)) throw e;
      throw zipError('bad module prefix', name, e.message, e);
    }
    this.prefix = p.prefix;
    return p.prefix;
  }

  /**
   * Inflate one entry, hashing and checksumming as it goes. Refuses as soon as more bytes than
   * declared come out, and at the end when fewer did or the CRC-32 differs. Like Go's
   * archive/zip, a declared CRC of 0 is not checked unless the entry has a data descriptor.
   */
  private async readContent(
    entry: yauzl.Entry,
    name: string,
    keep: boolean,
  ): Promise<{ sha256: Uint8Array; kept: Uint8Array | null }> {
    const declared = entry.uncompressedSize;
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let crc = 0;
    let n = 0;
    const take = (chunk: Buffer): void => {
      n += chunk.length;
      if (n > declared) throw zipError('size mismatch', name, `more than the declared ${declared} bytes`);
      hash.update(chunk);
      crc = crc32(chunk, crc);
      if (keep) kept.push(Buffer.from(chunk));
    };
    try {
      if (entry.compressedSize <= SMALL_COMPRESSED && declared <= SMALL_UNCOMPRESSED) {
        await this.smallContent(entry, take);
      } else {
        await this.streamContent(entry, (chunk) => {
          take(chunk);
          this.progress?.();
        });
      }
    } catch (e) {
      if (isSumkeepError(e)) throw e;
      throw this.dataError(e, name);
    }
    if (n !== declared) throw zipError('size mismatch', name, `${n} bytes, declared ${declared}`);
    const checkCrc = entry.crc32 !== 0 || (entry.generalPurposeBitFlag & FLAG_DATA_DESCRIPTOR) !== 0;
    if (checkCrc && crc !== entry.crc32) {
      throw zipError('crc mismatch', name, `crc32 ${hex32(crc)}, declared ${hex32(entry.crc32)}`);
    }
    return { sha256: new Uint8Array(hash.digest()), kept: keep ? new Uint8Array(Buffer.concat(kept)) : null };
  }

  /**
   * Streams a large entry through `take`: its data read in 1 MiB chunks into the reader's two
   * reused buffers (reader.ts chunks) and, for method 8, inflated into this pass's one reused
   * 1 MiB output buffer (inflate.ts). Nothing is allocated per chunk: garbage-collected buffers
   * were most of the peak RSS of hashing a large zip. A `take` that throws stops the reading.
   */
  private async streamContent(entry: yauzl.Entry, take: (chunk: Buffer) => void): Promise<void> {
    const start = await entryDataStart(this.zip, entry);
    const raw = this.reader.chunks(start, entry.compressedSize);
    if (entry.compressionMethod === METHOD_STORE) {
      for await (const chunk of raw) take(chunk);
      return;
    }
    await this.inflate(raw, take);
  }

  /**
   * The whole content of a small entry, read from the cached block and inflated in one piece
   * into the pass's output buffer: for entries of a few KiB, reading them through a stream costs
   * far more than the data (a zip of many small files is the common module). The local header is
   * checked by yauzl as for streamed entries; `take` refuses more bytes than declared.
   */
  private async smallContent(entry: yauzl.Entry, take: (chunk: Buffer) => void): Promise<void> {
    const start = await entryDataStart(this.zip, entry);
    const raw = await this.reader.readSmall(start, entry.compressedSize);
    if (raw.length !== entry.compressedSize) throw new Error('unexpected EOF');
    if (entry.compressionMethod === METHOD_STORE) return take(raw);
    await this.inflate([raw], take);
  }

  /** Inflates `chunks` (each may be reused once the next is asked for) through `take`. */
  private async inflate(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, take: (chunk: Buffer) => void) {
    this.inflated ??= Buffer.allocUnsafe(INFLATE_CHUNK);
    const inflater = createRawInflater(this.inflated);
    try {
      for await (const chunk of chunks) await inflater.write(chunk, take);
      await inflater.end(take);
    } finally {
      inflater.close();
    }
  }

  /** An error from opening or reading an entry's data. */
  private dataError(e: unknown, name: string): SumkeepError {
    if (isIoError(e)) return ioError(e);
    const msg = messageOf(e);
    return zipError('corrupt data', name, msg, e);
  }
}

/** A failed system call (EIO and the like): the disk's fault, not the zip's. */
function isIoError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

function ioError(e: NodeJS.ErrnoException, label = 'the zip'): SumkeepError {
  return new SumkeepError('bad_input', `cannot read ${label}: ${fsReason(e)}`);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
