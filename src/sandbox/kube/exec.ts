/**
 * The one program the sandbox "runs": `aws sts get-caller-identity`. A pod whose container
 * command or args call it completes once it has started: the server (which can await the
 * credential model) asks `probeCredentials` what the pod's SDK would obtain and finishes the pod
 * with what the AWS CLI would print — the caller identity JSON (phase Succeeded, exit code 0), or
 * its error text (phase Failed, exit code 255). The text is served as the pod's log
 * (`GET .../pods/NAME/log`). Every other container runs forever and logs nothing. Which pods call
 * it is decided when they are created (`callsGetCallerIdentity`, pods.ts; KubeCore.callerPods).
 */
import type { JsonObject } from '../world-types.js';
import type { KubeCore } from './cluster.js';
import { podPhase, podStatus, podTerminating } from './pods.js';
import { metaOf, nameOf, namespaceOf } from './store.js';
import { clone, objList } from './util.js';

/** Started (Running) get-caller-identity pods that have not run yet, in key order. */
export function callerIdentityPodsToRun(k: KubeCore): { namespace: string; name: string }[] {
  k.reconcile();
  if (k.callerPods.size === 0) return [];
  return [...k.callerPods]
    .filter((e) => podPhase(e.obj) === 'Running' && !podTerminating(e.obj) && !k.podLogs.has(String(metaOf(e.obj).uid)))
    .sort((a, b) => ((a.order ?? '') < (b.order ?? '') ? -1 : (a.order ?? '') > (b.order ?? '') ? 1 : 0))
    .map((e) => ({ namespace: namespaceOf(e.obj), name: nameOf(e.obj) }));
}

/** Finish the pod: its containers terminated with `exitCode`, `log` its output. */
export function finishPod(k: KubeCore, namespace: string, name: string, exitCode: number, log: string): void {
  const e = k.store.get('pods', namespace, name);
  if (!e || podPhase(e.obj) !== 'Running') return;
  const next = clone(e.obj);
  const prev = (e.obj.status ?? {}) as JsonObject;
  const status = podStatus(next, 'succeeded', k.now(), String(prev.hostIP ?? ''), String(prev.podIP ?? ''));
  if (prev.startTime !== undefined) status.startTime = prev.startTime;
  if (exitCode !== 0) {
    status.phase = 'Failed';
    status.containerStatuses = objList(status.containerStatuses).map((c) => ({ ...c, state: { terminated: { ...((c.state as JsonObject).terminated as JsonObject), exitCode, reason: 'Error' } } }));
    status.conditions = objList(status.conditions).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, reason: 'PodFailed' } : c));
  }
  next.status = status;
  k.podLogs.set(String(metaOf(e.obj).uid), log);
  k.commit(e, next);
}
