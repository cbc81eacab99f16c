/**
 * The role behind an IRSA annotation: its ARN (parsed strictly), whether it exists and is
 * readable, whether it is in another account, what its trust policy grants this service
 * account today, and how long the policy becomes once podid adds the Pod Identity statement.
 * ARN parsing, trust matching and IAM's length measure come from core/arn, core/trust and
 * core/policy; this module only turns their results into findings.
 */
import { parseRoleArn } from '../arn.js';
import type { RoleArn } from '../arn.js';
import { addPodIdentityTrust, admitsRequests, parsePolicyOnce, podIdentityRequests, policyLength } from '../policy/index.js';
import type { PodIdentitySubject, TrustPolicy } from '../policy/index.js';
import { analyzeTrustIn, trustView } from '../trust.js';
import type { TrustAnalysis, TrustView } from '../trust.js';
import type { Finding, RoleRef, TrustReport } from './inventory.js';
import type { ClusterSnapshot, FleetSnapshot, RoleSnapshot } from './snapshot.js';
import { permissionsBoundaryFinding, podIdentityBreadthFindings, trustShapeFindings } from './analyze-extra.js';
import { arnFinding, finding } from './findings.js';

export interface RoleAnalysis {
  role: RoleRef;
  /** The parsed ARN when usable. */
  parsed: RoleArn | null;
  trust: TrustReport;
  findings: Finding[];
}

export interface RoleContext {
  cluster: ClusterSnapshot;
  namespace: string;
  serviceAccount: string;
  /** The annotation value as written. */
  annotation: string;
  audience: string | null;
  roles: FleetSnapshot['roles'];
  limit: number;
  /**
   * Every scanned service account (in a cluster of the role's account) annotated with this role:
   * a plan admits them all, so the length after is measured for all of them.
   */
  subjectsUsingRole: readonly PodIdentitySubject[];
  /** The service account's existing association disables session tags (its id). */
  sessionTagsDisabledBy?: string;
  /** OIDC issuers of every scanned cluster: trusting them is sharing, not stale trust. */
  fleetIssuers?: readonly string[];
}

/** Looks a role up by its normalised ARN, falling back to the ARN as written. */
export function lookupRole(roles: FleetSnapshot['roles'], normalised: string, written: string): RoleSnapshot | undefined {
  return roles[normalised] ?? roles[written] ?? roles[written.trim()];
}

const NO_ISSUERS: readonly string[] = [];

function unknownTrust(limit: number): TrustReport {
  return { irsa: 'unknown', irsaStatements: [], podIdentity: 'unknown', length: null, lengthAfter: null, limit };
}

export function analyzeRole(ctx: RoleContext): RoleAnalysis {
  const { cluster, annotation, limit } = ctx;
  const result = parseRoleArn(annotation, { region: cluster.region });
  if (!result.ok) {
    return {
      role: { arn: annotation.trim() === '' ? annotation : annotation.trim(), account: null, name: null, path: null, state: 'invalid', crossAccount: false },
      parsed: null,
      trust: unknownTrust(limit),
      findings: result.issues.map(arnFinding),
    };
  }

  const parsed = result.arn;
  const findings = result.findings.map(arnFinding);
  const crossAccount = parsed.account !== cluster.account;
  const snap = lookupRole(ctx.roles, parsed.arn, annotation);
  const state: RoleRef['state'] = snap?.state ?? 'unreadable';
  const role: RoleRef = { arn: parsed.arn, account: parsed.account, name: parsed.name, path: parsed.path, state, crossAccount };

  if (crossAccount) {
    findings.push(finding('ROLE_CROSS_ACCOUNT', { role: parsed.arn, roleAccount: parsed.account, clusterAccount: cluster.account, readable: state === 'found' }));
  } else if (state === 'missing') {
    findings.push(finding('ROLE_NOT_FOUND', { role: parsed.arn, detail: snap?.error ?? null }));
  } else if (state === 'unreadable') {
    findings.push(finding('ROLE_UNREADABLE', { role: parsed.arn, detail: snap?.error ?? 'the scan did not fetch it' }));
  }
  if (snap?.state !== 'found') return { role, parsed, trust: unknownTrust(limit), findings };
  const boundary = permissionsBoundaryFinding(snap, parsed.arn);
  if (boundary !== null) findings.push(boundary);

  if (snap.trustPolicy === null) {
    if (snap.error !== null) findings.push(finding('TRUST_POLICY_INVALID', { role: parsed.arn, detail: snap.error }));
    return { role, parsed, trust: unknownTrust(limit), findings };
  }
  const parsedPolicy = parsePolicyOnce(snap.trustPolicy);
  if (!parsedPolicy.ok) {
    findings.push(finding('TRUST_POLICY_INVALID', { role: parsed.arn, detail: parsedPolicy.error }));
    return { role, parsed, trust: unknownTrust(limit), findings };
  }
  const policy = parsedPolicy.policy;

  const trust = analyzePolicy(ctx, parsed, crossAccount, policy, findings);
  return { role, parsed, trust, findings };
}

