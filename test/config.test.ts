/**
 * The upstream and the private patterns of `sumkeep serve`: where each comes from (flag, SUMKEEP_*,
 * the go command's variables, the default), how GOPROXY/GOPRIVATE/GONOSUMDB are read, and what the
 * start-up log says. The child-process versions of these cases are in test/cli/serve-env.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, loadServeConfig, serveStartupLog, type ServeFlags } from '../src/config.ts';
import { isSumkeepError } from '../src/core/errors.ts';

type Env = Record<string, string | undefined>;
const load = (env: Env, flags: ServeFlags = {}) => loadServeConfig(flags, env);
const configError = (re: RegExp) => (e: unknown) => isSumkeepError(e, 'config') && re.test(e.message);

describe('loadServeConfig: the upstream', () => {
  it('reads GOPROXY=off as no upstream, not as the public proxy', () => {
    for (const goproxy of ['off', ' off ', 'off,https://b.example', ',off', 'off|https://b.example']) {
      const c = load({ GOPROXY: goproxy });
      assert.deepEqual([c.upstream, c.upstreamFrom], ['off', 'GOPROXY'], `GOPROXY=${goproxy}`);
    }
  });

  it('refuses a GOPROXY that leaves only direct, as --upstream direct is refused', () => {
    // The go command ignores the entries after "direct", so "direct,https://a" is only direct too.
    for (const goproxy of ['direct', ' direct ', 'direct,https://a.example', 'direct|off', ',direct']) {
      assert.throws(
        () => load({ GOPROXY: goproxy }),
        configError(
          /^GOPROXY: .*"direct" is not supported: sumkeep must not fetch modules from version control/,
        ),
        `GOPROXY=${goproxy}`,
      );
    }
    assert.throws(() => load({}, { upstream: 'direct' }), configError(/^--upstream: .*"direct"/));
  });

  it("keeps GOPROXY's separators and stops where the go command stops (direct, off)", () => {
    const CASES: [string, string][] = [
      ['https://a.example|https://b.example,direct', 'https://a.example|https://b.example'],
      ['https://a.example|https://b.example|direct', 'https://a.example|https://b.example'],
      ['https://a.example,direct,https://b.example', 'https://a.example'],
      ['https://a.example|off,https://b.example', 'https://a.example|off'],
      [' https://a.example , https://b.example ', 'https://a.example,https://b.example'],
      ['proxy.corp.example|file:///srv/mirror', 'proxy.corp.example|file:///srv/mirror'],
    ];
    for (const [goproxy, want] of CASES) {
      const c = load({ GOPROXY: goproxy });
      assert.deepEqual([c.upstream, c.upstreamFrom], [want, 'GOPROXY'], `GOPROXY=${goproxy}`);
    }
  });

  it('uses the public proxy only when none of --upstream, SUMKEEP_UPSTREAM, GOPROXY is set', () => {
    const c = load({});
    assert.deepEqual([c.upstream, c.upstreamFrom], [DEFAULTS.upstream, 'default']);
    // Set, but with no entry: refused as the go command refuses it, never the default.
    for (const goproxy of [',', ' , ']) {
      assert.throws(() => load({ GOPROXY: goproxy }), configError(/^GOPROXY: .*contains no entries/));
    }
  });

  it('takes --upstream, else SUMKEEP_UPSTREAM, else GOPROXY', () => {
    const env = { SUMKEEP_UPSTREAM: 'https://env.example', GOPROXY: 'https://go.example' };
    const f = load(env, { upstream: 'https://flag.example' });
    assert.deepEqual([f.upstream, f.upstreamFrom], ['https://flag.example', '--upstream']);
    const e = load(env);
    assert.deepEqual([e.upstream, e.upstreamFrom], ['https://env.example', 'SUMKEEP_UPSTREAM']);
    const off = load(env, { upstream: 'off' });
    assert.deepEqual([off.upstream, off.upstreamFrom], ['off', '--upstream']);
  });

  it('refuses a bad list at start, naming where it came from and without credentials', () => {
    assert.throws(
      () => load({ GOPROXY: 'https://bot:s3cr3t@a.example?x=1' }),
      (e) =>
        configError(/^GOPROXY: invalid proxy URL with a query/)(e) &&
        !(e as Error).message.includes('s3cr3t'),
    );
    assert.throws(
      () => load({ SUMKEEP_UPSTREAM: 'ftp://a.example' }),
      configError(/^SUMKEEP_UPSTREAM: invalid proxy URL scheme/),
    );
    assert.throws(() => load({}, { upstream: '' }), configError(/^--upstream: .*contains no entries/));
  });
});

describe('loadServeConfig: private patterns', () => {
  it('uses GOPRIVATE when --private and SUMKEEP_PRIVATE are absent', () => {
    const c = load({ GOPRIVATE: '*.corp.example,github.com/corp' });
    assert.deepEqual(c.privatePatterns, ['*.corp.example', 'github.com/corp']);
    assert.deepEqual(c.privateFrom, ['GOPRIVATE']);
  });

  it('adds GONOSUMDB to GOPRIVATE (the union)', () => {
    const both = load({ GOPRIVATE: 'a.example.com', GONOSUMDB: 'b.example.com,a.example.com' });
    assert.deepEqual(both.privatePatterns, ['a.example.com', 'b.example.com']);
    assert.deepEqual(both.privateFrom, ['GOPRIVATE', 'GONOSUMDB']);
    const only = load({ GONOSUMDB: 'b.example.com' });
    assert.deepEqual([only.privatePatterns, only.privateFrom], [['b.example.com'], ['GONOSUMDB']]);
    const none = load({});
    assert.deepEqual([none.privatePatterns, none.privateFrom], [[], []]);
  });

  it('lets --private, else SUMKEEP_PRIVATE, replace GOPRIVATE and GONOSUMDB', () => {
    const env = { SUMKEEP_PRIVATE: 'env.example', GOPRIVATE: 'gp.example', GONOSUMDB: 'gn.example' };
    const f = load(env, { private: 'flag.example' });
    assert.deepEqual([f.privatePatterns, f.privateFrom], [['flag.example'], ['--private']]);
    const e = load(env);
    assert.deepEqual([e.privatePatterns, e.privateFrom], [['env.example'], ['SUMKEEP_PRIVATE']]);
    // An explicitly empty --private means none, whatever GOPRIVATE says.
    const empty = load(env, { private: '' });
    assert.deepEqual([empty.privatePatterns, empty.privateFrom], [[], ['--private']]);
  });

  it('trims each pattern, so the one after ", " is kept', () => {
    const c = load({}, { private: 'a.example.com, b.example.com' });
    assert.deepEqual(c.privatePatterns, ['a.example.com', 'b.example.com']);
    const g = load({ GOPRIVATE: ' a.example.com ,b.example.com/ ' });
    assert.deepEqual(g.privatePatterns, ['a.example.com', 'b.example.com']);
  });

  it('refuses a malformed pattern at start, naming it and where it came from', () => {
    assert.throws(() => load({}, { private: 'a.example.com,[oops' }), configError(/^--private: .*"\[oops"/));
    assert.throws(() => load({ SUMKEEP_PRIVATE: 'x\\' }), configError(/^SUMKEEP_PRIVATE: .*"x\\\\"/));
    assert.throws(
      () => load({ GOPRIVATE: 'ok.example', GONOSUMDB: 'b[' }),
      configError(/^GONOSUMDB: .*"b\["/),
    );
  });
});

describe('serveStartupLog', () => {
  const text = (env: Env, flags: ServeFlags = {}) =>
    serveStartupLog(load(env, flags))
      .map((l) => `${l.level} ${l.msg}`)
      .join('\n');

  it('says there is no upstream, and where that came from', () => {
    assert.match(text({ GOPROXY: 'off' }), /^info no upstream \(GOPROXY\): .*answer 404/m);
    assert.match(text({}, { upstream: 'off' }), /^info no upstream \(--upstream\)/m);
  });

  it('says when the public proxy is the default', () => {
    assert.match(
      text({}),
      /^info upstream https:\/\/proxy\.golang\.org \(default: none of --upstream, SUMKEEP_UPSTREAM, GOPROXY is set\)$/m,
    );
  });

  it('shows the list in effect with its separators, where it came from, and no credentials', () => {
    const t = text({ GOPROXY: 'https://bot:s3cr3t@a.example|https://b.example,direct' });
    assert.match(t, /^info upstream https:\/\/a\.example\|https:\/\/b\.example \(GOPROXY; .*direct/m);
    assert.doesNotMatch(t, /s3cr3t|bot/);
  });

  it('shows the private patterns in effect and where they came from', () => {
    assert.match(
      text({ GOPRIVATE: 'a.example.com', GONOSUMDB: 'b.example.com' }),
      /^info private patterns a\.example\.com,b\.example\.com \(GOPRIVATE and GONOSUMDB\)/m,
    );
    assert.match(text({}), /^info private patterns: none/m);
  });

  it('warns about a pattern that had white space around it (the go command does not trim)', () => {
    assert.match(
      text({}, { private: 'a.example.com, b.example.com' }),
      /^warn --private pattern " b\.example\.com" has white space around it/m,
    );
  });
});

describe('loadServeConfig: --metrics-listen', () => {
  it('is off by default, read from the flag or SUMKEEP_METRICS_LISTEN, and checked like --listen', () => {
    assert.equal(load({}).metricsListen, null);
    assert.deepEqual(load({}, { metricsListen: '127.0.0.1:9464' }).metricsListen, {
      host: '127.0.0.1',
      port: 9464,
    });
    assert.deepEqual(load({ SUMKEEP_METRICS_LISTEN: '[::1]:0' }).metricsListen, { host: '::1', port: 0 });
    assert.deepEqual(
      load({ SUMKEEP_METRICS_LISTEN: '127.0.0.1:1' }, { metricsListen: '127.0.0.2:2' }).metricsListen,
      { host: '127.0.0.2', port: 2 },
      'the flag wins',
    );
    assert.throws(
      () => load({}, { metricsListen: 'nowhere' }),
      configError(/^--metrics-listen "nowhere": want <host>:<port>/),
    );
  });
});
