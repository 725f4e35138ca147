/**
 * The `sumkeep` command. Each sub-command lives in its own file and registers itself here.
 * Exit codes: 0 success, 1 the checked thing is bad (invalid zip, mismatch), 2 usage or runtime error.
 */
import { Command, CommanderError } from 'commander';
import { reportError } from './report.ts';

type Register = (program: Command) => void;

/**
 * The sub-commands, each in its own file, imported only when it runs: `sumkeep hash mod` must not
 * pay for loading fastify, SQLite and the key ceremony. The descriptions here are what the
 * top-level `--help` lists; each file registers its full command (options, sub-commands, help).
 */
const COMMANDS: Record<string, { description: string; load: () => Promise<Register> }> = {
  hash: {
    description: 'print the go.sum hash (h1:) of a module zip or go.mod file',
    load: async () => (await import('./hash.ts')).registerHash,
  },
  ceremony: {
    description: 'create and manage the signing keys, offline (runbook: docs/ceremony.md)',
    load: async () => (await import('./ceremony.ts')).registerCeremony,
  },
  serve: {
    description: 'run the checksum database server',
    load: async () => (await import('./serve.ts')).registerServe,
  },
  ingest: {
    description: 'fill the log offline from a GOPROXY-layout directory, a GOMODCACHE, or module zips',
    load: async () => (await import('./ingest.ts')).registerIngest,
  },
  audit: {
    description: 'check a log database end to end (exit 0 clean, 1 inconsistent, 2 error)',
    load: async () => (await import('./audit.ts')).registerAudit,
  },
  publish: {
    description: 'write latest, tiles and lookups of a log as static files (nginx, a CDN, a bucket)',
    load: async () => (await import('./publish.ts')).registerPublish,
  },
  backup: {
    description: 'write an online, consistent, verified snapshot of a SQLite log',
    load: async () => (await import('./backup.ts')).registerBackup,
  },
  verify: {
    description: 'check a go.sum against the log (exit 0 match, 1 mismatch/denied, 2 unknown/invalid/error)',
    load: async () => (await import('./verify.ts')).registerVerify,
  },
  store: {
    description: 'work on a log database as a whole (store copy: SQLite <-> PostgreSQL, verified)',
    load: async () => (await import('./store.ts')).registerStore,
  },
};

/**
 * The program for `argv`: the command it names (or, for `help <command>`, that one) registered in
 * full, the others as names with their description only.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('sumkeep')
    .description('A private Go checksum database (GOSUMDB) and signing authority')
    .showHelpAfterError()
    .exitOverride();
  const first = argv.findIndex((a) => !a.startsWith('-'));
  const named = first < 0 ? undefined : argv[first] === 'help' ? argv[first + 1] : argv[first];
  for (const [name, c] of Object.entries(COMMANDS)) {
    if (name === named) (await c.load())(program);
    else program.command(name).description(c.description);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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
