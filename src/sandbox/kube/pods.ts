/** Pod status as the kubelet reports it, per lifecycle stage the sandbox models. */
import type { JsonObject } from '../world-types.js';
import { getPath, isObj, isoTime, objList } from './util.js';
import { wildcardMatch } from '../../core/text.js';

export type PodStage = 'unschedulable' | 'starting' | 'running' | 'succeeded' | 'ImagePullBackOff' | 'CrashLoopBackOff';

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
  const pulling = stage === 'starting' || stage === 'ImagePullBackOff';
  const crashing = stage === 'CrashLoopBackOff';
  const ready = started;
  const podName = String(getPath(pod, 'metadata.name') ?? '');
  const statuses = containers(pod).map((c) => {
    const image = String(c.image ?? '');
    const base: JsonObject = {
      name: c.name,
      image,
      imageID: pulling ? '' : `${image.split(':')[0] ?? image}@sha256:${'0'.repeat(64)}`,
      ready,
      restartCount: crashing ? 5 : 0,
      started: started || false,
      lastState: crashing ? { terminated: { exitCode: 1, reason: 'Error', startedAt: t, finishedAt: t, containerID: `containerd://${'c'.repeat(64)}` } } : {},
    };
    if (stage === 'starting') base.state = { waiting: { reason: 'ContainerCreating' } };
    else if (stage === 'ImagePullBackOff') base.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
    else if (crashing) base.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=${String(c.name)} pod=${podName}` } };
    else if (done) base.state = { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } };
    else base.state = { running: { startedAt: t } };
    if (!pulling) base.containerID = `containerd://${'c'.repeat(64)}`;
    return base;
  });
  const notReady = done ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
  const notReadyMessage = ready || done ? undefined : `containers with unready status: [${containers(pod).map((c) => String(c.name)).join(' ')}]`;
  const cond = (type: string, status: boolean, reason?: string) => ({ ...condition(type, status, t, reason), ...(!status && notReadyMessage ? { message: notReadyMessage } : {}) });
  return {
    phase: pulling ? 'Pending' : done ? 'Succeeded' : 'Running',
    conditions: [
      condition('PodReadyToStartContainers', stage !== 'starting', t),
      condition('Initialized', true, t, done ? 'PodCompleted' : undefined),
      cond('Ready', ready, notReady),
      cond('ContainersReady', ready, notReady),
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

/** Pods marked for deletion (Terminating), waiting out their grace period. */
export function podTerminating(pod: JsonObject): boolean {
  return getPath(pod, 'metadata.deletionTimestamp') !== undefined;
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
