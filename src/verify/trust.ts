/**
 * Client side of the trust chain: from a pinned root certificate to the key that signed an answer.
 *
 *   pinned root   trust.json's root: the SHA-256 of its certificate DER must equal root.sha256,
 *                 and it must be a self-signed CA certificate (basicConstraints cA TRUE, critical,
 *                 keyUsage keyCertSign: src/keys/constraints.ts issuerProblem), valid now.
 *   signer key    the JWK named by X-Go-Sum-Signer; its x5c chain (standard base64 DER, the key's
 *                 certificate first, the root last) must end in exactly the pinned root's DER;
 *                 the RFC 5280 path constraints must hold (src/keys/constraints.ts chainProblem:
 *                 every issuer a CA with keyCertSign, no pathLenConstraint exceeded, the first
 *                 certificate not a CA); each certificate must be issued and signed by the next
 *                 (node:crypto checkIssued and verify), every certificate valid now, the first one
 *                 an end-entity certificate for response signing (src/keys/profiles.ts hasPurpose)
 *                 and its public key the JWK's.
 * Refusals name the certificate by its x5c index and subject, on one line.
 *
 * Everything here reads hostile input (bundles and JWKS come from the network) and throws only
 * SumkeepError: `bad_input` for a malformed bundle or key set, `invalid_signature` for a chain or
 * key that does not check out.
 */
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import { SumkeepError } from '../core/errors.ts';
import { bytesEqual, fromBase64 } from '../core/bytes.ts';
import { parseTrustBundle as parseCeremonyBundle } from '../keys/trust.ts';
import type { PublicJwk, TrustBundle } from '../keys/types.ts';
import { chainProblem, issuerProblem } from '../keys/constraints.ts';
import { hasPurpose } from '../keys/profiles.ts';
import { parseCertificate } from '../keys/x509.ts';
import { jwkPublicKey } from './signature.ts';

/** Longest chain accepted (key, intermediates, root). */
export const MAX_CHAIN = 5;
/** Most keys read from a JWKS. */
export const MAX_JWKS_KEYS = 100;
/** Largest trust.json or JWKS read. */
export const MAX_TRUST_BYTES = 1 << 20;

export interface PinnedRoot {
  certificate: X509Certificate;
  der: Uint8Array;
  /** Lowercase hex SHA-256 of der. */
  sha256: string;
}

const badInput = (what: string): never => {
  throw new SumkeepError('bad_input', what);
};
const untrusted = (what: string): never => {
  throw new SumkeepError('invalid_signature', what);
};

const isStr = (x: unknown): x is string => typeof x === 'string';

function parseJson(body: Uint8Array | string, what: string): unknown {
  if (body.length > MAX_TRUST_BYTES) badInput(`${what} is larger than ${MAX_TRUST_BYTES} bytes`);
  try {
    return JSON.parse(
      typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body),
    );
  } catch {
    return badInput(`${what} is not JSON`);
  }
}

/** Shape-checks one JWK (fields sumkeep publishes); throws bad_input. */
export function checkJwk(x: unknown, where: string): PublicJwk {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return badInput(`${where}: not an object`);
  const k = x as Record<string, unknown>;
  if (!isStr(k.kid) || k.kid === '' || k.kid.length > 200) badInput(`${where}: kid`);
  if (k.alg !== 'EdDSA' && k.alg !== 'PS256') badInput(`${where}: alg must be EdDSA or PS256`);
  if (k.kty !== 'OKP' && k.kty !== 'RSA') badInput(`${where}: kty must be OKP or RSA`);
  if (k.kty === 'OKP' && (k.crv !== 'Ed25519' || !isStr(k.x)))
    badInput(`${where}: OKP key needs crv Ed25519 and x`);
  if (k.kty === 'RSA' && (!isStr(k.n) || !isStr(k.e))) badInput(`${where}: RSA key needs n and e`);
  if (!Array.isArray(k.x5c) || k.x5c.length === 0 || k.x5c.length > MAX_CHAIN || !k.x5c.every(isStr)) {
    badInput(`${where}: x5c must list 1 to ${MAX_CHAIN} certificates`);
  }
  if (k['x5t#S256'] !== undefined && !isStr(k['x5t#S256'])) badInput(`${where}: x5t#S256`);
  return k as unknown as PublicJwk;
}

/** Parses {"keys": [...]}; throws bad_input. */
export function parseJwks(body: Uint8Array | string): PublicJwk[] {
  const j = parseJson(body, 'JWKS') as { keys?: unknown } | null;
  if (typeof j !== 'object' || j === null || !Array.isArray(j.keys) || j.keys.length > MAX_JWKS_KEYS) {
    return badInput(`JWKS must be {"keys": [...]} with at most ${MAX_JWKS_KEYS} keys`);
  }
  return j.keys.map((k, i) => checkJwk(k, `JWKS keys[${i}]`));
}

/**
 * Parses trust.json with the checks the ceremony applies to the bundle it writes
 * (src/keys/trust.ts): every field present and well formed, the root certificate matching its
 * fingerprint, every JWK certified by that root, every verifier key published. Throws bad_input.
 */
