/**
 * Signed API answers. Every 2xx response of a signed route carries
 *
 *     X-Go-Sum-Signature: <standard padded base64 of the signature over the exact body bytes>
 *     X-Go-Sum-Signer:    <kid of the signing key in /.well-known/jwks.json>
 *     X-Go-Sum-Alg:       EdDSA | PS256   (PS256: RSA-PSS, SHA-256, MGF1-SHA-256, salt 32)
 *
 * A client that sends `Accept: application/jose` gets a 200 answer as a compact JWS instead
 * (`Content-Type: application/jose`, RFC 7515 section 7.1): the protected header is
 * {"alg","kid","cty"} and the payload is exactly the bytes the plain answer would have had. The
 * three headers then sign the JWS text itself, so "the signature covers the bytes sent" holds for
 * both forms.
 *
 * Only 2xx answers are signed. An error's body is one line that may echo what the client sent (a
 * module path, say, shaped like a go.sum line): signing it would hand an attacker a signed text of
 * their choosing, so errors go out unsigned and clients must check the status before anything else
 * (docs/api.md).
 *
 * Both signatures come from ResponseSigner.sign, the contract's one signing primitive, rather than
 * jose's CompactSign: CompactSign needs the private KeyObject itself (and, on Node 20, one it can
 * export as a JWK, which "rsa-pss" keys are not), while a signer backed by an HSM has only sign().
 * The JWS bytes are the same either way; tests check them with jose's compactVerify and with plain
 * node:crypto.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { oneLine } from './errors.ts';
import { toBase64, utf8 } from '../core/bytes.ts';
import type { ResponseSigner } from '../keys/types.ts';

export const SIGNATURE_HEADER = 'x-go-sum-signature';
export const SIGNER_HEADER = 'x-go-sum-signer';
export const ALG_HEADER = 'x-go-sum-alg';
export const JOSE_MEDIA_TYPE = 'application/jose';

/** The three headers for `body`, signed by `signer`. */
export function signatureHeaders(signer: ResponseSigner, body: Uint8Array): Record<string, string> {
  return {
    [SIGNATURE_HEADER]: toBase64(signer.sign(body)),
    [SIGNER_HEADER]: signer.kid,
    [ALG_HEADER]: signer.alg,
  };
}

function base64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

/**
 * Compact JWS of `payload`: BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature),
 * the signature over the ASCII bytes of the first two parts. `cty` names the payload's media type
 * ("text/plain", or "json" for application/json, as RFC 7515 section 4.1.10 shortens it).
 */
export function compactJws(signer: ResponseSigner, payload: Uint8Array, cty?: string): string {
  const header: Record<string, string> = { alg: signer.alg, kid: signer.kid };
  if (cty !== undefined) header.cty = cty;
  const signingInput = `${base64url(utf8(JSON.stringify(header)))}.${base64url(payload)}`;
  return `${signingInput}.${base64url(signer.sign(utf8(signingInput)))}`;
}

/**
 * True when the Accept header lists application/jose with a non-zero quality. Wildcards do not
 * count: the JWS form is only for clients that ask for it by name.
 */
export function wantsJose(accept: string | undefined): boolean {
  if (accept === undefined || accept.length > 4096) return false;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== JOSE_MEDIA_TYPE) continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** The JWS "cty" for a response content type: "json" for application/json, else the media type. */
function ctyOf(contentType: unknown): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  if (media === '') return undefined;
  return media === 'application/json' ? 'json' : media;
}

/**
 * An onSend hook for a signed route: signs the body of a 2xx answer (any other status goes out
 * unsigned, see the file comment), and turns a 200 answer into a compact JWS for clients that ask for application/jose. `signerOf`
 * is read per response; without a signer the answer goes out unsigned (the routes themselves
 * refuse to answer then, see requireSigner). Only string and Buffer bodies can be signed; the
 * signed routes never send streams, so meeting one is a bug (`internal`).
 */
export function signedResponseHook(signerOf: () => ResponseSigner | null) {
  return async (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const signer = signerOf();
    if (signer === null || reply.statusCode < 200 || reply.statusCode > 299) return payload;
    let body: Uint8Array;
    if (typeof payload === 'string') body = utf8(payload);
    else if (payload instanceof Uint8Array) body = payload;
    else if (payload === null || payload === undefined) body = new Uint8Array(0);
    else throw new SumkeepError('internal', 'a signed route sent a body that cannot be signed');
    try {
      if (reply.statusCode === 200 && wantsJose(req.headers.accept)) {
        body = utf8(compactJws(signer, body, ctyOf(reply.getHeader('content-type'))));
        reply.header('content-type', JOSE_MEDIA_TYPE);
      }
      reply.headers(signatureHeaders(signer, body)).header('vary', 'accept');
    } catch (e) {
      // A key in a token that cannot sign now: an unsigned 503 with the reason, never an unsigned 200.
      if (!isSumkeepError(e, 'unavailable')) throw e;
      req.log.warn({ err: e }, 'response-signing key unavailable');
      reply.code(503).header('content-type', 'text/plain; charset=utf-8');
      return `the response-signing key cannot sign now (${oneLine(e.message)}); try again later\n`;
    }
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  };
}

/** The signer, or `unavailable` (503) with what to do when the server has none. */
export function requireSigner(signer: ResponseSigner | null): ResponseSigner {
  if (signer === null) {
    throw new SumkeepError(
      'unavailable',
      'this server has no response-signing key: run `npx sumkeep ceremony init` (and issue a response key) ' +
        'and restart `sumkeep serve` with that key directory',
    );
  }
  return signer;
}
