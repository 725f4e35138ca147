import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import { generateKey } from '../../src/core/note.ts';
import { SUM_GOLANG_ORG_KEY, parseSumdbSpec } from '../../src/crosscheck/spec.ts';
import { loadServeConfig, serveStartupLog } from '../../src/config.ts';

describe('parseSumdbSpec', () => {
  const { vkey } = generateKey('sum.example.test');

  it('takes a verifier key alone: through the upstream proxies', () => {
    const s = parseSumdbSpec(vkey);
    assert.equal(s.name, 'sum.example.test');
    assert.equal(s.vkey, vkey);
    assert.equal(s.url, null);
  });

  it('takes a key and a URL, without its trailing slashes', () => {
    assert.equal(
      parseSumdbSpec(`  ${vkey}   https://sum.example.test/base/  `).url,
      'https://sum.example.test/base',
    );
    assert.equal(parseSumdbSpec(`${vkey} http://127.0.0.1:8080`).url, 'http://127.0.0.1:8080');
  });

  it('knows the go command’s key for the bare name sum.golang.org', () => {
    const s = parseSumdbSpec('sum.golang.org');
    assert.equal(s.vkey, SUM_GOLANG_ORG_KEY);
    assert.equal(s.name, 'sum.golang.org');
    assert.equal(
      parseSumdbSpec('sum.golang.org https://proxy.corp/sumdb/sum.golang.org').url,
      'https://proxy.corp/sumdb/sum.golang.org',
    );
  });

  for (const [what, raw] of [
    ['empty', ''],
    ['off', 'off'],
    ['three fields', `${vkey} https://a https://b`],
    ['a bad key', 'sum.example.test+00000000+AAAA'],
    ['another name without a key', 'sum.example.test'],
    [
      'a key with a flipped hash',
      vkey.replace(/\+([0-9a-f])/, (_m, c: string) => `+${c === '0' ? '1' : '0'}`),
    ],
    ['a file URL', `${vkey} file:///srv/sumdb`],
    ['a URL with a query', `${vkey} https://a/?x=1`],
    ['not a URL', `${vkey} sum.example.test`],
  ] as const) {
    it(`refuses ${what} with a config error naming the setting`, () => {
      assert.throws(
        () => parseSumdbSpec(raw, 'SUMKEEP_CHECK_SUMDB'),
        (e: unknown) => isSumkeepError(e, 'config') && e.message.startsWith('SUMKEEP_CHECK_SUMDB '),
      );
    });
  }
});

describe('serve --check-sumdb', () => {
  const { vkey } = generateKey('sum.example.test');

  it('is read from the flag or SUMKEEP_CHECK_SUMDB, and refused at start naming where it came from', () => {
    assert.equal(
      loadServeConfig({ checkSumdb: vkey, upstream: 'off' }, {}).checkSumdb?.name,
      'sum.example.test',
    );
    assert.equal(
      loadServeConfig({ upstream: 'off' }, { SUMKEEP_CHECK_SUMDB: 'sum.golang.org' }).checkSumdb?.vkey,
      SUM_GOLANG_ORG_KEY,
    );
    assert.equal(loadServeConfig({ upstream: 'off' }, {}).checkSumdb, null);
    assert.throws(
      () => loadServeConfig({ upstream: 'off' }, { SUMKEEP_CHECK_SUMDB: 'nonsense' }),
      (e: unknown) => isSumkeepError(e, 'config') && e.message.startsWith('SUMKEEP_CHECK_SUMDB '),
    );
    assert.throws(
      () => loadServeConfig({ checkSumdb: 'nonsense', upstream: 'off' }, {}),
      (e: unknown) => isSumkeepError(e, 'config') && e.message.startsWith('--check-sumdb '),
    );
  });

  it("says at start which database it cross-checks with, without the URL's credentials", () => {
    const lines = serveStartupLog(
      loadServeConfig(
        { checkSumdb: `${vkey} https://bot:s3cr3t@db.example/sumdb`, upstream: 'https://proxy.example' },
        {},
      ),
    );
    const text = JSON.stringify(lines);
    assert.match(
      text,
      /cross-checking public module versions with the checksum database sum\.example\.test at https:\/\/db\.example\/sumdb/,
    );
    assert.doesNotMatch(text, /s3cr3t|bot/);
  });

  it('warns that it has nothing to check without an upstream', () => {
    const lines = serveStartupLog(loadServeConfig({ checkSumdb: vkey, upstream: 'off' }, {}));
    assert.ok(lines.some((l) => l.level === 'warn' && /--check-sumdb has nothing to check/.test(l.msg)));
  });
});
