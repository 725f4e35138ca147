/**
 * `sumkeep verify <go.sum> --server <url>`: checks a go.sum against a checksum database.
 *
 * Default: through sumkeep's signed verify API (src/verify/api.ts), the answer trusted only via the
 * pinned root (--trust) or, without it, the server's own root on first use (warned on stderr).
 * --proofs: against the log itself, as the go command checks it (src/verify/proofs.ts); works with
 * any checksum database. Prints a table (or --json) on stdout; the exit code is in --help.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { SumkeepError } from '../core/errors.ts';
import type { TrustBundle } from '../keys/types.ts';
import { verifyWithApi } from '../verify/api.ts';
import { ForkError, verifiersOf, verifyWithProofs } from '../verify/proofs.ts';
import { defaultStateFile } from '../verify/state.ts';
import { parseTrustBundle } from '../verify/trust.ts';
import { exitCodeFor, formatTable } from '../verify/report.ts';
import type { VerifyResponse } from '../verify/response.ts';

export interface VerifyFlags {
  server?: string;
  trust?: string;
  fetch?: boolean;
  proofs?: boolean;
  vkey?: string;
  state?: string;
  ca?: string;
  json?: boolean;
  timeoutMs?: string;
}

const HELP_AFTER = `
Exit codes:
  0  every line matches the log
  1  some line does not match the log, or is denied by the server's policy (denied by policy:
     <reason>); these win over unknown or invalid lines
  2  no mismatch or denial, but some line is unknown (not in the log) or invalid; or an error: the server
     cannot be reached, its answer is not signed by a key that chains to the pinned root, or
     (--proofs) the log fails a proof: a record not in its tree, or a fork from the remembered tree

Trust:
  --trust <trust.json> pins the root certificate (its SHA-256 must match the file's root.sha256);
  without it the server's own trust.json is used and a warning says so (trust on first use).
  --proofs trusts only the note verifier key (--vkey, or the keys in --trust) and the tree head
  remembered in the state file (default ~/.config/sumkeep/verify-state/<log name>.latest). It asks
  /lookup like the go command does, so the server may fetch versions it does not have yet.
`;

function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file === '-' ? 0 : file));
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new SumkeepError('config', `cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'check a go.sum against a checksum database (signed API answer, or --proofs against the log)',
    )
    .argument('<go.sum>', 'the go.sum file to check ("-" for standard input)')
    .option('--server <url>', 'base URL of the checksum database (env SUMKEEP_SERVER)')
    .option(
      '--trust <trust.json>',
      "pinned trust bundle (the server's /.well-known/sumkeep/trust.json, checked out of band)",
    )
    .option('--fetch', 'ask the server to fill unknown versions from its upstream first')
    .option(
      '--proofs',
      'check every line against the log with inclusion and consistency proofs, trusting no API',
    )
    .option('--vkey <key>', 'note verifier key for --proofs ("<name>+<hash>+<key>"; default: from --trust)')
    .option('--state <file>', 'state file of --proofs (default ~/.config/sumkeep/verify-state/<name>.latest)')
    .option(
      '--ca <file>',
      'PEM CA certificates for an https server (default: $SSL_CERT_FILE, else the system roots)',
    )
    .option('--json', 'print the verified answer as JSON instead of a table')
    .option('--timeout-ms <ms>', 'timeout of each request (default 120000)')
    .addHelpText('after', HELP_AFTER)
    .action(async (file: string, flags: VerifyFlags) => {
      process.exitCode = await runVerify(file, flags);
    });
}

/** Runs the check and prints the result; returns the exit code. Throws SumkeepError for errors (exit 2). */
export async function runVerify(
  file: string,
  flags: VerifyFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const server = flags.server ?? env.SUMKEEP_SERVER;
  if (server === undefined || server === '') {
    throw new SumkeepError('config', 'no server: pass --server <url> (or set SUMKEEP_SERVER)');
  }
  const timeoutMs = flags.timeoutMs === undefined ? undefined : Number(flags.timeoutMs);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new SumkeepError('config', '--timeout-ms must be a positive whole number');
  }
  const caFile = flags.ca ?? (env.SSL_CERT_FILE || undefined);
  const ca = caFile === undefined ? null : readText(caFile, 'CA file');
  const trust: TrustBundle | null =
    flags.trust === undefined ? null : parseTrustBundle(readText(flags.trust, 'trust bundle'));
  const gosum = readInput(file);
  const common = { server, ca, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };

  let response: VerifyResponse;
  if (flags.proofs) {
    const keys = flags.vkey !== undefined ? [flags.vkey] : (trust?.verifierKeys ?? []);
    if (keys.length === 0) {
      throw new SumkeepError(
        'config',
        "--proofs needs the log's verifier key: pass --vkey <key> or --trust <trust.json>",
      );
    }
    const { name } = verifiersOf(keys);
    const stateFile = flags.state ?? defaultStateFile(name, env);
    try {
      const out = await verifyWithProofs(gosum, { ...common, verifierKeys: keys, stateFile });
      process.stderr.write(
        `proofs: every record is in the signed tree of size ${out.response.tree.size}` +
          (out.rememberedSize === null
            ? ' (no tree remembered yet)'
            : `, which extends the remembered size ${out.rememberedSize}`) +
          (out.stored ? `; remembered in ${stateFile}\n` : '\n'),
      );
      response = out.response;
    } catch (e) {
      if (e instanceof ForkError) {
        const show = (n: Uint8Array) => Buffer.from(n).toString('utf8').replace(/^/gm, '    ');
        process.stderr.write(
          `older tree head:\n${show(e.older.note)}\nnewer tree head:\n${show(e.newer.note)}\n`,
        );
      }
      throw e;
    }
  } else {
    const out = await verifyWithApi(gosum, {
      ...common,
      trust,
      fetch: flags.fetch === true,
      warn: (m) => process.stderr.write(`sumkeep: ${m}\n`),
    });
    process.stderr.write(
      `answer signed by ${out.signer.kid} (${out.signer.alg}), chained to root sha256 ${out.root}\n`,
    );
    response = out.response;
  }
  process.stdout.write(flags.json ? JSON.stringify(response, null, 2) + '\n' : formatTable(response));
  return exitCodeFor(response.summary);
}
