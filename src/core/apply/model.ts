/**
 * The plan seen per ServiceAccount: which steps each SA depends on (its cluster's agent, its
 * role's trust update, its association or its add-on's update) and which workloads restart for
 * it. Pure; the executor runs the steps and judges each SA from this.
 */
import type { CreateAssociationStep, ManualItem, MigrationPlan, PlanCluster, PlanStep, RestartBatchStep, RolloutTarget, UpdateAddonStep } from '../plan/model.js';
import { compareStrings } from '../text.js';

export interface WorkloadUnit {
  /** `<batch id>#<Kind>/<namespace>/<name>` */
  id: string;
  cluster: string;
  batch: RestartBatchStep;
  target: RolloutTarget;
  /** Steps that must have succeeded before this workload restarts. */
  deps: string[];
}

export interface SubjectSa {
  key: string;
  cluster: PlanCluster;
  /** null for an add-on SA until the add-on's associations are read (the plan does not name the add-on's namespace). */
  namespace: string | null;
  serviceAccount: string;
  via: 'association' | 'addon' | 'existing-association';
  addon: UpdateAddonStep | null;
  association: CreateAssociationStep | null;
  roleArn: string | null;
  targetRoleArn: string | null;
  /** Every plan step this SA depends on (transitively). */
  steps: string[];
  workloads: WorkloadUnit[];
  manual: ManualItem[];
}

export interface ApplyModel {
  steps: Map<string, PlanStep>;
  subjects: SubjectSa[];
  workloads: WorkloadUnit[];
  clusters: Map<string, PlanCluster>;
}

export const saKey = (cluster: string, namespace: string, sa: string) => `${cluster}/${namespace}/${sa}`;

/** All steps `id` depends on, itself excluded, in plan order. */
export function closure(steps: ReadonlyMap<string, PlanStep>, ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const d of steps.get(id)?.dependsOn ?? []) visit(d);
  };
  for (const id of ids) visit(id);
  return [...steps.keys()].filter((k) => seen.has(k));
}

export function buildModel(plan: MigrationPlan): ApplyModel {
  const steps = new Map(plan.steps.map((s) => [s.id, s] as const));
  const clusters = new Map(plan.clusters.map((c) => [c.arn, c] as const));
  const subjects = new Map<string, SubjectSa>();
  const clusterOf = (arn: string): PlanCluster => clusters.get(arn) ?? { arn, name: arn.slice(arn.lastIndexOf('/') + 1), account: arn.split(':')[4] ?? '', region: arn.split(':')[3] ?? '', context: null, endpoint: '', oidcProvider: null };

  for (const s of plan.steps) {
    if (s.kind === 'create-association') {
      subjects.set(saKey(s.cluster, s.namespace, s.serviceAccount), {
        key: saKey(s.cluster, s.namespace, s.serviceAccount),
        cluster: clusterOf(s.cluster),
        namespace: s.namespace,
        serviceAccount: s.serviceAccount,
        via: 'association',
        addon: null,
        association: s,
        roleArn: s.roleArn,
        targetRoleArn: s.targetRoleArn,
        steps: closure(steps, [s.id]),
        workloads: [],
        manual: [],
      });
    } else if (s.kind === 'update-addon') {
      for (const a of s.podIdentityAssociations) {
        const key = `${s.cluster}/addon:${s.addonName}/${a.serviceAccount}`;
        subjects.set(key, {
          key,
          cluster: clusterOf(s.cluster),
          namespace: null,
          serviceAccount: a.serviceAccount,
          via: 'addon',
          addon: s,
          association: null,
          roleArn: a.roleArn,
          targetRoleArn: null,
          steps: closure(steps, [s.id]),
          workloads: [],
          manual: [],
        });
      }
    }
  }

  const workloads: WorkloadUnit[] = [];
  for (const s of plan.steps) {
    if (s.kind !== 'restart-batch') continue;
    const batchDeps = s.dependsOn;
    for (const w of s.workloads) {
      const deps = new Set<string>();
      const subjectsOf: SubjectSa[] = [];
      for (const sa of w.serviceAccounts) {
        const key = saKey(s.cluster, w.namespace, sa);
        let subject = subjects.get(key);
        if (subject === undefined) {
          // The association already exists (the SA was partial): the restart waits only for its
          // cluster's agent and the trust updates the batch waits for.
          subject = {
            key,
            cluster: clusterOf(s.cluster),
            namespace: w.namespace,
            serviceAccount: sa,
            via: 'existing-association',
            addon: null,
            association: null,
            roleArn: null,
            targetRoleArn: null,
            steps: closure(steps, batchDeps.filter((d) => steps.get(d)?.kind !== 'create-association')),
            workloads: [],
            manual: [],
          };
          subjects.set(key, subject);
        }
        subjectsOf.push(subject);
        for (const d of subject.steps) deps.add(d);
      }
      // A restart batch is never a dependency: batches run per cluster, in order (a SA's steps list
      // the batches of its other workloads, which are not for this one to wait on or run).
      const unit: WorkloadUnit = { id: `${s.id}#${w.kind}/${w.namespace}/${w.name}`, cluster: s.cluster, batch: s, target: w, deps: [...steps.keys()].filter((k) => deps.has(k) && steps.get(k)?.kind !== 'restart-batch') };
      workloads.push(unit);
      for (const subject of subjectsOf) {
        subject.workloads.push(unit);
        for (const d of [...unit.deps, s.id]) if (!subject.steps.includes(d)) subject.steps.push(d);
      }
    }
  }

  for (const m of plan.manual) {
    const subject = subjects.get(saKey(m.cluster, m.namespace, m.serviceAccount));
    if (subject) subject.manual.push(m);
  }
  const order = (x: SubjectSa) => `${x.cluster.arn}\u0000${x.namespace ?? `~${x.addon?.addonName ?? ''}`}\u0000${x.serviceAccount}`;
  return { steps, subjects: [...subjects.values()].sort((a, b) => compareStrings(order(a), order(b))), workloads, clusters };
}
