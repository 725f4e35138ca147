import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goModHash } from '../../src/core/dirhash.ts';
import {
  EMPTY_GO_MOD_HASH,
  GOSUM_MAX_SHOWN,
  formatGoSumLine,
  formatRecordLines,
  parseGoSum,
  parseGoSumStrict,
  parseRecordLines,
  type GoSumLine,
} from '../../src/core/gosum.ts';
import { pick, randomString, rng } from './xmod-oracle.ts';
import { caught } from '../helpers/errors.ts';

const enc = new TextEncoder();
const H1 = goModHash(enc.encode('module example.com/a\n'));
const H2 = goModHash(enc.encode('module example.com/b\n'));
const AUTOREST = 'h1:V5VMDjClD3GiElqLWO7mz2MxNAK/vTfRHdAubSIPRgs=';

const GOOD = [
  `github.com/Azure/go-autorest v14.2.0+incompatible ${AUTOREST}`,
  `github.com/Azure/go-autorest v14.2.0+incompatible/go.mod ${H1}`,
  `golang.org/x/sys v0.0.0-20191109021931-daa7c04131f5 ${H1}`,
  `golang.org/x/sys v0.0.0-20191109021931-daa7c04131f5/go.mod ${H2}`,
  `example.com/m v1.2.4-0.20191109021931-daa7c04131f5/go.mod ${H1}`,
  `gopkg.in/yaml.v2 v2.4.0 ${H1}`,
  `gopkg.in/yaml.v2 v2.4.0/go.mod ${H2}`,
  `rsc.io/quote/v3 v3.1.0/go.mod ${H1}`,
  `example.com/m v1.0.0-rc.1 ${H2}`,
  `golang.org/toolchain v0.0.1-go1.21.0.linux-amd64 ${H1}`,
];

