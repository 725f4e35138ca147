/**
 * Signed notes, as golang.org/x/mod/sumdb/note defines them (the signed tree heads of the log).
 *
 * Exact bytes of a signed note:
 *
 *     <text, ending in "\n">
 *     "\n"                                                        (one blank line)
 *     "\u2014 <name> <base64(4-byte big-endian key hash || signature)>\n"   (one or more)
 *
 * The signature covers the text bytes, final newline included, blank line excluded. The whole note
 * is valid UTF-8 without ASCII control characters other than newline; the text ends at the LAST
 * "\n\n" (so a text may itself hold blank lines, as in Go). Key strings live in note-keys.ts.
 *
 * Deliberate differences from Go, all stricter: notes over 1 MiB are refused, more than 100
 * signature lines are refused before any signature is checked, and signature base64 must be
 * canonical (Go also accepts non-zero unused bits in the last character).
 */
import { fromBase64, hasLoneSurrogate, toBase64, utf8 } from './bytes.ts';
import { SumkeepError } from './errors.ts';
import { MalformedKeyError, isNoteKeyName, isValidKeyName } from './note-keys.ts';
import type { Signer, Verifier } from './note-keys.ts';

export {
  ALG_ED25519,
  MAX_KEY_STRING_LENGTH,
  MalformedKeyError,
  generateKey,
  isNoteKeyName,
  isValidKeyName,
  keyHash,
  newSigner,
  newVerifier,
  verifierKeyFromPublicKey,
  verifierKeyFromSignerKey,
} from './note-keys.ts';
export type { Signer, Verifier } from './note-keys.ts';

/** Largest note `open` reads and `sign` writes, in bytes. */
export const MAX_NOTE_SIZE = 1 << 20;
/** Most signature lines in one note (Go's Open stops at the same count). */
export const MAX_NOTE_SIGNATURES = 100;

/** One signature line: key name, key hash (uint32) and the base64 of (4-byte hash || signature). */
export interface Signature {
  name: string;
  hash: number;
  base64: string;
}

/** An opened note: its text, the signatures that verified, and those from keys nobody knows. */
export interface Note {
  text: string;
  sigs: Signature[];
  unverifiedSigs: Signature[];
}

/** The note does not have the signed-note form (or is too large). Code `malformed_note`. */
export class MalformedNoteError extends SumkeepError {
  constructor(detail?: string) {
    super('malformed_note', detail === undefined ? 'malformed note' : `malformed note: ${detail}`);
    this.name = 'MalformedNoteError';
  }
}

/**
 * The note is well formed but no signature is from a known key. `note` holds the text and every
 * signature in `unverifiedSigs`; its text must not be trusted. Code `no_verifiable_signature`.
 */
export class UnverifiedNoteError extends SumkeepError {
  readonly note: Note;

  constructor(note: Note) {
    super('no_verifiable_signature', 'note has no verifiable signatures');
    this.name = 'UnverifiedNoteError';
    this.note = note;
  }
}

/** A signature from a known key does not verify: forged or altered. Code `invalid_signature`. */
export class InvalidSignatureError extends SumkeepError {
  readonly keyName: string;
  readonly keyHash: number;

  constructor(keyName: string, keyHash: number) {
    super(
      'invalid_signature',
      `invalid signature for key ${keyName}+${keyHash.toString(16).padStart(8, '0')}`,
    );
    this.name = 'InvalidSignatureError';
    this.keyName = keyName;
    this.keyHash = keyHash;
  }
}

const SIG_PREFIX = '\u2014 ';
const NEWLINE = 0x0a;

function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function hasControlByte(b: Uint8Array): boolean {
  for (const c of b) if (c < 0x20 && c !== NEWLINE) return true;
  return false;
}

/**
 * Sign `text` with every signer, in order: returns the note bytes `text`, "\n", then per signer
 * "\u2014 <name> <base64(4-byte big-endian keyHash || signature)>\n".
 *
 * `text` must end in "\n", be valid Unicode and hold no ASCII control character but newline; it may
 * hold blank lines (the text of a note ends at its last blank line). Throws MalformedNoteError for
 * a bad text or a result over MAX_NOTE_SIZE, MalformedKeyError for a signer with an invalid name
 * or hash, `bad_input` for zero or over 100 signers: every note this returns can be opened.
 */
export function sign(text: string, signers: readonly Signer[]): Uint8Array {
  if (typeof text !== 'string' || hasLoneSurrogate(text))
    throw new MalformedNoteError('text is not valid Unicode');
  if (!text.endsWith('\n')) throw new MalformedNoteError('text does not end in a newline');
  const textBytes = utf8(text);
  if (hasControlByte(textBytes)) throw new MalformedNoteError('text holds an ASCII control character');
  if (signers.length === 0 || signers.length > MAX_NOTE_SIGNATURES) {
    throw new SumkeepError(
      'bad_input',
      `a note needs 1 to ${MAX_NOTE_SIGNATURES} signers, got ${signers.length}`,
    );
  }
  let out = text + '\n';
  for (const s of signers) {
    if (!isNoteKeyName(s.name) || !isUint32(s.keyHash)) {
      throw new MalformedKeyError('invalid signer');
    }
    const sig = s.sign(textBytes);
    if (!(sig instanceof Uint8Array) || sig.length === 0)
      throw new SumkeepError('internal', 'signer gave no signature');
    const blob = new Uint8Array(4 + sig.length);
    new DataView(blob.buffer).setUint32(0, s.keyHash);
    blob.set(sig, 4);
    out += `${SIG_PREFIX}${s.name} ${toBase64(blob)}\n`;
  }
  const note = utf8(out);
  if (note.length > MAX_NOTE_SIZE) throw new MalformedNoteError(`signed note is over ${MAX_NOTE_SIZE} bytes`);
  return note;
}

