/**
 * The note key: the Ed25519 key that signs tree heads. Its verifier key is the value users put in
 * GOSUMDB. Files in the key directory:
 *   note.key     Go's signer key: the word PRIVATE, then "+KEY+<name>+<8 hex>+<base64(0x01 || seed)>\n"; mode 0600
 *   note.pub     "<name>+<8 hex>+<base64(0x01 || public key)>\n"          mode 0644
 *   note.crt     its certificate from the root CA (after `ceremony init`)
 *   note.pkcs11  instead of note.key: the PKCS#11 URI of a note key in a token (note.pub is then
 *                the verifier key of the token's public key, checked against it at load)
 *   DEVELOPMENT  present only for a key made by `npm start` for local development
 * A note-key rotation adds note-<n>.key/.pub/.crt (n = 1, 2, ...): every signer key whose
 * certificate is valid signs each tree head (clients ignore signatures from keys they do not know).
 *
 * Which keys sign: in a directory without note certificates (a key made before the ceremony, or
 * by hand) every note key signs and note.key is the primary one. Once certificates exist, every note
 * key must have one, only keys whose certificate is valid now sign, and the primary key (the one
 * printed as GOSUMDB) is the newest of those: the one clients should be configured with.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual, fromBase64 } from '../core/bytes.ts';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import {
  ALG_ED25519,
  generateKey,
  isNoteKeyName,
  newSigner,
  newVerifier,
  verifierKeyFromPublicKey,
  verifierKeyFromSignerKey,
  type Signer,
} from '../core/note.ts';
import { TokenSigner } from './pkcs11/signer.ts';
import { ed25519Raw, readKeyUriFile } from './token-files.ts';
import { readCertificateFile } from './authority.ts';
import { ensureKeyDir, readKeyFile, writeNewFile } from './files.ts';
import { MAX_NOTE_GENERATION, MODE_ONLINE_KEY, MODE_PUBLIC, noteFiles, noteGenerationOf } from './layout.ts';

export const NOTE_KEY_FILE = 'note.key';
export const NOTE_PUB_FILE = 'note.pub';
export const DEVELOPMENT_MARKER = 'DEVELOPMENT';

/** One note key found in a key directory. */
export interface NoteKeyInfo {
  /** 0 for note.key, n for note-<n>.key. */
  generation: number;
  verifierKey: string;
  /** Validity of its certificate (ms since the epoch), or null when it has none. */
  certificate: { notBefore: number; notAfter: number; der: Uint8Array } | null;
}

export interface NoteKeys {
  /** Log name (the key name), e.g. "sum.corp.internal". */
  name: string;
  /** The primary verifier key: what goes into GOSUMDB. */
  verifierKey: string;
  /** All signers that sign each tree head; the primary one first. */
  signers: Signer[];
  /** The keys behind `signers`, in the same order. */
  keys: NoteKeyInfo[];
  development: boolean;
}

function invalidName(name: string): SumkeepError {
  return new SumkeepError(
    'config',
    `invalid log name ${JSON.stringify(name)}: it must be non-empty, without spaces, '+' or control characters`,
  );
}

/** Creates note.key and note.pub in `dir`; refuses to overwrite. Returns the verifier key. */
export function createNoteKey(dir: string, name: string, opts: { development?: boolean } = {}): string {
  if (!isNoteKeyName(name)) throw invalidName(name);
  ensureKeyDir(dir);
  const vkey = writeNoteKey(dir, 0, name);
  if (opts.development) writeDevelopmentMarker(dir);
  return vkey;
}

/** Writes a new note key of generation `n` (note.key for 0, note-<n>.key else) and its .pub. */
export function writeNoteKey(dir: string, generation: number, name: string): string {
  if (!isNoteKeyName(name)) throw invalidName(name);
  const files = noteFiles(generation);
  const { skey, vkey } = generateKey(name);
  writeNewFile(dir, files.key, skey + '\n', MODE_ONLINE_KEY);
  writeNewFile(dir, files.pub, vkey + '\n', MODE_PUBLIC);
  return vkey;
}

