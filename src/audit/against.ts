/**
 * `sumkeep audit --against <url-or-dir>`: does a serving endpoint (a sumkeep node, a CDN in front
 * of published tiles) or a published directory show the same tree as the database? A split view
 * (clients of the endpoint see another tree than the log holds) is what a transparency log must
 * never show.
 *
 * The other side's `latest` must verify with the log's note keys. When it is not larger than the
 * log, the audit compares it with the tree recomputed from the records at that size (audit.ts).
 * When it is larger (a node or publisher ahead of this copy), its hash tiles must prove the log's
 * latest tree a prefix of it. Either way one full data tile is compared byte for byte with the
 * records (the last complete one both sides have).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { toBase64 } from '../core/bytes.ts';
import type { VerifierSet } from '../core/note.ts';
import {
  formatDataTile,
  hashesEqual,
  tileHashReader,
  tilePath,
  treeHash,
  withAsyncReader,
  type Hash,
  type Tile,
  type Tree,
  SUMDB_TILE_HEIGHT,
} from '../core/tlog/index.ts';
import { openTreeNote } from '../verify/state.ts';
import { httpRequest, joinUrl } from '../verify/http.ts';
import type { Store } from '../store/store.ts';
import type { AuditFinding, OtherTree } from './audit.ts';

const FULL = 1 << SUMDB_TILE_HEIGHT;

/** Where the other copy is: a base URL or a directory laid out as /latest and /tile/... */
export interface OtherCopy {
  where: string;
  /** The bytes at a relative path ("latest", "tile/8/0/000"), or null when absent (404). */
  read(path: string): Promise<Uint8Array | null>;
}

export function otherCopy(spec: string, opts: { ca?: string | null } = {}): OtherCopy {
  if (/^https?:\/\//i.test(spec)) {
    return {
      where: spec.replace(/\/+$/, ''),
      async read(path) {
        const r = await httpRequest(joinUrl(spec, path), { ca: opts.ca ?? null, timeoutMs: 60_000 });
        if (r.status === 404 || r.status === 410) return null;
        if (r.status !== 200) {
          throw new SumkeepError('upstream_error', `${joinUrl(spec, path)} answered ${r.status}`);
        }
        return r.body;
      },
    };
  }
  return {
    where: spec,
    async read(path) {
      try {
        return new Uint8Array(await readFile(join(spec, ...path.split('/'))));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new SumkeepError('config', `cannot read ${join(spec, path)}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    },
  };
}

/** The other copy's latest tree, checked against the log's note keys. */
export async function otherLatest(copy: OtherCopy, verifiers: VerifierSet): Promise<OtherTree> {
  const note = await copy.read('latest');
  if (note === null) throw new SumkeepError('not_found', `${copy.where} has no latest`);
  let tree: Tree;
  try {
    tree = openTreeNote(note, verifiers);
  } catch (e) {
    if (!isSumkeepError(e)) throw e;
    throw new SumkeepError(
      'invalid_signature',
      `${copy.where}/latest does not verify with the log's note keys: ${e.message}`,
      {
        cause: e,
      },
    );
  }
  return { size: tree.N, hash: tree.hash, where: `${copy.where}/latest` };
}

/**
 * The checks that need the other copy's tiles: the log's latest tree is a prefix of a larger
 * other tree, and one full data tile is the same on both sides. Returns findings (split_view).
 */
export async function compareTiles(
  copy: OtherCopy,
  other: OtherTree,
  log: { size: number; root: Hash },
  store: Store,
): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  const readTile = async (t: Tile) => {
    const data = await copy.read(tilePath(t));
    if (data !== null) return data;
    // As the go command does: a partial tile may be gone once its full tile exists.
    if (t.W < FULL) {
      const full = await copy.read(tilePath({ ...t, W: FULL }));
      if (full !== null) return full.subarray(0, t.W * 32);
    }
    throw new SumkeepError('not_found', `${copy.where}/${tilePath(t)} is missing`);
  };
  if (other.size > log.size && log.size > 0) {
    const reader = tileHashReader({ N: other.size, hash: other.hash }, SUMDB_TILE_HEIGHT, (ts) =>
      Promise.all(ts.map(readTile)),
    );
    let h: Hash | null = null;
    let why = '';
    try {
      h = await withAsyncReader((r) => treeHash(log.size, r), reader);
    } catch (e) {
      if (!isSumkeepError(e)) throw e;
      why = `: ${e.message}`;
    }
    if (h === null || !hashesEqual(h, log.root)) {
      findings.push({
        kind: 'split_view',
        size: log.size,
        message: `${copy.where} shows a tree of size ${other.size} that does not extend the log's tree of size ${log.size} (root ${toBase64(log.root)})${why}`,
      });
    }
  }
  const common = Math.min(other.size, log.size);
  const n = Math.floor(common / FULL) - 1;
  if (n >= 0) {
    const t: Tile = { H: SUMDB_TILE_HEIGHT, L: -1, N: n, W: FULL };
    const theirs = await copy.read(tilePath(t));
    const ours = formatDataTile(await store.recordTexts(n * FULL, FULL));
    if (theirs === null || Buffer.compare(Buffer.from(theirs), Buffer.from(ours)) !== 0) {
      findings.push({
        kind: 'split_view',
        recordId: n * FULL,
        message: `${copy.where}/${tilePath(t)} ${theirs === null ? 'is missing' : 'differs from the records'} (records ${n * FULL}..${n * FULL + FULL - 1})`,
      });
    }
  }
  return findings;
}
