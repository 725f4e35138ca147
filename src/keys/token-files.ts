/**
 * `.pkcs11` files of a key directory: one line, the canonical PKCS#11 URI (RFC 7512, as
 * formatPkcs11Uri writes it) of a key that lives in a token, then "\n". They stand where the `.key`
 * file of a key on disk would, hold no secret (a URI never carries the PIN: pin-value is refused)
 * and are written 0600 like key files, because they name where the PIN file is.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { readFileSync } from 'node:fs';
import type { CreatedFiles } from './files.ts';
import { MODE_ONLINE_KEY } from './layout.ts';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri.ts';

/** Reads and parses a `.pkcs11` file; `config` error naming the file. */
export function readKeyUriFile(file: string): Pkcs11Uri {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return parsePkcs11Uri(text.replace(/\r?\n$/, ''));
  } catch (e) {
    throw new SumkeepError('config', `${file}: ${isSumkeepError(e) ? e.message : 'unreadable'}`, {
      cause: e,
    });
  }
}

/** Writes a `.pkcs11` file exclusively; returns its path. */
export function writeKeyUriFile(files: CreatedFiles, dir: string, name: string, uri: Pkcs11Uri): string {
  return files.write(dir, name, formatPkcs11Uri(uri) + '\n', MODE_ONLINE_KEY);
}

/** The 32 raw bytes of an Ed25519 public key (the tail of its RFC 8410 SPKI). */
export function ed25519Raw(key: KeyObject): Uint8Array {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  const spki = pub.export({ type: 'spki', format: 'der' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}
