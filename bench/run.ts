/**
 * Benchmark dispatcher: `npm run bench -- <name> [args...]` runs bench/<name>.ts, whose exported
 * `main(args)` does the work. Each benchmark prints a table (and says how to read it).
 */
import fs from 'node:fs';

const name = process.argv[2];
const dir = new URL('.', import.meta.url);
const available = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();

if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args...]\nbenchmarks: ${available.join(', ')}`);
  process.exit(2);
}

const mod = (await import(new URL(`./${name}.ts`, dir).href)) as { main?: (args: string[]) => Promise<void> };
if (typeof mod.main !== 'function') {
  console.error(`bench/${name}.ts exports no main(args)`);
  process.exit(2);
}
await mod.main(process.argv.slice(3));
