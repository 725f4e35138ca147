/**
 * Note keys: signer and verifier key strings, key names and key hashes, as golang.org/x/mod/sumdb/note
 * defines them. Only Ed25519 (algorithm byte 0x01) exists; it is the only algorithm the go command knows.
 *
 * Exact forms (base64 is standard padded base64; the hash is 8 hex digits, written lowercase, read
 * in either case as Go's strconv.ParseUint does):
 *
 *     verifier key: <name>+<hash>+<base64(0x01 || 32-byte Ed25519 public key)>
 *     signer key:   PRIVATE+KEY+<name>+<hash>+<base64(0x01 || 32-byte Ed25519 seed)>
 *     key hash:     first 4 bytes, big-endian, of SHA-256(name || "\n" || 0x01 || public key)
 *
 * A signer key is a secret: no error message built here ever quotes it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { concatBytes, fromBase64, hasLoneSurrogate, toBase64, utf8 } from './bytes.ts';
import {
  ED25519_SEED_SIZE,
  ED25519_PUBLIC_KEY_SIZE,
  ed25519PublicFromSeed,
  ed25519Signer,
  ed25519Verify,
} from './ed25519.ts';
import { SumkeepError } from './errors.ts';
import { sha256 } from './sha256.ts';

/** A key that signs note texts. `keyHash` is a uint32 (0 ..= 0xffffffff). */
export interface Signer {
  name: string;
  keyHash: number;
  /** The signature of `msg` (the note text, final newline included). */
  sign(msg: Uint8Array): Uint8Array;
}

/** A key that checks note signatures. `verify` returns false (never throws) for a bad signature. */
export interface Verifier {
  name: string;
  keyHash: number;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

/** A key string that does not parse, or whose hash or algorithm is wrong. Code `malformed_key`. */
export class MalformedKeyError extends SumkeepError {
  constructor(message: string) {
    super('malformed_key', message);
    this.name = 'MalformedKeyError';
  }
}

/** The algorithm byte of Ed25519 keys. */
export const ALG_ED25519 = 0x01;

/**
 * Longest key string accepted. Real keys are under 200 characters; the bound only keeps hostile
 * input from costing hashing and base64 work, and is far above any sensible name.
 */
export const MAX_KEY_STRING_LENGTH = 8192;

// The error texts are Go's (NewVerifier and NewSigner use the same three), so users can search them.
const ERR_ID = 'malformed verifier id';
const ERR_HASH = 'invalid verifier hash';
const ERR_ALG = 'unknown verifier algorithm';

const HASH16_RE = /^[0-9a-fA-F]{8}$/;
const WHITE_SPACE_RE = /\p{White_Space}/u;
// eslint-disable-next-line no-control-regex
const C0_CONTROL_RE = /[\u0000-\u001f]/;

/**
 * A key name as Go's isValidName: non-empty, valid Unicode (no lone surrogate), no character with
 * the Unicode White_Space property (Go's unicode.IsSpace), no '+'.
 */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name !== '' &&
    !hasLoneSurrogate(name) &&
    !WHITE_SPACE_RE.test(name) &&
    !name.includes('+')
  );
}

/**
 * A name that can also appear on a signature line of a note that opens: a valid key name without
 * ASCII control characters (a note may hold none but newline). Go's GenerateKey does not check
 * this; we refuse to make keys whose notes nobody could open.
 */
export function isNoteKeyName(name: string): boolean {
  return isValidKeyName(name) && !C0_CONTROL_RE.test(name);
}

/**
 * The key hash: first 4 bytes, big-endian, of SHA-256(UTF-8 name || "\n" || key), where `key` is the
 * algorithm byte followed by the public key. Throws `malformed_key` for a name that is not valid
 * Unicode (its UTF-8 bytes would not be defined).
 */
export function keyHash(name: string, key: Uint8Array): number {
  if (typeof name !== 'string' || hasLoneSurrogate(name)) {
    throw new MalformedKeyError(`${ERR_ID}: key name is not valid Unicode`);
  }
  const sum = sha256(utf8(name), utf8('\n'), key);
  return ((sum[0]! << 24) | (sum[1]! << 16) | (sum[2]! << 8) | sum[3]!) >>> 0;
}

