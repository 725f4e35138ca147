/**
 * X.509 v3 certificates (RFC 5280): a builder for the few profiles sumkeep issues and a reader for
 * the fields it checks. node:crypto can parse and verify certificates but not create them.
 *
 * Certificate layout written by `createCertificate`:
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE {
 *     [0] EXPLICIT INTEGER 2 (v3), serialNumber (16 random bytes, positive), signature (= the
 *     outer signatureAlgorithm), issuer Name, Validity { notBefore, notAfter },
 *     subject Name, SubjectPublicKeyInfo (node's SPKI DER as is), [3] EXPLICIT Extensions }
 *   Name ::= SEQUENCE { SET { O "sumkeep" }, SET { CN <common name> } }  (UTF8String values)
 *
 * Signature algorithms (chosen by the issuer's key, see algorithms.ts):
 *   Ed25519      SEQUENCE { 1.3.101.112 }                        (parameters absent, RFC 8410)
 *   RSASSA-PSS   SEQUENCE { 1.2.840.113549.1.1.10, RSASSA-PSS-params {
 *                  [0] { sha256, NULL }, [1] { mgf1, { sha256, NULL } }, [2] 32 } }
 *                (trailerField 1 is the DEFAULT and so, in DER, omitted; RFC 4055 section 3.1)
 *
 * Key identifiers are RFC 7093 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey
 * BIT STRING value. The authorityKeyIdentifier of a certificate is the issuer's subject key id.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeUtf8 } from '../core/bytes.ts';
import { SumkeepError } from '../core/errors.ts';
import { describeKey } from './algorithms.ts';
import { asKeySigner, type SigningKey } from './signer.ts';
import {
  TAG,
  bitString,
  boolean,
  decodeOid,
  decodeTime,
  expectTag,
  explicit,
  ia5String,
  implicitPrimitive,
  integer,
  namedBits,
  nullValue,
  octetString,
  oid,
  readChildren,
  readDer,
  sequence,
  setOf,
  time,
  unsignedInteger,
  utf8String,
  type DerNode,
} from './der.ts';

export const OID = {
  ed25519: '1.3.101.112',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256: '2.16.840.1.101.3.4.2.1',
  mgf1: '1.2.840.113549.1.1.8',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** Bit numbers of KeyUsage (RFC 5280 4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

/** The organisation written in every Name sumkeep issues. */
export const ORGANIZATION = 'sumkeep';

/** Longest common name accepted (RFC 5280's ub-common-name is 64; sumkeep names carry log names). */
export const MAX_COMMON_NAME = 300;

export interface Extensions {
  /** basicConstraints CA:TRUE with this pathLenConstraint; absent: CA:FALSE. Always critical. */
  ca?: { pathLen: number };
  /** keyUsage bits (KEY_USAGE); critical. */
  keyUsage: number[];
  /** extKeyUsage OIDs; non-critical; omitted when absent or empty. */
  extKeyUsage?: string[];
  /** subjectAltName dNSName and iPAddress (4 or 16 bytes) entries; non-critical (the subject is not empty). */
  subjectAltName?: { dns: string[]; ip: Uint8Array[] };
}

export interface Issuer {
  /** The issuer's subject Name, DER, exactly as in its own certificate (matched byte for byte). */
  name: Uint8Array;
  /** The issuer's private key: in memory, or a KeySigner (a key in a PKCS#11 token). */
  privateKey: SigningKey;
  /** For the authorityKeyIdentifier. */
  publicKey: KeyObject;
}

export interface CertificateSpec {
  commonName: string;
  publicKey: KeyObject;
  /** Validity, ms since the epoch (whole seconds are written). */
  notBefore: number;
  notAfter: number;
  /** The issuing CA, or `{ selfSigned: <the subject's own private key> }` for a root. */
  issuer: Issuer | { selfSigned: SigningKey };
  extensions: Extensions;
  /** Default: 16 random bytes, top bit clear, first byte non-zero. */
  serial?: Uint8Array;
}

