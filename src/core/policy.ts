/**
 * The governance policy (--policy): which module versions this checksum database answers for.
 * Pure: the file is read and validated at the edge (src/policy/file.ts, ./policy-schema.ts), and
 * the log service (src/log/service.ts) asks {@link evaluatePolicy} before every lookup.
 *
 * Rules, in this order:
 *  1. deny rules, in file order: the first whose module pattern and version range both match
 *     denies the version with its reason;
 *  2. allow-list mode (an `allow` list is given): a version that no allow rule matches is denied
 *     with `allowReason`;
 *  3. anything else is allowed.
 * A deny rule wins over an allow rule: allow-list mode only narrows.
 */
import { matchAnyPrefix } from './module-match.ts';
import { inVersionRange, type VersionRange } from './version-range.ts';

export interface PolicyMatch {
  /** GOPRIVATE-syntax globs (trimmed, checked): a module matches when some path prefix matches one. */
  readonly modules: readonly string[];
  readonly versions: VersionRange;
}

export interface DenyRule extends PolicyMatch {
  /** One line, shown to clients as "denied by policy: <reason>". */
  readonly reason: string;
}

export interface Policy {
  readonly deny: readonly DenyRule[];
  /** null: no allow-list mode (everything not denied is allowed). */
  readonly allow: readonly PolicyMatch[] | null;
  /** The reason given for a version outside the allow-list. */
  readonly allowReason: string;
}

export type PolicyDecision =
  | { readonly allowed: true }
  /** `rule` says which rule decided, for logs: "deny[2]" or "allow". */
  | { readonly allowed: false; readonly reason: string; readonly rule: string };

export const DEFAULT_ALLOW_REASON = "not on this server's allow-list";

/** The policy without a --policy file: everything is allowed. */
export const OPEN_POLICY: Policy = { deny: [], allow: null, allowReason: DEFAULT_ALLOW_REASON };

const ALLOWED: PolicyDecision = { allowed: true };

function matches(m: PolicyMatch, path: string, version: string): boolean {
  return matchAnyPrefix(m.modules, path) && inVersionRange(m.versions, version);
}

/** What the policy says about path@version (both already checked as a module path and version). */
export function evaluatePolicy(policy: Policy, path: string, version: string): PolicyDecision {
  for (let i = 0; i < policy.deny.length; i++) {
    const rule = policy.deny[i]!;
    if (matches(rule, path, version)) return { allowed: false, reason: rule.reason, rule: `deny[${i}]` };
  }
  if (policy.allow !== null && !policy.allow.some((m) => matches(m, path, version))) {
    return { allowed: false, reason: policy.allowReason, rule: 'allow' };
  }
  return ALLOWED;
}

/** The one-line text clients see for a denial (the go command prints it): exactly this form. */
export function deniedMessage(reason: string): string {
  return `denied by policy: ${reason}`;
}
