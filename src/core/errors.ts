/**
 * The one error base class of sumkeep. Every module throws a SumkeepError (or a subclass where
 * callers branch on the class); parsers never let a SyntaxError or RangeError escape.
 *
 * `code` is a stable, machine-readable identifier; `message` is one line that is safe to show a
 * user (it never carries secrets or stack traces). The HTTP layer maps codes to status codes in
 * exactly one place (src/http/errors.ts).
 */
export type ErrorCode =
  // generic input problems
  | 'bad_input'
  | 'too_large'
  | 'unsupported_media_type'
  // protocol formats
  | 'malformed_note'
  | 'malformed_key'
  | 'unknown_key'
  | 'invalid_signature'
  | 'no_verifiable_signature'
  | 'malformed_record'
  | 'malformed_tree'
  | 'malformed_tile'
  | 'malformed_proof'
  | 'bad_module_path'
  | 'bad_version'
  | 'bad_gosum'
  | 'bad_dirhash'
  // module zips
  | 'invalid_zip'
  // storage and log
  | 'not_found'
  | 'conflict'
  | 'store_error'
  /** The database stayed locked by another writer past the busy timeout; worth retrying. */
  | 'store_busy'
  | 'schema_too_new'
  | 'log_inconsistent'
  // upstream
  | 'upstream_not_found'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'module_mismatch'
  | 'private_module'
  // cross-check with an independent checksum database (--check-sumdb)
  /** That database logs other hashes for this version than sumkeep computed: refused. */
  | 'crosscheck_mismatch'
  /** That database does not have this (public) version: refused; maybe a missing --private. */
  | 'crosscheck_missing'
  /** That database could not be reached or proven (unreachable, fork): fail closed, 503. */
  | 'crosscheck_unavailable'
  // policy (--policy)
  /** A deny rule (or allow-list mode) of the policy matches this version: 403. */
  | 'policy_denied'
  // configuration and keys
  | 'config'
  | 'key_exists'
  // a feature this server cannot offer as configured (e.g. no response-signing key)
  | 'unavailable'
  /** A limit on work in flight is reached (e.g. --verify-concurrency): 503, retry in a moment. */
  | 'overloaded'
  /** The caller gave up (an HTTP client disconnected before its answer): nobody reads the result. */
  | 'cancelled'
  | 'internal';

export class SumkeepError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SumkeepError';
  }
}

/** True when `e` is a SumkeepError, optionally with the given code. */
export function isSumkeepError(e: unknown, code?: ErrorCode): e is SumkeepError {
  return e instanceof SumkeepError && (code === undefined || e.code === code);
}

/**
 * The module version was refused for what the upstream served, not because it could not be had
 * right now: the one list of refusals (410 Gone over HTTP, remembered by the negative cache, an
 * `unknown` reason in a go.sum check). Cross-check refusals belong here too; a policy denial
 * ('policy_denied') does not: it is a 403 and `denied` in a go.sum check, and a reload may lift it
 * at any time, so it is never remembered as gone. An
 * oversized file from the upstream is refused as 'invalid_zip' (the log layer turns the
 * upstream's 'too_large' into it: 413 would blame the client's request).
 */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_zip',
  'module_mismatch',
  'private_module',
  'crosscheck_mismatch',
  'crosscheck_missing',
]);

export function isRefusal(e: unknown): boolean {
  return e instanceof SumkeepError && REFUSALS.has(e.code);
}
