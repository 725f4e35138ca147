/**
 * Which note keys signed a published lookup file, and the marker that says which keys every
 * lookup file of a published directory carries (src/log/publish.ts, `Publisher.resignLookups`).
 *
 * A key is named `<name>+<8 hex>`: the key name and the 4-byte key hash that begin every
 * signature (and every verifier key, "<name>+<8 hex>+<key>"), taken from the note's signature
 * lines "— <name> <base64(key hash || signature)>\n".
 *
 * Marker file `<dir>/lookup-keys` (not under /lookup/ or /tile/: a static server does not serve
 * it), exact bytes:
 *   "sumkeep lookup keys v1\n" then one "<name>+<8 hex>\n" per key, sorted.
 * It is written (temporary file, fsync, rename) only after every lookup file carries a signature
 * by each key it names, and removed before a lookup file with fewer keys is written.
 */

export const LOOKUP_KEYS_FILE = 'lookup-keys';
const MAGIC = 'sumkeep lookup keys v1\n';
const LF = 0x0a;
const DASH = '\u2014 ';

/** The keys that signed the note at the end of `bytes` (a note, or a lookup answer: record then note). */
export function signingKeys(bytes: Uint8Array): Set<string> {
  const keys = new Set<string>();
  // The signature block follows the last blank line (signature lines never hold one; a lookup
  // answer's record text ends in a blank line too, before the note's text).
  let blank = -1;
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === LF && bytes[i + 1] === LF) {
      blank = i;
      break;
    }
  }
  if (blank < 0) return keys;
  const block = Buffer.from(bytes.buffer, bytes.byteOffset + blank + 2, bytes.length - blank - 2).toString();
  for (const line of block.split('\n')) {
    if (!line.startsWith(DASH)) continue;
    const [name, sig] = line.slice(DASH.length).split(' ');
    if (name === undefined || sig === undefined) continue;
    const raw = Buffer.from(sig, 'base64');
    if (raw.length < 4) continue;
    keys.add(`${name}+${raw.subarray(0, 4).toString('hex')}`);
  }
  return keys;
}

/** True when `have` holds every key of `want`. */
export function coversKeys(have: ReadonlySet<string>, want: ReadonlySet<string>): boolean {
  for (const k of want) if (!have.has(k)) return false;
  return true;
}

export function formatLookupKeys(keys: ReadonlySet<string>): Uint8Array {
  return Buffer.from(
    MAGIC +
      [...keys]
        .sort()
        .map((k) => `${k}\n`)
        .join(''),
  );
}

/** The keys the marker names; null for anything but a well-formed marker (then it counts as absent). */
export function parseLookupKeys(bytes: Uint8Array): Set<string> | null {
  const s = Buffer.from(bytes).toString();
  if (!s.startsWith(MAGIC) || !s.endsWith('\n')) return null;
  const keys = new Set<string>();
  for (const line of s.slice(MAGIC.length, -1).split('\n')) {
    if (line === '') continue;
    if (!/^[^\s+]+\+[0-9a-f]{8}$/.test(line)) return null;
    keys.add(line);
  }
  return keys;
}
