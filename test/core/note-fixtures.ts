/**
 * Shared by the note tests: the `note` section of test/vectors/go-reference.json (computed by Go's
 * golang.org/x/mod/sumdb/note) and the SplitMix64 byte stream its keys were generated from.
 */
import { readFileSync } from 'node:fs';
import { SumkeepError } from '../../src/core/errors.ts';

export interface KeyVector {
  name: string;
  seed: number;
  skey: string;
  vkey: string;
}

export interface OpenVector {
  desc: string;
  msg_b64: string;
  ok: boolean;
  text?: string;
  verified_sigs?: string[];
  unverified_sig_count?: number;
  error?: string;
  error_kind?: 'invalid_signature' | 'unverified' | 'malformed';
  verifier_keys: string[];
}

export interface SignVector {
  text: string;
  signers: string[];
  signed_b64: string;
}

export interface VerifierKeyVector {
  vkey: string;
  ok: boolean;
  error: string;
}

export interface NoteVectors {
  key_derivation: string;
  keys: KeyVector[];
  open: OpenVector[];
  sign: SignVector[];
  verifier_keys: VerifierKeyVector[];
}

export function loadNoteVectors(): NoteVectors {
  const path = new URL('../vectors/go-reference.json', import.meta.url);
  const all = JSON.parse(readFileSync(path, 'utf8')) as { note: NoteVectors };
  return all.note;
}

export function fromB64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

const MASK64 = (1n << 64n) - 1n;

/**
 * The first `n` bytes of the SplitMix64 stream for `seed`: each step adds 0x9e3779b97f4a7c15 to the
 * state and mixes it; each 64-bit output is written little-endian. This is the `R` of the vectors'
 * key_derivation text: Go's ed25519.GenerateKey(R) reads its 32-byte seed from it.
 */
export function splitMix64Bytes(seed: number | bigint, n: number): Uint8Array {
  let state = BigInt(seed) & MASK64;
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    z ^= z >> 31n;
    for (let i = 0; i < 8 && off < n; i++) out[off++] = Number((z >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}

/**
 * Run `fn`; if it throws, the error must be a SumkeepError (no TypeError, RangeError, SyntaxError
 * may escape a parser of hostile input). Returns the error, or undefined when `fn` returned.
 */
export function onlySumkeepError(fn: () => unknown, label: string): SumkeepError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!(e instanceof SumkeepError)) {
      throw new Error(`${label}: a non-SumkeepError escaped: ${String(e)}`, { cause: e });
    }
    return e;
  }
}
