/**
 * `sumkeep ceremony ...`: key creation, offline. Makes no network call; creates files exclusively
 * (mode 0600 for private keys, 0700 for directories) and never overwrites.
 */
import type { Command } from 'commander';
import { createNoteKey } from '../keys/notekey.ts';

export function registerCeremony(program: Command): void {
  const ceremony = program.command('ceremony').description('create and manage keys (offline)');
  ceremony
    .command('init')
    .description('create the note key of a new log (Ed25519 signer key; its verifier key goes into GOSUMDB)')
    .requiredOption('--name <name>', 'log name, e.g. sum.corp.internal (the first part of GOSUMDB)')
    .option('--keys <dir>', 'key directory', process.env.SUMKEEP_KEYS ?? 'keys')
    .option('--url <url>', 'public URL of the server, for the GOSUMDB value', '')
    .action((opts: { name: string; keys: string; url: string }) => {
      const vkey = createNoteKey(opts.keys, opts.name);
      const url = opts.url || `https://${opts.name}`;
      process.stdout.write(
        `created ${opts.keys}/note.key (private, mode 0600) and ${opts.keys}/note.pub\n` +
          `verifier key: ${vkey}\n` +
          `GOSUMDB="${vkey} ${url}"\n`,
      );
    });
}
