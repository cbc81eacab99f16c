/**
 * Dual trust: during a migration the role must trust both its IRSA provider(s) and EKS Pod
 * Identity, so pods keep working whichever credentials they get. `addPodIdentityTrust` adds the
 * least-privilege Pod Identity grant (scoped to the cluster account and cluster ARNs, unlike
 * eksctl's unconditioned statement) and is idempotent: applied to its own output it changes
 * nothing. It never edits a statement other than the one it extends or appends.
 */
import { parseClusterArn } from '../arn.js';
import { matchStatement, principalMatches, statementCoversAction } from './evaluate.js';
import { parseStatement } from './parse.js';
import { ASSUME_ROLE_ACTION, POD_IDENTITY_SERVICE, TAG_SESSION_ACTION, podIdentityRequests } from './requests.js';
import { withStatements } from './serialize.js';
import type { JsonObject, JsonValue, Statement, TrustPolicy } from './types.js';
import { PolicyEditError } from './types.js';

export { removeOidcTrust } from './remove-oidc-trust.js';
export type { OidcRemovalStep, OidcTrustTarget, RemoveOidcTrustResult } from './remove-oidc-trust.js';

/** Sid of the statement podid appends (alphanumeric: some IAM policy types allow nothing else). */
export const POD_IDENTITY_SID = 'PodidPodIdentity';

export interface PodIdentityTrustTarget {
  readonly partition: string;
  readonly clusterAccount: string;
  readonly clusterArns: readonly string[];
  /**
   * The service accounts being migrated. When given, an existing statement that restricts the
   * role by session tags (e.g. `aws:RequestTag/kubernetes-namespace`) counts as admitting them
   * if it admits these, so podid does not widen a namespace-scoped trust to the whole cluster.
   */
  readonly serviceAccounts?: readonly { readonly namespace: string; readonly serviceAccount: string }[];
}

export type PodIdentityTrustChange = 'none' | 'added-statement' | 'extended-statement';

export interface AddPodIdentityTrustResult {
  readonly policy: TrustPolicy;
  readonly change: PodIdentityTrustChange;
  /** The statement added or extended; for `none`, the statement that admits every cluster if one does. */
  readonly statementIndex?: number;
  /** Cluster ARNs the change newly admits. */
  readonly addedClusterArns: readonly string[];
  /**
   * An existing Pod Identity statement without conditions: any cluster in any account can use
   * the role through an association. podid leaves it alone; the scanner should warn.
   */
  readonly existingUnconditioned: boolean;
  /** Clusters a Deny statement blocks: no Allow podid adds can make them work. */
  readonly deniedClusterArns: readonly string[];
}

/** An Allow statement granting `sts:AssumeRole` to the Pod Identity service principal. */
export function isPodIdentityGrant(s: Statement): boolean {
  return s.effect === 'Allow' && s.principal !== undefined && principalMatches(s, 'Service', POD_IDENTITY_SERVICE) && statementCoversAction(s, ASSUME_ROLE_ACTION);
}

function validateTarget(target: PodIdentityTrustTarget): string[] {
  if (target.clusterArns.length === 0) throw new PolicyEditError('addPodIdentityTrust needs at least one cluster ARN');
  const arns: string[] = [];
  for (const raw of target.clusterArns) {
    const parsed = parseClusterArn(raw);
    if (!parsed.ok) throw new PolicyEditError(`invalid cluster ARN ${JSON.stringify(raw)}: ${parsed.issues.map((i) => i.message).join('; ')}`);
    const { arn } = parsed;
    if (arn.partition !== target.partition || arn.account !== target.clusterAccount) {
      throw new PolicyEditError(
        `cluster ${arn.arn} is not in partition ${target.partition} and account ${target.clusterAccount}`,
        'a pod identity association can only use a role of the cluster account; use targetRoleArn for cross-account roles',
      );
    }
    if (!arns.includes(arn.arn)) arns.push(arn.arn);
  }
  return arns;
}

/** The AssumeRole/TagSession request pairs a cluster must be admitted for: one per migrated SA. */
function requestsFor(arn: string, target: PodIdentityTrustTarget): ReturnType<typeof podIdentityRequests>[] {
  const accounts = target.serviceAccounts ?? [];
  if (accounts.length === 0) return [podIdentityRequests({ clusterArn: arn, clusterAccount: target.clusterAccount })];
  return accounts.map((sa) => podIdentityRequests({ clusterArn: arn, clusterAccount: target.clusterAccount, namespace: sa.namespace, serviceAccount: sa.serviceAccount }));
}

function appliesToBoth(s: Statement, arn: string, target: PodIdentityTrustTarget): boolean {
  return requestsFor(arn, target).every(({ assumeRole, tagSession }) => matchStatement(s, assumeRole).applies === 'yes' && matchStatement(s, tagSession).applies === 'yes');
}

function allowed(statements: readonly Statement[], arn: string, target: PodIdentityTrustTarget): boolean {
  const allows = (req: ReturnType<typeof podIdentityRequests>['assumeRole']) => statements.some((s) => s.effect === 'Allow' && matchStatement(s, req).applies === 'yes');
  return requestsFor(arn, target).every(({ assumeRole, tagSession }) => allows(assumeRole) && allows(tagSession));
}

function denied(statements: readonly Statement[], arn: string, target: PodIdentityTrustTarget): boolean {
  return requestsFor(arn, target).some(({ assumeRole, tagSession }) =>
    statements.some((s) => s.effect === 'Deny' && (matchStatement(s, assumeRole).applies === 'yes' || matchStatement(s, tagSession).applies === 'yes')),
  );
}