/** Name ::= SEQUENCE { SET { O "sumkeep" }, SET { CN commonName } }. */
export function encodeName(commonName: string): Uint8Array {
  if (commonName === '' || commonName.length > MAX_COMMON_NAME) {
    throw new SumkeepError('bad_input', `certificate common name must be 1 to ${MAX_COMMON_NAME} characters`);
  }
  const atv = (type: string, value: string) => setOf(sequence(oid(type), utf8String(value)));
  return sequence(atv(OID.organization, ORGANIZATION), atv(OID.commonName, commonName));
}

/** The AlgorithmIdentifier of signatures made with `key` (Ed25519 or RSA-PSS/SHA-256). */
export function signatureAlgorithm(key: KeyObject): Uint8Array {
  const { jws } = describeKey(key);
  if (jws === 'EdDSA') return sequence(oid(OID.ed25519));
  const sha256 = sequence(oid(OID.sha256), nullValue());
  const params = sequence(
    explicit(0, sha256),
    explicit(1, sequence(oid(OID.mgf1), sha256)),
    explicit(2, integer(32)),
  );
  return sequence(oid(OID.rsassaPss), params);
}

function spkiOf(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

/** RFC 7093 method 1 key identifier of a public key (20 bytes). */
export function keyIdentifier(publicKey: KeyObject | Uint8Array): Uint8Array {
  const spki = publicKey instanceof Uint8Array ? publicKey : spkiOf(publicKey);
  const [, key] = readChildren(expectTag(readDer(spki), TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  const bits = expectTag(key, TAG.BIT_STRING, 'subjectPublicKey');
  const digest = createHash('sha256').update(bits.content.subarray(1)).digest();
  return new Uint8Array(digest.subarray(0, 20));
}

/** A fresh serial number: 16 random bytes, positive, minimal as a DER INTEGER. */
export function randomSerial(): Uint8Array {
  const b = new Uint8Array(randomBytes(16));
  b[0] = b[0]! & 0x7f || 0x01;
  return b;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function encodeExtensions(ext: Extensions, subjectKeyId: Uint8Array, authorityKeyId: Uint8Array): Uint8Array {
  const list: Uint8Array[] = [];
  // basicConstraints: CA:FALSE is the DEFAULT, so an end entity's value is the empty SEQUENCE.
  const bc = ext.ca ? sequence(boolean(true), integer(ext.ca.pathLen)) : sequence();
  list.push(extension(OID.basicConstraints, true, bc));
  list.push(extension(OID.keyUsage, true, namedBits(ext.keyUsage)));
  if (ext.extKeyUsage && ext.extKeyUsage.length > 0) {
    list.push(extension(OID.extKeyUsage, false, sequence(...ext.extKeyUsage.map(oid))));
  }
  list.push(extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)));
  list.push(extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, authorityKeyId))));
  const san = ext.subjectAltName;
  if (san && san.dns.length + san.ip.length > 0) {
    for (const ip of san.ip) {
      if (ip.length !== 4 && ip.length !== 16)
        throw new SumkeepError('bad_input', 'iPAddress must be 4 or 16 bytes');
    }
    const names = [
      // GeneralName dNSName [2] IA5String, iPAddress [7] OCTET STRING (IMPLICIT tags).
      ...san.dns.map((d) => implicitPrimitive(2, readDer(ia5String(d)).content)),
      ...san.ip.map((ip) => implicitPrimitive(7, ip)),
    ];
    list.push(extension(OID.subjectAltName, false, sequence(...names)));
  }
  return explicit(3, sequence(...list));
}

