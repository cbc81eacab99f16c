/**
 * One cluster's API server core: object creation (defaults, admission, the EKS webhooks),
 * updates (optimistic concurrency, immutable fields, generation), deletion (garbage collection)
 * and pod placement. Controllers (controllers.ts) and the HTTP layer (api.ts) build on it.
 */
import { randomUUID } from 'node:crypto';
import type { ClusterState, SandboxState } from '../state.js';
import type { JsonObject } from '../world-types.js';
import { reconcile as runControllers } from './controllers.js';
import { clusterNodes, fargateNode, isFargateNode, nodeIp, nodeSelectorAllows } from './nodes.js';
import { callsGetCallerIdentity, globMatch, podStatus } from './pods.js';
import { apiVersionOf, resource, type ResourceType } from './resources.js';
import { fromLabelSelector, labelsOf, matches } from './selectors.js';
import { KubeError, badRequest, conflict, invalid, notFound, qualified } from './status.js';
import { checkShape } from './validate.js';
import { ObjectStore, metaOf, nameOf, namespaceOf, type Entry } from './store.js';
import { child, clone, deepEqual, getPath, isObj, isoTime, nameSuffix, num, objList, share, str, strMap } from './util.js';
import { injectCredentials } from './webhook.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** The input is a fresh object the core may keep (controller-built pods): no defensive copy. */
  fresh?: boolean;
  /** Pods: never becomes ready, for this reason (a stuck workload of the world). */
  stuck?: 'ImagePullBackOff' | 'CrashLoopBackOff';
}

const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
/** The resources controllers reconcile. */
const WORKLOADS = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs']);

export class KubeCore {
  readonly store = new ObjectStore();
  /** True while the world's objects are loaded: the world starts settled, pods ready at once. */
  loading = true;
  private podSeq = 0;
  private fargateSeq = 0;
  /** resourceVersion at which the controllers last had nothing left to do. */
  private settledAt = '';
  /** The next time the controllers have work without any write (a pod ready, a grace period over). */
  private nextDue = Infinity;
  private dueAt = Infinity;
  private readonly terminatingPods = new Set<Entry>();
  /**
   * Controllers' work list. A controller is a pure function of its workload, what the workload
   * owns and the clock, so a pass reconciles only the workloads whose own object, or an object
   * they own (a ReplicaSet's pods, a Deployment's ReplicaSets and their pods), was written since
   * they were last reconciled, or whose due time has come; a write to anything else (a
   * ServiceAccount, a node, a namespace, a pod without a controller) makes every workload due.
   * So a write costs in proportion to what it touches, not to the cluster's size.
   */
  private readonly dirty = new Set<Entry>();
  private allDirty = true;
  /** Set when the test-only work-list check failed (see reconcile). */
  private workListError: string | undefined;
  /** Workloads that asked to be reconciled again at a clock time (a progress deadline). */
  private readonly workloadDue = new Map<Entry, number>();
  /** The workload being reconciled (its due() calls are its own). */
  private reconciling: Entry | undefined;
  /** Pods that become ready at `readyAt` (Pending, not stuck): promotePods' candidates. */
  private readonly startingPods = new Set<Entry>();
  /** Per template spec: its shared copy (see specCopy). */
  private readonly specShared = new WeakMap<object, JsonObject>();
  /** Per owner: its pods' shared ownerReferences. */
  private readonly ownerRefs = new WeakMap<Entry, JsonObject[]>();
  /** Sandbox options (world): workloads whose new pods never become ready, and images that cannot be pulled. */
  stuckWorkloads: { kind: string; namespace: string; name: string; reason: 'ImagePullBackOff' | 'CrashLoopBackOff' }[] = [];
  missingImages: string[] = [];
  /** Pods whose container calls `aws sts get-caller-identity` (exec.ts runs them once started). */
  readonly callerPods = new Set<Entry>();
  /** Container output of pods that ran (exec.ts), by pod uid. */
  readonly podLogs = new Map<string, string>();
  /** Pods bound to each node (the scheduler's spreading score), kept current as pods come and go. */
  private readonly podsOnNode = new Map<string, number>();
  /** Nodes a nodeSelector allows, per selector, for the current node list, with pickNode's scan state. */
  private schedulable?: { nodes: readonly Entry[]; bySelector: Map<string, { allowed: JsonObject[]; names: string[]; minLoad: number; next: number; version: number }> };
  /** Bumped whenever a node's pod count goes down (pickNode's scans start over). */
  private loadDrops = 0;

