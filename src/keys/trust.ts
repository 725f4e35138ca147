/**
 * trust.json, the public trust bundle (TrustBundle in types.ts): what a company publishes and
 * pins. It is derived from public files only (root-ca.pem, note*.pub, *.crt), so the offline
 * machine can rebuild it after a rotation without holding any online private key.
 *
 * Contents: only keys whose certificate is valid when the bundle is made; the newest valid note
 * key is `verifierKey` (and in `gosumdb`), every valid note key is in `verifierKeys` (newest
 * first); `jwks.keys` holds the note keys (kid "note-<16 hex>") then the response keys (kid
 * "resp-<16 hex>", newest first), each with `x5c` = [its certificate, root certificate].
 *
 * trust.json is the one file sumkeep replaces (atomically, by rename): it is public and is
 * regenerated from the certificates; key files are never replaced.
 */
import {
  X509Certificate,
  createHash,
  createPublicKey,
  type JsonWebKeyInput,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readdirSync, renameSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual, fromBase64, toBase64 } from '../core/bytes.ts';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { isNoteKeyName, newVerifier, verifierKeyFromSignerKey } from '../core/note.ts';
import { describeKey } from './algorithms.ts';
import {
  issuedBy,
  readCertificateFile,
  readTextFile,
  rootCertificateFromDer,
  type RootCertificate,
} from './authority.ts';
import { readKeyFile, writeNewFile } from './files.ts';
import {
  MODE_PUBLIC,
  TRUST_FILE,
  keyId16,
  noteFiles,
  noteKid,
  responseFiles,
  responseIdOf,
  responseKid,
} from './layout.ts';
import { noteGenerations, notePublicKey, readNoteCertificate } from './notekey.ts';
import { readPem } from './pem.ts';
import { hasPurpose, type OnlinePurpose } from './profiles.ts';
import type { PublicJwk, TrustBundle } from './types.ts';
import { parseCertificate } from './x509.ts';

/** Largest trust.json read. */
export const MAX_TRUST_SIZE = 1 << 20;
const MAX_JWKS = 200;
const MAX_VERIFIER_KEYS = 100;
const MAX_CHAIN = 10;
const URL_RE = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

function base64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

/** The public JWK of a certified key, with x5c = [certificate, root]. */
export function jwkFromCertificate(certDer: Uint8Array, rootDer: Uint8Array, kid: string): PublicJwk {
  const key = new X509Certificate(certDer).publicKey;
  const { jws } = describeKey(key);
  const exported = key.export({ format: 'jwk' });
  const head = { kid, alg: jws, use: 'sig' as const };
  const material =
    jws === 'EdDSA'
      ? { kty: 'OKP' as const, ...head, crv: 'Ed25519' as const, x: String(exported.x) }
      : { kty: 'RSA' as const, ...head, n: String(exported.n), e: String(exported.e) };
  return {
    ...material,
    x5c: [toBase64(certDer), toBase64(rootDer)],
    'x5t#S256': base64url(createHash('sha256').update(certDer).digest()),
  };
}

/** A certified online key as the bundle lists it. */
export interface CertifiedPublicKey {
  purpose: OnlinePurpose;
  /** Note keys only. */
  verifierKey?: string;
  /** Generation (note) for ordering; response keys are ordered by notBefore. */
  generation?: number;
  kid: string;
  file: string;
  der: Uint8Array;
  notBefore: number;
  notAfter: number;
}

function checkPurpose(der: Uint8Array, purpose: OnlinePurpose, file: string): void {
  if (!hasPurpose(parseCertificate(der), purpose)) {
    throw new SumkeepError('config', `${file} is not a sumkeep ${purpose} key certificate`);
  }
}

/**
 * Every certified note and response key in `dir`, each checked against `root` (issued by it, for
 * the right purpose, for the right key); throws `config` naming the file otherwise. Includes keys
 * whose certificate is no longer (or not yet) valid; callers filter by time.
 */
