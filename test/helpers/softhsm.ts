/**
 * A fresh SoftHSM2 token per test run (Debian's softhsm2): a temporary softhsm2.conf with its own
 * token directory, pointed at by SOFTHSM2_CONF for this process and every child it starts, a token
 * initialized with `softhsm2-util`, and a PIN file (mode 0600) for pin-source. Under CI=true a
 * missing softhsm2 fails the test; elsewhere the test is skipped with the reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './server.ts';

export const SOFTHSM_LIB = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '246813';
const SO_PIN = '97531135';

export interface TestToken {
  label: string;
  dir: string;
  /** SOFTHSM2_CONF for child processes. */
  env: { SOFTHSM2_CONF: string };
  pinFile: string;
  tokenDir: string;
  /** The key URI for `object` in this token, PIN from pinFile. */
  uri(object: string): string;
  /** Moves the token's files away (as if the HSM were unplugged) and back. */
  remove(): void;
  restore(): void;
}

/** True when softhsm2 is installed; fails under CI, skips elsewhere, when it is not. */
export function requireSoftHsm(t: TestContext): boolean {
  const util = spawnSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  if (existsSync(SOFTHSM_LIB) && util.status === 0) return true;
  if (process.env.CI === 'true') {
    assert.fail('SoftHSM2 is required under CI (apt-get install softhsm2) but was not found');
  }
  t.skip('softhsm2 is not installed (apt-get install softhsm2); skipping the PKCS#11 tests');
  return false;
}

let conf: { dir: string; file: string; tokenDir: string } | null = null;

/**
 * A new token labelled `label` in this process's SoftHSM configuration (created on first use, and
 * set as SOFTHSM2_CONF here: SoftHSM reads it when the library initializes).
 */
export function makeToken(label: string): TestToken {
  if (conf === null) {
    const dir = tempDir('softhsm');
    const tokenDir = join(dir, 'tokens');
    mkdirSync(tokenDir);
    const file = join(dir, 'softhsm2.conf');
    writeFileSync(
      file,
      `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    );
    conf = { dir, file, tokenDir };
    process.env.SOFTHSM2_CONF = file;
  }
  const { dir, file, tokenDir } = conf;
  const env = { SOFTHSM2_CONF: file };
  const before = new Set(readdirSync(tokenDir));
  const r = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `softhsm2-util --init-token: ${r.stdout}${r.stderr}`);
  const made = readdirSync(tokenDir).filter((f) => !before.has(f));
  assert.equal(made.length, 1, 'softhsm2-util made one token directory');
  const own = join(tokenDir, made[0]!);
  const away = join(dir, `${made[0]!}.away`);
  const pinFile = join(dir, `${label}.pin`);
  writeFileSync(pinFile, USER_PIN + '\n', { mode: 0o600 });
  return {
    label,
    dir,
    env,
    pinFile,
    tokenDir: own,
    uri: (object) =>
      `pkcs11:token=${encodeURIComponent(label)};object=${encodeURIComponent(object)}?module-path=${SOFTHSM_LIB}&pin-source=file:${pinFile}`,
    remove: () => renameSync(own, away),
    restore: () => renameSync(away, own),
  };
}
