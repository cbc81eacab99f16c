/**
 * The planner's first half: which inventory items the plan moves, and which it must block.
 * The scan's verdicts decide most of it (a `blocked` SA stays blocked with its error findings,
 * `migrated` needs nothing); on top of that the plan adds what only a migration has to know:
 * the agent (a scan warning, a plan blocker unless --install-agent), cross-account roles
 * (need --cross-account-source-role), and the per-cluster association quota. Each candidate
 * collects its blocking findings; the planner turns the non-empty ones into BlockedItems.
 */
import { parseRoleArn } from '../arn.js';
import type { RoleArn } from '../arn.js';
import { roleAccess } from '../policy/index.js';
import { arnFinding, finding } from '../scan/findings.js';
import type { AddonReport, ClusterReport, Finding, ServiceAccountReport } from '../scan/inventory.js';
import { planningRole, roleKey, serviceAccountKey } from '../scan/planning.js';
import type { AddonPlanningFacts, ClusterPlanningFacts, PlannableInventory, PlanningFacts } from '../scan/planning.js';
import type { BlockedItem, PlanOptions } from './model.js';
import { compareStrings } from '../text.js';

/** Where EKS puts an add-on's service accounts when no annotated SA of it was scanned. */
const DEFAULT_ADDON_NAMESPACE = 'kube-system';

export interface ClusterContext {
  report: ClusterReport;
  /** What the analysis recorded about the cluster for planning. */
  facts: ClusterPlanningFacts;
  /** No eks-pod-identity-agent: the plan installs it (--install-agent) or blocks the cluster's items. */
  needsAgent: boolean;
}

export interface SaCandidate {
  cluster: ClusterContext;
  report: ServiceAccountReport;
  /** The service account object as the scan read it (the association step's fingerprint). */
  object: { uid: string; resourceVersion: string };
  /** `associate`: create the association (then restart); `restart`: it exists (verdict partial), only restarts remain. */
  mode: 'associate' | 'restart';
  /** The role whose trust must admit the cluster: the SA's role, or the source role of a chain. null: nothing to check. */
  trustRole: string | null;
  /** The role the association names (the SA's role, or the cross-account source role). */
  associationRole: string;
  /** Cross-account: the SA's own role, the association's targetRoleArn. */
  targetRole: string | null;
  blockers: Finding[];
}

export interface AddonCandidate {
  cluster: ClusterContext;
  report: AddonReport;
  facts: AddonPlanningFacts;
  namespace: string;
  serviceAccounts: string[];
  /** Normalised IRSA role ARN (null when it does not parse: then it is blocked). */
  role: string | null;
  blockers: Finding[];
}

export interface Selection {
  clusters: ClusterContext[];
  serviceAccounts: SaCandidate[];
  addons: AddonCandidate[];
  /** Items the scan already judged blocked. */
  blocked: BlockedItem[];
}

const cmp = compareStrings;

export { roleKey };

/**
 * The inventory and its planning facts disagree: it was not produced by `analyzeFleet` (or was
 * edited after). A bug in the caller, not something a user can cause.
 */
function inconsistent(what: string): Error {
  return new Error(`planner: ${what} has no planning facts; plan from the inventory analyzeFleet produced`);
}

interface Filter {
  /** No namespace or service-account scoping: everything is in. */
  unscoped: boolean;
  serviceAccount(namespace: string, name: string): boolean;
  role(arn: string): boolean;
}

function buildFilter(selection: PlanOptions['selection']): Filter {
  const namespaces = new Set(selection.namespaces);
  const accounts = new Set(selection.serviceAccounts.map((s) => s.trim()));
  const roles = new Set(selection.roles.map(roleKey));
  return {
    unscoped: namespaces.size === 0 && accounts.size === 0,
    serviceAccount: (ns, name) => (namespaces.size === 0 || namespaces.has(ns)) && (accounts.size === 0 || accounts.has(`${ns}/${name}`)),
    role: (arn) => roles.size === 0 || roles.has(roleKey(arn)),
  };
}

function needsAgent(c: ClusterReport): boolean {
  // Auto Mode reports source 'auto-mode' yet still lacks the add-on for its non-Auto nodes (AGENT_MISSING).
  return c.agent.source === 'none' || c.findings.some((f) => f.code === 'AGENT_MISSING');
}

