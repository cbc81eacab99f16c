/**
 * The controllers, modelled lazily: `reconcile` runs at the start of every request (after every
 * write, and on a timer while watches are open) and brings each workload as far as the sandbox
 * clock allows. The algorithms follow kube-controller-manager's:
 * - Deployment (pkg/controller/deployment): observedGeneration as soon as it syncs; rolling
 *   updates bounded by maxSurge/maxUnavailable (surge rounded up, unavailability down);
 *   `deployment.kubernetes.io/revision` on the Deployment and its ReplicaSets; Progressing and
 *   Available conditions, ProgressDeadlineExceeded after progressDeadlineSeconds without progress.
 * - ReplicaSet: creates or deletes pods to match spec.replicas (admission may refuse: ReplicaFailure).
 * - StatefulSet: ordinals created in order (OrderedReady), updated one at a time from the highest,
 *   down to `partition`; OnDelete replaces only deleted pods.
 * - DaemonSet: one pod per eligible node, replaced within maxUnavailable (or surged by maxSurge).
 * Pods start Pending and become Ready `rolloutDelayMs` after creation (never, when stuck: see
 * cluster.ts); deleted pods stay Terminating for their grace period. Doing it at request time
 * keeps the sandbox deterministic under a fake clock.
 */
import { compareStrings } from '../../core/text.js';
import type { JsonObject } from '../world-types.js';
import type { KubeCore } from './cluster.js';
import { nodeSelectorAllows } from './nodes.js';
import { controllerUid, podActive, podPhase, podReady, podStatus, podTerminating } from './pods.js';
import { resource } from './resources.js';
import { labelsOf } from './selectors.js';
import { KubeError } from './status.js';
import { metaOf, nameOf, namespaceOf, type Entry } from './store.js';
import { child, clone, deepEqual, getPath, isObj, isoTime, nameSuffix, num, objList, str, strMap, templateHash } from './util.js';

const MAX_PASSES = 50;

const CONTROLLERS: [string, (k: KubeCore, e: Entry) => boolean][] = [
  ['deployments', (k, e) => reconcileDeployment(k, e)],
  ['replicasets', (k, e) => reconcileReplicaSet(k, e)],
  ['statefulsets', (k, e) => reconcileStatefulSet(k, e)],
  ['daemonsets', (k, e) => reconcileDaemonSet(k, e)],
  ['jobs', (k, e) => reconcileJob(k, e)],
];

/**
 * Passes until nothing changes. Each pass runs every controller, in this order, over the
 * workloads with work (KubeCore.workToDo: those written, or owning something written, since
 * their last pass; all of them after a write to anything else).
 */
export function reconcile(k: KubeCore): boolean {
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const all = k.startPass();
    let changed = promotePods(k);
    changed = finishTerminations(k) || changed;
    const live = (e: Entry) => k.store.get(e.type.plural, namespaceOf(e.obj), nameOf(e.obj)) === e;
    for (const [plural, run] of CONTROLLERS) {
      for (const e of k.workToDo(plural, all)) if (live(e)) changed = k.reconcileWorkload(e, () => run(k, e)) || changed;
    }
    if (!changed && !k.hasWork) return true;
  }
  return false;
}

/** Pods whose start-up time has passed become Running and Ready. */
function promotePods(k: KubeCore): boolean {
  let changed = false;
  const now = k.now();
  for (const e of k.starting()) {
    if (e.readyAt === undefined || podPhase(e.obj) !== 'Pending') {
      k.started(e);
      continue;
    }
    if (podTerminating(e.obj)) continue;
    if (e.readyAt > now) {
      k.due(e.readyAt);
      continue;
    }
    k.started(e);
    const prev = isObj(e.obj.status) ? e.obj.status : {};
    const next: JsonObject = { ...e.obj, metadata: { ...metaOf(e.obj) } };
    const status = podStatus(next, 'running', e.readyAt, String(prev.hostIP ?? ''), String(prev.podIP ?? ''));
    if (prev.startTime !== undefined) status.startTime = prev.startTime;
    next.status = status;
    changed = k.commit(e, next) || changed;
  }
  return changed;
}

