/**
 * Reading the policy file of `serve --policy <file>` (at start, and again on SIGHUP). The edge of
 * the policy: the file is read and parsed here (JSON for a name ending in ".json", YAML 1.2
 * otherwise — the `yaml` package, with duplicate keys refused and aliases bounded), then checked
 * by the pure schema (src/core/policy-schema.ts).
 *
 * Every problem is a SumkeepError('config') that starts with the file name, then the field and
 * the rule: "policy.yaml: deny[1].versions: version range \">=1.2\": ...". At start it stops the
 * server (exit 2); on reload the old policy stays and the message is logged.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument, YAMLError } from 'yaml';
import { SumkeepError } from '../core/errors.ts';
import type { Policy } from '../core/policy.ts';
import { parsePolicyDocument } from '../core/policy-schema.ts';
import { fsReason } from '../fs-reason.ts';

/** Largest policy file read: far beyond MAX_RULES rules of hand-written text. */
export const MAX_POLICY_FILE = 4 << 20;

/**
 * YAML 1.2 to plain values: the core schema, or for JSON the json schema (JSON is YAML 1.2, and
 * this parser, unlike JSON.parse, refuses duplicate keys). A warning (an unknown tag, say) is an
 * error too: a policy must mean exactly what it says. Aliases are bounded (no "billion laughs").
 */
function readDocument(text: string, json: boolean): unknown {
  const d = parseDocument(text, { uniqueKeys: true, logLevel: 'silent', schema: json ? 'json' : 'core' });
  const problem = d.errors[0] ?? d.warnings[0];
  if (problem !== undefined) throw problem;
  return d.toJS({ maxAliasCount: 100 });
}

/** Parses the text of a policy file named `name` (JSON or YAML, see above), then checks it. */
export function parsePolicyText(text: string, name: string): Policy {
  const json = name.toLowerCase().endsWith('.json');
  let doc: unknown;
  try {
    doc = readDocument(text, json);
  } catch (e) {
    const what = json ? 'JSON' : 'YAML';
    if (e instanceof YAMLError) {
      const at = e.linePos?.[0];
      const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
      throw new SumkeepError('config', `${name}: not valid ${what}${where} (${e.code})`, { cause: e });
    }
    // toJS: more aliases than maxAliasCount.
    throw new SumkeepError('config', `${name}: not valid ${what} (${(e as Error).message.slice(0, 200)})`, {
      cause: e,
    });
  }
  try {
    return parsePolicyDocument(doc);
  } catch (e) {
    if (e instanceof SumkeepError && e.code === 'config') {
      throw new SumkeepError('config', `${name}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** Reads and checks the policy file at `path`. Throws SumkeepError('config') (see above). */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    if (statSync(path).size > MAX_POLICY_FILE) {
      throw new SumkeepError('config', `${path}: larger than ${MAX_POLICY_FILE} bytes`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof SumkeepError) throw e;
    throw new SumkeepError('config', `cannot read the policy file ${path}: ${fsReason(e)}`, { cause: e });
  }
  return parsePolicyText(text, path);
}
