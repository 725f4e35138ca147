// fastify's and Node's own client errors go through the one error mapper (src/http/errors.ts):
// text/plain, one line of our own, no fastify error code, no JSON, no echo of internals.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { startApp, type App } from '../helpers/inprocess.ts';

/** Sends `raw` on a fresh connection and returns everything the server writes until it closes. */
function rawRequest(port: number, raw: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.setTimeout(30_000, () => sock.destroy(new Error('no answer in 30 s')));
    sock.write(raw);
  });
}

/** Status, headers (lower-cased names) and body of one raw HTTP/1.1 answer. */
function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: string } {
  const sep = text.indexOf('\r\n\r\n');
  assert.ok(sep > 0, `an HTTP answer: ${JSON.stringify(text.slice(0, 300))}`);
  const [statusLine, ...lines] = text.slice(0, sep).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(sep + 4) };
}

function assertOneLine(body: string, what: string): void {
  assert.match(body, /^[^\n]+\n$/, `${what}: one line`);
  assert.doesNotMatch(body, /FST_|\{|statusCode|node_modules|Error:/, `${what}: no internals`);
}

describe("fastify's and Node's client errors", () => {
  let auth: TestAuthority;
  let s: App;
  let port: number;
  before(async () => {
    auth = makeAuthority({ name: 'sum.framework-errors.test' });
    s = await startApp(auth.keys, { verify: { bodyLimit: 8192 } });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.app.server.address() as AddressInfo).port;
  });
  after(async () => s.close());

  for (const url of [
    '/lookup/%zz',
    '/lookup/example.com/x@v1.0.0%E0%A4%A',
    '/api/v1/gosum/%E0%A4%A@v1',
    '/tile/8/0/%',
  ]) {
    it(`a malformed percent-encoding (${url}) is a 400 text/plain line`, async () => {
      const r = await s.app.inject(url);
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assertOneLine(r.body, url);
      assert.equal(r.body, 'malformed URL: a percent-encoding that does not decode to UTF-8\n');
      assert.equal(r.headers['x-go-sum-signature'], undefined);
    });
  }

  it('a chunked body over the route limit is a 413 naming the limit', async () => {
    const chunk = 'x'.repeat(4096);
    let raw =
      'POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n' +
      'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
    for (let i = 0; i < 4; i++) raw += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    raw += '0\r\n\r\n';
    const a = parseAnswer(await rawRequest(port, raw));
    assert.equal(a.status, 413, a.body);
    assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(a.body, 'request body over the limit of 8192 bytes\n');
  });

  const refused: [string, string, number, string][] = [
    [
      'a Content-Length that is not a number',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      400,
      'malformed HTTP request\n',
    ],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', 400, 'malformed HTTP request\n'],
    [
      'headers over the size limit',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'request headers too large\n',
    ],
  ];
  for (const [what, raw, status, body] of refused) {
    it(`${what} is a ${status} text/plain line, not fastify's JSON`, async () => {
      const a = parseAnswer(await rawRequest(port, raw));
      assert.equal(a.status, status, a.body);
      assert.equal(a.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(a.body, body);
    });
  }
});
