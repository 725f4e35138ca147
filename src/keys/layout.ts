/**
 * File names in a key directory (keys/README.md describes them for people). Private files are
 * created with mode 0600 (0400 for the root key), public ones 0644, all exclusively.
 *
 *   root-ca.key            root CA private key, PKCS#8 PEM (encrypted: PBES2, encrypted-key.ts), 0400;
 *                          belongs OFFLINE (see docs/ceremony.md)
 *   root-ca.pkcs11         instead of root-ca.key: the PKCS#11 URI of the root key in an offline HSM
 *   root-ca.pem            root CA certificate (self-signed)
 *   note.key / note.pub    note key (Go signed-note format, notekey.ts); generation 0
 *   note-<n>.key/.pub      note keys added by `rotate --purpose note`; generation n >= 1
 *   note[-<n>].pkcs11      instead of the .key: the PKCS#11 URI (RFC 7512, one line) of a note key
 *                          inside a token; the .pub beside it is derived from the token's public key
 *   note[-<n>].crt         certificate of that note key, issued by the root
 *   response-<hex>.key     response-signing key, PKCS#8 PEM, 0600; <hex> = 16 hex of SHA-256(SPKI)
 *   response-<hex>.crt     its certificate
 *   response-<hex>.pkcs11  instead of the .key: the PKCS#11 URI of a response key inside a token
 *   tls.key / tls.crt      TLS server key (PKCS#8 PEM, 0600) and certificate; tls-chain.pem = crt + root
 *   trust.json             the public trust bundle
 *   ceremony-<time>.txt    the ceremony record to print and sign
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const ROOT_KEY_FILE = 'root-ca.key';
export const ROOT_URI_FILE = 'root-ca.pkcs11';
export const ROOT_CERT_FILE = 'root-ca.pem';
export const TRUST_FILE = 'trust.json';
export const TLS_DEFAULT_BASENAME = 'tls';

export const MODE_ROOT_KEY = 0o400;
export const MODE_ONLINE_KEY = 0o600;
export const MODE_PUBLIC = 0o644;

/** Most note-key generations accepted (bounds directory scans). */
export const MAX_NOTE_GENERATION = 999_999;

/** Files of note-key generation `n` (0 = note.key). */
export function noteFiles(generation: number): { key: string; pub: string; crt: string; uri: string } {
  const base = generation === 0 ? 'note' : `note-${generation}`;
  return { key: `${base}.key`, pub: `${base}.pub`, crt: `${base}.crt`, uri: `${base}.pkcs11` };
}

const NOTE_FILE_RE = /^note(?:-([1-9][0-9]{0,5}))?\.(key|pub|crt|pkcs11)$/;

/** The generation a note-key file name belongs to, or null for other names. */
export function noteGenerationOf(file: string): number | null {
  const m = NOTE_FILE_RE.exec(file);
  if (!m) return null;
  return m[1] === undefined ? 0 : Number(m[1]);
}

const RESPONSE_FILE_RE = /^response-([0-9a-f]{16})\.(key|crt|pkcs11)$/;

/** The 16-hex id a response-key file name carries, or null. */
export function responseIdOf(file: string): string | null {
  return RESPONSE_FILE_RE.exec(file)?.[1] ?? null;
}

export function responseFiles(hex: string): { key: string; crt: string; uri: string } {
  return { key: `response-${hex}.key`, crt: `response-${hex}.crt`, uri: `response-${hex}.pkcs11` };
}

/** First 16 hex digits of SHA-256 over a public key's SPKI DER. */
export function keyId16(publicKey: KeyObject | Uint8Array): string {
  const spki =
    publicKey instanceof Uint8Array
      ? publicKey
      : new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  return createHash('sha256').update(spki).digest('hex').slice(0, 16);
}

/** JWK key id of a response key: "resp-<16 hex>". */
export function responseKid(publicKey: KeyObject | Uint8Array): string {
  return `resp-${keyId16(publicKey)}`;
}

/** JWK key id of a note key: "note-<16 hex>". */
export function noteKid(publicKey: KeyObject | Uint8Array): string {
  return `note-${keyId16(publicKey)}`;
}

/** Lowercase hex SHA-256 of a DER certificate (trust.json `root.sha256`). */
export function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** "AB:CD:..." as `openssl x509 -fingerprint -sha256` prints it, for the printed record. */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}