describe('parseGoSum', () => {
  it('reads the go command forms with 1-based line numbers, skipping blank lines', () => {
    const text = GOOD[0] + '\n\n' + GOOD.slice(1).join('\n') + '\n  \t\n';
    const { lines, invalid } = parseGoSum(text);
    assert.deepEqual(invalid, []);
    assert.equal(lines.length, GOOD.length);
    assert.deepEqual(lines[0], {
      line: 1,
      path: 'github.com/Azure/go-autorest',
      version: 'v14.2.0+incompatible',
      kind: 'zip',
      hash: AUTOREST,
    });
    assert.deepEqual(lines[1], {
      line: 3,
      path: 'github.com/Azure/go-autorest',
      version: 'v14.2.0+incompatible',
      kind: 'go.mod',
      hash: H1,
    });
    assert.equal(lines.at(-1)!.line, GOOD.length + 1);
    assert.deepEqual(parseGoSumStrict(text), lines);
  });

  it('reads a last line without a newline, and an empty text', () => {
    assert.equal(parseGoSum(GOOD[5]!).lines.length, 1);
    assert.deepEqual(parseGoSum(''), { lines: [], invalid: [] });
    assert.deepEqual(parseGoSum('\n\n'), { lines: [], invalid: [] });
  });

  const BAD: [string, string, RegExp][] = [
    ['CRLF line ending', `gopkg.in/yaml.v2 v2.4.0 ${H1}\r`, /ends in \\r/],
    ['CR in the middle', `gopkg.in/yaml.v2\rv2.4.0 ${H1}`, /carriage return/],
    ['lone CR line', '\r', /ends in \\r/],
    ['tab separator', `gopkg.in/yaml.v2\tv2.4.0 ${H1}`, /single spaces \(found U\+0009\)/],
    ['double space', `gopkg.in/yaml.v2  v2.4.0 ${H1}`, /single spaces/],
    ['leading space', ` gopkg.in/yaml.v2 v2.4.0 ${H1}`, /single spaces/],
    ['trailing space', `gopkg.in/yaml.v2 v2.4.0 ${H1} `, /single spaces/],
    ['two fields', `gopkg.in/yaml.v2 ${H1}`, /wrong number of fields 2/],
    ['four fields', `gopkg.in/yaml.v2 v2.4.0 ${H1} x`, /wrong number of fields 4/],
    ['one field', 'x', /wrong number of fields 1/],
    ['bad module path', `Gopkg.in/yaml.v2 v2.4.0 ${H1}`, /first path element/],
    ['non-canonical version', `rsc.io/quote v1.5 ${H1}`, /not canonical/],
    ['query instead of version', `rsc.io/quote latest ${H1}`, /not a semantic version/],
    ['wrong major', `gopkg.in/yaml.v2 v3.0.0 ${H1}`, /should be v2, not v3/],
    ['+incompatible with v1', `rsc.io/quote v1.5.2+incompatible ${H1}`, /compatible/],
    ['suffix other than /go.mod', `rsc.io/quote v1.5.2/go.sum ${H1}`, /not a semantic version/],
    ['bad pseudo-version time', `example.com/m v0.0.0-20191109999999-daa7c04131f5 ${H1}`, /malformed time/],
    ['h2 hash', `rsc.io/quote v1.5.2 h2:${H1.slice(3)}`, /unsupported hash algorithm h2/],
    ['hash without prefix', `rsc.io/quote v1.5.2 ${H1.slice(3)}`, /must start with h1:/],
    ['short hash', `rsc.io/quote v1.5.2 h1:AAAA`, /32 bytes/],
    ['unpadded hash', `rsc.io/quote v1.5.2 ${H1.slice(0, -1)}`, /32 bytes/],
    ['non-canonical base64', `rsc.io/quote v1.5.2 h1:${'A'.repeat(42)}B=`, /32 bytes/],
    ['url-safe base64', `rsc.io/quote v1.5.2 h1:${'_'.repeat(43)}=`, /32 bytes/],
    ['empty go.mod hash', `rsc.io/quote v1.5.2/go.mod ${EMPTY_GO_MOD_HASH}`, /old go command bug/],
    ['byte-order mark after line 1', `\ufeffrsc.io/quote v1.5.2 ${H1}`, /invalid char U\+FEFF/],
    ['lone surrogate', `rsc.io/quote\ud800 v1.5.2 ${H1}`, /invalid UTF-8/],
    ['NUL in path', `rsc.io/qu\u0000ote v1.5.2 ${H1}`, /invalid char U\+0000/],
    ['non-breaking space separator', `rsc.io/quote\u00a0v1.5.2 ${H1}`, /single spaces \(found U\+00A0\)/],
    ['ideographic space separator', `rsc.io/quote\u3000v1.5.2 ${H1}`, /single spaces \(found U\+3000\)/],
    ['vertical tab at the end', `rsc.io/quote v1.5.2 ${H1}\v`, /single spaces \(found U\+000B\)/],
    ['zero-width space is not a separator', `rsc.io/quote\u200bv1.5.2 ${H1}`, /wrong number of fields 2/],
    ['Kelvin sign in path', `example.com/\u212a v1.0.0 ${H1}`, /invalid char U\+212A/],
  ];
  for (const [name, line, re] of BAD) {
    it(`reports ${name} with its reason and line number`, () => {
      const text = `${GOOD[0]}\n${line}\n${GOOD[1]}\n`;
      const { lines, invalid } = parseGoSum(text);
      assert.equal(lines.length, 2);
      assert.deepEqual(
        lines.map((l) => l.line),
        [1, 3],
      );
      assert.equal(invalid.length, 1);
      assert.equal(invalid[0]!.line, 2);
      assert.equal(invalid[0]!.text, line);
      assert.match(invalid[0]!.reason, re);
      assert.ok(!/[\r\n]/.test(invalid[0]!.reason), 'reason is one line');
      const e = caught(() => parseGoSumStrict(text));
      assert.ok(e !== null);
      assert.equal(e.code, 'bad_gosum');
      assert.ok(e.message.startsWith('go.sum:2: '), e.message);
      assert.match(e.message, re);
    });
  }

  it('names a byte-order mark at the start of the file', () => {
    const { lines, invalid } = parseGoSum(`\ufeff${GOOD[0]}\n${GOOD[1]}`);
    assert.equal(lines.length, 1);
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0]!.line, 1);
    assert.match(invalid[0]!.reason, /^byte-order mark \(U\+FEFF\) at the start of go\.sum$/);
  });

  it('reports every bad line in lenient mode and only the first in strict mode', () => {
    const text = `x\n${GOOD[0]}\ny y\n`;
    const { invalid } = parseGoSum(text);
    assert.deepEqual(
      invalid.map((i) => i.line),
      [1, 3],
    );
    assert.match(caught(() => parseGoSumStrict(text))!.message, /^go\.sum:1: /);
  });

  it('keeps duplicate and conflicting lines for the verifier to judge', () => {
    const text = `gopkg.in/yaml.v2 v2.4.0 ${H1}\ngopkg.in/yaml.v2 v2.4.0 ${H1}\ngopkg.in/yaml.v2 v2.4.0 ${H2}\n`;
    assert.equal(parseGoSumStrict(text).length, 3);
  });

  it('cuts a megabyte line to a short excerpt without parsing it', () => {
    const long = 'example.com/' + 'a'.repeat(1 << 20) + ` v1.0.0 ${H1}`;
    const { lines, invalid } = parseGoSum(`${long}\n${GOOD[0]}`);
    assert.equal(lines.length, 1);
    assert.equal(invalid.length, 1);
    assert.match(invalid[0]!.reason, /longer than/);
    assert.equal(invalid[0]!.text.length, GOSUM_MAX_SHOWN + 3);
    assert.ok(invalid[0]!.text.endsWith('...'));
  });

  it('does not cut a surrogate pair in half in the excerpt', () => {
    const line = 'x'.repeat(GOSUM_MAX_SHOWN - 1) + '\u{1f600}' + 'y'.repeat(10);
    const { invalid } = parseGoSum(line);
    assert.equal(invalid[0]!.text, 'x'.repeat(GOSUM_MAX_SHOWN - 1) + '...');
  });

  it('throws too_large past maxLines, counting blank lines too', () => {
    const text = GOOD.join('\n\n');
    const n = GOOD.length * 2 - 1;
    assert.equal(parseGoSum(text, { maxLines: n }).lines.length, GOOD.length);
    const e = caught(() => parseGoSum(text, { maxLines: n - 1 }));
    assert.equal(e?.code, 'too_large');
    assert.equal(caught(() => parseGoSum('\n'.repeat(1_000_000), { maxLines: 10 }))?.code, 'too_large');
    assert.equal(caught(() => parseGoSum('', { maxLines: -1 }))?.code, 'bad_input');
    assert.equal(caught(() => parseGoSum('', { maxLines: Number.NaN }))?.code, 'bad_input');
  });

  it('never throws for random text, and strict mode throws only bad_gosum', () => {
    const r = rng(31);
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const n = Math.floor(r() * 80);
      for (let k = 0; k < n; k++) {
        text +=
          r() < 0.6
            ? pick(r, [
                ' ',
                '\n',
                '\r',
                '\t',
                'v1.0.0',
                'x.y/z',
                '/go.mod',
                'h1:',
                H1,
                '\u0000',
                '\ud800',
                '+incompatible',
              ])
            : String.fromCharCode(Math.floor(r() * 0x10000));
      }
      const { lines, invalid } = parseGoSum(text);
      for (const l of lines) assert.ok(l.line >= 1);
      for (const b of invalid) assert.ok(b.reason.length > 0);
      const e = caught(() => parseGoSumStrict(text));
      if (e !== null) assert.equal(e.code, 'bad_gosum');
      else assert.deepEqual(invalid, []);
    }
  });
});

