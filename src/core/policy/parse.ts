/**
 * Parsing trust policies in every shape IAM accepts and the tools around it emit: `Statement`
 * as an object or array, `Principal` as `"*"` or a map of string-or-list, `Action`/`NotAction`
 * string or list, any condition operator, keys in any order, `Sid` missing or empty.
 * Anything IAM itself would reject fails with a {@link PolicyParseError} naming the path.
 */
import type { ActionSet, ConditionEntry, Effect, JsonObject, JsonValue, PrincipalSet, PrincipalType, Statement, TrustPolicy } from './types.js';
import { PRINCIPAL_TYPES, PolicyParseError } from './types.js';
import { isJsonObject } from '../json.js';

const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Condition']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/** A mapping of the document: its values came from JSON, so they are policy's JsonValue. */
const isObject = (value: unknown): value is JsonObject => isJsonObject(value);

/**
 * Accepts a JSON text, a URL-encoded JSON text (IAM's GetRole returns the document RFC 3986
 * encoded and the SDK does not decode it), or an already parsed object.
 */
function toDocument(input: string | object): unknown {
  // Cloned so a caller mutating its object later cannot change a parsed policy's raw JSON.
  if (typeof input !== 'string') return structuredClone(input);
  let text = input.trim();
  if (/^%7B/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      throw new PolicyParseError('', 'the document looks URL-encoded but does not decode');
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new PolicyParseError('', `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * A role's trust policy document, parsed once however many times it is asked for: the scan's
 * analysis (per service account of the role) and the planner's facts (per role) read the same
 * snapshot documents. Keyed by the document's identity; the parsed policy is shared read-only
 * (nothing mutates a TrustPolicy: edits such as addPodIdentityTrust return a new one).
 */
const parsedDocuments = new WeakMap<object, { ok: true; policy: TrustPolicy } | { ok: false; error: string }>();

export function parsePolicyOnce(doc: object): { ok: true; policy: TrustPolicy } | { ok: false; error: string } {
  let hit = parsedDocuments.get(doc);
  if (hit === undefined) {
    try {
      hit = { ok: true, policy: parsePolicy(doc) };
    } catch (err) {
      hit = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    parsedDocuments.set(doc, hit);
  }
  return hit;
}

export function parsePolicy(input: string | object): TrustPolicy {
  const doc = toDocument(input);
  if (!isObject(doc)) throw new PolicyParseError('', 'the document must be a JSON object');
  for (const key of Object.keys(doc)) {
    if (!POLICY_KEYS.has(key)) throw new PolicyParseError(key, 'unknown top-level element (expected Version, Id, Statement)');
  }
  const version = doc['Version'];
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version))) {
    throw new PolicyParseError('Version', `must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(version)}`);
  }
  const id = doc['Id'];
  if (id !== undefined && typeof id !== 'string') throw new PolicyParseError('Id', 'must be a string');

  const rawStatements = doc['Statement'];
  let statements: Statement[];
  let statementForm: 'object' | 'array';
  if (isObject(rawStatements)) {
    statements = [parseStatement(rawStatements, 'Statement')];
    statementForm = 'object';
  } else if (Array.isArray(rawStatements)) {
    statements = rawStatements.map((s, i) => {
      if (!isObject(s)) throw new PolicyParseError(`Statement[${i}]`, 'a statement must be an object');
      return parseStatement(s, `Statement[${i}]`);
    });
    statementForm = 'array';
  } else {
    throw new PolicyParseError('Statement', rawStatements === undefined ? 'missing' : 'must be an object or an array of objects');
  }
  return { version, statements, statementForm, raw: doc };
}

/** Parses one statement; `path` is used in error messages only. */
export function parseStatement(raw: JsonObject, path = 'Statement'): Statement {
  for (const key of Object.keys(raw)) {
    if (key === 'Resource' || key === 'NotResource') {
      throw new PolicyParseError(`${path}.${key}`, 'a trust policy statement must not have a Resource (the role is the resource)');
    }
    if (!STATEMENT_KEYS.has(key)) throw new PolicyParseError(`${path}.${key}`, 'unknown statement element');
  }
  const sid = raw['Sid'];
  if (sid !== undefined && typeof sid !== 'string') throw new PolicyParseError(`${path}.Sid`, 'must be a string');

  const effect = raw['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw new PolicyParseError(`${path}.Effect`, `must be "Allow" or "Deny", got ${JSON.stringify(effect ?? null)}`);
  }

  const hasPrincipal = raw['Principal'] !== undefined;
  const hasNotPrincipal = raw['NotPrincipal'] !== undefined;
  if (hasPrincipal === hasNotPrincipal) {
    throw new PolicyParseError(path, hasPrincipal ? 'has both Principal and NotPrincipal' : 'needs a Principal (or NotPrincipal)');
  }
  const principal = hasPrincipal ? parsePrincipal(raw['Principal'], `${path}.Principal`) : undefined;
  const notPrincipal = hasNotPrincipal ? parsePrincipal(raw['NotPrincipal'], `${path}.NotPrincipal`) : undefined;

  const hasAction = raw['Action'] !== undefined;
  const hasNotAction = raw['NotAction'] !== undefined;
  if (hasAction === hasNotAction) {
    throw new PolicyParseError(path, hasAction ? 'has both Action and NotAction' : 'needs an Action (or NotAction)');
  }
  const actionKey = hasAction ? 'Action' : 'NotAction';
  const action: ActionSet = { negated: !hasAction, values: stringList(raw[actionKey], `${path}.${actionKey}`) };

  const conditions = raw['Condition'] === undefined ? [] : parseConditions(raw['Condition'], `${path}.Condition`);
  return { sid, effect: effect satisfies Effect, principal, notPrincipal, action, conditions, raw };
}

function stringList(value: JsonValue | undefined, path: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (typeof v !== 'string') throw new PolicyParseError(`${path}[${i}]`, 'must be a string');
      return v;
    });
  }
  throw new PolicyParseError(path, 'must be a string or an array of strings');
}

function parsePrincipal(value: JsonValue | undefined, path: string): PrincipalSet {
  const ids: Record<PrincipalType, string[]> = { AWS: [], Service: [], Federated: [], CanonicalUser: [] };
  if (value === '*') return { wildcard: true, ids };
  if (!isObject(value)) throw new PolicyParseError(path, 'must be "*" or an object of AWS, Service, Federated or CanonicalUser');
  for (const [type, ids_] of Object.entries(value)) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
      throw new PolicyParseError(`${path}.${type}`, 'unknown principal type (expected AWS, Service, Federated or CanonicalUser)');
    }
    ids[type as PrincipalType] = stringList(ids_, `${path}.${type}`);
  }
  return { wildcard: false, ids };
}

function conditionValue(value: JsonValue, path: string): string {
  // IAM accepts JSON numbers and booleans in conditions (NumericLessThan 3600, Bool true); they
  // compare as their string form.
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new PolicyParseError(path, 'must be a string, number or boolean');
}

function parseConditions(value: JsonValue, path: string): ConditionEntry[] {
  if (!isObject(value)) throw new PolicyParseError(path, 'must be an object of condition operators');
  const entries: ConditionEntry[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const opPath = `${path}.${operator}`;
    if (!isObject(block)) throw new PolicyParseError(opPath, 'must be an object of condition keys');
    for (const [key, raw] of Object.entries(block)) {
      const keyPath = `${opPath}.${key}`;
      const values = Array.isArray(raw) ? raw.map((v, i) => conditionValue(v, `${keyPath}[${i}]`)) : [conditionValue(raw, keyPath)];
      entries.push({ operator, key, values });
    }
  }
  return entries;
}
