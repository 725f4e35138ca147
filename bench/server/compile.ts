/**
 * Compiles what the benchmark's child processes run (all of src/, and bench/server/) to JavaScript
 * under bench/out/server/js with TypeScript's own emitter (transpile only: `npm run lint` type-checks),
 * keeping the repository layout so that the sumkeep CLI runs there exactly as from dist/:
 *   bench/out/server/js/src/cli/main.js       the `sumkeep` command
 *   bench/out/server/js/migrations/           copied, found by src/store/migrate.ts as in dist/
 *   bench/out/server/js/static/               copied, the status page's script and style
 *                                             (src/http/status.ts reads them at start)
 *   bench/out/server/js/bench/server/*.js     the log builder
 * Bare imports (fastify, better-sqlite3, ...) resolve from the repository's node_modules. Compiling
 * here rather than using dist/ keeps the benchmark on the current sources whatever state dist/ is in.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return walk(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Compiles into `out` (emptied first); returns `out`. */
export function compileForBench(repo: string, out: string): string {
  fs.rmSync(out, { recursive: true, force: true });
  const files = [...walk(path.join(repo, 'src')), ...walk(path.join(repo, 'bench', 'server'))];
  for (const file of files) {
    const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        rewriteRelativeImportExtensions: true,
        verbatimModuleSyntax: true,
        esModuleInterop: true,
      },
    }).outputText;
    const dest = path.join(out, path.relative(repo, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, js);
  }
  fs.cpSync(path.join(repo, 'migrations'), path.join(out, 'migrations'), { recursive: true });
  // `serve` reads the status page's script and stylesheet at start.
  fs.cpSync(path.join(repo, 'static'), path.join(out, 'static'), { recursive: true });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  return out;
}