/** Terminating pods whose grace period has passed are gone. */
function finishTerminations(k: KubeCore): boolean {
  let changed = false;
  const now = k.now();
  for (const e of k.terminating()) {
    if (e.goneAt === undefined) continue;
    if (e.goneAt > now) {
      k.due(e.goneAt);
      continue;
    }
    k.removeEntry(e);
    changed = true;
  }
  return changed;
}

function specOf(e: Entry): JsonObject {
  return isObj(e.obj.spec) ? e.obj.spec : {};
}

function templateOf(e: Entry): JsonObject {
  const t = specOf(e).template;
  return isObj(t) ? t : {};
}

function generation(e: Entry): number {
  return Number(metaOf(e.obj).generation ?? 1);
}

function prevStatus(e: Entry): JsonObject {
  return isObj(e.obj.status) ? e.obj.status : {};
}

/** Drop zero counters, as the API omits `omitempty` fields. */
function omitZero(status: JsonObject, keep: string[] = []): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined) continue;
    if (v === 0 && !keep.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** A controller write that changes only status (and, optionally, annotations). */
function setStatus(k: KubeCore, e: Entry, status: JsonObject, annotations?: Record<string, string>): boolean {
  const annotationsSame = annotations === undefined || deepEqual(strMap(metaOf(e.obj).annotations), annotations);
  if (deepEqual(e.obj.status, status) && annotationsSame) return false;
  const meta = { ...metaOf(e.obj) };
  if (!annotationsSame) meta.annotations = annotations;
  return k.commit(e, { ...e.obj, metadata: meta, status });
}

function setReplicas(k: KubeCore, e: Entry, replicas: number, annotations?: Record<string, string>): boolean {
  if (num(specOf(e).replicas) === replicas && (annotations === undefined || deepEqual(strMap(metaOf(e.obj).annotations), annotations))) return false;
  const meta = { ...metaOf(e.obj) };
  if (annotations) meta.annotations = annotations;
  return k.commit(e, { ...e.obj, metadata: meta, spec: { ...specOf(e), replicas } });
}

interface Wanted {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  /** Refresh lastUpdateTime even when status and reason stay (the Deployment controller does, on progress). */
  touch?: boolean;
}

/** Conditions as controllers keep them: lastTransitionTime changes with status; lastUpdateTime with reason/message. */
function conditions(prev: unknown, wanted: Wanted[], now: number, withUpdateTime = true): JsonObject[] {
  const old = objList(prev);
  const t = isoTime(now);
  return wanted.map((w) => {
    const o = old.find((c) => c.type === w.type);
    const same = o && o.status === w.status && o.reason === w.reason && o.message === w.message && !w.touch;
    return {
      type: w.type,
      status: w.status,
      ...(withUpdateTime ? { lastUpdateTime: same ? o.lastUpdateTime : t } : {}),
      lastTransitionTime: o && o.status === w.status ? o.lastTransitionTime : t,
      reason: w.reason,
      message: w.message,
    };
  });
}

function freeName(k: KubeCore, namespace: string, base: string): string {
  for (;;) {
    const name = `${base}-${nameSuffix()}`;
    if (!k.store.get('pods', namespace, name)) return name;
  }
}

function ownerRef(e: Entry): JsonObject {
  const m = metaOf(e.obj);
  return { apiVersion: e.obj.apiVersion, kind: e.obj.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
}

/** Pods of `owner`, split into active (counted by controllers) and terminating. */
function podsOf(k: KubeCore, owner: Entry): { active: Entry[]; terminating: Entry[] } {
  const active: Entry[] = [];
  const terminating: Entry[] = [];
  for (const p of k.store.owned(String(metaOf(owner.obj).uid ?? ''))) {
    if (p.type.plural !== 'pods') continue;
    if (podTerminating(p.obj)) terminating.push(p);
    else if (podActive(p.obj)) active.push(p);
  }
  return { active, terminating };
}

/** intstr: an integer or a percentage of `total`, rounded up or down. */
function intOrPercent(v: unknown, total: number, roundUp: boolean, fallback: number): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (m) {
      const x = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(x) : Math.floor(x);
    }
    if (/^\d+$/.test(v)) return Number(v);
  }
  return fallback;
}

