import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { isSumkeepError } from '../src/core/errors.ts';
import {
  SETTINGS,
  addSettings,
  defaultOf,
  envName,
  isGiven,
  readSettings,
  type SettingName,
} from '../src/settings.ts';

const names = Object.keys(SETTINGS) as SettingName[];

describe('settings schema', () => {
  it('names every setting as commander names its flag (camelCase of the long flag)', () => {
    for (const name of names) {
      const cmd = addSettings(new Command(), [name]);
      assert.equal(cmd.options[0]!.attributeName(), name);
    }
  });

  it('derives each environment twin from the flag', () => {
    assert.equal(envName('batchMax'), 'SUMKEEP_BATCH_MAX');
    assert.equal(envName('verifyMaxBytes'), 'SUMKEEP_VERIFY_MAX_BYTES');
    assert.equal(envName('db'), 'SUMKEEP_DB');
    assert.equal(new Set(names.map(envName)).size, names.length);
  });

  it('puts the environment twin and the default in the help line', () => {
    const help = addSettings(new Command('x'), ['batchMax', 'url']).helpInformation().replace(/\s+/g, ' ');
    assert.match(
      help,
      /--batch-max <n> most records in one committed batch \(env SUMKEEP_BATCH_MAX; default 1000\)/,
    );
    assert.match(help, /--url <url> public base URL printed in the GOSUMDB line \(env SUMKEEP_URL; default /);
  });

  it('parses every default', () => {
    for (const name of names) defaultOf(name);
    assert.equal(defaultOf('batchMax'), 1000);
    assert.equal(defaultOf('dev'), false);
    assert.equal(defaultOf('url'), undefined);
  });

  it('takes the flag over the environment over the default', () => {
    const env = { SUMKEEP_BATCH_MAX: '20', SUMKEEP_WORKERS: '3' };
    const s = readSettings(['batchMax', 'workers', 'batchDelayMs'], { batchMax: '10' }, env);
    assert.deepEqual(s, { batchMax: 10, workers: 3, batchDelayMs: 10 });
    assert.equal(isGiven('workers', {}, env), true);
    assert.equal(isGiven('batchDelayMs', {}, env), false);
  });

  it('reads switches from the command line and from 1/true/0/false in the environment', () => {
    assert.deepEqual(readSettings(['dev'], { dev: true }, {}), { dev: true });
    assert.deepEqual(readSettings(['dev'], {}, { SUMKEEP_DEV: 'true' }), { dev: true });
    assert.deepEqual(readSettings(['dev'], {}, { SUMKEEP_DEV: '0' }), { dev: false });
    assert.throws(
      () => readSettings(['dev'], {}, { SUMKEEP_DEV: 'maybe' }),
      /SUMKEEP_DEV "maybe": want 1\/true or 0\/false/,
    );
  });

  it('refuses a bad value naming where it came from', () => {
    const refused = (fn: () => unknown, re: RegExp) =>
      assert.throws(fn, (e) => isSumkeepError(e, 'config') && re.test(e.message));
    refused(
      () => readSettings(['batchMax'], { batchMax: '0' }, {}),
      /^--batch-max "0": want a whole number from 1 to 100000$/,
    );
    refused(() => readSettings(['batchMax'], {}, { SUMKEEP_BATCH_MAX: '1e3' }), /^SUMKEEP_BATCH_MAX "1e3"/);
    refused(
      () => readSettings(['logLevel'], { logLevel: 'loud' }, {}),
      /^--log-level "loud": want one of fatal/,
    );
  });
});