export function writeDevelopmentMarker(dir: string): void {
  writeNewFile(
    dir,
    DEVELOPMENT_MARKER,
    'This key directory was created by `npm start` for development. Do not use it in production:\n' +
      'run `npx sumkeep ceremony init` on an offline machine instead.\n',
    MODE_PUBLIC,
  );
}

export function isDevelopmentDir(dir: string): boolean {
  return existsSync(join(dir, DEVELOPMENT_MARKER));
}

/** "<name>+<8 hex>": the verifier key without its key bytes (names the key in certificates). */
export function noteKeyName(vkey: string): string {
  const v = newVerifier(vkey);
  return `${v.name}+${v.keyHash.toString(16).padStart(8, '0')}`;
}

// RFC 8410 SPKI header of an Ed25519 public key; the 32 key bytes follow.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The Ed25519 public key of a verifier key, as a KeyObject (for certificates and JWKs). */
export function notePublicKey(vkey: string): KeyObject {
  newVerifier(vkey);
  // "<name>+<hash>+<base64>": the name holds no '+', the base64 may.
  const first = vkey.indexOf('+');
  const key = fromBase64(vkey.slice(vkey.indexOf('+', first + 1) + 1));
  if (key === null || key.length !== 33 || key[0] !== ALG_ED25519) {
    throw new SumkeepError('malformed_key', 'verifier key does not hold an Ed25519 key');
  }
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, key.subarray(1)]),
    format: 'der',
    type: 'spki',
  });
}

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/**
 * Note-key generations that have any file (key, pub, crt or pkcs11) in `dir`, ascending; `signer`:
 * those with a private key, on disk (.key) or in a token (.pkcs11).
 */
export function noteGenerations(
  dir: string,
  kind: 'key' | 'pub' | 'crt' | 'pkcs11' | 'signer' | 'any' = 'any',
): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const gens = new Set<number>();
  for (const f of names) {
    const g = noteGenerationOf(f);
    const wanted =
      kind === 'any' ||
      (kind === 'signer' ? f.endsWith('.key') || f.endsWith('.pkcs11') : f.endsWith(`.${kind}`));
    if (g !== null && g <= MAX_NOTE_GENERATION && wanted) gens.add(g);
  }
  return [...gens].sort((a, b) => a - b);
}

/**
 * The verifier keys of every note key generation with a .pub file in `dir`, retired ones too
 * (what the log may have signed a head with before a rotation), ascending by generation.
 */
export function noteVerifierKeys(dir: string): string[] {
  return noteGenerations(dir, 'pub').map((g) => readFileSync(join(dir, noteFiles(g).pub), 'utf8').trim());
}

/**
 * Reads the certificate of note key generation `g` if there is one and checks it certifies
 * `vkey`'s public key (config error otherwise).
 */
export function readNoteCertificate(
  dir: string,
  generation: number,
  vkey: string,
): NoteKeyInfo['certificate'] {
  const file = join(dir, noteFiles(generation).crt);
  if (!existsSync(file)) return null;
  const { der, parsed, x509 } = readCertificateFile(file);
  if (!bytesEqual(spki(x509.publicKey), spki(notePublicKey(vkey)))) {
    throw new SumkeepError('config', `${file} certifies another key than ${noteFiles(generation).key}`);
  }
  return { notBefore: parsed.notBefore, notAfter: parsed.notAfter, der };
}

/**
 * The note signer of a key in a token: the name comes from the .pub beside the .pkcs11 file, the
 * verifier key is derived from the token's public key and must equal that .pub (the ceremony wrote
 * it from the same key), so that GOSUMDB always describes the key that really signs.
 */