/** Try to create a controller's pod; admission refusals become the controller's FailedCreate. */
function tryCreatePod(k: KubeCore, owner: Entry, template: JsonObject, name: string, extra?: { labels?: Record<string, string>; nodeName?: string }): string | undefined {
  try {
    k.createPod(owner, template, name, extra);
    return undefined;
  } catch (err) {
    if (err instanceof KubeError) return err.message;
    throw err;
  }
}

export const REVISION = 'deployment.kubernetes.io/revision';

function revisionOf(e: Entry): number {
  return Number(strMap(getPath(e.obj, 'metadata.annotations'))[REVISION] ?? 0);
}

/** The template a Deployment's ReplicaSet was made from (its own, without pod-template-hash). */
function rsHash(e: Entry): string | undefined {
  return labelsOf(e.obj)['pod-template-hash'];
}

function reconcileDeployment(k: KubeCore, d: Entry): boolean {
  const spec = specOf(d);
  const desired = num(spec.replicas) ?? 1;
  const template = templateOf(d);
  const hash = templateHash(template);
  const ns = namespaceOf(d.obj);
  const now = k.now();
  const recreate = getPath(spec, 'strategy.type') === 'Recreate';
  const maxSurge = recreate ? 0 : intOrPercent(getPath(spec, 'strategy.rollingUpdate.maxSurge'), desired, true, 0);
  let maxUnavailable = recreate ? 0 : intOrPercent(getPath(spec, 'strategy.rollingUpdate.maxUnavailable'), desired, false, 0);
  if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  if (maxUnavailable > desired) maxUnavailable = desired;
  let changed = false;
  let created = false;
  let rses = k.ownedBy(d, 'replicasets');
  let current = rses.find((r) => rsHash(r) === hash);
  const maxRevision = Math.max(0, ...rses.map(revisionOf));
  const paused = spec.paused === true;
  // Pods per ReplicaSet, read once per pass and re-read after this controller changes them.
  const podCache = new Map<Entry, { active: Entry[]; terminating: Entry[] }>();
  const count = (r: Entry) => {
    let c = podCache.get(r);
    if (!c) podCache.set(r, (c = podsOf(k, r)));
    return c;
  };
  const replicasOf = (r: Entry) => num(getPath(r.obj, 'spec.replicas')) ?? 0;

  if (!current && !paused) {
    const tpl = clone(template);
    const tmeta = child(tpl, 'metadata');
    tmeta.labels = { ...strMap(tmeta.labels), 'pod-template-hash': hash };
    const selector = clone(isObj(spec.selector) ? spec.selector : {});
    selector.matchLabels = { ...strMap(selector.matchLabels), 'pod-template-hash': hash };
    const total = rses.reduce((n, r) => n + replicasOf(r), 0);
    // The first ReplicaSet starts at full size; a new one during a rolling update starts within the surge.
    const initial = recreate ? (rses.every((r) => replicasOf(r) === 0 && count(r).active.length + count(r).terminating.length === 0) ? desired : 0)
      : total === 0 ? desired : Math.max(0, Math.min(desired, desired + maxSurge - total));
    k.create(resource('replicasets'), {
      metadata: {
        name: `${nameOf(d.obj)}-${hash}`,
        namespace: ns,
        labels: tmeta.labels,
        annotations: {
          'deployment.kubernetes.io/desired-replicas': String(desired),
          'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
          [REVISION]: String(maxRevision + 1),
        },
        ownerReferences: [ownerRef(d)],
      },
      spec: { replicas: initial, minReadySeconds: num(spec.minReadySeconds) ?? 0, selector, template: tpl },
    });
    changed = true;
    created = true;
    rses = k.ownedBy(d, 'replicasets');
    current = rses.find((r) => rsHash(r) === hash);
  }
  const old = rses.filter((r) => r !== current);
  if (current) {
    // Rolling back to an earlier template re-uses its ReplicaSet under a new revision number.
    const ann: Record<string, string> = { ...strMap(metaOf(current.obj).annotations), 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + maxSurge) };
    if (revisionOf(current) < maxRevision) {
      const history = [ann['deployment.kubernetes.io/revision-history'], ann[REVISION]].filter(Boolean).join(',');
      ann['deployment.kubernetes.io/revision-history'] = history;
      ann[REVISION] = String(maxRevision + 1);
    }
    changed = setReplicas(k, current, replicasOf(current), ann) || changed;
  }

  if (current && !paused) {
    if (recreate) {
      for (const r of old) changed = setReplicas(k, r, 0) || changed;
      const oldLeft = old.some((r) => { const c = count(r); return c.active.length + c.terminating.length > 0; });
      if (!oldLeft) changed = setReplicas(k, current, desired) || changed;
    } else {
      // Scale up the new ReplicaSet within maxSurge.
      const all = () => rses.reduce((n, r) => n + replicasOf(r), 0);
      const newReplicas = replicasOf(current);
      if (newReplicas > desired) changed = setReplicas(k, current, desired) || changed;
      else if (newReplicas < desired) {
        const room = desired + maxSurge - all();
        if (room > 0) changed = setReplicas(k, current, newReplicas + Math.min(room, desired - newReplicas)) || changed;
      }
      // Scale down old ReplicaSets within maxUnavailable: unhealthy pods first, then by availability.
      const available = (r: Entry) => count(r).active.filter((p) => podReady(p.obj)).length;
      const oldTotal = old.reduce((n, r) => n + replicasOf(r), 0);
      if (oldTotal > 0) {
        const minAvailable = desired - maxUnavailable;
        const newUnavailable = replicasOf(current) - available(current);
        let maxScaledDown = all() - minAvailable - newUnavailable;
        const oldest = [...old].sort((a, b) => compareStrings(String(metaOf(a.obj).creationTimestamp), String(metaOf(b.obj).creationTimestamp)) || revisionOf(a) - revisionOf(b));
        for (const r of oldest) {
          if (maxScaledDown <= 0) break;
          const unhealthy = replicasOf(r) - available(r);
          if (unhealthy <= 0) continue;
          const by = Math.min(maxScaledDown, unhealthy);
          changed = setReplicas(k, r, replicasOf(r) - by) || changed;
          maxScaledDown -= by;
        }
        const availableAll = rses.reduce((n, r) => n + Math.min(available(r), replicasOf(r)), 0);
        let scaleDown = Math.min(availableAll - minAvailable, all() - minAvailable - newUnavailable);
        for (const r of oldest) {
          if (scaleDown <= 0) break;
          const by = Math.min(replicasOf(r), scaleDown);
          if (by <= 0) continue;
          changed = setReplicas(k, r, replicasOf(r) - by) || changed;
          scaleDown -= by;
        }
      }
    }
  }

  // Old ReplicaSets beyond revisionHistoryLimit go, oldest revision first.
  const limit = num(spec.revisionHistoryLimit) ?? 10;
  const idle = old.filter((r) => replicasOf(r) === 0 && count(r).active.length === 0 && count(r).terminating.length === 0 && k.store.get('replicasets', ns, nameOf(r.obj)) === r).sort((a, b) => revisionOf(a) - revisionOf(b));
  while (idle.length > limit) {
    const r = idle.shift();
    if (r) k.removeEntry(r);
    changed = true;
  }

  // Status, as syncRolloutStatus computes it.
  const live = k.ownedBy(d, 'replicasets');
  let replicas = 0;
  let ready = 0;
  for (const r of live) {
    const c = count(r);
    replicas += c.active.length;
    ready += c.active.filter((p) => podReady(p.obj)).length;
  }
  const updated = current ? count(current).active.length : 0;
  const available = ready;
  const complete = current !== undefined && updated === desired && replicas === desired && available === desired;
  const prev = prevStatus(d);
  const rsName = current ? nameOf(current.obj) : `${nameOf(d.obj)}-${hash}`;
  const deadline = (num(spec.progressDeadlineSeconds) ?? 600) * 1000;
  const prevProgressing = objList(prev.conditions).find((c) => c.type === 'Progressing');
  const prevOld = (num(prev.replicas) ?? 0) - (num(prev.updatedReplicas) ?? 0);
  const progressed = updated > (num(prev.updatedReplicas) ?? 0) || ready > (num(prev.readyReplicas) ?? 0) || available > (num(prev.availableReplicas) ?? 0) || replicas - updated < prevOld;
  let progressing: Wanted;
  if (paused) progressing = { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' };
  else if (complete) progressing = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` };
  else if (created) progressing = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"`, touch: true };
  else if (progressed || !prevProgressing || prevProgressing.reason === 'NewReplicaSetAvailable' || prevProgressing.reason === 'DeploymentPaused') {
    progressing = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.`, touch: true };
  } else {
    // No progress: the deadline runs from the last time the condition was updated.
    const since = Date.parse(String(prevProgressing.lastUpdateTime ?? '')) || now;
    if (prevProgressing.reason === 'ProgressDeadlineExceeded' || now >= since + deadline) {
      progressing = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` };
    } else {
      progressing = { type: 'Progressing', status: String(prevProgressing.status) as Wanted['status'], reason: String(prevProgressing.reason), message: String(prevProgressing.message) };
      k.due(since + deadline);
    }
  }
  const minAvailable = desired - maxUnavailable;
  const wanted: Wanted[] = [
    available >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    progressing,
  ];
  const failure = current ? objList(getPath(current.obj, 'status.conditions')).find((c) => c.type === 'ReplicaFailure' && c.status === 'True') : undefined;
  if (failure) wanted.push({ type: 'ReplicaFailure', status: 'True', reason: String(failure.reason), message: String(failure.message) });
  const conds = conditions(prev.conditions, wanted, now);
  const status = omitZero({
    observedGeneration: generation(d),
    replicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, desired - available),
    conditions: conds,
    collisionCount: prev.collisionCount,
  });
  const annotations = { ...strMap(metaOf(d.obj).annotations) };
  if (current) annotations[REVISION] = String(revisionOf(current));
  return setStatus(k, d, status, annotations) || changed;
}