/** Builds and signs a certificate; returns its DER. */
export function createCertificate(spec: CertificateSpec): Uint8Array {
  if (!(spec.notBefore < spec.notAfter))
    throw new SumkeepError('bad_input', 'notBefore must precede notAfter');
  const subjectName = encodeName(spec.commonName);
  const issuer: Issuer =
    'selfSigned' in spec.issuer
      ? { name: subjectName, privateKey: spec.issuer.selfSigned, publicKey: spec.publicKey }
      : spec.issuer;
  const signer = asKeySigner(issuer.privateKey);
  const sigAlg = signatureAlgorithm(signer.publicKey);
  const spki = spkiOf(spec.publicKey);
  describeKeyForSubject(spec.publicKey);
  const tbs = sequence(
    explicit(0, integer(2)),
    unsignedInteger(spec.serial ?? randomSerial()),
    sigAlg,
    issuer.name,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subjectName,
    spki,
    encodeExtensions(spec.extensions, keyIdentifier(spki), keyIdentifier(issuer.publicKey)),
  );
  const signature = signer.sign(tbs);
  return sequence(tbs, sigAlg, bitString(signature));
}

/** Subject keys may also be EC (TLS leaves); only the issuer must be in the algorithm table. */
function describeKeyForSubject(key: KeyObject): void {
  const t = key.asymmetricKeyType;
  if (t === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new SumkeepError('bad_input', 'EC subject keys must be P-256');
    }
    return;
  }
  describeKey(key);
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ParsedCertificate {
  der: Uint8Array;
  tbs: Uint8Array;
  serial: Uint8Array;
  /** Raw AlgorithmIdentifier of the outer signature. */
  signatureAlgorithm: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  notBefore: number;
  notAfter: number;
  spki: Uint8Array;
  signature: Uint8Array;
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
}

function bad(what: string): SumkeepError {
  return new SumkeepError('bad_input', `malformed certificate: ${what}`);
}

