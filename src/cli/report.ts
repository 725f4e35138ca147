import { isSumkeepError } from '../core/errors.ts';

/**
 * Prints an error for a person at a terminal and returns the exit code. A SumkeepError's message is
 * written for users; anything else is unexpected and shown with its stack for a bug report.
 */
export function reportError(e: unknown): number {
  if (isSumkeepError(e)) {
    process.stderr.write(`sumkeep: ${e.message}\n`);
    return e.code === 'invalid_zip' ? 1 : 2;
  }
  process.stderr.write(
    `sumkeep: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  return 2;
}
