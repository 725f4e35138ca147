// In-memory log for tlog tests: records are appended through storedHashes, exactly as a
// server would, and the stored hashes are kept in one array indexed by stored-hash index.
import { utf8 } from '../../../src/core/bytes.ts';
import { storedHashes, type Hash, type HashReader } from '../../../src/core/tlog/index.ts';

/** Record i of the Go reference vectors: "vectors record <i>\n". */
export function vectorRecord(i: number): Uint8Array {
  return utf8(`vectors record ${i}\n`);
}

export class MemLog {
  readonly hashes: Hash[] = [];
  readonly records: Uint8Array[] = [];
  /** Counts hash reads, so tests can check how much a function read. */
  reads = 0;

  readonly reader: HashReader = (indexes) =>
    indexes.map((x) => {
      this.reads++;
      const h = this.hashes[x];
      if (h === undefined) throw new Error(`memlog: no hash at index ${x}`);
      return h;
    });

  get size(): number {
    return this.records.length;
  }

  append(data: Uint8Array): void {
    const hs = storedHashes(this.records.length, data, this.reader);
    this.records.push(data);
    this.hashes.push(...hs);
  }

  /** Grows the log to n records of makeRecord(i). */
  growTo(n: number, makeRecord: (i: number) => Uint8Array = vectorRecord): this {
    while (this.records.length < n) this.append(makeRecord(this.records.length));
    return this;
  }
}

/** A copy of h with one bit flipped at byte i (mod 32). */
export function flipBit(h: Hash, i = 0): Hash {
  const c = h.slice();
  const j = i % c.length;
  c[j] = c[j]! ^ 1;
  return c;
}
