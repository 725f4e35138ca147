/**
 * /metrics of a real `sumkeep serve` (child process, keys from a real ceremony, an HTTP module
 * proxy on 127.0.0.1): every family the issue names is exported with the values the traffic
 * produced, and every sumkeep_* family passes the real `promtool check metrics`. Then
 * --metrics-listen: /metrics and /readyz move to their own address.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeProxy } from '../helpers/fake-proxy.ts';
import { buildGoProxy } from '../helpers/goproxy.ts';
import { makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import {
  familiesWithPrefix,
  familyTypes,
  requirePromtool,
  runPromtool,
  sampleValue,
} from '../helpers/promtool.ts';

const GOOD = 'example.com/good';
const EVIL = 'example.com/evil';

/** The families issue 10 names, with their types. */
export const ISSUE_FAMILIES: Record<string, string> = {
  sumkeep_verify_lines_total: 'counter',
  sumkeep_refused_total: 'counter',
  sumkeep_upstream_requests_total: 'counter',
  sumkeep_upstream_request_duration_seconds: 'histogram',
  sumkeep_upstream_inflight: 'gauge',
  sumkeep_sequencer_commit_duration_seconds: 'histogram',
  sumkeep_sequencer_batch_records: 'histogram',
  sumkeep_tree_size: 'gauge',
  sumkeep_last_commit_timestamp_seconds: 'gauge',
  sumkeep_signer_ready: 'gauge',
  sumkeep_store_errors_total: 'counter',
  sumkeep_key_not_after_timestamp_seconds: 'gauge',
};

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

/** notAfter (s since epoch) of every certificate in `dir` whose file name starts with `prefix`. */
function certificateEnds(dir: string, prefix: string): number[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.crt'))
    .map((f) => Date.parse(new X509Certificate(readFileSync(join(dir, f))).validTo) / 1000);
}

describe('/metrics of sumkeep serve', { timeout: 240_000 }, () => {
  const root = tempDir('metrics');
  const keys = join(root, 'keys');
  const fake = new FakeProxy();
  let server: RunningServer;

  before(async () => {
    makeKeys(keys, 'metrics.test');
    fake.dir = join(root, 'proxy');
    buildGoProxy(fake.dir, [
      { path: GOOD, version: 'v1.0.0', files: { 'go.mod': `module ${GOOD}\n`, 'a.go': 'package a\n' } },
      {
        path: EVIL,
        version: 'v1.0.0',
        files: {},
        zipEntries: [{ name: `${EVIL}@v1.0.0/../../etc/passwd`, content: 'x' }],
        mod: `module ${EVIL}\n`,
      },
    ]);
    await fake.start();
    server = await startServer({
      keys,
      db: join(root, 'log.db'),
      upstream: fake.url,
      extra: ['--negative-cache-ttl', '600'],
    });
  });
  after(async () => {
    await server?.stop();
    await fake.stop();
  });

  it('exports every family of the issue, with the values the traffic produced', async () => {
    const before = await get(`${server.url}/metrics`);
    assert.equal(before.status, 200);
    assert.equal(sampleValue(before.body, 'sumkeep_tree_size'), 0);
    assert.equal(sampleValue(before.body, 'sumkeep_verify_lines_total', 'status="mismatch"'), 0);
    assert.equal(sampleValue(before.body, 'sumkeep_refused_total', 'reason="path_traversal"'), 0);

    assert.equal((await get(`${server.url}/lookup/${GOOD}@v1.0.0`)).status, 200);
    // Refused twice: the second answer comes from the negative cache and is not a new refusal.
    assert.equal((await get(`${server.url}/lookup/${EVIL}@v1.0.0`)).status, 410);
    assert.equal((await get(`${server.url}/lookup/${EVIL}@v1.0.0`)).status, 410);
    assert.equal((await get(`${server.url}/lookup/example.com/absent@v1.0.0`)).status, 404);
    // /api/v1/gosum for a version nobody has: its two lines are unknown.
    assert.equal((await get(`${server.url}/api/v1/gosum/example.com/absent@v1.0.0`)).status, 404);

    const good = (await get(`${server.url}/api/v1/gosum/${GOOD}@v1.0.0`)).body;
    const wrong = good.replace(/h1:\S+/, 'h1:' + Buffer.alloc(32, 7).toString('base64'));
    const verify = await fetch(`${server.url}/api/v1/verify`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: wrong + 'not a go.sum line\n',
    });
    assert.equal(verify.status, 200, await verify.text());

    const m = (await get(`${server.url}/metrics`)).body;
    const types = familyTypes(m);
    for (const [name, type] of Object.entries(ISSUE_FAMILIES)) assert.equal(types.get(name), type, name);

    assert.equal(sampleValue(m, 'sumkeep_tree_size'), 1);
    const last = sampleValue(m, 'sumkeep_last_commit_timestamp_seconds')!;
    assert.ok(Math.abs(last - Date.now() / 1000) < 300, `last commit ${last}`);
    assert.equal(sampleValue(m, 'sumkeep_sequencer_commit_duration_seconds_count'), 1);
    assert.equal(sampleValue(m, 'sumkeep_sequencer_batch_records_sum'), 1);
    assert.equal(sampleValue(m, 'sumkeep_sequencer_pending_records'), 0);

    assert.equal(sampleValue(m, 'sumkeep_refused_total', 'reason="path_traversal"'), 1);
    assert.equal(sampleValue(m, 'sumkeep_refused_total', 'reason="module_mismatch"'), 0);
    const refused = m.split('\n').filter((l) => l.startsWith('sumkeep_refused_total{'));
    assert.equal(
      refused.reduce((n, l) => n + Number(l.split(' ')[1]), 0),
      1,
      `one refusal in all: ${refused.filter((l) => !l.endsWith(' 0')).join(', ')}`,
    );

    assert.equal(sampleValue(m, 'sumkeep_verify_lines_total', 'status="match"'), 1);
    assert.equal(sampleValue(m, 'sumkeep_verify_lines_total', 'status="mismatch"'), 1);
    assert.equal(sampleValue(m, 'sumkeep_verify_lines_total', 'status="invalid"'), 1);
    assert.equal(sampleValue(m, 'sumkeep_verify_lines_total', 'status="unknown"'), 2);

    // The good and evil versions: .mod and .zip each; the absent one: its .mod, 404.
    assert.equal(sampleValue(m, 'sumkeep_upstream_requests_total', 'outcome="ok"'), 4);
    assert.equal(sampleValue(m, 'sumkeep_upstream_requests_total', 'outcome="not_found"'), 1);
    assert.equal(sampleValue(m, 'sumkeep_upstream_requests_total', 'outcome="error"'), 0);
    assert.equal(sampleValue(m, 'sumkeep_upstream_request_duration_seconds_count'), 5);
    assert.equal(sampleValue(m, 'sumkeep_upstream_inflight'), 0);

    assert.equal(sampleValue(m, 'sumkeep_signer_ready'), 1);
    assert.equal(sampleValue(m, 'sumkeep_store_errors_total', 'code="store_error"'), 0);
    const noteEnd = sampleValue(m, 'sumkeep_key_not_after_timestamp_seconds', 'purpose="note"');
    const responseEnd = sampleValue(m, 'sumkeep_key_not_after_timestamp_seconds', 'purpose="response"');
    assert.deepEqual([noteEnd], [Math.min(...certificateEnds(keys, 'note'))]);
    assert.deepEqual([responseEnd], [Math.min(...certificateEnds(keys, 'response'))]);
  });

  it('passes promtool check metrics for every sumkeep_* family', async (t) => {
    const promtool = requirePromtool(t);
    if (promtool === null) return;
    const m = (await get(`${server.url}/metrics`)).body;
    const ours = familiesWithPrefix(m, 'sumkeep_');
    assert.ok(ours.includes('# TYPE sumkeep_refused_total counter'), ours.slice(0, 500));
    const r = runPromtool(promtool, ['check', 'metrics'], { input: ours });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim(), '', 'no lint problem');
    // promtool does find problems: the check is not a no-op.
    const bad = runPromtool(promtool, ['check', 'metrics'], {
      input: '# HELP sumkeep_x_count x\n# TYPE sumkeep_x_count counter\nsumkeep_x_count 1\n',
    });
    assert.notEqual(bad.status, 0, bad.out);
  });
});

