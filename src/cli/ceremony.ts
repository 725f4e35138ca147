/**
 * `sumkeep ceremony ...`: the signing authority, offline. Makes no network call; creates files
 * exclusively (mode 0400 for the root key, 0600 for online keys, 0700 for key directories) and
 * never overwrites. Every command prints what it created and what to do next; docs/ceremony.md is
 * the runbook.
 *
 * `init` prints, among others, these two lines, exactly (scripts and tests read them):
 *   verifier key: <vkey>
 *   GOSUMDB="<vkey> <url>"
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { SumkeepError } from '../core/errors.ts';
import { RESPONSE_ALGORITHMS, ROOT_ALGORITHMS, parseAlgorithm } from '../keys/algorithms.ts';
import { initAuthority } from '../keys/ceremony.ts';
import { exportPublic } from '../keys/export.ts';
import { colonHex, ROOT_KEY_FILE } from '../keys/layout.ts';
import { rotateKey } from '../keys/rotate.ts';
import { issueTlsCertificate } from '../keys/tls.ts';

const RUNBOOK = 'docs/ceremony.md';

function days(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,6}$/.test(value))
    throw new SumkeepError('config', `${flag} ${JSON.stringify(value)}: want a number of days`);
  return Number(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function describe(file: string, mode: number): string {
  const m = mode.toString(8).padStart(4, '0');
  if (file.endsWith(ROOT_KEY_FILE)) return `${file}  (mode ${m}, ROOT CA PRIVATE KEY: keep it OFFLINE)`;
  if (mode & 0o044) return `${file}  (mode ${m}, public)`;
  return `${file}  (mode ${m}, private)`;
}

function printCreated(created: { file: string; mode: number }[]): string {
  return 'created:\n' + created.map((c) => `  ${describe(c.file, c.mode)}\n`).join('');
}

const keysOption = (): [string, string, string] => [
  '--keys <dir>',
  'key directory (env SUMKEEP_KEYS)',
  process.env.SUMKEEP_KEYS ?? 'keys',
];

export function registerCeremony(program: Command): void {
  const ceremony = program
    .command('ceremony')
    .description(`create and manage the signing keys, offline (runbook: ${RUNBOOK})`);

  ceremony
    .command('init')
    .description(
      'create the root CA, the note key (GOSUMDB), a response-signing key, their certificates and trust.json',
    )
    .requiredOption('--name <name>', 'log name, e.g. sum.corp.internal (the first part of GOSUMDB)')
    .option(...keysOption())
    .option('--root <dir>', 'where to write root-ca.key (default: the key directory); use the offline medium')
    .option('--url <url>', 'public URL of the server (default https://<name>)', '')
    .option('--root-alg <alg>', `root CA algorithm: ${ROOT_ALGORITHMS.join(', ')}`, 'ed25519')
    .option(
      '--response-alg <alg>',
      `response-signing algorithm: ${RESPONSE_ALGORITHMS.join(', ')}`,
      'ed25519',
    )
    .option('--valid-days <n>', "validity of the online keys' certificates (default 397, at most 825)")
    .option('--root-valid-days <n>', 'validity of the root CA (default 3650)')
    .action(
      (opts: {
        name: string;
        keys: string;
        root?: string;
        url: string;
        rootAlg: string;
        responseAlg: string;
        validDays?: string;
        rootValidDays?: string;
      }) => {
        const validDays = days(opts.validDays, '--valid-days');
        const rootValidDays = days(opts.rootValidDays, '--root-valid-days');
        const r = initAuthority({
          name: opts.name,
          keysDir: opts.keys,
          ...(opts.root === undefined ? {} : { rootDir: opts.root }),
          url: opts.url,
          rootAlg: parseAlgorithm(opts.rootAlg, ROOT_ALGORITHMS, '--root-alg'),
          responseAlg: parseAlgorithm(opts.responseAlg, RESPONSE_ALGORITHMS, '--response-alg'),
          ...(validDays === undefined ? {} : { validDays }),
          ...(rootValidDays === undefined ? {} : { rootValidDays }),
        });
        const rootInKeys = resolve(opts.root ?? opts.keys) === resolve(opts.keys);
        process.stdout.write(
          (r.certifiedExistingNoteKey
            ? `certified the existing note key in ${opts.keys} (note.key untouched)\n`
            : '') +
            printCreated(r.created) +
            `verifier key: ${r.verifierKey}\n` +
            `GOSUMDB="${r.gosumdb}"\n` +
            `root CA SHA-256 fingerprint: ${colonHex(r.rootSha256)}\n` +
            `response-signing key: ${r.responseKid}\n` +
            `ceremony record: ${r.recordFile}\n` +
            '\nnext steps:\n' +
            `  1. print ${r.recordFile}, check every value against this screen, sign it with the witnesses\n` +
            (rootInKeys
              ? `  2. move ${r.rootKeyFile} to offline media (with a copy of root-ca.pem) and delete it here: serve refuses a key directory that holds it\n`
              : `  2. store ${opts.root} (root-ca.key) offline; it is needed again only for rotate and tls\n`) +
            `  3. copy to the online server's key directory: note.key note.pub note.crt response-*.key response-*.crt root-ca.pem trust.json\n` +
            `  4. publish trust.json, root-ca.pem and the GOSUMDB value: sumkeep ceremony export-public --keys ${opts.keys} --out <dir>\n` +
            `  5. optional: sumkeep ceremony tls --host <server name> --keys ${opts.keys} for an HTTPS certificate\n` +
            `  runbook: ${RUNBOOK}\n`,
        );
      },
    );

  ceremony
    .command('tls')
    .description(
      'issue a TLS server certificate (ECDSA P-256) from the root CA, for serve --tls-cert/--tls-key',
    )
    .option('--host <name>', 'DNS name of the server (repeat for more; addresses go in --ip)', collect, [])
    .option('--ip <addr>', 'IP address of the server (repeat for more)', collect, [])
    .option(...keysOption())
    .option('--root <dir>', 'directory holding root-ca.key (default: the key directory)')
    .option('--valid-days <n>', 'validity (default and at most 397)')
    .option('--out-name <name>', 'file base name: <name>.key, <name>.crt, <name>-chain.pem', 'tls')
    .action(
      (opts: {
        host: string[];
        ip: string[];
        keys: string;
        root?: string;
        validDays?: string;
        outName: string;
      }) => {
        const validDays = days(opts.validDays, '--valid-days');
        const r = issueTlsCertificate({
          keysDir: opts.keys,
          ...(opts.root === undefined ? {} : { rootDir: opts.root }),
          hosts: opts.host,
          ips: opts.ip,
          basename: opts.outName,
          ...(validDays === undefined ? {} : { validDays }),
        });
        process.stdout.write(
          printCreated(r.created) +
            `valid until: ${new Date(r.notAfter).toISOString()}\n` +
            '\nnext steps:\n' +
            `  1. copy ${r.keyFile} and ${r.certFile} to the online server\n` +
            `  2. sumkeep serve --tls-cert ${r.certFile} --tls-key ${r.keyFile} ...\n` +
            '  3. clients trust it through the root: SSL_CERT_FILE=root-ca.pem for the go command, or add root-ca.pem to the system store\n' +
            `  runbook: ${RUNBOOK}\n`,
        );
      },
    );

  ceremony
    .command('rotate')
    .description(
      'create a new online key (response or note) certified by the root; old keys stay valid until their certificate ends',
    )
    .requiredOption('--purpose <purpose>', 'response | note')
    .option(...keysOption())
    .option('--root <dir>', 'directory holding root-ca.key (default: the key directory)')
    .option(
      '--alg <alg>',
      `response keys: ${RESPONSE_ALGORITHMS.join(', ')} (default: as the newest one); note keys are ed25519`,
    )
    .option('--valid-days <n>', 'validity (default 397, at most 825)')
    .action((opts: { purpose: string; keys: string; root?: string; alg?: string; validDays?: string }) => {
      if (opts.purpose !== 'response' && opts.purpose !== 'note') {
        throw new SumkeepError('config', `--purpose ${JSON.stringify(opts.purpose)}: want response or note`);
      }
      const validDays = days(opts.validDays, '--valid-days');
      const r = rotateKey({
        keysDir: opts.keys,
        purpose: opts.purpose,
        ...(opts.root === undefined ? {} : { rootDir: opts.root }),
        ...(opts.alg === undefined
          ? {}
          : {
              alg: parseAlgorithm(
                opts.alg,
                opts.purpose === 'note' ? ['ed25519'] : RESPONSE_ALGORITHMS,
                '--alg',
              ),
            }),
        ...(validDays === undefined ? {} : { validDays }),
      });
      const still = r.stillValid
        .map((k) => `  ${k.kid} until ${new Date(k.notAfter).toISOString()}\n`)
        .join('');
      process.stdout.write(
        printCreated(r.created) +
          `new ${r.purpose} key: ${r.kid}\n` +
          (r.verifierKey === undefined ? '' : `new verifier key: ${r.verifierKey}\n`) +
          (still === '' ? '' : `still valid (keep them on the server until then):\n${still}`) +
          `GOSUMDB="${r.trust.gosumdb}"\n` +
          `ceremony record: ${r.recordFile}\n` +
          '\nnext steps:\n' +
          `  1. print ${r.recordFile}, check it, sign it\n` +
          '  2. copy the new key files and trust.json to the online server and restart it\n' +
          '  3. then publish the new trust.json (sumkeep ceremony export-public)\n' +
          (r.purpose === 'note'
            ? '  4. tree heads now carry both signatures; update GOSUMDB on every client to the value above before the old certificate ends\n'
            : '') +
          `  runbook: ${RUNBOOK}\n`,
      );
    });

  ceremony
    .command('export-public')
    .description(
      'copy only the public material (trust.json, root-ca.pem, *.crt, note*.pub) to another directory',
    )
    .option(...keysOption())
    .requiredOption('--out <dir>', 'directory to write (must not hold any of the files)')
    .action((opts: { keys: string; out: string }) => {
      const r = exportPublic({ keysDir: opts.keys, outDir: opts.out });
      process.stdout.write(
        printCreated(r.created) +
          '\nnext steps:\n' +
          `  publish ${opts.out}/trust.json and ${opts.out}/root-ca.pem (for example next to the server's documentation),\n` +
          '  and the GOSUMDB value from trust.json ("gosumdb"); CI pins trust.json: sumkeep verify --trust trust.json\n' +
          `  runbook: ${RUNBOOK}\n`,
      );
    });
}