  constructor(
    readonly state: SandboxState,
    readonly cluster: ClusterState,
  ) {
    this.store.onChange = (entry, controller, deleted) => this.touched(entry, controller, deleted);
  }

  /** A write: the workloads it concerns (the entry, and its chain of controllers) need a pass. */
  private touched(entry: Entry, controller: string | undefined, deleted: boolean): void {
    if (this.allDirty) return;
    const plural = entry.type.plural;
    // An object no controller owns may be in a controller's way (a name it wants): when one
    // goes, or anything but a workload or a controlled pod changes, every workload gets a pass.
    if (controller === undefined && (deleted || !WORKLOADS.has(plural))) {
      this.allDirty = true;
      return;
    }
    if (WORKLOADS.has(plural)) this.dirty.add(entry);
    else if (plural !== 'pods') {
      this.allDirty = true;
      return;
    } else if (this.store.count('statefulsets') > 0) {
      // A StatefulSet waits for its ordinal names (`web-0`) to be free, whoever holds them.
      const name = nameOf(entry.obj);
      for (const s of this.store.list('statefulsets', namespaceOf(entry.obj))) if (name.startsWith(`${nameOf(s.obj)}-`)) this.dirty.add(s);
    }
    let uid = controller;
    for (let depth = 0; uid !== undefined && depth < 4; depth++) {
      const owner = this.store.byUidGet(uid);
      if (!owner) break;
      if (WORKLOADS.has(owner.type.plural)) this.dirty.add(owner);
      uid = owner.indexed?.controller;
    }
  }

  /**
   * The workloads of one resource a controller pass reconciles, in key order: every one when
   * `all`, else those written or due since their last pass. They leave the work list (a write
   * during the pass puts them back for the next one).
   */
  workToDo(plural: string, all: boolean): readonly Entry[] {
    if (all) {
      const list = this.store.list(plural);
      for (const e of list) this.dirty.delete(e);
      return list;
    }
    const out: Entry[] = [];
    for (const e of this.dirty) if (e.type.plural === plural) out.push(e);
    for (const e of out) this.dirty.delete(e);
    return out.sort((a, b) => ((a.order ?? '') < (b.order ?? '') ? -1 : (a.order ?? '') > (b.order ?? '') ? 1 : 0));
  }

  /** Controllers: start a pass. Returns whether every workload is to be reconciled (after a write to anything else). */
  startPass(): boolean {
    this.dueAt = Infinity;
    const now = this.now();
    for (const [e, at] of this.workloadDue) {
      if (at <= now) {
        this.workloadDue.delete(e);
        this.dirty.add(e);
      }
    }
    const all = this.allDirty;
    this.allDirty = false;
    return all;
  }

  /** Whether a write since the pass started left work for another pass. */
  get hasWork(): boolean {
    return this.allDirty || this.dirty.size > 0;
  }

  /** Controllers: reconcile workload `e` (its due times are collected afresh). */
  reconcileWorkload<R>(e: Entry, run: () => R): R {
    this.workloadDue.delete(e);
    this.reconciling = e;
    try {
      return run();
    } finally {
      this.reconciling = undefined;
    }
  }

  /** Pods waiting for their readyAt, in key order (promotePods). */
  starting(): Entry[] {
    return [...this.startingPods].sort((a, b) => ((a.order ?? '') < (b.order ?? '') ? -1 : (a.order ?? '') > (b.order ?? '') ? 1 : 0));
  }

  /** A pod is no longer waiting to become ready (promoted, or not Pending). */
  started(e: Entry): void {
    this.startingPods.delete(e);
  }

  /** The instant a reconcile runs at (its passes, and the check of the work list, see one clock reading). */
  private pinnedNow: number | undefined;

