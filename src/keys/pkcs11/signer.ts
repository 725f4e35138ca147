/**
 * A signing key inside a PKCS#11 token, as a KeySigner (src/keys/signer.ts):
 *
 *   Ed25519  CKK_EC_EDWARDS key, CKA_EC_PARAMS the Ed25519 OID (or the PrintableString
 *            "edwards25519" older libraries write); signs with CKM_EDDSA without parameters (pure
 *            Ed25519, RFC 8032); public key from CKA_EC_POINT (DER OCTET STRING of 32 bytes, or the
 *            32 bytes bare).
 *   RSA      CKK_RSA key; signs with CKM_SHA256_RSA_PKCS_PSS, CK_RSA_PKCS_PSS_PARAMS { CKM_SHA256,
 *            CKG_MGF1_SHA256, salt 32 } (= algorithms.ts PS256); public key from CKA_MODULUS and
 *            CKA_PUBLIC_EXPONENT.
 *
 * Opening checks the pair: a probe text signed in the token must verify with the public key read
 * from it. Keys must be CKA_SENSITIVE and not CKA_EXTRACTABLE unless `allowExtractable`.
 *
 * Failure and recovery (what serve relies on): a sign that fails throws SumkeepError('unavailable')
 * with a one-line reason (`token "x" key "y" cannot sign: CKR_...`). The next sign after a failure
 * re-opens the session (re-initializing the library if needed, re-reading the PIN) and, on success,
 * signs; recovery is tried at most once per RECOVERY_INTERVAL_MS, so a probe loop or a burst of
 * requests cannot hammer a failing token; in between, the last reason is thrown at once.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type * as Pkcs11js from 'pkcs11js';
import { SumkeepError } from '../../core/errors.ts';
import { PSS_SALT_LENGTH, describeKey, verifyBytes } from '../algorithms.ts';
import type { KeySigner } from '../signer.ts';
import { CKK_EC_EDWARDS, CKM_EDDSA, ckrName, pkcs11js, type Handle } from './library.ts';
import { TokenSession, type SessionOptions } from './session.ts';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './uri.ts';

export const RECOVERY_INTERVAL_MS = 1000;

// RFC 8410 SPKI header of an Ed25519 public key; the 32 key bytes follow.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** DER of the Ed25519 OID 1.3.101.112 and of PrintableString "edwards25519" (both seen in CKA_EC_PARAMS). */
export const ED25519_EC_PARAMS = Buffer.from('06032b6570', 'hex');
const ED25519_EC_PARAMS_NAME = Buffer.concat([Buffer.from([0x13, 0x0c]), Buffer.from('edwards25519')]);

/** What the token says about a private key object (absent when it will not tell). */
export interface TokenKeyAttributes {
  sensitive?: boolean;
  extractable?: boolean;
  alwaysSensitive?: boolean;
  neverExtractable?: boolean;
}

export interface TokenSignerOptions extends SessionOptions {
  /** Accept a key the token marks extractable or not sensitive (refused by default). */
  allowExtractable?: boolean;
  /** Clock for the recovery interval (tests). */
  now?: () => number;
}

function bool(b: Buffer | undefined): boolean | undefined {
  return b === undefined || b.length === 0 ? undefined : b[0] !== 0;
}

function ulong(b: Buffer | undefined): number | undefined {
  if (b === undefined || b.length < 4) return undefined;
  return b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0);
}

/** The 32 Ed25519 public key bytes of a CKA_EC_POINT value. */
function ed25519Point(point: Buffer): Buffer | null {
  if (point.length === 34 && point[0] === 0x04 && point[1] === 0x20) return point.subarray(2);
  if (point.length === 32) return point;
  return null;
}

function isEd25519Params(p: Buffer | undefined): boolean {
  return p !== undefined && (p.equals(ED25519_EC_PARAMS) || p.equals(ED25519_EC_PARAMS_NAME));
}