/*
 * A role's trust policy is the same document for every service account annotated with it (a
 * fleet has thousands of those per shared role), and what follows from the document alone is
 * computed once per document: its parse (parsePolicyOnce), its length, and the length after
 * adding every subject using the role. Keyed by object identity (the snapshot's document, the
 * parsed policy, the subjects list analyzeFleet builds once per role), so entries live as long
 * as the scan does. The parsed policy is shared read-only: nothing in the analysis mutates a
 * TrustPolicy (addPodIdentityTrust returns a new one).
 */
const lengthsAfter = new WeakMap<TrustPolicy, WeakMap<readonly PodIdentitySubject[], Map<string, { lengthAfter: number | null; edits: boolean }>>>();

/** policyLength remembers a model's length (serialize.ts): asked per service account, measured once. */
const cachedLength = policyLength;

/** The policy's length once podid admits `subjects`, and whether that edits it; null when podid would refuse the edit. */
function lengthAfterAdding(policy: TrustPolicy, partition: string, clusterAccount: string, subjects: readonly PodIdentitySubject[]): { lengthAfter: number | null; edits: boolean } {
  const compute = () => {
    try {
      const edit = addPodIdentityTrust(policy, { partition, clusterAccount, subjects });
      return { lengthAfter: cachedLength(edit.policy), edits: edit.change !== 'none' };
    } catch {
      // An edit podid would refuse (e.g. a malformed cluster ARN) has no length to report.
      return { lengthAfter: null, edits: false };
    }
  };
  let bySubjects = lengthsAfter.get(policy);
  if (bySubjects === undefined) lengthsAfter.set(policy, (bySubjects = new WeakMap()));
  let byTarget = bySubjects.get(subjects);
  if (byTarget === undefined) bySubjects.set(subjects, (byTarget = new Map()));
  const key = `${partition}\u0000${clusterAccount}`;
  let hit = byTarget.get(key);
  if (hit === undefined) byTarget.set(key, (hit = compute()));
  return hit;
}

/**
 * What depends on the document and the cluster but not on the service account, computed once
 * per role and cluster (a shared role is trusted by every cluster of the fleet): the trust view
 * analyzeTrust reads (per account it is read for: the cluster's, and a cross-account role's own)
 * and trustShapeFindings (by role ARN, which also fixes the accounts: the cluster's and the
 * role's). Keyed by object identity (the parsed policy, the snapshot's cluster, the fleet's
 * issuer list analyzeFleet builds once), so no key is built per service account. Shared
 * read-only, like the parsed policy: nothing mutates a view or a Finding (the allowlist copies).
 */
interface RoleClusterFacts {
  views: Map<string, TrustView>;
  shapes: Map<string, Finding[]>;
  fleetIssuers: readonly string[];
}

const roleClusterFacts = new WeakMap<TrustPolicy, WeakMap<ClusterSnapshot, RoleClusterFacts>>();

function factsOf(policy: TrustPolicy, cluster: ClusterSnapshot, fleetIssuers: readonly string[]): RoleClusterFacts {
  let byCluster = roleClusterFacts.get(policy);
  if (byCluster === undefined) roleClusterFacts.set(policy, (byCluster = new WeakMap()));
  let facts = byCluster.get(cluster);
  if (facts === undefined || facts.fleetIssuers !== fleetIssuers) byCluster.set(cluster, (facts = { views: new Map(), shapes: new Map(), fleetIssuers }));
  return facts;
}

function viewOnce(facts: RoleClusterFacts, policy: TrustPolicy, cluster: ClusterSnapshot, account: string): TrustView {
  let view = facts.views.get(account);
  if (view === undefined) facts.views.set(account, (view = trustView(policy, { partition: cluster.partition, clusterAccount: account, oidcIssuer: cluster.oidcIssuer })));
  return view;
}

/**
 * trustShapeFindings, and for a role of the cluster's account podIdentityBreadthFindings (a
 * cross-account role is the association's target: it trusts the source role, not pods.eks),
 * once per role and cluster.
 */
function shapeFindingsOnce(facts: RoleClusterFacts, policy: TrustPolicy, cluster: ClusterSnapshot, role: string, roleAccount: string | null): Finding[] {
  let hit = facts.shapes.get(role);
  if (hit === undefined) {
    hit = roleAccount === null
      ? [...trustShapeFindings(policy, cluster, [cluster.account], role, facts.fleetIssuers), ...podIdentityBreadthFindings(policy, cluster, role)]
      : trustShapeFindings(policy, cluster, [cluster.account, roleAccount], role, facts.fleetIssuers);
    facts.shapes.set(role, hit);
  }
  return hit;
}