/** Scale down the least useful pods first: unscheduled, then not ready, then newest. */
function victims(pods: Entry[], count: number): Entry[] {
  if (count <= 0) return [];
  const scheduled = (p: Entry) => Number(getPath(p.obj, 'spec.nodeName') !== undefined);
  return [...pods]
    .sort((a, b) => scheduled(a) - scheduled(b) || Number(podReady(a.obj)) - Number(podReady(b.obj)) || compareStrings(String(metaOf(b.obj).creationTimestamp), String(metaOf(a.obj).creationTimestamp)))
    .slice(0, count);
}

function reconcileReplicaSet(k: KubeCore, rs: Entry): boolean {
  const desired = num(specOf(rs).replicas) ?? 1;
  const ns = namespaceOf(rs.obj);
  let changed = false;
  let failure: string | undefined;
  const { active } = podsOf(k, rs);
  for (let i = active.length; i < desired; i++) {
    failure = tryCreatePod(k, rs, templateOf(rs), freeName(k, ns, nameOf(rs.obj)));
    if (failure) break;
    changed = true;
  }
  for (const p of victims(active, active.length - desired)) {
    k.deletePod(p);
    changed = true;
  }
  const now = podsOf(k, rs).active;
  const ready = now.filter((p) => podReady(p.obj)).length;
  const prev = prevStatus(rs);
  const status = omitZero(
    {
      replicas: now.length,
      fullyLabeledReplicas: now.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: generation(rs),
      conditions: failure ? conditions(prev.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }], k.now(), false) : undefined,
    },
    ['replicas'],
  );
  return setStatus(k, rs, status) || changed;
}