/**
 * The keys `open` trusts: the verifier for (name, key hash), or undefined when the key is unknown
 * (its signatures are then reported as unverified, never as invalid). A plain function so that
 * callers can back it with anything; `verifierSet` builds one from a list.
 */
export type VerifierSet = (name: string, hash: number) => Verifier | undefined;

function idOf(name: string, hash: number): string {
  return `${hash.toString(16).padStart(8, '0')}+${name}`;
}

/**
 * A VerifierSet over a fixed list. Throws MalformedKeyError when two verifiers share a name and key
 * hash (Go reports such a pair as an ambiguous key when it is used; we refuse it up front) or when a
 * verifier has an invalid name or hash.
 */
export function verifierSet(verifiers: readonly Verifier[]): VerifierSet {
  const byId = new Map<string, Verifier>();
  for (const v of verifiers) {
    if (!isValidKeyName(v.name) || !isUint32(v.keyHash)) {
      throw new MalformedKeyError('verifier has an invalid name or key hash');
    }
    const id = idOf(v.name, v.keyHash);
    if (byId.has(id)) throw new MalformedKeyError(`ambiguous key ${v.name}+${id.slice(0, 8)}`);
    byId.set(id, v);
  }
  return (name, hash) => byId.get(idOf(name, hash));
}

// Keeps a byte order mark as text: it is part of the signed bytes, so it must stay in `text`.
const noteDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeNoteBytes(b: Uint8Array): string | null {
  try {
    return noteDecoder.decode(b);
  } catch {
    return null;
  }
}

/** Index of the last "\n\n" in `b`, or -1. */
function lastBlankLine(b: Uint8Array): number {
  for (let i = b.length - 2; i >= 0; i--) if (b[i] === NEWLINE && b[i + 1] === NEWLINE) return i;
  return -1;
}

/**
 * Parse the signed note `msg` and check its signatures against `known`, as Go's note.Open.
 *
 * - Signatures by keys `known` does not hold go to `unverifiedSigs` (repeated identical lines once).
 * - A known key's first signature must verify, else InvalidSignatureError; later signatures by
 *   the same key are skipped, as in Go.
 * - No verified signature at all: UnverifiedNoteError, carrying the note.
 * - Anything not of the exact form, over MAX_NOTE_SIZE bytes or MAX_NOTE_SIGNATURES lines:
 *   MalformedNoteError.
 * Only SumkeepError is thrown (unless `known` or a verifier itself throws something else).
 */
export function open(msg: Uint8Array, known: VerifierSet): Note {
  if (!(msg instanceof Uint8Array)) throw new MalformedNoteError('not bytes');
  if (msg.length > MAX_NOTE_SIZE) throw new MalformedNoteError(`over ${MAX_NOTE_SIZE} bytes`);
  if (decodeNoteBytes(msg) === null) throw new MalformedNoteError('not valid UTF-8');
  if (hasControlByte(msg)) throw new MalformedNoteError('ASCII control character');

  const split = lastBlankLine(msg);
  if (split < 0) throw new MalformedNoteError('no blank line before the signatures');
  const textBytes = msg.subarray(0, split + 1);
  const sigBytes = msg.subarray(split + 2);
  if (sigBytes.length === 0 || sigBytes[sigBytes.length - 1] !== NEWLINE) {
    throw new MalformedNoteError('signature block does not end in a newline');
  }
  // Both parts split at an ASCII byte of valid UTF-8, so they decode.
  const text = decodeNoteBytes(textBytes) ?? '';
  const lines = (decodeNoteBytes(sigBytes) ?? '').slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new MalformedNoteError(`over ${MAX_NOTE_SIGNATURES} signatures`);

  const note: Note = { text, sigs: [], unverifiedSigs: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX))
      throw new MalformedNoteError('signature line does not start with an em dash');
    const body = line.slice(SIG_PREFIX.length);
    const space = body.indexOf(' ');
    const name = space < 0 ? body : body.slice(0, space);
    const b64 = space < 0 ? '' : body.slice(space + 1);
    const blob = b64 === '' ? null : fromBase64(b64);
    if (blob === null || !isValidKeyName(name) || blob.length < 5) {
      throw new MalformedNoteError('bad signature line');
    }
    const hash = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint32(0);
    const sig: Signature = { name, hash, base64: b64 };

    const v = known(name, hash);
    if (v === undefined) {
      if (!seenUnverified.has(body)) {
        seenUnverified.add(body);
        note.unverifiedSigs.push(sig);
      }
      continue;
    }
    if (v.name !== name || v.keyHash !== hash) {
      throw new SumkeepError('internal', "verifier name or hash doesn't match signature");
    }
    const id = idOf(name, hash);
    if (seen.has(id)) continue;
    seen.add(id);
    if (!v.verify(textBytes, blob.subarray(4))) throw new InvalidSignatureError(name, hash);
    note.sigs.push(sig);
  }
  if (note.sigs.length === 0) throw new UnverifiedNoteError(note);
  return note;
}
