/**
 * The note key: the Ed25519 key that signs tree heads. Its verifier key is the value users put in
 * GOSUMDB. Files in the key directory:
 *   note.key     "PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>\n"   mode 0600
 *   note.pub     "<name>+<8 hex>+<base64(0x01 || public key)>\n"          mode 0644
 *   DEVELOPMENT  present only for a key made by `npm start` for local development
 * During a note-key rotation a second signer key can sit next to it as note-<n>.key; every signer
 * key found signs each tree head (clients ignore signatures from keys they do not know).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { generateKey, isValidKeyName, newSigner, verifierKeyFromSignerKey, type Signer } from '../core/note.ts';
import { ensureKeyDir, readKeyFile, writeNewFile } from './files.ts';

export const NOTE_KEY_FILE = 'note.key';
export const NOTE_PUB_FILE = 'note.pub';
export const DEVELOPMENT_MARKER = 'DEVELOPMENT';

export interface NoteKeys {
  /** Log name (the key name), e.g. "sum.corp.internal". */
  name: string;
  /** The primary verifier key: what goes into GOSUMDB. */
  verifierKey: string;
  /** All signers that sign each tree head; the primary one first. */
  signers: Signer[];
  development: boolean;
}

/** Creates note.key and note.pub in `dir`; refuses to overwrite. Returns the verifier key. */
export function createNoteKey(dir: string, name: string, opts: { development?: boolean } = {}): string {
  if (!isValidKeyName(name)) {
    throw new SumkeepError('config', `invalid log name ${JSON.stringify(name)}: it must be non-empty, without spaces or '+'`);
  }
  ensureKeyDir(dir);
  const { skey, vkey } = generateKey(name);
  writeNewFile(dir, NOTE_KEY_FILE, skey + '\n', 0o600);
  writeNewFile(dir, NOTE_PUB_FILE, vkey + '\n', 0o644);
  if (opts.development) {
    writeNewFile(
      dir,
      DEVELOPMENT_MARKER,
      'This key directory was created by `npm start` for development. Do not use it in production:\n' +
        'run `npx sumkeep ceremony init` on an offline machine instead.\n',
      0o644,
    );
  }
  return vkey;
}

/** Loads the note signer(s) from `dir`; throws `config` with the command to run when there is none. */
export function loadNoteKeys(dir: string): NoteKeys {
  const skey = readKeyFile(dir, NOTE_KEY_FILE);
  if (skey === null) {
    throw new SumkeepError(
      'config',
      `no note key in ${dir}: create one with \`npx sumkeep ceremony init --name <log name> --keys ${dir}\``,
    );
  }
  const primary = newSigner(skey);
  const signers = [primary];
  let extra: string[] = [];
  try {
    extra = readdirSync(dir).filter((f) => /^note-[0-9]+\.key$/.test(f));
  } catch {
    extra = [];
  }
  for (const f of extra.sort()) {
    const s = readKeyFile(dir, f);
    if (s !== null) signers.push(newSigner(s));
  }
  for (const s of signers) {
    if (s.name !== primary.name) {
      throw new SumkeepError('config', `${join(dir, 'note-*.key')}: every note key must have the log name ${primary.name}`);
    }
  }
  return {
    name: primary.name,
    verifierKey: verifierKeyFromSignerKey(skey),
    signers,
    development: readKeyFile(dir, DEVELOPMENT_MARKER) !== null,
  };
}
