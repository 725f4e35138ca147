/**
 * `ceremony init`: creates the signing authority of a log, offline. No network module is imported
 * anywhere in the ceremony (a test checks the sources). Every file is created exclusively; nothing
 * is written until every refusal has been checked, so a refused run leaves the directory as it was.
 *
 * It creates, in `keysDir` unless said otherwise:
 *   root-ca.key (in `rootDir`, 0400)  root-ca.pem (in keysDir, and in rootDir when that differs)
 *   note.key/note.pub (0600/0644, unless an earlier `ceremony init` or `npm start` made them: such
 *   a key is certified in place and never touched)  note.crt
 *   response-<hex>.key (0600)  response-<hex>.crt   trust.json   ceremony-<time>.txt
 * root-ca.key is encrypted PKCS#8 when a passphrase is given (encrypted-key.ts). A key named by a
 * PKCS#11 URI (--root-key, --note-key, --response-key) stays in its token: its URI is written
 * where the .key would be (root-ca.pkcs11, note.pkcs11, response-<hex>.pkcs11; token-files.ts),
 * and its public key is certified.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { isNoteKeyName, verifierKeyFromPublicKey, verifierKeyFromSignerKey } from '../core/note.ts';
import {
  RESPONSE_ALGORITHMS,
  ROOT_ALGORITHMS,
  describeKey,
  generateKeyPair,
  type KeyAlgorithm,
} from './algorithms.ts';
import { issueCertificate, rootCertificateFromDer, selfSignRoot, type RootAuthority } from './authority.ts';
import { openCeremonyKey, parseUriOption, tokenKeyRows, type TokenKeyRequest } from './ceremony-token.ts';
import { PBKDF2_ITERATIONS, checkNewPassphrase, encryptPrivateKey } from './encrypted-key.ts';
import type { TokenSigner } from './pkcs11/signer.ts';
import { asKeySigner, type SigningKey } from './signer.ts';
import { ed25519Raw, writeKeyUriFile } from './token-files.ts';
import { CreatedFiles, ensureKeyDir, readKeyFile } from './files.ts';
import {
  MODE_ONLINE_KEY,
  MODE_PUBLIC,
  MODE_ROOT_KEY,
  ROOT_CERT_FILE,
  ROOT_KEY_FILE,
  ROOT_URI_FILE,
  TRUST_FILE,
  keyId16,
  noteFiles,
  noteKid,
  responseFiles,
  responseKid,
  sha256Hex,
} from './layout.ts';
import {
  DEVELOPMENT_MARKER,
  isDevelopmentDir,
  noteGenerations,
  noteKeyName,
  notePublicKey,
  writeDevelopmentMarker,
  writeNoteKey,
} from './notekey.ts';
import { toPem } from './pem.ts';
import {
  ONLINE_DEFAULT_DAYS,
  ONLINE_MAX_DAYS,
  ROOT_DEFAULT_DAYS,
  ROOT_MAX_DAYS,
  noteCommonName,
  onlineKeyExtensions,
  responseCommonName,
  type OnlinePurpose,
} from './profiles.ts';
import { certificateRows, writeRecord, type RecordSection } from './record.ts';
import { collectTrustBundle, formatTrustBundle, writeTrustFile } from './trust.ts';
import type { TrustBundle } from './types.ts';
import { X509Certificate, type KeyObject } from 'node:crypto';

export interface InitOptions {
  name: string;
  keysDir: string;
  /** Where root-ca.key goes (default keysDir). Point it at the offline medium. */
  rootDir?: string;
  /** Public URL of the server (default https://<name>). */
  url?: string;
  rootAlg?: KeyAlgorithm;
  responseAlg?: KeyAlgorithm;
  /** Validity of the online keys' certificates, days (default 397, at most 825). */
  validDays?: number;
  /** Validity of the root, days (default 3650). */
  rootValidDays?: number;
  /** Clock, for tests (ms since the epoch). */
  now?: number;
  /** Marks the directory DEVELOPMENT (createDevelopmentAuthority). */
  development?: boolean;
  /** Encrypts root-ca.key with this passphrase (PBES2, encrypted-key.ts); without it the key is plain. */
  rootPassphrase?: string;
  /** PKCS#11 URIs of keys in tokens to use instead of new key files (RFC 7512, pkcs11/uri.ts). */
  rootKeyUri?: string;
  noteKeyUri?: string;
  responseKeyUri?: string;
  /** Generate the token keys named by the URIs first, inside the token, non-extractable. */
  generateInToken?: boolean;
  /** Environment for token PINs (SUMKEEP_PKCS11_PIN); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface CeremonyResult {
  /** Every file created, in order, with its mode. */
  created: { file: string; mode: number }[];
  name: string;
  verifierKey: string;
  /** The GOSUMDB value: "<verifierKey> <url>". */
  gosumdb: string;
  url: string;
  rootFile: string;
  rootKeyFile: string;
  /** SHA-256 of the root certificate, lowercase hex. */
  rootSha256: string;
  responseKid: string;
  /** True when an existing note key (an earlier `ceremony init`) was certified in place. */
  certifiedExistingNoteKey: boolean;
  trust: TrustBundle;
  recordFile: string;
}

