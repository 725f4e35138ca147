/**
 * `sumkeep verify` through the verify API: POST the go.sum, then believe the answer only after
 *  1. its X-Go-Sum-Signature verifies over the exact body bytes with the key named by
 *     X-Go-Sum-Signer, in the algorithm of that key's JWK (X-Go-Sum-Alg must agree);
 *  2. that key chains (x5c) to the pinned root (trust.ts): the root of --trust, or, without it,
 *     the root of the server's own trust.json (trust on first use, said loudly by the caller);
 *  3. the answer is about this go.sum: one result per non-blank line, with the module, version,
 *     kind and hash of that line, statuses that agree with the hashes, and a tree note signed by
 *     the log's note key of exactly the size it claims.
 * The signing key is looked up in the pinned bundle first and, for keys issued after it was
 * published (rotation), in the server's /.well-known/jwks.json; either way it must chain to the
 * pinned root. The answer is not bound to the request otherwise: a replayed old answer for the
 * same go.sum passes, which is harmless because the log only grows (it can only be staler).
 */
import { SumkeepError } from '../core/errors.ts';
import { fromBase64 } from '../core/bytes.ts';
import { newVerifier, verifierSet } from '../core/note.ts';
import type { PublicJwk, TrustBundle } from '../keys/types.ts';
import { bodyLine, httpRequest, joinUrl, type HttpOptions } from './http.ts';
import { parseJwks, parseTrustBundle, pinRoot, signerKey } from './trust.ts';
import { verifySignature } from './signature.ts';
import { MAX_VERIFY_RESPONSE, parseVerifyResponse, type VerifyResponse } from './response.ts';
import { parseGoSumBytes } from './gosum-text.ts';
import { openTreeNote } from './state.ts';

export interface ApiOptions {
  server: string;
  /** The pinned bundle (--trust); null: fetch the server's and trust it on first use. */
  trust: TrustBundle | null;
  fetch: boolean;
  ca?: string | null;
  timeoutMs?: number;
  now?: number;
  /** Told about trust on first use (the CLI writes it to stderr). */
  warn?: (message: string) => void;
}

export interface ApiOutcome {
  response: VerifyResponse;
  signer: { kid: string; alg: string };
  /** SHA-256 of the root the signer chains to. */
  root: string;
  /** True when the root came from the server itself (no --trust). */
  firstUse: boolean;
}

const refuse = (why: string): never => {
  throw new SumkeepError('invalid_signature', `the server's answer is not trustworthy: ${why}`);
};

function header(h: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = h[name];
  return typeof v === 'string' ? v : null;
}

/** Fetches the server's trust bundle (for trust on first use). */
export async function fetchTrustBundle(server: string, http: HttpOptions): Promise<TrustBundle> {
  const r = await httpRequest(joinUrl(server, '.well-known/sumkeep/trust.json'), http);
  if (r.status !== 200) {
    throw new SumkeepError(
      'upstream_error',
      `${server}/.well-known/sumkeep/trust.json answered ${r.status}: ${bodyLine(r.body)}`,
    );
  }
  return parseTrustBundle(r.body);
}

/**
 * Checks that `response` answers `gosum` line by line and that its tree note is signed by one of
 * the log's verifier keys. Throws invalid_signature naming the first disagreement.
 */
