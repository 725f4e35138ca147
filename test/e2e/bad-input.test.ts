/**
 * Hostile requests sent as raw bytes over a socket to the real `sumkeep serve` process (no client
 * library normalises them): each gets the right 4xx with a one-line reason and the server keeps
 * serving.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';

function rawGet(url: string, target: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let data = '';
    sock.setTimeout(10_000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('error', reject);
    sock.on('end', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      const sep = data.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, body: sep >= 0 ? data.slice(sep + 4) : '' });
    });
    sock.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  });
}

describe('bad input to the real server', () => {
  const root = tempDir('badinput');
  const keys = join(root, 'keys');
  const proxy = buildGoProxy(join(root, 'proxy'), [
    { path: 'example.com/ok', version: 'v1.0.0', files: { 'go.mod': 'module example.com/ok\n' } },
  ]);
  let server: RunningServer;

  before(async () => {
    makeKeys(keys, 'bad.input.test');
    server = await startServer({ keys, db: join(root, 'db.sqlite'), upstream: proxy.url });
  });
  after(async () => {
    await server.stop();
  });

  const cases: [string, number][] = [
    ['/lookup/example.com/ok@v1.0.0', 200],
    ['/lookup/example.com/../../etc/passwd@v1.0.0', 400],
    ['/lookup/example.com/./ok@v1.0.0', 400],
    ['/lookup/example.com/OK@v1.0.0', 400],
    ['/lookup/example.com/!@v1.0.0', 400],
    ['/lookup/example.com/!!ok@v1.0.0', 400],
    ['/lookup/example.com/ok@v1.0.0%00', 400],
    ['/lookup/example.com/ok@v' + '1'.repeat(5000) + '.0.0', 400],
    ['/lookup/example.com/ok@' + 'v1.0.0-' + 'a'.repeat(3000), 400],
    ['/lookup/%ff%fe@v1.0.0', 400],
    ['/lookup/example.com/ok', 400],
    ['/tile/8/0/x999/999', 404],
    ['/tile/8/0/000.p/0', 400],
    ['/tile/8/0/000.p/256', 400],
    ['/tile/8/data/000.p/2', 404],
    ['/tile/8/0/../../../etc/passwd', 400],
    ['/tile/99999999999999999999/0/000', 400],
    ['/no/such/route', 404],
    ['/lookup/example.com/ok@v1.0.0', 200],
  ];
  for (const [target, status] of cases) {
    it(`answers ${status} to ${target.slice(0, 70)}`, async () => {
      const r = await rawGet(server.url, target);
      assert.equal(r.status, status, r.body.slice(0, 300));
      if (status !== 200)
        assert.equal(r.body.trimEnd().split('\n').length, 1, `one-line reason: ${r.body.slice(0, 200)}`);
    });
  }
  it('is still healthy afterwards', async () => {
    const r = await rawGet(server.url, '/healthz');
    assert.equal(r.status, 200);
    assert.equal(server.proc.exitCode, null);
  });
});
