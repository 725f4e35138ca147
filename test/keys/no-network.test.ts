/**
 * The ceremony runs on an offline machine and must make no network call: no module reachable from
 * `sumkeep ceremony` imports a networking module or calls fetch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NETWORK =
  /^(node:)?(http|https|http2|net|tls|dgram|dns|dns\/promises|inspector)$|^(undici|fastify|pino)(\/|$)/;
const IMPORT_RE =
  /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;

function reachable(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const src = readFileSync(file, 'utf8');
    const specs = [...src.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? m[3]!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) todo.push(resolve(dirname(file), s));
  }
  return seen;
}

describe('ceremony sources', () => {
  const keys = readdirSync(join(REPO, 'src/keys'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(REPO, 'src/keys', f));
  const graph = reachable([join(REPO, 'src/cli/ceremony.ts'), ...keys]);

  it('covers the ceremony modules', () => {
    for (const f of [
      'src/cli/ceremony.ts',
      'src/keys/ceremony.ts',
      'src/keys/rotate.ts',
      'src/keys/tls.ts',
      'src/core/note.ts',
    ]) {
      assert.ok(graph.has(join(REPO, f)), f);
    }
  });

  it('import no networking module and never call fetch', () => {
    for (const [file, specs] of graph) {
      for (const s of specs) assert.doesNotMatch(s, NETWORK, `${file} imports ${s}`);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.doesNotMatch(code, /\bfetch\s*\(|XMLHttpRequest|WebSocket/, file);
    }
  });

  it('the check itself catches a networking import', () => {
    assert.match('node:https', NETWORK);
    assert.match('net', NETWORK);
    assert.doesNotMatch('node:crypto', NETWORK);
  });
});
