/**
 * What to do about running pods that still have IRSA (or no) credentials, fitting each pod's
 * controller: `kubectl rollout restart` restarts a Deployment's, StatefulSet's or DaemonSet's
 * pods, but not a bare Pod (delete and recreate it), a bare ReplicaSet's pod (one no Deployment
 * owns: delete the pod, the ReplicaSet recreates it), a Job's pod (let it finish, or delete and
 * re-run the Job) or another controller's (named, to restart through it). Shared by the scan's
 * PODS_NEED_RESTART finding and finalize's refusal, so both give the same advice.
 */
import { compareStrings } from './text.js';

type Owner = { kind: string; name: string };

export interface StalePod {
  name: string;
  owner: Owner | null;
  /**
   * For a pod owned by a ReplicaSet: that ReplicaSet's own controller as the scan read it (a
   * Deployment, or e.g. an Argo Rollout); null when it has none (a bare ReplicaSet, which
   * `kubectl rollout restart` cannot restart). Absent when the ReplicaSet was not read: taken to
   * be a Deployment's, as nearly every ReplicaSet is.
   */
  replicaSetOwner?: Owner | null;
}

/**
 * `pods` with each ReplicaSet-owned pod's `replicaSetOwner` from `workloads` (the scan's
 * ReplicaSets: their `owner` tells a Deployment's from a bare one). Pass the workloads of the
 * pods' namespace, or more.
 */
export function withReplicaSetOwners<P extends StalePod & { namespace: string }>(pods: readonly P[], workloads: readonly { kind: string; namespace: string; name: string; owner: Owner | null }[]): P[] {
  const replicaSets = new Map(workloads.filter((w) => w.kind === 'ReplicaSet').map((w) => [`${w.namespace}/${w.name}`, w.owner]));
  return pods.map((p) => {
    if (p.owner?.kind !== 'ReplicaSet') return p;
    const key = `${p.namespace}/${p.owner.name}`;
    return replicaSets.has(key) ? { ...p, replicaSetOwner: replicaSets.get(key) ?? null } : p;
  });
}

/** Controllers of a pod that `kubectl rollout restart` restarts (a ReplicaSet through its Deployment). */
const ROLLOUT_OWNERS = new Set(['StatefulSet', 'DaemonSet']);

export const isRolloutRestartable = (p: StalePod): boolean =>
  p.owner !== null && (ROLLOUT_OWNERS.has(p.owner.kind) || (p.owner.kind === 'ReplicaSet' && (p.replicaSetOwner === undefined || p.replicaSetOwner?.kind === 'Deployment')));

/** A pod of a ReplicaSet no controller owns: deleting the pod is how it restarts. */
const isBareReplicaSetPod = (p: StalePod): boolean => p.owner?.kind === 'ReplicaSet' && p.replicaSetOwner === null;

/** The controller to restart a pod through: its own, or its ReplicaSet's (an Argo Rollout's ReplicaSet). */
const controllerOf = (p: StalePod): Owner => (p.owner!.kind === 'ReplicaSet' && p.replicaSetOwner ? p.replicaSetOwner : p.owner!);

/** Pod names, sorted, comma-separated. */
export const podNames = (pods: readonly { name: string }[]): string => pods.map((p) => p.name).sort(compareStrings).join(', ');

/** `Kind/name`s, sorted, deduplicated, comma-separated. */
const ownerNames = (owners: readonly Owner[]): string => [...new Set(owners.map((o) => `${o.kind}/${o.name}`))].sort(compareStrings).join(', ');

/**
 * One clause per kind of controller among `pods` (none empty), in a fixed order: rollouts,
 * bare Pods, bare ReplicaSets' pods, Jobs, other controllers. `rolloutHow` is said in the
 * rollouts' parentheses.
 */
export function restartAdvice(pods: readonly StalePod[], rolloutHow = 'kubectl rollout restart'): string[] {
  const bare = pods.filter((p) => p.owner === null);
  const bareSets = pods.filter(isBareReplicaSetPod);
  const jobs = pods.filter((p) => p.owner?.kind === 'Job');
  const rollouts = pods.filter(isRolloutRestartable);
  const others = pods.filter((p) => p.owner !== null && p.owner.kind !== 'Job' && !isRolloutRestartable(p) && !isBareReplicaSetPod(p));
  const todo: string[] = [];
  if (rollouts.length > 0) todo.push(`restart ${rollouts.length === pods.length ? 'their workloads' : `the workloads of ${podNames(rollouts)}`} (${rolloutHow})`);
  if (bare.length > 0) todo.push(`delete and recreate ${bare.length === 1 ? 'Pod' : 'Pods'} ${podNames(bare)} (no controller restarts ${bare.length === 1 ? 'it' : 'them'})`);
  if (bareSets.length > 0) {
    const sets = ownerNames(bareSets.map((p) => p.owner!));
    const one = new Set(bareSets.map((p) => p.owner!.name)).size === 1;
    todo.push(`delete ${bareSets.length === 1 ? 'Pod' : 'Pods'} ${podNames(bareSets)} (${sets}, which no Deployment owns, ${one ? 'recreates' : 'recreate'} ${bareSets.length === 1 ? 'it' : 'them'})`);
  }
  if (jobs.length > 0) todo.push(`let ${jobs.length === 1 ? 'the Job' : 'the Jobs'} of ${podNames(jobs)} finish, or delete and re-run ${jobs.length === 1 ? 'it' : 'them'}`);
  if (others.length > 0) todo.push(`restart ${podNames(others)} through ${others.length === 1 ? 'its controller' : 'their controllers'} (${ownerNames(others.map(controllerOf))})`);
  return todo;
}
