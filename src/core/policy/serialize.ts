/**
 * Writing trust policies back, and measuring them the way IAM does.
 */
import type { JsonObject, JsonValue, Statement, TrustPolicy } from './types.js';

/**
 * The document as a JSON value: the original top-level keys in their order, with `Statement`
 * rebuilt from each statement's raw JSON. A single-object `Statement` stays an object while
 * there is exactly one statement; otherwise it becomes an array.
 */
export function policyToJson(policy: TrustPolicy): JsonObject {
  const raws: JsonValue[] = policy.statements.map((s) => s.raw as JsonObject);
  const statement: JsonValue = policy.statementForm === 'object' && raws.length === 1 && raws[0] !== undefined ? raws[0] : raws;
  const out: JsonObject = {};
  let placed = false;
  for (const [key, value] of Object.entries(policy.raw)) {
    if (key === 'Statement') {
      out[key] = statement;
      placed = true;
    } else {
      out[key] = value;
    }
  }
  if (!placed) out['Statement'] = statement;
  return out;
}

/** Canonical two-space JSON, as podid shows and stores policies. */
export function serializePolicy(policy: TrustPolicy): string {
  return JSON.stringify(policyToJson(policy), null, 2);
}

/** The compact form sent to IAM (no whitespace outside strings). */
export function serializePolicyCompact(policy: TrustPolicy): string {
  return JSON.stringify(policyToJson(policy));
}

/** A copy of `policy` with a new statement list; the statement form follows the count. */
export function withStatements(policy: TrustPolicy, statements: readonly Statement[]): TrustPolicy {
  const statementForm = policy.statementForm === 'object' && statements.length === 1 ? 'object' : 'array';
  return { ...policy, statements, statementForm };
}

function isTrustPolicy(doc: unknown): doc is TrustPolicy {
  return typeof doc === 'object' && doc !== null && 'statements' in doc && 'statementForm' in doc && 'raw' in doc;
}

/**
 * IAM's default "Role trust policy length" quota (L-C07B4B0D): 2,048 characters, raisable to
 * 8,192 (IAM User Guide, "IAM and AWS STS quotas"). --trust-policy-limit names the one in force.
 */
export const DEFAULT_TRUST_POLICY_LIMIT = 2048;

/**
 * IAM's length measure for the "Role trust policy length" quota (L-C07B4B0D, 2,048 by default):
 * IAM counts the document without whitespace, i.e. every character except whitespace outside
 * JSON strings. For a text, whitespace outside strings is removed and escapes are counted as
 * written; for a model or object, it is the length of its compact `JSON.stringify`.
 */
export function policyLength(doc: TrustPolicy | JsonObject | string): number {
  if (typeof doc === 'string') return stripWhitespaceOutsideStrings(doc).length;
  if (isTrustPolicy(doc)) return modelLength(doc);
  return JSON.stringify(doc).length;
}

/**
 * A model's length, serialised once per model: the scan measures each role's policy and its
 * edit, and the plan measures the same two again. Keyed by identity; a TrustPolicy is never
 * mutated (edits return a new one), so its length cannot change.
 */
const modelLengths = new WeakMap<TrustPolicy, number>();

function modelLength(policy: TrustPolicy): number {
  let n = modelLengths.get(policy);
  if (n === undefined) modelLengths.set(policy, (n = serializePolicyCompact(policy).length));
  return n;
}

function stripWhitespaceOutsideStrings(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}