describe('--metrics-listen', { timeout: 240_000 }, () => {
  const root = tempDir('metrics-listen');
  const keys = join(root, 'keys');
  let server: RunningServer;
  let metricsUrl = '';

  before(async () => {
    makeKeys(keys, 'metrics-listen.test');
    server = await startServer({
      keys,
      db: join(root, 'log.db'),
      upstream: 'off',
      extra: ['--metrics-listen', '127.0.0.1:0', '--log-level', 'info'],
    });
    // The "serving" log line names the address the kernel chose.
    for (let i = 0; i < 100 && metricsUrl === ''; i++) {
      const m = /"metrics":"127\.0\.0\.1:(\d+)"/.exec(server.stderr());
      if (m) metricsUrl = `http://127.0.0.1:${m[1]}`;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.notEqual(metricsUrl, '', server.stderr());
  });
  after(async () => server?.stop());

  it('serves /metrics and /readyz there and not on the public address', async () => {
    const m = await get(`${metricsUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.body, /^sumkeep_tree_size 0$/m);
    assert.match(m.body, /^sumkeep_signer_ready 1$/m);
    assert.deepEqual(await get(`${metricsUrl}/readyz`), { status: 200, body: 'ready\n' });
    // Nothing else is served there.
    assert.equal((await get(`${metricsUrl}/latest`)).status, 404);

    assert.equal((await get(`${server.url}/metrics`)).status, 404);
    assert.equal((await get(`${server.url}/readyz`)).status, 404);
    assert.equal((await get(`${server.url}/healthz`)).status, 200);
    assert.equal((await get(`${server.url}/latest`)).status, 200);

    // Requests on the public address are counted in the metrics served on the other.
    const again = (await get(`${metricsUrl}/metrics`)).body;
    assert.ok(
      (sampleValue(again, 'sumkeep_http_requests_total', 'route="/latest",status="200"') ?? 0) >= 1,
      again
        .split('\n')
        .filter((l) => l.startsWith('sumkeep_http_requests_total'))
        .join('\n'),
    );
  });
});
