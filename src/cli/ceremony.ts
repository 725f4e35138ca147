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
import { rootKeyIsEncrypted } from '../keys/authority.ts';
import { initAuthority, preflightInit, type InitOptions } from '../keys/ceremony.ts';
import { existingRootPassphrase, newRootPassphrase } from './passphrase.ts';
import { exportPublic } from '../keys/export.ts';
import { colonHex, ROOT_KEY_FILE, ROOT_URI_FILE } from '../keys/layout.ts';
import { join } from 'node:path';
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
  if (file.endsWith(ROOT_URI_FILE))
    return `${file}  (mode ${m}, PKCS#11 URI of the root key: keep the HSM OFFLINE)`;
  if (file.endsWith('.pkcs11'))
    return `${file}  (mode ${m}, PKCS#11 URI: the private key stays in the token)`;
  if (mode & 0o044) return `${file}  (mode ${m}, public)`;
  return `${file}  (mode ${m}, private)`;
}

function printCreated(created: { file: string; mode: number }[]): string {
  return 'created:\n' + created.map((c) => `  ${describe(c.file, c.mode)}\n`).join('');
}

/** The passphrase of the root key in `rootDir` when it is encrypted; undefined otherwise. */
async function rootPassphraseFor(rootDir: string, file: string | undefined): Promise<string | undefined> {
  if (!rootKeyIsEncrypted(rootDir)) return undefined;
  return existingRootPassphrase(file, join(rootDir, ROOT_KEY_FILE));
}

const passphraseFileOption = (): [string, string] => [
  '--passphrase-file <file>',
  'file holding the root key passphrase (default: asked on the terminal, without echo)',
];

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
    .option(...passphraseFileOption())
    .option('--insecure-plaintext-root', 'write root-ca.key unencrypted (development and tests only)')
    .option('--root-key <uri>', 'use the root key in an (offline) HSM: PKCS#11 URI, see docs/ceremony.md')
    .option('--note-key <uri>', 'use the note key in a token: PKCS#11 URI (the key must be Ed25519)')
    .option('--response-key <uri>', 'use the response-signing key in a token: PKCS#11 URI')
    .option(
      '--generate-in-token',
      'generate the keys named by the URIs inside their tokens first (non-extractable)',
    )
    .action(
      async (opts: {
        name: string;
        keys: string;
        root?: string;
        url: string;
        rootAlg: string;
        responseAlg: string;
        validDays?: string;
        rootValidDays?: string;
        passphraseFile?: string;
        insecurePlaintextRoot?: boolean;
        rootKey?: string;
        noteKey?: string;
        responseKey?: string;
        generateInToken?: boolean;
      }) => {
        const validDays = days(opts.validDays, '--valid-days');
        const rootValidDays = days(opts.rootValidDays, '--root-valid-days');
        const init: InitOptions = {
          name: opts.name,
          keysDir: opts.keys,
          ...(opts.root === undefined ? {} : { rootDir: opts.root }),
          url: opts.url,
          rootAlg: parseAlgorithm(opts.rootAlg, ROOT_ALGORITHMS, '--root-alg'),
          responseAlg: parseAlgorithm(opts.responseAlg, RESPONSE_ALGORITHMS, '--response-alg'),
          ...(validDays === undefined ? {} : { validDays }),
          ...(rootValidDays === undefined ? {} : { rootValidDays }),
          ...(opts.rootKey === undefined ? {} : { rootKeyUri: opts.rootKey }),
          ...(opts.noteKey === undefined ? {} : { noteKeyUri: opts.noteKey }),
          ...(opts.responseKey === undefined ? {} : { responseKeyUri: opts.responseKey }),
          ...(opts.generateInToken === true ? { generateInToken: true } : {}),
        };
        // Every refusal before the passphrase is asked for, so that a refused run asks nothing.
        preflightInit(init);
        if (opts.rootKey === undefined) {
          const passphrase = await newRootPassphrase({
            ...(opts.passphraseFile === undefined ? {} : { file: opts.passphraseFile }),
            insecurePlaintext: opts.insecurePlaintextRoot === true,
          });
          if (passphrase !== undefined) init.rootPassphrase = passphrase;
        } else if (opts.passphraseFile !== undefined || opts.insecurePlaintextRoot === true) {
          throw new SumkeepError(
            'config',
            '--root-key keeps the root key in its HSM: --passphrase-file and --insecure-plaintext-root do not apply',
          );
        }
        const r = initAuthority(init);
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
            (r.rootKeyFile.endsWith(ROOT_URI_FILE)
              ? `  2. disconnect the root HSM and store it offline with ${r.rootKeyFile}; it is needed again only for rotate and tls\n`
              : rootInKeys
                ? `  2. move ${r.rootKeyFile} to offline media (with a copy of root-ca.pem) and delete it here: serve refuses a key directory that holds it\n`
                : `  2. store ${opts.root} (root-ca.key) offline; it is needed again only for rotate and tls\n`) +
            `  3. copy to the online server's key directory: note.key (or note.pkcs11) note.pub note.crt response-*.key (or .pkcs11) response-*.crt root-ca.pem trust.json\n` +
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
    .option(...passphraseFileOption())
    .action(
      async (opts: {
        host: string[];
        ip: string[];
        keys: string;
        root?: string;
        validDays?: string;
        outName: string;
        passphraseFile?: string;
      }) => {
        const validDays = days(opts.validDays, '--valid-days');
        const rootPassphrase = await rootPassphraseFor(opts.root ?? opts.keys, opts.passphraseFile);
        const r = issueTlsCertificate({
          ...(rootPassphrase === undefined ? {} : { rootPassphrase }),
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
    .option(...passphraseFileOption())
    .option('--key <uri>', 'the new key is in a token: PKCS#11 URI (see docs/ceremony.md)')
    .option('--generate-in-token', 'generate the key --key names inside its token first (non-extractable)')
    .action(
      async (opts: {
        purpose: string;
        keys: string;
        root?: string;
        alg?: string;
        validDays?: string;
        passphraseFile?: string;
        key?: string;
        generateInToken?: boolean;
      }) => {
        if (opts.purpose !== 'response' && opts.purpose !== 'note') {
          throw new SumkeepError(
            'config',
            `--purpose ${JSON.stringify(opts.purpose)}: want response or note`,
          );
        }
        const validDays = days(opts.validDays, '--valid-days');
        const rootPassphrase = await rootPassphraseFor(opts.root ?? opts.keys, opts.passphraseFile);
        const r = rotateKey({
          ...(rootPassphrase === undefined ? {} : { rootPassphrase }),
          ...(opts.key === undefined ? {} : { keyUri: opts.key }),
          ...(opts.generateInToken === true ? { generateInToken: true } : {}),
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
      },
    );

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
