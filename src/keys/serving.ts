/**
 * `loadServingKeys`: everything `serve` needs from a key directory, checked before the server
 * starts. The root CA private key is never needed and its presence is refused, because a key
 * directory on an online server must not hold it.
 *
 * Two kinds of directory:
 *  - note key only (made by the earlier `ceremony init` or `serve --dev` before the ceremony
 *    existed): note signers, no response signer, no trust bundle.
 *  - after `ceremony init`: root-ca.pem (or the root inside trust.json), trust.json, note and
 *    response keys with certificates. Every certificate must be issued by the root for its purpose
 *    and match its key; trust.json must list the keys that sign (a stale trust.json is refused:
 *    clients would reject what the server signs).
 * A note or response key may be a `.pkcs11` URI file instead of a `.key`: the key is opened in its
 * token here (a wrong PIN or an absent token stops the start with the token's name) and signs
 * through it afterwards.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { describeKey } from './algorithms.ts';
import {
  issuedBy,
  keysMatch,
  loadRootCertificate,
  readCertificateFile,
  readPrivateKeyFile,
  rootCertificateFromDer,
  type RootCertificate,
} from './authority.ts';
import {
  ROOT_CERT_FILE,
  ROOT_KEY_FILE,
  ROOT_URI_FILE,
  TRUST_FILE,
  keyId16,
  noteFiles,
  noteGenerationOf,
  noteKid,
  responseFiles,
  responseIdOf,
  responseKid,
} from './layout.ts';
import { loadNoteKeys, notePublicKey } from './notekey.ts';
import { readPem } from './pem.ts';
import { DAY_MS, hasPurpose, type OnlinePurpose } from './profiles.ts';
import { checkKeyDirectory, checkSecretFile } from './permissions.ts';
import { TokenSigner } from './pkcs11/signer.ts';
import { memorySigner, type KeySigner } from './signer.ts';
import { readKeyUriFile } from './token-files.ts';
import { readTrustFile, validAt } from './trust.ts';
import type { ResponseSigner, ServingKeys, TrustBundle } from './types.ts';
import { parseCertificate } from './x509.ts';

/** Certificates ending within this many days are reported in `warnings`. */
export const EXPIRY_WARNING_DAYS = 30;

function rootKeyRefusal(dir: string, file = ROOT_KEY_FILE): SumkeepError {
  return new SumkeepError(
    'config',
    `${join(dir, file)}: the key directory holds the root CA private key (or names its token), which serve never needs; ` +
      'move it to offline storage (see docs/ceremony.md), or pass --allow-root-key (development only)',
  );
}

function checkCertificate(
  der: Uint8Array,
  root: RootCertificate,
  purpose: OnlinePurpose,
  file: string,
): void {
  if (!issuedBy(new X509Certificate(der), root)) {
    throw new SumkeepError('config', `${file} was not issued by the root CA ${root.file}`);
  }
  if (!hasPurpose(parseCertificate(der), purpose)) {
    throw new SumkeepError('config', `${file} is not a sumkeep ${purpose} key certificate`);
  }
}

function endsSoon(file: string, notAfter: number, now: number, warnings: string[]): void {
  const days = Math.floor((notAfter - now) / DAY_MS);
  if (days < EXPIRY_WARNING_DAYS) {
    warnings.push(
      `${file} ends in ${days} days (${new Date(notAfter).toISOString()}): rotate the key (docs/ceremony.md)`,
    );
  }
}

interface ResponseCandidate {
  signer: ResponseSigner;
  notBefore: number;
  file: string;
}

/** The private half of a response key: its PEM file, or the token its .pkcs11 file names. */
function responseKeySigner(dir: string, hex: string, env: NodeJS.ProcessEnv | undefined): KeySigner {
  const files = responseFiles(hex);
  const uriFile = join(dir, files.uri);
  if (existsSync(uriFile)) {
    if (existsSync(join(dir, files.key))) {
      throw new SumkeepError('config', `${dir} holds both ${files.key} and ${files.uri}: keep one`);
    }
    return new TokenSigner(readKeyUriFile(uriFile), env === undefined ? {} : { env });
  }
  const keyFile = join(dir, files.key);
  return memorySigner(readPrivateKeyFile(keyFile), keyFile);
}

function loadResponseKeys(
  dir: string,
  root: RootCertificate,
  env: NodeJS.ProcessEnv | undefined,
): ResponseCandidate[] {
  const out: ResponseCandidate[] = [];
  for (const name of readdirSync(dir).sort()) {
    const hex = responseIdOf(name);
    if (hex === null || !(name.endsWith('.key') || name.endsWith('.pkcs11'))) continue;
    const files = responseFiles(hex);
    const keyFile = join(dir, name);
    const certFile = join(dir, files.crt);
    if (!existsSync(certFile)) throw new SumkeepError('config', `${keyFile} has no certificate ${files.crt}`);
    const key = responseKeySigner(dir, hex, env);
    const { jws } = describeKey(key.publicKey);
    const { der, parsed, x509 } = readCertificateFile(certFile);
    if (!keysMatch(key, x509.publicKey) || keyId16(x509.publicKey) !== hex) {
      throw new SumkeepError('config', `${certFile} does not certify the key in ${name}`);
    }
    checkCertificate(der, root, 'response', certFile);
    out.push({
      file: certFile,
      notBefore: parsed.notBefore,
      signer: Object.freeze({
        kid: responseKid(x509.publicKey),
        alg: jws,
        notAfter: parsed.notAfter,
        inToken: key.inToken,
        sign: (data: Uint8Array) => key.sign(data),
      }),
    });
  }
  return out;
}

/**
 * Refuses a key directory, or a private key file in it, that group or others can use (see
 * permissions.ts); checked before any key is read.
 */
