/** Pod status as the kubelet reports it, per lifecycle stage the sandbox models. */
import type { JsonObject } from '../world-types.js';
import { getPath, isObj, isoTime, objList } from './util.js';
import { wildcardMatch } from '../../core/text.js';

export type PodStage = 'unschedulable' | 'starting' | 'running' | 'succeeded';

function condition(type: string, status: boolean, at: string, reason?: string): JsonObject {
  return { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}) };
}

function containers(pod: JsonObject): JsonObject[] {
  return objList(getPath(pod, 'spec.containers'));
}

/** The `status` of a pod at `stage`, reached at clock time `at`. */
export function podStatus(pod: JsonObject, stage: PodStage, at: number, hostIP: string, podIP: string): JsonObject {
  const t = isoTime(at);
  if (stage === 'unschedulable') {
    return {
      phase: 'Pending',
      conditions: [{ ...condition('PodScheduled', false, t, 'Unschedulable'), message: '0/0 nodes are available: no node matches the pod\'s node selector.' }],
      qosClass: 'BestEffort',
    };
  }
  const started = stage === 'running';
  const done = stage === 'succeeded';
  const ready = started;
  const statuses = containers(pod).map((c) => {
    const image = String(c.image ?? '');
    const base: JsonObject = {
      name: c.name,
      image,
      imageID: stage === 'starting' ? '' : `${image.split(':')[0] ?? image}@sha256:${'0'.repeat(64)}`,
      ready,
      restartCount: 0,
      started,
      lastState: {},
    };
    if (stage === 'starting') base.state = { waiting: { reason: 'ContainerCreating' } };
    else if (done) base.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } };
    else base.state = { running: { startedAt: t } };
    if (stage !== 'starting') base.containerID = `containerd://${'c'.repeat(64)}`;
    return base;
  });
  return {
    phase: stage === 'starting' ? 'Pending' : done ? 'Succeeded' : 'Running',
    conditions: [
      condition('PodReadyToStartContainers', stage !== 'starting', t),
      condition('Initialized', true, t, done ? 'PodCompleted' : undefined),
      condition('Ready', ready, t, done ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady'),
      condition('ContainersReady', ready, t, done ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady'),
      condition('PodScheduled', true, t),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: t,
    containerStatuses: statuses,
    qosClass: 'BestEffort',
  };
}

export function podPhase(pod: JsonObject): string {
  return String(getPath(pod, 'status.phase') ?? '');
}

export function podReady(pod: JsonObject): boolean {
  if (podPhase(pod) !== 'Running') return false;
  const conds = objList(getPath(pod, 'status.conditions'));
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Pods that still occupy a slot of their controller (not finished). */
export function podActive(pod: JsonObject): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** The controller ownerReference uid of an object, if any. */
export function controllerUid(obj: JsonObject): string | undefined {
  const refs = objList(getPath(obj, 'metadata.ownerReferences'));
  const ref = refs.find((r) => r.controller === true) ?? refs[0];
  return isObj(ref) && typeof ref.uid === 'string' ? ref.uid : undefined;
}

/** EKS Fargate profile selectors accept `*` and `?` wildcards in the namespace. */
export function globMatch(pattern: string, value: string): boolean {
  return wildcardMatch(pattern, value);
}