describe('formatGoSumLine', () => {
  it('writes the three fields and a newline', () => {
    assert.equal(
      formatGoSumLine({
        path: 'github.com/Azure/go-autorest',
        version: 'v14.2.0+incompatible',
        kind: 'zip',
        hash: AUTOREST,
      }),
      `github.com/Azure/go-autorest v14.2.0+incompatible ${AUTOREST}\n`,
    );
    assert.equal(
      formatGoSumLine({ path: 'gopkg.in/yaml.v2', version: 'v2.4.0', kind: 'go.mod', hash: H1 }),
      `gopkg.in/yaml.v2 v2.4.0/go.mod ${H1}\n`,
    );
  });

  it('refuses what it could not parse back', () => {
    const cases: [Omit<GoSumLine, 'line'>, string][] = [
      [{ path: 'rsc.io/quote', version: 'v1.5', kind: 'zip', hash: H1 }, 'bad_version'],
      [{ path: 'rsc io', version: 'v1.5.2', kind: 'zip', hash: H1 }, 'bad_module_path'],
      [{ path: 'rsc.io/quote', version: 'v1.5.2', kind: 'zip', hash: 'h2:x' }, 'bad_gosum'],
      [{ path: 'rsc.io/quote', version: 'v1.5.2', kind: 'zip', hash: H1 + ' ' }, 'bad_gosum'],
      [{ path: 'rsc.io/quote', version: 'v1.5.2', kind: 'info' as 'zip', hash: H1 }, 'bad_gosum'],
    ];
    for (const [l, code] of cases)
      assert.equal(caught(() => formatGoSumLine(l))?.code, code, JSON.stringify(l));
  });

  it('round-trips random valid lines through parseGoSumStrict', () => {
    const r = rng(41);
    const paths = [
      'github.com/Azure/go-autorest',
      'gopkg.in/yaml.v2',
      'rsc.io/quote/v3',
      'example.com/A_b~c',
    ];
    const versionsFor: Record<string, string[]> = {
      'github.com/Azure/go-autorest': [
        'v14.2.0+incompatible',
        'v0.11.29',
        'v1.0.0-rc.1',
        'v0.0.0-20191109021931-daa7c04131f5',
      ],
      'gopkg.in/yaml.v2': ['v2.4.0', 'v2.0.0-20170812160011-eb3733d160e7'],
      'rsc.io/quote/v3': [
        'v3.1.0',
        'v3.0.0-20180709153244-3ba1a30dc83f',
        'v3.1.1-0.20191109021931-daa7c04131f5',
      ],
      'example.com/A_b~c': [
        'v1.2.4-0.20191109021931-daa7c04131f5',
        'v1.2.3-pre.0.20191109021931-daa7c04131f5',
      ],
    };
    const want: Omit<GoSumLine, 'line'>[] = [];
    for (let i = 0; i < 500; i++) {
      const path = pick(r, paths);
      const hash = goModHash(enc.encode(randomString(r, 'abc\n', 10)));
      want.push({
        path,
        version: pick(r, versionsFor[path]!),
        kind: pick(r, ['zip', 'go.mod'] as const),
        hash,
      });
    }
    const text = want.map(formatGoSumLine).join('');
    const got = parseGoSumStrict(text);
    assert.deepEqual(
      got.map(({ line: _line, ...rest }) => rest),
      want,
    );
    assert.deepEqual(
      got.map((l) => l.line),
      want.map((_, i) => i + 1),
    );
    assert.equal(got.map(formatGoSumLine).join(''), text);
  });
});

