/**
 * `analyzeFleet`: the scan's judgement. A FleetSnapshot (raw facts the adapters read) in, an
 * Inventory (verdicts and findings, the documented JSON output and the planner's input) out.
 * Pure and deterministic: no I/O, the clock is passed in, and every list is sorted (clusters by
 * ARN, service accounts by cluster/namespace/name, add-ons by cluster/name), so the same
 * snapshot always gives byte-identical JSON.
 */
import { summariseInventory } from './summary.js';
import { AUDIENCE_ANNOTATION, DEFAULT_AUDIENCE, ROLE_ARN_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from '../annotations.js';
import { parseRoleArn } from '../arn.js';
import type { ErrorCode } from '../errors.js';
import type { AddonReport, ClusterReport, Finding, Inventory, ServiceAccountReport } from './inventory.js';
import { INVENTORY_SCHEMA_VERSION } from './inventory.js';
import { planningFacts, type PlannableInventory } from './planning.js';
import type { AddonSnapshot, AssociationSnapshot, ClusterSnapshot, FleetSnapshot, PodObject, ServiceAccountObject, UnscannedCluster, WorkloadObject } from './snapshot.js';
import { analyzeRole, lookupRole } from './analyze-role.js';
import type { PodIdentitySubject } from '../policy/index.js';
import { addonVerdict, clusterFinding, serviceAccountVerdict } from './analyze-verdict.js';
import { customTokenFileFindings, serviceAccountShapeFindings } from './analyze-extra.js';
import { analyzeWorkloads, indexCluster, isLive, ofServiceAccount, type ClusterIndex } from './analyze-workloads.js';
import { finding, sortFindings, type FindingCode } from './findings.js';
import { analyzeCluster } from './readiness.js';
import { scopeFilter, type Scope } from './scope.js';
import { compareStrings } from '../text.js';
import { isRolloutRestartable, restartAdvice, withReplicaSetOwners } from '../restart-advice.js';


/**
 * Where EKS installs the service accounts of add-ons that use IRSA. podIdentityConfiguration
 * names the service account but not its namespace, and versions without Pod Identity support
 * name nothing, so the well-known ones are listed here; others default to kube-system.
 */
const ADDON_SERVICE_ACCOUNTS: Readonly<Record<string, { namespace: string; names: readonly string[] }>> = {
  'vpc-cni': { namespace: 'kube-system', names: ['aws-node'] },
  'aws-ebs-csi-driver': { namespace: 'kube-system', names: ['ebs-csi-controller-sa'] },
  'aws-efs-csi-driver': { namespace: 'kube-system', names: ['efs-csi-controller-sa'] },
  'aws-mountpoint-s3-csi-driver': { namespace: 'kube-system', names: ['s3-csi-driver-sa'] },
  'amazon-cloudwatch-observability': { namespace: 'amazon-cloudwatch', names: ['cloudwatch-agent'] },
};

export interface AnalyzeOptions {
  now: Date;
  toolVersion?: string;
}

function irsaAddons(c: ClusterSnapshot): AddonSnapshot[] {
  return c.addons.filter((a) => a.serviceAccountRoleArn !== null);
}

function addonServiceAccounts(a: AddonSnapshot): { namespace: string; names: string[] } {
  const known = ADDON_SERVICE_ACCOUNTS[a.name];
  const names = [...new Set([...(a.podIdentityConfiguration ?? []).map((p) => p.serviceAccount), ...(known?.names ?? [])])];
  return { namespace: known?.namespace ?? 'kube-system', names };
}

function addonOf(c: ClusterSnapshot, sa: ServiceAccountObject): AddonSnapshot | null {
  return irsaAddons(c).find((a) => {
    const owned = addonServiceAccounts(a);
    return owned.namespace === sa.namespace && owned.names.includes(sa.name);
  }) ?? null;
}

/**
 * Whether a narrowed scan (-n / --service-account) reports this add-on: one of its service
 * accounts must be in scope. Those are the ones its podIdentityConfiguration (or the list
 * above) names, in its namespace, and any scanned service account annotated with its role in
 * kube-system or that namespace (an add-on podid knows nothing else about).
 */
function addonInScope(c: ClusterSnapshot, a: AddonSnapshot, scope: Scope): boolean {
  if (scope.unscoped) return true;
  const owned = addonServiceAccounts(a);
  if (owned.names.some((name) => scope.serviceAccount(owned.namespace, name))) return true;
  const role = a.serviceAccountRoleArn;
  if (role === null) return false;
  const namespaces = new Set(['kube-system', owned.namespace]);
  return c.kube.serviceAccounts.some(
    (sa) => namespaces.has(sa.namespace) && sameRole(sa.annotations[ROLE_ARN_ANNOTATION], role, c.region) && scope.serviceAccount(sa.namespace, sa.name),
  );
}

/** Two role ARNs as written name the same role (normalised by parseRoleArn, compared without case). */
function sameRole(a: string | undefined, b: string, region: string): boolean {
  if (a === undefined) return false;
  const norm = (raw: string) => {
    const parsed = parseRoleArn(raw, { region });
    return (parsed.ok ? parsed.arn.arn : raw.trim()).toLowerCase();
  };
  return norm(a) === norm(b);
}

/** Normalised role ARN -> the scanned service accounts (in clusters of the role's account) annotated with it. */
function subjectsByRole(snapshot: FleetSnapshot): Map<string, PodIdentitySubject[]> {
  const out = new Map<string, PodIdentitySubject[]>();
  for (const c of [...snapshot.clusters].sort((a, b) => compare(a.arn, b.arn))) {
    for (const sa of c.kube.serviceAccounts) {
      const raw = sa.annotations[ROLE_ARN_ANNOTATION];
      if (raw === undefined) continue;
      const parsed = parseRoleArn(raw, { region: c.region });
      if (!parsed.ok || parsed.arn.account !== c.account) continue;
      const subject = { cluster: c.arn, namespace: sa.namespace, serviceAccount: sa.name };
      const list = out.get(parsed.arn.arn);
      if (list === undefined) out.set(parsed.arn.arn, [subject]);
      else list.push(subject);
    }
  }
  return out;
}

const sameArn = (a: string | null | undefined, b: string | null | undefined) => a != null && b != null && a.toLowerCase() === b.toLowerCase();

type Draft = Omit<ServiceAccountReport, 'verdict'>;

/** Per-cluster lookups built once for all of its service accounts. */
interface ClusterLookups {
  workloads: ClusterIndex;
  /** namespace/name -> the first association for it (EKS allows one). */
  associations: ReadonlyMap<string, AssociationSnapshot>;
}

function clusterLookups(c: ClusterSnapshot): ClusterLookups {
  const associations = new Map<string, AssociationSnapshot>();
  for (const a of c.associations) {
    const key = `${a.namespace}/${a.serviceAccount}`;
    if (!associations.has(key)) associations.set(key, a);
  }
  return { workloads: indexCluster(c), associations };
}

/**
 * PODS_NEED_RESTART with a fix that fits the controllers of the pods still on IRSA (or none):
 * `kubectl rollout restart` (the catalogue's fix) only when each of them has a Deployment,
 * StatefulSet or DaemonSet; a bare Pod, a bare ReplicaSet's pod (its ReplicaSet, read with the
 * namespace's workloads, has no Deployment), a Job's pod or another controller's gets its own advice,
 * as finalize gives it (core/restart-advice.ts).
 */
function podsNeedRestart(counts: { irsa: number; none: number }, saPods: readonly PodObject[], nsWorkloads: readonly WorkloadObject[], trustMissing: boolean): Finding {
  const stale = withReplicaSetOwners(saPods.filter((p) => isLive(p) && p.identity !== 'pod-identity'), nsWorkloads);
  const args = { irsa: counts.irsa, none: counts.none };
  // Restarted onto an association whose role does not trust them, pods get no credentials at
  // all: the trust first (ASSOCIATION_TRUST_MISSING), then the restart.
  const first = trustMissing ? 'first add the Pod Identity trust (ASSOCIATION_TRUST_MISSING: a restart before it leaves the new pods without credentials), then ' : '';
  if (stale.every(isRolloutRestartable)) return trustMissing ? finding('PODS_NEED_RESTART', args, `${first}restart the workloads (kubectl rollout restart; podid migrate plans both) so new pods get Pod Identity credentials`) : finding('PODS_NEED_RESTART', args);
  return finding('PODS_NEED_RESTART', args, `${first}${restartAdvice(stale, 'kubectl rollout restart; podid migrate plans the restarts').join('; ')}, so that new pods get Pod Identity credentials`);
}

function analyzeServiceAccount(snapshot: FleetSnapshot, c: ClusterSnapshot, sa: ServiceAccountObject, annotation: string, roleSubjects: Map<string, PodIdentitySubject[]>, lookups: ClusterLookups, fleetIssuers: readonly string[]): Draft {
  const ann = sa.annotations;
  const audience = ann[AUDIENCE_ANNOTATION] ?? null;
  const stsRegional = ann[STS_REGIONAL_ENDPOINTS_ANNOTATION] ?? null;
  const tokenExpiration = ann[TOKEN_EXPIRATION_ANNOTATION] ?? null;

  const normalised = parseRoleArn(annotation, { region: c.region });
  const assoc = lookups.associations.get(`${sa.namespace}/${sa.name}`) ?? null;
  const role = analyzeRole({
    cluster: c,
    namespace: sa.namespace,
    serviceAccount: sa.name,
    annotation,
    audience,
    roles: snapshot.roles,
    limit: snapshot.trustPolicyLimit,
    subjectsUsingRole: normalised.ok ? (roleSubjects.get(normalised.arn.arn) ?? []) : [],
    ...(assoc?.disableSessionTags === true && assoc.targetRoleArn === null ? { sessionTagsDisabledBy: assoc.associationId } : {}),
    fleetIssuers,
  });
  const findings: Finding[] = [...role.findings];

  if (audience !== null && audience !== DEFAULT_AUDIENCE) findings.push(finding('ANNOTATION_AUDIENCE', { audience }));
  if (stsRegional !== null) findings.push(finding('ANNOTATION_STS_REGIONAL_ENDPOINTS', { value: stsRegional }));
  if (tokenExpiration !== null) findings.push(finding('ANNOTATION_TOKEN_EXPIRATION', { value: tokenExpiration }));
  findings.push(...serviceAccountShapeFindings(sa));
  findings.push(...customTokenFileFindings(ofServiceAccount(lookups.workloads.podsByServiceAccount, sa.namespace, sa.name)));

  const addon = addonOf(c, sa);
  if (addon !== null) {
    findings.push(finding('ADDON_SERVICE_ACCOUNT', { addon: addon.name }));
    if (addon.podIdentityConfiguration === null) findings.push(finding('ADDON_VERSION_UNSUPPORTED', { addon: addon.name, version: addon.version }));
  }

  // One association per namespace/service account (EKS refuses a second): `assoc` above.
  let association: ServiceAccountReport['association'] = { state: 'none', associationId: null, roleArn: null, ownerArn: null };
  if (assoc !== null) {
    // With role chaining the annotated (cross-account) role is the association's target.
    const same = sameArn(assoc.roleArn, role.role.arn) || sameArn(assoc.targetRoleArn, role.role.arn);
    association = { state: same ? 'same-role' : 'other-role', associationId: assoc.associationId, roleArn: assoc.targetRoleArn ?? assoc.roleArn, ownerArn: assoc.ownerArn };
    findings.push(
      same
        ? finding('ASSOCIATION_EXISTS', { id: assoc.associationId, role: role.role.arn })
        // roleArn is null only for an association the collector did not describe; it describes
        // every one naming an annotated SA, so this fallback is a safe block, never a guess.
        : finding('ASSOCIATION_CONFLICT', { id: assoc.associationId, associated: assoc.targetRoleArn ?? assoc.roleArn ?? 'a role the scan did not read', annotated: role.role.arn }),
    );
  }

  // The verdict is `partial` then (analyze-verdict.ts); this says why, which no restart cures.
  const trustMissing = association.state === 'same-role' && assoc !== null && role.role.state === 'found' && !role.role.crossAccount && (role.trust.podIdentity === 'none' || role.trust.podIdentity === 'other-clusters');
  if (trustMissing && assoc !== null) findings.push(finding('ASSOCIATION_TRUST_MISSING', { id: assoc.associationId, role: role.role.arn }));

  const usage = analyzeWorkloads(c, sa.namespace, sa.name, lookups.workloads);
  findings.push(...usage.findings);
  const { pods } = usage;
  const live = pods.irsa + pods.podIdentity + pods.none;
  if (live === 0) findings.push(finding('SA_NO_PODS', { workloads: usage.workloads.length }));
  if (association.state === 'same-role' && pods.irsa + pods.none > 0) findings.push(podsNeedRestart(pods, ofServiceAccount(lookups.workloads.podsByServiceAccount, sa.namespace, sa.name), lookups.workloads.workloadsByNamespace.get(sa.namespace) ?? [], trustMissing));
  else if (association.state === 'none' && pods.none > 0) findings.push(finding('PODS_WITHOUT_CREDENTIALS', { pods: pods.none }));

  return {
    cluster: c.arn,
    namespace: sa.namespace,
    name: sa.name,
    roleArn: annotation,
    role: role.role,
    annotations: { audience, stsRegionalEndpoints: stsRegional, tokenExpiration },
    trust: role.trust,
    association,
    workloads: usage.workloads,
    pods,
    addon: addon?.name ?? null,
    findings,
  };
}

function addonReport(c: ClusterSnapshot, a: AddonSnapshot, serviceAccountRoleArn: string, carried: Finding | null, roles: FleetSnapshot['roles']): AddonReport {
  const findings: Finding[] = [];
  const supportsPodIdentity = a.podIdentityConfiguration !== null;
  if (!supportsPodIdentity) findings.push(finding('ADDON_VERSION_UNSUPPORTED', { addon: a.name, version: a.version }));
  if (a.status !== 'ACTIVE') findings.push(finding('ADDON_NOT_ACTIVE', { addon: a.name, status: a.status }));
  if (a.podIdentityAssociations.length > 0) findings.push(finding('ADDON_MIGRATED', { addon: a.name, associations: a.podIdentityAssociations.length }));
  else findings.push(...addonRoleFindings(c, a, serviceAccountRoleArn, roles));
  if (carried !== null) findings.push(carried);
  const sorted = sortFindings(findings);
  return {
    cluster: c.arn,
    name: a.name,
    version: a.version,
    serviceAccountRoleArn,
    serviceAccount: a.podIdentityConfiguration?.[0]?.serviceAccount ?? addonServiceAccounts(a).names[0] ?? null,
    supportsPodIdentity,
    verdict: addonVerdict(sorted, a.podIdentityAssociations.length),
    findings: sorted,
  };
}

/**
 * The add-on's IRSA role, judged as a service account's is: the plan gives its association this
 * role and blocks the add-on when the role does not exist or cannot be read, so the scan says so
 * too (not `ready`), and a role of another account (UpdateAddon cannot chain roles: the plan's
 * ADDON_ROLE_CROSS_ACCOUNT).
 */
function addonRoleFindings(c: ClusterSnapshot, a: AddonSnapshot, arn: string, roles: FleetSnapshot['roles']): Finding[] {
  const parsed = parseRoleArn(arn, { region: c.region });
  if (!parsed.ok) return [];
  if (parsed.arn.account !== c.account) return [finding('ADDON_ROLE_CROSS_ACCOUNT', { addon: a.name, role: parsed.arn.arn, clusterAccount: c.account })];
  const snap = lookupRole(roles, parsed.arn.arn, arn);
  if (snap?.state === 'missing') {
    return [finding('ROLE_NOT_FOUND', { role: parsed.arn.arn, detail: snap.error }, "create the role, or give the add-on an existing one (aws eks update-addon --service-account-role-arn): the add-on's IRSA is broken today")];
  }
  if (snap === undefined || snap.state === 'unreadable') return [finding('ROLE_UNREADABLE', { role: parsed.arn.arn, detail: snap?.error ?? 'the scan did not fetch it' })];
  return [];
}

const compare = compareStrings;

/** What a cluster-level failure of a fleet run is reported as, by the error that stopped it. */
const UNSCANNED_FINDING: Partial<Record<ErrorCode, FindingCode>> = {
  CONTEXT_CLUSTER_UNKNOWN: 'NOT_AN_EKS_CONTEXT',
  CONTEXT_NO_SERVER: 'NOT_AN_EKS_CONTEXT',
  CONTEXT_REGION_UNKNOWN: 'NOT_AN_EKS_CONTEXT',
  CLUSTER_NOT_FOUND: 'CLUSTER_NOT_FOUND',
  CONTEXT_ENDPOINT_MISMATCH: 'CLUSTER_ENDPOINT_MISMATCH',
  AWS_UNREACHABLE: 'CLUSTER_UNREACHABLE',
  AWS_ENDPOINT_INVALID: 'CLUSTER_UNREACHABLE',
  KUBE_UNREACHABLE: 'CLUSTER_UNREACHABLE',
  AWS_ACCESS_DENIED: 'CLUSTER_ACCESS_DENIED',
  AWS_CREDENTIALS_INVALID: 'CLUSTER_ACCESS_DENIED',
  KUBE_FORBIDDEN: 'CLUSTER_ACCESS_DENIED',
  KUBE_UNAUTHORIZED: 'CLUSTER_ACCESS_DENIED',
  KUBE_CREDENTIALS_UNAVAILABLE: 'CLUSTER_ACCESS_DENIED',
  AWS_THROTTLED: 'CLUSTER_THROTTLED',
  KUBE_THROTTLED: 'CLUSTER_THROTTLED',
  KUBECONFIG_INVALID: 'KUBECONFIG_ENTRY_INVALID',
};

/** The report of a cluster a fleet run could not scan: what the kubeconfig told, and why. */
function unscannedReport(u: UnscannedCluster): ClusterReport {
  const code = UNSCANNED_FINDING[u.error.code] ?? 'CLUSTER_SCAN_FAILED';
  const f = finding(code, { context: u.context, detail: u.error.message }, u.error.hint ?? undefined);
  return {
    arn: '',
    name: u.clusterName ?? u.context,
    account: '',
    region: u.region ?? '',
    context: u.context,
    version: '',
    platformVersion: '',
    endpoint: u.server ?? '',
    oidcIssuer: null,
    autoMode: false,
    agent: { source: 'none', addonVersion: null, addonStatus: null, nodesReady: 0, nodesTotal: 0 },
    associations: { count: 0, quota: 0 },
    scanned: false,
    readiness: 'blocked',
    findings: [f],
  };
}

/**
 * With `planning: false` (podid scan, which prints the report only) the planner's facts are not
 * built: they are a fleet's every service account and workload uid, role and role user again.
 */
export function analyzeFleet(snapshot: FleetSnapshot, opts: AnalyzeOptions & { planning: false }): Inventory;
export function analyzeFleet(snapshot: FleetSnapshot, opts: AnalyzeOptions): PlannableInventory;
export function analyzeFleet(snapshot: FleetSnapshot, opts: AnalyzeOptions & { planning?: boolean }): Inventory | PlannableInventory {
  const roleSubjects = subjectsByRole(snapshot);
  const scope = scopeFilter(snapshot.scope);
  const fleetIssuers = snapshot.clusters.flatMap((x) => (x.oidcIssuer === null ? [] : [x.oidcIssuer]));
  const clusters: ClusterReport[] = [];
  const serviceAccounts: ServiceAccountReport[] = [];
  const addons: AddonReport[] = [];

  for (const c of [...snapshot.clusters].sort((a, b) => compare(a.arn, b.arn))) {
    const drafts: Draft[] = [];
    const lookups = clusterLookups(c);
    for (const sa of c.kube.serviceAccounts) {
      const annotation = sa.annotations[ROLE_ARN_ANNOTATION];
      if (annotation !== undefined) drafts.push(analyzeServiceAccount(snapshot, c, sa, annotation, roleSubjects, lookups, fleetIssuers));
    }
    // Every SA without an association needs one (directly, or through UpdateAddon for add-ons).
    const planned = drafts.filter((d) => d.association.state === 'none').length;
    const report = analyzeCluster(c, snapshot.nodeRoles, planned);
    clusters.push(report);

    const carried = clusterFinding(report);
    for (const d of drafts) {
      const findings = sortFindings(carried === null ? d.findings : [...d.findings, carried]);
      serviceAccounts.push({ ...d, verdict: serviceAccountVerdict({ ...d, findings }), findings });
    }
    for (const a of c.addons) {
      if (a.serviceAccountRoleArn !== null && addonInScope(c, a, scope)) addons.push(addonReport(c, a, a.serviceAccountRoleArn, carried, snapshot.roles));
    }
  }

  for (const u of snapshot.unscanned ?? []) clusters.push(unscannedReport(u));

  serviceAccounts.sort((a, b) => compare(a.cluster, b.cluster) || compare(a.namespace, b.namespace) || compare(a.name, b.name));
  addons.sort((a, b) => compare(a.cluster, b.cluster) || compare(a.name, b.name));

  // What podid could not read about IAM as a whole (not one service account's role).
  const inputFindings = snapshot.boundariesUnknown ? [finding('ROLE_BOUNDARIES_UNKNOWN', snapshot.boundariesUnknown)] : [];

  const report: Inventory = {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    generatedAt: opts.now.toISOString(),
    ...(opts.toolVersion === undefined ? {} : { toolVersion: opts.toolVersion }),
    source: 'live',
    caller: { account: snapshot.caller.account, arn: snapshot.caller.arn },
    trustPolicyLimit: snapshot.trustPolicyLimit,
    clusters,
    serviceAccounts,
    addons,
    ...(inputFindings.length > 0 ? { inputFindings } : {}),
    summary: summariseInventory({ clusters, serviceAccounts, addons, inputFindings }),
  };
  return opts.planning === false ? report : { ...report, planning: planningFacts(snapshot) };
}
