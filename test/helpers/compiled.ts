/**
 * sumkeep's sources as plain JavaScript, for child processes whose memory is measured: running
 * through tsx would add the loader (and its worker thread) to the figures, and dist/ may be older
 * than the sources. Each file is transpiled on its own with TypeScript (no type check: `npm run
 * lint` does that), keeping the src/ layout; bare imports (yauzl, commander) resolve from the
 * repository's node_modules, linked beside the output when it lies outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return walk(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Transpiles the given folders of src/ (default: all of it) into `out` (emptied first), as
 * out/<folder>/<file>.js; returns `out`.
 */
export function transpileSources(out: string, folders: string[] = ['.']): string {
  fs.rmSync(out, { recursive: true, force: true });
  const src = path.join(REPO, 'src');
  for (const file of folders.flatMap((f) => walk(path.join(src, f)))) {
    const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    const dest = path.join(out, path.relative(src, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, js);
  }
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  if (path.relative(REPO, out).startsWith('..')) {
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  }
  return out;
}

/**
 * Writes `<dir>/peak-rss.mjs`, a module to preload (`node --import <file>`) that prints the
 * process's peak RSS as `sumkeep-peak-rss-kib <n>` on stderr when it exits: VmHWM from
 * /proc/self/status, this process's own high-water mark. Not getrusage's ru_maxrss, which Linux
 * carries across fork and exec, so a child reports at least its (large) parent's figure.
 * Returns the file's path.
 */
export function writePeakRssPreload(dir: string): string {
  const file = path.join(dir, 'peak-rss.mjs');
  fs.writeFileSync(
    file,
    `import fs from 'node:fs';
process.on('exit', () => {
  const m = /^VmHWM:\\s+(\\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  process.stderr.write('\\nsumkeep-peak-rss-kib ' + (m ? m[1] : 'unknown') + '\\n');
});
`,
  );
  return file;
}

/** The figure the preload printed, in KiB; throws when there is none. */
export function peakRssKib(stderr: string): number {
  const m = /^sumkeep-peak-rss-kib (\d+)$/m.exec(stderr);
  if (m === null) throw new Error(`no peak RSS (VmHWM) reported; stderr:\n${stderr}`);
  return Number(m[1]);
}
