/**
 * The tree description that a go.sum database signs (the text of its signed tree head note):
 *
 *     go.sum database tree\n
 *     <N>\n          record count, decimal, no sign, no leading zeros
 *     <hash>\n       root hash, standard padded base64 (44 characters)
 */
import { decodeUtf8, fromBase64, toBase64, utf8 } from '../bytes.ts';
import { SumkeepError } from '../errors.ts';
import { isHash, type Hash } from './hash.ts';
import { isIndex } from './int.ts';

/** A tree head: N records with root hash `hash`. */
export interface Tree {
  N: number;
  hash: Hash;
}

const TREE_TEXT_RE = /^go\.sum database tree\n(0|[1-9][0-9]{0,15})\n([A-Za-z0-9+/]{43}=)\n$/;

/** Longest tree text: header (21) + 16 digits + newline + 44 + newline. */
const MAX_TREE_TEXT = 21 + 17 + 45;

/** The exact tree text for `tree`. Throws `malformed_tree` for a bad size or a hash that is not 32 bytes. */
export function formatTree(tree: Tree): Uint8Array {
  if (typeof tree !== 'object' || tree === null || !isIndex(tree.N) || !isHash(tree.hash)) {
    throw new SumkeepError('malformed_tree', 'tlog: invalid tree (size must be 0..2^53-1, hash 32 bytes)');
  }
  return utf8(`go.sum database tree\n${tree.N}\n${toBase64(tree.hash)}\n`);
}

/**
 * Parses tree text. Stricter than Go's ParseTree, which ignores extra lines for forward
 * compatibility: sumkeep accepts exactly the three lines formatTree writes, a size of at most
 * 2^53-1 and canonical base64. Throws `malformed_tree` otherwise.
 */
export function parseTree(text: Uint8Array): Tree {
  if (!(text instanceof Uint8Array) || text.length > MAX_TREE_TEXT) {
    throw new SumkeepError('malformed_tree', 'malformed tree note');
  }
  const s = decodeUtf8(text);
  const m = s === null ? null : TREE_TEXT_RE.exec(s);
  if (m === null) throw new SumkeepError('malformed_tree', 'malformed tree note');
  const N = Number(m[1]);
  const hash = fromBase64(m[2]!);
  if (!Number.isSafeInteger(N) || hash === null || hash.length !== 32) {
    throw new SumkeepError('malformed_tree', 'malformed tree note');
  }
  return { N, hash: hash.slice() };
}