function uint32Bytes(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** Constant-time equality of two key hashes (uint32). */
function keyHashEqual(a: number, b: number): boolean {
  return timingSafeEqual(uint32Bytes(a), uint32Bytes(b));
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Split at the first `sep`: [before, after]; [s, ''] when `sep` does not occur (Go's chop). */
function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Parse "<name>+<hash>+<base64>" into its parts; errors name the broken rule, never quote input. */
function parseKeyId(id: string): { name: string; hash: number; key: Uint8Array } {
  const [name, rest] = chop(id, '+');
  const [hash16, key64] = chop(rest, '+');
  if (!isValidKeyName(name)) throw new MalformedKeyError(`${ERR_ID}: invalid key name`);
  if (!HASH16_RE.test(hash16)) throw new MalformedKeyError(`${ERR_ID}: key hash is not 8 hex digits`);
  const key = fromBase64(key64);
  if (key === null || key.length === 0) throw new MalformedKeyError(`${ERR_ID}: key data is not base64`);
  return { name, hash: parseInt(hash16, 16) >>> 0, key };
}

function checkKeyString(s: unknown, what: string): asserts s is string {
  if (typeof s !== 'string') throw new MalformedKeyError(`${ERR_ID}: ${what} is not a string`);
  if (s.length > MAX_KEY_STRING_LENGTH) {
    throw new MalformedKeyError(`${ERR_ID}: ${what} longer than ${MAX_KEY_STRING_LENGTH} characters`);
  }
}

/**
 * Parse a verifier key "<name>+<hash>+<base64(0x01 || pub)>". Checks, in Go's order: the form
 * (`malformed verifier id`), the hash over name and key (`invalid verifier hash`), the algorithm
 * (`unknown verifier algorithm`), the key size (`malformed verifier id`). Throws MalformedKeyError.
 */
export function newVerifier(vkey: string): Verifier {
  checkKeyString(vkey, 'verifier key');
  const { name, hash, key } = parseKeyId(vkey);
  if (!keyHashEqual(hash, keyHash(name, key))) throw new MalformedKeyError(ERR_HASH);
  if (key[0] !== ALG_ED25519) throw new MalformedKeyError(ERR_ALG);
  const pub = key.slice(1);
  if (pub.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new MalformedKeyError(`${ERR_ID}: Ed25519 public key is not ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  return Object.freeze({
    name,
    keyHash: hash,
    verify: (msg: Uint8Array, sig: Uint8Array): boolean => ed25519Verify(pub, msg, sig),
  });
}

interface ParsedSignerKey {
  name: string;
  hash: number;
  seed: Uint8Array;
  /** Algorithm byte || public key, as hashed and as written in the verifier key. */
  pubkey: Uint8Array;
}

/** Parse "PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>" in Go's order of checks. */
function parseSignerKey(skey: string): ParsedSignerKey {
  checkKeyString(skey, 'signer key');
  const [priv1, rest1] = chop(skey, '+');
  const [priv2, rest2] = chop(rest1, '+');
  if (priv1 !== 'PRIVATE' || priv2 !== 'KEY') {
    throw new MalformedKeyError(`${ERR_ID}: signer key does not start with PRIVATE+KEY+`);
  }
  const { name, hash, key } = parseKeyId(rest2);
  if (key[0] !== ALG_ED25519) throw new MalformedKeyError(ERR_ALG);
  const seed = key.slice(1);
  if (seed.length !== ED25519_SEED_SIZE) {
    throw new MalformedKeyError(`${ERR_ID}: Ed25519 seed is not ${ED25519_SEED_SIZE} bytes`);
  }
  // The hash covers the public key, which only exists once derived from the seed.
  const pubkey = concatBytes(new Uint8Array([ALG_ED25519]), ed25519PublicFromSeed(seed));
  if (!keyHashEqual(hash, keyHash(name, pubkey))) throw new MalformedKeyError(ERR_HASH);
  return { name, hash, seed, pubkey };
}

/**
 * Parse a signer key "PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>". Throws MalformedKeyError
 * with Go's texts (`malformed verifier id`, `unknown verifier algorithm`, `invalid verifier hash`).
 */
export function newSigner(skey: string): Signer {
  const { name, hash, seed } = parseSignerKey(skey);
  return Object.freeze({
    name,
    keyHash: hash,
    sign: ed25519Signer(seed),
  });
}

function formatKey(name: string, hash: number, key: Uint8Array): string {
  return `${name}+${hex8(hash)}+${toBase64(key)}`;
}

/**
 * A new Ed25519 key pair named `name`, as Go's GenerateKey with `seed` as the 32 bytes it reads
 * (default: 32 bytes from crypto.randomBytes). Throws MalformedKeyError for a name that is not a
 * valid key name, holds an ASCII control character or makes a key string over
 * MAX_KEY_STRING_LENGTH, or a seed that is not 32 bytes.
 */
export function generateKey(name: string, seed?: Uint8Array): { skey: string; vkey: string } {
  if (!isNoteKeyName(name)) throw new MalformedKeyError(`${ERR_ID}: invalid key name`);
  const s = seed ?? new Uint8Array(randomBytes(ED25519_SEED_SIZE));
  if (!(s instanceof Uint8Array) || s.length !== ED25519_SEED_SIZE) {
    throw new MalformedKeyError(`Ed25519 seed must be ${ED25519_SEED_SIZE} bytes`);
  }
  const pubkey = concatBytes(new Uint8Array([ALG_ED25519]), ed25519PublicFromSeed(s));
  const hash = keyHash(name, pubkey);
  const privkey = concatBytes(new Uint8Array([ALG_ED25519]), s);
  const skey = 'PRIVATE+KEY+' + formatKey(name, hash, privkey);
  // newSigner and newVerifier refuse key strings over MAX_KEY_STRING_LENGTH; a name that long
  // would give a key pair nobody can load again, so refuse it here (the signer key is the longer).
  if (skey.length > MAX_KEY_STRING_LENGTH) {
    throw new MalformedKeyError(`${ERR_ID}: key name too long for a ${MAX_KEY_STRING_LENGTH}-character key`);
  }
  return { skey, vkey: formatKey(name, hash, pubkey) };
}

/** The verifier key that belongs to a signer key (checks the signer key as newSigner does). */
export function verifierKeyFromSignerKey(skey: string): string {
  const { name, hash, pubkey } = parseSignerKey(skey);
  return formatKey(name, hash, pubkey);
}
