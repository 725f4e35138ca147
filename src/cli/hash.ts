/**
 * `sumkeep hash zip <file> [--module <path>@<version>]` and `sumkeep hash mod <file>`: print the
 * go.sum hash ("h1:...", then a newline) of a module zip or a go.mod file, exactly as the go
 * command computes it. A zip that breaks a module zip rule is refused: the rule and the entry on
 * stderr, exit code 1 (report.ts). Without --module the `M@V/` prefix is taken from the first entry.
 */
import type { Command } from 'commander';
import { SumkeepError } from '../core/errors.ts';

/** Splits "<path>@<version>" at its last "@" (module paths hold no "@"). */
export function parseModuleFlag(s: string): { path: string; version: string } {
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) {
    throw new SumkeepError('bad_input', `--module wants <path>@<version>, got ${JSON.stringify(s)}`);
  }
  return { path: s.slice(0, at), version: s.slice(at + 1) };
}

export function registerHash(program: Command): void {
  const hash = program
    .command('hash')
    .description('print the go.sum hash (h1:) of a module zip or go.mod file');
  hash
    .command('zip')
    .description('validate a module zip by the go command rules and print its h1: hash')
    .argument('<file>', 'module zip file')
    .option(
      '--module <path@version>',
      'the module version the zip must hold (default: taken from the first entry)',
    )
    .action(async (file: string, flags: { module?: string }) => {
      const mv = flags.module === undefined ? {} : parseModuleFlag(flags.module);
      // Imported here: `hash mod` needs no zip reader.
      const { hashModuleZip } = await import('../zip/hash.ts');
      const r = await hashModuleZip(file, mv);
      process.stdout.write(r.h1 + '\n');
    });
  hash
    .command('mod')
    .description('print the h1: hash of a go.mod file (the "M V/go.mod h1:" line of go.sum)')
    .argument('<file>', 'go.mod file')
    .action(async (file: string) => {
      const { hashGoModFile } = await import('../zip/gomod.ts');
      process.stdout.write((await hashGoModFile(file)) + '\n');
    });
}
