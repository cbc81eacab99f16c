/**
 * Rollout status exactly as `kubectl rollout status` judges it (kubectl's
 * pkg/polymorphichelpers/rollout_status.go: DeploymentStatusViewer, StatefulSetStatusViewer,
 * DaemonSetStatusViewer), plus podid's definition of stuck: no progress at all within
 * --rollout-timeout. Pure; the waiting loop takes a clock.
 */
import type { Clock, WorkloadState } from './ports.js';

export type RolloutJudgement =
  | { state: 'done'; message: string }
  | { state: 'waiting'; message: string }
  /** The controller itself says it failed (ProgressDeadlineExceeded), or the strategy cannot be followed. */
  | { state: 'failed'; message: string };

const short = (w: WorkloadState) => `${w.kind === 'Deployment' ? 'deployment' : w.kind === 'StatefulSet' ? 'statefulset' : 'daemon set'} "${w.name}"`;

export function rolloutStatus(w: WorkloadState): RolloutJudgement {
  const s = w.status;
  if (w.kind === 'Deployment') {
    if (w.generation <= s.observedGeneration) {
      const progressing = s.conditions.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'failed', message: `${short(w)} exceeded its progress deadline` };
      // kubectl waits on a paused Deployment (kubectl rollout pause) until --timeout; its controller
      // replaces no pod until it is resumed, so podid says so at once instead of waiting out
      // --rollout-timeout with no progress. spec.paused says it directly; the controller's
      // DeploymentPaused condition only when the Deployment has a progress deadline.
      const paused = w.paused === true || progressing?.reason === 'DeploymentPaused';
      const waiting = (message: string): RolloutJudgement =>
        paused
          ? { state: 'failed', message: `${short(w)} is paused: its pods are not replaced until it is resumed (kubectl rollout resume deployment/${w.name} -n ${w.namespace})` }
          : { state: 'waiting', message };
      const want = w.replicas ?? 1;
      if (s.updatedReplicas < want) return waiting(`Waiting for ${short(w)} rollout to finish: ${s.updatedReplicas} out of ${want} new replicas have been updated...`);
      if (s.replicas > s.updatedReplicas) return waiting(`Waiting for ${short(w)} rollout to finish: ${s.replicas - s.updatedReplicas} old replicas are pending termination...`);
      // Pods already created become available without the controller: keep waiting for them.
      if (s.availableReplicas < s.updatedReplicas) return { state: 'waiting', message: `Waiting for ${short(w)} rollout to finish: ${s.availableReplicas} of ${s.updatedReplicas} updated replicas are available...` };
      return { state: 'done', message: `${short(w)} successfully rolled out` };
    }
    return { state: 'waiting', message: `Waiting for ${short(w)} spec update to be observed...` };
  }
  if (w.kind === 'StatefulSet') {
    if (w.strategy !== null && w.strategy !== 'RollingUpdate') return { state: 'failed', message: `rollout status is only available for RollingUpdate strategy type (${short(w)} uses ${w.strategy})` };
    if (s.observedGeneration === 0 || w.generation > s.observedGeneration) return { state: 'waiting', message: `Waiting for ${short(w)} spec update to be observed...` };
    const want = w.replicas ?? 1;
    if (s.readyReplicas < want) return { state: 'waiting', message: `Waiting for ${want - s.readyReplicas} pods to be ready...` };
    if (w.partition !== null && w.partition > 0) {
      if (s.updatedReplicas < want - w.partition) {
        return { state: 'waiting', message: `Waiting for partitioned roll out to finish: ${s.updatedReplicas} out of ${want - w.partition} new pods have been updated...` };
      }
      return { state: 'done', message: `partitioned roll out complete: ${s.updatedReplicas} new pods have been updated...` };
    }
    if (s.updateRevision !== s.currentRevision) {
      return { state: 'waiting', message: `waiting for statefulset rolling update to complete ${s.updatedReplicas} pods at revision ${s.updateRevision ?? ''}...` };
    }
    return { state: 'done', message: `statefulset rolling update complete ${s.readyReplicas} pods at revision ${s.currentRevision ?? ''}...` };
  }
  if (w.strategy !== null && w.strategy !== 'RollingUpdate') return { state: 'failed', message: `rollout status is only available for RollingUpdate strategy type (${short(w)} uses ${w.strategy})` };
  if (w.generation <= s.observedGeneration) {
    if (s.updatedNumberScheduled < s.desiredNumberScheduled) {
      return { state: 'waiting', message: `Waiting for ${short(w)} rollout to finish: ${s.updatedNumberScheduled} out of ${s.desiredNumberScheduled} new pods have been updated...` };
    }
    if (s.numberAvailable < s.desiredNumberScheduled) {
      return { state: 'waiting', message: `Waiting for ${short(w)} rollout to finish: ${s.numberAvailable} of ${s.desiredNumberScheduled} updated pods are available...` };
    }
    return { state: 'done', message: `${short(w)} successfully rolled out` };
  }
  return { state: 'waiting', message: `Waiting for ${short(w)} spec update to be observed...` };
}

/** What changes while a rollout moves; the same signature for --rollout-timeout means stuck. */
export function progressSignature(w: WorkloadState): string {
  const s = w.status;
  return JSON.stringify([w.generation, s.observedGeneration, s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas, s.currentRevision, s.updatedNumberScheduled, s.numberAvailable]);
}

/** The workload's conditions, for the report of a stuck rollout: `Available=False (MinimumReplicasUnavailable: ...)`. */
export function describeConditions(w: WorkloadState): string {
  const bad = w.status.conditions.filter((c) => c.status !== 'True' || c.reason === 'ProgressDeadlineExceeded');
  const shown = bad.length > 0 ? bad : w.status.conditions;
  return shown.map((c) => `${c.type}=${c.status}${c.reason || c.message ? ` (${[c.reason, c.message].filter(Boolean).join(': ')})` : ''}`).join('; ');
}

export type RolloutOutcome =
  | { state: 'done'; message: string }
  | { state: 'failed'; message: string; stuck: boolean }
  | { state: 'interrupted'; message: string }
  | { state: 'gone'; message: string };

/**
 * Polls `read` until the rollout is done, fails, or makes no progress for `timeoutMs`.
 * `explain` adds what the pods say (e.g. Unschedulable) to a stuck report.
 */
export async function waitForRollout(input: {
  read: () => Promise<WorkloadState | null>;
  clock: Clock;
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
  explain?: () => Promise<string | null>;
}): Promise<RolloutOutcome> {
  let lastSig = '';
  let lastProgressAt = input.clock.now();
  for (;;) {
    const w = await input.read();
    if (w === null) return { state: 'gone', message: 'the workload was deleted during its rollout' };
    const judged = rolloutStatus(w);
    if (judged.state === 'done') return judged;
    if (judged.state === 'failed') return { state: 'failed', message: `${judged.message}; ${describeConditions(w)}`, stuck: false };
    const sig = progressSignature(w);
    const now = input.clock.now();
    if (sig !== lastSig) {
      lastSig = sig;
      lastProgressAt = now;
    } else if (now - lastProgressAt >= input.timeoutMs) {
      const why = input.explain ? await input.explain() : null;
      const conditions = describeConditions(w);
      return {
        state: 'failed',
        stuck: true,
        message: `no progress for ${Math.round(input.timeoutMs / 1000)}s: ${judged.message}${conditions ? `; conditions: ${conditions}` : ''}${why ? `; pods: ${why}` : ''}`,
      };
    }
    if (input.signal?.aborted) return { state: 'interrupted', message: `interrupted while ${judged.message}` };
    await input.clock.sleep(input.pollMs, input.signal);
  }
}