const errorsOf = (findings: readonly Finding[]) => findings.filter((f) => f.severity === 'error');

export function selectItems(inventory: PlannableInventory, options: PlanOptions): Selection {
  const filter = buildFilter(options.selection);
  const { planning } = inventory;
  const clusters: ClusterContext[] = [];
  // A cluster a fleet run could not scan has nothing to plan.
  for (const report of [...inventory.clusters].filter((c) => c.scanned !== false).sort((a, b) => cmp(a.arn, b.arn))) {
    const facts = Object.hasOwn(planning.clusters, report.arn) ? planning.clusters[report.arn] : undefined;
    if (facts === undefined) throw inconsistent(`cluster ${report.arn}`);
    clusters.push({ report, facts, needsAgent: needsAgent(report) });
  }
  const byArn = new Map(clusters.map((c) => [c.report.arn, c]));
  const clusterOf = (arn: string): ClusterContext => {
    const c = byArn.get(arn);
    if (c === undefined) throw inconsistent(`${arn} (not a scanned cluster of the inventory)`);
    return c;
  };
  const agentBlocker = (c: ClusterContext): Finding[] =>
    c.needsAgent && !options.installAgent ? [finding('AGENT_REQUIRED', { cluster: c.report.name })] : [];

  const serviceAccounts: SaCandidate[] = [];
  const addons: AddonCandidate[] = [];
  const blocked: BlockedItem[] = [];

  for (const report of inventory.serviceAccounts) {
    // Add-on service accounts move with UpdateAddon (below), never with a direct association.
    if (report.addon !== null || report.verdict === 'migrated') continue;
    if (!filter.serviceAccount(report.namespace, report.name) || !filter.role(report.role.arn)) continue;
    const cluster = clusterOf(report.cluster);
    const target = { kind: 'service-account' as const, cluster: report.cluster, namespace: report.namespace, name: report.name, roleArn: report.role.arn };
    if (report.verdict === 'blocked') {
      blocked.push({ target, reasons: [...errorsOf(report.findings), ...agentBlocker(cluster)] });
      continue;
    }
    const saKey = serviceAccountKey(report.namespace, report.name);
    const object = Object.hasOwn(cluster.facts.serviceAccounts, saKey) ? cluster.facts.serviceAccounts[saKey] : undefined;
    if (object === undefined) throw inconsistent(`service account ${saKey} of ${report.cluster}`);
    serviceAccounts.push(saCandidate(planning, options, cluster, report, object, agentBlocker(cluster)));
  }

  for (const report of inventory.addons) {
    if (report.verdict === 'migrated' || !filter.role(report.serviceAccountRoleArn)) continue;
    const cluster = clusterOf(report.cluster);
    const owned = inventory.serviceAccounts.filter((s) => s.cluster === report.cluster && s.addon === report.name);
    const namespace = owned[0]?.namespace ?? DEFAULT_ADDON_NAMESPACE;
    const facts = Object.hasOwn(cluster.facts.addons, report.name) ? cluster.facts.addons[report.name] : undefined;
    if (facts === undefined) throw inconsistent(`add-on ${report.name} of ${report.cluster}`);
    const configured = facts.configuredServiceAccounts;
    const chosen = addonServiceAccounts(report, owned, configured);
    // Scoping flags see every service account the add-on could move, chosen or not.
    const scopeNames = configured.length > 0 ? configured : report.serviceAccount === null ? [] : [report.serviceAccount];
    const inScope = scopeNames.length === 0 ? filter.unscoped : scopeNames.some((name) => filter.serviceAccount(namespace, name));
    if (!inScope) continue;
    const target = { kind: 'addon' as const, cluster: report.cluster, name: report.name };
    if (report.verdict === 'blocked') {
      blocked.push({ target, reasons: [...errorsOf(report.findings), ...agentBlocker(cluster)] });
      continue;
    }
    const blockers = agentBlocker(cluster);
    if (chosen === 'ambiguous') {
      blockers.push(finding('ADDON_SERVICE_ACCOUNT_AMBIGUOUS', { addon: report.name, role: report.serviceAccountRoleArn, serviceAccounts: configured }));
    }
    addons.push(addonCandidate(cluster, report, facts, namespace, chosen === 'ambiguous' ? [] : chosen, blockers));
  }

  applyQuota(serviceAccounts, addons);
  return { clusters, serviceAccounts, addons, blocked };
}

