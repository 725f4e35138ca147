/**
 * Debian's Chromium for browser tests, driven by playwright-core (no browser download: the
 * executablePath is the system's). Without it a test fails under CI=true and is skipped elsewhere,
 * with the reason (as test/helpers/go.ts does for go).
 */
import assert from 'node:assert/strict';
import { accessSync, constants, statSync } from 'node:fs';
import { it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

/** $SUMKEEP_TEST_CHROMIUM, else Debian's /usr/bin/chromium (apt-get install chromium). */
export const CHROMIUM_BIN = process.env.SUMKEEP_TEST_CHROMIUM ?? '/usr/bin/chromium';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium binary, or null after registering one test that says why the file's browser tests
 * do not run: failed under CI=true, skipped elsewhere. Call at the top level of a test file.
 */
export function requireChromium(what: string): string | null {
  if (executable(CHROMIUM_BIN)) return CHROMIUM_BIN;
  const why = `Chromium is not installed at ${CHROMIUM_BIN} (apt-get install chromium)`;
  if (process.env.CI === 'true') {
    it(`${what} needs Chromium`, () => assert.fail(`${why} (required under CI)`));
  } else {
    it(`${what} needs Chromium`, { skip: `${why}; skipping the browser tests` }, () => {});
  }
  return null;
}

/** Headless Chromium; --no-sandbox because CI runs as root, where Chromium's sandbox refuses to start. */
export function launchChromium(bin: string): Promise<Browser> {
  return chromium.launch({ executablePath: bin, args: ['--no-sandbox'], timeout: 60_000 });
}
