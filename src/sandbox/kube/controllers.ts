/**
 * The controllers, modelled lazily: `reconcile` runs at the start of every request (and after
 * every write) and brings each workload as far as the sandbox clock allows. New pods start
 * Pending and become Ready `rolloutDelayMs` after creation; a rollout removes the old pods and
 * reports completion (observedGeneration, updated/ready/available counts) only once the new pods
 * are ready. Doing it at request time keeps the sandbox deterministic under a fake clock.
 */
import type { JsonObject } from '../world-types.js';
import type { KubeCore } from './cluster.js';
import { nodeSelectorAllows } from './nodes.js';
import { controllerUid, podActive, podPhase, podReady, podStatus } from './pods.js';
import { resource } from './resources.js';
import { labelsOf } from './selectors.js';
import { metaOf, nameOf, namespaceOf, type Entry } from './store.js';
import { child, clone, deepEqual, getPath, isObj, isoTime, nameSuffix, num, objList, str, strMap, templateHash } from './util.js';

const MAX_PASSES = 25;

export function reconcile(k: KubeCore): void {
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let changed = promotePods(k);
    const live = (e: Entry) => k.store.get(e.type.plural, namespaceOf(e.obj), nameOf(e.obj)) === e;
    for (const e of k.store.list('deployments')) if (live(e)) changed = reconcileDeployment(k, e) || changed;
    for (const e of k.store.list('replicasets')) if (live(e)) changed = reconcileReplicaSet(k, e) || changed;
    for (const e of k.store.list('statefulsets')) if (live(e)) changed = reconcileStatefulSet(k, e) || changed;
    for (const e of k.store.list('daemonsets')) if (live(e)) changed = reconcileDaemonSet(k, e) || changed;
    for (const e of k.store.list('jobs')) if (live(e)) changed = reconcileJob(k, e) || changed;
    if (!changed) return;
  }
}

