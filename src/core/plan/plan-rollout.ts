/**
 * Rollouts: running pods keep the credentials they were created with, so after the association
 * exists the workloads whose pods still have IRSA (or no) credentials must be re-created. podid
 * restarts Deployments, StatefulSets and DaemonSets (pod-template annotation, like `kubectl
 * rollout restart`) in batches of --max-concurrent-rollouts; what it cannot or need not restart
 * (bare Pods, orphan ReplicaSets, running Jobs, CronJobs) is listed for the user with advice.
 * Add-on workloads are not here: EKS restarts them itself on UpdateAddon.
 */
import { parseRoleArn } from '../arn.js';
import type { WorkloadReport } from '../scan/inventory.js';
import { workloadKey } from '../scan/planning.js';
import { fingerprintRestartBatch } from './fingerprint.js';
import type { ServedAssociation } from './fingerprint.js';
import type { ManualItem, RestartBatchStep, RolloutTarget } from './model.js';
import type { SaCandidate } from './plan-select.js';
import { compareStrings } from '../text.js';

export const ADVICE = {
  Pod: 'delete and recreate the Pod after the association exists; podid cannot restart a Pod without a controller it knows',
  ReplicaSet: 'delete its pods after the association exists; the ReplicaSet re-creates them with Pod Identity credentials',
  Job: 'let it finish; reruns pick up Pod Identity',
  CronJobRunning: 'let the running Job finish; the next run uses Pod Identity',
  CronJob: 'nothing to do: the next run uses Pod Identity',
  Unseen: 'restart it yourself after the association exists (podid did not read the workload object, so it cannot restart it safely)',
} as const;

/**
 * A cross-account workload: its pods can only get credentials once the target role (in an
 * account podid does not change) trusts the source role with the association's externalId,
 * which exists only after the association is created. So podid never restarts it on its own.
 */
export function crossAccountAdvice(kind: RolloutTarget['kind'], namespace: string, name: string, targetRole: string): string {
  const parsed = parseRoleArn(targetRole);
  const where = parsed.ok ? `account ${parsed.arn.account}` : 'the target role account';
  return `after the association exists, add the target trust statement with its externalId to ${targetRole} (in ${where}), then run: kubectl -n ${namespace} rollout restart ${kind.toLowerCase()}/${name}`;
}

const cmp = compareStrings;
const RESTARTABLE = new Set<WorkloadReport['kind']>(['Deployment', 'StatefulSet', 'DaemonSet']);

export const restartStepId = (clusterArn: string, batch: number) => `restart:${clusterArn}/${batch}`;

interface Target {
  target: RolloutTarget;
  uid: string;
  dependsOn: Set<string>;
  /** Existing associations (partial SAs) the restart relies on, by namespace/name. */
  associations: Map<string, ServedAssociation>;
}

export interface RolloutPlan {
  steps: RestartBatchStep[];
  manual: ManualItem[];
}

/**
 * `dependenciesOf` names the steps a candidate's restart must wait for (its association, the
 * cluster's agent install, its role's trust update).
 */
export function planRollouts(
  candidates: readonly SaCandidate[],
  opts: { restart: boolean; maxConcurrentRollouts: number },
  dependenciesOf: (c: SaCandidate) => string[],
): RolloutPlan {
  const manual: ManualItem[] = [];
  const byCluster = new Map<string, Map<string, Target>>();

  for (const c of candidates) {
    const cluster = c.report.cluster;
    for (const w of c.report.workloads) {
      const stale = w.pods.irsa + w.pods.none;
      const note = (kind: ManualItem['kind'], advice: string) =>
        manual.push({ cluster, kind, namespace: w.namespace, name: w.name, serviceAccount: c.report.name, advice });
      if (RESTARTABLE.has(w.kind)) {
        if (stale === 0) continue;
        const kind = w.kind as RolloutTarget['kind'];
        if (c.targetRole !== null) {
          note(kind, crossAccountAdvice(kind, w.namespace, w.name, c.targetRole));
          continue;
        }
        if (!opts.restart) continue;
        const wKey = workloadKey(kind, w.namespace, w.name);
        const uid = Object.hasOwn(c.cluster.facts.workloads, wKey) ? c.cluster.facts.workloads[wKey] : undefined;
        if (uid === undefined) {
          note(kind, ADVICE.Unseen);
          continue;
        }
        const targets = byCluster.get(cluster) ?? new Map<string, Target>();
        byCluster.set(cluster, targets);
        const key = `${w.namespace}/${w.name}/${kind}`;
        const t: Target = targets.get(key) ?? {
          target: { kind, namespace: w.namespace, name: w.name, serviceAccounts: [] },
          uid,
          dependsOn: new Set<string>(),
          associations: new Map<string, ServedAssociation>(),
        };
        targets.set(key, t);
        if (!t.target.serviceAccounts.includes(c.report.name)) t.target.serviceAccounts = [...t.target.serviceAccounts, c.report.name].sort();
        for (const d of dependenciesOf(c)) t.dependsOn.add(d);
        const existing = c.mode === 'restart' ? existingAssociation(c) : null;
        if (existing !== null) t.associations.set(`${existing.namespace}/${existing.serviceAccount}`, existing);
      } else if (w.kind === 'CronJob') {
        // A CronJob's next Job gets Pod Identity by itself; worth saying once, when it moves.
        if (stale > 0) note('CronJob', ADVICE.CronJobRunning);
        else if (c.mode === 'associate') note('CronJob', ADVICE.CronJob);
      } else if (stale > 0) {
        if (w.kind === 'Job') note('Job', ADVICE.Job);
        else if (w.kind === 'ReplicaSet') note('ReplicaSet', ADVICE.ReplicaSet);
        else note('Pod', ADVICE.Pod);
      }
    }
  }

  const size = opts.maxConcurrentRollouts;
  const steps: RestartBatchStep[] = [];
  for (const [cluster, targets] of [...byCluster].sort(([a], [b]) => cmp(a, b))) {
    const ordered = [...targets.entries()].sort(([a], [b]) => cmp(a, b)).map(([, t]) => t);
    for (let start = 0, batch = 1; start < ordered.length; start += size, batch++) {
      const chunk = ordered.slice(start, start + size);
      steps.push({
        id: restartStepId(cluster, batch),
        dependsOn: [...new Set(chunk.flatMap((t) => [...t.dependsOn]))].sort(),
        kind: 'restart-batch',
        cluster,
        batch,
        workloads: chunk.map((t) => t.target),
        fingerprint: fingerprintRestartBatch(chunk.map((t) => t.uid), uniqueAssociations(chunk)),
      });
    }
  }

  manual.sort((a, b) => cmp(a.cluster, b.cluster) || cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.kind, b.kind) || cmp(a.serviceAccount, b.serviceAccount));
  return { steps, manual };
}

/** The association of a partial service account, as the scan read it (not one an add-on owns). */
function existingAssociation(c: SaCandidate): ServedAssociation | null {
  const { namespace, name } = c.report;
  const a = c.cluster.facts.associations.find((x) => x.namespace === namespace && x.serviceAccount === name && x.ownerArn === null)
    ?? c.cluster.facts.associations.find((x) => x.namespace === namespace && x.serviceAccount === name);
  return a === undefined ? null : { namespace, serviceAccount: name, associationId: a.associationId, roleArn: a.roleArn, targetRoleArn: a.targetRoleArn };
}

function uniqueAssociations(chunk: readonly Target[]): ServedAssociation[] {
  const all = new Map<string, ServedAssociation>();
  for (const t of chunk) for (const [k, a] of t.associations) all.set(k, a);
  return [...all.values()];
}