export class TokenSigner implements KeySigner {
  readonly uri: Pkcs11Uri;
  readonly location: string;
  readonly inToken = true;
  readonly publicKey: KeyObject;
  readonly attributes: TokenKeyAttributes;
  private readonly session: TokenSession;
  private readonly ed25519: boolean;
  private readonly sigLength: number;
  private readonly now: () => number;
  private privateKey: Handle;
  private failure: { at: number; error: SumkeepError } | null = null;

  /**
   * Opens the key `uri` names (a URI string or a parsed one): `config` errors for a URI that names
   * nothing usable, a wrong PIN or an extractable key; `unavailable` for a token that cannot be
   * reached now.
   */
  constructor(uri: string | Pkcs11Uri, opts: TokenSignerOptions = {}) {
    this.uri = typeof uri === 'string' ? parsePkcs11Uri(uri) : uri;
    this.location = formatPkcs11Uri(this.uri);
    this.now = opts.now ?? Date.now;
    this.session = new TokenSession(this.uri, opts);
    const m = pkcs11js();
    this.privateKey = this.findOne(m.CKO_PRIVATE_KEY, 'private key');
    const keyType = ulong(this.session.attribute(this.privateKey, m.CKA_KEY_TYPE));
    if (keyType === CKK_EC_EDWARDS) this.ed25519 = true;
    else if (keyType === m.CKK_RSA) this.ed25519 = false;
    else
      throw new SumkeepError(
        'config',
        `${this.session.name} is neither an Ed25519 (CKK_EC_EDWARDS) nor an RSA key`,
      );
    this.attributes = this.readAttributes();
    if (
      opts.allowExtractable !== true &&
      (this.attributes.sensitive === false || this.attributes.extractable === true)
    ) {
      throw new SumkeepError(
        'config',
        `${this.session.name} can leave the token (CKA_SENSITIVE false or CKA_EXTRACTABLE true): generate a non-extractable key (--generate-in-token)`,
      );
    }
    this.publicKey = this.readPublicKey();
    const { jws } = describeKey(this.publicKey);
    if ((jws === 'EdDSA') !== this.ed25519)
      throw new SumkeepError('config', `${this.session.name}: the public key has another type`);
    this.sigLength = this.ed25519 ? 64 : (this.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const probe = new TextEncoder().encode('sumkeep PKCS#11 key pairing probe\n');
    if (!verifyBytes(this.publicKey, probe, this.signOnce(probe))) {
      throw new SumkeepError(
        'config',
        `${this.session.name}: a signature made in the token does not verify with its public key object (mismatched pair?)`,
      );
    }
  }

  /** `token "x" key "y"`. */
  get name(): string {
    return this.session.name;
  }

  private findOne(cls: number, what: string): Handle {
    const found = this.session.find(cls);
    if (found.length === 1) return found[0]!;
    throw new SumkeepError(
      'config',
      found.length === 0
        ? `${this.session.name}: no ${what} object with that label/id in the token`
        : `${this.session.name}: ${found.length} ${what} objects match; add id=<key id> to the URI`,
    );
  }

  private readAttributes(): TokenKeyAttributes {
    const m = pkcs11js();
    const read = (t: number) => bool(this.session.attribute(this.privateKey, t));
    const out: TokenKeyAttributes = {};
    const set = (k: keyof TokenKeyAttributes, v: boolean | undefined) => {
      if (v !== undefined) out[k] = v;
    };
    set('sensitive', read(m.CKA_SENSITIVE));
    set('extractable', read(m.CKA_EXTRACTABLE));
    set('alwaysSensitive', read(m.CKA_ALWAYS_SENSITIVE));
    set('neverExtractable', read(m.CKA_NEVER_EXTRACTABLE));
    return out;
  }

  private readPublicKey(): KeyObject {
    const m = pkcs11js();
    const pubs = this.session.find(m.CKO_PUBLIC_KEY);
    if (pubs.length > 1)
      throw new SumkeepError(
        'config',
        `${this.session.name}: ${pubs.length} public key objects match; add id=<key id>`,
      );
    const pub = pubs[0];
    try {
      if (this.ed25519) {
        if (pub === undefined)
          throw new SumkeepError(
            'config',
            `${this.session.name}: no public key object beside the private key`,
          );
        if (!isEd25519Params(this.session.attribute(pub, m.CKA_EC_PARAMS))) {
          throw new SumkeepError('config', `${this.session.name}: the EC_EDWARDS key is not on Ed25519`);
        }
        const point = this.session.attribute(pub, m.CKA_EC_POINT);
        const raw = point === undefined ? null : ed25519Point(point);
        if (raw === null) throw new SumkeepError('config', `${this.session.name}: unreadable CKA_EC_POINT`);
        return createPublicKey({
          key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
          format: 'der',
          type: 'spki',
        });
      }
      // RSA: the public object, else the private object's public attributes (always readable).
      const from = pub ?? this.privateKey;
      const n = this.session.attribute(from, m.CKA_MODULUS);
      const e = this.session.attribute(from, m.CKA_PUBLIC_EXPONENT);
      if (n === undefined || e === undefined)
        throw new SumkeepError('config', `${this.session.name}: unreadable RSA public key`);
      return createPublicKey({
        key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
        format: 'jwk',
      });
    } catch (e) {
      if (e instanceof SumkeepError) throw e;
      throw new SumkeepError('config', `${this.session.name}: the public key does not parse`, { cause: e });
    }
  }

  private mechanism(): Pkcs11Mechanism {
    const m = pkcs11js();
    if (this.ed25519) return { mechanism: CKM_EDDSA };
    return {
      mechanism: m.CKM_SHA256_RSA_PKCS_PSS,
      parameter: {
        type: m.CK_PARAMS_RSA_PSS,
        hashAlg: m.CKM_SHA256,
        mgf: m.CKG_MGF1_SHA256,
        saltLen: PSS_SALT_LENGTH,
      } as Pkcs11Params,
    };
  }

  private signOnce(data: Uint8Array): Uint8Array {
    if (!this.session.isOpen) {
      // Another key behind the same library re-initialized it: object handles died with it.
      this.session.handle();
      this.privateKey = this.findOne(pkcs11js().CKO_PRIVATE_KEY, 'private key');
    }
    const { p, session } = this.session.handle();
    const input = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    try {
      p.C_SignInit(session, this.mechanism(), this.privateKey);
      const sig = p.C_Sign(session, input, Buffer.alloc(Math.max(this.sigLength, 64)));
      return new Uint8Array(sig);
    } catch (e) {
      throw this.session.unavailable('cannot sign', e);
    }
  }

  /** Signs in the token; on failure, recovers as the file comment says. */
  sign(data: Uint8Array): Uint8Array {
    if (this.failure === null) {
      try {
        return this.signOnce(data);
      } catch (e) {
        this.failure = { at: this.now(), error: asUnavailable(e, this.name) };
        throw this.failure.error;
      }
    }
    if (this.now() - this.failure.at < RECOVERY_INTERVAL_MS) throw this.failure.error;
    try {
      this.session.reopen();
      this.privateKey = this.findOne(pkcs11js().CKO_PRIVATE_KEY, 'private key');
      const sig = this.signOnce(data);
      this.failure = null;
      return sig;
    } catch (e) {
      this.failure = { at: this.now(), error: asUnavailable(e, this.name) };
      throw this.failure.error;
    }
  }

  /** Ends the session (the library stays loaded for other keys). */
  close(): void {
    this.session.close();
  }
}

/** Any failure while serving is `unavailable` (a wrong PIN or a vanished key included): the key cannot sign now. */
function asUnavailable(e: unknown, name: string): SumkeepError {
  if (e instanceof SumkeepError) {
    if (e.code === 'unavailable') return e;
    return new SumkeepError('unavailable', e.message.startsWith(name) ? e.message : `${name}: ${e.message}`, {
      cause: e,
    });
  }
  return new SumkeepError('unavailable', `${name} cannot sign: ${ckrName(e)}`, { cause: e });
}

type Pkcs11Mechanism = Pkcs11js.Mechanism;
type Pkcs11Params = Pkcs11js.IParams;
