/**
 * Finalize: once a service account runs on Pod Identity, remove ONLY its IRSA grant from the
 * role. eksctl's `--remove-oidc-provider-trust-relationship` drops every OIDC statement, other
 * clusters' included; podid edits surgically and hands anything it cannot edit without
 * touching other subjects back to a human (`needs-manual`).
 */
import { providerIssuer } from '../arn.js';
import { hasWildcard } from './conditions.js';
import { conditionsForKey, matchStatement } from './evaluate.js';
import { parseStatement } from './parse.js';
import { serviceAccountSubject, webIdentityRequest } from './requests.js';
import { withStatements } from './serialize.js';
import type { JsonObject, JsonValue, Statement, TrustPolicy } from './types.js';
import { PolicyEditError } from './types.js';

export interface OidcTrustTarget {
  /** `arn:<partition>:iam::<account>:oidc-provider/<issuer host/path>` */
  readonly providerArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The token audience (the ServiceAccount's `eks.amazonaws.com/audience`); default `sts.amazonaws.com`. */
  readonly audience?: string;
}

export interface OidcRemovalStep {
  /** Index of the statement in the input policy. */
  readonly index: number;
  readonly action: 'dropped-statement' | 'removed-subject' | 'needs-manual';
  readonly reason: string;
}

export interface RemoveOidcTrustResult {
  readonly policy: TrustPolicy;
  readonly change: 'none' | 'removed';
  readonly steps: readonly OidcRemovalStep[];
  /** Some statement still grants this service account and podid would not edit it. */
  readonly needsManual: boolean;
}

type Plan = { kind: 'drop' } | { kind: 'edit'; statement: Statement } | { kind: 'manual'; reason: string };

const EDITABLE_OPERATORS = new Set(['StringEquals', 'StringLike']);

function planFor(s: Statement, target: OidcTrustTarget, issuer: string): Plan {
  const subject = serviceAccountSubject(target.namespace, target.serviceAccount);
  const p = s.principal;
  if (p === undefined || p.wildcard) return { kind: 'manual', reason: 'the statement trusts every principal ("*" or NotPrincipal)' };
  const others = p.ids.AWS.length + p.ids.Service.length + p.ids.CanonicalUser.length + p.ids.Federated.filter((f) => f !== target.providerArn).length;
  if (others > 0) return { kind: 'manual', reason: 'the statement also trusts other principals' };
  const subs = conditionsForKey(s, `${issuer}:sub`);
  if (subs.length === 0) return { kind: 'manual', reason: 'the statement has no :sub condition, so it trusts every service account of the cluster' };
  const [sub] = subs;
  if (subs.length > 1 || sub === undefined || !EDITABLE_OPERATORS.has(sub.operator)) {
    return { kind: 'manual', reason: `the :sub condition (${subs.map((c) => c.operator).join(', ')}) is not a single StringEquals/StringLike list` };
  }
  if (sub.operator === 'StringLike' && sub.values.some(hasWildcard)) {
    return { kind: 'manual', reason: 'the :sub condition uses a wildcard that other service accounts may rely on' };
  }
  const remaining = sub.values.filter((v) => v !== subject);
  if (remaining.length === sub.values.length) return { kind: 'manual', reason: 'the statement admits this service account without naming it' };
  if (remaining.length === 0) return { kind: 'drop' };

  const raw = structuredClone(s.raw) as JsonObject;
  const block = (raw['Condition'] as JsonObject)[sub.operator] as JsonObject;
  // Keep the list shape even when one value remains: only this subject's value changes.
  block[sub.key] = remaining satisfies JsonValue;
  return { kind: 'edit', statement: parseStatement(raw) };
}

/**
 * Removes this service account's grant through `providerArn`: drops a statement that grants only
 * it, removes its value from a `:sub` list shared with other service accounts, and reports
 * wildcard or otherwise shared grants as `needs-manual`. Other providers' statements, Deny
 * statements and grants that do not admit this service account are never touched.
 */
export function removeOidcTrust(policy: TrustPolicy, target: OidcTrustTarget): RemoveOidcTrustResult {
  const issuer = providerIssuer(target.providerArn);
  if (issuer === undefined) throw new PolicyEditError(`${JSON.stringify(target.providerArn)} is not an OIDC provider ARN`);
  const request = webIdentityRequest(target);
  const steps: OidcRemovalStep[] = [];
  const next: Statement[] = [];
  for (const [index, s] of policy.statements.entries()) {
    const match = s.effect === 'Allow' ? matchStatement(s, request) : undefined;
    if (match === undefined || !match.principal || !match.action || match.conditions === 'no') {
      next.push(s);
      continue;
    }
    const plan = planFor(s, target, issuer);
    if (plan.kind === 'manual') {
      steps.push({ index, action: 'needs-manual', reason: plan.reason });
      next.push(s);
    } else if (plan.kind === 'drop') {
      steps.push({ index, action: 'dropped-statement', reason: 'the statement granted only this service account' });
    } else {
      steps.push({ index, action: 'removed-subject', reason: 'removed this service account from the :sub list' });
      next.push(plan.statement);
    }
  }

  if (next.length === 0 && policy.statements.length > 0) {
    // IAM rejects a trust policy without statements, and a role nobody can assume is not what
    // finalize means: leave the policy as it is and say why.
    const manual = steps.map((st) => (st.action === 'needs-manual' ? st : { index: st.index, action: 'needs-manual' as const, reason: 'removing it would leave the trust policy without statements' }));
    return { policy, change: 'none', steps: manual, needsManual: true };
  }
  const changed = steps.some((st) => st.action !== 'needs-manual');
  return {
    policy: changed ? withStatements(policy, next) : policy,
    change: changed ? 'removed' : 'none',
    steps,
    needsManual: steps.some((st) => st.action === 'needs-manual'),
  };
}
