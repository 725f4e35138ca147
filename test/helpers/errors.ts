import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';

/** Runs f; returns null when it did not throw, else the SumkeepError (anything else fails the test). */
export function caught(f: () => unknown): SumkeepError | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof SumkeepError) return e;
    throw new assert.AssertionError({ message: `threw a non-SumkeepError: ${String(e)}` });
  }
}
