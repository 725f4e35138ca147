import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SumkeepError, isSumkeepError } from '../../src/core/errors.ts';
import { generateKey, newSigner, newVerifier, sign, verifierSet } from '../../src/core/note.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { parseVerifyResponse, type VerifyResponse } from '../../src/verify/response.ts';
import { exitCodeFor, formatTable, shortHash } from '../../src/verify/report.ts';
import { defaultStateFile, loadState, saveState } from '../../src/verify/state.ts';
import { parseGoSumBytes } from '../../src/verify/gosum-text.ts';

const H = 'h1:' + Buffer.alloc(32, 1).toString('base64');
const H2 = 'h1:' + Buffer.alloc(32, 2).toString('base64');

const valid: VerifyResponse = {
  tree: { size: 5, note: 'x' },
  results: [
    {
      line: 1,
      module: 'example.com/a',
      version: 'v1.0.0',
      kind: 'zip',
      hash: H,
      status: 'match',
      logged: H,
      recordId: 4,
    },
    {
      line: 3,
      module: 'example.com/a',
      version: 'v1.0.0',
      kind: 'go.mod',
      hash: H,
      status: 'mismatch',
      logged: H2,
      recordId: 4,
    },
    {
      line: 4,
      module: 'example.com/b',
      version: 'v1.0.0',
      kind: 'zip',
      hash: H,
      status: 'unknown',
      logged: null,
      recordId: null,
      reason: 'not in the log',
    },
    {
      line: 5,
      module: null,
      version: null,
      kind: null,
      hash: null,
      status: 'invalid',
      logged: null,
      recordId: null,
      reason: 'junk',
    },
  ],
  summary: { match: 1, mismatch: 1, unknown: 1, denied: 0, invalid: 1 },
};
/** The same answer with line 4 denied by the server's policy. */
const withDenied: VerifyResponse = {
  ...valid,
  results: [
    ...valid.results.slice(0, 2),
    { ...valid.results[2]!, status: 'denied', reason: 'denied by policy: CVE-2026-0001' },
    valid.results[3]!,
  ],
  summary: { match: 1, mismatch: 1, unknown: 0, denied: 1, invalid: 1 },
};
const enc = (v: unknown) => utf8(JSON.stringify(v));

describe('parseVerifyResponse', () => {
  it('reads back a valid answer', () => {
    assert.deepEqual(parseVerifyResponse(enc(valid)), valid);
  });

  it('reads back an answer with a denied line', () => {
    assert.deepEqual(parseVerifyResponse(enc(withDenied)), withDenied);
  });

  it('reads an answer without summary.denied (a server without policies) as 0 denied', () => {
    const { denied: _denied, ...old } = valid.summary;
    assert.deepEqual(parseVerifyResponse(enc({ ...valid, summary: old })), valid);
  });

  const broken: [string, unknown][] = [
    ['not an object', 5],
    ['a tree without size', { ...valid, tree: { note: '' } }],
    ['a record id outside the tree', { ...valid, tree: { size: 4, note: 'x' } }],
    ['a summary that does not count', { ...valid, summary: { ...valid.summary, match: 2 } }],
    [
      'results out of line order',
      { ...valid, results: [valid.results[1], valid.results[0], valid.results[2], valid.results[3]] },
    ],
    [
      'an unknown status',
      { ...valid, results: [{ ...valid.results[0], status: 'fine' }, ...valid.results.slice(1)] },
    ],
    [
      'a match without recordId',
      { ...valid, results: [{ ...valid.results[0], recordId: null }, ...valid.results.slice(1)] },
    ],
    [
      'an unknown with a logged hash',
      {
        ...valid,
        results: [...valid.results.slice(0, 2), { ...valid.results[2], logged: H }, valid.results[3]],
      },
    ],
    [
      'a denied line without summary.denied',
      { ...withDenied, summary: { match: 1, mismatch: 1, unknown: 0, invalid: 1 } },
    ],
    [
      'a denied line counted as unknown',
      { ...withDenied, summary: { ...withDenied.summary, denied: 0, unknown: 1 } },
    ],
    [
      'a denied line with a logged hash',
      {
        ...withDenied,
        results: [
          ...withDenied.results.slice(0, 2),
          { ...withDenied.results[2], logged: H, recordId: 1 },
          withDenied.results[3],
        ],
      },
    ],
    ['line 0', { ...valid, results: [{ ...valid.results[0], line: 0 }, ...valid.results.slice(1)] }],
  ];
  for (const [what, v] of broken) {
    it(`refuses ${what} with bad_input`, () => {
      assert.throws(
        () => parseVerifyResponse(enc(v)),
        (e) => isSumkeepError(e, 'bad_input'),
      );
    });
  }

  it('throws only SumkeepError for any corrupted byte', () => {
    const text = JSON.stringify(valid);
    for (let i = 0; i < text.length; i += 3) {
      for (const c of ['"', '{', '9', '\u0000', 'n']) {
        try {
          parseVerifyResponse(utf8(text.slice(0, i) + c + text.slice(i + 1)));
        } catch (e) {
          assert.ok(e instanceof SumkeepError, `position ${i} ${JSON.stringify(c)}: ${String(e)}`);
        }
      }
    }
  });
});

