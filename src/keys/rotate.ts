/**
 * `ceremony rotate --purpose response|note`, offline (needs the root private key): a new online
 * key certified by the root, next to the old ones, which stay valid until their certificate ends.
 * trust.json is rebuilt from the certificates (old keys still valid stay in it).
 *
 *   response  response-<hex>.key/.crt; the server signs with the newest valid response key.
 *   note      note-<n>.key/.pub/.crt (n = the next generation); the server signs every tree head
 *             with every valid note key, so clients configured with either key keep working; the
 *             new key becomes `verifierKey`/`gosumdb` in trust.json (what new clients should use).
 *
 * Only public files of the key directory are read (root-ca.pem, *.crt, note*.pub, trust.json) plus
 * root-ca.key from --root: the offline copy of the directory need not hold any online private key.
 */
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { RESPONSE_ALGORITHMS, describeKey, type KeyAlgorithm } from './algorithms.ts';
import { loadRootAuthority } from './authority.ts';
import { certifyOnlineKey, checkDays, createResponseKey } from './ceremony.ts';
import { openCeremonyKey, parseUriOption, tokenKeyRows, type TokenKeyRequest } from './ceremony-token.ts';
import { CreatedFiles } from './files.ts';
import { ed25519Raw, writeKeyUriFile } from './token-files.ts';
import { verifierKeyFromPublicKey } from '../core/note.ts';
import { MODE_ONLINE_KEY, MODE_PUBLIC, TRUST_FILE, noteFiles, noteKid } from './layout.ts';
import { noteGenerations, noteKeyName, notePublicKey, writeNoteKey } from './notekey.ts';
import { ONLINE_DEFAULT_DAYS, ONLINE_MAX_DAYS, noteCommonName, type OnlinePurpose } from './profiles.ts';
import { certificateRows, writeRecord } from './record.ts';
import { certifiedPublicKeys, collectTrustBundle, readTrustFile, validAt, writeTrustFile } from './trust.ts';
import type { TrustBundle } from './types.ts';
import { X509Certificate } from 'node:crypto';

export interface RotateOptions {
  keysDir: string;
  /** Directory holding root-ca.key (default keysDir). */
  rootDir?: string;
  purpose: OnlinePurpose;
  /** Response keys only (note keys are always Ed25519); default: the algorithm of the newest response key. */
  alg?: KeyAlgorithm;
  validDays?: number;
  now?: number;
  /** Passphrase of an encrypted root-ca.key. */
  rootPassphrase?: string;
  /** PKCS#11 URI of the new key, in a token, instead of a new key file. */
  keyUri?: string;
  /** Generate the key `keyUri` names inside the token first (non-extractable). */
  generateInToken?: boolean;
  /** Environment for token PINs (SUMKEEP_PKCS11_PIN). */
  env?: NodeJS.ProcessEnv;
}

export interface RotateResult {
  created: { file: string; mode: number }[];
  purpose: OnlinePurpose;
  kid: string;
  /** Note rotation: the new verifier key. */
  verifierKey?: string;
  /** Keys of the same purpose that stay valid, and until when (ms). */
  stillValid: { kid: string; notAfter: number }[];
  trust: TrustBundle;
  recordFile: string;
}

