/**
 * Dual trust, planned per role: one `update-trust` step that admits, through Pod Identity,
 * exactly the service accounts this plan migrates onto the role (its unblocked service accounts
 * and add-on service accounts), each of which the role's IRSA trust admits today. The edit is
 * core/policy's `addPodIdentityTrust` (session-tag scoped, exact, idempotent, every other
 * statement byte-identical); this module checks that every subject is proven (its IRSA twin is
 * admitted), proves the result admits nobody else (`checkNoWidening`), measures it against the
 * trust-policy length quota, and blocks the role's items when podid cannot or must not change it.
 */
import { parseRoleArn } from '../arn.js';
import {
  addPodIdentityTrust, admitsIrsaTwin, checkNoWidening, irsaAudiences, deniesRequests, policyLength, policyToJson, roleAccess, statementApplies, subjectKey, subjectRequests,
} from '../policy/index.js';
import type { AccessCluster, PodIdentitySubject, TrustPolicy } from '../policy/index.js';
import { podIdentityDenyFix } from '../scan/analyze-role.js';
import { finding } from '../scan/findings.js';
import type { Finding } from '../scan/inventory.js';
import { planningRole } from '../scan/planning.js';
import type { PlanningFacts } from '../scan/planning.js';
import { fingerprintTrust } from './fingerprint.js';
import type { UpdateTrustStep } from './model.js';
import { compareStrings } from '../text.js';

/** Something that needs the role to trust Pod Identity from its cluster: a service account or an add-on. */
/** A cluster as the trust checks need it: its report's identity and the analysis' access view. */
export interface TrustCluster {
  arn: string;
  name: string;
  account: string;
  partition: string;
  access: AccessCluster;
}

export interface TrustDependent {
  cluster: TrustCluster;
  namespace: string;
  serviceAccounts: readonly string[];
  /** Where a reason to block it goes. */
  blockers: Finding[];
}

export interface RoleTrustInput {
  /** The normalised role ARN. */
  arn: string;
  dependents: TrustDependent[];
  /** The role is the --cross-account-source-role: its subjects are justified by their target roles, not by its own IRSA trust. */
  crossAccountSource?: boolean;
}

const cmp = compareStrings;

export const trustStepId = (roleArn: string) => `trust:${roleArn}`;

