/**
 * Raw deflate (RFC 1951, zip method 8) inflated into one output buffer that the caller owns and
 * that is reused for every piece of output.
 *
 * Why not a zlib stream: zlib.createInflateRaw() allocates a fresh output buffer each time one
 * fills, so inflating a 200 MiB entry leaves 200 MiB of buffers to the garbage collector, and V8
 * collects young array buffers only once about 32 MiB of them pile up (twice its 16 MiB semi-space;
 * see `--trace-gc`: "Scavenge ... external memory pressure"). That lag was most of what hashing a
 * large zip added to the peak RSS. node:zlib has no public call that inflates into a given
 * buffer, so HandleInflater drives a zlib stream's native handle the way zlib.inflateRawSync does
 * itself (lib/zlib.js processChunkSync):
 *
 *   handle.writeSync(flush, input, inOff, inLen, output, outOff, outLen)
 *   stream._writeState = Uint32Array [availOutAfter, availInAfter]
 *
 * A zlib error closes the handle (the stream is destroyed, `stream.errored` set, synchronously),
 * so the handle is looked up again before every call and never used after an error. The handle
 * and the write state are checked when an inflater is made; on a Node without them
 * `createRawInflater` falls back to StreamInflater, which inflates through the public stream API
 * (correct, but with the allocation lag above).
 *
 * Both run zlib with the same inputs and report the same outcomes: output in order, input after
 * the end of the deflate stream ignored (as zlib streams do), `end` throwing "unexpected end of
 * file" for a stream cut short, zlib's own errors (code Z_DATA_ERROR, ...) for corrupt data.
 */
import { finished } from 'node:stream';
import zlib from 'node:zlib';

/** Receives each piece of output: a view that is valid only until `take` returns. */
export type Take = (out: Buffer) => void;

export interface RawInflater {
  /**
   * Inflates `input`, passing the output to `take`. The caller may reuse `input` once the promise
   * resolves. An error thrown by `take` rejects the promise and stops the inflater.
   */
  write(input: Uint8Array, take: Take): Promise<void>;
  /** The input is complete: passes the rest of the output; rejects when the stream is cut short. */
  end(take: Take): Promise<void>;
  /** Frees zlib's state; safe to call more than once and after an error. */
  close(): void;
}

/** Default size of the output buffer (one `take` gets at most this much). */
export const INFLATE_CHUNK = 1 << 20;
/** HandleInflater lets other work run (setImmediate) after about this much output. */
const YIELD_EVERY = 4 << 20;

interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    output: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
}

interface ZlibInternals {
  _handle?: ZlibHandle | null;
  _writeState?: unknown;
}

const EMPTY = new Uint8Array(0);
const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function internals(stream: zlib.InflateRaw): { state: Uint32Array } | null {
  const s = stream as unknown as ZlibInternals;
  const ok =
    typeof s._handle?.writeSync === 'function' &&
    s._writeState instanceof Uint32Array &&
    s._writeState.length === 2;
  return ok ? { state: s._writeState as Uint32Array } : null;
}

/** Inflates through a zlib stream's handle into `output` (see the file comment). */
export class HandleInflater implements RawInflater {
  private readonly stream: zlib.InflateRaw;
  private readonly state: Uint32Array;
  private done = false;
  private sinceYield = 0;

  /** Throws when this Node's zlib streams lack the handle (createRawInflater checks first). */
  constructor(private readonly output: Buffer = Buffer.allocUnsafe(INFLATE_CHUNK)) {
    // The stream's own output buffer is never used: make it the smallest zlib allows.
    this.stream = zlib.createInflateRaw({ chunkSize: zlib.constants.Z_MIN_CHUNK });
    // A zlib error is also emitted as 'error' on the next tick; it is reported from `errored`.
    this.stream.on('error', () => undefined);
    const inner = internals(this.stream);
    if (inner === null) {
      this.stream.destroy();
      throw new Error('this Node has no zlib handle to inflate through');
    }
    this.state = inner.state;
  }

