/**
 * Certificate chains with chosen basicConstraints and keyUsage, for tests of path validation
 * (src/verify/constraints.ts). src/keys/x509.ts writes only the ceremony's profiles (basicConstraints
 * always present and critical, keyUsage always present), so a certificate is made there first; then
 * its basicConstraints and keyUsage extensions are replaced (the others, subject and authority key
 * identifiers included, are kept) and the TBSCertificate is signed again with the issuer's key.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { generateKeyPair, signBytes, type KeyAlgorithm } from '../../src/keys/algorithms.ts';
import {
  TAG,
  bitString,
  boolean,
  decodeOid,
  expectTag,
  explicit,
  integer,
  namedBits,
  octetString,
  oid,
  readChildren,
  readDer,
  sequence,
  tlv,
} from '../../src/keys/der.ts';
import { toPem } from '../../src/keys/pem.ts';
import { DAY_MS, onlineKeyExtensions, responseCommonName, rootExtensions } from '../../src/keys/profiles.ts';
import { jwkFromCertificate } from '../../src/keys/trust.ts';
import type { ResponseAlg, ResponseSigner } from '../../src/keys/types.ts';
import { KEY_USAGE, OID, createCertificate, parseCertificate } from '../../src/keys/x509.ts';
import { algorithmOf, type IssuedKey, type TestRoot } from './authority.ts';

export interface Constraints {
  /**
   * basicConstraints; null: no such extension. cA FALSE is written as the DEFAULT (omitted);
   * pathLen as bytes is the raw INTEGER content (to write malformed ones).
   */
  basicConstraints: { ca: boolean; pathLen?: number | Uint8Array; critical: boolean } | null;
  /** keyUsage bits (KEY_USAGE), critical; null: no such extension. */
  keyUsage: number[] | null;
}

/** What the ceremony writes on a CA (pathLen omitted: no limit). */
export function caConstraints(pathLen?: number): Constraints {
  return {
    basicConstraints: { ca: true, critical: true, ...(pathLen === undefined ? {} : { pathLen }) },
    keyUsage: [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign],
  };
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** `der` with its basicConstraints and keyUsage replaced by `c`, signed again by `signer`. */
export function withConstraints(der: Uint8Array, c: Constraints, signer: KeyObject): Uint8Array {
  const [tbsNode, sigAlg] = readChildren(expectTag(readDer(der), TAG.SEQUENCE, 'Certificate'));
  const fields = readChildren(expectTag(tbsNode, TAG.SEQUENCE, 'TBSCertificate'));
  const extNode = fields[fields.length - 1]!;
  const kept = readChildren(expectTag(readChildren(extNode)[0], TAG.SEQUENCE, 'Extensions')).filter((e) => {
    const id = decodeOid(expectTag(readChildren(e)[0], TAG.OID, 'extnID').content);
    return id !== OID.basicConstraints && id !== OID.keyUsage;
  });
  const ext: Uint8Array[] = [];
  const bc = c.basicConstraints;
  if (bc !== null) {
    const value = sequence(
      ...(bc.ca ? [boolean(true)] : []),
      ...(bc.pathLen === undefined
        ? []
        : [bc.pathLen instanceof Uint8Array ? tlv(TAG.INTEGER, bc.pathLen) : integer(bc.pathLen)]),
    );
    ext.push(extension(OID.basicConstraints, bc.critical, value));
  }
  if (c.keyUsage !== null) ext.push(extension(OID.keyUsage, true, namedBits(c.keyUsage)));
  const tbs = sequence(
    ...fields.slice(0, -1).map((f) => f.raw),
    explicit(3, sequence(...ext, ...kept.map((e) => e.raw))),
  );
  return sequence(tbs, sigAlg!.raw, bitString(signBytes(signer, tbs)));
}

function asRoot(privateKey: KeyObject, der: Uint8Array): TestRoot {
  return {
    privateKey,
    der,
    pem: toPem(der, 'CERTIFICATE'),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}

function issuerOf(ca: TestRoot) {
  return {
    name: parseCertificate(ca.der).subject,
    privateKey: ca.privateKey,
    publicKey: new X509Certificate(ca.der).publicKey,
  };
}

/**
 * A CA certificate named `commonName` with constraints `c`, issued by `issuer` (null: self-signed,
 * a root), valid from an hour ago for 30 days.
 */
export function makeCa(
  commonName: string,
  issuer: TestRoot | null,
  c: Constraints,
  alg: KeyAlgorithm = 'ed25519',
): TestRoot {
  const { privateKey, publicKey } = generateKeyPair(alg);
  const notBefore = Date.now() - 3_600_000;
  const der = createCertificate({
    commonName,
    publicKey,
    notBefore,
    notAfter: notBefore + 30 * DAY_MS,
    issuer: issuer === null ? { selfSigned: privateKey } : issuerOf(issuer),
    extensions: rootExtensions(),
  });
  return asRoot(privateKey, withConstraints(der, c, issuer?.privateKey ?? privateKey));
}

/**
 * A response signing key certified by chain[0], its JWK's x5c = [its certificate, ...chain]
 * (chain: the issuer first, the root last). `leaf` replaces the certificate's constraints.
 */
export function issueUnder(chain: TestRoot[], alg: ResponseAlg, leaf?: Constraints): IssuedKey {
  const issuer = chain[0]!;
  const root = chain[chain.length - 1]!;
  const { privateKey, publicKey } = generateKeyPair(algorithmOf(alg));
  const kid = `${alg.toLowerCase()}-${createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16)}`;
  const notBefore = Date.now() - 3_600_000;
  const notAfter = notBefore + 10 * DAY_MS;
  let certDer = createCertificate({
    commonName: responseCommonName(kid),
    publicKey,
    notBefore,
    notAfter,
    issuer: issuerOf(issuer),
    extensions: onlineKeyExtensions('response'),
  });
  if (leaf !== undefined) certDer = withConstraints(certDer, leaf, issuer.privateKey);
  const jwk = jwkFromCertificate(certDer, root.der, kid);
  jwk.x5c = [certDer, ...chain.map((c) => c.der)].map((d) => Buffer.from(d).toString('base64'));
  const signer: ResponseSigner = {
    kid,
    alg,
    notAfter,
    sign: (data) => signBytes(privateKey, data),
  };
  return { signer, jwk, certDer };
}
