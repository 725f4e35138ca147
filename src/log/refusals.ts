/**
 * The one mapping from a refusal error to its `sumkeep_refused_total{reason}` label. Every
 * refusal code of src/core/errors.ts (isRefusal) plus policy_denied has a label; the set is open:
 * a code added later gets its own code as label until it is named here.
 *
 * Labels:
 *   - a broken zip rule (src/zip/rules.ts ZIP_RULES): the rule in snake case, e.g. "path_traversal",
 *     "case_fold_collision", "go_mod_too_large" (the rule is read with ruleOf from the first error
 *     of the cause chain whose message starts "<rule>: ", since the upstream wraps it);
 *   - "too_large": a .mod or .zip over the upstream size limit (too_large anywhere in the chain);
 *   - "module_mismatch", "private_module", "crosscheck_mismatch", "crosscheck_missing": the code;
 *   - "policy": policy_denied;
 *   - "invalid_zip": an invalid_zip that names no known rule.
 */
import { isRefusal, isSumkeepError, type SumkeepError } from '../core/errors.ts';
import { ruleOf, type ZipRule } from '../zip/rules.ts';

/** "case-fold collision" → "case_fold_collision", "LICENSE too large" → "license_too_large". */
export function ruleLabel(rule: ZipRule): string {
  return rule.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}

/** The errors of `e`'s cause chain that are SumkeepErrors, `e` first (bounded: causes can loop). */
function chain(e: SumkeepError): SumkeepError[] {
  const out: SumkeepError[] = [];
  let c: unknown = e;
  while (isSumkeepError(c) && out.length < 8 && !out.includes(c)) {
    out.push(c);
    c = c.cause;
  }
  return out;
}

/** The label of refusal `e`, or null when `e` is no refusal (see the file comment). */
export function refusalReason(e: unknown): string | null {
  if (!isSumkeepError(e)) return null;
  if (e.code === 'policy_denied') return 'policy';
  if (!isRefusal(e)) return null;
  if (e.code !== 'invalid_zip') return e.code;
  const errors = chain(e);
  if (errors.some((c) => c.code === 'too_large')) return 'too_large';
  for (const c of errors) {
    if (c.code !== 'invalid_zip') continue;
    const rule = ruleOf(c);
    if (rule !== null) return ruleLabel(rule);
  }
  return 'invalid_zip';
}
