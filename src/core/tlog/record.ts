/**
 * Record texts and their two framings: the lookup response ("<id>\n<text>\n", then the note)
 * and data tiles (each text followed by "\n", no ids).
 *
 * A record text is valid UTF-8, non-empty, ends in "\n", has no empty line (so "\n\n" can
 * frame it) and no control character below U+0020 other than "\n". Go's isValidRecordText
 * accepts a text whose first line is empty ("\n..."); sumkeep does not, so that every line of a
 * record is non-empty. Texts are at most MAX_RECORD_TEXT bytes.
 */
import { decodeUtf8, utf8 } from '../bytes.ts';
import { SumkeepError } from '../errors.ts';
import { isIndex } from './int.ts';

/** Upper bound on one record text; a go.sum record is two lines of a few hundred bytes. */
export const MAX_RECORD_TEXT = 64 * 1024;

/** Default bound on records in one data tile: 2^8, the tile height sumkeep serves. */
export const DEFAULT_MAX_DATA_TILE_RECORDS = 256;

const LF = 0x0a;

/** The reason text is not a valid record text, or null when it is. */
function recordTextProblem(text: Uint8Array): string | null {
  if (!(text instanceof Uint8Array)) return 'not bytes';
  if (text.length === 0) return 'empty';
  if (text.length > MAX_RECORD_TEXT) return `longer than ${MAX_RECORD_TEXT} bytes`;
  if (text[text.length - 1] !== LF) return 'no final newline';
  let prev = LF; // a newline "before" the text makes a leading "\n" an empty line
  for (const b of text) {
    if (b === LF) {
      if (prev === LF) return 'empty line';
    } else if (b < 0x20) {
      return 'control character';
    }
    prev = b;
  }
  // Control characters are single bytes in UTF-8, so checking bytes above and the whole text
  // here is the same as Go's rune-by-rune check.
  if (decodeUtf8(text) === null) return 'invalid UTF-8';
  return null;
}

/** Throws `malformed_record` unless text is a valid record text (see above). */
export function checkRecordText(text: Uint8Array): void {
  const problem = recordTextProblem(text);
  if (problem !== null) throw new SumkeepError('malformed_record', `malformed record data: ${problem}`);
}

/**
 * "<id>\n<text>\n": the record part of a lookup response, which the note follows.
 * Throws `malformed_record` for an invalid text or an id outside 0..2^53-1.
 */
export function formatRecord(id: number, text: Uint8Array): Uint8Array {
  if (!isIndex(id)) throw new SumkeepError('malformed_record', `malformed record id ${String(id)}`);
  checkRecordText(text);
  const head = utf8(`${id}\n`);
  const out = new Uint8Array(head.length + text.length + 1);
  out.set(head, 0);
  out.set(text, head.length);
  out[out.length - 1] = LF;
  return out;
}

function indexOfBlankLine(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === LF && b[i + 1] === LF) return i;
  return -1;
}

const ID_RE = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Parses the record at the start of msg: the id line, then the text up to and including the
 * newline before the first empty line; `rest` is everything after that empty line (in a lookup
 * response, the signed note). The id must be canonical decimal (no sign, no leading zeros) and
 * at most 2^53-1, stricter than Go's strconv.ParseInt. Throws `malformed_record`.
 */
export function parseRecord(msg: Uint8Array): { id: number; text: Uint8Array; rest: Uint8Array } {
  const bad = (why: string) => new SumkeepError('malformed_record', `malformed record data: ${why}`);
  if (!(msg instanceof Uint8Array)) throw bad('not bytes');
  const nl = msg.subarray(0, 18).indexOf(LF);
  if (nl < 0) throw bad('no record id line');
  let idText = '';
  for (const b of msg.subarray(0, nl)) idText += String.fromCharCode(b);
  if (!ID_RE.test(idText) || !Number.isSafeInteger(Number(idText))) throw bad('bad record id');
  const blank = indexOfBlankLine(msg, nl + 1);
  if (blank < 0) throw bad('no blank line after the record');
  const text = msg.slice(nl + 1, blank + 1);
  checkRecordText(text);
  return { id: Number(idText), text, rest: msg.slice(blank + 2) };
}

/**
 * A data tile's bytes: each record text followed by one "\n" (so each ends in "\n\n"), with no
 * record ids, as sum.golang.org serves them. (x/mod v0.7.0's reference server.go instead
 * writes formatRecord(id, text) per record; the go command never reads data tiles.)
 * Throws `malformed_record` for an invalid text, `malformed_tile` for an empty list.
 */
export function formatDataTile(texts: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(texts) || texts.length === 0) {
    throw new SumkeepError('malformed_tile', 'a data tile holds at least one record');
  }
  let size = 0;
  for (const t of texts) {
    checkRecordText(t);
    size += t.length + 1;
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const t of texts) {
    out.set(t, off);
    off += t.length;
    out[off++] = LF;
  }
  return out;
}

/**
 * Inverse of formatDataTile: the record texts, in order. Throws `malformed_tile` for empty
 * data, trailing bytes that do not end a record, an invalid record text, or more than
 * maxRecords records.
 */
export function parseDataTile(data: Uint8Array, maxRecords = DEFAULT_MAX_DATA_TILE_RECORDS): Uint8Array[] {
  if (!(data instanceof Uint8Array) || data.length === 0) {
    throw new SumkeepError('malformed_tile', 'malformed data tile: empty');
  }
  const texts: Uint8Array[] = [];
  let off = 0;
  while (off < data.length) {
    if (texts.length >= maxRecords) {
      throw new SumkeepError('malformed_tile', `malformed data tile: more than ${maxRecords} records`);
    }
    const blank = indexOfBlankLine(data, off);
    if (blank < 0) throw new SumkeepError('malformed_tile', 'malformed data tile: record not terminated');
    const text = data.slice(off, blank + 1);
    const problem = recordTextProblem(text);
    if (problem !== null) {
      throw new SumkeepError('malformed_tile', `malformed data tile: record ${texts.length}: ${problem}`);
    }
    texts.push(text);
    off = blank + 2;
  }
  return texts;
}
