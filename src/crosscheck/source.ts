/**
 * Where the cross-check reads an independent checksum database from: its HTTP endpoint (through
 * the upstream client, src/upstream/sumdb.ts) or, for an air gap, a copy of what the go command
 * cached of it (--sumdb-cache, DirSumdbSource).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { parseTilePath, tilePath } from '../core/tlog/index.ts';

export interface SumdbSource {
  /** How messages name where the database is read (no credentials, no local paths). */
  where(): string;
  /**
   * The bytes at `rel` below the database's base ("lookup/<M>@<V>", "tile/8/0/000"), at most
   * `limit` bytes; null when the database does not have them (404, 410, a missing file). Other
   * failures throw SumkeepError (upstream_error, upstream_timeout, too_large); an abort of `signal`
   * rejects with its reason.
   */
  read(rel: string, limit: number, signal?: AbortSignal): Promise<Uint8Array | null>;
  /** For an offline copy: the go command's remembered latest signed tree head, or null. */
  latest?(): Promise<Uint8Array | null>;
}

/** The go command's name for the files of one database: no "/" or "..", as a key name. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name)) {
    throw new SumkeepError(
      'config',
      `--sumdb-cache: database name ${JSON.stringify(name)} cannot be a directory`,
    );
  }
}

/**
 * A copy of the go command's files for one database, in its own layout, all under `<dir>/<name>/`:
 *
 *     <dir>/<name>/latest                     $GOPATH/pkg/sumdb/<name>/latest (signed tree head)
 *     <dir>/<name>/lookup/<M>@<V>             $GOMODCACHE/cache/download/sumdb/<name>/lookup/...
 *     <dir>/<name>/tile/8/<L>/<N>[.p/<W>]     $GOMODCACHE/cache/download/sumdb/<name>/tile/...
 *
 * (M and V escaped as in a lookup URL). The go command keeps only tiles it has authenticated; the
 * checker authenticates them again anyway. A partial tile that is not there is read as a prefix of
 * a wider one of the same place when the copy has one (the go command kept the width of its own
 * tree, which need not be the width the checker asks for).
 */
export class DirSumdbSource implements SumdbSource {
  private readonly base: string;

  constructor(
    dir: string,
    private readonly name: string,
  ) {
    checkName(name);
    this.base = join(dir, name);
  }

  where(): string {
    return `the offline copy (--sumdb-cache) of ${this.name}`;
  }

  async read(rel: string, limit: number): Promise<Uint8Array | null> {
    if (rel.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new SumkeepError('bad_input', 'sumdb cache: bad relative path');
    }
    const direct = await this.file(rel, limit);
    if (direct !== null || !rel.startsWith('tile/')) return direct;
    let t;
    try {
      t = parseTilePath(rel);
    } catch {
      return null;
    }
    if (t.W === 1 << t.H) return null;
    const fullRel = tilePath({ ...t, W: 1 << t.H });
    const dirRel = `${fullRel}.p`;
    let widths: number[];
    try {
      widths = (await readdir(join(this.base, ...dirRel.split('/'))))
        .filter((w) => /^[1-9][0-9]{0,2}$/.test(w))
        .map(Number)
        .filter((w) => w > t.W && w < 1 << t.H)
        .sort((a, b) => a - b);
    } catch {
      return null;
    }
    for (const w of widths) {
      const data = await this.file(`${dirRel}/${w}`, w * 32);
      if (data !== null && data.length === w * 32) return data.slice(0, t.W * 32);
    }
    return null;
  }

  latest(): Promise<Uint8Array | null> {
    return this.file('latest', 64 * 1024);
  }

  private async file(rel: string, limit: number): Promise<Uint8Array | null> {
    let data: Buffer;
    try {
      data = await readFile(join(this.base, ...rel.split('/')));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      // The system error names a local path: only its code is told.
      throw new SumkeepError('upstream_error', `sumdb cache: cannot read ${rel} (${code ?? 'read error'})`);
    }
    if (data.length > limit)
      throw new SumkeepError('too_large', `sumdb cache: ${rel} is larger than ${limit} bytes`);
    return new Uint8Array(data);
  }
}
