import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { describeStoreLocation, openStore, parseStoreLocation } from '../../src/store/open.ts';
import { tempDir } from '../helpers/server.ts';

describe('parseStoreLocation', () => {
  const table: [string, ReturnType<typeof parseStoreLocation>][] = [
    ['data/sumkeep.db', { kind: 'sqlite', file: 'data/sumkeep.db' }],
    ['/var/lib/sumkeep/sumkeep.db', { kind: 'sqlite', file: '/var/lib/sumkeep/sumkeep.db' }],
    [':memory:', { kind: 'sqlite', file: ':memory:' }],
    ['sqlite:data/x.db', { kind: 'sqlite', file: 'data/x.db' }],
    ['SQLite:/abs/x.db', { kind: 'sqlite', file: '/abs/x.db' }],
    ['C:\\data\\sumkeep.db', { kind: 'sqlite', file: 'C:\\data\\sumkeep.db' }],
    [
      'postgres://u:p@db.internal:5432/sumkeep',
      { kind: 'postgres', url: 'postgres://u:p@db.internal:5432/sumkeep' },
    ],
    [
      'postgresql://db/sumkeep?sslmode=require',
      { kind: 'postgres', url: 'postgresql://db/sumkeep?sslmode=require' },
    ],
  ];
  for (const [input, want] of table) {
    it(`reads ${input}`, () => assert.deepEqual(parseStoreLocation(input), want));
  }

  for (const bad of ['mysql://db/x', 'postgress://db/x', 'file:data.db', 'https://db/x']) {
    it(`refuses the unknown scheme of ${bad}`, () => {
      assert.throws(
        () => parseStoreLocation(bad),
        (e) => isSumkeepError(e, 'config') && /unknown scheme/.test(e.message),
      );
    });
  }

  it('refuses an empty value and an empty sqlite: path', () => {
    for (const bad of ['', '  ', 'sqlite:']) {
      assert.throws(
        () => parseStoreLocation(bad),
        (e) => isSumkeepError(e, 'config'),
      );
    }
  });

  it('never prints a password', () => {
    assert.throws(
      () => parseStoreLocation('mysql://admin:hunter2@db/x'),
      (e) => isSumkeepError(e) && !e.message.includes('hunter2') && !e.message.includes('admin'),
    );
    assert.equal(
      describeStoreLocation({ kind: 'postgres', url: 'postgres://admin:hunter2@db/x' }),
      'postgres://db/x',
    );
  });
});

describe('openStore', () => {
  it('opens SQLite for a plain path', async () => {
    const dir = tempDir('open');
    const file = join(dir, 'sub', 'log.db');
    const store = await openStore(`sqlite:${file}`);
    try {
      assert.equal(await store.treeSize(), 0);
      assert.ok(existsSync(file));
    } finally {
      await store.close();
    }
  });

  it('creates no local file for a URL it cannot open', async () => {
    const dir = tempDir('open');
    await assert.rejects(openStore(`mysql://${dir}/x`), (e) => isSumkeepError(e, 'config'));
    assert.ok(!existsSync(join(process.cwd(), 'mysql:')));
  });
});