/** Pod templates by revision name, per StatefulSet (the sandbox's ControllerRevisions). */
function revisionTemplate(s: Entry, revision: string, template: JsonObject): void {
  s.revisions ??= new Map();
  if (!s.revisions.has(revision)) s.revisions.set(revision, clone(template));
}

function reconcileStatefulSet(k: KubeCore, s: Entry): boolean {
  const spec = specOf(s);
  const desired = num(spec.replicas) ?? 1;
  const name = nameOf(s.obj);
  const ns = namespaceOf(s.obj);
  const template = templateOf(s);
  const updateRevision = `${name}-${templateHash(template)}`;
  revisionTemplate(s, updateRevision, template);
  const prev = prevStatus(s);
  const currentRevision = str(prev.currentRevision) ?? updateRevision;
  const onDelete = getPath(spec, 'updateStrategy.type') === 'OnDelete';
  const partition = onDelete ? 0 : Math.max(0, num(getPath(spec, 'updateStrategy.rollingUpdate.partition')) ?? 0);
  const parallel = spec.podManagementPolicy === 'Parallel';
  const uid = metaOf(s.obj).uid;
  let changed = false;
  let failure: string | undefined;
  const revisionOfPod = (p: Entry) => labelsOf(p.obj)['controller-revision-hash'];
  const podAt = (i: number) => {
    const e = k.store.get('pods', ns, `${name}-${i}`);
    return e && controllerUid(e.obj) === uid ? e : undefined;
  };
  const healthy = (p: Entry | undefined) => p !== undefined && !podTerminating(p.obj) && podReady(p.obj);

  // Create missing ordinals in order; with OrderedReady, one at a time, each after its predecessors are ready.
  for (let i = 0; i < desired; i++) {
    const p = podAt(i);
    if (p) {
      if (!parallel && !healthy(p)) break;
      continue;
    }
    if (k.store.get('pods', ns, `${name}-${i}`)) break; // a pod of the same name that is not ours
    const useCurrent = !onDelete && i < partition;
    const revision = useCurrent && s.revisions?.has(currentRevision) ? currentRevision : updateRevision;
    const tpl = s.revisions?.get(revision) ?? template;
    const podName = `${name}-${i}`;
    failure = tryCreatePod(k, s, tpl, podName, {
      labels: { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
    });
    if (failure) break;
    changed = true;
    if (!parallel) break;
  }
  // Scale down: the highest ordinal first, once every lower one is healthy.
  const owned = podsOf(k, s);
  const ordinal = (p: Entry) => Number(nameOf(p.obj).slice(name.length + 1));
  const extra = owned.active.filter((p) => !(ordinal(p) < desired)).sort((a, b) => ordinal(b) - ordinal(a));
  if (extra.length > 0 && owned.terminating.length === 0) {
    const lowerHealthy = Array.from({ length: desired }, (_, i) => podAt(i)).every(healthy);
    if (parallel) for (const p of extra) k.deletePod(p);
    else if (lowerHealthy) k.deletePod(extra[0] as Entry);
    changed = changed || parallel || lowerHealthy;
  }
  // Rolling update: the highest ordinal not on the update revision, down to partition, once all are healthy.
  if (!onDelete && extra.length === 0) {
    const all = Array.from({ length: desired }, (_, i) => podAt(i));
    if (all.every(healthy)) {
      for (let i = desired - 1; i >= partition; i--) {
        const p = all[i] as Entry;
        if (revisionOfPod(p) !== updateRevision) {
          k.deletePod(p);
          changed = true;
          break;
        }
      }
    }
  }

  const pods = podsOf(k, s).active;
  const ready = pods.filter((p) => podReady(p.obj)).length;
  const updated = pods.filter((p) => revisionOfPod(p) === updateRevision).length;
  let current = currentRevision;
  let currentReplicas = pods.filter((p) => revisionOfPod(p) === currentRevision).length;
  // A rolling update completes when every pod is on the update revision and ready.
  if (!onDelete && updated === desired && ready === desired && pods.length === desired) {
    current = updateRevision;
    currentReplicas = updated;
  }
  const status = omitZero(
    {
      observedGeneration: generation(s),
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas,
      updatedReplicas: updated,
      currentRevision: current,
      updateRevision,
      collisionCount: 0,
      conditions: failure ? conditions(prev.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }], k.now(), false) : undefined,
    },
    ['replicas', 'collisionCount', 'availableReplicas'],
  );
  return setStatus(k, s, status) || changed;
}

