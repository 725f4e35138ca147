/**
 * dirhash Hash1 ("h1:"), the hash the go command writes into go.sum.
 *
 * For each file, sorted by the UTF-8 bytes of its name (not JavaScript's UTF-16 order, which
 * differs for characters above U+FFFF versus U+E000..U+FFFF), one summary line:
 *
 *     <64 lowercase hex digits of sha256(content)>  <name>\n      (two spaces, one newline)
 *
 * h1 = "h1:" + base64(sha256(concatenation of all lines)).
 * Zip hashes use the zip entry names with their "M@V/" prefix; the go.mod hash is the summary of
 * a single file named "go.mod".
 */
import { compareBytes, fromBase64, toBase64, toHex, utf8 } from './bytes.ts';
import { SumkeepError } from './errors.ts';
import { sha256 } from './sha256.ts';

export interface FileDigest {
  /** File name as it appears in the summary (zip entry name, or "go.mod"). */
  name: string;
  /** SHA-256 of the file content, 32 bytes. */
  sha256: Uint8Array;
}

/** The summary text that Hash1 hashes, in its exact bytes. Throws `bad_dirhash` on a name with "\n". */
export function hash1Summary(files: readonly FileDigest[]): Uint8Array {
  const entries = files.map((f) => {
    if (f.name.includes('\n')) {
      throw new SumkeepError(
        'bad_dirhash',
        `dirhash: filenames with newlines are not supported: ${JSON.stringify(f.name)}`,
      );
    }
    if (!f.name.isWellFormed()) {
      throw new SumkeepError('bad_dirhash', 'dirhash: filename is not valid Unicode');
    }
    if (f.sha256.length !== 32) {
      throw new SumkeepError('bad_dirhash', `dirhash: digest of ${JSON.stringify(f.name)} is not 32 bytes`);
    }
    return { nameBytes: utf8(f.name), line: `${toHex(f.sha256)}  ${f.name}\n` };
  });
  entries.sort((a, b) => compareBytes(a.nameBytes, b.nameBytes));
  return utf8(entries.map((e) => e.line).join(''));
}

/** "h1:" + base64(sha256(summary)). */
export function hash1(files: readonly FileDigest[]): string {
  return 'h1:' + toBase64(sha256(hash1Summary(files)));
}

/** The go.sum hash of a go.mod file: Hash1 over one file named "go.mod". */
export function goModHash(content: Uint8Array): string {
  return hash1([{ name: 'go.mod', sha256: sha256(content) }]);
}

const H1_RE = /^h1:[A-Za-z0-9+/]{43}=$/;

/**
 * True for a well-formed "h1:" value: canonical base64 of exactly 32 bytes. The regular expression
 * alone lets the last character carry non-zero unused bits, which go.sum lines (gosum.ts) refuse;
 * both must agree on what an h1 hash is.
 */
export function isH1(s: string): boolean {
  return H1_RE.test(s) && fromBase64(s.slice(3)) !== null;
}
