/**
 * Offline ingest: fills the log from module zips on disk, without any network.
 * Accepted sources:
 *  - a GOPROXY-layout directory: <escaped module path>/@v/<escaped version>.zip next to .mod
 *  - a GOMODCACHE (its cache/download tree has the same layout) or the cache/download dir itself
 *  - explicit <file>.zip files, each with <file>.mod beside it; the module path and version come
 *    from the zip's "M@V/" prefix.
 * Idempotent: a module version already logged with the same hashes is skipped. One logged with
 * different hashes is a conflict: reported, never overwritten.
 */
import { readdirSync, statSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, sep, basename } from 'node:path';
import { SumkeepError, isSumkeepError } from '../core/errors.ts';
import { unescapePath, unescapeVersion } from '../core/module.ts';
import { goModHash } from '../core/dirhash.ts';
import { formatRecordLines } from '../core/gosum.ts';
import { bytesEqual, utf8 } from '../core/bytes.ts';
import { hashModuleZip } from '../zip/index.ts';
import { checkModuleFiles } from '../upstream/index.ts';
import type { Store } from '../store/store.ts';
import type { Sequencer } from './sequencer.ts';
import type { CrossCheck } from './service.ts';
import { NO_EVENTS, type LogEvents } from './events.ts';
import { refusalReason } from './refusals.ts';

export interface IngestItem {
  /** Known from the directory layout; absent for bare .zip files (taken from the zip prefix). */
  path?: string;
  version?: string;
  zipFile: string;
  modFile: string;
  zipBytes: number;
}

/** `refused`: the cross-check (--check-sumdb) refused it or could not be made; nothing logged. */
export type IngestStatus = 'added' | 'present' | 'conflict' | 'invalid' | 'refused';

export interface IngestOutcome {
  item: IngestItem;
  status: IngestStatus;
  path?: string;
  version?: string;
  /** For conflict and invalid: one line saying why. */
  reason?: string;
  recordId?: number;
}

/** Lists what `sources` hold, without reading any zip. Throws `bad_input` for a source it cannot use. */
export function scanSources(sources: readonly string[]): IngestItem[] {
  const items: IngestItem[] = [];
  for (const src of sources) {
    let st;
    try {
      st = statSync(src);
    } catch {
      throw new SumkeepError('bad_input', `${src}: no such file or directory`);
    }
    if (st.isFile()) {
      if (!src.endsWith('.zip'))
        throw new SumkeepError(
          'bad_input',
          `${src}: want a .zip file (with its .mod beside it) or a directory`,
        );
      items.push({ zipFile: src, modFile: src.slice(0, -4) + '.mod', zipBytes: st.size });
      continue;
    }
    const root = existsSync(join(src, 'cache', 'download')) ? join(src, 'cache', 'download') : src;
    walkProxyDir(root, root, items);
  }
  return items;
}

function walkProxyDir(root: string, dir: string, out: IngestItem[]): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new SumkeepError('bad_input', `${dir}: cannot read directory: ${(e as Error).message}`);
  }
  for (const name of names) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      // GOMODCACHE keeps sumdb data and VCS clones beside the module tree; they are not modules.
      if (dir === root && (name === 'sumdb' || name === 'vcs')) continue;
      walkProxyDir(root, p, out);
    } else if (st.isFile() && name.endsWith('.zip') && basename(dir) === '@v') {
      const rel = relative(root, dir).split(sep).slice(0, -1).join('/');
      out.push({
        path: rel,
        version: name.slice(0, -4),
        zipFile: p,
        modFile: p.slice(0, -4) + '.mod',
        zipBytes: st.size,
      });
    }
  }
}

/**
 * Hashes and logs one item. Never throws for a bad module: the outcome says what happened. With
 * `crossCheck` (--check-sumdb) a version not yet logged is cross-checked before it is added (the
 * checker itself leaves --private modules alone); a refusal or an unavailable database is
 * `refused`, and nothing is logged for it (fail closed).
 */
export async function ingestOne(
  item: IngestItem,
  store: Store,
  sequencer: Sequencer,
  onBytes?: (n: number) => void,
  events: Pick<LogEvents, 'refused'> = NO_EVENTS,
  crossCheck?: CrossCheck,
): Promise<IngestOutcome> {
  let path: string | undefined;
  let version: string | undefined;
  try {
    if (item.path !== undefined && item.version !== undefined) {
      path = unescapePath(item.path);
      version = unescapeVersion(item.version);
    }
    let last = 0;
    const z = await hashModuleZip(item.zipFile, {
      ...(path !== undefined && version !== undefined ? { path, version } : {}),
      onProgress: (read) => {
        onBytes?.(read - last);
        last = read;
      },
    });
    onBytes?.(item.zipBytes - last);
    if (path === undefined || version === undefined) {
      const prefix = z.prefix.slice(0, -1);
      const at = prefix.lastIndexOf('@');
      path = prefix.slice(0, at);
      version = prefix.slice(at + 1);
    }
    let mod: Uint8Array;
    if (existsSync(item.modFile)) {
      mod = new Uint8Array(readFileSync(item.modFile));
    } else if (z.goMod !== null) {
      mod = z.goMod;
    } else {
      throw new SumkeepError('bad_input', `${item.modFile}: missing (every zip needs its .mod file)`);
    }
    checkModuleFiles(path, version, mod, existsSync(item.modFile) ? z.goMod : null, {
      mod: item.modFile,
      zip: item.zipFile,
    });
    const text = utf8(formatRecordLines(path, version, z.h1, goModHash(mod)));
    const existing = await store.lookup(path, version);
    if (existing !== null) {
      return bytesEqual(existing.text, text)
        ? { item, status: 'present', path, version, recordId: existing.id }
        : {
            item,
            status: 'conflict',
            path,
            version,
            recordId: existing.id,
            reason: `the log holds different hashes for ${path}@${version} (record ${existing.id}); not overwritten`,
          };
    }
    if (crossCheck !== undefined) {
      try {
        await crossCheck.check(path, version, z.h1, goModHash(mod));
      } catch (e) {
        if (!isSumkeepError(e) || !e.code.startsWith('crosscheck_')) throw e;
        const reason = refusalReason(e);
        if (reason !== null) events.refused(reason);
        return { item, status: 'refused', path, version, reason: e.message };
      }
    }
    const rec = await sequencer.add({ path, version, text, source: `ingest:${item.zipFile}` });
    return { item, status: 'added', path, version, recordId: rec.id };
  } catch (e) {
    if (isSumkeepError(e, 'conflict')) {
      return {
        item,
        status: 'conflict',
        ...(path ? { path } : {}),
        ...(version ? { version } : {}),
        reason: e.message,
      };
    }
    if (
      isSumkeepError(e) &&
      e.code !== 'store_error' &&
      e.code !== 'store_busy' &&
      e.code !== 'internal' &&
      e.code !== 'log_inconsistent'
    ) {
      const reason = refusalReason(e);
      if (reason !== null) events.refused(reason);
      return {
        item,
        status: 'invalid',
        ...(path ? { path } : {}),
        ...(version ? { version } : {}),
        reason: e.message,
      };
    }
    throw e;
  }
}
