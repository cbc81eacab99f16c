/** Pod status as the kubelet reports it, per lifecycle stage the sandbox models. */
import type { JsonObject } from '../world-types.js';
import { getPath, isObj, isoTime, objList, share } from './util.js';
import { wildcardMatch } from '../../core/text.js';

export type PodStage = 'unschedulable' | 'starting' | 'running' | 'succeeded' | 'ImagePullBackOff' | 'CrashLoopBackOff';

function condition(type: string, status: boolean, at: string, reason?: string): JsonObject {
  return { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}) };
}

function containers(pod: JsonObject): JsonObject[] {
  return objList(getPath(pod, 'spec.containers'));
}

/**
 * The `status` of a pod at `stage`, reached at clock time `at`. Its conditions and container
 * statuses are the same for every pod of a template at one stage and second, so they are shared
 * (frozen: see `share`), as are hostIPs per node; a fresh status object holds them.
 */
export function podStatus(pod: JsonObject, stage: PodStage, at: number, hostIP: string, podIP: string): JsonObject {
  const t = isoTime(at);
  if (stage === 'unschedulable') {
    return {
      phase: 'Pending',
      conditions: [{ ...condition('PodScheduled', false, t, 'Unschedulable'), message: '0/0 nodes are available: no node matches the pod\'s node selector.' }],
      qosClass: 'BestEffort',
    };
  }
  const done = stage === 'succeeded';
  const pulling = stage === 'starting' || stage === 'ImagePullBackOff';
  const crashing = stage === 'CrashLoopBackOff';
  const list = getPath(pod, 'spec.containers');
  const podName = crashing ? String(getPath(pod, 'metadata.name') ?? '') : '';
  const key = `${stage}|${t}|${podName}`;
  let parts = Array.isArray(list) ? statusParts.get(list)?.get(key) : undefined;
  if (!parts) {
    parts = share({ conditions: podConditions(pod, stage, t), containerStatuses: containerStatuses(pod, stage, t, podName) });
    if (Array.isArray(list)) {
      let byKey = statusParts.get(list);
      if (!byKey) statusParts.set(list, (byKey = new Map()));
      // Keys are stages and seconds: keep the recent ones (a rollout's), not a long run's history.
      if (byKey.size >= 16) byKey.clear();
      byKey.set(key, parts);
    }
  }
  return {
    phase: pulling ? 'Pending' : done ? 'Succeeded' : 'Running',
    conditions: parts.conditions,
    hostIP,
    hostIPs: hostIPs(hostIP),
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: t,
    containerStatuses: parts.containerStatuses,
    qosClass: 'BestEffort',
  };
}

/** Shared status parts per containers list (a template's, shared by its pods) and stage/second. */
const statusParts = new WeakMap<unknown[], Map<string, { conditions: JsonObject[]; containerStatuses: JsonObject[] }>>();

const hostIPLists = new Map<string, JsonObject[]>();
function hostIPs(ip: string): JsonObject[] {
  let v = hostIPLists.get(ip);
  if (!v) {
    if (hostIPLists.size >= 10_000) hostIPLists.clear();
    hostIPLists.set(ip, (v = share([{ ip }])));
  }
  return v;
}

function podConditions(pod: JsonObject, stage: PodStage, t: string): JsonObject[] {
  const done = stage === 'succeeded';
  const ready = stage === 'running';
  const notReady = done ? 'PodCompleted' : ready ? undefined : 'ContainersNotReady';
  const notReadyMessage = ready || done ? undefined : `containers with unready status: [${containers(pod).map((c) => String(c.name)).join(' ')}]`;
  const cond = (type: string, status: boolean, reason?: string) => ({ ...condition(type, status, t, reason), ...(!status && notReadyMessage ? { message: notReadyMessage } : {}) });
  return [
    condition('PodReadyToStartContainers', stage !== 'starting', t),
    condition('Initialized', true, t, done ? 'PodCompleted' : undefined),
    cond('Ready', ready, notReady),
    cond('ContainersReady', ready, notReady),
    condition('PodScheduled', true, t),
  ];
}

function containerStatuses(pod: JsonObject, stage: PodStage, t: string, podName: string): JsonObject[] {
  const started = stage === 'running';
  const done = stage === 'succeeded';
  const pulling = stage === 'starting' || stage === 'ImagePullBackOff';
  const crashing = stage === 'CrashLoopBackOff';
  const ready = started;
  return containers(pod).map((c) => {
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
}

export function podPhase(pod: JsonObject): string {
  return String(getPath(pod, 'status.phase') ?? '');
}

export function podReady(pod: JsonObject): boolean {
  const status = pod.status;
  if (!isObj(status) || status.phase !== 'Running' || !Array.isArray(status.conditions)) return false;
  for (const c of status.conditions) if (isObj(c) && c.type === 'Ready' && c.status === 'True') return true;
  return false;
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

/** Whether a container calls `aws sts get-caller-identity` (directly, or in a shell command line). */
export function callsGetCallerIdentity(pod: JsonObject): boolean {
  const list = getPath(pod, 'spec.containers');
  if (!Array.isArray(list)) return false;
  // Pods of one template share their containers list: decide once per list.
  let v = decided.get(list);
  if (v === undefined) {
    v = objList(list).some((c) => {
      const words = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String).join(' ').split(/\s+/);
      const i = words.indexOf('sts');
      return i !== -1 && words[i + 1] === 'get-caller-identity' && words.slice(0, i).some((w) => w === 'aws' || w.endsWith('/aws'));
    });
    decided.set(list, v);
  }
  return v;
}
const decided = new WeakMap<unknown[], boolean>();
