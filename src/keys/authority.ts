/**
 * The root CA: creating it, loading its certificate (public, needed everywhere) or its private key
 * (offline only, needed to issue), and issuing certificates within its validity.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual } from '../core/bytes.ts';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { describeKey, generateKeyPair, type KeyAlgorithm } from './algorithms.ts';
import { issuerProblem } from './constraints.ts';
import { decryptPrivateKey, isEncryptedPem } from './encrypted-key.ts';
import { ROOT_CERT_FILE, ROOT_KEY_FILE, ROOT_URI_FILE, sha256Hex } from './layout.ts';
import { TokenSigner } from './pkcs11/signer.ts';
import { asKeySigner, type SigningKey } from './signer.ts';
import { readKeyUriFile } from './token-files.ts';
import { readPem, toPem } from './pem.ts';
import { BACKDATE_MS, DAY_MS, rootCommonName, rootExtensions } from './profiles.ts';
import { createCertificate, parseCertificate, type Extensions, type ParsedCertificate } from './x509.ts';

export interface RootCertificate {
  file: string;
  der: Uint8Array;
  pem: string;
  parsed: ParsedCertificate;
  x509: X509Certificate;
  publicKey: KeyObject;
  /** Lowercase hex SHA-256 of the DER. */
  sha256: string;
}

export interface RootAuthority extends RootCertificate {
  /** root-ca.key, or root-ca.pkcs11 for a root key in an HSM. */
  keyFile: string;
  /** In memory (from root-ca.key) or a KeySigner (a token). */
  privateKey: SigningKey;
}

/** The self-signed root certificate of `key` (a new key, or one in a token). */
export function selfSignRoot(
  key: SigningKey,
  name: string,
  opts: { now: number; days: number; development?: boolean },
): Uint8Array {
  const signer = asKeySigner(key);
  const notBefore = opts.now - BACKDATE_MS;
  return createCertificate({
    commonName: rootCommonName(name, opts.development === true),
    publicKey: signer.publicKey,
    notBefore,
    notAfter: notBefore + opts.days * DAY_MS,
    issuer: { selfSigned: signer },
    extensions: rootExtensions(),
  });
}

/** A new root key pair and its self-signed certificate. */
export function createRoot(
  alg: KeyAlgorithm,
  name: string,
  opts: { now: number; days: number; development?: boolean },
): { privateKey: KeyObject; der: Uint8Array } {
  const { privateKey } = generateKeyPair(alg);
  return { privateKey, der: selfSignRoot(privateKey, name, opts) };
}

/** Reads a file sumkeep wrote; `config` error with the path when it cannot. */
export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Parses a PEM certificate from `file`; any problem is a `config` error naming the file. */
export function readCertificateFile(file: string): {
  der: Uint8Array;
  parsed: ParsedCertificate;
  x509: X509Certificate;
} {
  return parseCertificatePem(readTextFile(file), file);
}

export function parseCertificatePem(
  pem: string,
  source: string,
): { der: Uint8Array; parsed: ParsedCertificate; x509: X509Certificate } {
  try {
    const der = readPem(pem, 'CERTIFICATE');
    return { der, parsed: parseCertificate(der), x509: new X509Certificate(der) };
  } catch (e) {
    const why = isSumkeepError(e) ? e.message : 'not a certificate';
    throw new SumkeepError('config', `${source}: ${why}`, { cause: e });
  }
}

/** Checks that `der` is a self-signed CA certificate sumkeep can use as root; `config` otherwise. */
export function rootCertificateFromDer(der: Uint8Array, source: string): RootCertificate {
  const pem = toPem(der, 'CERTIFICATE');
  const { parsed, x509 } = parseCertificatePem(pem, source);
  if (!bytesEqual(parsed.subject, parsed.issuer) || !x509.verify(x509.publicKey)) {
    throw new SumkeepError('config', `${source} is not a self-signed CA certificate`);
  }
  // The same issuer rules as `sumkeep verify` applies to the pinned root (constraints.ts).
  const problem = issuerProblem(der);
  if (problem !== null) {
    throw new SumkeepError('config', `${source} is not a self-signed CA certificate: it ${problem}`);
  }
  describeKey(x509.publicKey);
  return { file: source, der, pem, parsed, x509, publicKey: x509.publicKey, sha256: sha256Hex(der) };
}

/** The root certificate in `keysDir` (else in `rootDir`), or null when there is none. */
export function loadRootCertificate(keysDir: string, rootDir?: string): RootCertificate | null {
  for (const dir of rootDir === undefined ? [keysDir] : [keysDir, rootDir]) {
    const file = join(dir, ROOT_CERT_FILE);
    if (existsSync(file)) return rootCertificateFromDer(readCertificateFile(file).der, file);
  }
  return null;
}

/** Reads a PKCS#8 PEM private key; `config` error naming the file. Never quotes the key. */
export function readPrivateKeyFile(file: string): KeyObject {
  const text = readTextFile(file);
  try {
    return createPrivateKey(text);
  } catch (e) {
    throw new SumkeepError(
      'config',
      `${file} is not an unencrypted PEM private key (${(e as { code?: string }).code ?? 'unreadable'})`,
      { cause: e },
    );
  }
}

function spkiDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** True when the private key (in memory or in a token) belongs to the public key. */
export function keysMatch(privateKey: SigningKey, publicKey: KeyObject): boolean {
  const pub = 'sign' in privateKey ? privateKey.publicKey : createPublicKey(privateKey);
  return bytesEqual(spkiDer(pub), spkiDer(publicKey));
}

/** True when the root CA key in `rootDir` is encrypted (needs a passphrase); false when absent or plain. */
export function rootKeyIsEncrypted(rootDir: string): boolean {
  const file = join(rootDir, ROOT_KEY_FILE);
  return existsSync(file) && isEncryptedPem(readTextFile(file));
}

/**
 * The root CA private key of `file`: decrypted with `passphrase` when the file is encrypted
 * (config error naming both ways to give it when there is none), else read as it is.
 */
export function readRootKeyFile(file: string, passphrase: string | undefined): KeyObject {
  const text = readTextFile(file);
  if (!isEncryptedPem(text)) return readPrivateKeyFile(file);
  if (passphrase === undefined) {
    throw new SumkeepError(
      'config',
      `${file} is encrypted: type its passphrase on the terminal, or give --passphrase-file <file>`,
    );
  }
  return decryptPrivateKey(text, passphrase, file);
}

/**
 * The root with its private key, for issuing (offline). Root certificate from `keysDir` (or
 * `rootDir`), private key from `rootDir` (decrypted with `passphrase` when it is encrypted).
 * Refuses a key that does not match or a root that ended.
 */
export function loadRootAuthority(
  keysDir: string,
  rootDir: string,
  now: number,
  opts: { passphrase?: string; env?: NodeJS.ProcessEnv } = {},
): RootAuthority {
  const cert = loadRootCertificate(keysDir, rootDir);
  if (cert === null) {
    throw new SumkeepError(
      'config',
      `no ${ROOT_CERT_FILE} in ${keysDir}: run \`sumkeep ceremony init\` first (or point --keys at the key directory)`,
    );
  }
  const keyFile = join(rootDir, ROOT_KEY_FILE);
  const uriFile = join(rootDir, ROOT_URI_FILE);
  if (existsSync(keyFile) && existsSync(uriFile)) {
    throw new SumkeepError(
      'config',
      `${rootDir} holds both ${ROOT_KEY_FILE} and ${ROOT_URI_FILE}: keep the one the root certificate belongs to`,
    );
  }
  if (!existsSync(keyFile) && !existsSync(uriFile)) {
    throw new SumkeepError(
      'config',
      `no ${ROOT_KEY_FILE} (or ${ROOT_URI_FILE}) in ${rootDir}: this needs the root CA private key; run it on the offline machine with --root <directory holding ${ROOT_KEY_FILE}>`,
    );
  }
  if (existsSync(uriFile) && opts.passphrase !== undefined) {
    throw new SumkeepError(
      'config',
      `the root key is in a token (${uriFile}): a passphrase is not used; the token's PIN comes from its pin-source`,
    );
  }
  const privateKey: SigningKey = existsSync(uriFile)
    ? new TokenSigner(readKeyUriFile(uriFile), opts.env === undefined ? {} : { env: opts.env })
    : readRootKeyFile(keyFile, opts.passphrase);
  if (!keysMatch(privateKey, cert.publicKey)) {
    throw new SumkeepError('config', `${keyFile} does not belong to ${cert.file}`);
  }
  if (cert.parsed.notAfter <= now) {
    throw new SumkeepError(
      'config',
      `the root CA ended on ${new Date(cert.parsed.notAfter).toISOString()}: a new root needs a new key directory (see docs/ceremony.md)`,
    );
  }
  return { ...cert, keyFile: existsSync(uriFile) ? uriFile : keyFile, privateKey };
}

/**
 * Issues a certificate from `root` valid for `days` from now (backdated by BACKDATE_MS). Refuses
 * (config) a validity that would end after the root's.
 */
export function issueCertificate(
  root: RootAuthority,
  spec: { commonName: string; publicKey: KeyObject; extensions: Extensions; now: number; days: number },
): Uint8Array {
  const notBefore = Math.max(spec.now - BACKDATE_MS, root.parsed.notBefore);
  const notAfter = spec.now - BACKDATE_MS + spec.days * DAY_MS;
  if (notAfter > root.parsed.notAfter) {
    const left = Math.floor((root.parsed.notAfter - spec.now + BACKDATE_MS) / DAY_MS);
    throw new SumkeepError(
      'config',
      `--valid-days ${spec.days}: the certificate would end after the root CA (${new Date(root.parsed.notAfter).toISOString()}); at most ${Math.max(left, 0)} days remain`,
    );
  }
  return createCertificate({
    commonName: spec.commonName,
    publicKey: spec.publicKey,
    notBefore,
    notAfter,
    issuer: { name: root.parsed.subject, privateKey: root.privateKey, publicKey: root.publicKey },
    extensions: spec.extensions,
  });
}

/** True when `cert` names `root` as issuer and carries a valid signature by the root's key. */
export function issuedBy(cert: X509Certificate, root: RootCertificate): boolean {
  try {
    return cert.checkIssued(root.x509) && cert.verify(root.publicKey);
  } catch {
    return false;
  }
}
