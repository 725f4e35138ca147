/**
 * `--generate-in-token`: makes a key pair inside the token a URI names, so that the private key
 * never exists outside it. The private object is CKA_TOKEN (persistent), CKA_PRIVATE (needs login),
 * CKA_SIGN (and not DECRYPT, UNWRAP or DERIVE), CKA_SENSITIVE true and CKA_EXTRACTABLE false: the token will never hand out its value,
 * wrapped or not (PKCS#11 v3.0 section 4.9). The public object is CKA_TOKEN and CKA_VERIFY. Both
 * carry the URI's label (`object=`, required here) and id (`id=`, else 16 random bytes).
 *
 *   ed25519        CKM_EC_EDWARDS_KEY_PAIR_GEN, CKA_EC_PARAMS = DER OID 1.3.101.112
 *   rsa-pss-<bits> CKM_RSA_PKCS_KEY_PAIR_GEN, CKA_MODULUS_BITS <bits>, CKA_PUBLIC_EXPONENT 65537
 *
 * Never replaces anything: a token that already holds an object with that label (or id) is refused
 * (`key_exists`), as key files are.
 */
import { randomBytes } from 'node:crypto';
import { SumkeepError } from '../../core/errors.ts';
import type { KeyAlgorithm } from '../algorithms.ts';
import { CKM_EC_EDWARDS_KEY_PAIR_GEN, ckrName, pkcs11js } from './library.ts';
import { TokenSession, type Pkcs11Template } from './session.ts';
import { ED25519_EC_PARAMS } from './signer.ts';
import { describeUri, parsePkcs11Uri, type Pkcs11Uri } from './uri.ts';

const RSA_BITS: Partial<Record<KeyAlgorithm, number>> = {
  'rsa-pss-2048': 2048,
  'rsa-pss-3072': 3072,
  'rsa-pss-4096': 4096,
};

/**
 * Generates the key pair `uri` names with `alg` in its token. Returns the URI to store: the one
 * given, with the id of the new objects added when it had none (so that it names exactly them).
 */
export function generateInToken(
  uriText: string | Pkcs11Uri,
  alg: KeyAlgorithm,
  opts: { env?: NodeJS.ProcessEnv } = {},
): Pkcs11Uri {
  const uri = typeof uriText === 'string' ? parsePkcs11Uri(uriText) : uriText;
  if (uri.object === undefined) {
    throw new SumkeepError(
      'config',
      `--generate-in-token: the URI must give the new key a label (object=<label>)`,
    );
  }
  const m = pkcs11js();
  const session = new TokenSession(uri, { ...opts, readWrite: true });
  try {
    // Anything already carrying this label (or id), of any class, is refused.
    const { id: _id, ...labelOnly } = uri;
    const byLabel = new TokenSession(labelOnly, { ...opts, readWrite: true });
    for (const cls of [m.CKO_PRIVATE_KEY, m.CKO_PUBLIC_KEY, m.CKO_CERTIFICATE, m.CKO_SECRET_KEY]) {
      if (byLabel.find(cls, 1).length > 0 || (uri.id !== undefined && session.find(cls, 1).length > 0)) {
        throw new SumkeepError(
          'key_exists',
          `${describeUri(uri)} already exists in the token; sumkeep never replaces key material: drop --generate-in-token to use it, or choose another object= label`,
        );
      }
    }
    byLabel.close();
    const id = uri.id ?? new Uint8Array(randomBytes(16));
    const common: Pkcs11Template = [
      { type: m.CKA_TOKEN, value: true },
      { type: m.CKA_LABEL, value: uri.object },
      { type: m.CKA_ID, value: Buffer.from(id) },
    ];
    // One purpose per key: signing only (SoftHSM would otherwise also allow decrypt and unwrap).
    const pub: Pkcs11Template = [
      ...common,
      { type: m.CKA_VERIFY, value: true },
      { type: m.CKA_ENCRYPT, value: false },
      { type: m.CKA_WRAP, value: false },
    ];
    const priv: Pkcs11Template = [
      ...common,
      { type: m.CKA_PRIVATE, value: true },
      { type: m.CKA_SIGN, value: true },
      { type: m.CKA_DECRYPT, value: false },
      { type: m.CKA_UNWRAP, value: false },
      { type: m.CKA_DERIVE, value: false },
      { type: m.CKA_SENSITIVE, value: true },
      { type: m.CKA_EXTRACTABLE, value: false },
    ];
    let mechanism: number;
    const bits = RSA_BITS[alg];
    if (alg === 'ed25519') {
      mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
      pub.push({ type: m.CKA_EC_PARAMS, value: ED25519_EC_PARAMS });
    } else if (bits !== undefined) {
      mechanism = m.CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push(
        { type: m.CKA_MODULUS_BITS, value: bits },
        { type: m.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      );
    } else {
      throw new SumkeepError('config', `cannot generate a ${alg} key in a token`);
    }
    const { p, session: h } = session.handle();
    try {
      p.C_GenerateKeyPair(h, { mechanism }, pub, priv);
    } catch (e) {
      throw new SumkeepError(
        'config',
        `${describeUri(uri)}: the token could not generate a ${alg} key (${ckrName(e)}); check that it supports ${alg === 'ed25519' ? 'CKM_EC_EDWARDS_KEY_PAIR_GEN' : 'CKM_RSA_PKCS_KEY_PAIR_GEN'}`,
        { cause: e },
      );
    }
    return { ...uri, id };
  } finally {
    session.close();
  }
}
