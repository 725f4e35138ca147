/**
 * The path constraints of RFC 5280 section 6.1.4 that a chain of sumkeep certificates must meet,
 * one predicate per rule, each returning the rule broken (a phrase to follow the certificate's
 * name) or null:
 *
 *   issuer   (k) basicConstraints present with cA TRUE, and critical as RFC 5280 4.2.1.9 has CAs
 *                write it (the ceremony does);
 *            (n) keyUsage present with keyCertSign (RFC 5280 lets an issuer omit keyUsage; sumkeep's
 *                CAs always carry it, so its absence is refused);
 *            (l)/(m) pathLenConstraint, when present, at least the number of intermediate
 *                certificates below the issuer.
 *   leaf     not a CA: basicConstraints cA not TRUE, keyCertSign not asserted (RFC 5280 4.2.1.3:
 *            keyCertSign implies cA).
 *
 * Unlike RFC 5280 6.1.4 (l), self-issued intermediates count towards pathLen, as in Go's
 * crypto/x509: sumkeep issues no intermediates at all (its root has pathLen 0), so the exemption,
 * meant for CA key rollover, would only be a way around the root's limit.
 *
 * Input is hostile (x5c chains come from the network): a certificate whose extensions cannot be
 * read gets a problem too; nothing here throws.
 */
import { isSumkeepError } from '../core/errors.ts';
import { KEY_USAGE, OID, certificateProfile, parseCertificate, type CertificateProfile } from './x509.ts';

interface Read {
  profile: CertificateProfile;
  basicConstraints: { critical: boolean } | undefined;
  keyUsage: boolean;
}

function read(der: Uint8Array): Read | string {
  try {
    const c = parseCertificate(der);
    return {
      profile: certificateProfile(c),
      basicConstraints: c.extensions.get(OID.basicConstraints),
      keyUsage: c.extensions.has(OID.keyUsage),
    };
  } catch (e) {
    return `cannot be read (${isSumkeepError(e) ? e.message : 'not DER'})`;
  }
}

/** Why `der` may not issue certificates, or null when it may (rules k and n). */
export function issuerProblem(der: Uint8Array): string | null {
  const r = read(der);
  if (typeof r === 'string') return r;
  const no = 'may not issue certificates: ';
  if (r.basicConstraints === undefined)
    return no + 'it has no basicConstraints extension (an issuer needs cA TRUE, critical)';
  if (!r.profile.ca) return no + 'its basicConstraints says cA FALSE (an issuer needs cA TRUE)';
  if (!r.basicConstraints.critical)
    return no + "its basicConstraints is not critical (an issuer's must be, RFC 5280 4.2.1.9)";
  if (!r.keyUsage) return no + 'it has no keyUsage extension (an issuer needs keyCertSign)';
  if (!r.profile.keyUsage.includes(KEY_USAGE.keyCertSign)) return no + 'its keyUsage lacks keyCertSign';
  return null;
}

/** Why an issuer `der` cannot have `below` intermediate certificates under it, or null (rule m). */
export function pathLenProblem(der: Uint8Array, below: number): string | null {
  const r = read(der);
  if (typeof r === 'string') return r;
  const max = r.profile.pathLen;
  if (max === null || below <= max) return null;
  return (
    `exceeds its pathLenConstraint ${max}: it allows ${max} intermediate certificate${max === 1 ? '' : 's'} ` +
    `below it, the chain has ${below}`
  );
}

/** Why `der` is not an end-entity certificate, or null. */
export function leafProblem(der: Uint8Array): string | null {
  const r = read(der);
  if (typeof r === 'string') return r;
  if (r.profile.ca) return "is a CA certificate (basicConstraints cA TRUE), not a signing key's";
  if (r.profile.keyUsage.includes(KEY_USAGE.keyCertSign))
    return 'asserts keyUsage keyCertSign, which only a CA may';
  return null;
}

/**
 * The first certificate of `chain` (DER; the end-entity certificate first, the root last) that
 * breaks a rule, with the rule, or null: issuers from the root down, then the leaf.
 */
export function chainProblem(chain: readonly Uint8Array[]): { index: number; problem: string } | null {
  for (let i = chain.length - 1; i >= 1; i--) {
    const problem = issuerProblem(chain[i]!) ?? pathLenProblem(chain[i]!, i - 1);
    if (problem !== null) return { index: i, problem };
  }
  const leaf = chain.length > 0 ? leafProblem(chain[0]!) : null;
  return leaf === null ? null : { index: 0, problem: leaf };
}
