/**
 * `planMigration`: the Inventory (the scan's judgement, with the planning facts its analysis
 * recorded) in, a MigrationPlan out; it never sees the snapshot. Pure and deterministic: every
 * list is sorted and the only clock is the `now` passed in (createdAt), so the same input gives
 * the same plan. Idempotent by
 * construction: each step is planned only where the world still differs from the goal (no
 * association, trust not admitting the cluster, add-on without associations, pods still on
 * IRSA), so planning again after applying gives a plan without steps.
 */
import { UsageError } from '../errors.js';
import { AGENT_ADDON } from '../scan/readiness.js';
import type { PlannableInventory } from '../scan/planning.js';
import { externalIdPlaceholder, roleChaining } from './cross-account.js';
import { fingerprintAddon, fingerprintAgent, fingerprintAssociationInput } from './fingerprint.js';
import { PLAN_KIND, PLAN_SCHEMA_VERSION } from './model.js';
import type {
  BlockedItem, CreateAssociationStep, InstallAgentStep, MigrationPlan, PlanOptions, PlanStep, PlanSummary, UpdateAddonStep, UpdateTrustStep,
} from './model.js';
import { planRollouts } from './plan-rollout.js';
import { roleKey, selectItems } from './plan-select.js';
import type { AddonCandidate, ClusterContext, SaCandidate } from './plan-select.js';
import { planRoleTrust } from './plan-trust.js';
import type { RoleTrustInput, TrustCluster } from './plan-trust.js';
import { compareStrings } from '../text.js';

export interface PlanInput {
  /** A live scan's Inventory with its planning facts (what `analyzeFleet` returns): the planner's only input. */
  inventory: PlannableInventory;
  options: PlanOptions;
  now: Date;
  toolVersion: string;
}

const cmp = compareStrings;

export const agentStepId = (clusterArn: string) => `agent:${clusterArn}`;
export const associationStepId = (clusterArn: string, namespace: string, serviceAccount: string) => `assoc:${clusterArn}/${namespace}/${serviceAccount}`;
export const addonStepId = (clusterArn: string, addon: string) => `addon:${clusterArn}/${addon}`;

function checkOptions(o: PlanOptions): void {
  if (!Number.isInteger(o.maxConcurrentRollouts) || o.maxConcurrentRollouts < 1) {
    throw new UsageError('PLAN_OPTION_INVALID', `--max-concurrent-rollouts must be a whole number of at least 1, not ${o.maxConcurrentRollouts}`);
  }
  if (!Number.isInteger(o.trustPolicyLimit) || o.trustPolicyLimit < 1) {
    throw new UsageError('PLAN_OPTION_INVALID', `--trust-policy-limit must be a positive whole number, not ${o.trustPolicyLimit}`);
  }
}

export function planMigration(input: PlanInput): MigrationPlan {
  const { inventory, options } = input;
  checkOptions(options);
  const selection = selectItems(inventory, options);
  const open = <T extends { blockers: unknown[] }>(items: readonly T[]) => items.filter((i) => i.blockers.length === 0);

  // Trust: one decision per role, over the clusters of the items still going ahead.
  const roles = new Map<string, RoleTrustInput>();
  const addDependent = (arn: string, dep: RoleTrustInput['dependents'][number], crossAccountSource = false) => {
    const key = roleKey(arn);
    const entry: RoleTrustInput = roles.get(key) ?? { arn, dependents: [], crossAccountSource };
    entry.dependents.push(dep);
    roles.set(key, entry);
  };
  for (const s of open(selection.serviceAccounts)) {
    if (s.trustRole !== null) addDependent(s.trustRole, { cluster: trustCluster(s.cluster), namespace: s.report.namespace, serviceAccounts: [s.report.name], blockers: s.blockers }, s.targetRole !== null);
  }
  for (const a of open(selection.addons)) {
    if (a.role !== null) addDependent(a.role, { cluster: trustCluster(a.cluster), namespace: a.namespace, serviceAccounts: a.serviceAccounts, blockers: a.blockers });
  }
  const trustSteps = new Map<string, UpdateTrustStep>();
  for (const [key, role] of [...roles].sort(([a], [b]) => cmp(a, b))) {
    const step = planRoleTrust(inventory.planning, role, options.trustPolicyLimit);
    if (step !== null) trustSteps.set(key, step);
  }
  const trustDep = (arn: string | null): string[] => {
    const step = arn === null ? undefined : trustSteps.get(roleKey(arn));
    return step === undefined ? [] : [step.id];
  };

  const sas = open(selection.serviceAccounts);
  const addons = open(selection.addons);

  // The agent goes first on every cluster where something moves.
  const agentSteps = new Map<string, InstallAgentStep>();
  for (const c of selection.clusters) {
    const busy = sas.some((s) => s.cluster === c) || addons.some((a) => a.cluster === c);
    if (c.needsAgent && options.installAgent && busy) {
      agentSteps.set(c.report.arn, {
        id: agentStepId(c.report.arn), dependsOn: [], kind: 'install-agent', cluster: c.report.arn, addonName: AGENT_ADDON, addonVersion: null, fingerprint: fingerprintAgent(null),
      });
    }
  }
  const agentDep = (c: ClusterContext): string[] => {
    const step = agentSteps.get(c.report.arn);
    return step === undefined ? [] : [step.id];
  };

  const associations = sas
    .filter((s) => s.mode === 'associate')
    .map((s) => associationStep(s, trustDep(s.trustRole)))
    .sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.namespace, b.namespace) || cmp(a.serviceAccount, b.serviceAccount));
  const associationIds = new Set(associations.map((a) => a.id));

  const addonSteps = addons
    .map((a) => addonStep(a, [...agentDep(a.cluster), ...trustDep(a.role)].sort()))
    .sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.addonName, b.addonName));

  const rollouts = planRollouts(sas, options, (s) => {
    const assoc = associationStepId(s.report.cluster, s.report.namespace, s.report.name);
    // A partial SA's association exists already: its restarts wait only for trust and the agent.
    return [...(associationIds.has(assoc) ? [assoc] : trustDep(s.trustRole)), ...agentDep(s.cluster)];
  });

  const steps: PlanStep[] = [
    ...[...agentSteps.values()].sort((a, b) => cmp(a.cluster, b.cluster)),
    ...[...trustSteps.values()].sort((a, b) => cmp(a.roleArn, b.roleArn)),
    ...associations,
    ...addonSteps,
    ...rollouts.steps,
  ];
  const blocked = sortBlocked([...selection.blocked, ...blockedCandidates(selection.serviceAccounts, selection.addons)]);

  return {
    kind: PLAN_KIND,
    schemaVersion: PLAN_SCHEMA_VERSION,
    createdAt: input.now.toISOString(),
    toolVersion: input.toolVersion,
    caller: { ...inventory.planning.caller },
    options: structuredClone(options),
    clusters: selection.clusters.map(({ report: c, facts }) => ({
      arn: c.arn, name: c.name, account: c.account, region: c.region, context: c.context, endpoint: c.endpoint, oidcProvider: facts.access.oidcProvider,
    })),
    unscanned: inventory.clusters
      .filter((c) => c.scanned === false)
      .map((c) => ({ context: c.context ?? c.name, name: c.name, region: c.region, reasons: structuredClone(c.findings) }))
      .sort((a, b) => cmp(a.context, b.context)),
    steps,
    blocked,
    manual: rollouts.manual,
    summary: summarise(steps, blocked, rollouts.manual.length),
  };
}

