/**
 * The one program the sandbox "runs": `aws sts get-caller-identity`. A pod whose container
 * command or args call it completes once it has started: the server (which can await the
 * credential model) asks `probeCredentials` what the pod's SDK would obtain and finishes the pod
 * with what the AWS CLI would print — the caller identity JSON (phase Succeeded, exit code 0), or
 * its error text (phase Failed, exit code 255). The text is served as the pod's log
 * (`GET .../pods/NAME/log`). Every other container runs forever and logs nothing.
 */
import type { JsonObject } from '../world-types.js';
import type { KubeCore } from './cluster.js';
import { podPhase, podStatus, podTerminating } from './pods.js';
import { metaOf, nameOf, namespaceOf, type Entry } from './store.js';
import { clone, getPath, objList } from './util.js';

/** Whether a container calls `aws sts get-caller-identity` (directly, or in a shell command line). */
export function callsGetCallerIdentity(pod: JsonObject): boolean {
  return objList(getPath(pod, 'spec.containers')).some((c) => {
    const words = [...(Array.isArray(c.command) ? c.command : []), ...(Array.isArray(c.args) ? c.args : [])].map(String).join(' ').split(/\s+/);
    const i = words.indexOf('sts');
    return i !== -1 && words[i + 1] === 'get-caller-identity' && words.slice(0, i).some((w) => w === 'aws' || w.endsWith('/aws'));
  });
}

/** A pod's containers cannot change, so whether it calls get-caller-identity is decided once per pod. */
const calls = new WeakMap<Entry, boolean>();
function caller(e: Entry): boolean {
  let v = calls.get(e);
  if (v === undefined) {
    v = callsGetCallerIdentity(e.obj);
    calls.set(e, v);
  }
  return v;
}

/** Started (Running) get-caller-identity pods that have not run yet. */
export function callerIdentityPodsToRun(k: KubeCore): { namespace: string; name: string }[] {
  k.reconcile();
  return k.store
    .list('pods')
    .filter((e) => caller(e) && podPhase(e.obj) === 'Running' && !podTerminating(e.obj) && !k.podLogs.has(String(metaOf(e.obj).uid)))
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
