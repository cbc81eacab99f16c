/**
 * What to do about running pods that still have IRSA (or no) credentials, fitting each pod's
 * controller: `kubectl rollout restart` restarts a Deployment's, StatefulSet's or DaemonSet's
 * pods, but not a bare Pod (delete and recreate it), a Job's pod (let it finish, or delete and
 * re-run the Job) or another controller's (named, to restart through it). Shared by the scan's
 * PODS_NEED_RESTART finding and finalize's refusal, so both give the same advice.
 */
import { compareStrings } from './text.js';

export interface StalePod {
  name: string;
  owner: { kind: string; name: string } | null;
}

/** Controllers of a pod that `kubectl rollout restart` restarts (a ReplicaSet through its Deployment). */
const ROLLOUT_OWNERS = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet']);

export const isRolloutRestartable = (p: StalePod): boolean => p.owner !== null && ROLLOUT_OWNERS.has(p.owner.kind);

/** Pod names, sorted, comma-separated. */
export const podNames = (pods: readonly { name: string }[]): string => pods.map((p) => p.name).sort(compareStrings).join(', ');

/**
 * One clause per kind of controller among `pods` (none empty), in a fixed order: rollouts,
 * bare Pods, Jobs, other controllers. `rolloutHow` is said in the rollouts' parentheses.
 */
export function restartAdvice(pods: readonly StalePod[], rolloutHow = 'kubectl rollout restart'): string[] {
  const bare = pods.filter((p) => p.owner === null);
  const jobs = pods.filter((p) => p.owner?.kind === 'Job');
  const rollouts = pods.filter(isRolloutRestartable);
  const others = pods.filter((p) => p.owner !== null && p.owner.kind !== 'Job' && !isRolloutRestartable(p));
  const todo: string[] = [];
  if (rollouts.length > 0) todo.push(`restart ${rollouts.length === pods.length ? 'their workloads' : `the workloads of ${podNames(rollouts)}`} (${rolloutHow})`);
  if (bare.length > 0) todo.push(`delete and recreate ${bare.length === 1 ? 'Pod' : 'Pods'} ${podNames(bare)} (no controller restarts ${bare.length === 1 ? 'it' : 'them'})`);
  if (jobs.length > 0) todo.push(`let ${jobs.length === 1 ? 'the Job' : 'the Jobs'} of ${podNames(jobs)} finish, or delete and re-run ${jobs.length === 1 ? 'it' : 'them'}`);
  if (others.length > 0) todo.push(`restart ${podNames(others)} through ${others.length === 1 ? 'its controller' : 'their controllers'} (${[...new Set(others.map((p) => `${p.owner!.kind}/${p.owner!.name}`))].sort(compareStrings).join(', ')})`);
  return todo;
}
