/**
 * The user PIN of a token, from where the key URI says: `pin-source=file:<path>` (the whole file,
 * one trailing newline removed) or, without pin-source, the environment variable SUMKEEP_PKCS11_PIN.
 * Never from the command line, never logged, never put in an error message.
 *
 * A PIN file must be readable by its owner only (chmod 600), as private key files are: serve
 * refuses one that group or others can read.
 */
import { readFileSync } from 'node:fs';
import { SumkeepError } from '../../core/errors.ts';
import { checkSecretFile } from '../permissions.ts';
import { PIN_ENV, type PinSource } from './uri.ts';

/** Longest PIN accepted (tokens take 4 to 255 bytes or so). */
export const MAX_PIN_LENGTH = 1024;

function clean(pin: string, where: string): string {
  const p = pin.replace(/\r?\n$/, '');
  if (p === '') throw new SumkeepError('config', `${where} is empty: it must hold the token's user PIN`);
  if (p.length > MAX_PIN_LENGTH)
    throw new SumkeepError('config', `${where} is longer than ${MAX_PIN_LENGTH} characters`);
  if (/[\r\n]/.test(p)) throw new SumkeepError('config', `${where} holds more than one line`);
  return p;
}

/** Reads the PIN; `config` error naming the source (never the PIN) when it cannot. */
export function readPin(source: PinSource, env: NodeJS.ProcessEnv = process.env): string {
  if (source.kind === 'env') {
    const v = env[PIN_ENV];
    if (v === undefined) {
      throw new SumkeepError(
        'config',
        `no PIN for the token: set ${PIN_ENV}, or add pin-source=file:<path> to the key's PKCS#11 URI`,
      );
    }
    return clean(v, PIN_ENV);
  }
  checkSecretFile(source.path, 'PIN file');
  let text: string;
  try {
    text = readFileSync(source.path, 'utf8');
  } catch (e) {
    throw new SumkeepError(
      'config',
      `cannot read the PIN file ${source.path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: e,
      },
    );
  }
  return clean(text, `PIN file ${source.path}`);
}
