// Connection limits (issue 7 item 10): a client that trickles its body or its headers is closed
// after the request or headers timeout, an idle keep-alive connection after the keep-alive
// timeout, and a connection after its last allowed request. Timeouts are small here; the
// defaults are in src/settings.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { startApp, type App } from '../helpers/inprocess.ts';
import { loadServeConfig } from '../../src/config.ts';
import { isSumkeepError } from '../../src/core/errors.ts';

const REQUEST_MS = 600;
const HEADERS_MS = 400;
const KEEP_ALIVE_MS = 300;
/** How late a close may come on a loaded machine, over the timeout and Node's check interval. */
const SLACK_MS = 5000;

/** A connection that records what the server sends and when it closes it. */
function open(port: number): { sock: Socket; data: () => string; closed: Promise<number> } {
  const sock = connect(port, '127.0.0.1');
  let data = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => (data += d));
  sock.on('error', () => undefined);
  const t0 = performance.now();
  const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(performance.now() - t0)));
  return { sock, data: () => data, closed };
}

/** Writes one byte of `text` every `everyMs` until the socket closes; resolves then. */
function trickle(sock: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (sock.destroyed || i >= text.length) return clearInterval(timer);
    sock.write(text[i++]!);
  }, everyMs);
  sock.on('close', () => clearInterval(timer));
}

describe('HTTP timeouts', () => {
  let auth: TestAuthority;
  let s: App;
  let port: number;
  before(async () => {
    auth = makeAuthority({ name: 'sum.timeouts.test' });
    s = await startApp(auth.keys, {
      timeouts: {
        requestTimeoutMs: REQUEST_MS,
        headersTimeoutMs: HEADERS_MS,
        keepAliveTimeoutMs: KEEP_ALIVE_MS,
        maxRequestsPerSocket: 2,
      },
    });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    port = (s.app.server.address() as AddressInfo).port;
  });
  after(async () => s.close());

  it('closes 50 connections that trickle a declared 4 MB body, with 408, and keeps serving', async () => {
    const conns = Array.from({ length: 50 }, () => {
      const c = open(port);
      c.sock.write(
        'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 4000000\r\n\r\n',
      );
      trickle(c.sock, 'example.com/a v1.0.0 h1:'.repeat(100), 50);
      return c;
    });
    const times = await Promise.all(conns.map((c) => c.closed));
    for (const [i, ms] of times.entries()) {
      assert.ok(ms < REQUEST_MS + SLACK_MS, `connection ${i} closed after ${ms.toFixed(0)} ms`);
      assert.ok(ms >= REQUEST_MS - 50, `connection ${i} closed early, after ${ms.toFixed(0)} ms`);
    }
    const first = conns[0]!.data();
    assert.match(first, /^HTTP\/1\.1 408 /);
    assert.match(first, /content-type: text\/plain; charset=utf-8\r\n/i);
    assert.ok(first.endsWith('\r\n\r\nrequest not received in time\n'), first);
    assert.equal((await s.app.inject('/healthz')).statusCode, 200);
  });

  it('closes a connection that trickles its headers after the headers timeout', async () => {
    const c = open(port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    trickle(c.sock, 'X-Slow: ' + 'a'.repeat(1000), 30);
    const ms = await c.closed;
    assert.ok(ms < HEADERS_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
    assert.ok(ms >= HEADERS_MS - 50, `closed early, after ${ms.toFixed(0)} ms`);
    assert.match(c.data(), /^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const c = open(port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await c.closed;
    assert.match(c.data(), /^HTTP\/1\.1 200 /);
    assert.ok(ms < KEEP_ALIVE_MS + SLACK_MS, `closed after ${ms.toFixed(0)} ms`);
  });

  it('closes a connection after --max-requests-per-socket answers', async () => {
    const c = open(port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const ms = await c.closed;
    const answers = c.data().split('HTTP/1.1 200 ');
    assert.equal(answers.length, 3, c.data());
    assert.match(answers[2]!, /connection: close\r\n/i);
    assert.ok(ms < KEEP_ALIVE_MS + SLACK_MS);
  });
});

describe('HTTP timeout settings', () => {
  it('come from flags or their environment twins, with defaults', () => {
    const d = loadServeConfig({}, {});
    assert.deepEqual(d.http, {
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
      maxRequestsPerSocket: 1000,
    });
    const c = loadServeConfig(
      { requestTimeoutMs: '5000', maxRequestsPerSocket: '0' },
      { SUMKEEP_HEADERS_TIMEOUT_MS: '2000', SUMKEEP_KEEP_ALIVE_TIMEOUT_MS: '1000' },
    );
    assert.deepEqual(c.http, {
      requestTimeoutMs: 5000,
      headersTimeoutMs: 2000,
      keepAliveTimeoutMs: 1000,
      maxRequestsPerSocket: 0,
    });
  });

  it('refuses a headers timeout longer than the request timeout, and bad values', () => {
    assert.throws(
      () => loadServeConfig({ requestTimeoutMs: '1000', headersTimeoutMs: '2000' }, {}),
      (e: unknown) => isSumkeepError(e, 'config') && /--headers-timeout-ms 2000 is longer/.test(e.message),
    );
    assert.throws(
      () => loadServeConfig({}, { SUMKEEP_REQUEST_TIMEOUT_MS: '10' }),
      (e: unknown) => isSumkeepError(e, 'config') && /SUMKEEP_REQUEST_TIMEOUT_MS/.test(e.message),
    );
  });
});
