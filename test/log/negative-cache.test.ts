import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError, isRefusal, type ErrorCode } from '../../src/core/errors.ts';
import { NegativeCache, isLasting } from '../../src/log/negative-cache.ts';

describe('isRefusal', () => {
  it('holds for refused modules only', () => {
    const refused: ErrorCode[] = ['invalid_zip', 'module_mismatch', 'private_module'];
    const not: ErrorCode[] = [
      'upstream_not_found',
      'upstream_error',
      'upstream_timeout',
      'too_large',
      'internal',
    ];
    for (const c of refused) assert.equal(isRefusal(new SumkeepError(c, 'x')), true, c);
    for (const c of not) assert.equal(isRefusal(new SumkeepError(c, 'x')), false, c);
    assert.equal(isRefusal(new Error('invalid_zip')), false);
  });
});

describe('NegativeCache', () => {
  it('remembers lasting failures only, and replays code and message', () => {
    const c = new NegativeCache(1000, 10, () => 0);
    for (const code of ['upstream_error', 'upstream_timeout', 'cancelled', 'internal'] as const) {
      c.remember(code, new SumkeepError(code, 'x'));
      assert.equal(c.get(code), undefined, code);
    }
    c.remember('plain', new Error('boom'));
    assert.equal(c.get('plain'), undefined);
    c.remember('m@v1', new SumkeepError('upstream_not_found', 'm@v1: not found upstream (p: 404 Not Found)'));
    const got = c.get('m@v1');
    assert.ok(got instanceof SumkeepError);
    assert.equal(got.code, 'upstream_not_found');
    assert.equal(got.message, 'm@v1: not found upstream (p: 404 Not Found)');
    assert.equal(isLasting(new SumkeepError('module_mismatch', 'x')), true);
  });

  it('expires entries and stays within its size', () => {
    let now = 0;
    const c = new NegativeCache(100, 2, () => now);
    const e = (k: string) => new SumkeepError('upstream_not_found', k);
    c.remember('a', e('a'));
    c.remember('b', e('b'));
    c.remember('c', e('c'));
    assert.equal(c.get('a'), undefined, 'the least recently used went');
    assert.ok(c.get('b') && c.get('c'));
    now = 100;
    assert.equal(c.get('b'), undefined, 'expired');
  });

  it('remembers nothing with a TTL of 0', () => {
    const c = new NegativeCache(0, 10, () => 0);
    c.remember('a', new SumkeepError('upstream_not_found', 'a'));
    assert.equal(c.get('a'), undefined);
  });
});