/**
 * The statement's Action is exactly {sts:AssumeRole, sts:TagSession} (any case, string or list,
 * no wildcard). Covering them is not enough: extending `"Action": "sts:*"` (or a list that adds
 * sts:SetSourceIdentity) would hand the new cluster more than the two calls Pod Identity makes.
 */
function grantsExactlyPodIdentityActions(s: Statement): boolean {
  if (s.action.negated) return false;
  const wanted = [ASSUME_ROLE_ACTION.toLowerCase(), TAG_SESSION_ACTION.toLowerCase()];
  const actions = new Set(s.action.values.map((a) => a.toLowerCase()));
  return actions.size === wanted.length && wanted.every((a) => actions.has(a));
}

/**
 * A statement podid may extend: only the Pod Identity principal, exactly the two actions, and conditions
 * that are nothing but `aws:SourceAccount` = this account and one `aws:SourceArn` list of
 * concrete clusters of this account. Adding an ARN to such a list cannot widen the trust
 * beyond clusters the owner already chose to trust in the same way.
 */
function extensibleSourceArn(s: Statement, target: PodIdentityTrustTarget): { operator: string; key: string } | undefined {
  const p = s.principal;
  if (s.effect !== 'Allow' || p === undefined || p.wildcard || s.action.negated) return undefined;
  if (!p.ids.Service.every((id) => id === POD_IDENTITY_SERVICE) || p.ids.Service.length === 0) return undefined;
  if (p.ids.AWS.length + p.ids.Federated.length + p.ids.CanonicalUser.length > 0) return undefined;
  if (!grantsExactlyPodIdentityActions(s)) return undefined;
  let found: { operator: string; key: string } | undefined;
  for (const c of s.conditions) {
    const key = c.key.toLowerCase();
    if (key === 'aws:sourceaccount' && c.operator === 'StringEquals' && c.values.every((v) => v === target.clusterAccount)) continue;
    if (key !== 'aws:sourcearn' || (c.operator !== 'ArnEquals' && c.operator !== 'ArnLike') || found !== undefined) return undefined;
    const concrete = c.values.every((v) => {
      const parsed = parseClusterArn(v);
      return parsed.ok && parsed.findings.length === 0 && parsed.arn.partition === target.partition && parsed.arn.account === target.clusterAccount;
    });
    if (!concrete) return undefined;
    found = { operator: c.operator, key: c.key };
  }
  return found;
}

function extendSourceArn(s: Statement, where: { operator: string; key: string }, missing: readonly string[]): Statement {
  const raw = structuredClone(s.raw) as JsonObject;
  const condition = raw['Condition'] as JsonObject;
  const block = condition[where.operator] as JsonObject;
  const current = block[where.key];
  const existing: JsonValue[] = Array.isArray(current) ? current : current === undefined ? [] : [current];
  // Assigning to the existing key keeps its position, so only this value changes in the output.
  block[where.key] = [...existing, ...missing];
  return parseStatement(raw);
}

function uniqueSid(statements: readonly Statement[]): string {
  const taken = new Set(statements.map((s) => (s.sid ?? '').toLowerCase()));
  if (!taken.has(POD_IDENTITY_SID.toLowerCase())) return POD_IDENTITY_SID;
  for (let n = 2; ; n++) {
    const sid = `${POD_IDENTITY_SID}${n}`;
    if (!taken.has(sid.toLowerCase())) return sid;
  }
}

/** The least-privilege statement podid appends. */
export function podIdentityStatement(sid: string, clusterAccount: string, clusterArns: readonly string[]): Statement {
  const sourceArn: JsonValue = clusterArns.length === 1 && clusterArns[0] !== undefined ? clusterArns[0] : [...clusterArns];
  return parseStatement({
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_SERVICE },
    Action: [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION],
    Condition: {
      StringEquals: { 'aws:SourceAccount': clusterAccount },
      ArnEquals: { 'aws:SourceArn': sourceArn },
    },
  });
}

export function addPodIdentityTrust(policy: TrustPolicy, target: PodIdentityTrustTarget): AddPodIdentityTrustResult {
  const arns = validateTarget(target);
  const { statements } = policy;
  const account = target.clusterAccount;
  const existingUnconditioned = statements.some((s) => isPodIdentityGrant(s) && s.conditions.length === 0);
  const deniedClusterArns = arns.filter((arn) => denied(statements, arn, target));
  const missing = arns.filter((arn) => !allowed(statements, arn, target));

  if (missing.length === 0) {
    const single = statements.findIndex((s) => s.effect === 'Allow' && arns.every((arn) => appliesToBoth(s, arn, target)));
    return {
      policy,
      change: 'none',
      ...(single === -1 ? {} : { statementIndex: single }),
      addedClusterArns: [],
      existingUnconditioned,
      deniedClusterArns,
    };
  }

  for (const [index, s] of statements.entries()) {
    const where = extensibleSourceArn(s, target);
    if (where === undefined) continue;
    const next = statements.map((st, i) => (i === index ? extendSourceArn(st, where, missing) : st));
    return { policy: withStatements(policy, next), change: 'extended-statement', statementIndex: index, addedClusterArns: missing, existingUnconditioned, deniedClusterArns };
  }

  const added = podIdentityStatement(uniqueSid(statements), account, missing);
  return {
    policy: withStatements(policy, [...statements, added]),
    change: 'added-statement',
    statementIndex: statements.length,
    addedClusterArns: missing,
    existingUnconditioned,
    deniedClusterArns,
  };
}