function trustCluster(c: ClusterContext): TrustCluster {
  return { arn: c.report.arn, name: c.report.name, account: c.report.account, partition: c.facts.partition, access: c.facts.access };
}

function associationStep(s: SaCandidate, dependsOn: string[]): CreateAssociationStep {
  const { report, object } = s;
  const target = s.targetRole;
  return {
    id: associationStepId(report.cluster, report.namespace, report.name),
    dependsOn,
    kind: 'create-association',
    cluster: report.cluster,
    namespace: report.namespace,
    serviceAccount: report.name,
    roleArn: s.associationRole,
    targetRoleArn: target,
    annotationRoleArn: report.roleArn,
    crossAccount: target === null ? null : roleChaining(s.associationRole, target, externalIdPlaceholder(s.cluster.report, report.namespace, report.name)),
    phases: target === null ? 'single' : 'two-phase',
    fingerprint: fingerprintAssociationInput({ association: null, saUid: object.uid, saResourceVersion: object.resourceVersion }),
  };
}

function addonStep(a: AddonCandidate, dependsOn: string[]): UpdateAddonStep {
  const roleArn = a.role ?? a.report.serviceAccountRoleArn;
  return {
    id: addonStepId(a.report.cluster, a.report.name),
    dependsOn,
    kind: 'update-addon',
    cluster: a.report.cluster,
    addonName: a.report.name,
    addonVersion: a.facts.version,
    podIdentityAssociations: a.serviceAccounts.map((serviceAccount) => ({ serviceAccount, roleArn })),
    before: { serviceAccountRoleArn: a.facts.serviceAccountRoleArn, podIdentityAssociations: [...a.facts.podIdentityAssociations].sort() },
    fingerprint: fingerprintAddon({ version: a.facts.version, serviceAccountRoleArn: a.facts.serviceAccountRoleArn, podIdentityAssociations: a.facts.podIdentityAssociations }),
  };
}

function blockedCandidates(sas: readonly SaCandidate[], addons: readonly AddonCandidate[]): BlockedItem[] {
  const out: BlockedItem[] = [];
  for (const s of sas) {
    if (s.blockers.length === 0) continue;
    const r = s.report;
    out.push({ target: { kind: 'service-account', cluster: r.cluster, namespace: r.namespace, name: r.name, roleArn: r.role.arn }, reasons: s.blockers });
  }
  for (const a of addons) {
    if (a.blockers.length > 0) out.push({ target: { kind: 'addon', cluster: a.report.cluster, name: a.report.name }, reasons: a.blockers });
  }
  return out;
}

function blockedKey(b: BlockedItem): string {
  const t = b.target;
  switch (t.kind) {
    case 'cluster':
      return `${t.cluster}\u00000`;
    case 'addon':
      return `${t.cluster}\u00001\u0000${t.name}`;
    case 'service-account':
      return `${t.cluster}\u00002\u0000${t.namespace}\u0000${t.name}`;
    case 'role':
      return `\u0000role\u0000${t.roleArn}`;
  }
}

function sortBlocked(items: BlockedItem[]): BlockedItem[] {
  return items.sort((a, b) => cmp(blockedKey(a), blockedKey(b)));
}

function summarise(steps: readonly PlanStep[], blocked: readonly BlockedItem[], manual: number): PlanSummary {
  const count = (kind: PlanStep['kind']) => steps.filter((s) => s.kind === kind).length;
  return {
    agentsToInstall: count('install-agent'),
    rolesToUpdate: count('update-trust'),
    associationsToCreate: count('create-association'),
    addonsToUpdate: count('update-addon'),
    workloadsToRestart: steps.reduce((n, s) => n + (s.kind === 'restart-batch' ? s.workloads.length : 0), 0),
    blocked: blocked.length,
    manual,
  };
}