  now(): number {
    return this.pinnedNow ?? this.state.clock.now();
  }

  /** Let the controllers catch up with the clock and with the last write. */
  reconcile(): void {
    if (this.workListError) throw new Error(this.workListError);
    if (this.pinnedNow !== undefined) return this.settle();
    // One instant for the whole reconcile: with the clock read afresh by each pass, the check
    // below ran later than the passes it checks, and a pod falling ready or a grace period
    // ending in between (a loaded machine) looked like missed work.
    this.pinnedNow = this.state.clock.now();
    try {
      this.settle();
    } finally {
      this.pinnedNow = undefined;
    }
  }

  private settle(): void {
    // Nothing to do when no object changed since the last pass and nothing fell due (a pod
    // ready, a grace period over, a progress deadline): the controllers are a pure function of
    // the objects and the clock.
    if (this.store.resourceVersion === this.settledAt && this.now() < this.nextDue) return;
    const settled = runControllers(this);
    // Tests (vitest.config.ts) check the work list: once settled, a pass over every workload
    // must find nothing to do. (A world whose controllers never settle, as a ReplicaSet naming
    // each refused pod afresh, is left out.)
    if (settled && process.env.PODID_SANDBOX_CHECK_CONTROLLERS === '1') {
      const rv = this.store.resourceVersion;
      this.allDirty = true;
      runControllers(this);
      if (this.store.resourceVersion !== rv) {
        // Sticky: a watch's timer swallows errors, and the full pass has repaired the state, so
        // every later request fails instead (500), which a test sees.
        this.workListError = `controller work list missed work: a pass over every workload made ${Number(this.store.resourceVersion) - Number(rv)} more writes`;
        process.stderr.write(`podid sandbox: ${this.workListError}\n`);
        throw new Error(this.workListError);
      }
    }
    this.settledAt = this.store.resourceVersion;
    let next = this.dueAt;
    for (const at of this.workloadDue.values()) if (at < next) next = at;
    this.nextDue = next;
  }

  /** When the controllers next have work, if nothing else changes (Infinity: never). */
  get nextWake(): number {
    return this.nextDue;
  }

  /** Controllers: something changes by itself at clock time `at` (reconcile again then). */
  due(at: number): void {
    if (this.reconciling) {
      const was = this.workloadDue.get(this.reconciling);
      if (was === undefined || at < was) this.workloadDue.set(this.reconciling, at);
      return;
    }
    if (at < this.dueAt) this.dueAt = at;
  }

  /** Pods marked for deletion, waiting out their grace period. */
  terminating(): Entry[] {
    return [...this.terminatingPods];
  }

  /**
   * Delete a pod as the API server does: gracefully (Terminating, `deletionTimestamp` = now +
   * grace) when it is bound to a node and not finished, at once otherwise. Returns the pod as
   * the DELETE answer shows it.
   */
  deletePod(entry: Entry, graceSeconds?: number): JsonObject {
    const obj = entry.obj;
    const meta = metaOf(obj);
    const now = this.now();
    const grace = graceSeconds ?? num(getPath(obj, 'spec.terminationGracePeriodSeconds')) ?? 30;
    if (meta.deletionTimestamp !== undefined) {
      // Deleting again may only shorten the grace period.
      if (graceSeconds !== undefined && entry.goneAt !== undefined && now + grace * 1000 < entry.goneAt) {
        if (grace === 0) {
          this.removeEntry(entry);
          return entry.obj;
        }
        entry.goneAt = now + grace * 1000;
        this.commit(entry, { ...obj, metadata: { ...meta, deletionTimestamp: isoTime(entry.goneAt), deletionGracePeriodSeconds: grace } });
      }
      return entry.obj;
    }
    const phase = String(getPath(obj, 'status.phase') ?? '');
    if (grace <= 0 || !str(getPath(obj, 'spec.nodeName')) || phase === 'Succeeded' || phase === 'Failed') {
      this.removeEntry(entry);
      return entry.obj;
    }
    entry.goneAt = now + grace * 1000;
    this.terminatingPods.add(entry);
    this.commit(entry, { ...obj, metadata: { ...meta, deletionTimestamp: isoTime(entry.goneAt), deletionGracePeriodSeconds: grace } });
    return entry.obj;
  }

