/**
 * The rollback guard. A checksum database must never sign or serve a tree that is not an
 * extension of every tree it has signed or served before: a go client that saw the larger tree
 * and then sees the other one stops with "SECURITY ERROR ... misbehavior detected" for good.
 * The database alone cannot prevent that when it is replaced by an older copy (restored from an
 * older backup, failed over to a lagging replica): it then looks perfectly consistent, just
 * smaller or different.
 *
 * So sumkeep keeps, OUTSIDE the database, the latest head it has signed or served: a file holding
 * the signed note exactly as served (default `<db file>.checkpoint`; with --publish on PostgreSQL
 * the published `latest`). At start and whenever the sequencer reloads the tree (before it
 * commits on top of a tree it did not write itself), the database's latest head must be that
 * head or a proven extension of it: the tree hash of the kept size, computed from the database's
 * own stored hashes (which the sequencer has checked against the database's latest head), must
 * equal the kept root. Anything else is refused, naming both sizes and what to do.
 *
 * The file is replaced atomically (temporary file, fsync, rename, directory fsync) after every
 * commit and before anyone is answered with the new head, and it never moves back: a head no
 * larger than the kept one is not written (several processes may share one database and file).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { bytesEqual, toBase64 } from '../core/bytes.ts';
import { open as openNote, type VerifierSet } from '../core/note.ts';
import { hashesEqual, parseTree, treeHash, withAsyncReader, type Tree } from '../core/tlog/index.ts';
import type { SignedHead } from '../store/store.ts';

export interface KeptHead {
  tree: Tree;
  note: Uint8Array;
}

export class CheckpointGuard {
  constructor(
    readonly file: string,
    private readonly verifiers: VerifierSet,
    /** False when another component writes the file (the publisher's `latest`). */
    private readonly writes = true,
  ) {}

  /**
   * The kept head, or null when there is no file yet. A file that exists but cannot be read or
   * does not verify with the log's note keys is refused: silently starting over would forget
   * exactly what it protects.
   */
  async load(): Promise<KeptHead | null> {
    let note: Uint8Array;
    try {
      note = new Uint8Array(await readFile(this.file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SumkeepError('config', `cannot read the checkpoint ${this.file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    // An empty file is the published `latest` of the empty log (what /latest serves before the
    // first record): nothing has been signed yet.
    if (note.length === 0) return null;
    try {
      return { tree: parseTree(new TextEncoder().encode(openNote(note, this.verifiers).text)), note };
    } catch (e) {
      if (!isSumkeepError(e)) throw e;
      throw new SumkeepError(
        'config',
        `the checkpoint ${this.file} is not a tree head signed by this log's note key (${e.message}); ` +
          'it belongs to another log or was damaged: restore it from a backup of the server, never delete it to get going',
        { cause: e },
      );
    }
  }

  /**
   * Throws `log_inconsistent` unless `head` (the database's latest) is the kept head or extends
   * it, proven with the database's stored hashes read through `readHashes`.
   */
  async check(
    head: Pick<SignedHead, 'size'> | null,
    readHashes: (indexes: readonly number[]) => Promise<Uint8Array[]>,
  ): Promise<void> {
    const kept = await this.load();
    if (kept === null) return;
    await this.checkAgainst(kept, head?.size ?? 0, readHashes);
  }

  /**
   * Before the sequencer signs a new head on top of `old` (its head, whose tree the batch's
   * hashes were just proven to extend): `old` must be the kept head or extend it, so that the new
   * head extends the kept one. A kept head larger than `old` means another writer of the same
   * database (a worker, `sumkeep ingest`, a node sharing the file) is ahead: `conflict`, so that
   * the sequencer reloads the tree (and checks the store's head) instead of signing a smaller one.
   */
  async checkSigning(
    old: Pick<SignedHead, 'size' | 'hash'> | null,
    readHashes: (indexes: readonly number[]) => Promise<Uint8Array[]>,
  ): Promise<void> {
    const kept = await this.load();
    if (kept === null) return;
    const size = old?.size ?? 0;
    if (kept.tree.N > size) {
      throw new SumkeepError(
        'conflict',
        `a head of size ${kept.tree.N} is kept in ${this.file}, larger than this writer's ${size}: reload`,
      );
    }
    // The common case: the kept head is the one being extended (no database read).
    if (old !== null && kept.tree.N === size && hashesEqual(old.hash, kept.tree.hash)) return;
    await this.checkAgainst(kept, size, readHashes);
  }

  private async checkAgainst(
    kept: KeptHead,
    size: number,
    readHashes: (indexes: readonly number[]) => Promise<Uint8Array[]>,
  ): Promise<void> {
    const refuse = (what: string): never => {
      throw new SumkeepError(
        'log_inconsistent',
        `${what}, but this server has signed or served a tree of size ${kept.tree.N} (kept in ${this.file}). ` +
          'The database was probably restored from an older backup or failed over to a lagging replica; serving it ' +
          `would fork the log for every client that saw size ${kept.tree.N}. Restore a database that holds that tree ` +
          '(a newer backup, or wait for the replica to catch up), then start again; see docs/operations.md, "Disaster recovery"',
      );
    };
    if (size < kept.tree.N) refuse(`the database holds a tree of size ${size}`);
    if (kept.tree.N === 0) return;
    const h = await withAsyncReader((r) => treeHash(kept.tree.N, r), readHashes);
    if (!hashesEqual(h, kept.tree.hash)) {
      refuse(
        `the database's tree of size ${size} does not extend the kept tree (at size ${kept.tree.N} it has root ${toBase64(h)}, not ${toBase64(kept.tree.hash)})`,
      );
    }
  }

  /**
   * Keeps `head` when it is larger than the kept one, or the same tree in another note (signed
   * again by the current note keys after a rotation: so that the file still verifies once the old
   * key is retired). Durable when it resolves.
   */
  async keep(head: SignedHead): Promise<void> {
    if (!this.writes) return;
    const kept = await this.load();
    if (kept !== null && kept.tree.N > head.size) return;
    if (kept !== null && kept.tree.N === head.size) {
      if (!hashesEqual(kept.tree.hash, head.hash) || bytesEqual(kept.note, head.note)) return;
    }
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(head.note);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