/** Pods whose start-up time has passed become Running and Ready. */
function promotePods(k: KubeCore): boolean {
  let changed = false;
  const now = k.now();
  for (const e of k.store.list('pods')) {
    if (e.readyAt === undefined || e.readyAt > now || podPhase(e.obj) !== 'Pending') continue;
    const prev = isObj(e.obj.status) ? e.obj.status : {};
    const next = clone(e.obj);
    const status = podStatus(next, 'running', e.readyAt, String(prev.hostIP ?? ''), String(prev.podIP ?? ''));
    if (prev.startTime !== undefined) status.startTime = prev.startTime;
    next.status = status;
    changed = k.commit(e, next) || changed;
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

function setStatus(k: KubeCore, e: Entry, status: JsonObject): boolean {
  if (deepEqual(e.obj.status, status)) return false;
  const next = clone(e.obj);
  next.status = status;
  return k.commit(e, next);
}

/** Conditions with transition times kept while a condition's status and reason stay the same. */
function conditions(prev: unknown, wanted: { type: string; status: boolean; reason: string; message: string }[], now: number): JsonObject[] {
  const old = objList(prev);
  return wanted.map((w) => {
    const o = old.find((c) => c.type === w.type);
    const status = w.status ? 'True' : 'False';
    const same = o && o.status === status && o.reason === w.reason;
    const t = isoTime(now);
    return {
      type: w.type,
      status,
      lastUpdateTime: same ? o.lastUpdateTime : t,
      lastTransitionTime: o && o.status === status ? o.lastTransitionTime : t,
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

const REVISION = 'deployment.kubernetes.io/revision';

function revisionOf(e: Entry): number {
  return Number(strMap(getPath(e.obj, 'metadata.annotations'))[REVISION] ?? 0);
}

function reconcileDeployment(k: KubeCore, d: Entry): boolean {
  const spec = specOf(d);
  const desired = num(spec.replicas) ?? 1;
  const template = templateOf(d);
  const hash = templateHash(template);
  const ns = namespaceOf(d.obj);
  let changed = false;
  let rses = k.ownedBy(d, 'replicasets');
  let current = rses.find((r) => labelsOf(r.obj)['pod-template-hash'] === hash);
  const maxRevision = Math.max(0, ...rses.map(revisionOf));
  if (!current && spec.paused !== true) {
    const tpl = clone(template);
    const tmeta = child(tpl, 'metadata');
    tmeta.labels = { ...strMap(tmeta.labels), 'pod-template-hash': hash };
    const selector = clone(isObj(spec.selector) ? spec.selector : {});
    selector.matchLabels = { ...strMap(selector.matchLabels), 'pod-template-hash': hash };
    k.create(resource('replicasets'), {
      metadata: {
        name: `${nameOf(d.obj)}-${hash}`,
        namespace: ns,
        labels: tmeta.labels,
        annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired * 2), [REVISION]: String(maxRevision + 1) },
        ownerReferences: [ownerRef(d)],
      },
      spec: { replicas: desired, selector, template: tpl },
    });
    changed = true;
    rses = k.ownedBy(d, 'replicasets');
    current = rses.find((r) => labelsOf(r.obj)['pod-template-hash'] === hash);
  }
  if (current) {
    const next = clone(current.obj);
    child(next, 'spec').replicas = desired;
    const ann = strMap(getPath(next, 'metadata.annotations'));
    ann['deployment.kubernetes.io/desired-replicas'] = String(desired);
    // Rolling back to an earlier template re-uses its ReplicaSet under a new revision number.
    if (revisionOf(current) < maxRevision) ann[REVISION] = String(maxRevision + 1);
    metaOf(next).annotations = ann;
    changed = k.commit(current, next) || changed;
  }
  const currentPods = current ? k.ownedBy(current, 'pods').filter((p) => podActive(p.obj)) : [];
  const currentReady = currentPods.filter((p) => podReady(p.obj)).length;
  const old = rses.filter((r) => r !== current);
  const recreate = getPath(spec, 'strategy.type') === 'Recreate';
  if (current && (recreate || currentReady >= desired)) {
    for (const r of old) {
      if (num(getPath(r.obj, 'spec.replicas')) === 0) continue;
      const next = clone(r.obj);
      child(next, 'spec').replicas = 0;
      changed = k.commit(r, next) || changed;
    }
  }
  const limit = num(spec.revisionHistoryLimit) ?? 10;
  const idle = old.filter((r) => num(getPath(r.obj, 'spec.replicas')) === 0 && k.ownedBy(r, 'pods').length === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  while (idle.length > limit) {
    const r = idle.shift();
    if (r) k.removeEntry(r);
    changed = true;
  }

  const allPods = k.ownedBy(d, 'replicasets').flatMap((r) => k.ownedBy(r, 'pods')).filter((p) => podActive(p.obj));
  const ready = allPods.filter((p) => podReady(p.obj)).length;
  const complete = current !== undefined && currentReady >= desired && allPods.length === currentPods.length && currentPods.length === desired;
  const prev = prevStatus(d);
  const rsName = current ? nameOf(current.obj) : `${nameOf(d.obj)}-${hash}`;
  const status = omitZero({
    observedGeneration: complete ? generation(d) : prev.observedGeneration,
    replicas: allPods.length,
    updatedReplicas: currentReady,
    readyReplicas: ready,
    availableReplicas: ready,
    unavailableReplicas: Math.max(0, desired - ready),
    conditions: conditions(prev.conditions, [
      { type: 'Available', status: ready >= desired, reason: ready >= desired ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: ready >= desired ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
      { type: 'Progressing', status: true, reason: complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: complete ? `ReplicaSet "${rsName}" has successfully progressed.` : `ReplicaSet "${rsName}" is progressing.` },
    ], k.now()),
  });
  return setStatus(k, d, status) || changed;
}

/** Scale down the least useful pods first: not ready before ready, newest before oldest. */
function victims(pods: Entry[], count: number): Entry[] {
  return [...pods]
    .sort((a, b) => Number(podReady(a.obj)) - Number(podReady(b.obj)) || String(metaOf(b.obj).creationTimestamp).localeCompare(String(metaOf(a.obj).creationTimestamp)))
    .slice(0, count);
}

function reconcileReplicaSet(k: KubeCore, rs: Entry): boolean {
  const desired = num(specOf(rs).replicas) ?? 1;
  const ns = namespaceOf(rs.obj);
  let changed = false;
  const pods = k.ownedBy(rs, 'pods').filter((p) => podActive(p.obj));
  for (let i = pods.length; i < desired; i++) {
    k.createPod(rs, templateOf(rs), freeName(k, ns, nameOf(rs.obj)));
    changed = true;
  }
  for (const p of victims(pods, pods.length - desired)) {
    k.removeEntry(p);
    changed = true;
  }
  const now = k.ownedBy(rs, 'pods').filter((p) => podActive(p.obj));
  const ready = now.filter((p) => podReady(p.obj)).length;
  const status = omitZero(
    { replicas: now.length, fullyLabeledReplicas: now.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: generation(rs) },
    ['replicas'],
  );
  return setStatus(k, rs, status) || changed;
}

function reconcileStatefulSet(k: KubeCore, s: Entry): boolean {
  const spec = specOf(s);
  const desired = num(spec.replicas) ?? 1;
  const name = nameOf(s.obj);
  const ns = namespaceOf(s.obj);
  const revision = `${name}-${templateHash(templateOf(s))}`;
  const onDelete = getPath(spec, 'updateStrategy.type') === 'OnDelete';
  let changed = false;
  const uid = metaOf(s.obj).uid;
  for (let i = 0; i < desired; i++) {
    const podName = `${name}-${i}`;
    const existing = k.store.get('pods', ns, podName);
    if (existing && controllerUid(existing.obj) !== uid) continue;
    if (existing && (onDelete || labelsOf(existing.obj)['controller-revision-hash'] === revision)) continue;
    // A StatefulSet pod keeps its name: the old one goes before its replacement is created.
    if (existing) k.removeEntry(existing);
    k.createPod(s, templateOf(s), podName, {
      labels: { 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
    });
    changed = true;
  }
  const owned = k.ownedBy(s, 'pods');
  for (const p of owned) {
    const ordinal = Number(nameOf(p.obj).slice(name.length + 1));
    if (!(ordinal < desired)) {
      k.removeEntry(p);
      changed = true;
    }
  }
  const pods = k.ownedBy(s, 'pods').filter((p) => podActive(p.obj));
  const ready = pods.filter((p) => podReady(p.obj)).length;
  const updatedReady = pods.filter((p) => podReady(p.obj) && labelsOf(p.obj)['controller-revision-hash'] === revision).length;
  const complete = updatedReady === desired && pods.length === desired;
  const prev = prevStatus(s);
  const currentRevision = complete ? revision : String(prev.currentRevision ?? revision);
  const status = omitZero(
    {
      observedGeneration: complete ? generation(s) : prev.observedGeneration,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: pods.filter((p) => labelsOf(p.obj)['controller-revision-hash'] === currentRevision).length,
      updatedReplicas: updatedReady,
      currentRevision,
      updateRevision: revision,
      collisionCount: 0,
    },
    ['replicas', 'collisionCount'],
  );
  return setStatus(k, s, status) || changed;
}

function reconcileDaemonSet(k: KubeCore, ds: Entry): boolean {
  const template = templateOf(ds);
  const nodeSelector = strMap(getPath(template, 'spec.nodeSelector'));
  const nodes = k.store.list('nodes').filter((n) => nodeSelectorAllows(nodeSelector, n.obj));
  const eligible = new Set(nodes.map((n) => nameOf(n.obj)));
  const hash = templateHash(template);
  const onDelete = getPath(specOf(ds), 'updateStrategy.type') === 'OnDelete';
  const ns = namespaceOf(ds.obj);
  let changed = false;
  const owned = () => k.ownedBy(ds, 'pods').filter((p) => podActive(p.obj));
  const onNode = (pods: Entry[], node: string) => pods.filter((p) => getPath(p.obj, 'spec.nodeName') === node);
  const isCurrent = (p: Entry) => labelsOf(p.obj)['controller-revision-hash'] === hash;
  for (const p of owned()) {
    if (!eligible.has(String(getPath(p.obj, 'spec.nodeName')))) {
      k.removeEntry(p);
      changed = true;
    }
  }
  for (const node of eligible) {
    const pods = onNode(owned(), node);
    const current = pods.filter(isCurrent);
    if (current.length === 0 && !(onDelete && pods.length > 0)) {
      k.createPod(ds, template, freeName(k, ns, nameOf(ds.obj)), {
        labels: { 'controller-revision-hash': hash, 'pod-template-generation': String(generation(ds)) },
        nodeName: node,
      });
      changed = true;
    } else if (current.some((p) => podReady(p.obj))) {
      for (const p of pods.filter((x) => !isCurrent(x))) {
        k.removeEntry(p);
        changed = true;
      }
    }
  }
  const pods = owned();
  let scheduled = 0;
  let ready = 0;
  let updated = 0;
  for (const node of eligible) {
    const here = onNode(pods, node);
    if (here.length > 0) scheduled++;
    if (here.some((p) => podReady(p.obj))) ready++;
    if (here.some((p) => podReady(p.obj) && isCurrent(p))) updated++;
  }
  const complete = updated === eligible.size && pods.every(isCurrent);
  const prev = prevStatus(ds);
  const status = omitZero(
    {
      observedGeneration: complete ? generation(ds) : prev.observedGeneration,
      desiredNumberScheduled: eligible.size,
      currentNumberScheduled: scheduled,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: eligible.size - ready,
      updatedNumberScheduled: updated,
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
      const pod = k.createPod(j, templateOf(j), freeName(k, ns, nameOf(j.obj)));
      if (complete) {
        const next = clone(pod.obj);
        next.status = podStatus(next, 'succeeded', k.now(), String(getPath(pod.obj, 'status.hostIP') ?? ''), String(getPath(pod.obj, 'status.podIP') ?? ''));
        k.commit(pod, next);
      }
    }
    changed = count > 0;
  } else if (!complete) {
    const active = k.ownedBy(j, 'pods').filter((p) => podActive(p.obj)).length;
    for (let i = active; i < Math.min(parallelism, completions); i++) {
      k.createPod(j, templateOf(j), freeName(k, ns, nameOf(j.obj)));
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
        active: pods.filter((p) => podActive(p.obj)).length,
        ready: pods.filter((p) => podReady(p.obj)).length,
        startTime: prev.startTime ?? now,
        uncountedTerminatedPods: {},
      }, ['ready']);
  return setStatus(k, j, status) || changed;
}