function checkModes(dir: string): void {
  checkKeyDirectory(dir);
  for (const name of readdirSync(dir).sort()) {
    const isKey = name.endsWith('.key') && (noteGenerationOf(name) !== null || responseIdOf(name) !== null);
    if (isKey || name === ROOT_KEY_FILE) checkSecretFile(join(dir, name));
  }
}

function hasCertificates(dir: string): boolean {
  return readdirSync(dir).some(
    (f) => f.endsWith('.crt') && (f.startsWith('note') || f.startsWith('response-')),
  );
}

/**
 * Loads and checks the serving keys of `dir` (see the file comment). Throws SumkeepError('config')
 * naming the file and the fix for anything missing, inconsistent or malformed; refuses a directory
 * holding root-ca.key unless `allowRootKey`, and a directory or private key file that group or
 * others can read (naming the chmod that fixes it).
 */
export function loadServingKeys(
  dir: string,
  opts: { allowRootKey?: boolean; now?: number; env?: NodeJS.ProcessEnv } = {},
): ServingKeys {
  const now = opts.now ?? Date.now();
  if (existsSync(join(dir, ROOT_KEY_FILE)) && opts.allowRootKey !== true) throw rootKeyRefusal(dir);
  if (existsSync(join(dir, ROOT_URI_FILE)) && opts.allowRootKey !== true)
    throw rootKeyRefusal(dir, ROOT_URI_FILE);
  if (existsSync(dir)) checkModes(dir);
  const note = loadNoteKeys(dir, { now, ...(opts.env === undefined ? {} : { env: opts.env }) });
  const warnings: string[] = [];
  const rootFile = loadRootCertificate(dir);
  const trust: TrustBundle | null = readTrustFile(dir);
  const responseKeyFiles = readdirSync(dir).filter(
    (f) => responseIdOf(f) !== null && (f.endsWith('.key') || f.endsWith('.pkcs11')),
  );

  if (rootFile === null && trust === null && !hasCertificates(dir) && responseKeyFiles.length === 0) {
    return {
      name: note.name,
      verifierKey: note.verifierKey,
      noteSigners: note.signers,
      responseSigner: null,
      trust: null,
      development: note.development,
      warnings,
    };
  }

  if (trust === null) {
    throw new SumkeepError(
      'config',
      `no ${TRUST_FILE} in ${dir}, but certificates are there: copy trust.json from the ceremony (sumkeep ceremony export-public)`,
    );
  }
  const root =
    rootFile ?? rootCertificateFromDer(readPem(trust.root.certificate, 'CERTIFICATE'), join(dir, TRUST_FILE));
  if (trust.root.sha256 !== root.sha256) {
    throw new SumkeepError(
      'config',
      `${join(dir, TRUST_FILE)} names another root CA than ${join(dir, ROOT_CERT_FILE)}`,
    );
  }
  if (trust.name !== note.name) {
    throw new SumkeepError(
      'config',
      `${join(dir, TRUST_FILE)} is for log ${trust.name}, the note key for ${note.name}`,
    );
  }

  for (const k of note.keys) {
    const file = join(dir, noteFiles(k.generation).crt);
    if (k.certificate === null) {
      throw new SumkeepError(
        'config',
        `${join(dir, noteFiles(k.generation).key)} has no certificate ${noteFiles(k.generation).crt}`,
      );
    }
    checkCertificate(k.certificate.der, root, 'note', file);
    endsSoon(file, k.certificate.notAfter, now, warnings);
    if (!trust.verifierKeys.includes(k.verifierKey)) {
      throw new SumkeepError(
        'config',
        `${join(dir, TRUST_FILE)} does not list note key ${noteKid(notePublicKey(k.verifierKey))} (${noteFiles(k.generation).key}): copy the trust.json made by the last rotation`,
      );
    }
  }
  if (!note.keys.some((k) => k.verifierKey === trust.verifierKey)) {
    throw new SumkeepError(
      'config',
      `the GOSUMDB key in ${join(dir, TRUST_FILE)} is not a note key of ${dir} that is valid now: copy the note key files of the last rotation`,
    );
  }

  const candidates = loadResponseKeys(dir, root, opts.env);
  const valid = candidates
    .filter((c) => validAt({ notBefore: c.notBefore, notAfter: c.signer.notAfter }, now))
    .sort((a, b) => b.notBefore - a.notBefore || a.signer.kid.localeCompare(b.signer.kid));
  const chosen = valid[0] ?? null;
  if (chosen === null) {
    warnings.push(
      candidates.length === 0
        ? `no response-signing key in ${dir}: responses are not signed; run \`sumkeep ceremony rotate --purpose response\``
        : `no response-signing key in ${dir} has a certificate valid now: run \`sumkeep ceremony rotate --purpose response\``,
    );
  } else {
    if (!trust.jwks.keys.some((k) => k.kid === chosen.signer.kid)) {
      throw new SumkeepError(
        'config',
        `${join(dir, TRUST_FILE)} does not list response key ${chosen.signer.kid}: copy the trust.json made by the last rotation`,
      );
    }
    endsSoon(chosen.file, chosen.signer.notAfter, now, warnings);
  }

  return {
    name: note.name,
    verifierKey: note.verifierKey,
    noteSigners: note.signers,
    responseSigner: chosen?.signer ?? null,
    trust,
    development: note.development,
    certificates: [
      ...note.keys.flatMap((k) =>
        k.certificate === null ? [] : [{ purpose: 'note' as const, notAfter: k.certificate.notAfter }],
      ),
      ...(chosen === null ? [] : [{ purpose: 'response' as const, notAfter: chosen.signer.notAfter }]),
    ],
    warnings,
  };
}
