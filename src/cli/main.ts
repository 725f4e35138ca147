/**
 * The `sumkeep` command. Each sub-command lives in its own file and registers itself here.
 * Exit codes: 0 success, 1 the checked thing is bad (invalid zip, mismatch), 2 usage or runtime error.
 */
import { Command, CommanderError } from 'commander';
import { registerHash } from './hash.ts';
import { registerCeremony } from './ceremony.ts';
import { registerServe } from './serve.ts';
import { registerIngest } from './ingest.ts';
import { registerVerify } from './verify.ts';
import { registerStore } from './store.ts';
import { reportError } from './report.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sumkeep')
    .description('A private Go checksum database (GOSUMDB) and signing authority')
    .showHelpAfterError()
    .exitOverride();
  registerHash(program);
  registerCeremony(program);
  registerServe(program);
  registerIngest(program);
  registerVerify(program);
  registerStore(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exitCode 0; usage errors were already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    return reportError(e);
  }
}

const isEntry = import.meta.url === new URL(process.argv[1] ?? '', 'file:').href;
if (isEntry || process.argv[1]?.endsWith('bin/sumkeep.js')) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
