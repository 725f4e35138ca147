import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { constants, createPublicKey, verify } from 'node:crypto';
import { pino } from 'pino';
import { newVerifier, open, verifierSet } from '../../src/core/note.ts';
import { parseTree } from '../../src/core/tlog/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { PublicJwk, ResponseAlg } from '../../src/keys/types.ts';
import { parseVerifyResponse, type VerifyResponse } from '../../src/verify/response.ts';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

const WRONG = 'h1:' + Buffer.alloc(32, 7).toString('base64');
const line = (path: string, version: string, kind: 'zip' | 'go.mod', hash = fakeHash(path, version, kind)) =>
  `${path} ${version}${kind === 'go.mod' ? '/go.mod' : ''} ${hash}\n`;

function post(
  s: App,
  body: string | Buffer,
  opts: { query?: string; type?: string | null; accept?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (opts.type !== null) headers['content-type'] = opts.type ?? 'text/plain; charset=utf-8';
  if (opts.accept) headers.accept = opts.accept;
  return s.app.inject({ method: 'POST', url: `/api/v1/verify${opts.query ?? ''}`, headers, payload: body });
}

function checkSignature(
  jwk: PublicJwk,
  r: { headers: Record<string, unknown>; rawPayload: Buffer },
): boolean {
  const key = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  const sig = Buffer.from(String(r.headers['x-go-sum-signature']), 'base64');
  if (jwk.alg === 'EdDSA') return verify(null, r.rawPayload, key, sig);
  return verify(
    'sha256',
    r.rawPayload,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    sig,
  );
}

describe('POST /api/v1/verify', () => {
  let auth: TestAuthority;
  let s: App;
  const logged: string[] = [];

  before(async () => {
    auth = makeAuthority({ name: 'sum.verify.test' });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    s = await startApp(auth.keys, {
      loggerInstance: pino({ level: 'warn' }, sink),
      verify: { maxLines: 50, bodyLimit: 8192 },
    });
    for (const m of ['example.com/a@v1.0.0', 'example.com/b@v1.2.0', 'example.com/c@v0.1.0']) {
      assert.equal((await s.app.inject(`/lookup/${m}`)).statusCode, 200);
    }
  });
  after(async () => s.close());

  it('reports match, mismatch with the logged hash, unknown and invalid lines by line number', async () => {
    const gosum =
      line('example.com/a', 'v1.0.0', 'zip') +
      line('example.com/a', 'v1.0.0', 'go.mod') +
      '\n' +
      line('example.com/b', 'v1.2.0', 'zip', WRONG) +
      line('example.com/new', 'v1.0.0', 'zip') +
      'this is not a go.sum line\n' +
      'example.com/c v0.1.0 h1:short\n' +
      line('example.com/c', 'v0.1.0', 'go.mod');
    const r = await post(s, gosum);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    const v = JSON.parse(r.body) as VerifyResponse;
    const brief = v.results.map((x) => [x.line, x.status, x.module, x.kind]);
    assert.deepEqual(brief, [
      [1, 'match', 'example.com/a', 'zip'],
      [2, 'match', 'example.com/a', 'go.mod'],
      [4, 'mismatch', 'example.com/b', 'zip'],
      [5, 'unknown', 'example.com/new', 'zip'],
      [6, 'invalid', null, null],
      [7, 'invalid', null, null],
      [8, 'match', 'example.com/c', 'go.mod'],
    ]);
    const mm = v.results[2]!;
    assert.equal(mm.hash, WRONG);
    assert.equal(mm.logged, fakeHash('example.com/b', 'v1.2.0', 'zip'));
    assert.equal(typeof mm.recordId, 'number');
    assert.equal(v.results[0]!.logged, v.results[0]!.hash);
    assert.equal(v.results[3]!.logged, null);
    assert.equal(v.results[3]!.recordId, null);
    assert.match(v.results[3]!.reason!, /not in the log/);
    assert.match(v.results[4]!.reason!, /wrong number of fields/);
    assert.match(v.results[5]!.reason!, /h1 hash/);
    assert.deepEqual(v.summary, { match: 3, mismatch: 1, unknown: 1, denied: 0, invalid: 2 });
    assert.equal(s.upstream.calls, 3, 'no fetch without ?fetch=1');
    // The answer passes the client's own shape checks.
    assert.deepEqual(parseVerifyResponse(new Uint8Array(r.rawPayload)), v);
  });

  it('returns the signed tree head that covers every record id', async () => {
    const r = await post(s, line('example.com/a', 'v1.0.0', 'zip') + line('example.com/c', 'v0.1.0', 'zip'));
    const v = JSON.parse(r.body) as VerifyResponse;
    const note = open(utf8(v.tree.note), verifierSet([newVerifier(auth.vkey)]));
    const tree = parseTree(utf8(note.text));
    assert.equal(tree.N, v.tree.size);
    for (const x of v.results) assert.ok(x.recordId! < tree.N);
  });

  it('signs exactly the bytes it sends', async () => {
    const r = await post(s, line('example.com/b', 'v1.2.0', 'zip', WRONG));
    assert.equal(r.headers['x-go-sum-signer'], auth.response.signer.kid);
    assert.equal(r.headers['x-go-sum-alg'], 'EdDSA');
    assert.ok(checkSignature(auth.response.jwk, r));
    const flipped = Buffer.from(r.rawPayload);
    const at = flipped.indexOf('mismatch');
    flipped[at] = flipped[at]! ^ 0x20;
    assert.equal(checkSignature(auth.response.jwk, { headers: r.headers, rawPayload: flipped }), false);
  });

  it('fills unknown versions with ?fetch=1; upstream 404 and 5xx stay unknown with the reason', async () => {
    const before = s.upstream.calls;
    const gosum =
      line('example.com/fresh', 'v1.0.0', 'zip') +
      line('example.com/fresh', 'v1.0.0', 'go.mod') +
      line('example.com/missing', 'v1.0.0', 'zip') +
      line('example.com/down', 'v1.0.0', 'zip');
    const r = await post(s, gosum, { query: '?fetch=1' });
    assert.equal(r.statusCode, 200, r.body);
    const v = JSON.parse(r.body) as VerifyResponse;
    assert.deepEqual(
      v.results.map((x) => x.status),
      ['match', 'match', 'unknown', 'unknown'],
    );
    assert.match(v.results[2]!.reason!, /not found upstream/);
    assert.match(v.results[3]!.reason!, /upstream answered 502/);
    assert.equal(s.upstream.calls - before, 3, 'one fetch per module version');
    assert.ok(v.results[0]!.recordId! < v.tree.size);
  });

  it('answers 500 without internals when a fetch fails for a server fault', async () => {
    const r = await post(s, line('example.com/bug', 'v1.0.0', 'zip'), { query: '?fetch=1' });
    assert.equal(r.statusCode, 500);
    assert.equal(r.body, 'internal server error\n');
  });

  it('logs and counts a mismatch without dumping the body', async () => {
    logged.length = 0;
    const r = await post(s, line('example.com/c', 'v0.1.0', 'go.mod', WRONG));
    assert.equal(r.statusCode, 200);
    const warn = logged.find((l) => l.includes('go.sum line does not match the log'));
    assert.ok(warn, logged.join(''));
    assert.ok(warn.includes('example.com/c@v0.1.0'));
    assert.ok(!warn.includes(WRONG), 'the go.sum content is not logged');
    const m = await s.app.inject('/metrics');
    const count = /sumkeep_verify_lines_total\{status="mismatch"\} (\d+)/.exec(m.body);
    assert.ok(count && Number(count[1]) >= 1, 'mismatches are counted');
  });

  it('logs the first 20 mismatches of a request one by one and the rest as a count', async () => {
    logged.length = 0;
    const r = await post(s, line('example.com/a', 'v1.0.0', 'go.mod', WRONG).repeat(25));
    assert.equal(r.statusCode, 200);
    assert.equal(logged.filter((l) => l.includes('go.sum line does not match the log')).length, 20);
    const rest = logged.filter((l) => l.includes('not logged one by one'));
    assert.equal(rest.length, 1);
    assert.equal((JSON.parse(rest[0]!) as { more: number }).more, 5);
  });

  it('reports lines that are not UTF-8 as invalid, keeping the other line numbers', async () => {
    const body = Buffer.concat([
      Buffer.from(line('example.com/a', 'v1.0.0', 'zip')),
      Buffer.from([0x65, 0xff, 0xfe, 0x0a]),
      Buffer.from(line('example.com/a', 'v1.0.0', 'go.mod')),
    ]);
    const v = JSON.parse((await post(s, body)).body) as VerifyResponse;
    assert.deepEqual(
      v.results.map((x) => [x.line, x.status, x.reason ?? null]),
      [
        [1, 'match', null],
        [2, 'invalid', 'invalid UTF-8'],
        [3, 'match', null],
      ],
    );
  });

  it('answers a compact JWS of the JSON for Accept: application/jose', async () => {
    const r = await post(s, line('example.com/a', 'v1.0.0', 'zip'), { accept: 'application/jose' });
    assert.equal(r.headers['content-type'], 'application/jose');
    const [h, p] = r.body.split('.') as [string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), {
      alg: 'EdDSA',
      kid: auth.response.signer.kid,
      cty: 'json',
    });
    assert.equal((JSON.parse(Buffer.from(p, 'base64url').toString()) as VerifyResponse).summary.match, 1);
  });

  const refusals: [string, () => Promise<{ statusCode: number; body: string }>, number, RegExp][] = [
    ['a body over the limit', () => post(s, 'x'.repeat(8193)), 413, /over the limit of 8192 bytes/],
    [
      'more lines than the limit',
      () => post(s, line('example.com/a', 'v1.0.0', 'zip').repeat(51)),
      413,
      /more than 50 lines/,
    ],
    ['JSON', () => post(s, '{"a":1}', { type: 'application/json' }), 415, /text\/plain/],
    ['no content type', () => post(s, 'x', { type: null }), 415, /text\/plain/],
    ['another charset', () => post(s, 'x', { type: 'text/plain; charset=latin1' }), 415, /UTF-8/],
    ['a bad fetch flag', () => post(s, 'x', { query: '?fetch=maybe' }), 400, /fetch/],
  ];
  for (const [what, send, status, msg] of refusals) {
    it(`refuses ${what} with ${status} and one line`, async () => {
      const r = await send();
      assert.equal(r.statusCode, status, r.body);
      assert.match(r.body, msg);
      assert.equal(r.body.split('\n').length, 2, JSON.stringify(r.body));
    });
  }

  it('refuses a chunked body over the limit with 413', async () => {
    const { Readable } = await import('node:stream');
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/verify',
      headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      payload: Readable.from([Buffer.alloc(5000, 0x61), Buffer.alloc(5000, 0x61)]),
    });
    assert.equal(r.statusCode, 413, r.body);
  });

  for (const alg of ['EdDSA', 'PS256'] as ResponseAlg[]) {
    it(`answers 503 without a signing key, and signs with ${alg} when it has one`, async () => {
      const a = makeAuthority({ name: 'sum.alg.test', alg });
      const bare = await startApp({ ...a.keys, responseSigner: null });
      const full = await startApp(a.keys);
      try {
        const r = await post(bare, line('example.com/a', 'v1.0.0', 'zip'));
        assert.equal(r.statusCode, 503);
        assert.match(r.body, /no response-signing key/);
        const ok = await post(full, line('example.com/a', 'v1.0.0', 'zip'));
        assert.equal(ok.statusCode, 200);
        assert.equal(ok.headers['x-go-sum-alg'], alg);
        assert.ok(checkSignature(a.response.jwk, ok));
      } finally {
        await bare.close();
        await full.close();
      }
    });
  }
});
