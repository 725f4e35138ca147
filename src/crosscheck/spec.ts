/**
 * The value of `--check-sumdb`, in the go command's GOSUMDB syntax:
 *
 *     <verifier key> [<url>]
 *
 * `<verifier key>` is "<name>+<8 hex>+<base64 key>" (or the bare name "sum.golang.org", whose key
 * the go command knows: the same built-in key here). Without `<url>` the database is reached as
 * the go command reaches it: through the upstream proxies' `/sumdb/<name>/` paths once a proxy
 * answers 200 to `/sumdb/<name>/supported`, else directly at https://<name>.
 * "off" is not accepted: leave the setting out instead.
 */
import { SumkeepError } from '../core/errors.ts';
import { newVerifier, type Verifier } from '../core/note.ts';

/** The go command's built-in key for sum.golang.org (cmd/go/internal/modfetch/key.go). */
export const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

export interface SumdbSpec {
  /** The database's name (the verifier key's name), as in its notes and in /sumdb/<name>/. */
  name: string;
  /** The verifier key, as given (or the built-in one). */
  vkey: string;
  verifier: Verifier;
  /** Base URL without a trailing slash, or null: through the upstream proxies (see above). */
  url: string | null;
}

/** Parses `raw`; `where` names its source for messages. Throws SumkeepError('config'). */
export function parseSumdbSpec(raw: string, where = '--check-sumdb'): SumdbSpec {
  const fields = raw.trim().split(/\s+/);
  const bad = (why: string) =>
    new SumkeepError(
      'config',
      `${where} ${JSON.stringify(raw.slice(0, 300))}: ${why} (want "<verifier key> [<url>]", as GOSUMDB)`,
    );
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw bad('one or two fields');
  if (fields[0] === 'off') throw bad('"off" turns nothing on; leave the setting out');
  const vkey = fields[0] === 'sum.golang.org' ? SUM_GOLANG_ORG_KEY : fields[0]!;
  let verifier: Verifier;
  try {
    verifier = newVerifier(vkey);
  } catch (e) {
    throw bad(`bad verifier key: ${e instanceof Error ? e.message : 'invalid'}`);
  }
  let url: string | null = null;
  if (fields[1] !== undefined) {
    let u: URL;
    try {
      u = new URL(fields[1]);
    } catch {
      throw bad('bad URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad('the URL must be http(s)');
    if (u.search !== '' || u.hash !== '') throw bad('the URL must not have a query or fragment');
    url = u.href.replace(/\/+$/, '');
  }
  return { name: verifier.name, vkey, verifier, url };
}