const PUBLIC_URL_RE = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/** The public URL without trailing slashes; `config` error for anything but an http(s) URL. */
export function normalizeUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  if (!PUBLIC_URL_RE.test(u) || u.length > 2048) {
    throw new SumkeepError(
      'config',
      `--url ${JSON.stringify(url)}: want an http(s) URL such as https://sum.corp.internal`,
    );
  }
  return u;
}

/** A validity option: a whole number of days from 1 to `max`. */
export function checkDays(value: number | undefined, dflt: number, flag: string, max: number): number {
  const n = value ?? dflt;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new SumkeepError(
      'config',
      `${flag} ${String(value)}: want a whole number of days from 1 to ${max}`,
    );
  }
  return n;
}

function checkAlgorithm(alg: KeyAlgorithm, allowed: readonly KeyAlgorithm[], flag: string): KeyAlgorithm {
  if (!allowed.includes(alg))
    throw new SumkeepError('config', `${flag} ${alg}: want one of ${allowed.join(', ')}`);
  return alg;
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Issues and writes the certificate of an online key; returns its DER. */
export function certifyOnlineKey(
  files: CreatedFiles,
  root: RootAuthority,
  spec: {
    dir: string;
    file: string;
    purpose: OnlinePurpose;
    commonName: string;
    publicKey: KeyObject;
    now: number;
    days: number;
  },
): Uint8Array {
  const der = issueCertificate(root, {
    commonName: spec.commonName,
    publicKey: spec.publicKey,
    extensions: onlineKeyExtensions(spec.purpose),
    now: spec.now,
    days: spec.days,
  });
  files.write(spec.dir, spec.file, toPem(der, 'CERTIFICATE'), MODE_PUBLIC);
  return der;
}

/**
 * Creates a response-signing key and its certificate in `dir`; with `token`, certifies that key
 * (in a PKCS#11 token) instead and writes its URI (response-<hex>.pkcs11) where the .key would go.
 */
export function createResponseKey(
  files: CreatedFiles,
  root: RootAuthority,
  opts: { dir: string; alg: KeyAlgorithm; now: number; days: number; token?: TokenSigner },
): { kid: string; certFile: string; keyFile: string; der: Uint8Array } {
  let publicKey: KeyObject;
  let keyFile: string;
  if (opts.token !== undefined) {
    publicKey = opts.token.publicKey;
    keyFile = writeKeyUriFile(files, opts.dir, responseFiles(keyId16(publicKey)).uri, opts.token.uri);
  } else {
    const pair = generateKeyPair(opts.alg);
    publicKey = pair.publicKey;
    keyFile = files.write(
      opts.dir,
      responseFiles(keyId16(publicKey)).key,
      pkcs8Pem(pair.privateKey),
      MODE_ONLINE_KEY,
    );
  }
  const hex = keyId16(publicKey);
  const kid = responseKid(publicKey);
  const names = responseFiles(hex);
  const der = certifyOnlineKey(files, root, {
    dir: opts.dir,
    file: names.crt,
    purpose: 'response',
    commonName: responseCommonName(kid),
    publicKey,
    now: opts.now,
    days: opts.days,
  });
  return { kid, certFile: join(opts.dir, names.crt), keyFile, der };
}

function uniqueDirs(...dirs: string[]): string[] {
  const seen = new Map<string, string>();
  for (const d of dirs) if (!seen.has(resolve(d))) seen.set(resolve(d), d);
  return [...seen.values()];
}

/** The note key already in `keysDir` (from an earlier init), checked; null when there is none. */
function existingNoteKey(keysDir: string, name: string, development: boolean): string | null {
  const gens = noteGenerations(keysDir);
  if (gens.length === 0) return null;
  if (!development && isDevelopmentDir(keysDir)) {
    throw new SumkeepError(
      'config',
      `${keysDir} holds a DEVELOPMENT note key (${DEVELOPMENT_MARKER}); a production log needs a key made offline: use a new --keys directory`,
    );
  }
  const files = noteFiles(0);
  if (gens.some((g) => g !== 0) || readKeyFile(keysDir, files.key) === null) {
    throw new SumkeepError(
      'config',
      `${keysDir} holds note key files without a root CA that an earlier \`ceremony init\` did not make; use a new --keys directory`,
    );
  }
  if (existsSync(join(keysDir, files.crt))) {
    throw new SumkeepError(
      'key_exists',
      `${join(keysDir, files.crt)} already exists; sumkeep never overwrites key material`,
    );
  }
  const skey = readKeyFile(keysDir, files.key)!;
  let vkey: string;
  try {
    vkey = verifierKeyFromSignerKey(skey);
  } catch (e) {
    throw new SumkeepError('config', `${join(keysDir, files.key)}: ${(e as Error).message}`, { cause: e });
  }
  const keyName = vkey.slice(0, vkey.indexOf('+'));
  if (keyName !== name) {
    throw new SumkeepError(
      'config',
      `${join(keysDir, files.key)} is the key of log ${JSON.stringify(keyName)}, not ${JSON.stringify(name)}: pass --name ${keyName} to certify it`,
    );
  }
  const pub = readKeyFile(keysDir, files.pub);
  if (pub !== null && pub !== vkey) {
    throw new SumkeepError('config', `${join(keysDir, files.pub)} does not belong to ${files.key}`);
  }
  return vkey;
}

/** What `initAuthority` checks before it writes anything (see preflightInit). */
interface CheckedInit {
  now: number;
  development: boolean;
  url: string;
  rootAlg: KeyAlgorithm;
  responseAlg: KeyAlgorithm;
  rootDays: number;
  days: number;
  keysDir: string;
  rootDir: string;
  tokens: { root?: TokenKeyRequest; note?: TokenKeyRequest; response?: TokenKeyRequest };
  /** The note key an earlier init made, certified in place; null for a new one. */
  existingVkey: string | null;
}

/**
 * Every check `initAuthority` makes before it writes anything (option values, PKCS#11 URIs, files
 * that would be overwritten). The CLI calls it before asking for a passphrase, so that a refused run
 * asks nothing. Throws `config` or `key_exists`.
 */
export function preflightInit(o: InitOptions): CheckedInit {
  const now = o.now ?? Date.now();
  const development = o.development === true;
  if (!isNoteKeyName(o.name)) {
    throw new SumkeepError(
      'config',
      `invalid log name ${JSON.stringify(o.name)}: it must be non-empty, without spaces, '+' or control characters`,
    );
  }
  const url = normalizeUrl(o.url === undefined || o.url === '' ? `https://${o.name}` : o.url);
  const rootAlg = checkAlgorithm(o.rootAlg ?? 'ed25519', ROOT_ALGORITHMS, '--root-alg');
  const responseAlg = checkAlgorithm(o.responseAlg ?? 'ed25519', RESPONSE_ALGORITHMS, '--response-alg');
  const rootDays = checkDays(o.rootValidDays, ROOT_DEFAULT_DAYS, '--root-valid-days', ROOT_MAX_DAYS);
  const days = checkDays(o.validDays, ONLINE_DEFAULT_DAYS, '--valid-days', ONLINE_MAX_DAYS);
  if (days > rootDays) {
    throw new SumkeepError('config', `--valid-days ${days} is longer than the root's ${rootDays} days`);
  }
  const keysDir = o.keysDir;
  const rootDir = o.rootDir ?? keysDir;

  const tokens: CheckedInit['tokens'] = {};
  if (o.rootKeyUri !== undefined) {
    tokens.root = {
      flag: '--root-key',
      uri: parseUriOption(o.rootKeyUri, '--root-key'),
      allowed: ROOT_ALGORITHMS,
      generate: rootAlg,
    };
  }
  if (o.noteKeyUri !== undefined) {
    tokens.note = {
      flag: '--note-key',
      uri: parseUriOption(o.noteKeyUri, '--note-key'),
      allowed: ['ed25519'],
      generate: 'ed25519',
    };
  }
  if (o.responseKeyUri !== undefined) {
    tokens.response = {
      flag: '--response-key',
      uri: parseUriOption(o.responseKeyUri, '--response-key'),
      allowed: RESPONSE_ALGORITHMS,
      generate: responseAlg,
    };
  }
  const anyToken = Object.keys(tokens).length > 0;
  if (o.generateInToken === true && !anyToken) {
    throw new SumkeepError(
      'config',
      '--generate-in-token needs --root-key, --note-key or --response-key <pkcs11 URI>',
    );
  }
  if (development && anyToken)
    throw new SumkeepError('config', 'a development authority keeps its keys in files');
  if (tokens.root !== undefined && o.rootPassphrase !== undefined) {
    throw new SumkeepError(
      'config',
      '--root-key: the root key stays in its token, so there is no root-ca.key to encrypt: drop the passphrase',
    );
  }
  if (o.rootPassphrase !== undefined) checkNewPassphrase(o.rootPassphrase);

  // Refusals first: nothing is written unless all of these pass.
  const again =
    'this key directory has had its ceremony; for new online keys run `sumkeep ceremony rotate --purpose response|note` ' +
    '(and `sumkeep ceremony tls` for a TLS certificate); for a new log use a new --keys directory';
  for (const dir of uniqueDirs(keysDir, rootDir)) {
    if (existsSync(join(dir, ROOT_CERT_FILE))) {
      throw new SumkeepError('key_exists', `${join(dir, ROOT_CERT_FILE)} already exists: ${again}`);
    }
  }
  for (const f of [ROOT_KEY_FILE, ROOT_URI_FILE]) {
    if (existsSync(join(rootDir, f))) {
      throw new SumkeepError('key_exists', `${join(rootDir, f)} already exists: ${again}`);
    }
  }
  if (existsSync(join(keysDir, TRUST_FILE))) {
    throw new SumkeepError('key_exists', `${join(keysDir, TRUST_FILE)} already exists: ${again}`);
  }
  if (tokens.note !== undefined && noteGenerations(keysDir).length > 0) {
    throw new SumkeepError(
      'key_exists',
      `${keysDir} already holds note key files; --note-key certifies a key in a token into a new --keys directory`,
    );
  }
  const existingVkey = tokens.note === undefined ? existingNoteKey(keysDir, o.name, development) : null;
  return {
    now,
    development,
    url,
    rootAlg,
    responseAlg,
    rootDays,
    days,
    keysDir,
    rootDir,
    tokens,
    existingVkey,
  };
}

/**
 * `ceremony init`: see the file comment. Refuses (key_exists) a directory that already has a root
 * CA or trust.json, and explains `rotate`. Keys named by PKCS#11 URIs are opened (generated first
 * with `generateInToken`) after every refusal has passed and before any file is written; their
 * public keys are certified and their URIs written where the key files would be.
 */
export function initAuthority(o: InitOptions): CeremonyResult {
  const c = preflightInit(o);
  const { now, development, url, rootAlg, responseAlg, rootDays, days, keysDir, rootDir, existingVkey } = c;
  const generate = o.generateInToken === true;
  const env = o.env === undefined ? {} : { env: o.env };
  const tokenRoot = c.tokens.root && openCeremonyKey(c.tokens.root, { generate, ...env });
  const tokenNote = c.tokens.note && openCeremonyKey(c.tokens.note, { generate, ...env });
  const tokenResponse = c.tokens.response && openCeremonyKey(c.tokens.response, { generate, ...env });

  ensureKeyDir(keysDir);
  ensureKeyDir(rootDir);
  const files = new CreatedFiles();

  // Root CA: a new key (encrypted with the passphrase when there is one), or the token's.
  let rootKey: SigningKey;
  let rootKeyFile: string;
  let rootProtection: string;
  if (tokenRoot !== undefined) {
    rootKey = tokenRoot;
    rootKeyFile = writeKeyUriFile(files, rootDir, ROOT_URI_FILE, tokenRoot.uri);
    rootProtection = 'in a PKCS#11 token (non-extractable)';
  } else {
    const { privateKey } = generateKeyPair(rootAlg);
    rootKey = privateKey;
    const pem =
      o.rootPassphrase === undefined ? pkcs8Pem(privateKey) : encryptPrivateKey(privateKey, o.rootPassphrase);
    rootKeyFile = files.write(rootDir, ROOT_KEY_FILE, pem, MODE_ROOT_KEY);
    rootProtection =
      o.rootPassphrase !== undefined
        ? `encrypted PKCS#8 (PBES2: PBKDF2-HMAC-SHA256, ${PBKDF2_ITERATIONS} iterations, AES-256-CBC)`
        : development
          ? 'NOT ENCRYPTED (development authority)'
          : 'NOT ENCRYPTED (--insecure-plaintext-root)';
  }
  const rootDer = selfSignRoot(rootKey, o.name, { now, days: rootDays, development });
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  const rootFile = files.write(keysDir, ROOT_CERT_FILE, rootPem, MODE_PUBLIC);
  if (resolve(rootDir) !== resolve(keysDir)) files.write(rootDir, ROOT_CERT_FILE, rootPem, MODE_PUBLIC);
  const root: RootAuthority = {
    ...rootCertificateFromDer(rootDer, rootFile),
    keyFile: rootKeyFile,
    privateKey: rootKey,
  };

  // Note key: made here, in a token, or the one an earlier init made, certified in place.
  const note = noteFiles(0);
  let verifierKey: string;
  if (tokenNote !== undefined) {
    verifierKey = verifierKeyFromPublicKey(o.name, ed25519Raw(tokenNote.publicKey));
    writeKeyUriFile(files, keysDir, note.uri, tokenNote.uri);
    files.write(keysDir, note.pub, verifierKey + '\n', MODE_PUBLIC);
  } else if (existingVkey === null) {
    verifierKey = writeNoteKey(keysDir, 0, o.name);
    files.add(join(keysDir, note.key), MODE_ONLINE_KEY);
    files.add(join(keysDir, note.pub), MODE_PUBLIC);
    if (development) {
      writeDevelopmentMarker(keysDir);
      files.add(join(keysDir, DEVELOPMENT_MARKER), MODE_PUBLIC);
    }
  } else {
    verifierKey = existingVkey;
    if (readKeyFile(keysDir, note.pub) === null)
      files.write(keysDir, note.pub, verifierKey + '\n', MODE_PUBLIC);
  }
  const noteDer = certifyOnlineKey(files, root, {
    dir: keysDir,
    file: note.crt,
    purpose: 'note',
    commonName: noteCommonName(noteKeyName(verifierKey)),
    publicKey: notePublicKey(verifierKey),
    now,
    days,
  });

  const response = createResponseKey(files, root, {
    dir: keysDir,
    alg: responseAlg,
    now,
    days,
    ...(tokenResponse === undefined ? {} : { token: tokenResponse }),
  });

  const trust = collectTrustBundle(keysDir, { root, url, now });
  writeTrustFile(keysDir, trust, { replace: false });
  files.add(join(keysDir, TRUST_FILE), MODE_PUBLIC);

  const rootLabel = describeKey(asKeySigner(rootKey).publicKey).label;
  const responseLabel = describeKey(new X509Certificate(response.der).publicKey).label;
  const sections: RecordSection[] = [
    {
      title: 'Log',
      rows: [
        ['public URL', url],
        ['verifier key', verifierKey],
        ['GOSUMDB', `"${trust.gosumdb}"`],
        ['trust.json SHA-256', sha256Hex(Buffer.from(formatTrustBundle(trust)))],
      ],
    },
    {
      title: `Root CA (${rootLabel}) - KEEP OFFLINE`,
      rows: [
        ...(tokenRoot === undefined
          ? [
              ['private key', rootKeyFile] as [string, string],
              ['private key protection', rootProtection] as [string, string],
            ]
          : [['token URI file', rootKeyFile] as [string, string], ...tokenKeyRows(tokenRoot, generate)]),
        ...certificateRows(rootFile, rootDer),
      ],
    },
    {
      title: 'Note key (online: signs tree heads; its verifier key is the GOSUMDB key)',
      rows: [
        ...(tokenNote === undefined
          ? [['private key', join(keysDir, note.key)] as [string, string]]
          : [
              ['token URI file', join(keysDir, note.uri)] as [string, string],
              ...tokenKeyRows(tokenNote, generate),
            ]),
        ['kid', noteKid(notePublicKey(verifierKey))],
        ['certified in place', existingVkey === null ? 'no (new key)' : 'yes (key of an earlier init)'],
        ...certificateRows(join(keysDir, note.crt), noteDer),
      ],
    },
    {
      title: `Response-signing key (${responseLabel}; online: signs API responses)`,
      rows: [
        [tokenResponse === undefined ? 'private key' : 'token URI file', response.keyFile],
        ...(tokenResponse === undefined ? [] : tokenKeyRows(tokenResponse, generate)),
        ['kid', response.kid],
        ...certificateRows(response.certFile, response.der),
      ],
    },
  ];
  const anyToken = tokenRoot !== undefined || tokenNote !== undefined || tokenResponse !== undefined;
  const recordFile = writeRecord(keysDir, {
    ceremony: development ? 'init (DEVELOPMENT: not for production)' : 'init',
    time: now,
    name: o.name,
    sections,
    checks: [
      'the machine had no network connection during the ceremony',
      `the root CA fingerprint equals the output of \`openssl x509 -noout -fingerprint -sha256 -in ${rootFile}\``,
      'the GOSUMDB value equals the one printed on screen and the "gosumdb" field of trust.json',
      `\`openssl verify -CAfile ${rootFile} ${join(keysDir, note.crt)} ${response.certFile}\` prints OK for both`,
      tokenRoot === undefined
        ? `${ROOT_KEY_FILE} is on offline media only and will not be copied to the online server`
        : 'the root HSM will be disconnected and stored offline; it is never attached to the online server',
      ...(anyToken ? ['every key in a token shows CKA_SENSITIVE true and CKA_EXTRACTABLE false above'] : []),
    ],
  });
  files.add(recordFile, MODE_PUBLIC);

  return {
    created: files.list,
    name: o.name,
    verifierKey,
    gosumdb: trust.gosumdb,
    url,
    rootFile,
    rootKeyFile,
    rootSha256: root.sha256,
    responseKid: response.kid,
    certifiedExistingNoteKey: existingVkey !== null,
    trust,
    recordFile,
  };
}

/**
 * A full authority for development (`serve --dev`), marked DEVELOPMENT; the root key stays in
 * `dir` (serve --dev passes allowRootKey). Creates only what is missing and never mixes a
 * development root into a production key directory: returns null, creating nothing, when `dir`
 * already has a root CA or holds a note key that is not a development key.
 */
export function createDevelopmentAuthority(
  dir: string,
  name: string,
  opts: { url?: string; now?: number } = {},
): CeremonyResult | null {
  if (existsSync(join(dir, ROOT_CERT_FILE))) return null;
  const noteKey = readKeyFile(dir, noteFiles(0).key);
  if (noteKey !== null && !isDevelopmentDir(dir)) return null;
  let logName = name;
  if (noteKey !== null) {
    const vkey = verifierKeyFromSignerKey(noteKey);
    logName = vkey.slice(0, vkey.indexOf('+'));
  }
  return initAuthority({
    name: logName,
    keysDir: dir,
    development: true,
    ...(opts.url === undefined ? {} : { url: opts.url }),
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
}
