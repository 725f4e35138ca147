// POST /api/v1/verify under load (issue 7 item 9): a 4 MiB go.sum never holds /healthz for long
// (the parse, the lookups and the comparison yield to the event loop in chunks), and verify
// requests over --verify-concurrency answer 503 with Retry-After.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { makeAuthority, type TestAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

/** A go.sum of about `bytes` bytes: zip and go.mod lines of distinct versions, a few logged. */
function bigGoSum(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const p = `example.com/big/m${i}`;
    const v = `v1.0.${i}`;
    const l = `${p} ${v} ${fakeHash(p, v, 'zip')}\n${p} ${v}/go.mod ${fakeHash(p, v, 'go.mod')}\n`;
    if (size + l.length > bytes) break;
    parts.push(l);
    size += l.length;
  }
  return parts.join('');
}

describe('POST /api/v1/verify under load', () => {
  let auth: TestAuthority;
  let s: App;
  let base: string;
  before(async () => {
    auth = makeAuthority({ name: 'sum.verify-load.test' });
    s = await startApp(auth.keys);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    for (let i = 0; i < 50; i++) {
      assert.equal((await s.app.inject(`/lookup/example.com/big/m${i}@v1.0.${i}`)).statusCode, 200);
    }
  });
  after(async () => s.close());

  it('a 4 MiB go.sum leaves /healthz answered within a bounded gap', async () => {
    const body = bigGoSum((4 << 20) - 100);
    let done = false;
    let answered = 0;
    let worst = 0;
    const poll = (async () => {
      while (!done) {
        const t = performance.now();
        const r = await fetch(`${base}/healthz`);
        await r.text();
        assert.equal(r.status, 200);
        worst = Math.max(worst, performance.now() - t);
        answered++;
      }
    })();
    const t0 = performance.now();
    const r = await fetch(`${base}/api/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    // Read as bytes while polling; parsed after (JSON.parse of 12 MB would hold this same loop).
    const bytes = await r.arrayBuffer();
    const took = performance.now() - t0;
    done = true;
    await poll;
    const answer = JSON.parse(Buffer.from(bytes).toString()) as { summary: Record<string, number> };
    assert.equal(r.status, 200);
    assert.equal(answer.summary.match, 100);
    const what = `verify took ${took.toFixed(0)} ms; /healthz answered ${answered} times, worst ${worst.toFixed(0)} ms`;
    console.log(what);
    // Relative bounds hold on a loaded machine: work that never yields makes /healthz wait for
    // (nearly) all of the verify, and it is answered a handful of times at most.
    assert.ok(worst < took / 3, what);
    assert.ok(answered >= 20, what);
  });
});

describe('POST /api/v1/verify over --verify-concurrency', () => {
  let auth: TestAuthority;
  let s: App;
  let base: string;
  before(async () => {
    auth = makeAuthority({ name: 'sum.verify-limit.test' });
    s = await startApp(auth.keys, { verify: { concurrency: 1 } });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  });
  after(async () => s.close());

  const inFlight = async (): Promise<number> => {
    const m = /^sumkeep_verify_requests_in_flight (\d+)$/m.exec(
      await (await fetch(`${base}/metrics`)).text(),
    );
    return m ? Number(m[1]) : NaN;
  };
  const until = async (cond: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 60_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const small = `example.com/a v1.0.0 ${fakeHash('example.com/a', 'v1.0.0', 'zip')}\n`;
  const post = (body: string) =>
    fetch(`${base}/api/v1/verify`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });

  it('answers 503 with Retry-After past the limit, and takes requests again once a place is free', async () => {
    const big = post(bigGoSum((4 << 20) - 100));
    await until(async () => (await inFlight()) === 1, 'the big check to hold the place');
    const refused = await post(small);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(refused.headers.get('x-go-sum-signature'), null);
    assert.equal(
      await refused.text(),
      '1 go.sum checks are running (--verify-concurrency); try again in a moment\n',
    );
    const first = await big;
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    await until(async () => (await inFlight()) === 0, 'the place to be given back');
    const again = await post(small);
    assert.equal(again.status, 200, await again.text());
  });

  it('a client that leaves while sending its body gives its place back', async () => {
    const sock = connect((s.app.server.address() as AddressInfo).port, '127.0.0.1');
    sock.write(
      'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nexample.com',
    );
    await until(async () => (await inFlight()) === 1, 'the request to take the place');
    sock.destroy();
    await until(async () => (await inFlight()) === 0, 'the place to be given back');
    assert.equal((await post(small)).status, 200);
  });
});
