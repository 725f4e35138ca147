/**
 * Builds a GOPROXY directory, the layout a `file://` GOPROXY (and any module proxy) serves:
 *
 *     <escaped path>/@v/list                  versions, one per line
 *     <escaped path>/@v/<escaped version>.info  {"Version":"<version>","Time":"<RFC 3339>"}
 *     <escaped path>/@v/<escaped version>.mod   the go.mod
 *     <escaped path>/@v/<escaped version>.zip   the module zip, entries under "<path>@<version>/"
 *
 * Escaping is the go command's ("!" + lower case for each upper-case letter, src/core/module.ts);
 * names inside the zip are never escaped. The .mod is the module's go.mod file when it has one,
 * else what the go command synthesizes for a module without go.mod (+incompatible versions and
 * pre-modules code): "module <path>\n".
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { escapePath, escapeVersion } from '../../src/core/module.ts';
import { writeZip, type ZipEntrySpec } from './zipwriter.ts';

export interface ProxyModule {
  path: string;
  version: string;
  /** Files of the module by name below the module root ("go.mod", "sub/x.go"). */
  files: Record<string, string | Uint8Array>;
  /** The .mod file, when it must differ from files["go.mod"] (or from the synthesized one). */
  mod?: string;
  /** Zip entries to write instead of those made from `files` (for broken zips). */
  zipEntries?: ZipEntrySpec[];
  /** Commit time in the .info file (default 2020-01-01T00:00:00Z). */
  time?: string;
  /** Leave the version out of @v/list (as proxies do for pseudo-versions). */
  unlisted?: boolean;
}

export interface GoProxyFiles {
  /** Paths of the files written for one module version. */
  zip: string;
  mod: string;
  info: string;
}

export interface GoProxy {
  dir: string;
  /** The GOPROXY value: file:// URL of `dir`. */
  url: string;
  /** Files of each module version by "path@version". */
  files: Map<string, GoProxyFiles>;
}

/** The go.mod a module version is served with. */
export function modFileOf(m: ProxyModule): string {
  if (m.mod !== undefined) return m.mod;
  const own = m.files['go.mod'];
  if (own !== undefined) return typeof own === 'string' ? own : Buffer.from(own).toString('utf8');
  return `module ${m.path}\n`;
}

/** Writes the modules into `dir` (created if missing; existing lists are extended). */
export function buildGoProxy(dir: string, modules: readonly ProxyModule[]): GoProxy {
  const files = new Map<string, GoProxyFiles>();
  for (const m of modules) {
    const vdir = path.join(dir, ...escapePath(m.path).split('/'), '@v');
    fs.mkdirSync(vdir, { recursive: true });
    const base = path.join(vdir, escapeVersion(m.version));
    const info = `${base}.info`;
    const mod = `${base}.mod`;
    const zip = `${base}.zip`;
    fs.writeFileSync(
      info,
      JSON.stringify({ Version: m.version, Time: m.time ?? '2020-01-01T00:00:00Z' }) + '\n',
    );
    fs.writeFileSync(mod, modFileOf(m));
    const prefix = `${m.path}@${m.version}/`;
    const entries =
      m.zipEntries ??
      Object.entries(m.files).map(([name, content]): ZipEntrySpec => ({ name: prefix + name, content }));
    writeZip(zip, entries);
    if (m.unlisted !== true) {
      const list = path.join(vdir, 'list');
      const have = fs.existsSync(list)
        ? fs
            .readFileSync(list, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [];
      if (!have.includes(m.version)) fs.writeFileSync(list, [...have, m.version].join('\n') + '\n');
    }
    files.set(`${m.path}@${m.version}`, { zip, mod, info });
  }
  return { dir, url: pathToFileURL(dir).href, files };
}