export function certifiedPublicKeys(dir: string, root: RootCertificate): CertifiedPublicKey[] {
  const out: CertifiedPublicKey[] = [];
  for (const g of noteGenerations(dir)) {
    const files = noteFiles(g);
    const pub = readKeyFile(dir, files.pub);
    const skey = pub === null ? readKeyFile(dir, files.key) : null;
    let vkey: string;
    try {
      vkey = pub ?? (skey === null ? '' : verifierKeyFromSignerKey(skey));
      if (vkey !== '') newVerifier(vkey);
    } catch (e) {
      throw new SumkeepError(
        'config',
        `${join(dir, pub === null ? files.key : files.pub)}: ${(e as Error).message}`,
      );
    }
    if (vkey === '') {
      throw new SumkeepError(
        'config',
        `${join(dir, files.crt)} has neither ${files.pub} nor ${files.key} beside it`,
      );
    }
    const cert = readNoteCertificate(dir, g, vkey);
    if (cert === null) {
      throw new SumkeepError('config', `${join(dir, files.pub)} has no certificate ${files.crt}`);
    }
    const file = join(dir, files.crt);
    if (!issuedBy(new X509Certificate(cert.der), root)) {
      throw new SumkeepError('config', `${file} was not issued by ${root.file}`);
    }
    checkPurpose(cert.der, 'note', file);
    out.push({
      purpose: 'note',
      verifierKey: vkey,
      generation: g,
      kid: noteKid(notePublicKey(vkey)),
      file,
      der: cert.der,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    });
  }
  for (const name of listDir(dir)) {
    const hex = responseIdOf(name);
    if (hex === null || !name.endsWith('.crt')) continue;
    const file = join(dir, responseFiles(hex).crt);
    const { der, parsed, x509 } = readCertificateFile(file);
    if (!issuedBy(x509, root)) throw new SumkeepError('config', `${file} was not issued by ${root.file}`);
    checkPurpose(der, 'response', file);
    describeKey(x509.publicKey);
    if (keyId16(x509.publicKey) !== hex) {
      throw new SumkeepError('config', `${file} certifies a key whose id is not ${hex}`);
    }
    out.push({
      purpose: 'response',
      kid: responseKid(x509.publicKey),
      file,
      der,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
    });
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** True when `now` is inside the key's certificate validity. */
export function validAt(k: { notBefore: number; notAfter: number }, now: number): boolean {
  return k.notBefore <= now && now < k.notAfter;
}

/**
 * Builds the bundle from the public files of `dir` (see the file comment). Throws `config` when
 * no note key is certified and valid at `now`.
 */
export function collectTrustBundle(
  dir: string,
  opts: { root: RootCertificate; url: string; now: number },
): TrustBundle {
  const keys = certifiedPublicKeys(dir, opts.root).filter((k) => validAt(k, opts.now));
  const notes = keys.filter((k) => k.purpose === 'note').sort((a, b) => b.generation! - a.generation!);
  const responses = keys
    .filter((k) => k.purpose === 'response')
    .sort((a, b) => b.notBefore - a.notBefore || a.kid.localeCompare(b.kid));
  const primary = notes[0];
  if (primary === undefined) {
    throw new SumkeepError(
      'config',
      `no note key in ${dir} has a certificate valid now: rotate the note key`,
    );
  }
  const name = newVerifier(primary.verifierKey!).name;
  return {
    name,
    verifierKey: primary.verifierKey!,
    verifierKeys: notes.map((k) => k.verifierKey!),
    gosumdb: `${primary.verifierKey!} ${opts.url}`,
    url: opts.url,
    root: { certificate: opts.root.pem, sha256: opts.root.sha256 },
    jwks: { keys: [...notes, ...responses].map((k) => jwkFromCertificate(k.der, opts.root.der, k.kid)) },
  };
}

export function formatTrustBundle(b: TrustBundle): string {
  return JSON.stringify(b, null, 2) + '\n';
}

/** Writes trust.json: exclusively when `replace` is false, else atomically replacing it. */
export function writeTrustFile(dir: string, bundle: TrustBundle, opts: { replace: boolean }): string {
  const text = formatTrustBundle(bundle);
  parseTrustBundle(text); // never write a bundle we would refuse to read
  if (!opts.replace) return writeNewFile(dir, TRUST_FILE, text, MODE_PUBLIC);
  const file = join(dir, TRUST_FILE);
  const tmp = join(dir, `.${TRUST_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { flag: 'wx', mode: MODE_PUBLIC });
    chmodSync(tmp, MODE_PUBLIC);
    renameSync(tmp, file);
  } catch (e) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw new SumkeepError('config', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return file;
}

/** trust.json of `dir`, parsed and checked, or null when there is none. Problems are `config`. */
export function readTrustFile(dir: string): TrustBundle | null {
  const file = join(dir, TRUST_FILE);
  if (!existsSync(file)) return null;
  try {
    return parseTrustBundle(readTextFile(file));
  } catch (e) {
    throw new SumkeepError('config', `${file}: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (hostile input: only SumkeepError('bad_input') leaves)

function fail(what: string): never {
  throw new SumkeepError('bad_input', `invalid trust bundle: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, max = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(`${key} must be a non-empty string`);
  return v;
}

function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > max)
    fail(`${what} must be a list of 1 to ${max} entries`);
  return v;
}

function checked<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isSumkeepError(e, 'bad_input') && e.message.startsWith('invalid trust bundle')) throw e;
    fail(`${what}: ${isSumkeepError(e) ? e.message : 'unreadable'}`);
  }
}

function parseJwk(v: unknown, root: RootCertificate, i: number): PublicJwk {
  const where = `jwks.keys[${i}]`;
  if (!isObject(v)) fail(`${where} is not an object`);
  const kty = v.kty;
  const alg = v.alg;
  if (!((kty === 'OKP' && alg === 'EdDSA') || (kty === 'RSA' && alg === 'PS256'))) {
    fail(`${where}: kty/alg must be OKP/EdDSA or RSA/PS256`);
  }
  const kid = str(v, 'kid', 64);
  if (!/^[A-Za-z0-9._-]+$/.test(kid)) fail(`${where}: kid has characters outside [A-Za-z0-9._-]`);
  if (v.use !== 'sig') fail(`${where}: use must be "sig"`);
  const chain = arr(v.x5c, `${where}.x5c`, MAX_CHAIN).map((c, j) => {
    const der = typeof c === 'string' ? fromBase64(c) : null;
    if (der === null) fail(`${where}.x5c[${j}] is not base64`);
    return der;
  });
  const leafDer = chain[0]!;
  if (!bytesEqual(chain[chain.length - 1]!, root.der))
    fail(`${where}.x5c does not end with the root certificate`);
  const jwk: PublicJwk =
    kty === 'OKP'
      ? { kty, kid, alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: str(v, 'x', 64), x5c: chain.map(toBase64) }
      : {
          kty: 'RSA',
          kid,
          alg: 'PS256',
          use: 'sig',
          n: str(v, 'n', 2048),
          e: str(v, 'e', 16),
          x5c: chain.map(toBase64),
        };
  if (kty === 'OKP' && v.crv !== 'Ed25519') fail(`${where}: crv must be Ed25519`);
  checked(`${where}`, () => {
    const leaf = new X509Certificate(leafDer);
    parseCertificate(leafDer);
    const material =
      jwk.kty === 'OKP' ? { kty: 'OKP', crv: 'Ed25519', x: jwk.x } : { kty: 'RSA', n: jwk.n, e: jwk.e };
    const key = createPublicKey({ key: material as JsonWebKeyInput['key'], format: 'jwk' });
    describeKey(key);
    if (!bytesEqual(spki(key), spki(leaf.publicKey)))
      fail(`${where}: the key is not the one x5c[0] certifies`);
    if (chain.length !== 2 || !issuedBy(leaf, root)) fail(`${where}: x5c[0] is not issued by the root`);
  });
  const thumb = v['x5t#S256'];
  if (thumb !== undefined) {
    if (thumb !== base64url(createHash('sha256').update(leafDer).digest()))
      fail(`${where}: x5t#S256 does not match x5c[0]`);
    jwk['x5t#S256'] = thumb;
  }
  return jwk;
}

/**
 * Parses and checks a trust bundle: every field of TrustBundle present and well formed, the root a
 * self-signed CA whose SHA-256 is `root.sha256`, every JWK's key certified by x5c[0] issued by that
 * root, `gosumdb` = `verifierKey` + " " + `url`, every verifier key named `name` and present among
 * the JWKs. Fields outside TrustBundle are dropped. Throws SumkeepError('bad_input') only.
 */
export function parseTrustBundle(text: string): TrustBundle {
  if (typeof text !== 'string' || text.length > MAX_TRUST_SIZE) fail(`larger than ${MAX_TRUST_SIZE} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  if (!isObject(doc)) fail('not a JSON object');
  const name = str(doc, 'name', 1024);
  if (!isNoteKeyName(name)) fail('name is not a valid log name');
  const verifierKey = str(doc, 'verifierKey');
  const verifierKeys = arr(doc.verifierKeys, 'verifierKeys', MAX_VERIFIER_KEYS).map((k) => {
    if (typeof k !== 'string') fail('verifierKeys must hold strings');
    return k;
  });
  if (new Set(verifierKeys).size !== verifierKeys.length) fail('verifierKeys holds a key twice');
  if (!verifierKeys.includes(verifierKey)) fail('verifierKeys does not hold verifierKey');
  for (const k of verifierKeys) {
    const v = checked('verifierKeys', () => newVerifier(k));
    if (v.name !== name) fail(`verifier key ${v.name}+... does not have the log name ${name}`);
  }
  const url = str(doc, 'url', 2048);
  if (!URL_RE.test(url)) fail('url must be an http(s) URL without query or fragment');
  const gosumdb = str(doc, 'gosumdb', 8192);
  if (gosumdb !== `${verifierKey} ${url}`) fail('gosumdb is not "<verifierKey> <url>"');
  if (!isObject(doc.root)) fail('root must be an object');
  const certificate = str(doc.root, 'certificate', 65536);
  const sha256 = str(doc.root, 'sha256', 64);
  const root = checked('root.certificate', () =>
    rootCertificateFromDer(readPem(certificate, 'CERTIFICATE'), 'root certificate'),
  );
  if (sha256 !== root.sha256) fail('root.sha256 is not the SHA-256 of root.certificate');
  if (!isObject(doc.jwks)) fail('jwks must be an object');
  const keys = arr(doc.jwks.keys, 'jwks.keys', MAX_JWKS).map((k, i) => parseJwk(k, root, i));
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) fail('two JWKs share a kid');
  for (const vk of verifierKeys) {
    const x = base64url(spki(checked('verifierKeys', () => notePublicKey(vk))).subarray(12));
    if (!keys.some((k) => k.kty === 'OKP' && k.x === x))
      fail('a verifier key has no JWK with its certificate');
  }
  return { name, verifierKey, verifierKeys, gosumdb, url, root: { certificate, sha256 }, jwks: { keys } };
}
