/**
 * The root key passphrase for `ceremony` commands: typed on the terminal without echo (twice for a
 * new key), or read from `--passphrase-file` (the whole file, one trailing newline removed). The
 * prompt goes to stderr, so stdout stays what scripts read. A passphrase is never printed, logged
 * or put in an error message.
 *
 * The passphrase file's mode is not checked (unlike PIN files on the server): the ceremony runs on
 * an offline machine, often from removable media whose file system has no POSIX modes.
 */
import { readFileSync } from 'node:fs';
import { SumkeepError } from '../core/errors.ts';
import { MAX_PASSPHRASE_LENGTH, checkNewPassphrase } from '../keys/encrypted-key.ts';

/** True when a person can be asked: stdin is a terminal. */
export function onTerminal(): boolean {
  return process.stdin.isTTY === true && typeof process.stdin.setRawMode === 'function';
}

/** Reads one line from the terminal with echo off; Ctrl-C or Ctrl-D on an empty line cancels. */
export function readHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  // Echo off before the prompt shows: what is typed after seeing it is never displayed.
  input.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let buf = '';
    const finish = (err?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && buf === '')) {
          return finish(new SumkeepError('config', 'cancelled at the passphrase prompt'));
        }
        if (ch === '\u007f' || ch === '\b') buf = [...buf].slice(0, -1).join('');
        else if (ch >= ' ' && buf.length < MAX_PASSPHRASE_LENGTH * 2) buf += ch;
      }
    };
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/** The passphrase in `file` (one trailing newline removed); `config` error naming the file. */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SumkeepError(
      'config',
      `cannot read --passphrase-file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: e },
    );
  }
  const p = text.replace(/\r?\n$/, '');
  if (p === '') throw new SumkeepError('config', `--passphrase-file ${file} is empty`);
  if (/[\r\n]/.test(p))
    throw new SumkeepError('config', `--passphrase-file ${file} holds more than one line`);
  return p;
}

/**
 * The passphrase that will encrypt a new root key, or undefined for a plaintext root
 * (`--insecure-plaintext-root`). Without a file and without a terminal it stops and names both.
 */
export async function newRootPassphrase(opts: {
  file?: string;
  insecurePlaintext?: boolean;
}): Promise<string | undefined> {
  if (opts.insecurePlaintext === true) {
    if (opts.file !== undefined) {
      throw new SumkeepError(
        'config',
        '--insecure-plaintext-root and --passphrase-file contradict each other',
      );
    }
    return undefined;
  }
  if (opts.file !== undefined) {
    const p = readPassphraseFile(opts.file);
    checkNewPassphrase(p);
    return p;
  }
  if (!onTerminal()) {
    throw new SumkeepError(
      'config',
      'ceremony init encrypts the root CA key with a passphrase, and there is no terminal to ask for it: ' +
        'give --passphrase-file <file>, or run it on a terminal (it asks twice, without echo); ' +
        '--insecure-plaintext-root writes the key unencrypted (not for production)',
    );
  }
  const first = await readHidden('Passphrase for the new root CA key: ');
  checkNewPassphrase(first);
  const second = await readHidden('The same passphrase again: ');
  if (second !== first) throw new SumkeepError('config', 'the two passphrases differ; nothing was written');
  return first;
}

/** The passphrase of an existing encrypted root key: from the file, else asked once on the terminal. */
export async function existingRootPassphrase(file: string | undefined, keyFile: string): Promise<string> {
  if (file !== undefined) return readPassphraseFile(file);
  if (!onTerminal()) {
    throw new SumkeepError(
      'config',
      `${keyFile} is encrypted and there is no terminal to ask for its passphrase: give --passphrase-file <file>`,
    );
  }
  return readHidden(`Passphrase for ${keyFile}: `);
}
