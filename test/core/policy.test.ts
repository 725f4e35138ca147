/**
 * The policy (src/core/policy.ts, src/core/policy-schema.ts): what a checked document decides
 * for a module version, and the field and rule a bad document is refused with.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSumkeepError } from '../../src/core/errors.ts';
import { DEFAULT_ALLOW_REASON, deniedMessage, evaluatePolicy, OPEN_POLICY } from '../../src/core/policy.ts';
import { describePolicy, parsePolicyDocument } from '../../src/core/policy-schema.ts';

const PSEUDO = 'v1.4.1-0.20240102030405-abcdefabcdef';

describe('evaluatePolicy', () => {
  const denyOnly = parsePolicyDocument({
    deny: [
      { module: 'example.com/bad', versions: '>=v1.2.0 <v1.5.0', reason: 'CVE-2026-0001: upgrade to v1.5.0' },
      { module: '*.evil.example,github.com/evil/*', reason: 'untrusted publisher' },
      { module: 'example.com/bad', reason: 'the whole module' },
    ],
  });
  const allowList = parsePolicyDocument({
    deny: [{ module: 'corp.example.com/legacy', versions: '<v2.0.0', reason: 'legacy: use v2' }],
    allow: [{ module: 'corp.example.com' }, { module: 'golang.org/x/*', versions: '>=v0.10.0' }],
    allowReason: 'not approved; ask the platform team',
  });

  // [policy name, path, version, null = allowed, or the reason]
  const CASES: [string, string, string, string | null][] = [
    ['deny', 'example.com/bad', 'v1.2.0', 'CVE-2026-0001: upgrade to v1.5.0'],
    ['deny', 'example.com/bad', PSEUDO, 'CVE-2026-0001: upgrade to v1.5.0'],
    // The first matching rule gives the reason; a later rule still catches the rest.
    ['deny', 'example.com/bad', 'v1.5.0', 'the whole module'],
    ['deny', 'example.com/bad/sub', 'v1.0.0', 'the whole module'],
    ['deny', 'example.com/badger', 'v1.3.0', null],
    ['deny', 'a.evil.example/x', 'v0.1.0', 'untrusted publisher'],
    ['deny', 'github.com/evil/tool/v2', 'v2.0.0', 'untrusted publisher'],
    ['deny', 'github.com/good/tool', 'v1.3.0', null],
    ['allow', 'corp.example.com/svc', 'v0.0.1', null],
    ['allow', 'corp.example.com/legacy', 'v1.9.0', 'legacy: use v2'],
    ['allow', 'corp.example.com/legacy/v2', 'v2.1.0', null],
    ['allow', 'golang.org/x/mod', 'v0.10.0', null],
    ['allow', 'golang.org/x/mod', 'v0.9.0', 'not approved; ask the platform team'],
    ['allow', 'github.com/some/thing', 'v1.0.0', 'not approved; ask the platform team'],
  ];
  for (const [name, path, version, want] of CASES) {
    it(`${name}: ${path}@${version} is ${want === null ? 'allowed' : 'denied'}`, () => {
      const d = evaluatePolicy(name === 'deny' ? denyOnly : allowList, path, version);
      assert.deepEqual(d.allowed ? null : d.reason, want);
    });
  }

  it('names the deciding rule', () => {
    assert.deepEqual(evaluatePolicy(denyOnly, 'a.evil.example/x', 'v1.0.0'), {
      allowed: false,
      reason: 'untrusted publisher',
      rule: 'deny[1]',
    });
    assert.equal((evaluatePolicy(allowList, 'x.example/y', 'v1.0.0') as { rule: string }).rule, 'allow');
  });

  it('allows everything without a policy, and an empty allow list allows nothing', () => {
    assert.equal(evaluatePolicy(OPEN_POLICY, 'example.com/bad', 'v1.2.0').allowed, true);
    const none = parsePolicyDocument({ allow: [] });
    assert.deepEqual(evaluatePolicy(none, 'example.com/a', 'v1.0.0'), {
      allowed: false,
      reason: DEFAULT_ALLOW_REASON,
      rule: 'allow',
    });
  });

  it('words a denial as the go command shows it', () => {
    assert.equal(deniedMessage('CVE-1'), 'denied by policy: CVE-1');
  });
});

describe('parsePolicyDocument', () => {
  it('reads an empty document (an empty YAML file) as the open policy', () => {
    assert.deepEqual(parsePolicyDocument(null), OPEN_POLICY);
    assert.deepEqual(parsePolicyDocument({}), OPEN_POLICY);
  });

  it('trims patterns and reasons, defaults versions to every version', () => {
    const p = parsePolicyDocument({ deny: [{ module: ' a.example/x/ , b.example ', reason: '  why  ' }] });
    assert.deepEqual(p.deny[0]!.modules, ['a.example/x', 'b.example']);
    assert.equal(p.deny[0]!.reason, 'why');
    assert.equal(p.deny[0]!.versions.text, '*');
    assert.equal(describePolicy(p), '1 deny rule');
    assert.equal(
      describePolicy(parsePolicyDocument({ allow: [{ module: '*' }] })),
      '0 deny rules, allow-list of 1 rule',
    );
  });

  const rule = { module: 'example.com/a', reason: 'r' };
  // [document, the start of the message: field and rule]
  const BAD: [unknown, string][] = [
    [[], 'top level: want a mapping'],
    ['deny', 'top level: want a mapping'],
    [{ denny: [] }, 'denny: unknown field (want deny, allow, allowReason)'],
    [{ deny: {} }, 'deny: want a list of rules, not a mapping'],
    [{ deny: [5] }, 'deny[0]: want a mapping'],
    [{ deny: [rule, { reason: 'r' }] }, 'deny[1].module: required'],
    [{ deny: [{ module: 'example.com/a' }] }, 'deny[0].reason: required'],
    [{ deny: [{ ...rule, reasn: 'x' }] }, 'deny[0].reasn: unknown field (want module, versions, reason)'],
    [{ deny: [{ ...rule, reason: '' }] }, 'deny[0].reason: empty'],
    [{ deny: [{ ...rule, reason: 'two\nlines' }] }, 'deny[0].reason: one line without control characters'],
    [{ deny: [{ ...rule, reason: 'x'.repeat(301) }] }, 'deny[0].reason: longer than 300 characters'],
    [{ deny: [{ ...rule, reason: 7 }] }, 'deny[0].reason: want a string, not a number'],
    [{ deny: [{ ...rule, module: ['a'] }] }, 'deny[0].module: want a string, not a list'],
    [{ deny: [{ ...rule, module: ' , ' }] }, 'deny[0].module: no pattern'],
    [{ deny: [{ ...rule, module: 'a.example,corp.internal/[x' }] }, 'deny[0].module: pattern 2 is malformed'],
    [
      { deny: [{ ...rule, module: 'a.example b.example' }] },
      'deny[0].module: pattern 1 contains white space',
    ],
    [
      { deny: [{ ...rule, versions: '>=1.2.0' }] },
      'deny[0].versions: version range ">=1.2.0": "1.2.0" is not',
    ],
    [
      { deny: [{ ...rule, versions: '=>v1.2.0' }] },
      'deny[0].versions: version range "=>v1.2.0": unknown operator',
    ],
    [{ deny: [{ ...rule, versions: 1.2 }] }, 'deny[0].versions: want a string, not a number'],
    [{ allow: [{ module: 'a', reason: 'r' }] }, 'allow[0].reason: unknown field (want module, versions)'],
    [{ allow: [{ versions: '*' }] }, 'allow[0].module: required'],
    [{ allow: null }, 'allow: want a list of rules, not null'],
    [{ allowReason: 'x' }, 'allowReason: only with an allow list'],
    [{ allow: [], allowReason: '' }, 'allowReason: empty'],
    [{ deny: Array(10_001).fill(rule) }, 'deny: more than 10000 rules'],
  ];
  for (const [doc, want] of BAD) {
    it(`refuses with "${want}"`, () => {
      assert.throws(
        () => parsePolicyDocument(doc),
        (e) => isSumkeepError(e, 'config') && e.message.startsWith(want),
      );
    });
  }

  it('never shows a module pattern in a message (it may be a private path)', () => {
    for (const module of ['secret.corp/[x', 'secret.corp/a b', ' , ']) {
      assert.throws(
        () => parsePolicyDocument({ deny: [{ module, reason: 'r' }] }),
        (e) => isSumkeepError(e, 'config') && !e.message.includes('secret'),
      );
    }
  });
});