function reconcileDaemonSet(k: KubeCore, ds: Entry): boolean {
  const template = templateOf(ds);
  const nodeSelector = strMap(getPath(template, 'spec.nodeSelector'));
  const nodes = k.store.list('nodes').filter((n) => nodeSelectorAllows(nodeSelector, n.obj));
  const eligible = nodes.map((n) => nameOf(n.obj));
  const eligibleSet = new Set(eligible);
  const hash = templateHash(template);
  const spec = specOf(ds);
  const onDelete = getPath(spec, 'updateStrategy.type') === 'OnDelete';
  const desired = eligible.length;
  const maxSurge = onDelete ? 0 : intOrPercent(getPath(spec, 'updateStrategy.rollingUpdate.maxSurge'), desired, true, 0);
  const maxUnavailable = onDelete ? 0 : maxSurge > 0 ? 0 : Math.max(1, intOrPercent(getPath(spec, 'updateStrategy.rollingUpdate.maxUnavailable'), desired, true, 1));
  const ns = namespaceOf(ds.obj);
  let changed = false;
  let failure: string | undefined;
  const isCurrent = (p: Entry) => labelsOf(p.obj)['controller-revision-hash'] === hash;
  const byNode = () => {
    const m = new Map<string, Entry[]>();
    for (const p of podsOf(k, ds).active) {
      const n = String(getPath(p.obj, 'spec.nodeName'));
      const list = m.get(n);
      if (list) list.push(p);
      else m.set(n, [p]);
    }
    return m;
  };
  const create = (node: string) => {
    if (failure) return;
    failure = tryCreatePod(k, ds, template, freeName(k, ns, nameOf(ds.obj)), {
      labels: { 'controller-revision-hash': hash, 'pod-template-generation': String(generation(ds)) },
      nodeName: node,
    });
    if (!failure) changed = true;
  };
  let m = byNode();
  for (const [node, pods] of m) {
    if (!eligibleSet.has(node)) for (const p of pods) { k.deletePod(p); changed = true; }
  }
  for (const node of eligible) if (!m.has(node)) create(node);
  m = byNode();
  if (!onDelete) {
    if (maxSurge > 0) {
      let surging = 0;
      for (const node of eligible) {
        const pods = m.get(node) ?? [];
        if (pods.some(isCurrent) && pods.some((p) => !isCurrent(p))) surging++;
      }
      for (const node of eligible) {
        const pods = m.get(node) ?? [];
        const fresh = pods.filter(isCurrent);
        const stale = pods.filter((p) => !isCurrent(p));
        if (stale.length === 0) continue;
        if (fresh.some((p) => podReady(p.obj))) {
          for (const p of stale) { k.deletePod(p); changed = true; }
        } else if (fresh.length === 0 && (surging < maxSurge || !stale.some((p) => podReady(p.obj)))) {
          create(node);
          surging++;
        }
      }
    } else {
      let unavailable = eligible.filter((n) => !(m.get(n) ?? []).some((p) => podReady(p.obj))).length;
      for (const node of eligible) {
        const stale = (m.get(node) ?? []).filter((p) => !isCurrent(p));
        if (stale.length === 0) continue;
        const staleReady = stale.some((p) => podReady(p.obj));
        if (!staleReady) { for (const p of stale) k.deletePod(p); changed = true; continue; }
        if (unavailable >= maxUnavailable) continue;
        for (const p of stale) k.deletePod(p);
        unavailable++;
        changed = true;
      }
    }
  }
  m = byNode();
  let scheduled = 0;
  let ready = 0;
  let updated = 0;
  for (const node of eligible) {
    const here = m.get(node) ?? [];
    if (here.length > 0) scheduled++;
    if (here.some((p) => podReady(p.obj))) ready++;
    if (here.some(isCurrent)) updated++;
  }
  const prev = prevStatus(ds);
  const status = omitZero(
    {
      observedGeneration: generation(ds),
      desiredNumberScheduled: desired,
      currentNumberScheduled: scheduled,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: desired - ready,
      updatedNumberScheduled: updated,
      conditions: failure ? conditions(prev.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }], k.now(), false) : undefined,
    },
    ['desiredNumberScheduled', 'currentNumberScheduled', 'numberMisscheduled', 'numberReady'],
  );
  return setStatus(k, ds, status) || changed;
}

