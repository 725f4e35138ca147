/**
 * deploy/grafana/sumkeep.json: every metric its panels query (and every metric alerts.yml uses)
 * is exported by a real `sumkeep serve` (scraped here), every query parses as PromQL (real
 * promtool, through a rules file of them), and the panels cover what the issue asks for.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeKeys, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { familyTypes, requirePromtool, runPromtool } from '../helpers/promtool.ts';

interface Panel {
  type: string;
  id: number;
  title: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
}

const DASHBOARD = JSON.parse(readFileSync(join(REPO, 'deploy/grafana/sumkeep.json'), 'utf8')) as Dashboard;
const ALERTS = readFileSync(join(REPO, 'deploy/prometheus/alerts.yml'), 'utf8');

const allPanels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryPanels = allPanels(DASHBOARD.panels).filter((p) => p.type !== 'row');
const exprs = queryPanels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })),
);

/** The sumkeep_* metric names a PromQL text uses. */
const namesIn = (promql: string): string[] => [...promql.matchAll(/\bsumkeep_[a-z0-9_]+/g)].map((m) => m[0]);

/** Names of `used` that are no series of the exported families (histograms: _bucket, _sum, _count). */
function unknownNames(used: Iterable<string>, types: Map<string, string>): string[] {
  const known = (n: string): boolean => {
    if (types.has(n) && types.get(n) !== 'histogram') return true;
    const m = /^(.*)_(bucket|sum|count)$/.exec(n);
    return m !== null && types.get(m[1]!) === 'histogram';
  };
  return [...new Set(used)].filter((n) => !known(n));
}

/** Grafana's variables replaced by values PromQL takes, for promtool. */
const concrete = (e: string): string =>
  e
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1d')
    .replaceAll('$job', '.*')
    .replaceAll('$instance', '.*');

describe('deploy/grafana/sumkeep.json', { timeout: 240_000 }, () => {
  const root = tempDir('dashboard');
  let server: RunningServer;
  let types = new Map<string, string>();

  before(async () => {
    const keys = join(root, 'keys');
    makeKeys(keys, 'dashboard.test');
    server = await startServer({ keys, db: join(root, 'log.db'), upstream: 'off' });
    const r = await fetch(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    types = familyTypes(await r.text());
  });
  after(async () => server?.stop());

  it('has queries in every panel, unique panel ids, and covers the issue’s topics', () => {
    assert.ok(queryPanels.length >= 10, `${queryPanels.length} panels`);
    for (const p of queryPanels) {
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) assert.ok((t.expr ?? '').trim() !== '', `${p.title}: empty expr`);
    }
    const ids = allPanels(DASHBOARD.panels).map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const used = new Set(exprs.flatMap((e) => namesIn(e.expr)));
    for (const topic of [
      'sumkeep_tree_size', // tree growth
      'sumkeep_http_requests_total', // lookups
      'sumkeep_http_request_duration_seconds_bucket', // lookup latency
      'sumkeep_upstream_requests_total', // upstream
      'sumkeep_upstream_request_duration_seconds_bucket',
      'sumkeep_verify_lines_total', // verify outcomes
      'sumkeep_refused_total', // refusals
    ]) {
      assert.ok(used.has(topic), `the dashboard queries ${topic}`);
    }
  });

  it('queries only metrics the server exports', () => {
    assert.ok(types.size > 20, `families scraped: ${types.size}`);
    const used = [...exprs.flatMap((e) => namesIn(e.expr)), ...namesIn(JSON.stringify(DASHBOARD.templating))];
    assert.deepEqual(unknownNames(used, types), []);
    // The check itself finds a name the server does not export, and a histogram used bare.
    assert.deepEqual(
      unknownNames(['sumkeep_tree_sizes', 'sumkeep_upstream_request_duration_seconds'], types),
      ['sumkeep_tree_sizes', 'sumkeep_upstream_request_duration_seconds'],
    );
  });

  it('has alert rules that use only metrics the server exports', () => {
    const used = namesIn(ALERTS);
    assert.ok(used.length >= 8, used.join(' '));
    assert.deepEqual(unknownNames(used, types), []);
  });

  it('has queries that parse as PromQL (promtool check rules)', (t) => {
    const promtool = requirePromtool(t);
    if (promtool === null) return;
    const file = join(root, 'dashboard-queries.yml');
    const rules = exprs.map(
      (e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(concrete(e.expr))}`,
    );
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const r = runPromtool(promtool, ['check', 'rules', file]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    // A query that does not parse is caught.
    writeFileSync(
      file,
      'groups:\n  - name: d\n    rules:\n      - record: d:x\n        expr: "sum(rate(x[5m])"\n',
    );
    assert.notEqual(runPromtool(promtool, ['check', 'rules', file]).status, 0);
  });
});