export function parseTrustBundle(body: Uint8Array | string): TrustBundle {
  if (body.length > MAX_TRUST_BYTES) badInput(`trust bundle is larger than ${MAX_TRUST_BYTES} bytes`);
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return badInput('trust bundle is not UTF-8');
  }
  return parseCeremonyBundle(text);
}

function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function certFrom(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    return untrusted(`${what} is not a certificate`);
  }
}

/** `(subject "O=sumkeep, CN=...")` for messages: one line, quoted, at most about 200 characters. */
function subjectOf(c: X509Certificate): string {
  const s = c.subject.split('\n').join(', ');
  return `(subject ${JSON.stringify(s.length > 200 ? s.slice(0, 200) + '...' : s)})`;
}

function checkValidity(c: X509Certificate, now: number, what: string): void {
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  if (!(from <= now && now <= to)) {
    untrusted(`${what} is not valid now (valid from ${c.validFrom} to ${c.validTo})`);
  }
}

/**
 * The root to pin from a bundle: its PEM certificate must hash to root.sha256, be self-signed, a
 * CA and valid at `now` (ms). Throws invalid_signature otherwise.
 */
export function pinRoot(bundle: TrustBundle, now: number = Date.now()): PinnedRoot {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(bundle.root.certificate);
  } catch {
    return untrusted('trust bundle: root.certificate is not a PEM certificate');
  }
  const der = new Uint8Array(cert.raw);
  const sha256 = sha256Hex(der);
  if (sha256 !== bundle.root.sha256.toLowerCase()) {
    untrusted(
      `trust bundle: the root certificate hashes to ${sha256}, not to root.sha256 ${bundle.root.sha256}`,
    );
  }
  if (cert.subject !== cert.issuer || !cert.verify(cert.publicKey)) {
    untrusted('trust bundle: the root certificate is not a self-signed CA certificate');
  }
  const problem = issuerProblem(der);
  if (problem !== null) untrusted(`trust bundle: the root certificate ${subjectOf(cert)} ${problem}`);
  // checkIssued adds OpenSSL's own issuer checks (key identifiers) on top of the rules above.
  if (!cert.ca || !cert.checkIssued(cert)) {
    untrusted('trust bundle: the root certificate is not a self-signed CA certificate');
  }
  checkValidity(cert, now, 'the root certificate');
  return { certificate: cert, der, sha256 };
}

/**
 * Checks that jwk chains to `root` (see the file comment) and returns its public key.
 * Throws invalid_signature naming the first thing that fails.
 */
export function signerKey(jwk: PublicJwk, root: PinnedRoot, now: number = Date.now()): KeyObject {
  const who = `signing key ${JSON.stringify(jwk.kid)}`;
  const ders = jwk.x5c.map(
    (b64, i) => fromBase64(b64) ?? untrusted(`${who}: x5c[${i}] is not standard base64`),
  );
  if (ders.length === 0 || ders.length > MAX_CHAIN)
    untrusted(`${who}: x5c must list 1 to ${MAX_CHAIN} certificates`);
  const certs = ders.map((d, i) => certFrom(d, `${who}: x5c[${i}]`));
  if (!bytesEqual(ders[ders.length - 1]!, root.der)) {
    untrusted(`${who}: its certificate chain does not end in the pinned root (sha256 ${root.sha256})`);
  }
  if (certs.length < 2) untrusted(`${who}: the chain holds only the root; the key needs its own certificate`);
  const broken = chainProblem(ders);
  if (broken !== null) {
    untrusted(`${who}: x5c[${broken.index}] ${subjectOf(certs[broken.index]!)} ${broken.problem}`);
  }
  for (let i = 0; i < certs.length - 1; i++) {
    const c = certs[i]!;
    const issuer = certs[i + 1]!;
    // Node's own view agrees with chainProblem for every certificate sumkeep's parser reads; kept
    // as a second opinion.
    if (!issuer.ca) untrusted(`${who}: x5c[${i + 1}] ${subjectOf(issuer)} is not a CA certificate`);
    if (!c.checkIssued(issuer) || !c.verify(issuer.publicKey)) {
      untrusted(`${who}: x5c[${i}] is not issued and signed by x5c[${i + 1}]`);
    }
    checkValidity(c, now, `${who}: x5c[${i}]`);
  }
  const leaf = certs[0]!;
  if (leaf.ca) untrusted(`${who}: x5c[0] ${subjectOf(leaf)} is a CA certificate, not a signing key's`);
  // Only a certificate issued for response signing counts: the root also certifies note keys and
  // TLS servers, which must not sign answers. The ceremony's own profile check says which it is.
  let forResponses = false;
  try {
    forResponses = hasPurpose(parseCertificate(ders[0]!), 'response');
  } catch {
    forResponses = false;
  }
  if (!forResponses) untrusted(`${who}: its certificate is not for response signing`);
  const t = jwk['x5t#S256'];
  if (t !== undefined && t !== createHash('sha256').update(ders[0]!).digest('base64url')) {
    untrusted(`${who}: x5t#S256 is not the thumbprint of its certificate`);
  }
  const key = jwkPublicKey(jwk);
  const spki = (k: KeyObject) => new Uint8Array(k.export({ type: 'spki', format: 'der' }));
  if (!bytesEqual(spki(key), spki(leaf.publicKey))) {
    untrusted(`${who}: the JWK is not the key of its certificate`);
  }
  return key;
}
