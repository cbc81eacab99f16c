/**
 * Dual trust, planned per role: one `update-trust` step that admits exactly the clusters this
 * plan migrates onto the role (clusters of its unblocked service accounts and add-ons). The
 * edit itself is core/policy's `addPodIdentityTrust` (least privilege, idempotent, every other
 * statement byte-identical); this module decides which clusters to pass, measures the result
 * against the trust-policy length quota and blocks the role's items when podid cannot or must
 * not change it.
 */
import { parseRoleArn } from '../arn.js';
import { addPodIdentityTrust, matchStatement, parsePolicy, podIdentityRequests, policyLength, policyToJson } from '../policy/index.js';
import type { TrustPolicy } from '../policy/index.js';
import { lookupRole, podIdentityDenyFix } from '../scan/analyze-role.js';
import { finding } from '../scan/findings.js';
import type { Finding } from '../scan/inventory.js';
import type { ClusterSnapshot, FleetSnapshot } from '../scan/snapshot.js';
import { fingerprintTrust } from './fingerprint.js';
import type { UpdateTrustStep } from './model.js';
import { compareStrings } from '../text.js';

/** Something that needs the role to trust Pod Identity from its cluster: a service account or an add-on. */
export interface TrustDependent {
  cluster: ClusterSnapshot;
  namespace: string;
  serviceAccounts: readonly string[];
  /** Where a reason to block it goes. */
  blockers: Finding[];
}

export interface RoleTrustInput {
  /** The normalised role ARN. */
  arn: string;
  dependents: TrustDependent[];
}

const cmp = compareStrings;

export const trustStepId = (roleArn: string) => `trust:${roleArn}`;

/** The trust step for one role, or null when the role already admits every cluster (or its items are blocked). */
export function planRoleTrust(snapshot: FleetSnapshot, input: RoleTrustInput, limit: number): UpdateTrustStep | null {
  const { arn } = input;
  const blockAll = (f: Finding, deps: readonly TrustDependent[] = input.dependents) => {
    for (const d of deps) d.blockers.push(f);
  };
  const snap = lookupRole(snapshot.roles, arn, arn);
  if (snap === undefined || snap.state === 'unreadable') {
    blockAll(finding('ROLE_UNREADABLE', { role: arn, detail: snap?.error ?? 'the scan did not read it' }));
    return null;
  }
  if (snap.state === 'missing') {
    blockAll(finding('ROLE_NOT_FOUND', { role: arn, detail: snap.error }));
    return null;
  }
  if (snap.trustPolicy === null) {
    blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: snap.error ?? 'no trust policy was returned' }));
    return null;
  }
  let original: TrustPolicy;
  try {
    original = parsePolicy(snap.trustPolicy);
  } catch (err) {
    blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: err instanceof Error ? err.message : String(err) }));
    return null;
  }

  const byCluster = new Map<string, TrustDependent[]>();
  for (const d of input.dependents) byCluster.set(d.cluster.arn, [...(byCluster.get(d.cluster.arn) ?? []), d]);

  // One cluster at a time, each with its own service accounts, so a statement scoped by session
  // tags (kubernetes-namespace, ...) is judged for exactly the accounts that will use it there.
  // Later clusters extend the statement the first one added, so the result is one statement.
  let current = original;
  const admitted: string[] = [];
  for (const [clusterArn, deps] of [...byCluster].sort(([a], [b]) => cmp(a, b))) {
    const cluster = deps[0]?.cluster;
    if (cluster === undefined) continue;
    const serviceAccounts = uniqueAccounts(deps);
    let result: ReturnType<typeof addPodIdentityTrust>;
    try {
      result = addPodIdentityTrust(current, { partition: cluster.partition, clusterAccount: cluster.account, clusterArns: [clusterArn], serviceAccounts });
    } catch (err) {
      blockAll(finding('TRUST_POLICY_INVALID', { role: arn, detail: err instanceof Error ? err.message : String(err) }), deps);
      continue;
    }
    if (result.deniedClusterArns.length > 0) {
      // No Allow can override a Deny: adding one would only make the policy longer.
      const statements = denyingStatements(current, cluster);
      blockAll(finding('TRUST_POD_IDENTITY_DENIED', { role: arn, statements }, podIdentityDenyFix(current, statements)), deps);
      continue;
    }
    current = result.policy;
    admitted.push(...result.addedClusterArns);
  }
  if (admitted.length === 0) return null;

  const lengthBefore = policyLength(original);
  const lengthAfter = policyLength(current);
  if (lengthAfter > limit) {
    blockAll(
      finding(
        'TRUST_POLICY_TOO_LARGE',
        { role: arn, length: lengthBefore, lengthAfter, limit },
        `raise the "Role trust policy length" quota (Service Quotas L-C07B4B0D) and pass --trust-policy-limit, remove stale OIDC statements of deleted clusters, or split the role per workload`,
      ),
      input.dependents.filter((d) => d.blockers.length === 0),
    );
    return null;
  }

  const { change, statementIndex } = describeChange(original, current);
  const roleName = parseRoleArn(arn);
  return {
    id: trustStepId(arn),
    dependsOn: [],
    kind: 'update-trust',
    roleArn: arn,
    roleName: roleName.ok ? roleName.arn.name : arn.slice(arn.lastIndexOf('/') + 1),
    clusters: [...new Set(admitted)].sort(),
    change,
    statementIndex,
    before: structuredClone(snap.trustPolicy),
    after: policyToJson(current),
    lengthBefore,
    lengthAfter,
    limit,
    fingerprint: fingerprintTrust(snap.trustPolicy),
  };
}

function uniqueAccounts(deps: readonly TrustDependent[]): { namespace: string; serviceAccount: string }[] {
  const seen = new Map<string, { namespace: string; serviceAccount: string }>();
  for (const d of deps) for (const sa of d.serviceAccounts) seen.set(`${d.namespace}/${sa}`, { namespace: d.namespace, serviceAccount: sa });
  return [...seen.entries()].sort(([a], [b]) => cmp(a, b)).map(([, v]) => v);
}

function denyingStatements(policy: TrustPolicy, cluster: ClusterSnapshot): number[] {
  const { assumeRole, tagSession } = podIdentityRequests({ clusterArn: cluster.arn, clusterAccount: cluster.account });
  return policy.statements
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s.effect === 'Deny' && (matchStatement(s, assumeRole).applies !== 'no' || matchStatement(s, tagSession).applies !== 'no'))
    .map(({ i }) => i);
}

/**
 * Which statement changed. addPodIdentityTrust edits at most one statement per call and later
 * calls extend the statement the first one added or extended, so the whole plan changes one.
 */
export function describeChange(before: TrustPolicy, after: TrustPolicy): { change: UpdateTrustStep['change']; statementIndex: number } {
  if (after.statements.length > before.statements.length) return { change: 'added-statement', statementIndex: before.statements.length };
  const index = after.statements.findIndex((s, i) => JSON.stringify(s.raw) !== JSON.stringify(before.statements[i]?.raw));
  if (index === -1) throw new Error('planner: addPodIdentityTrust reported a change but no statement differs');
  return { change: 'extended-statement', statementIndex: index };
}
