/**
 * serve refuses secrets that group or others can read (hardening item 6): a key directory, note and
 * response private key files and the TLS key, each with the exact chmod that fixes it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { initAuthority } from '../../src/keys/ceremony.ts';
import { shellQuote } from '../../src/keys/permissions.ts';
import { loadServingKeys } from '../../src/keys/serving.ts';
import { makeKeys, passphraseFile, runCli, tempDir } from '../helpers/server.ts';

function servingDir(base = tempDir('modes')) {
  const keys = join(base, 'keys');
  initAuthority({ name: 'sum.modes.test', keysDir: keys, rootDir: join(base, 'offline') });
  return keys;
}

const refusedWith = (fix: string) => (e: unknown) =>
  isSumkeepError(e, 'config') && e.message.includes(`run \`${fix}\``);

describe('serving key file modes', () => {
  it('loads a directory as the ceremony wrote it (0700, private keys 0600)', () => {
    const keys = servingDir();
    assert.equal(statSync(keys).mode & 0o777, 0o700);
    for (const f of readdirSync(keys).filter((n) => n.endsWith('.key'))) {
      assert.equal(statSync(join(keys, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(loadServingKeys(keys).name, 'sum.modes.test');
  });

  it('refuses a note key readable by group or others, naming chmod 600', () => {
    const keys = servingDir();
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      chmodSync(join(keys, 'note.key'), mode);
      assert.throws(() => loadServingKeys(keys), refusedWith(`chmod 600 ${join(keys, 'note.key')}`));
      assert.throws(() => loadServingKeys(keys), new RegExp(`mode 0${mode.toString(8)}`));
    }
    chmodSync(join(keys, 'note.key'), 0o400);
    assert.equal(loadServingKeys(keys).name, 'sum.modes.test');
  });

  it('refuses a response key readable by others', () => {
    const keys = servingDir();
    const resp = readdirSync(keys).find((f) => f.startsWith('response-') && f.endsWith('.key'))!;
    chmodSync(join(keys, resp), 0o644);
    assert.throws(() => loadServingKeys(keys), refusedWith(`chmod 600 ${join(keys, resp)}`));
  });

  it('refuses a key directory group or others can list, naming chmod 700', () => {
    const keys = servingDir();
    for (const mode of [0o750, 0o705, 0o755]) {
      chmodSync(keys, mode);
      assert.throws(() => loadServingKeys(keys), refusedWith(`chmod 700 ${keys}`));
    }
  });

  it('quotes a path with spaces so that the command can be pasted', () => {
    const base = join(tempDir('modes'), 'my keys');
    mkdirSync(base);
    const keys = servingDir(base);
    chmodSync(join(keys, 'note.key'), 0o644);
    assert.throws(() => loadServingKeys(keys), refusedWith(`chmod 600 '${join(keys, 'note.key')}'`));
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });

  it('ceremony init narrows an existing key directory to 0700', () => {
    const base = tempDir('modes');
    const keys = join(base, 'keys');
    mkdirSync(keys, { mode: 0o755 });
    chmodSync(keys, 0o755);
    initAuthority({ name: 'sum.modes.test', keysDir: keys, rootDir: join(base, 'offline') });
    assert.equal(statSync(keys).mode & 0o777, 0o700);
  });
});

describe('sumkeep serve with open key files', () => {
  it('exits 2 with the chmod command for a note key others can read', () => {
    const base = tempDir('modes-cli');
    const keys = join(base, 'keys');
    makeKeys(keys, 'sum.modes.test');
    chmodSync(join(keys, 'note.key'), 0o644);
    const r = runCli([
      'serve',
      '--keys',
      keys,
      '--db',
      join(base, 'db'),
      '--upstream',
      'off',
      '--listen',
      '127.0.0.1:0',
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`run \`chmod 600 ${join(keys, 'note.key')}\``));
  });

  it('exits 2 with the chmod command for a TLS key others can read', () => {
    const base = tempDir('modes-tls');
    const keys = join(base, 'keys');
    makeKeys(keys, 'sum.modes.test');
    const tls = runCli([
      'ceremony',
      'tls',
      '--host',
      'localhost',
      '--keys',
      keys,
      '--root',
      `${keys}.root`,
      '--passphrase-file',
      passphraseFile(keys),
    ]);
    assert.equal(tls.status, 0, tls.stderr);
    chmodSync(join(keys, 'tls.key'), 0o644);
    const r = runCli([
      'serve',
      '--keys',
      keys,
      '--db',
      join(base, 'db'),
      '--upstream',
      'off',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      join(keys, 'tls.crt'),
      '--tls-key',
      join(keys, 'tls.key'),
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`run \`chmod 600 ${join(keys, 'tls.key')}\``));
  });
});