function loadTokenSigner(
  dir: string,
  generation: number,
  env: NodeJS.ProcessEnv | undefined,
): { signer: Signer; vkey: string } {
  const files = noteFiles(generation);
  if (existsSync(join(dir, files.key))) {
    throw new SumkeepError('config', `${dir} holds both ${files.key} and ${files.uri}: keep one`);
  }
  const pub = readKeyFile(dir, files.pub);
  if (pub === null) {
    throw new SumkeepError(
      'config',
      `${join(dir, files.uri)} has no ${files.pub} beside it (the ceremony writes both)`,
    );
  }
  const token = new TokenSigner(readKeyUriFile(join(dir, files.uri)), env === undefined ? {} : { env });
  if (token.publicKey.asymmetricKeyType !== 'ed25519') {
    throw new SumkeepError(
      'config',
      `${join(dir, files.uri)}: a note key must be Ed25519 (the only algorithm the go command knows)`,
    );
  }
  let name: string;
  try {
    name = newVerifier(pub).name;
  } catch (e) {
    throw new SumkeepError('config', `${join(dir, files.pub)}: ${(e as Error).message}`, { cause: e });
  }
  const vkey = verifierKeyFromPublicKey(name, ed25519Raw(token.publicKey));
  if (vkey !== pub) {
    throw new SumkeepError(
      'config',
      `${join(dir, files.pub)} does not belong to the key ${files.uri} names (${token.name})`,
    );
  }
  const v = newVerifier(vkey);
  return {
    vkey,
    signer: Object.freeze({ name: v.name, keyHash: v.keyHash, sign: (msg: Uint8Array) => token.sign(msg) }),
  };
}

function loadSigner(dir: string, file: string): { signer: Signer; vkey: string } {
  const skey = readKeyFile(dir, file);
  if (skey === null) throw new SumkeepError('config', `${join(dir, file)} disappeared while reading`);
  try {
    return { signer: newSigner(skey), vkey: verifierKeyFromSignerKey(skey) };
  } catch (e) {
    const why = isSumkeepError(e) ? e.message : 'unreadable';
    throw new SumkeepError('config', `${join(dir, file)}: ${why}`, { cause: e });
  }
}

/**
 * Loads the note signer(s) from `dir` (see the file comment for which keys sign); throws `config`
 * with the command to run when there is none, or when every certified key's certificate has ended.
 */
export function loadNoteKeys(dir: string, opts: { now?: number; env?: NodeJS.ProcessEnv } = {}): NoteKeys {
  const now = opts.now ?? Date.now();
  const generations = noteGenerations(dir, 'signer');
  if (generations.length === 0) {
    throw new SumkeepError(
      'config',
      `no note key in ${dir}: create one with \`npx sumkeep ceremony init --name <log name> --keys ${dir}\``,
    );
  }
  const found = generations.map((generation) => {
    const { signer, vkey } = existsSync(join(dir, noteFiles(generation).uri))
      ? loadTokenSigner(dir, generation, opts.env)
      : loadSigner(dir, noteFiles(generation).key);
    const info: NoteKeyInfo = {
      generation,
      verifierKey: vkey,
      certificate: readNoteCertificate(dir, generation, vkey),
    };
    return { signer, info };
  });
  const name = found[0]!.signer.name;
  for (const f of found) {
    if (f.signer.name !== name) {
      throw new SumkeepError(
        'config',
        `${join(dir, 'note-*.key')}: every note key must have the log name ${name}`,
      );
    }
  }
  let chosen: typeof found;
  if (found.every((f) => f.info.certificate === null)) {
    chosen = found; // generation order: note.key (the primary) first
  } else {
    const missing = found.find((f) => f.info.certificate === null);
    if (missing) {
      const files = noteFiles(missing.info.generation);
      throw new SumkeepError(
        'config',
        `${join(dir, files.key)} has no certificate ${files.crt}, but other note keys do: certify every note key (sumkeep ceremony rotate --purpose note) or remove it`,
      );
    }
    chosen = found
      .filter((f) => f.info.certificate!.notBefore <= now && now < f.info.certificate!.notAfter)
      .reverse(); // newest first: the newest valid key is the primary one
    if (chosen.length === 0) {
      const ends = found
        .map(
          (f) =>
            `${noteFiles(f.info.generation).crt} ${new Date(f.info.certificate!.notAfter).toISOString()}`,
        )
        .join(', ');
      throw new SumkeepError(
        'config',
        `no note key in ${dir} has a certificate valid now (${ends}): run \`sumkeep ceremony rotate --purpose note\` on the offline machine`,
      );
    }
  }
  return {
    name,
    verifierKey: chosen[0]!.info.verifierKey,
    signers: chosen.map((f) => f.signer),
    keys: chosen.map((f) => f.info),
    development: readKeyFile(dir, DEVELOPMENT_MARKER) !== null,
  };
}