/**
 * Jobs run their pods and never finish on their own (the sandbox runs no code); a Job the world
 * declares finished (`status.succeeded` >= completions, or a Complete condition) keeps
 * Succeeded pods, as a finished Job does until it is cleaned up.
 */
function reconcileJob(k: KubeCore, j: Entry): boolean {
  const spec = specOf(j);
  const completions = num(spec.completions) ?? 1;
  const parallelism = num(spec.parallelism) ?? 1;
  const prev = prevStatus(j);
  const complete = (num(prev.succeeded) ?? 0) >= completions || objList(prev.conditions).some((c) => c.type === 'Complete' && c.status === 'True');
  const ns = namespaceOf(j.obj);
  let changed = false;
  if (!j.started) {
    j.started = true;
    const count = complete ? completions : Math.min(parallelism, completions);
    for (let i = 0; i < count; i++) {
      const name = freeName(k, ns, nameOf(j.obj));
      if (tryCreatePod(k, j, templateOf(j), name)) break;
      const pod = k.store.get('pods', ns, name);
      if (complete && pod) {
        const next = clone(pod.obj);
        next.status = podStatus(next, 'succeeded', k.now(), String(getPath(pod.obj, 'status.hostIP') ?? ''), String(getPath(pod.obj, 'status.podIP') ?? ''));
        k.commit(pod, next);
      }
      changed = true;
    }
  } else if (!complete) {
    const active = podsOf(k, j).active.length;
    for (let i = active; i < Math.min(parallelism, completions); i++) {
      if (tryCreatePod(k, j, templateOf(j), freeName(k, ns, nameOf(j.obj)))) break;
      changed = true;
    }
  }
  const pods = k.ownedBy(j, 'pods');
  const now = isoTime(k.now());
  const status: JsonObject = complete
    ? {
        ...prev,
        succeeded: Math.max(num(prev.succeeded) ?? 0, completions),
        startTime: prev.startTime ?? str(metaOf(j.obj).creationTimestamp),
        completionTime: prev.completionTime ?? now,
        conditions: objList(prev.conditions).some((c) => c.type === 'Complete')
          ? prev.conditions
          : [{ type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now }],
      }
    : omitZero({
        active: pods.filter((p) => podActive(p.obj) && !podTerminating(p.obj)).length,
        ready: pods.filter((p) => podReady(p.obj)).length,
        startTime: prev.startTime ?? now,
        uncountedTerminatedPods: {},
      }, ['ready']);
  return setStatus(k, j, status) || changed;
}