/** Reads the fields of a v3 certificate. Throws SumkeepError('bad_input') for anything else. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const cert = readChildren(expectTag(readDer(der), TAG.SEQUENCE, 'Certificate'));
  if (cert.length !== 3) throw bad('Certificate has not 3 elements');
  const tbsNode = expectTag(cert[0], TAG.SEQUENCE, 'TBSCertificate');
  const sigAlg = expectTag(cert[1], TAG.SEQUENCE, 'signatureAlgorithm');
  const sigValue = expectTag(cert[2], TAG.BIT_STRING, 'signatureValue');
  if (sigValue.content[0] !== 0) throw bad('signature is not whole bytes');
  const f = readChildren(tbsNode);
  const version = expectTag(f[0], 0xa0, 'version');
  const v = expectTag(readChildren(version)[0], TAG.INTEGER, 'version');
  if (v.content.length !== 1 || v.content[0] !== 2) throw bad('not a v3 certificate');
  const serial = expectTag(f[1], TAG.INTEGER, 'serialNumber');
  const innerAlg = expectTag(f[2], TAG.SEQUENCE, 'signature');
  if (Buffer.compare(innerAlg.raw, sigAlg.raw) !== 0) throw bad('signature algorithms differ');
  const issuer = expectTag(f[3], TAG.SEQUENCE, 'issuer');
  const validity = readChildren(expectTag(f[4], TAG.SEQUENCE, 'validity'));
  if (validity.length !== 2) throw bad('validity');
  const subject = expectTag(f[5], TAG.SEQUENCE, 'subject');
  const spki = expectTag(f[6], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  const last = f[f.length - 1];
  if (f.length > 7 && last?.tag === 0xa3) {
    for (const e of readChildren(expectTag(readChildren(last)[0], TAG.SEQUENCE, 'extensions'))) {
      const parts = readChildren(expectTag(e, TAG.SEQUENCE, 'extension'));
      const id = decodeOid(expectTag(parts[0], TAG.OID, 'extension id').content);
      let critical = false;
      let valueNode: DerNode | undefined = parts[1];
      if (valueNode?.tag === TAG.BOOLEAN) {
        critical = valueNode.content.length === 1 && valueNode.content[0] === 0xff;
        if (!critical) throw bad('critical FALSE must be omitted in DER');
        valueNode = parts[2];
      }
      const value = expectTag(valueNode, TAG.OCTET_STRING, 'extension value').content;
      if (extensions.has(id)) throw bad(`extension ${id} repeated`);
      extensions.set(id, { critical, value });
    }
  }
  return {
    der,
    tbs: tbsNode.raw,
    serial: serial.content,
    signatureAlgorithm: sigAlg.raw,
    issuer: issuer.raw,
    subject: subject.raw,
    notBefore: decodeTime(validity[0]!),
    notAfter: decodeTime(validity[1]!),
    spki: spki.raw,
    signature: sigValue.content.subarray(1),
    extensions,
  };
}

/** The common name in a Name, or null. */
export function commonNameOf(name: Uint8Array): string | null {
  for (const rdn of readChildren(expectTag(readDer(name), TAG.SEQUENCE, 'Name'))) {
    for (const atv of readChildren(expectTag(rdn, TAG.SET, 'RDN'))) {
      const [type, value] = readChildren(expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue'));
      if (decodeOid(expectTag(type, TAG.OID, 'attribute type').content) === OID.commonName && value) {
        return decodeUtf8(value.content);
      }
    }
  }
  return null;
}

/** Decoded extensions of a parsed certificate, for checks and tests. */
export interface CertificateProfile {
  ca: boolean;
  pathLen: number | null;
  keyUsage: number[];
  extKeyUsage: string[];
  subjectKeyId: Uint8Array | null;
  authorityKeyId: Uint8Array | null;
  dns: string[];
  ip: Uint8Array[];
}

export function certificateProfile(c: ParsedCertificate): CertificateProfile {
  const out: CertificateProfile = {
    ca: false,
    pathLen: null,
    keyUsage: [],
    extKeyUsage: [],
    subjectKeyId: null,
    authorityKeyId: null,
    dns: [],
    ip: [],
  };
  const bc = c.extensions.get(OID.basicConstraints);
  if (bc) {
    const parts = readChildren(expectTag(readDer(bc.value), TAG.SEQUENCE, 'basicConstraints'));
    let i = 0;
    if (parts[0]?.tag === TAG.BOOLEAN) {
      out.ca = parts[0].content[0] === 0xff;
      i = 1;
    }
    const pl = parts[i];
    if (pl) {
      const n = expectTag(pl, TAG.INTEGER, 'pathLen').content;
      // INTEGER (0..MAX): an empty or negative (top bit set) value is malformed, not a limit.
      if (n.length === 0 || n[0]! & 0x80) throw bad('pathLen is not a non-negative INTEGER');
      if (n.length > 2) throw bad('pathLen too large');
      out.pathLen = n.reduce((acc, b) => acc * 256 + b, 0);
    }
  }
  const ku = c.extensions.get(OID.keyUsage);
  if (ku) {
    const bits = expectTag(readDer(ku.value), TAG.BIT_STRING, 'keyUsage').content;
    for (let i = 0; i < (bits.length - 1) * 8; i++)
      if (bits[1 + (i >> 3)]! & (0x80 >> (i & 7))) out.keyUsage.push(i);
  }
  const eku = c.extensions.get(OID.extKeyUsage);
  if (eku) {
    for (const n of readChildren(expectTag(readDer(eku.value), TAG.SEQUENCE, 'extKeyUsage'))) {
      out.extKeyUsage.push(decodeOid(expectTag(n, TAG.OID, 'key purpose').content));
    }
  }
  const ski = c.extensions.get(OID.subjectKeyIdentifier);
  if (ski) out.subjectKeyId = expectTag(readDer(ski.value), TAG.OCTET_STRING, 'subjectKeyIdentifier').content;
  const aki = c.extensions.get(OID.authorityKeyIdentifier);
  if (aki) {
    for (const n of readChildren(expectTag(readDer(aki.value), TAG.SEQUENCE, 'authorityKeyIdentifier'))) {
      if (n.tag === 0x80) out.authorityKeyId = n.content;
    }
  }
  const san = c.extensions.get(OID.subjectAltName);
  if (san) {
    for (const n of readChildren(expectTag(readDer(san.value), TAG.SEQUENCE, 'subjectAltName'))) {
      if (n.tag === 0x82) out.dns.push(String.fromCharCode(...n.content));
      if (n.tag === 0x87) out.ip.push(n.content);
    }
  }
  return out;
}
