import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointLocation, loadServeConfig } from '../src/config.ts';
import { isSumkeepError } from '../src/core/errors.ts';

const PG = 'postgres://sumkeep@db.example/sumkeep';

describe('checkpointLocation (the rollback guard’s file)', () => {
  it('defaults to <db file>.checkpoint for SQLite, in every --db form', () => {
    assert.deepEqual(checkpointLocation('data/sumkeep.db', undefined, undefined), {
      file: 'data/sumkeep.db.checkpoint',
      writes: true,
    });
    assert.deepEqual(checkpointLocation('sqlite:/var/lib/s.db', undefined, '/pub'), {
      file: '/var/lib/s.db.checkpoint',
      writes: true,
    });
    assert.equal(checkpointLocation(':memory:', undefined, undefined), null);
  });

  it('takes --checkpoint-file on either backend', () => {
    assert.deepEqual(checkpointLocation(PG, '/var/lib/node1.cp', undefined), {
      file: '/var/lib/node1.cp',
      writes: true,
    });
    assert.deepEqual(checkpointLocation('x.db', '/cp', undefined), { file: '/cp', writes: true });
  });

  it('on PostgreSQL uses the published latest with --publish, and refuses neither', () => {
    assert.deepEqual(checkpointLocation(PG, undefined, '/srv/pub'), {
      file: '/srv/pub/latest',
      writes: false,
    });
    assert.throws(
      () => checkpointLocation(PG, undefined, undefined),
      (e) => isSumkeepError(e, 'config') && /needs --checkpoint-file/.test(e.message),
    );
  });

  it('is read by serve from the flags and their environment twins', () => {
    const cfg = loadServeConfig({ db: PG }, { SUMKEEP_CHECKPOINT_FILE: '/env.cp', SUMKEEP_PUBLISH: '/p' });
    assert.deepEqual(cfg.checkpoint, { file: '/env.cp', writes: true });
    assert.equal(cfg.publishDir, '/p');
    assert.throws(() => loadServeConfig({ db: PG }, {}), /needs --checkpoint-file/);
  });
});
