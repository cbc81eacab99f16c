/**
 * Kubernetes objects -> the scan's slim snapshot objects. Applied to each list page as it
 * arrives, so full objects (managedFields, status, specs) never pile up in memory.
 * Input shapes are the camelCase models @kubernetes/client-node deserialises to; the mappers read
 * only fields whose wire name is the model's name, so a parsed API response serves them as is.
 *
 * Each mapper has a `Keep` (json-keep.ts) naming every field it reads: the list reader parses
 * only those out of a page. A mapper that starts reading a field must add it to its Keep
 * (test/unit/adapters-kube-keep.test.ts maps full objects both ways and compares).
 */
import type {
  V1CronJob,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
  V1PodSpec,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { requiredAffinityPinsWindows } from '../core/scan/analyze-workloads.js';
import { managedBy } from '../core/scan/managed-by.js';
import type { NodeObject, PodIdentityEnv, PodObject, ServiceAccountObject, WorkloadKind, WorkloadObject } from '../core/scan/snapshot.js';
import type { Keep } from './json-keep.js';

export const POD_IDENTITY_ENV = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
export const IRSA_ROLE_ENV = 'AWS_ROLE_ARN';
export const IRSA_TOKEN_ENV = 'AWS_WEB_IDENTITY_TOKEN_FILE';
const EKS_ANNOTATION_PREFIX = 'eks.amazonaws.com/';

/**
 * Which credentials the EKS webhooks injected when the pod was created. Pod Identity wins when
 * present: with both an annotation and an association the webhook injects only Pod Identity.
 */
export function classifyPodIdentity(spec: Pick<V1PodSpec, 'containers' | 'initContainers'> | undefined): PodIdentityEnv {
  // Loops rather than a Set of names: this runs for every pod of a fleet.
  let roleArn = false;
  let tokenFile = false;
  for (const list of [spec?.containers, spec?.initContainers]) {
    for (const c of list ?? []) {
      for (const e of c.env ?? []) {
        if (e.name === POD_IDENTITY_ENV) return 'pod-identity';
        if (e.name === IRSA_ROLE_ENV) roleArn = true;
        else if (e.name === IRSA_TOKEN_ENV) tokenFile = true;
      }
    }
  }
  return roleArn && tokenFile ? 'irsa' : 'none';
}

function controllerOwner(meta: V1ObjectMeta | undefined): { kind: string; name: string } | null {
  const refs: V1OwnerReference[] = meta?.ownerReferences ?? [];
  const owner = refs.find((r) => r.controller === true) ?? refs[0];
  return owner ? { kind: owner.kind, name: owner.name } : null;
}

/** What of an object's metadata the mappers read (ownerReferences: the controller and its name). */
const OWNERS: Keep = { apiVersion: true, kind: true, name: true, controller: true };
const CONTAINERS: Keep = { name: true, env: { name: true, value: true } };
/** The required node affinity's OS expressions (requiredAffinityPinsWindows). */
const REQUIRED_AFFINITY: Keep = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchExpressions: { key: true, operator: true, values: true } } } } };
/** A pod template: its labels, service account, node selector and required node affinity. */
const TEMPLATE: Keep = { metadata: { labels: true }, spec: { serviceAccountName: true, nodeSelector: true, affinity: REQUIRED_AFFINITY } };
const WORKLOAD_META: Keep = { namespace: true, name: true, uid: true, resourceVersion: true, ownerReferences: OWNERS };

export const SERVICE_ACCOUNT_KEEP: Keep = {
  metadata: { namespace: true, name: true, uid: true, resourceVersion: true, annotations: true, labels: true, ownerReferences: OWNERS },
};
export const POD_KEEP: Keep = {
  metadata: { namespace: true, name: true, labels: true, ownerReferences: OWNERS, deletionTimestamp: true },
  spec: { serviceAccountName: true, nodeName: true, nodeSelector: true, containers: CONTAINERS, initContainers: CONTAINERS },
  status: { phase: true },
};
/**
 * The parts of a pod that repeat byte for byte across the pods of one controller (json-keep.ts
 * shareKept): parsed once per distinct value and shared, frozen, by every pod that has it.
 */
