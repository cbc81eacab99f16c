/**
 * Per-cluster readiness for EKS Pod Identity: versions, the agent, node-role permissions, the
 * region and the association quota. Pure: a ClusterSnapshot (plus the fleet's node-role
 * checks) in, a ClusterReport out. Service-account verdicts inherit the result (see
 * analyze-verdict.ts), so a cluster-wide problem is reported once here and referenced there.
 */
import type { ClusterReport, Finding } from './inventory.js';
import type { ClusterSnapshot, FleetSnapshot, NodeObject } from './snapshot.js';
import { finding, sortFindings, worstSeverity } from './findings.js';
import { compareStrings } from '../text.js';

/** Pod identity associations per cluster (EKS quota, not adjustable at the time of writing). */
export const ASSOCIATION_QUOTA = 1000;

export const AGENT_ADDON = 'eks-pod-identity-agent';
export const AGENT_NAMESPACE = 'kube-system';
export const AGENT_DAEMONSET = 'eks-pod-identity-agent';

/**
 * The first platform version of each Kubernetes version with Pod Identity, as the EKS user guide
 * lists them ("EKS Pod Identity cluster versions"). The guide says a Kubernetes version not in
 * its table supports Pod Identity on every platform version (1.29 and later).
 */
export const MIN_PLATFORM_VERSION: Readonly<Record<string, number>> = {
  '1.24': 13,
  '1.25': 10,
  '1.26': 9,
  '1.27': 8,
  '1.28': 4,
};

type VersionCheck = { kind: 'ok' } | { kind: 'too-old' } | { kind: 'platform-too-old'; minimum: string } | { kind: 'unknown' };

/** Compares a cluster's Kubernetes (`1.29`) and platform (`eks.8`) versions with the minimums. */
export function checkVersions(version: string, platformVersion: string): VersionCheck {
  const v = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (v === null) return { kind: 'unknown' };
  const major = Number(v[1]);
  const minor = Number(v[2]);
  if (major < 1 || (major === 1 && minor < 24)) return { kind: 'too-old' };
  const minimum = MIN_PLATFORM_VERSION[`${major}.${minor}`];
  if (minimum === undefined) return { kind: 'ok' };
  const p = /^eks\.(\d+)$/.exec(platformVersion.trim());
  if (p === null) return { kind: 'unknown' };
  return Number(p[1]) < minimum ? { kind: 'platform-too-old', minimum: `eks.${minimum}` } : { kind: 'ok' };
}

function versionFindings(c: ClusterSnapshot): Finding[] {
  const check = checkVersions(c.version, c.platformVersion);
  switch (check.kind) {
    case 'too-old':
      return [finding('CLUSTER_VERSION_UNSUPPORTED', { version: c.version })];
    case 'platform-too-old':
      return [finding('CLUSTER_PLATFORM_VERSION_UNSUPPORTED', { version: c.version, platformVersion: c.platformVersion, minimum: check.minimum })];
    case 'unknown':
      return [finding('CLUSTER_VERSION_UNKNOWN', { version: c.version, platformVersion: c.platformVersion })];
    case 'ok':
      return [];
  }
}

function isChina(c: ClusterSnapshot): boolean {
  return c.partition === 'aws-cn' || c.region.startsWith('cn-');
}

/** Nodes the agent must cover: Linux, not Fargate (Fargate cannot run Pod Identity at all). */
function agentNodes(nodes: readonly NodeObject[]): NodeObject[] {
  return nodes.filter((n) => n.computeType !== 'fargate' && n.os.toLowerCase() !== 'windows');
}

type AgentReport = ClusterReport['agent'];

