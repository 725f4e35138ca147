/**
 * Checks, over HTTP, that what clients were told is consistent with a server's final tree: every
 * head note ever seen hashes to the same tree as the final tree's prefix of its size (no fork), two
 * notes of one size name one root, and every acknowledged record is in the final tree with the
 * same id and text (proven by a record proof from the served tiles).
 */
import assert from 'node:assert/strict';
import { open, type VerifierSet } from '../../src/core/note.ts';
import { bytesEqual, toBase64, utf8 } from '../../src/core/bytes.ts';
import {
  checkRecord,
  parseRecord,
  parseTree,
  proveRecord,
  recordHash,
  tileHashReader,
  tilePath,
  treeHash,
  withAsyncReader,
  type Tree,
} from '../../src/core/tlog/index.ts';

export interface Acked {
  path: string;
  version: string;
  id: number;
  text: Uint8Array;
}

/** The tree of a signed note (verified). */
export function treeOf(note: Uint8Array, verifiers: VerifierSet): Tree {
  return parseTree(utf8(open(note, verifiers).text));
}

/** The server's current tree, from /latest. */
export async function latestTree(base: string, verifiers: VerifierSet): Promise<Tree> {
  const r = await fetch(`${base}/latest`);
  assert.equal(r.status, 200, `${base}/latest`);
  return treeOf(new Uint8Array(await r.arrayBuffer()), verifiers);
}

/**
 * Throws unless every note in `notes` and every record in `acked` is consistent with `base`'s
 * latest tree (see the module comment). Returns the final tree.
 */
export async function checkOneTree(
  base: string,
  verifiers: VerifierSet,
  notes: readonly Uint8Array[],
  acked: readonly Acked[],
): Promise<Tree> {
  const final = await latestTree(base, verifiers);
  const readTiles = tileHashReader(final, 8, (tiles) =>
    Promise.all(
      tiles.map(async (t) => {
        const r = await fetch(`${base}/${tilePath(t)}`);
        assert.equal(r.status, 200, tilePath(t));
        return new Uint8Array(await r.arrayBuffer());
      }),
    ),
  );
  const rootBySize = new Map<number, string>();
  for (const n of notes) {
    const tree = treeOf(n, verifiers);
    const root = toBase64(tree.hash);
    const seen = rootBySize.get(tree.N);
    assert.ok(seen === undefined || seen === root, `two different heads of size ${tree.N}`);
    rootBySize.set(tree.N, root);
    assert.ok(tree.N <= final.N, `a head of size ${tree.N} is larger than the final tree ${final.N}`);
    const h = await withAsyncReader((r) => treeHash(tree.N, r), readTiles);
    assert.ok(bytesEqual(h, tree.hash), `head of size ${tree.N} is not a prefix of the final tree`);
  }
  for (const a of acked) {
    const proof = await withAsyncReader((rd) => proveRecord(final.N, a.id, rd), readTiles);
    assert.ok(
      checkRecord(proof, final.N, final.hash, a.id, recordHash(a.text)),
      `${a.path}@${a.version} (record ${a.id}) is not in the final tree`,
    );
  }
  return final;
}

/** GET /lookup/<path>@<version>: the parsed record and note, or the status of a failure. */
export async function lookup(
  base: string,
  path: string,
  version: string,
  timeoutMs = 15_000,
): Promise<{ status: number; id?: number; text?: Uint8Array; note?: Uint8Array; body?: string }> {
  const r = await fetch(`${base}/lookup/${path}@${version}`, { signal: AbortSignal.timeout(timeoutMs) });
  const body = new Uint8Array(await r.arrayBuffer());
  if (r.status !== 200) return { status: r.status, body: Buffer.from(body).toString('utf8') };
  const rec = parseRecord(body);
  return { status: 200, id: rec.id, text: rec.text, note: rec.rest };
}