function analyzePolicy(ctx: RoleContext, parsed: RoleArn, crossAccount: boolean, policy: TrustPolicy, findings: Finding[]): TrustReport {
  const { cluster, namespace, serviceAccount, limit } = ctx;
  const subject = {
    partition: cluster.partition,
    clusterAccount: cluster.account,
    clusterArn: cluster.arn,
    oidcIssuer: cluster.oidcIssuer,
    namespace,
    serviceAccount,
    ...(ctx.audience === null ? {} : { audience: ctx.audience }),
  };
  const facts = factsOf(policy, cluster, ctx.fleetIssuers ?? NO_ISSUERS);
  const analysis = analyzeTrustIn(viewOnce(facts, policy, cluster, cluster.account), subject);
  // Cross-account IRSA trusts an OIDC provider created in the role's own account.
  const irsa = crossAccount ? analyzeTrustIn(viewOnce(facts, policy, cluster, parsed.account), { ...subject, clusterAccount: parsed.account }) : analysis;

  const irsaReport = irsaFindings(irsa, parsed.arn, cluster, findings);
  const podIdentity = podIdentityFindings(analysis, policy, parsed.arn, crossAccount, findings);
  if (ctx.sessionTagsDisabledBy !== undefined && !crossAccount) {
    // Without session tags EKS sends no aws:RequestTag/* keys: a trust scoped by them denies.
    const untagged = podIdentityRequests({ clusterArn: cluster.arn, clusterAccount: cluster.account, namespace, serviceAccount, sessionTags: false });
    if (!admitsRequests(policy.statements, [untagged.assumeRole, untagged.tagSession])) {
      findings.push(finding('ASSOCIATION_SESSION_TAGS_DISABLED', { id: ctx.sessionTagsDisabledBy, role: parsed.arn }));
    }
  }
  findings.push(...shapeFindingsOnce(facts, policy, cluster, parsed.arn, crossAccount ? parsed.account : null));
  // Which statements are NotPrincipal Allows does not depend on the subject: one analysis says.
  if (analysis.unsupportedNotPrincipalAllows.length > 0) {
    findings.push(finding('TRUST_NOT_PRINCIPAL_ALLOW', { role: parsed.arn, statements: [...analysis.unsupportedNotPrincipalAllows] }));
  }

  const length = cachedLength(policy);
  let lengthAfter: number | null = null;
  let edits = false;
  if (!crossAccount) {
    const own = { cluster: cluster.arn, namespace, serviceAccount };
    const subjects = ctx.subjectsUsingRole.some((x) => x.cluster === own.cluster && x.namespace === own.namespace && x.serviceAccount === own.serviceAccount)
      ? ctx.subjectsUsingRole
      : [...ctx.subjectsUsingRole, own];
    ({ lengthAfter, edits } = lengthAfterAdding(policy, cluster.partition, cluster.account, subjects));
  }
  // Only an edit podid would make can hit the quota: a policy IAM already holds, left as it is,
  // is never rewritten (so a --trust-policy-limit below its length changes nothing for it), and
  // a cross-account role's trust is not podid's to edit.
  if (edits && lengthAfter !== null && lengthAfter > limit) {
    findings.push(finding('TRUST_POLICY_TOO_LARGE', { role: parsed.arn, length, lengthAfter, limit }));
  }
  return { irsa: irsaReport.irsa, irsaStatements: irsaReport.statements, podIdentity, length, lengthAfter, limit };
}

const SUB_RANK = { exact: 0, wildcard: 1, unconstrained: 2, none: 3 } as const;

function irsaFindings(a: TrustAnalysis, role: string, cluster: ClusterSnapshot, findings: Finding[]): { irsa: TrustReport['irsa']; statements: number[] } {
  const admitting = a.irsaStatements.filter((s) => s.admits === 'yes');
  if (!a.grantsIrsa) {
    findings.push(finding('TRUST_NO_IRSA_GRANT', { role, reason: noGrantReason(a, cluster) }));
    return { irsa: 'none', statements: [] };
  }
  const best = [...admitting].sort((x, y) => SUB_RANK[x.subMatch] - SUB_RANK[y.subMatch])[0];
  const irsa = best === undefined || best.subMatch === 'none' ? 'none' : best.subMatch;
  if (irsa === 'wildcard') {
    const patterns = [...new Set(admitting.filter((s) => s.subMatch === 'wildcard').flatMap((s) => s.subValues))];
    findings.push(finding('TRUST_IRSA_WILDCARD', { role, patterns }));
  } else if (irsa === 'unconstrained') {
    findings.push(finding('TRUST_IRSA_UNCONSTRAINED', { role }));
  }
  return { irsa, statements: admitting.map((s) => s.index) };
}