export function planRoleTrust(planning: PlanningFacts, input: RoleTrustInput, limit: number): UpdateTrustStep | null {
  const { arn } = input;
  const blockAll = (f: Finding, deps: readonly TrustDependent[] = input.dependents) => {
    for (const d of deps) d.blockers.push(f);
  };
  const snap = planningRole(planning, arn, arn);
  if (snap === undefined || snap.state === 'unreadable') {
    blockAll(finding('ROLE_UNREADABLE', { role: arn, detail: snap?.error ?? 'the scan did not read it' }));
    return null;
  }
  if (snap.state === 'missing') {
    blockAll(finding('ROLE_NOT_FOUND', { role: arn, detail: snap.error }));
    return null;
  }
  if (snap.trustPolicy === null || snap.parsed === null) {
    blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: snap.error ?? 'no trust policy was returned' }));
    return null;
  }
  if (!snap.parsed.ok) {
    blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: snap.parsed.error }));
    return null;
  }
  const original: TrustPolicy = snap.parsed.policy;

  const clusters = new Map<string, TrustCluster>();
  for (const d of input.dependents) clusters.set(d.cluster.arn, d.cluster);
  const account = input.dependents[0]?.cluster.account;
  const partition = input.dependents[0]?.cluster.partition;
  if (account === undefined || partition === undefined) return null;
  const views = [...clusters.values()].map((c) => c.access);
  const viewOf = new Map(views.map((v) => [v.arn, v]));

  // Every subject must be proven: its IRSA twin admitted by the role's trust today (or, for the
  // cross-account source role, justified by its target role). Otherwise an annotation would be
  // a way to obtain a role.
  const subjectsOf = (d: TrustDependent): PodIdentitySubject[] => d.serviceAccounts.map((sa) => ({ cluster: d.cluster.arn, namespace: d.namespace, serviceAccount: sa }));
  const live: TrustDependent[] = [];
  for (const d of input.dependents) {
    const view = viewOf.get(d.cluster.arn);
    if (view === undefined) continue;
    const audiences = view.oidcProvider === null ? undefined : irsaAudiences(original, view.oidcProvider);
    const unproven = input.crossAccountSource === true
      ? []
      : subjectsOf(d).filter((s) => !admitsIrsaTwin(original, s, view.oidcProvider, audiences) && !(d.cluster.account === account && podIdentityAlready(original, account, s)));
    if (unproven.length > 0) {
      d.blockers.push(finding('TRUST_IRSA_NOT_PROVEN', { role: arn, serviceAccounts: unproven.map((s) => `${s.namespace}/${s.serviceAccount}`), cluster: d.cluster.name }));
      continue;
    }
    const denied = subjectsOf(d).filter((s) => deniesRequests(original.statements, subjectRequests(account, s)));
    if (denied.length > 0) {
      const statements = denyingStatements(original, account, denied);
      d.blockers.push(finding('TRUST_POD_IDENTITY_DENIED', { role: arn, statements }, podIdentityDenyFix(original, statements)));
      continue;
    }
    live.push(d);
  }
  const subjects = uniqueSubjects(live.flatMap(subjectsOf));
  if (subjects.length === 0) return null;

  let result: ReturnType<typeof addPodIdentityTrust>;
  try {
    result = addPodIdentityTrust(original, { partition, clusterAccount: account, subjects });
  } catch (err) {
    blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: err instanceof Error ? err.message : String(err) }), live);
    return null;
  }
  if (result.change === 'none') return null;
  const current = result.policy;

  // The proof, independent of how the edit was made: after admits nobody but the twins.
  const proof = checkNoWidening(original, current, views, input.crossAccountSource === true ? { chained: subjects } : {});
  if (proof.problems.length > 0) {
    blockAll(finding('TRUST_WIDENING_REFUSED', { role: arn, problem: proof.problems[0] ?? '' }), live);
    return null;
  }

  const lengthBefore = policyLength(original);
  const lengthAfter = policyLength(current);
  if (lengthAfter > limit) {
    blockAll(
      finding(
        'TRUST_POLICY_TOO_LARGE',
        { role: arn, length: lengthBefore, lengthAfter, limit, subjects: result.addedSubjects.length, statements: result.added.length + result.extended.length },
        `raise the "Role trust policy length" quota (Service Quotas L-C07B4B0D) and pass --trust-policy-limit, remove stale OIDC statements of deleted clusters, migrate fewer service accounts onto the role at once (-n / --service-account), or split the role per workload`,
      ),
      live.filter((d) => d.blockers.length === 0),
    );
    return null;
  }

  const roleName = parseRoleArn(arn);
  const added = result.addedSubjects.map((s) => ({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount }));
  return {
    id: trustStepId(arn),
    dependsOn: [],
    kind: 'update-trust',
    roleArn: arn,
    roleName: roleName.ok ? roleName.arn.name : arn.slice(arn.lastIndexOf('/') + 1),
    clusters: [...new Set(added.map((s) => s.cluster))].sort(),
    subjects: added,
    basis: input.crossAccountSource === true ? 'cross-account-source' : 'irsa',
    added: [...result.added],
    extended: [...result.extended],
    before: structuredClone(snap.trustPolicy),
    after: policyToJson(current),
    access: { before: roleAccess(original), after: roleAccess(current) },
    lengthBefore,
    lengthAfter,
    limit,
    fingerprint: fingerprintTrust(snap.trustPolicy),
  };
}

function podIdentityAlready(policy: TrustPolicy, account: string, s: PodIdentitySubject): boolean {
  const requests = subjectRequests(account, s);
  return requests.every((r) => policy.statements.some((st) => st.effect === 'Allow' && statementApplies(st, r) === 'yes'));
}

function uniqueSubjects(list: readonly PodIdentitySubject[]): PodIdentitySubject[] {
  const seen = new Map<string, PodIdentitySubject>();
  for (const s of list) seen.set(subjectKey(s), s);
  return [...seen.values()].sort((a, b) => cmp(subjectKey(a), subjectKey(b)));
}

function denyingStatements(policy: TrustPolicy, account: string, subjects: readonly PodIdentitySubject[]): number[] {
  const requests = subjects.flatMap((s) => subjectRequests(account, s));
  return policy.statements
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.effect === 'Deny' && requests.some((r) => statementApplies(s, r) !== 'no'))
    .map(({ i }) => i);
}