export const POD_SHARED: readonly (readonly string[])[] = [
  ['metadata', 'labels'],
  ['metadata', 'ownerReferences'],
  ['spec', 'containers'],
  ['spec', 'initContainers'],
  ['spec', 'nodeSelector'],
];
/** Deployments, StatefulSets, ReplicaSets, DaemonSets and Jobs (replicas, parallelism, active). */
export const WORKLOAD_KEEP: Keep = {
  metadata: WORKLOAD_META,
  spec: { replicas: true, parallelism: true, template: TEMPLATE },
  status: { active: true },
};
export const CRONJOB_KEEP: Keep = { metadata: WORKLOAD_META, spec: { suspend: true, jobTemplate: { spec: { template: TEMPLATE } } } };
export const NODE_KEEP: Keep = { metadata: { name: true, labels: true }, status: { nodeInfo: { operatingSystem: true } } };

/**
 * An object a list's mapper could not read: an API server (or something posing as one) sent a
 * field in a shape Kubernetes never gives it (`env: 7`, `spec: 5`). Names the object and, where
 * it can tell, the field; never the mapper's TypeError.
 */
export class KubeShapeError extends Error {
  constructor(readonly object: string, readonly problem: string) {
    super(`the API server sent ${object} in a shape podid cannot read: ${problem}`);
    this.name = 'KubeShapeError';
  }
}

const LIST_FIELDS = new Set(['containers', 'initContainers', 'env', 'ownerReferences', 'conditions', 'containerStatuses', 'nodeSelectorTerms', 'matchExpressions', 'values']);
const MAP_FIELDS = new Set(['labels', 'annotations', 'nodeSelector']);
const NUMBER_FIELDS = new Set(['replicas', 'parallelism', 'active', 'generation', 'observedGeneration', 'partition', 'exitCode']);
const BOOLEAN_FIELDS = new Set(['controller', 'suspend']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first field of `value` (parsed with `keep`) whose shape the mappers cannot read, as `spec.containers[0].env is not a list`. */
function shapeProblem(value: unknown, keep: Keep, path = ''): string | undefined {
  if (keep === true) return undefined;
  if (!isRecord(value)) return `${path || 'the object'} is not an object (${JSON.stringify(value) ?? String(value)})`;
  for (const key of Object.keys(keep)) {
    const v = value[key];
    const sub = keep[key]!;
    const at = path === '' ? key : `${path}.${key}`;
    if (v === undefined || v === null) continue;
    if (LIST_FIELDS.has(key)) {
      if (!Array.isArray(v)) return `${at} is not a list`;
      for (let i = 0; i < v.length; i++) {
        const p = shapeProblem(v[i], sub, `${at}[${i}]`);
        if (p !== undefined) return p;
      }
    } else if (MAP_FIELDS.has(key)) {
      if (!isRecord(v) || Object.values(v).some((x) => typeof x !== 'string')) return `${at} is not a map of strings`;
    } else if (NUMBER_FIELDS.has(key)) {
      if (typeof v !== 'number') return `${at} is not a number`;
    } else if (BOOLEAN_FIELDS.has(key)) {
      if (typeof v !== 'boolean') return `${at} is not true or false`;
    } else if (sub === true) {
      if (typeof v !== 'string') return `${at} is not a string`;
    } else {
      const p = shapeProblem(v, sub, at);
      if (p !== undefined) return p;
    }
  }
  return undefined;
}

/**
 * `map`, for one list's items (`kind` and `keep` of that list): an item it cannot read becomes a
 * KubeShapeError naming the item. Checked only when the mapper fails, so a fleet's well-formed
 * objects cost nothing more.
 */
export function guardedMapper<R>(kind: string, keep: Keep, map: (item: never) => R): (item: never) => R {
  return (item) => {
    try {
      return map(item);
    } catch (err) {
      const meta: Record<string, unknown> = isRecord(item) && isRecord(item['metadata']) ? item['metadata'] : {};
      const name = typeof meta['name'] === 'string' ? meta['name'] : '(no name)';
      const object = `${kind} ${typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? `${meta['namespace']}/` : ''}${name}`;
      throw new KubeShapeError(object, shapeProblem(item, keep) ?? `unexpected content (${err instanceof Error ? err.message : String(err)})`);
    }
  };
}

const strings = (r: Record<string, string> | undefined): Record<string, string> => ({ ...(r ?? {}) });

export function toServiceAccount(sa: V1ServiceAccount): ServiceAccountObject {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(sa.metadata?.annotations ?? {})) {
    if (k.startsWith(EKS_ANNOTATION_PREFIX)) annotations[k] = v;
  }
  return {
    namespace: sa.metadata?.namespace ?? '',
    name: sa.metadata?.name ?? '',
    uid: sa.metadata?.uid ?? '',
    resourceVersion: sa.metadata?.resourceVersion ?? '',
    annotations,
    // Only when a controller is found: a fleet holds many service accounts.
    ...withManager(managedBy({
      labels: strings(sa.metadata?.labels),
      annotations: strings(sa.metadata?.annotations),
      owners: (sa.metadata?.ownerReferences ?? []).map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name })),
    })),
  };
}