describe('formatRecordLines and parseRecordLines', () => {
  it('writes the zip line then the go.mod line, and reads them back', () => {
    const text = formatRecordLines('github.com/Azure/go-autorest', 'v14.2.0+incompatible', AUTOREST, H1);
    assert.equal(
      text,
      `github.com/Azure/go-autorest v14.2.0+incompatible ${AUTOREST}\n` +
        `github.com/Azure/go-autorest v14.2.0+incompatible/go.mod ${H1}\n`,
    );
    assert.deepEqual(parseRecordLines(text), {
      path: 'github.com/Azure/go-autorest',
      version: 'v14.2.0+incompatible',
      zipHash: AUTOREST,
      modHash: H1,
    });
  });

  it('round-trips the go command forms', () => {
    const cases: [string, string][] = [
      ['golang.org/x/sys', 'v0.0.0-20191109021931-daa7c04131f5'],
      ['example.com/m', 'v1.2.4-0.20191109021931-daa7c04131f5'],
      ['gopkg.in/yaml.v2', 'v2.4.0'],
      ['rsc.io/quote/v3', 'v3.1.0'],
      ['example.com/m', 'v1.0.0-rc.1'],
    ];
    for (const [p, v] of cases) {
      assert.deepEqual(parseRecordLines(formatRecordLines(p, v, H1, H2)), {
        path: p,
        version: v,
        zipHash: H1,
        modHash: H2,
      });
    }
  });

  const z = `rsc.io/quote v1.5.2 ${H1}\n`;
  const m = `rsc.io/quote v1.5.2/go.mod ${H2}\n`;
  const BAD: [string, string, RegExp][] = [
    ['empty', '', /newline/],
    ['no final newline', z + m.slice(0, -1), /newline/],
    ['one line', z, /want 2 lines, have 1/],
    ['three lines', z + m + m, /want 2 lines, have 3/],
    ['go.mod first', m + z, /line 1 must be the zip hash/],
    ['two zip lines', z + z, /line 2 must be the go.mod hash/],
    ['different versions', z + `rsc.io/quote v1.5.1/go.mod ${H2}\n`, /different module versions/],
    ['different paths', z + `rsc.io/quotE v1.5.2/go.mod ${H2}\n`, /different module versions/],
    ['blank line', z + '\n', /blank line/],
    ['CRLF', z.replace('\n', '\r\n') + m, /line 1: .*\\r/],
    ['bad hash', z + `rsc.io/quote v1.5.2/go.mod h1:x\n`, /line 2: .*32 bytes/],
    ['huge', 'a'.repeat(1 << 20) + '\n', /too long/],
  ];
  for (const [name, text, re] of BAD) {
    it(`refuses a record with ${name}`, () => {
      const e = caught(() => parseRecordLines(text));
      assert.equal(e?.code, 'bad_gosum');
      assert.match(e.message, /^record: /);
      assert.match(e.message, re);
    });
  }

  it('throws only SumkeepError for random records', () => {
    const r = rng(51);
    const parts = [z, m, 'rsc.io/quote', ' ', '\n', 'v1.5.2', '/go.mod', H1, '\r', '\u0000', '\udfff'];
    for (let i = 0; i < 3000; i++) {
      let text = '';
      const n = Math.floor(r() * 8);
      for (let k = 0; k < n; k++) text += pick(r, parts);
      const e = caught(() => parseRecordLines(text));
      if (e === null)
        assert.equal(
          formatRecordLines(...(Object.values(parseRecordLines(text)) as [string, string, string, string])),
          text,
        );
      else assert.equal(e.code, 'bad_gosum');
    }
  });
});