function noGrantReason(a: TrustAnalysis, cluster: ClusterSnapshot): string {
  if (cluster.oidcIssuer === null) return 'the cluster has no OIDC issuer';
  if (a.denies.some((d) => d.blocks === 'irsa' && d.certain)) return `a Deny statement blocks it (statement ${a.denies.filter((d) => d.blocks === 'irsa').map((d) => d.index).join(', ')})`;
  if (a.irsaStatements.length === 0) return `no statement trusts this cluster's OIDC provider ${a.providerArn ?? ''}`.trimEnd();
  if (a.irsaStatements.some((s) => s.admits === 'unknown')) {
    const keys = [...new Set(a.irsaStatements.flatMap((s) => s.unknownConditionKeys))];
    return `it depends on conditions podid cannot evaluate (${keys.join(', ')})`;
  }
  if (a.irsaStatements.some((s) => s.subMatch !== 'none' && s.audMatch === 'present-mismatch')) return 'the aud condition does not admit the token audience';
  const subs = [...new Set(a.irsaStatements.flatMap((s) => s.subValues))];
  // A negated value (`not X`) reads as a list of what is admitted only with the other wording.
  if (subs.some((v) => v.startsWith('not '))) return `the sub condition (${subs.join(', ')}) does not admit ${a.subject}`;
  return `the sub condition admits ${subs.length === 0 ? 'other service accounts' : subs.join(', ')}, not ${a.subject}`;
}

/** Condition keys of an organisation (data-perimeter) guard: absent for AWS service principals. */
const ORG_GUARD_KEYS = new Set(['aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount']);

/**
 * The fix for a Deny that blocks Pod Identity. An organisation guard (a Deny conditioned on the
 * principal's organisation or account) blocks it because pods.eks.amazonaws.com, an AWS
 * service, has no organisation; the standard data-perimeter exemption for services keeps the
 * guard for everyone else. Undefined: the catalogue's generic fix.
 */
export function podIdentityDenyFix(policy: TrustPolicy, statements: readonly number[]): string | undefined {
  const guards = statements.filter((i) => policy.statements[i]?.conditions.some((c) => ORG_GUARD_KEYS.has(c.key.toLowerCase())) === true);
  if (guards.length === 0) return undefined;
  const others = statements.filter((i) => !guards.includes(i));
  return (
    `add "BoolIfExists": {"aws:PrincipalIsAWSService": "false"} to the Condition of statement ${guards.join(', ')}: ` +
    'the standard exemption that keeps the organisation guard for every principal but AWS services such as pods.eks.amazonaws.com' +
    (others.length === 0 ? '' : `; remove or narrow the Deny of statement ${others.join(', ')}`)
  );
}

function podIdentityFindings(a: TrustAnalysis, policy: TrustPolicy, role: string, crossAccount: boolean, findings: Finding[]): TrustReport['podIdentity'] {
  const statements = a.podIdentityStatements;
  const unconditioned = statements.filter((s) => s.unconditioned);
  if (unconditioned.length > 0) findings.push(finding('TRUST_POD_IDENTITY_UNCONDITIONED', { role, statements: unconditioned.map((s) => s.index) }));
  const sourceArn = statements.filter((s) => s.unknownConditionKeys.some((k) => k.toLowerCase() === 'aws:sourcearn'));
  if (sourceArn.length > 0 && !crossAccount) findings.push(finding('TRUST_POD_IDENTITY_SOURCE_ARN', { role, statements: sourceArn.map((s) => s.index) }));
  // A cross-account role is the association's target: it trusts the source role, not pods.eks.
  if (!crossAccount) {
    const denied = a.denies.filter((d) => d.blocks === 'pod-identity' && d.certain);
    if (denied.length > 0) {
      const statements = denied.map((d) => d.index);
      findings.push(finding('TRUST_POD_IDENTITY_DENIED', { role, statements }, podIdentityDenyFix(policy, statements)));
    }
  }
  if (unconditioned.length > 0) return 'unconditioned';
  if (statements.some((s) => s.admitsCluster)) {
    if (!crossAccount && a.grantsPodIdentity) findings.push(finding('TRUST_POD_IDENTITY_PRESENT', { role }));
    return 'admits-cluster';
  }
  if (statements.length === 0) return 'none';
  if (!crossAccount) findings.push(finding('TRUST_POD_IDENTITY_OTHER_CLUSTERS', { role, clusters: [...new Set(statements.flatMap((s) => s.scopedClusters))] }));
  return 'other-clusters';
}
