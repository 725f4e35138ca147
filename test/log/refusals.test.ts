/**
 * refusalReason: the one mapping from a refusal to its sumkeep_refused_total label, for errors as
 * the zip reader, the upstream and the log layer really build them (zipError, the upstream's
 * wrapping, the log's too_large → invalid_zip), and the codes of the cross-check and the policy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';
import { refusalReason, ruleLabel } from '../../src/log/refusals.ts';
import { ZIP_RULES, zipError } from '../../src/zip/rules.ts';
import { REFUSAL_REASONS } from '../../src/http/metrics.ts';

/** How src/upstream/upstream.ts wrapFailure wraps a proxy's failure (code kept, cause kept). */
const wrapped = (e: SumkeepError) =>
  new SumkeepError(e.code, `example.com/m@v1.0.0: invalid module zip from upstream (proxy: ${e.message})`, {
    cause: e,
  });

describe('refusalReason', () => {
  it('names each zip rule, also when the upstream wrapped the error', () => {
    const labels = new Set<string>();
    for (const rule of ZIP_RULES) {
      const e = zipError(rule, 'example.com/m@v1.0.0/x', 'detail');
      assert.equal(refusalReason(e), ruleLabel(rule), rule);
      assert.equal(refusalReason(wrapped(e)), ruleLabel(rule), `${rule}, wrapped`);
      assert.match(ruleLabel(rule), /^[a-z0-9_]+$/);
      labels.add(ruleLabel(rule));
    }
    assert.equal(labels.size, ZIP_RULES.length, 'one label per rule');
    assert.equal(ruleLabel('case-fold collision'), 'case_fold_collision');
    assert.equal(ruleLabel('LICENSE too large'), 'license_too_large');
  });

  it('names an oversized upstream file too_large, as the log layer turns it into invalid_zip', () => {
    const upstream = new SumkeepError(
      'too_large',
      'example.com/m@v1.0.0: refused from upstream (proxy: @v/v1.0.0.zip is larger than 1 KiB)',
    );
    // src/log/service.ts fetchAndAdd: an oversized file is a refused module.
    const refused = new SumkeepError('invalid_zip', upstream.message, { cause: upstream });
    assert.equal(refusalReason(refused), 'too_large');
  });

  it('names module_mismatch, private modules, the cross-check and the policy by their codes', () => {
    const mismatch = new SumkeepError('module_mismatch', '@v/v1.0.0.zip: outside module prefix: x', {
      cause: zipError('outside module prefix', 'x'),
    });
    assert.equal(refusalReason(mismatch), 'module_mismatch');
    assert.equal(refusalReason(new SumkeepError('private_module', 'p')), 'private_module');
    assert.equal(refusalReason(new SumkeepError('crosscheck_mismatch', 'c')), 'crosscheck_mismatch');
    assert.equal(refusalReason(new SumkeepError('crosscheck_missing', 'c')), 'crosscheck_missing');
    assert.equal(refusalReason(new SumkeepError('policy_denied', 'denied')), 'policy');
    assert.equal(refusalReason(new SumkeepError('invalid_zip', 'no rule here')), 'invalid_zip');
  });

  it('is null for what is not a refusal', () => {
    for (const code of [
      'upstream_not_found',
      'upstream_error',
      'upstream_timeout',
      'not_found',
      'store_error',
      'crosscheck_unavailable',
      'too_large',
    ] as const) {
      assert.equal(refusalReason(new SumkeepError(code, 'x')), null, code);
    }
    assert.equal(refusalReason(new Error('path traversal: x')), null);
    assert.equal(refusalReason(undefined), null);
  });

  it('survives a cause chain that loops', () => {
    const a = new SumkeepError('invalid_zip', 'a: b');
    const b = new SumkeepError('invalid_zip', 'b: c', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(refusalReason(a), 'invalid_zip');
  });

  it('has every label it can give among the series /metrics creates at 0', () => {
    const given = [
      ...ZIP_RULES.map((r) => refusalReason(zipError(r, 'x'))),
      refusalReason(new SumkeepError('invalid_zip', 'x')),
      refusalReason(new SumkeepError('invalid_zip', 'x', { cause: new SumkeepError('too_large', 'x') })),
      ...(
        [
          'module_mismatch',
          'private_module',
          'crosscheck_mismatch',
          'crosscheck_missing',
          'policy_denied',
        ] as const
      ).map((c) => refusalReason(new SumkeepError(c, 'x'))),
    ];
    assert.deepEqual([...new Set(given)].sort(), [...REFUSAL_REASONS].sort());
  });
});