function analyzeAgent(c: ClusterSnapshot): { agent: AgentReport; findings: Finding[] } {
  const addon = c.addons.find((a) => a.name === AGENT_ADDON);
  const nodes = agentNodes(c.kube.nodes);
  const running = new Set(
    c.kube.pods
      .filter((p) => p.namespace === AGENT_NAMESPACE && p.owner?.kind === 'DaemonSet' && p.owner.name === AGENT_DAEMONSET && p.phase === 'Running' && p.nodeName !== null)
      .map((p) => p.nodeName),
  );
  // Auto Mode nodes carry the agent built in; every other Linux node needs a DaemonSet pod.
  const covered = (n: NodeObject) => (c.autoMode && n.computeType === 'auto') || running.has(n.name);
  const uncovered = nodes.filter((n) => !covered(n)).map((n) => n.name).sort();
  const agent: AgentReport = {
    source: addon !== undefined ? 'addon' : c.autoMode ? 'auto-mode' : 'none',
    addonVersion: addon?.version ?? null,
    addonStatus: addon?.status ?? null,
    nodesReady: nodes.length - uncovered.length,
    nodesTotal: nodes.length,
  };

  const findings: Finding[] = [];
  if (addon === undefined) {
    const nonAuto = nodes.filter((n) => n.computeType !== 'auto').length;
    if (!c.autoMode) findings.push(finding('AGENT_MISSING', { nodes: nonAuto, autoMode: false }));
    else if (nonAuto > 0) findings.push(finding('AGENT_MISSING', { nodes: nonAuto, autoMode: true }));
  } else if (addon.status !== 'ACTIVE') {
    findings.push(finding('AGENT_NOT_ACTIVE', { status: addon.status, version: addon.version }));
  } else if (uncovered.length > 0) {
    findings.push(finding('AGENT_NOT_READY', { ready: agent.nodesReady, total: agent.nodesTotal, missing: uncovered }));
  }
  // A pod the webhook gave Pod Identity env asks the agent on its own node (169.254.170.23) for
  // credentials: where none runs, those calls fail now, whatever the migration plan says.
  const bare = new Set(uncovered);
  const stranded = c.kube.pods.filter((p) => p.identity === 'pod-identity' && p.phase === 'Running' && p.terminating !== true && p.nodeName !== null && bare.has(p.nodeName));
  if (stranded.length > 0) {
    findings.push(
      finding('POD_IDENTITY_PODS_WITHOUT_AGENT', {
        pods: stranded.length,
        nodes: [...new Set(stranded.map((p) => p.nodeName as string))].sort(compareStrings),
        examples: stranded.map((p) => `${p.namespace}/${p.name}`).sort(compareStrings),
      }),
    );
  }
  return { agent, findings };
}

function nodeRoleFindings(c: ClusterSnapshot, nodeRoles: FleetSnapshot['nodeRoles']): Finding[] {
  // Windows node groups cannot use Pod Identity anyway; their role needs no permission for it.
  const byRole = new Map<string, string[]>();
  for (const ng of c.nodegroups) {
    if (ng.amiType.toUpperCase().startsWith('WINDOWS')) continue;
    byRole.set(ng.nodeRole, [...(byRole.get(ng.nodeRole) ?? []), ng.name]);
  }
  const findings: Finding[] = [];
  for (const [role, groups] of [...byRole].sort(([a], [b]) => compareStrings(a, b))) {
    const nodegroups = groups.sort();
    const check = nodeRoles[role];
    if (check === undefined || check.allowsAssumeRoleForPodIdentity === null) {
      findings.push(finding('NODE_ROLE_UNCHECKED', { role, nodegroups, detail: check?.detail ?? 'the role was not read' }));
    } else if (!check.allowsAssumeRoleForPodIdentity) {
      findings.push(finding('NODE_ROLE_MISSING_PERMISSION', { role, nodegroups }));
    }
  }
  return findings;
}

/**
 * The cluster's report. `plannedAssociations` is how many new associations migrating every
 * scanned service account would create (those with none yet), for the quota check.
 */
export function analyzeCluster(c: ClusterSnapshot, nodeRoles: FleetSnapshot['nodeRoles'], plannedAssociations: number): ClusterReport {
  const { agent, findings: agentFindings } = analyzeAgent(c);
  const findings: Finding[] = [];
  if (isChina(c)) findings.push(finding('CLUSTER_REGION_UNSUPPORTED', { region: c.region, partition: c.partition }));
  findings.push(...versionFindings(c));
  if (c.status !== 'ACTIVE') findings.push(finding('CLUSTER_NOT_ACTIVE', { status: c.status }));
  findings.push(...agentFindings);
  findings.push(...nodeRoleFindings(c, nodeRoles));
  const existing = c.associations.length;
  if (existing + plannedAssociations > ASSOCIATION_QUOTA) {
    findings.push(finding('ASSOCIATION_QUOTA_EXCEEDED', { existing, planned: plannedAssociations, quota: ASSOCIATION_QUOTA }));
  }
  if (c.oidcIssuer === null) findings.push(finding('CLUSTER_NO_OIDC_ISSUER', {}));

  const sorted = sortFindings(findings);
  const worst = worstSeverity(sorted);
  return {
    arn: c.arn,
    name: c.name,
    account: c.account,
    region: c.region,
    context: c.context,
    version: c.version,
    platformVersion: c.platformVersion,
    endpoint: c.endpoint,
    oidcIssuer: c.oidcIssuer,
    autoMode: c.autoMode,
    agent,
    associations: { count: existing, quota: ASSOCIATION_QUOTA },
    readiness: worst === 'error' ? 'blocked' : worst === 'warning' ? 'ready-with-warnings' : 'ready',
    findings: sorted,
  };
}