/**
 * Which of an add-on's service accounts get its role. `UpdateAddon` associates exactly the
 * accounts it is given, so giving the IRSA role to every account in podIdentityConfiguration
 * would hand it to accounts that never had it (aws-ebs-csi-driver's node account, say, when
 * only its controller was annotated). Only the configured accounts that run with the role
 * today (annotated with it in the scan) get it; with none identified, the single configured
 * account is unambiguous; otherwise podid cannot tell, and the add-on is blocked.
 */
function addonServiceAccounts(report: AddonReport, owned: readonly ServiceAccountReport[], configured: readonly string[]): string[] | 'ambiguous' {
  if (configured.length === 0) return report.serviceAccount === null ? [] : [report.serviceAccount];
  const role = roleKey(report.serviceAccountRoleArn);
  const annotated = owned.filter((s) => configured.includes(s.name) && (roleKey(s.roleArn) === role || roleKey(s.role.arn) === role)).map((s) => s.name);
  if (annotated.length > 0) return [...new Set(annotated)].sort();
  return configured.length === 1 ? [...configured] : 'ambiguous';
}

function saCandidate(
  planning: PlanningFacts,
  options: PlanOptions,
  cluster: ClusterContext,
  report: ServiceAccountReport,
  object: SaCandidate['object'],
  blockers: Finding[],
): SaCandidate {
  const role = report.role.arn;
  if (report.verdict === 'partial') {
    // Without session tags, no trust podid writes can admit its pods: the association must change.
    blockers.push(...report.findings.filter((f) => f.code === 'ASSOCIATION_SESSION_TAGS_DISABLED'));
    // The association exists. A same-account role must still admit the cluster, or the restart
    // would hand pods credentials that fail; a chained role's trust is the owner's business.
    return { cluster, report, object, mode: 'restart', trustRole: report.role.crossAccount ? null : role, associationRole: role, targetRole: null, blockers };
  }
  if (report.association.state === 'other-role') {
    // The scan reports this as ASSOCIATION_CONFLICT (an error); kept here so a plan never overwrites one.
    const id = report.association.associationId ?? 'unknown';
    blockers.push(finding('ASSOCIATION_CONFLICT', { id, associated: report.association.roleArn ?? 'another role', annotated: role }));
  }
  if (!report.role.crossAccount) {
    return { cluster, report, object, mode: 'associate', trustRole: role, associationRole: role, targetRole: null, blockers };
  }
  const source = sourceRole(planning, options, cluster.report, report);
  if ('blocker' in source) {
    blockers.push(source.blocker);
    return { cluster, report, object, mode: 'associate', trustRole: null, associationRole: role, targetRole: null, blockers };
  }
  return { cluster, report, object, mode: 'associate', trustRole: source.arn.arn, associationRole: source.arn.arn, targetRole: role, blockers };
}