  write(input: Uint8Array, take: Take): Promise<void> {
    return this.run(input, zlib.constants.Z_NO_FLUSH, take);
  }

  end(take: Take): Promise<void> {
    return this.run(EMPTY, zlib.constants.Z_FINISH, take);
  }

  close(): void {
    this.done = true;
    this.stream.destroy();
  }

  private async run(input: Uint8Array, flush: number, take: Take): Promise<void> {
    let inOff = 0;
    let inLen = input.length;
    while (!this.done) {
      const handle = (this.stream as unknown as ZlibInternals)._handle;
      if (handle == null) throw this.stream.errored ?? new Error('inflater is closed');
      const outLen = this.output.length;
      handle.writeSync(flush, input, inOff, inLen, this.output, 0, outLen);
      if (this.stream.errored) {
        this.done = true;
        throw this.stream.errored;
      }
      const availOut = this.state[0]!;
      const availIn = this.state[1]!;
      inOff += inLen - availIn;
      inLen = availIn;
      const have = outLen - availOut;
      if (have > 0) {
        try {
          take(this.output.subarray(0, have));
        } catch (e) {
          this.done = true;
          throw e;
        }
        this.sinceYield += have;
      }
      if (availOut === 0) {
        // The output buffer filled: there may be more. Let other work in between now and then.
        if (this.sinceYield >= YIELD_EVERY) {
          this.sinceYield = 0;
          await immediate();
        }
        continue;
      }
      // Room left in the output: zlib wants more input, or the deflate stream has ended (then it
      // leaves input unread, or this was the final flush, which zlib accepts only at the end).
      if (inLen > 0 || flush === zlib.constants.Z_FINISH) this.done = true;
      return;
    }
  }
}

/** Inflates through the public zlib stream API (the fallback; allocates its output). */
export class StreamInflater implements RawInflater {
  private readonly stream = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK });
  private take: Take | null = null;
  private failed: unknown = null;

  constructor() {
    this.stream.on('data', (out: Buffer) => {
      if (this.failed !== null) return;
      try {
        this.take?.(out);
      } catch (e) {
        this.failed = e;
        this.stream.destroy();
      }
    });
    // Errors are reported by the promises below ('close' follows every 'error').
    this.stream.on('error', () => undefined);
  }

  async write(input: Uint8Array, take: Take): Promise<void> {
    this.take = take;
    // The callback runs once zlib has consumed the chunk (and pushed what it made of it); a zlib
    // error or a failed `take` destroys the stream instead, and the callback never runs.
    await new Promise<void>((resolve, reject) => {
      const gone = (): void => reject(this.failure());
      this.stream.once('close', gone);
      this.stream.write(input, (err) => {
        this.stream.off('close', gone);
        if (err) reject(this.failure(err));
        else resolve();
      });
    });
    if (this.failed !== null) throw this.failed;
  }

  async end(take: Take): Promise<void> {
    this.take = take;
    await new Promise<void>((resolve, reject) => {
      finished(this.stream, (err) => (err || this.failed !== null ? reject(this.failure(err)) : resolve()));
      this.stream.end();
    });
  }

  close(): void {
    this.stream.destroy();
  }

  private failure(err?: unknown): unknown {
    return this.failed ?? this.stream.errored ?? err ?? new Error('inflater is closed');
  }
}

let handleWorks: boolean | null = null;

/** True when this Node's zlib streams have the handle HandleInflater needs. */
export function handleInflateAvailable(): boolean {
  if (handleWorks === null) {
    const probe = zlib.createInflateRaw({ chunkSize: zlib.constants.Z_MIN_CHUNK });
    handleWorks = internals(probe) !== null;
    probe.destroy();
  }
  return handleWorks;
}

/** A HandleInflater writing into `output` when this Node allows it, else a StreamInflater. */
export function createRawInflater(output?: Buffer): RawInflater {
  return handleInflateAvailable() ? new HandleInflater(output) : new StreamInflater();
}