  /** Namespaces and nodes a new cluster has before any user object. */
  bootstrap(): void {
    for (const ns of SYSTEM_NAMESPACES) this.ensureNamespace(ns);
    for (const node of clusterNodes(this.cluster, this.cluster.nodegroups)) this.create(resource('nodes'), node);
  }

  ensureNamespace(name: string): void {
    if (!this.store.get('namespaces', '', name)) this.create(resource('namespaces'), { metadata: { name } });
  }

  entry(plural: string, namespace: string, name: string): Entry {
    const t = resource(plural);
    const e = this.store.get(plural, t.namespaced ? namespace : '', name);
    if (!e) throw notFound(plural, t.group, name);
    return e;
  }

  /** Create an object; returns the stored object (callers serialise it, never change it). */
  create(type: ResourceType, input: JsonObject, opts: WriteOptions = {}): JsonObject {
    const obj = opts.fresh ? input : clone(input);
    checkKind(type, obj);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    const meta = metaOf(obj);
    if (!str(meta.name) && str(meta.generateName)) meta.name = `${String(meta.generateName)}${nameSuffix()}`;
    const name = str(meta.name);
    if (!name) throw invalid(type.kind, type.group, '', 'metadata.name', 'Required value: name or generateName is required');
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      throw invalid(type.kind, type.group, name, 'metadata.name', `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    }
    checkShape(type, name, obj);
    if (type.namespaced) {
      meta.namespace = str(meta.namespace) ?? 'default';
      if (this.loading) this.ensureNamespace(String(meta.namespace));
      else if (!this.store.get('namespaces', '', String(meta.namespace))) throw notFound('namespaces', '', String(meta.namespace));
    } else {
      delete meta.namespace;
    }
    const ns = namespaceOf(obj);
    if (this.store.get(type.plural, ns, name)) {
      throw new KubeError(409, 'AlreadyExists', `${qualified(type.plural, type.group)} "${name}" already exists`, { name, group: type.group || undefined, kind: type.plural });
    }
    const now = this.now();
    meta.uid = randomUUID();
    meta.creationTimestamp = isoTime(now);
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    // The status subresource is written by controllers; clients' status is dropped, except for
    // world objects, whose status describes the state the world starts in (a finished Job).
    if (!this.loading || !isObj(obj.status)) obj.status = {};
    this.applyDefaults(type, obj);
    const entry: Entry = { type, obj };
    if (type.plural === 'pods') this.admitPod(entry, opts);
    if (opts.dryRun) return clone(obj);
    this.store.put(entry, 'ADDED');
    if (type.plural === 'pods') {
      // A pod's command never changes: whether it runs get-caller-identity is known now.
      if (callsGetCallerIdentity(entry.obj)) this.callerPods.add(entry);
      if (entry.readyAt !== undefined && entry.readyAt !== Infinity && getPath(entry.obj, 'status.phase') === 'Pending') this.startingPods.add(entry);
    }
    if (type.plural === 'namespaces') {
      this.create(resource('serviceaccounts'), { metadata: { name: 'default', namespace: name } });
    }
    return obj;
  }

  /** Replace an object (PUT, or the result of a PATCH). Status and identity are kept from the stored object. */
  replace(type: ResourceType, namespace: string, name: string, input: JsonObject, opts: WriteOptions = {}): JsonObject {
    const entry = this.entry(type.plural, namespace, name);
    const old = entry.obj;
    const next = clone(input);
    checkKind(type, next);
    checkShape(type, name, next);
    const meta = metaOf(next);
    const oldMeta = metaOf(old);
    if (meta.name !== undefined && meta.name !== name) {
      throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== oldMeta.resourceVersion) {
      throw conflict(type.plural, type.group, name);
    }
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion', 'deletionTimestamp']) {
      if (oldMeta[k] === undefined) delete meta[k];
      else meta[k] = oldMeta[k];
    }
    next.status = clone(old.status);
    this.applyDefaults(type, next);
    this.checkImmutable(type, old, next);
    if (!deepEqual(old.spec, next.spec)) meta.generation = Number(oldMeta.generation ?? 1) + 1;
    if (deepEqual(old, next)) return clone(old);
    if (opts.dryRun) return clone(next);
    entry.obj = next;
    this.store.put(entry, 'MODIFIED');
    return clone(next);
  }

  /** Controller write: store `next` for `entry` when it differs. Returns whether anything changed. */
  commit(entry: Entry, next: JsonObject): boolean {
    if (deepEqual(entry.obj, next)) return false;
    if (this.store.get(entry.type.plural, namespaceOf(entry.obj), nameOf(entry.obj)) !== entry) return false;
    entry.obj = next;
    this.store.put(entry, 'MODIFIED');
    return true;
  }

  /** Delete an object and, as the garbage collector does, everything it owns (and a namespace's contents). */
  remove(type: ResourceType, namespace: string, name: string, opts: WriteOptions = {}): JsonObject {
    const entry = this.entry(type.plural, namespace, name);
    const out = clone(entry.obj);
    if (opts.dryRun) return out;
    this.removeEntry(entry);
    return out;
  }

  removeEntry(entry: Entry): void {
    this.store.delete(entry);
    this.terminatingPods.delete(entry);
    this.callerPods.delete(entry);
    this.startingPods.delete(entry);
    this.workloadDue.delete(entry);
    this.dirty.delete(entry);
    const uid = String(metaOf(entry.obj).uid ?? '');
    this.podLogs.delete(uid);
    // The garbage collector deletes dependents as any client would: pods gracefully.
    for (const e of this.store.dependentsOf(uid)) {
      if (e.type.plural === 'pods' && !this.loading) this.deletePod(e);
      else this.removeEntry(e);
    }
    if (entry.type.plural === 'namespaces') {
      const ns = nameOf(entry.obj);
      for (const e of this.store.all()) if (e.type.namespaced && namespaceOf(e.obj) === ns) this.removeEntry(e);
    }
    if (entry.type.plural === 'pods') {
      const nodeName = str(getPath(entry.obj, 'spec.nodeName'));
      if (nodeName) {
        this.podsOnNode.set(nodeName, (this.podsOnNode.get(nodeName) ?? 1) - 1);
        this.loadDrops++;
      }
      // A Fargate node lives exactly as long as its pod.
      const node = nodeName ? this.store.get('nodes', '', nodeName) : undefined;
      if (node && isFargateNode(node.obj)) this.store.delete(node);
    }
  }

  /**
   * A pod from a controller's template, created through admission like any other pod. What its
   * pods have alike (labels, annotations, owner reference, the spec's lists) is shared between
   * them (frozen; see `share`): a ReplicaSet of 500 pods holds one copy, not 500.
   */
  createPod(owner: Entry, template: JsonObject, name: string, extra: { labels?: Record<string, string>; nodeName?: string } = {}): Entry {
    const tmeta = isObj(template.metadata) ? template.metadata : {};
    const ometa = metaOf(owner.obj);
    const pod: JsonObject = {
      metadata: {
        name,
        namespace: ometa.namespace,
        labels: extra.labels ? { ...strMap(tmeta.labels), ...extra.labels } : sharedCopy(tmeta.labels),
        ...(isObj(tmeta.annotations) ? { annotations: sharedCopy(tmeta.annotations) } : {}),
        ownerReferences: this.ownerReferences(owner),
      },
      spec: this.specCopy(template),
    };
    if (extra.nodeName) child(pod, 'spec').nodeName = extra.nodeName;
    this.create(resource('pods'), pod, { fresh: true, stuck: this.loading ? undefined : this.stuckReason(owner) });
    const created = this.store.get('pods', String(ometa.namespace), name);
    if (!created) throw new Error(`pod ${name} was not stored`);
    return created;
  }

  /** The controller ownerReference of `owner`'s pods (shared while the owner's identity stays). */
  private ownerReferences(owner: Entry): JsonObject[] {
    const m = metaOf(owner.obj);
    const ref = { apiVersion: owner.obj.apiVersion, kind: owner.obj.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
    const cached = this.ownerRefs.get(owner);
    const first = cached?.[0];
    if (cached && first && first.apiVersion === ref.apiVersion && first.kind === ref.kind && first.name === ref.name && first.uid === ref.uid) return cached;
    const refs = share([ref]);
    this.ownerRefs.set(owner, refs);
    return refs;
  }

  /**
   * A template's pod spec for a new pod: a fresh top-level object (admission sets its fields)
   * whose nested parts are one shared, frozen copy per template, parsed once from its JSON.
   */
  private specCopy(template: JsonObject): JsonObject {
    const spec = isObj(template.spec) ? template.spec : {};
    let shared = this.specShared.get(spec);
    if (shared === undefined) {
      shared = share(JSON.parse(JSON.stringify(spec)) as JsonObject);
      this.specShared.set(spec, shared);
    }
    return { ...shared };
  }

  /** The world's stuckWorkloads reason for pods of `owner` (a ReplicaSet counts as its Deployment). */
  private stuckReason(owner: Entry): 'ImagePullBackOff' | 'CrashLoopBackOff' | undefined {
    if (this.stuckWorkloads.length === 0) return undefined;
    let workload = owner;
    if (owner.type.plural === 'replicasets') {
      const ref = objList(getPath(owner.obj, 'metadata.ownerReferences')).find((r) => r.controller === true && r.kind === 'Deployment');
      const d = ref ? this.store.get('deployments', namespaceOf(owner.obj), String(ref.name)) : undefined;
      if (d) workload = d;
    }
    const kind = String(workload.obj.kind);
    const ns = namespaceOf(workload.obj);
    const name = nameOf(workload.obj);
    return this.stuckWorkloads.find((w) => w.kind === kind && w.namespace === ns && w.name === name)?.reason;
  }

  /** Schedule a new pod, run the webhooks on it, and give it the status of a pod being started. */
  private admitPod(entry: Entry, opts: WriteOptions): void {
    const pod = entry.obj;
    const spec = child(pod, 'spec');
    const meta = metaOf(pod);
    const ns = String(meta.namespace);
    let node = str(spec.nodeName) ? this.store.get('nodes', '', String(spec.nodeName))?.obj : undefined;
    let fargateProfile: string | undefined;
    if (!node && !str(spec.nodeName)) {
      fargateProfile = this.cluster.fargateProfiles.length > 0 ? this.fargateProfileFor(ns, labelsOf(pod)) : undefined;
      if (fargateProfile) {
        spec.schedulerName = 'fargate-scheduler';
        meta.labels = { ...strMap(meta.labels), 'eks.amazonaws.com/fargate-profile': fargateProfile };
        meta.annotations = { ...strMap(meta.annotations), CapacityProvisioned: '0.25vCPU 0.5GB' };
        node = fargateNode(this.cluster, this.fargateSeq, fargateProfile);
      } else {
        node = this.pickNode(strMap(spec.nodeSelector));
      }
      if (node) spec.nodeName = nameOf(node);
    }
    const saName = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default';
    spec.serviceAccountName = saName;
    spec.serviceAccount = saName;
    const sa = this.store.get('serviceaccounts', ns, saName)?.obj;
    if (!sa) {
      // The ServiceAccount admission plugin refuses the pod (controllers report it as FailedCreate).
      const podName = str(meta.name) ?? str(meta.generateName) ?? '';
      throw new KubeError(403, 'Forbidden', `pods "${podName}" is forbidden: error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`, { name: podName, kind: 'pods' });
    }
    injectCredentials(this.state, this.cluster, pod, sa);

    const now = this.now();
    const given = this.loading && isObj(pod.status) && typeof pod.status.phase === 'string';
    const stuck = opts.stuck ?? (this.missingImages.length > 0 && this.pullsMissingImage(spec) ? 'ImagePullBackOff' : undefined);
    entry.readyAt = node && !stuck ? (this.loading ? now : now + this.state.settings.rolloutDelayMs) : Infinity;
    if (stuck) entry.stuck = stuck;
    if (opts.dryRun) return;
    if (node) this.podsOnNode.set(nameOf(node), (this.podsOnNode.get(nameOf(node)) ?? 0) + 1);
    if (fargateProfile && node) {
      this.fargateSeq++;
      this.create(resource('nodes'), node);
    }
    if (given) return;
    this.podSeq++;
    const podIP = spec.hostNetwork === true && node ? nodeIp(node) : `10.0.${128 + Math.floor(this.podSeq / 240)}.${10 + (this.podSeq % 240)}`;
    pod.status = podStatus(pod, !node ? 'unschedulable' : stuck ?? (entry.readyAt <= now ? 'running' : 'starting'), now, node ? nodeIp(node) : '', podIP);
    if (!node) delete (pod.status as JsonObject).podIP;
  }

  /** Whether a container's image is one the world says cannot be pulled (missingImages). */
  private pullsMissingImage(spec: JsonObject): boolean {
    const images = [...objList(spec.initContainers), ...objList(spec.containers)].map((c) => String(c.image ?? ''));
    return images.some((i) => this.missingImages.some((g) => globMatch(g, i)));
  }

  private fargateProfileFor(namespace: string, labels: Record<string, string>): string | undefined {
    for (const p of this.cluster.fargateProfiles) {
      for (const s of p.selectors) {
        if (globMatch(s.namespace, namespace) && Object.entries(s.labels ?? {}).every(([k, v]) => labels[k] === v)) return p.name;
      }
    }
    return undefined;
  }

  /**
   * The allowed node running the fewest pods (ties: by name), as a spreading scheduler would pick.
   * Amortised constant time: per selector, the lowest load and where the scan for it stopped are
   * kept, valid while loads only grow (a pod leaving a node starts the scan over).
   */
  private pickNode(nodeSelector: Record<string, string>): JsonObject | undefined {
    const nodes = this.store.list('nodes');
    if (this.schedulable?.nodes !== nodes) this.schedulable = { nodes, bySelector: new Map() };
    const pairs = Object.entries(nodeSelector);
    const key = pairs.length === 0 ? '' : JSON.stringify(pairs.sort());
    let s = this.schedulable.bySelector.get(key);
    if (!s) {
      const allowed = nodes.filter((n) => nodeSelectorAllows(nodeSelector, n.obj)).map((n) => n.obj);
      s = { allowed, names: allowed.map(nameOf), minLoad: 0, next: 0, version: -1 };
      this.schedulable.bySelector.set(key, s);
    }
    const load = (i: number) => this.podsOnNode.get(s.names[i] as string) ?? 0;
    for (let pass = 0; pass < 2; pass++) {
      if (s.version !== this.loadDrops || pass === 1) {
        // Start over: the lowest load now, scanning from the first node.
        s.minLoad = Infinity;
        for (let i = 0; i < s.names.length; i++) s.minLoad = Math.min(s.minLoad, load(i));
        s.next = 0;
        s.version = this.loadDrops;
      }
      for (let i = s.next; i < s.names.length; i++) {
        if (load(i) === s.minLoad) {
          // The scan resumes here: this node is skipped once its load grows (a dry run leaves it).
          s.next = i;
          return s.allowed[i];
        }
      }
    }
    return undefined;
  }

  /** Server-side defaults, and the validation of selectors against template labels. */
  private applyDefaults(type: ResourceType, obj: JsonObject): void {
    const spec = type.plural === 'serviceaccounts' || type.plural === 'namespaces' ? undefined : child(obj, 'spec');
    const name = nameOf(obj);
    if (type.plural === 'namespaces') {
      const meta = metaOf(obj);
      meta.labels = { ...strMap(meta.labels), 'kubernetes.io/metadata.name': name };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
      return;
    }
    if (!spec) return;
    if (type.workload) {
      const template = child(spec, 'template');
      if (['deployments', 'replicasets', 'statefulsets', 'daemonsets'].includes(type.plural)) {
        if (!isObj(spec.selector)) spec.selector = { matchLabels: strMap(getPath(template, 'metadata.labels')) };
        const sel = fromLabelSelector(spec.selector);
        if (sel.length === 0) throw invalid(type.kind, type.group, name, 'spec.selector', 'Invalid value: empty selector is invalid for deployment');
        if (!matches(sel, strMap(getPath(template, 'metadata.labels')))) {
          throw invalid(type.kind, type.group, name, 'spec.template.metadata.labels', 'Invalid value: `selector` does not match template `labels`');
        }
      }
      if (type.plural !== 'daemonsets' && type.plural !== 'jobs' && spec.replicas === undefined) spec.replicas = 1;
      if (type.plural === 'deployments') {
        spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
      }
      if (type.plural === 'statefulsets') {
        spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
        spec.podManagementPolicy ??= 'OrderedReady';
        spec.serviceName ??= '';
      }
      if (type.plural === 'daemonsets') spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
      if (type.plural === 'jobs') this.jobDefaults(obj, spec, template);
    }
    if (type.plural === 'pods') {
      spec.restartPolicy ??= 'Always';
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.terminationGracePeriodSeconds ??= 30;
    }
    if (type.plural === 'cronjobs') {
      spec.suspend ??= false;
      spec.concurrencyPolicy ??= 'Allow';
    }
  }

  private jobDefaults(obj: JsonObject, spec: JsonObject, template: JsonObject): void {
    const uid = String(metaOf(obj).uid ?? '');
    if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
    spec.parallelism ??= 1;
    spec.backoffLimit ??= 6;
    const tmeta = child(template, 'metadata');
    const ids = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': nameOf(obj), 'controller-uid': uid, 'job-name': nameOf(obj) };
    tmeta.labels = { ...strMap(tmeta.labels), ...ids };
    spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  }

  /** Fields the API server refuses to change after creation. */
  private checkImmutable(type: ResourceType, old: JsonObject, next: JsonObject): void {
    const name = nameOf(old);
    if (type.plural === 'pods') {
      // Only images (and a few scheduling fields) may change on a running pod; env never does.
      const strip = (spec: unknown): unknown => {
        const s = clone(isObj(spec) ? spec : {});
        for (const f of ['containers', 'initContainers']) for (const c of objList(s[f])) delete c.image;
        delete s.activeDeadlineSeconds;
        delete s.tolerations;
        delete s.terminationGracePeriodSeconds;
        return s;
      };
      if (!deepEqual(strip(old.spec), strip(next.spec))) {
        throw invalid(type.kind, type.group, name, 'spec', 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)');
      }
    }
    if (['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs'].includes(type.plural)) {
      if (!deepEqual(getPath(old, 'spec.selector'), getPath(next, 'spec.selector'))) {
        throw invalid(type.kind, type.group, name, 'spec.selector', 'Invalid value: field is immutable');
      }
    }
    if (type.plural === 'jobs' && !deepEqual(getPath(old, 'spec.template'), getPath(next, 'spec.template'))) {
      throw invalid(type.kind, type.group, name, 'spec.template', 'Invalid value: field is immutable');
    }
  }

  /** The pods (or other objects) whose controller is `owner`, by namespace and name. */
  ownedBy(owner: Entry, plural: string): Entry[] {
    const uid = String(metaOf(owner.obj).uid ?? '');
    return this.store
      .owned(uid)
      .filter((e) => e.type.plural === plural)
      .sort((a, b) => (nameOf(a.obj) < nameOf(b.obj) ? -1 : nameOf(a.obj) > nameOf(b.obj) ? 1 : 0));
  }
}

/** Per template map (labels, annotations): one shared string-valued copy. */
const sharedMaps = new WeakMap<object, Record<string, string>>();
function sharedCopy(v: unknown): Record<string, string> {
  if (!isObj(v)) return {};
  let out = sharedMaps.get(v);
  if (!out) sharedMaps.set(v, (out = share(strMap(v))));
  return out;
}

function checkKind(type: ResourceType, obj: JsonObject): void {
  if (obj.kind !== undefined && obj.kind !== type.kind) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(type)) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
  }
}