/** The --cross-account-source-role for a cluster: a role of the cluster's account whose trust podid can edit. */
function sourceRole(planning: PlanningFacts, options: PlanOptions, c: ClusterReport, report: ServiceAccountReport): { arn: RoleArn } | { blocker: Finding } {
  const raw = options.crossAccountSourceRole;
  if (raw === null) {
    return { blocker: finding('CROSS_ACCOUNT_SOURCE_ROLE_REQUIRED', { role: report.role.arn, roleAccount: report.role.account ?? 'unknown', clusterAccount: c.account }) };
  }
  const unusable = (reason: string) => ({ blocker: finding('CROSS_ACCOUNT_SOURCE_ROLE_UNUSABLE', { sourceRole: raw, reason }) });
  const parsed = parseRoleArn(raw, { region: c.region });
  if (!parsed.ok) return unusable(parsed.issues.map((i) => i.message).join('; '));
  if (parsed.arn.account !== c.account) return unusable(`it is in account ${parsed.arn.account}, not the cluster account ${c.account} of ${c.name}`);
  // Who already gets the source role's credentials (analysis: PlanningFacts.roleUsers). Every
  // target role trusts the source role, so a pod holding those credentials could assume all of them.
  const key = roleKey(parsed.arn.arn);
  const users = Object.hasOwn(planning.roleUsers, key) ? (planning.roleUsers[key] ?? []) : [];
  if (users.length > 0) return { blocker: finding('CROSS_ACCOUNT_SOURCE_ROLE_SHARED', { sourceRole: parsed.arn.arn, users: [...users] }) };
  const snap = planningRole(planning, parsed.arn.arn, raw);
  if (snap === undefined) return unusable('the scan did not read it');
  if (snap.state === 'missing') return unusable('it does not exist');
  if (snap.state === 'unreadable') return unusable(`podid cannot read it${snap.error === null ? '' : ` (${snap.error})`}`);
  if (snap.parsed === null) return unusable(`its trust policy was not returned${snap.error === null ? '' : ` (${snap.error})`}`);
  if (!snap.parsed.ok) return unusable(`its trust policy cannot be parsed: ${snap.parsed.error}`);
  let access: ReturnType<typeof roleAccess>;
  try {
    access = roleAccess(snap.parsed.policy);
  } catch (err) {
    return unusable(`its trust policy cannot be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  // EKS user guide ("Access AWS Resources using EKS Pod Identity Target IAM Roles"): the source
  // role is the EKS Pod Identity role; whoever else may assume it (a node or instance role, an
  // OIDC provider, another account) could chain into every target role that trusts it.
  const others = [...access.irsa.map((g) => `Federated:${g.provider}`), ...access.other.flatMap((g) => g.principals)];
  if (others.length > 0) return { blocker: finding('CROSS_ACCOUNT_SOURCE_ROLE_OPEN', { sourceRole: parsed.arn.arn, principals: [...new Set(others)] }) };
  return { arn: parsed.arn };
}

function addonCandidate(cluster: ClusterContext, report: AddonReport, facts: AddonPlanningFacts, namespace: string, serviceAccounts: string[], blockers: Finding[]): AddonCandidate {
  const base = { cluster, report, facts, namespace, serviceAccounts, blockers };
  const ambiguous = blockers.some((f) => f.code === 'ADDON_SERVICE_ACCOUNT_AMBIGUOUS');
  if (!report.supportsPodIdentity || (serviceAccounts.length === 0 && !ambiguous)) {
    // Also an error on the report (verdict blocked); kept so the plan never updates such an add-on.
    blockers.push(finding('ADDON_VERSION_UNSUPPORTED', { addon: report.name, version: report.version }));
  }
  const parsed = parseRoleArn(report.serviceAccountRoleArn, { region: cluster.report.region });
  if (!parsed.ok) {
    blockers.push(...parsed.issues.filter((i) => i.severity === 'error').map(arnFinding));
    return { ...base, role: null };
  }
  if (parsed.arn.account !== cluster.report.account) {
    blockers.push(finding('ADDON_ROLE_CROSS_ACCOUNT', { addon: report.name, role: parsed.arn.arn, clusterAccount: cluster.report.account }));
  }
  return { ...base, role: parsed.arn.arn };
}

/**
 * EKS allows a fixed number of associations per cluster. Add-on associations are counted first
 * (the add-ons run the cluster), then service accounts in namespace/name order; whatever would
 * go past the quota is blocked, so the plan never asks for a call EKS would refuse.
 */
function applyQuota(sas: readonly SaCandidate[], addons: readonly AddonCandidate[]): void {
  const planned = new Map<string, number>();
  const take = (c: ClusterContext, n: number, block: (f: Finding) => void) => {
    const { count, quota } = c.report.associations;
    const before = planned.get(c.report.arn) ?? 0;
    if (count + before + n > quota) {
      block(finding('ASSOCIATION_QUOTA_FULL', { cluster: c.report.name, existing: count, planned: before, quota }));
      return;
    }
    planned.set(c.report.arn, before + n);
  };
  for (const a of addons) if (a.blockers.length === 0) take(a.cluster, a.serviceAccounts.length, (f) => a.blockers.push(f));
  const order = [...sas].sort((x, y) => cmp(x.report.namespace, y.report.namespace) || cmp(x.report.name, y.report.name));
  for (const s of order) if (s.mode === 'associate' && s.blockers.length === 0) take(s.cluster, 1, (f) => s.blockers.push(f));
}