export function checkAnswerMatches(
  response: VerifyResponse,
  gosum: Uint8Array,
  verifierKeys: readonly string[],
): void {
  const local = parseGoSumBytes(gosum, { maxLines: Number.MAX_SAFE_INTEGER });
  const want = new Map<number, { module: string; version: string; kind: string; hash: string } | null>();
  for (const l of local.lines)
    want.set(l.line, { module: l.path, version: l.version, kind: l.kind, hash: l.hash });
  for (const inv of local.invalid) want.set(inv.line, null);
  if (response.results.length !== want.size) {
    refuse(`it has ${response.results.length} results for the ${want.size} non-blank lines of the go.sum`);
  }
  for (const r of response.results) {
    const w = want.get(r.line);
    if (w === undefined) return refuse(`it has a result for line ${r.line}, which is blank or absent`);
    if (w === null) {
      if (r.status !== 'invalid')
        refuse(`line ${r.line} is not a valid go.sum line, but the answer says ${r.status}`);
      continue;
    }
    if (r.status === 'invalid') refuse(`line ${r.line} is a valid go.sum line, but the answer says invalid`);
    if (r.module !== w.module || r.version !== w.version || r.kind !== w.kind || r.hash !== w.hash) {
      refuse(`its result for line ${r.line} is about another line`);
    }
    if ((r.status === 'match') !== (r.logged === r.hash) && r.status !== 'unknown') {
      refuse(`its result for line ${r.line} says ${r.status} for hashes that say otherwise`);
    }
  }
  if (response.tree.size === 0 && response.tree.note === '') return;
  const verifiers = verifierSet([...new Set(verifierKeys)].map(newVerifier));
  let n: number;
  try {
    n = openTreeNote(new TextEncoder().encode(response.tree.note), verifiers).N;
  } catch (e) {
    return refuse(`its tree note does not verify with the log's verifier key (${(e as Error).message})`);
  }
  if (n !== response.tree.size) refuse(`its tree note has size ${n}, not ${response.tree.size}`);
}

export async function verifyWithApi(gosum: Uint8Array, opts: ApiOptions): Promise<ApiOutcome> {
  const now = opts.now ?? Date.now();
  const http: HttpOptions = { ca: opts.ca ?? null, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
  const firstUse = opts.trust === null;
  const trust = opts.trust ?? (await fetchTrustBundle(opts.server, http));
  const root = pinRoot(trust, now);
  if (firstUse) {
    opts.warn?.(
      `WARNING: no --trust given: trusting the root certificate that ${opts.server} itself serves ` +
        `(trust on first use), sha256 ${root.sha256}. Pin it: save ${joinUrl(opts.server, '.well-known/sumkeep/trust.json')} ` +
        'after checking that fingerprint out of band, and pass --trust <file>.',
    );
  }

  const r = await httpRequest(joinUrl(opts.server, `api/v1/verify${opts.fetch ? '?fetch=1' : ''}`), {
    ...http,
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' },
    body: gosum,
    maxBytes: MAX_VERIFY_RESPONSE,
  });
  if (r.status !== 200) {
    throw new SumkeepError(
      r.status === 413 ? 'too_large' : 'upstream_error',
      `${opts.server}/api/v1/verify answered ${r.status}: ${bodyLine(r.body)}`,
    );
  }
  const sigB64 = header(r.headers, 'x-go-sum-signature');
  const kid = header(r.headers, 'x-go-sum-signer');
  const alg = header(r.headers, 'x-go-sum-alg');
  if (sigB64 === null || kid === null || alg === null)
    refuse('it is not signed (no X-Go-Sum-Signature/Signer/Alg)');
  const sig = fromBase64(sigB64!) ?? refuse('X-Go-Sum-Signature is not standard base64');

  let jwk: PublicJwk | undefined = trust.jwks.keys.find((k) => k.kid === kid);
  if (jwk === undefined) {
    const j = await httpRequest(joinUrl(opts.server, '.well-known/jwks.json'), http);
    if (j.status === 200) jwk = parseJwks(j.body).find((k) => k.kid === kid);
  }
  if (jwk === undefined) return refuse(`its signer ${JSON.stringify(kid)} is not a published key`);
  const key = signerKey(jwk, root, now);
  if (alg !== jwk.alg)
    refuse(`X-Go-Sum-Alg ${JSON.stringify(alg)} is not the algorithm of key ${jwk.kid} (${jwk.alg})`);
  if (!verifySignature(key, jwk.alg, r.body, sig))
    refuse(`the signature by ${jwk.kid} does not verify over the body`);

  const response = parseVerifyResponse(r.body);
  checkAnswerMatches(
    response,
    gosum,
    trust.verifierKeys.length > 0 ? trust.verifierKeys : [trust.verifierKey],
  );
  return { response, signer: { kid: jwk.kid, alg: jwk.alg }, root: root.sha256, firstUse };
}
