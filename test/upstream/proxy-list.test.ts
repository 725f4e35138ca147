import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';
import {
  displayProxy,
  formatProxyList,
  parseProxyList,
  upstreamFromGoproxy,
} from '../../src/upstream/proxy-list.ts';

describe('parseProxyList', () => {
  const accepted: { spec: string; want: [string, 'notfound' | 'any'][] }[] = [
    { spec: 'https://proxy.example', want: [['https://proxy.example', 'notfound']] },
    { spec: 'https://proxy.example/', want: [['https://proxy.example', 'notfound']] },
    { spec: 'https://proxy.example/go///', want: [['https://proxy.example/go', 'notfound']] },
    {
      spec: 'https://a.example,https://b.example',
      want: [
        ['https://a.example', 'notfound'],
        ['https://b.example', 'notfound'],
      ],
    },
    {
      spec: 'https://a.example|https://b.example',
      want: [
        ['https://a.example', 'any'],
        ['https://b.example', 'notfound'],
      ],
    },
    {
      // The separator AFTER an entry decides how that entry falls through.
      spec: 'https://a.example,https://b.example|http://c.example:8080/p',
      want: [
        ['https://a.example', 'notfound'],
        ['https://b.example', 'any'],
        ['http://c.example:8080/p', 'notfound'],
      ],
    },
    {
      spec: ' https://a.example , , |https://b.example,',
      want: [
        ['https://a.example', 'notfound'],
        ['https://b.example', 'notfound'],
      ],
    },
    { spec: 'file:///srv/goproxy/', want: [['file:///srv/goproxy', 'notfound']] },
    { spec: 'file:///', want: [['file://', 'notfound']] },
    { spec: 'off', want: [['off', 'notfound']] },
    {
      // "off" ends the list: what follows is ignored, as by the go command.
      spec: 'https://a.example|off,https://b.example',
      want: [
        ['https://a.example', 'any'],
        ['off', 'notfound'],
      ],
    },
    // The go command's implicit https:// for host names.
    { spec: 'proxy.corp.example', want: [['https://proxy.corp.example', 'notfound']] },
    { spec: 'localhost:3000/go', want: [['https://localhost:3000/go', 'notfound']] },
    { spec: 'HTTPS://Proxy.Example/Go', want: [['https://proxy.example/Go', 'notfound']] },
    {
      spec: 'https://user:tok%40en@art.example/api/go/golang',
      want: [['https://user:tok%40en@art.example/api/go/golang', 'notfound']],
    },
  ];
  for (const { spec, want } of accepted) {
    it(`parses ${JSON.stringify(spec)}`, () => {
      const list = parseProxyList(spec);
      assert.deepEqual(
        list.map((e) => [e.url, e.fallThrough]),
        want,
      );
    });
  }

  const refused: { spec: string; match: RegExp }[] = [
    { spec: '', match: /no entries/ },
    { spec: ' , | ,', match: /no entries/ },
    { spec: 'direct', match: /must not fetch modules from version control.*GOPROXY in front/ },
    { spec: 'https://a.example,direct', match: /"direct" is not supported/ },
    { spec: 'https://a.example|direct', match: /"direct" is not supported/ },
    { spec: 'noproxy', match: /"noproxy" is not supported/ },
    { spec: 'proxy', match: /"proxy" is not supported/ },
    { spec: 'ftp://mirror.example/go', match: /scheme \(must be https, http, file\)/ },
    { spec: 'git+ssh://host/x', match: /scheme/ },
    { spec: 'https://a.example/?x=1', match: /query or fragment/ },
    { spec: 'https://a.example/#frag', match: /query or fragment/ },
    { spec: 'file://host/srv/goproxy', match: /non-path elements/ },
    { spec: '/srv/goproxy', match: /missing scheme.*file:\/\/\/srv\/goproxy/ },
    { spec: 'https://', match: /invalid proxy URL/ },
    { spec: 'x'.repeat(70_000), match: /longer than/ },
    { spec: Array.from({ length: 65 }, (_, i) => `https://p${i}.example`).join(','), match: /more than 64/ },
  ];
  for (const { spec, match } of refused) {
    it(`refuses ${JSON.stringify(spec.slice(0, 60))} with a config error`, () => {
      assert.throws(
        () => parseProxyList(spec),
        (e: unknown) => e instanceof SumkeepError && e.code === 'config' && match.test(e.message),
      );
    });
  }

  it('never echoes userinfo in its errors', () => {
    for (const spec of ['ftp://user:s3cret@host/x', 'https://user:s3cret@host/?q']) {
      assert.throws(
        () => parseProxyList(spec),
        (e: unknown) => e instanceof SumkeepError && e.code === 'config' && !/s3cret|user/.test(e.message),
      );
    }
  });
});

describe('formatProxyList', () => {
  it('prints the list with its separators and without credentials', () => {
    const list = parseProxyList('https://u:s3cret@a.example/x|file:///srv/m,https://b.example|off');
    assert.equal(formatProxyList(list), 'https://a.example/x|file:///srv/m,https://b.example|off');
    assert.equal(displayProxy(list[0]!), 'https://a.example/x');
  });
});

describe('upstreamFromGoproxy', () => {
  const CASES: [string, string, boolean][] = [
    ['https://a.example', 'https://a.example', false],
    ['https://a.example,direct', 'https://a.example', true],
    ['https://a.example|https://b.example,direct', 'https://a.example|https://b.example', true],
    // The go command ignores everything after "direct" and after "off".
    ['https://a.example,direct,https://b.example', 'https://a.example', true],
    ['https://a.example|off,https://b.example', 'https://a.example|off', false],
    ['off', 'off', false],
    ['off,direct', 'off', false],
    ['direct,off', '', true],
    [' https://a.example |, https://b.example ', 'https://a.example|https://b.example', false],
    [',', '', false],
  ];
  for (const [goproxy, spec, stoppedAtDirect] of CASES) {
    it(`reads GOPROXY=${JSON.stringify(goproxy)}`, () => {
      if (spec === '' && stoppedAtDirect) {
        assert.throws(
          () => upstreamFromGoproxy(goproxy),
          (e) =>
            e instanceof SumkeepError && e.code === 'config' && /"direct" is not supported/.test(e.message),
        );
        return;
      }
      assert.deepEqual(upstreamFromGoproxy(goproxy), { spec, stoppedAtDirect });
    });
  }
});
