/**
 * The ceremony's side of keys in PKCS#11 tokens (`--root-key`, `--note-key`, `--response-key`,
 * `--generate-in-token`): open the key a URI names (generating it first when asked), check that its
 * algorithm fits its purpose, and describe it on the ceremony record. The token's public key is what
 * gets certified; the private key never leaves the token.
 */
import { SumkeepError } from '../core/errors.ts';
import { describeKey, type KeyAlgorithm } from './algorithms.ts';
import { generateInToken } from './pkcs11/keygen.ts';
import { TokenSigner } from './pkcs11/signer.ts';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11/uri.ts';

export interface TokenKeyRequest {
  /** The option that gave the URI, for messages ("--note-key"). */
  flag: string;
  uri: Pkcs11Uri;
  /** Algorithms this purpose accepts. */
  allowed: readonly KeyAlgorithm[];
  /** What --generate-in-token makes. */
  generate: KeyAlgorithm;
}

/** Parses a URI option; `config` error naming the option. */
export function parseUriOption(value: string, flag: string): Pkcs11Uri {
  try {
    return parsePkcs11Uri(value);
  } catch (e) {
    throw new SumkeepError('config', `${flag}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Opens (after generating, with `generate`) the key of `req`; refuses an algorithm the purpose does
 * not take. Generated keys are checked non-extractable by TokenSigner's open.
 */
export function openCeremonyKey(
  req: TokenKeyRequest,
  opts: { generate: boolean; env?: NodeJS.ProcessEnv },
): TokenSigner {
  const env = opts.env === undefined ? {} : { env: opts.env };
  const uri = opts.generate ? generateInToken(req.uri, req.generate, env) : req.uri;
  const signer = new TokenSigner(uri, env);
  const { label } = describeKey(signer.publicKey);
  if (!req.allowed.includes(label as KeyAlgorithm)) {
    throw new SumkeepError(
      'config',
      `${req.flag}: ${signer.name} is a ${label} key; this purpose takes ${req.allowed.join(', ')}`,
    );
  }
  return signer;
}

/** Rows for the ceremony record: where the key is and what the token says about it. */
export function tokenKeyRows(signer: TokenSigner, generated: boolean): [string, string][] {
  const a = signer.attributes;
  const yesNo = (v: boolean | undefined) => (v === undefined ? 'not reported' : v ? 'true' : 'false');
  return [
    ['key location', `PKCS#11 token: ${signer.location}`],
    ['generated in token', generated ? 'yes (this ceremony)' : 'no (existing key)'],
    ['CKA_SENSITIVE', yesNo(a.sensitive)],
    ['CKA_EXTRACTABLE', yesNo(a.extractable)],
    ['CKA_NEVER_EXTRACTABLE', yesNo(a.neverExtractable)],
  ];
}
