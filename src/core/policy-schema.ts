/**
 * The schema of the policy file (--policy), checked on the parsed document (JSON or YAML, read at
 * the edge by src/policy/file.ts). Pure. Written out by hand: the schema is five fields deep, and
 * a message naming the field and the rule it breaks ("deny[1].versions: ...") is what an operator
 * needs; a schema library would add a dependency and generic messages.
 *
 *   deny:                       # optional list; first match denies
 *     - module: <globs>         # required: GOPRIVATE syntax, comma-separated ("*.corp.example.com,github.com/x/*")
 *       versions: <range>       # optional, default "*" (src/core/version-range.ts)
 *       reason: <text>          # required: one line, shown to clients
 *   allow:                      # optional list: present = allow-list mode
 *     - module: <globs>
 *       versions: <range>
 *   allowReason: <text>         # optional, only with allow; the reason for everything not allowed
 *
 * Unknown fields are errors (a misspelt "reasn" must not silently drop a reason), as are empty
 * reasons, reasons with control characters or over {@link MAX_REASON} characters, malformed
 * globs, and more than {@link MAX_RULES} rules. Messages name module patterns only by position:
 * a pattern may be a private module path, and a reload failure is logged.
 */
import { SumkeepError } from './errors.ts';
import { isMalformedGlob } from './module-match.ts';
import { DEFAULT_ALLOW_REASON, type DenyRule, type Policy, type PolicyMatch } from './policy.ts';
import { ANY_VERSION, parseVersionRange, type VersionRange } from './version-range.ts';

/** Longest reason: it is one line of an error the go command prints. */
export const MAX_REASON = 300;
/** Most rules in each list (every lookup walks them). */
export const MAX_RULES = 10_000;
/** Most patterns in one rule's module list. */
const MAX_PATTERNS = 100;
/** Longest single pattern (longer than any module path sumkeep looks up). */
const MAX_PATTERN_LENGTH = 1024;

const fail = (field: string, rule: string): never => {
  throw new SumkeepError('config', `${field === '' ? 'top level' : field}: ${rule}`);
};

type Obj = Record<string, unknown>;

const kindOf = (x: unknown): string =>
  x === null ? 'null' : Array.isArray(x) ? 'a list' : typeof x === 'object' ? 'a mapping' : `a ${typeof x}`;

function object(x: unknown, field: string, keys: readonly string[]): Obj {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) {
    return fail(field, `want a mapping with ${keys.join(', ')}, not ${kindOf(x)}`);
  }
  for (const k of Object.keys(x)) {
    if (keys.includes(k)) continue;
    const shown = k.length > 40 || /[^\w-]/.test(k) ? JSON.stringify(k.slice(0, 40)) : k;
    fail(field === '' ? shown : `${field}.${shown}`, `unknown field (want ${keys.join(', ')})`);
  }
  return x as Obj;
}

function string(x: unknown, field: string): string {
  if (typeof x !== 'string') return fail(field, `want a string, not ${kindOf(x)}`);
  return x;
}

function reason(x: unknown, field: string): string {
  const r = string(x, field).trim();
  if (r === '') fail(field, 'empty; say why, in one line');
  if (r.length > MAX_REASON) fail(field, `longer than ${MAX_REASON} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(r)) fail(field, 'one line without control characters');
  return r;
}

/** The module globs of a rule: GOPRIVATE syntax, each trimmed; none malformed, at least one. */
function modules(x: unknown, field: string): string[] {
  const out: string[] = [];
  const raw = string(x, field).split(',');
  if (raw.length > MAX_PATTERNS) fail(field, `more than ${MAX_PATTERNS} patterns`);
  for (let i = 0; i < raw.length; i++) {
    let glob = raw[i]!.trim();
    if (glob.endsWith('/')) glob = glob.slice(0, -1);
    if (glob === '') continue;
    const which = `pattern ${i + 1}`;
    if (glob.length > MAX_PATTERN_LENGTH)
      fail(field, `${which} is longer than ${MAX_PATTERN_LENGTH} characters`);
    if (/\s/.test(glob))
      fail(field, `${which} contains white space, which no module path has; separate patterns with ","`);
    if (isMalformedGlob(glob)) {
      fail(
        field,
        `${which} is malformed (path.Match rejects it: check its "[...]" classes and "\\" escapes)`,
      );
    }
    out.push(glob);
  }
  if (out.length === 0) fail(field, 'no pattern (write "*" for every module)');
  return out;
}

function versions(x: unknown, field: string): VersionRange {
  if (x === undefined) return ANY_VERSION;
  try {
    return parseVersionRange(string(x, field));
  } catch (e) {
    if (e instanceof SumkeepError && e.code === 'bad_input') return fail(field, e.message);
    throw e;
  }
}

function list(x: unknown, field: string): unknown[] {
  if (!Array.isArray(x)) return fail(field, `want a list of rules, not ${kindOf(x)}`);
  if (x.length > MAX_RULES) fail(field, `more than ${MAX_RULES} rules`);
  return x;
}

function match(o: Obj, field: string): PolicyMatch {
  if (o.module === undefined) fail(`${field}.module`, 'required');
  return {
    modules: modules(o.module, `${field}.module`),
    versions: versions(o.versions, `${field}.versions`),
  };
}

/**
 * Checks a parsed policy document and builds the Policy. Throws SumkeepError('config') whose
 * message starts with the field ("deny[0].reason", "allow", "allowReason") and says the rule.
 * An empty document (null: an empty YAML file) is the open policy.
 */
export function parsePolicyDocument(doc: unknown): Policy {
  if (doc === null || doc === undefined) return { deny: [], allow: null, allowReason: DEFAULT_ALLOW_REASON };
  const top = object(doc, '', ['deny', 'allow', 'allowReason']);
  const deny: DenyRule[] = [];
  if (top.deny !== undefined && top.deny !== null) {
    list(top.deny, 'deny').forEach((r, i) => {
      const field = `deny[${i}]`;
      const o = object(r, field, ['module', 'versions', 'reason']);
      const m = match(o, field);
      if (o.reason === undefined) fail(`${field}.reason`, 'required: say why, it is what clients see');
      deny.push({ ...m, reason: reason(o.reason, `${field}.reason`) });
    });
  }
  let allow: PolicyMatch[] | null = null;
  if (top.allow !== undefined) {
    allow = list(top.allow, 'allow').map((r, i) =>
      match(object(r, `allow[${i}]`, ['module', 'versions']), `allow[${i}]`),
    );
  }
  if (top.allowReason !== undefined && allow === null) {
    fail('allowReason', 'only with an allow list (allow-list mode)');
  }
  const allowReason =
    top.allowReason === undefined ? DEFAULT_ALLOW_REASON : reason(top.allowReason, 'allowReason');
  return { deny, allow, allowReason };
}

/** A one-line summary for logs, without any pattern or reason text. */
export function describePolicy(p: Policy): string {
  const deny = `${p.deny.length} deny rule${p.deny.length === 1 ? '' : 's'}`;
  return p.allow === null
    ? deny
    : `${deny}, allow-list of ${p.allow.length} rule${p.allow.length === 1 ? '' : 's'}`;
}