export function rotateKey(o: RotateOptions): RotateResult {
  const now = o.now ?? Date.now();
  const keysDir = o.keysDir;
  if (o.generateInToken === true && o.keyUri === undefined) {
    throw new SumkeepError('config', '--generate-in-token needs --key <pkcs11 URI>');
  }
  const env = o.env === undefined ? {} : { env: o.env };
  const tokenReq: TokenKeyRequest | undefined =
    o.keyUri === undefined
      ? undefined
      : {
          flag: '--key',
          uri: parseUriOption(o.keyUri, '--key'),
          allowed: o.purpose === 'note' ? ['ed25519'] : RESPONSE_ALGORITHMS,
          generate: o.purpose === 'note' ? 'ed25519' : (o.alg ?? 'ed25519'),
        };
  const root = loadRootAuthority(keysDir, o.rootDir ?? keysDir, now, {
    ...(o.rootPassphrase === undefined ? {} : { passphrase: o.rootPassphrase }),
    ...env,
  });
  const trustBefore = readTrustFile(keysDir);
  if (trustBefore === null) {
    throw new SumkeepError('config', `no ${TRUST_FILE} in ${keysDir}: run \`sumkeep ceremony init\` first`);
  }
  if (trustBefore.root.sha256 !== root.sha256) {
    throw new SumkeepError('config', `${join(keysDir, TRUST_FILE)} names another root CA than ${root.file}`);
  }
  const days = checkDays(o.validDays, ONLINE_DEFAULT_DAYS, '--valid-days', ONLINE_MAX_DAYS);
  const before = certifiedPublicKeys(keysDir, root).filter((k) => k.purpose === o.purpose && validAt(k, now));
  const token =
    tokenReq === undefined
      ? undefined
      : openCeremonyKey(tokenReq, { generate: o.generateInToken === true, ...env });
  const files = new CreatedFiles();
  let kid: string;
  let verifierKey: string | undefined;
  let certFile: string;
  let der: Uint8Array;
  let title: string;

  if (o.purpose === 'note') {
    if (o.alg !== undefined && o.alg !== 'ed25519') {
      throw new SumkeepError(
        'config',
        '--alg: note keys are always ed25519 (the only algorithm the go command knows)',
      );
    }
    const generation = Math.max(0, ...noteGenerations(keysDir)) + 1;
    const names = noteFiles(generation);
    if (token !== undefined) {
      verifierKey = verifierKeyFromPublicKey(trustBefore.name, ed25519Raw(token.publicKey));
      writeKeyUriFile(files, keysDir, names.uri, token.uri);
      files.write(keysDir, names.pub, verifierKey + '\n', MODE_PUBLIC);
    } else {
      verifierKey = writeNoteKey(keysDir, generation, trustBefore.name);
      files.add(join(keysDir, names.key), MODE_ONLINE_KEY);
      files.add(join(keysDir, names.pub), MODE_PUBLIC);
    }
    const publicKey = notePublicKey(verifierKey);
    kid = noteKid(publicKey);
    der = certifyOnlineKey(files, root, {
      dir: keysDir,
      file: names.crt,
      purpose: 'note',
      commonName: noteCommonName(noteKeyName(verifierKey)),
      publicKey,
      now,
      days,
    });
    certFile = join(keysDir, names.crt);
    title = `New note key ${names.key} (signs tree heads together with the old one)`;
  } else {
    let alg = o.alg;
    if (alg === undefined) {
      const newest = [...before].sort((a, b) => b.notBefore - a.notBefore)[0];
      const label = newest ? describeKey(new X509Certificate(newest.der).publicKey).label : 'ed25519';
      alg = RESPONSE_ALGORITHMS.find((a) => a === label) ?? 'ed25519';
    }
    if (!RESPONSE_ALGORITHMS.includes(alg)) {
      throw new SumkeepError('config', `--alg ${alg}: want one of ${RESPONSE_ALGORITHMS.join(', ')}`);
    }
    const r = createResponseKey(files, root, {
      dir: keysDir,
      alg,
      now,
      days,
      ...(token === undefined ? {} : { token }),
    });
    kid = r.kid;
    der = r.der;
    certFile = r.certFile;
    title = `New response-signing key (${token === undefined ? alg : `${describeKey(token.publicKey).label}, in a token`})`;
  }

  const trust = collectTrustBundle(keysDir, { root, url: trustBefore.url, now });
  writeTrustFile(keysDir, trust, { replace: true });
  files.add(join(keysDir, TRUST_FILE), MODE_PUBLIC);
  const stillValid = before.map((k) => ({ kid: k.kid, notAfter: k.notAfter }));
  const recordFile = writeRecord(keysDir, {
    ceremony: `rotate ${o.purpose}`,
    time: now,
    name: trust.name,
    sections: [
      {
        title,
        rows: [
          ...(token === undefined ? [] : tokenKeyRows(token, o.generateInToken === true)),
          ['kid', kid],
          ...(verifierKey === undefined ? [] : [['verifier key', verifierKey] as [string, string]]),
          ...certificateRows(certFile, der),
        ],
      },
      {
        title: 'Keys of the same purpose that stay valid until their certificate ends',
        rows:
          stillValid.length === 0
            ? [['none', '']]
            : stillValid.map((k) => [k.kid, new Date(k.notAfter).toISOString()]),
      },
      {
        title: 'Trust bundle',
        rows: [
          ['GOSUMDB', `"${trust.gosumdb}"`],
          ['verifier keys', trust.verifierKeys.join(' ')],
          ['root SHA-256', root.sha256],
        ],
      },
    ],
    checks: [
      'the machine had no network connection during the ceremony',
      `\`openssl verify -CAfile ${root.file} ${certFile}\` prints OK`,
      `the root fingerprint equals the one on the init record (${root.sha256.slice(0, 16)}...)`,
      'the new key files were moved to the online server before trust.json was published',
    ],
  });
  files.add(recordFile, MODE_PUBLIC);
  return {
    created: files.list,
    purpose: o.purpose,
    kid,
    ...(verifierKey === undefined ? {} : { verifierKey }),
    stillValid,
    trust,
    recordFile,
  };
}