describe('exitCodeFor', () => {
  const cases: [Partial<VerifyResponse['summary']>, number][] = [
    [{}, 0],
    [{ match: 3 }, 0],
    [{ match: 3, mismatch: 1 }, 1],
    [{ mismatch: 1, unknown: 2, invalid: 1 }, 1],
    [{ match: 1, unknown: 1 }, 2],
    [{ invalid: 1 }, 2],
    // A denied line is a finding like a mismatch: 1, over unknown and invalid lines.
    [{ match: 2, denied: 1 }, 1],
    [{ denied: 1, unknown: 1, invalid: 1 }, 1],
  ];
  for (const [s, code] of cases) {
    it(`is ${code} for ${JSON.stringify(s)}`, () => {
      assert.equal(exitCodeFor({ match: 0, mismatch: 0, unknown: 0, denied: 0, invalid: 0, ...s }), code);
    });
  }
});

describe('formatTable', () => {
  it('shows one row per result, shortened hashes, reasons, and the summary', () => {
    const t = formatTable(valid).split('\n');
    assert.equal(t[0], 'LINE  MODULE@VERSION        KIND    STATUS    HASH');
    assert.equal(t[1], `1     example.com/a@v1.0.0  zip     match     ${shortHash(H)}`);
    assert.equal(
      t[2],
      `3     example.com/a@v1.0.0  go.mod  mismatch  go.sum ${shortHash(H)}  log ${shortHash(H2)}`,
    );
    assert.equal(t[3], '4     example.com/b@v1.0.0  zip     unknown   not in the log');
    assert.equal(t[4], '5     -                     -       invalid   junk');
    assert.equal(t[6], '1 match, 1 mismatch, 1 unknown, 1 invalid (log tree size 5)');
  });

  it('shows a denied line with its reason and counts it in the summary', () => {
    const t = formatTable(withDenied).split('\n');
    assert.equal(t[3], '4     example.com/b@v1.0.0  zip     denied    denied by policy: CVE-2026-0001');
    assert.equal(t[6], '1 match, 1 mismatch, 0 unknown, 1 denied, 1 invalid (log tree size 5)');
  });

  it('prints control characters of hostile reasons as spaces', () => {
    const v = {
      ...valid,
      results: [{ ...valid.results[3]!, reason: 'a\u001b[31mb\rc' }],
      summary: { match: 0, mismatch: 0, unknown: 0, denied: 0, invalid: 1 },
    };
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f]/.test(formatTable(v).replace(/\n/g, '')));
  });
});

describe('state file', () => {
  const { skey, vkey } = generateKey('sum.state.test');
  const verifiers = verifierSet([newVerifier(vkey)]);
  const head = (n: number) => {
    const note = sign(`go.sum database tree\n${n}\n${Buffer.alloc(32, n).toString('base64')}\n`, [
      newSigner(skey),
    ]);
    return { tree: { N: n, hash: new Uint8Array(32).fill(n) }, note };
  };

  it('defaults under XDG_CONFIG_HOME or ~/.config, with a safe file name', () => {
    assert.equal(
      defaultStateFile('sum.golang.org', { XDG_CONFIG_HOME: '/x' }),
      '/x/sumkeep/verify-state/sum.golang.org.latest',
    );
    assert.equal(
      defaultStateFile('../a/b', { XDG_CONFIG_HOME: '/x' }),
      '/x/sumkeep/verify-state/_._a_b.latest',
    );
    assert.match(defaultStateFile('n', {}), /\.config\/sumkeep\/verify-state\/n\.latest$/);
  });

  it('stores only a larger tree, and refuses a file of another key', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sumkeep-state-')), 'd', 'log.latest');
    assert.equal(loadState(file, verifiers), null);
    assert.ok(saveState(file, head(5), verifiers));
    assert.equal(saveState(file, head(3), verifiers), false);
    assert.equal(loadState(file, verifiers)!.tree.N, 5);
    assert.ok(saveState(file, head(9), verifiers));
    assert.match(readFileSync(file, 'utf8'), /^go\.sum database tree\n9\n/);
    const other = verifierSet([newVerifier(generateKey('sum.state.test').vkey)]);
    assert.throws(
      () => loadState(file, other),
      (e) => isSumkeepError(e, 'config') && /--state/.test(e.message),
    );
    writeFileSync(file, 'garbage');
    assert.throws(
      () => loadState(file, verifiers),
      (e) => isSumkeepError(e, 'config'),
    );
  });
});

describe('parseGoSumBytes', () => {
  it('numbers lines like the text and marks lines that are not UTF-8', () => {
    const body = Buffer.concat([
      Buffer.from(`example.com/a v1.0.0 ${H}\n`),
      Buffer.from([0xc3, 0x28, 0x0a]),
      Buffer.from(`example.com/a v1.0.0/go.mod ${H}`),
    ]);
    const p = parseGoSumBytes(new Uint8Array(body));
    assert.deepEqual(
      p.lines.map((l) => l.line),
      [1, 3],
    );
    assert.deepEqual(p.invalid, [{ line: 2, text: '\ufffd', reason: 'invalid UTF-8' }]);
  });

  it('keeps a byte-order mark for the parser to report', () => {
    const p = parseGoSumBytes(utf8(`\ufeffexample.com/a v1.0.0 ${H}\n`));
    assert.match(p.invalid[0]!.reason, /byte-order mark/);
  });
});
