/**
 * Does a statement apply to a given request? A small, honest subset of IAM's evaluation: the
 * principal, the action, and every condition. A condition on a key podid does not know the
 * value of (it is not in the request's `keys`) makes the answer `unknown`, never `yes`: podid
 * must not claim a role trusts a cluster unless it can prove it.
 */
import type { PrincipalSet, PrincipalType, Statement } from './types.js';
import { actionMatches, evaluateCondition } from './conditions.js';

/** Three-valued result: `unknown` when a condition cannot be evaluated. */
export type Tri = 'yes' | 'no' | 'unknown';

export interface TrustRequest {
  readonly principal: { readonly type: PrincipalType; readonly id: string };
  readonly action: string;
  /**
   * Condition keys podid knows, by lower-cased key. `null` = known to be absent from the
   * request. A key not listed is unknown.
   */
  readonly keys: ReadonlyMap<string, string | readonly string[] | null>;
}

export interface StatementMatch {
  readonly principal: boolean;
  readonly action: boolean;
  readonly conditions: Tri;
  /** Condition keys (as written) whose value podid does not know, or whose operator it cannot evaluate. */
  readonly unknownKeys: readonly string[];
  /** principal && action && conditions. */
  readonly applies: Tri;
}

export function principalSetIncludes(set: PrincipalSet, type: PrincipalType, id: string): boolean {
  if (set.wildcard) return true;
  // `{"AWS": "*"}` names every AWS principal; it does not stand for service or federated ones.
  return set.ids[type].includes(id) || (type === 'AWS' && set.ids.AWS.includes('*'));
}

export function principalMatches(s: Statement, type: PrincipalType, id: string): boolean {
  if (s.principal !== undefined) return principalSetIncludes(s.principal, type, id);
  if (s.notPrincipal !== undefined) return !principalSetIncludes(s.notPrincipal, type, id);
  return false;
}

/** Whether the statement's Action (or NotAction) covers `action`. */
export function statementCoversAction(s: Statement, action: string): boolean {
  const listed = s.action.values.some((p) => actionMatches(p, action));
  return s.action.negated ? !listed : listed;
}

export function evaluateConditions(s: Statement, keys: TrustRequest['keys']): { result: Tri; unknownKeys: string[] } {
  let unknown = false;
  let failed = false;
  const unknownKeys: string[] = [];
  for (const c of s.conditions) {
    const lookup = c.key.toLowerCase();
    if (!keys.has(lookup)) {
      unknown = true;
      unknownKeys.push(c.key);
      continue;
    }
    const value = keys.get(lookup);
    const r = evaluateCondition(c.operator, c.values, value === null ? undefined : value);
    if (r === undefined) {
      unknown = true;
      unknownKeys.push(c.key);
    } else if (!r) {
      failed = true;
    }
  }
  return { result: failed ? 'no' : unknown ? 'unknown' : 'yes', unknownKeys };
}

/** evaluateConditions' result alone, without collecting the unknown keys (nothing allocated). */
function conditionsResult(s: Statement, keys: TrustRequest['keys']): Tri {
  let unknown = false;
  for (const c of s.conditions) {
    const lookup = c.key.toLowerCase();
    if (!keys.has(lookup)) {
      unknown = true;
      continue;
    }
    const value = keys.get(lookup);
    const r = evaluateCondition(c.operator, c.values, value === null ? undefined : value);
    if (r === undefined) unknown = true;
    else if (!r) return 'no';
  }
  return unknown ? 'unknown' : 'yes';
}

/**
 * `Allow` with `NotPrincipal`: IAM does not support that combination in a role trust policy, so
 * podid never counts such a statement as admitting anyone (it cannot prove the grant works).
 * A `Deny` with `NotPrincipal` is supported and evaluated normally.
 */
export function isNotPrincipalAllow(s: Statement): boolean {
  return s.effect === 'Allow' && s.notPrincipal !== undefined;
}

export function matchStatement(s: Statement, req: TrustRequest): StatementMatch {
  const principal = !isNotPrincipalAllow(s) && principalMatches(s, req.principal.type, req.principal.id);
  const action = statementCoversAction(s, req.action);
  const { result, unknownKeys } = evaluateConditions(s, req.keys);
  return { principal, action, conditions: result, unknownKeys, applies: principal && action ? result : 'no' };
}

/**
 * `matchStatement(s, req).applies` without building the match: the principal and the action
 * first, the conditions only when both hold (they do not change the answer otherwise).
 */
export function statementApplies(s: Statement, req: TrustRequest): Tri {
  if (isNotPrincipalAllow(s) || !principalMatches(s, req.principal.type, req.principal.id) || !statementCoversAction(s, req.action)) return 'no';
  return conditionsResult(s, req.keys);
}

/** Condition entries for a key, compared case-insensitively as IAM does. */
export function conditionsForKey(s: Statement, key: string): Statement['conditions'] {
  const k = key.toLowerCase();
  return s.conditions.filter((c) => c.key.toLowerCase() === k);
}
