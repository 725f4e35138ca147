/**
 * What sumkeep's certificates say: subject names, extensions and validity rules, one profile per
 * purpose.
 *
 *   root CA        CN "sumkeep root CA <log name>"; basicConstraints CA:TRUE, pathLen 0 (critical):
 *                  it issues end-entity certificates only; keyUsage keyCertSign|cRLSign (critical).
 *   note key       CN "sumkeep note key <name>+<8 hex key hash>"; keyUsage digitalSignature;
 *                  extKeyUsage id-kp-documentSigning.
 *   response key   CN "sumkeep response signing key <kid>"; keyUsage digitalSignature;
 *                  extKeyUsage id-kp-documentSigning.
 *   TLS server     CN = first host; keyUsage digitalSignature (+keyEncipherment for an RSA key);
 *                  extKeyUsage serverAuth; subjectAltName dNSName/iPAddress (what Go checks: Go 1.15+
 *                  ignores the CN for host names).
 *
 * Why extKeyUsage id-kp-documentSigning (RFC 9336) on the online keys: a certificate without
 * extKeyUsage is good for every purpose, so a note or response key certificate would also pass as
 * a TLS server certificate wherever host names are not checked. With documentSigning, Go's
 * x509.Verify (which asks for serverAuth by default) and OpenSSL's `-purpose sslserver` refuse it,
 * while a plain `openssl verify` and node's X509Certificate.verify still check the chain. A private
 * OID per purpose would be more precise, but sumkeep has no registered arc and the free UUID arc
 * (2.25.<128-bit integer>) makes Go's parser refuse the whole certificate (arcs over 31 bits): so
 * which online purpose a certificate serves is told by its subject CN prefix, which
 * `hasPurpose` checks together with the extKeyUsage.
 */
import type { Extensions, ParsedCertificate } from './x509.ts';
import { KEY_USAGE, OID, certificateProfile, commonNameOf } from './x509.ts';

/** id-kp-documentSigning (RFC 9336): signing of human-readable or machine data, not TLS. */
export const OID_DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';

const NOTE_CN_PREFIX = 'sumkeep note key ';
const RESPONSE_CN_PREFIX = 'sumkeep response signing key ';

export type OnlinePurpose = 'note' | 'response';

export const DAY_MS = 86_400_000;
/** Certificates start this long before the ceremony, so that a clock a little behind still accepts them. */
export const BACKDATE_MS = 3_600_000;

export const ROOT_DEFAULT_DAYS = 3650;
export const ROOT_MAX_DAYS = 7305;
export const ONLINE_DEFAULT_DAYS = 397;
export const ONLINE_MAX_DAYS = 825;
/** Publicly trusted TLS certificates may not exceed 398 days; Apple platforms refuse longer ones. */
export const TLS_DEFAULT_DAYS = 397;
export const TLS_MAX_DAYS = 397;

export function rootCommonName(name: string, development: boolean): string {
  return `sumkeep ${development ? 'DEVELOPMENT ' : ''}root CA ${name}`;
}

/** `keyName` is "<name>+<8 hex>", the first two parts of the verifier key. */
export function noteCommonName(keyName: string): string {
  return NOTE_CN_PREFIX + keyName;
}

export function responseCommonName(kid: string): string {
  return RESPONSE_CN_PREFIX + kid;
}

export function rootExtensions(): Extensions {
  return { ca: { pathLen: 0 }, keyUsage: [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] };
}

/** Both purposes carry the same extensions (the CN tells them apart); callers still say which. */
export function onlineKeyExtensions(_purpose: OnlinePurpose): Extensions {
  return {
    keyUsage: [KEY_USAGE.digitalSignature],
    extKeyUsage: [OID_DOCUMENT_SIGNING],
  };
}

export function tlsExtensions(dns: string[], ip: Uint8Array[], rsaKey: boolean): Extensions {
  return {
    keyUsage: rsaKey ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment] : [KEY_USAGE.digitalSignature],
    extKeyUsage: [OID.serverAuth],
    subjectAltName: { dns, ip },
  };
}

/**
 * True when the certificate is an end-entity certificate for this online purpose: not a CA,
 * keyUsage digitalSignature, extKeyUsage documentSigning, and the purpose's subject CN prefix.
 */
export function hasPurpose(cert: ParsedCertificate, purpose: OnlinePurpose): boolean {
  const p = certificateProfile(cert);
  const cn = commonNameOf(cert.subject) ?? '';
  return (
    !p.ca &&
    p.keyUsage.includes(KEY_USAGE.digitalSignature) &&
    p.extKeyUsage.includes(OID_DOCUMENT_SIGNING) &&
    cn.startsWith(purpose === 'note' ? NOTE_CN_PREFIX : RESPONSE_CN_PREFIX)
  );
}
