/**
 * Verdict rules (documented in docs/findings.md, "Verdicts"). A service account's own findings
 * always explain its verdict: a cluster's errors and warnings are carried into it as one
 * CLUSTER_BLOCKED / CLUSTER_HAS_WARNINGS finding, so the rules below only read its own list.
 */
import type { ClusterReport, Finding, ServiceAccountReport, Verdict } from './inventory.js';
import { finding } from './findings.js';

/** The finding that carries a cluster's state into each of its service accounts and add-ons, if any. */
export function clusterFinding(cluster: ClusterReport): Finding | null {
  const codes = (severity: Finding['severity']) => [...new Set(cluster.findings.filter((f) => f.severity === severity).map((f) => f.code))];
  const errors = codes('error');
  if (errors.length > 0) return finding('CLUSTER_BLOCKED', { cluster: cluster.name, codes: errors });
  const warnings = codes('warning');
  if (warnings.length > 0) return finding('CLUSTER_HAS_WARNINGS', { cluster: cluster.name, codes: warnings });
  return null;
}

/**
 * 1. `blocked`: any error.
 * 2. `migrated`: an association for the annotated role exists, the role's trust provably admits
 *    this service account through Pod Identity (for a same-account role), and every running pod
 *    has Pod Identity credentials (also when no pod runs).
 * 3. `partial`: that association exists but some running pods still have IRSA (or no)
 *    credentials, or the trust does not provably admit it (none, other clusters only, or a
 *    statement on the undocumented aws:SourceArn): the plan adds the trust it lacks.
 * 4. `ready-with-warnings`: any warning.
 * 5. `ready`.
 */
export function serviceAccountVerdict(sa: Pick<ServiceAccountReport, 'findings' | 'association' | 'pods'> & { trust?: Pick<ServiceAccountReport['trust'], 'podIdentity'>; role?: Pick<ServiceAccountReport['role'], 'crossAccount'> }): Verdict {
  if (sa.findings.some((f) => f.severity === 'error')) return 'blocked';
  if (sa.association.state === 'same-role') {
    const unproven =
      (sa.role?.crossAccount !== true && (sa.trust?.podIdentity === 'none' || sa.trust?.podIdentity === 'other-clusters')) ||
      sa.findings.some((f) => f.code === 'ASSOCIATION_SESSION_TAGS_DISABLED');
    return sa.pods.irsa + sa.pods.none === 0 && !unproven ? 'migrated' : 'partial';
  }
  if (sa.findings.some((f) => f.severity === 'warning')) return 'ready-with-warnings';
  return 'ready';
}

/** Add-ons: blocked on any error, migrated once UpdateAddon gave them associations, else by warnings. */
export function addonVerdict(findings: readonly Finding[], associations: number): Verdict {
  if (findings.some((f) => f.severity === 'error')) return 'blocked';
  if (associations > 0) return 'migrated';
  if (findings.some((f) => f.severity === 'warning')) return 'ready-with-warnings';
  return 'ready';
}
