/**
 * An in-memory signing authority for tests of signed answers: a root CA, a note key and response
 * keys certified by the root, built with the same certificate code as the ceremony (src/keys) but
 * without files, so that tests can make the odd ones (another root, expired, wrong purpose).
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { generateKey, newSigner } from '../../src/core/note.ts';
import { generateKeyPair, signBytes, type KeyAlgorithm } from '../../src/keys/algorithms.ts';
import { createRoot } from '../../src/keys/authority.ts';
import { noteKid } from '../../src/keys/layout.ts';
import { notePublicKey } from '../../src/keys/notekey.ts';
import { toPem } from '../../src/keys/pem.ts';
import {
  DAY_MS,
  noteCommonName,
  onlineKeyExtensions,
  responseCommonName,
  type OnlinePurpose,
} from '../../src/keys/profiles.ts';
import { jwkFromCertificate } from '../../src/keys/trust.ts';
import { createCertificate, parseCertificate } from '../../src/keys/x509.ts';
import type {
  PublicJwk,
  ResponseAlg,
  ResponseSigner,
  ServingKeys,
  TrustBundle,
} from '../../src/keys/types.ts';

export interface TestRoot {
  privateKey: KeyObject;
  der: Uint8Array;
  pem: string;
  sha256: string;
}

export interface IssuedKey {
  signer: ResponseSigner;
  jwk: PublicJwk;
  certDer: Uint8Array;
}

export interface TestAuthority {
  name: string;
  url: string;
  root: TestRoot;
  vkey: string;
  skey: string;
  response: IssuedKey;
  trust: TrustBundle;
  keys: ServingKeys;
}

export const algorithmOf = (alg: ResponseAlg): KeyAlgorithm => (alg === 'EdDSA' ? 'ed25519' : 'rsa-pss-2048');

export function makeRoot(name: string, alg: KeyAlgorithm = 'ed25519'): TestRoot {
  const { privateKey, der } = createRoot(alg, name, { now: Date.now(), days: 30 });
  return {
    privateKey,
    der,
    pem: toPem(der, 'CERTIFICATE'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

/** A response key certified by `root` (or a certificate shaped by `opts`). */
export function issueResponseKey(
  root: TestRoot,
  alg: ResponseAlg,
  opts: { notBefore?: number; notAfter?: number; purpose?: OnlinePurpose; kid?: string } = {},
): IssuedKey {
  const { privateKey, publicKey } = generateKeyPair(algorithmOf(alg));
  const kid =
    opts.kid ??
    `${alg.toLowerCase()}-${createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16)}`;
  const parsedRoot = parseCertificate(root.der);
  const notBefore = opts.notBefore ?? Date.now() - 3_600_000;
  const certDer = createCertificate({
    commonName: opts.purpose === 'note' ? noteCommonName(`${kid}+00000000`) : responseCommonName(kid),
    publicKey,
    notBefore,
    notAfter: opts.notAfter ?? notBefore + 10 * DAY_MS,
    issuer: {
      name: parsedRoot.subject,
      privateKey: root.privateKey,
      publicKey: new X509Certificate(root.der).publicKey,
    },
    extensions: onlineKeyExtensions(opts.purpose ?? 'response'),
  });
  const signer: ResponseSigner = {
    kid,
    alg,
    notAfter: opts.notAfter ?? notBefore + 10 * DAY_MS,
    sign: (data) => signBytes(privateKey, data),
  };
  return { signer, jwk: jwkFromCertificate(certDer, root.der, kid), certDer };
}

export function makeAuthority(
  opts: { name?: string; url?: string; alg?: ResponseAlg; rootAlg?: KeyAlgorithm } = {},
): TestAuthority {
  const name = opts.name ?? 'sum.test.local';
  const url = opts.url ?? 'http://127.0.0.1:1';
  const root = makeRoot(name, opts.rootAlg ?? 'ed25519');
  const { skey, vkey } = generateKey(name);
  const response = issueResponseKey(root, opts.alg ?? 'EdDSA');
  // The note key is certified too, and published as a JWK, as the ceremony does.
  const notePub = notePublicKey(vkey);
  const parsedRoot = parseCertificate(root.der);
  const noteNotBefore = Date.now() - 3_600_000;
  const noteCert = createCertificate({
    commonName: noteCommonName(vkey.split('+').slice(0, 2).join('+')),
    publicKey: notePub,
    notBefore: noteNotBefore,
    notAfter: noteNotBefore + 10 * DAY_MS,
    issuer: {
      name: parsedRoot.subject,
      privateKey: root.privateKey,
      publicKey: new X509Certificate(root.der).publicKey,
    },
    extensions: onlineKeyExtensions('note'),
  });
  const noteJwk = jwkFromCertificate(noteCert, root.der, noteKid(notePub));
  const trust: TrustBundle = {
    name,
    verifierKey: vkey,
    verifierKeys: [vkey],
    gosumdb: `${vkey} ${url}`,
    url,
    root: { certificate: root.pem, sha256: root.sha256 },
    jwks: { keys: [response.jwk, noteJwk] },
  };
  const keys: ServingKeys = {
    name,
    verifierKey: vkey,
    noteSigners: [newSigner(skey)],
    responseSigner: response.signer,
    trust,
    development: false,
  };
  return { name, url, root, vkey, skey, response, trust, keys };
}