const withManager = (m: ReturnType<typeof managedBy>) => (m === null ? {} : { managedBy: m });

/** Containers that set AWS_WEB_IDENTITY_TOKEN_FILE to a literal; the key only when there are any (100,000 pods add up). */
function tokenFilesOf(spec: V1PodSpec | undefined): Pick<PodObject, 'tokenFiles'> {
  let tokenFiles: { container: string; path: string }[] | undefined;
  for (const list of [spec?.initContainers, spec?.containers]) {
    for (const c of list ?? []) {
      const value = c.env?.find((e) => e.name === IRSA_TOKEN_ENV)?.value;
      if (value === undefined) continue;
      // A literal, not [] + push: a fleet holds one per IRSA pod, and a grown array keeps spare slots.
      if (tokenFiles === undefined) tokenFiles = [{ container: c.name, path: value }];
      else tokenFiles.push({ container: c.name, path: value });
    }
  }
  return tokenFiles === undefined ? {} : { tokenFiles };
}

/**
 * Equal values the pod mapper makes, shared: a fleet's 100,000 pods come from about 10,000
 * ReplicaSets, and the pods of one share their owner, labels and token-file settings. Shared
 * values are frozen (the snapshot is read-only). Bounded: a full cache starts over.
 */
class Interner<T extends object> {
  private readonly values = new Map<string, T>();
  constructor(private readonly limit = 50_000) {}
  get(key: string, make: () => T): T {
    let v = this.values.get(key);
    if (v === undefined) {
      if (this.values.size >= this.limit) this.values.clear();
      v = Object.freeze(make());
      this.values.set(key, v);
    }
    return v;
  }
}

// Kubernetes names, label keys and values never hold NUL or SOH: safe separators for the keys.
const podOwners = new Interner<{ kind: string; name: string }>();
const podLabels = new Interner<Record<string, string>>();
const podTokenFiles = new Interner<Pick<PodObject, 'tokenFiles'>>();

/**
 * What was made from an input the list reader shared (POD_SHARED: the same frozen object for
 * every pod with the same bytes), by that input's identity: no key to build for most pods.
 * Inputs that are not frozen (a mapper called on objects from elsewhere) are not remembered.
 */
function byIdentity<K extends object, V>(): (input: K | undefined, make: () => V) => V {
  const memo = new WeakMap<K, V>();
  return (input, make) => {
    if (input === undefined || !Object.isFrozen(input)) return make();
    let v = memo.get(input);
    if (v === undefined) {
      v = make();
      memo.set(input, v);
    }
    return v;
  };
}

const ownerOf = byIdentity<V1OwnerReference[], { kind: string; name: string } | null>();
const labelsOf = byIdentity<Record<string, string>, Record<string, string>>();
/** Containers -> identity and token files; initContainers are few, their pods go the long way. */
const containersOf = byIdentity<V1PodSpec['containers'], { identity: PodIdentityEnv; tokenFiles: Pick<PodObject, 'tokenFiles'> }>();

function sharedOwner(meta: V1ObjectMeta | undefined): { kind: string; name: string } | null {
  return ownerOf(meta?.ownerReferences, () => {
    const owner = controllerOwner(meta);
    return owner === null ? null : podOwners.get(`${owner.kind}\u0000${owner.name}`, () => owner);
  });
}

function sharedLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return labelsOf(labels, () => {
    let key = '';
    for (const k in labels) key += `${k}\u0000${labels[k]}\u0001`;
    return podLabels.get(key, () => strings(labels));
  });
}

/** The pod's identity and token files, remembered by its containers when it has no init containers. */
function identityAndTokenFiles(spec: V1PodSpec | undefined): { identity: PodIdentityEnv; tokenFiles: Pick<PodObject, 'tokenFiles'> } {
  const make = () => ({ identity: classifyPodIdentity(spec), tokenFiles: sharedTokenFiles(spec) });
  return spec?.initContainers === undefined || spec.initContainers.length === 0 ? containersOf(spec?.containers, make) : make();
}

function sharedTokenFiles(spec: V1PodSpec | undefined): Pick<PodObject, 'tokenFiles'> {
  const t = tokenFilesOf(spec);
  if (t.tokenFiles === undefined) return t;
  return podTokenFiles.get(t.tokenFiles.map((f) => `${f.container}\u0000${f.path}`).join('\u0001'), () => ({ tokenFiles: Object.freeze(t.tokenFiles!.map((f) => Object.freeze(f))) as PodObject['tokenFiles'] }));
}

