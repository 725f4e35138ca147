#!/usr/bin/env node
// Entry point of the `sumkeep` command. Runs the compiled CLI (dist/, built by `npm ci` through the
// `prepare` script, or by `npm run build`).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error('sumkeep: dist/ is missing; run `npm ci` (or `npm run build`) first');
  process.exit(2);
}
await import(compiled.href);
