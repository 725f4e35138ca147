/**
 * The policy over HTTP (in process, fake upstream): a denied version's /lookup,
 * /sumdb/<name>/lookup and /api/v1/gosum answer 403 text/plain "denied by policy: <reason>",
 * whether or not the log holds it; an unlogged denied version is never fetched upstream; a logged
 * one stays in the log and is served again when the policy allows it; POST /api/v1/verify reports
 * denied lines as `denied`; LogStats.denied counts the denied lookups.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyDocument } from '../../src/core/policy-schema.ts';
import { OPEN_POLICY } from '../../src/core/policy.ts';
import { parseVerifyResponse } from '../../src/verify/response.ts';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

const REASON = 'CVE-2026-0001: upgrade to v1.5.0';
const POLICY = parsePolicyDocument({
  deny: [
    { module: 'example.com/lib', versions: '>=v1.2.0 <v1.5.0', reason: REASON },
    { module: 'example.com/evil', reason: 'untrusted publisher' },
  ],
});
const line = (path: string, version: string, kind: 'zip' | 'go.mod') =>
  `${path} ${version}${kind === 'go.mod' ? '/go.mod' : ''} ${fakeHash(path, version, kind)}\n`;

describe('policy over HTTP', () => {
  let auth: TestAuthority;
  let s: App;
  before(async () => {
    auth = makeAuthority({ name: 'sum.policy.test' });
    s = await startApp(auth.keys);
  });
  after(async () => s.close());

  const size = async () => (await s.service.latest())?.size ?? 0;
  const denied = (
    r: { statusCode: number; headers: Record<string, unknown>; body: string },
    reason: string,
  ) => {
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body.trim(), `denied by policy: ${reason}`);
  };

  it('denies an unlogged version on every lookup route without asking the upstream', async () => {
    s.service.setPolicy(POLICY);
    const calls = s.upstream.calls;
    const before = s.service.stats().denied;
    denied(await s.app.inject('/lookup/example.com/lib@v1.4.0'), REASON);
    denied(await s.app.inject('/sumdb/sum.policy.test/lookup/example.com/lib@v1.2.0'), REASON);
    denied(await s.app.inject('/api/v1/gosum/example.com/lib@v1.3.0'), REASON);
    // A pseudo-version after v1.4.0 lies inside the range too.
    denied(await s.app.inject('/lookup/example.com/lib@v1.4.1-0.20240102030405-abcdefabcdef'), REASON);
    denied(await s.app.inject('/lookup/example.com/evil/sub@v0.1.0'), 'untrusted publisher');
    assert.equal(s.upstream.calls, calls, 'no upstream fetch for a denied version');
    assert.equal(s.service.stats().denied, before + 5);
    assert.equal(await size(), 0, 'nothing logged');
  });

  it('serves what the policy allows', async () => {
    const r = await s.app.inject('/lookup/example.com/lib@v1.5.0');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await s.app.inject('/lookup/example.com/lib@v1.1.0')).statusCode, 200);
  });

  it('keeps a logged version in the log and denies it at lookup, cached or not, until the policy allows it', async () => {
    s.service.setPolicy(OPEN_POLICY);
    const ok = await s.app.inject('/lookup/example.com/lib@v1.4.0');
    assert.equal(ok.statusCode, 200, ok.body);
    const grown = await size();
    s.service.setPolicy(POLICY);
    // The record is in the service's record cache now, and in the store.
    denied(await s.app.inject('/lookup/example.com/lib@v1.4.0'), REASON);
    denied(await s.app.inject('/api/v1/gosum/example.com/lib@v1.4.0'), REASON);
    assert.notEqual(await s.store.lookup('example.com/lib', 'v1.4.0'), null, 'still in the log');
    assert.equal(await size(), grown, 'the log did not change');
    s.service.setPolicy(OPEN_POLICY);
    const again = await s.app.inject('/lookup/example.com/lib@v1.4.0');
    assert.equal(again.statusCode, 200);
    // The same record id and text as before the denial.
    const record = (body: string) => body.split('\n').slice(0, 3).join('\n');
    assert.equal(record(again.body), record(ok.body));
  });

  it('reports denied go.sum lines as denied in POST /api/v1/verify, with and without fetch', async () => {
    s.service.setPolicy(POLICY);
    const gosum =
      line('example.com/lib', 'v1.5.0', 'zip') + // logged, allowed
      line('example.com/lib', 'v1.4.0', 'zip') + // logged, denied
      line('example.com/lib', 'v1.3.0', 'go.mod') + // not logged, denied
      line('example.com/other', 'v1.0.0', 'zip'); // not logged, allowed
    for (const query of ['', '?fetch=1']) {
      const calls = s.upstream.calls;
      const r = await s.app.inject({
        method: 'POST',
        url: `/api/v1/verify${query}`,
        headers: { 'content-type': 'text/plain' },
        payload: gosum,
      });
      assert.equal(r.statusCode, 200, r.body);
      const v = parseVerifyResponse(new Uint8Array(r.rawPayload));
      assert.deepEqual(
        v.results.map((x) => [x.status, x.reason ?? null]),
        [
          ['match', null],
          ['denied', `denied by policy: ${REASON}`],
          ['denied', `denied by policy: ${REASON}`],
          query === '' ? ['unknown', 'example.com/other@v1.0.0: not in the log'] : ['match', null],
        ],
        query,
      );
      assert.equal(v.summary.denied, 2);
      // With fetch, only the allowed unlogged version is fetched.
      assert.equal(s.upstream.calls, calls + (query === '' ? 0 : 1));
    }
    const metrics = await s.app.inject('/metrics');
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /sumkeep_verify_lines_total\{status="denied"\} 4/);
  });
});