/**
 * The pod's nodeSelector asks for Windows nodes, as the EKS Pod Identity webhook tells
 * (aws/amazon-eks-pod-identity-webhook, pkg/handler/handler.go, getPodSpecPatch: `kubernetes.io/os`
 * or `beta.kubernetes.io/os` equal to `windows`; node affinity is not looked at).
 */
function selectsWindows(selector: Record<string, string> | undefined): boolean {
  return selector?.['kubernetes.io/os'] === 'windows' || selector?.['beta.kubernetes.io/os'] === 'windows';
}

export function toPod(pod: V1Pod): PodObject {
  const { identity, tokenFiles } = identityAndTokenFiles(pod.spec);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    // The API server defaults serviceAccountName to `default`; a missing one means the same.
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    nodeName: pod.spec?.nodeName ?? null,
    phase: pod.status?.phase ?? 'Unknown',
    owner: sharedOwner(pod.metadata),
    identity,
    labels: sharedLabels(pod.metadata?.labels),
    ...tokenFiles,
    // The webhook writes Windows token paths for these (core/scan/analyze-extra.ts); rare, so the key only then.
    ...(tokenFiles.tokenFiles !== undefined && selectsWindows(pod.spec?.nodeSelector) ? { windowsNodeSelector: true as const } : {}),
    // Being deleted (graceful termination): on its way out, whatever credentials it has.
    ...(pod.metadata?.deletionTimestamp ? { terminating: true } : {}),
  };
}

function workload(
  kind: WorkloadKind,
  meta: V1ObjectMeta | undefined,
  template: V1PodTemplateSpec | undefined,
  rest: Pick<WorkloadObject, 'replicas' | 'active'>,
): WorkloadObject {
  return {
    kind,
    namespace: meta?.namespace ?? '',
    name: meta?.name ?? '',
    uid: meta?.uid ?? '',
    resourceVersion: meta?.resourceVersion ?? '',
    serviceAccount: template?.spec?.serviceAccountName || 'default',
    templateLabels: strings(template?.metadata?.labels),
    nodeSelector: strings(template?.spec?.nodeSelector),
    // Rare: the key only then, as windowsNodeSelector on pods.
    ...(requiredAffinityPinsWindows(template?.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms) ? { windowsAffinity: true as const } : {}),
    owner: controllerOwner(meta),
    ...rest,
  };
}

// Replicated workloads are active while they ask for pods (a Deployment scaled to 0 runs nothing);
// spec.replicas defaults to 1 when absent.
export const toDeployment = (d: V1Deployment): WorkloadObject =>
  workload('Deployment', d.metadata, d.spec?.template, { replicas: d.spec?.replicas ?? 1, active: (d.spec?.replicas ?? 1) > 0 });

export const toStatefulSet = (s: V1StatefulSet): WorkloadObject =>
  workload('StatefulSet', s.metadata, s.spec?.template, { replicas: s.spec?.replicas ?? 1, active: (s.spec?.replicas ?? 1) > 0 });

export const toReplicaSet = (r: V1ReplicaSet): WorkloadObject =>
  workload('ReplicaSet', r.metadata, r.spec?.template, { replicas: r.spec?.replicas ?? 1, active: (r.spec?.replicas ?? 1) > 0 });

export const toDaemonSet = (d: V1DaemonSet): WorkloadObject => workload('DaemonSet', d.metadata, d.spec?.template, { replicas: null, active: true });

/** A Job is active while it has running pods. */
export const toJob = (j: V1Job): WorkloadObject =>
  workload('Job', j.metadata, j.spec?.template, { replicas: j.spec?.parallelism ?? 1, active: (j.status?.active ?? 0) > 0 });

/** A CronJob is active unless suspended (it will create Jobs, hence pods, on schedule). */
export const toCronJob = (c: V1CronJob): WorkloadObject =>
  workload('CronJob', c.metadata, c.spec?.jobTemplate?.spec?.template, { replicas: null, active: c.spec?.suspend !== true });

export function toNode(node: V1Node): NodeObject {
  const labels = node.metadata?.labels ?? {};
  const compute = labels['eks.amazonaws.com/compute-type'];
  return {
    name: node.metadata?.name ?? '',
    os: labels['kubernetes.io/os'] ?? node.status?.nodeInfo?.operatingSystem ?? 'linux',
    computeType: compute === 'fargate' ? 'fargate' : compute === 'auto' ? 'auto' : 'ec2',
    nodegroup: labels['eks.amazonaws.com/nodegroup'] ?? null,
  };
}
