/**
 * Reading the policy file (src/policy/file.ts): JSON and YAML give the same policy; every problem
 * is a config error that names the file, then the field and rule (or the YAML position).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { evaluatePolicy } from '../../src/core/policy.ts';
import { loadPolicyFile, parsePolicyText } from '../../src/policy/file.ts';

const YAML = `# deny rules are tried in order
deny:
  - module: example.com/bad
    versions: ">=v1.2.0 <v1.5.0"
    reason: "CVE-2026-0001: upgrade to v1.5.0"
  - module: "*.evil.example"
    reason: untrusted publisher
allow:
  - module: example.com
  - module: golang.org/x/*
    versions: ">=v0.10.0"
allowReason: not approved
`;
const JSON_TEXT = JSON.stringify({
  deny: [
    { module: 'example.com/bad', versions: '>=v1.2.0 <v1.5.0', reason: 'CVE-2026-0001: upgrade to v1.5.0' },
    { module: '*.evil.example', reason: 'untrusted publisher' },
  ],
  allow: [{ module: 'example.com' }, { module: 'golang.org/x/*', versions: '>=v0.10.0' }],
  allowReason: 'not approved',
});

const refused = (want: string) => (e: unknown) => {
  assert.ok(isSumkeepError(e, 'config'), String(e));
  assert.ok(e.message.includes(want), `${e.message} lacks ${want}`);
  return true;
};

describe('policy file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sumkeep-policy-'));
  it.after?.(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the same policy from YAML and from JSON', () => {
    writeFileSync(join(dir, 'p.yaml'), YAML);
    writeFileSync(join(dir, 'p.json'), JSON_TEXT);
    const y = loadPolicyFile(join(dir, 'p.yaml'));
    assert.deepEqual(y, loadPolicyFile(join(dir, 'p.json')));
    assert.equal(y.deny.length, 2);
    assert.deepEqual(evaluatePolicy(y, 'example.com/bad', 'v1.3.0'), {
      allowed: false,
      reason: 'CVE-2026-0001: upgrade to v1.5.0',
      rule: 'deny[0]',
    });
    assert.equal(evaluatePolicy(y, 'example.com/good', 'v1.3.0').allowed, true);
    assert.equal(evaluatePolicy(y, 'other.example/x', 'v1.3.0').allowed, false);
  });

  it('reads JSON in a file not named .json (YAML 1.2 holds JSON)', () => {
    writeFileSync(join(dir, 'p.conf'), JSON_TEXT);
    assert.equal(loadPolicyFile(join(dir, 'p.conf')).deny.length, 2);
  });

  it('reads an empty YAML file as the open policy', () => {
    writeFileSync(join(dir, 'empty.yaml'), '# nothing yet\n');
    assert.deepEqual(loadPolicyFile(join(dir, 'empty.yaml')).deny, []);
  });

  it('names the file, the field and the rule', () => {
    writeFileSync(join(dir, 'bad.yaml'), YAML.replace('">=v1.2.0 <v1.5.0"', '">=1.2.0"'));
    assert.throws(
      () => loadPolicyFile(join(dir, 'bad.yaml')),
      refused(`${join(dir, 'bad.yaml')}: deny[0].versions: version range ">=1.2.0"`),
    );
  });

  const BAD: [string, string, string][] = [
    ['p.yaml', 'deny:\n  - module: a\n   reason: x\n', 'not valid YAML at line 3'],
    ['p.yaml', 'deny: []\ndeny: []\n', 'not valid YAML at line 2, column 1 (DUPLICATE_KEY)'],
    ['p.yaml', 'deny:\n  - module: !!binary aGVsbG8=\n    reason: x\n', 'deny[0].module: want a string'],
    ['p.yaml', 'deny:\n  - module: !custom a\n    reason: x\n', 'not valid YAML'],
    ['p.yaml', 'a: &a [1]\nb: [*a, *a]\n', 'a: unknown field'],
    ['p.json', '{"deny": [', 'not valid JSON'],
    ['p.json', '{"deny": [{"module": "a", "reason": yes}]}', 'not valid JSON'],
    ['p.json', '{"deny": [], "deny": [{}]}', 'not valid JSON at line 1, column 14 (DUPLICATE_KEY)'],
    ['p.yaml', 'deny:\n  - module: example.com/x\n', 'deny[0].reason: required'],
  ];
  for (const [name, text, want] of BAD) {
    it(`refuses ${JSON.stringify(text.slice(0, 30))}: ${want}`, () => {
      assert.throws(() => parsePolicyText(text, name), refused(want));
      assert.throws(() => parsePolicyText(text, name), refused(`${name}: `));
    });
  }

  it('says when the file cannot be read, without more of the system error than its code', () => {
    assert.throws(() => loadPolicyFile(join(dir, 'missing.yaml')), refused('cannot read the policy file'));
    assert.throws(() => loadPolicyFile(join(dir, 'missing.yaml')), refused('ENOENT'));
  });

  it('refuses a file over the size bound', () => {
    writeFileSync(join(dir, 'big.yaml'), '#'.repeat((4 << 20) + 1));
    assert.throws(() => loadPolicyFile(join(dir, 'big.yaml')), refused('larger than'));
  });
});
