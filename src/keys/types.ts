/**
 * Contracts of the signing authority (key ceremony → server). The ceremony (src/keys/ceremony*.ts)
 * writes these files into a key directory; the server loads them with `loadServingKeys`.
 */
import type { Signer } from '../core/note.ts';

/** JWS algorithm names used by sumkeep: Ed25519, or RSA-PSS with SHA-256, MGF1-SHA-256, salt 32. */
export type ResponseAlg = 'EdDSA' | 'PS256';

/** A public JWK as published in the JWKS (RFC 7517), with its certificate chain. */
export interface PublicJwk {
  kty: 'OKP' | 'RSA';
  kid: string;
  alg: ResponseAlg;
  use: 'sig';
  /** OKP */
  crv?: 'Ed25519';
  x?: string;
  /** RSA */
  n?: string;
  e?: string;
  /** Certificate chain, standard base64 DER, the key's own certificate first and the root last. */
  x5c: string[];
  /** SHA-256 thumbprint of the key's certificate (base64url), RFC 7517 section 4.9. */
  'x5t#S256'?: string;
}

/** trust.json: the public bundle a company publishes and pins. */
export interface TrustBundle {
  /** Log name (GOSUMDB key name). */
  name: string;
  /** Verifier key of the current note key: "<name>+<hash>+<key>". */
  verifierKey: string;
  /** Every note verifier key that currently signs tree heads (more than one during a rotation). */
  verifierKeys: string[];
  /** The exact GOSUMDB value: "<verifierKey> <url>". */
  gosumdb: string;
  /** Public base URL of the server. */
  url: string;
  root: {
    /** Self-signed root CA certificate, PEM. */
    certificate: string;
    /** SHA-256 of the root certificate's DER, lowercase hex. */
    sha256: string;
  };
  jwks: { keys: PublicJwk[] };
}

/** An online key that signs API responses: in memory (a PEM file) or in a PKCS#11 token. */
export interface ResponseSigner {
  kid: string;
  alg: ResponseAlg;
  /** Certificate validity end (ms since epoch). */
  notAfter: number;
  /** True when the key lives in a token. */
  inToken?: boolean;
  /**
   * Signature over exactly `data` (EdDSA: 64 bytes; PS256: modulus size). A token key that cannot
   * sign now throws SumkeepError('unavailable').
   */
  sign(data: Uint8Array): Uint8Array;
}

/** Everything `serve` needs from a key directory. Never contains the root private key. */
export interface ServingKeys {
  name: string;
  /** Primary note verifier key (GOSUMDB). */
  verifierKey: string;
  /** Note signers; during a note-key rotation more than one: each signs every tree head. */
  noteSigners: Signer[];
  /** The response signer to use now (newest whose certificate is valid), or null without a ceremony. */
  responseSigner: ResponseSigner | null;
  /** The trust bundle (trust.json), or null for a key directory that has only a note key. */
  trust: TrustBundle | null;
  development: boolean;
  /**
   * The certificates of the online keys that sign now (every note key; the chosen response key),
   * with their validity end (ms since epoch), for /metrics. Empty without a ceremony.
   */
  certificates?: { purpose: 'note' | 'response'; notAfter: number }[];
  /** Things to log at start: certificates ending within 30 days, no usable response key. */
  warnings?: string[];
}
