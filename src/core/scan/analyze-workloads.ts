/**
 * Which workloads use a service account, how many of their pods run on IRSA vs Pod Identity,
 * and where they run. Pods are the truth for counts (a Deployment's pods are found through its
 * ReplicaSets, a CronJob's through its Jobs); templates add what has no pod yet: a Fargate
 * profile that would schedule the next pod, or a Windows nodeSelector.
 */
import type { Finding, WorkloadReport } from './inventory.js';
import type { ClusterSnapshot, FargateProfileSnapshot, NodeObject, PodObject, WorkloadObject } from './snapshot.js';
import { finding } from './findings.js';
import { compareStrings, wildcardMatch } from '../text.js';

type Placement = WorkloadReport['runsOn'][number];
const PLACEMENT_ORDER: readonly Placement[] = ['ec2', 'auto', 'fargate', 'windows'];

export interface WorkloadAnalysis {
  workloads: WorkloadReport[];
  pods: WorkloadReport['pods'];
  findings: Finding[];
}

interface Entry {
  kind: WorkloadReport['kind'];
  name: string;
  pods: { irsa: number; podIdentity: number; none: number };
  runsOn: Set<Placement>;
  /** Why each blocking placement was concluded, for the finding's message. */
  why: Map<Placement, string[]>;
  /** Owner of a pod whose controller podid does not know (e.g. an Argo Rollout). */
  foreignOwner: string | null;
}

/** Fargate selectors accept `*` and `?` wildcards in the namespace and label values. */
const globMatch = (pattern: string, value: string): boolean => wildcardMatch(pattern, value);

export function matchingFargateProfile(profiles: readonly FargateProfileSnapshot[], namespace: string, labels: Readonly<Record<string, string>>): string | null {
  for (const p of profiles) {
    for (const s of p.selectors) {
      if (!globMatch(s.namespace, namespace)) continue;
      const ok = Object.entries(s.labels).every(([k, v]) => labels[k] !== undefined && globMatch(v, labels[k]));
      if (ok) return p.name;
    }
  }
  return null;
}

const OS_KEYS = new Set(['kubernetes.io/os', 'beta.kubernetes.io/os']);

/**
 * Whether a pod spec's `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms` admit
 * Windows nodes only: the terms are ORed, so every term must pin the OS (an `In` expression on
 * `kubernetes.io/os` or `beta.kubernetes.io/os` whose values are all `windows`; expressions of a
 * term are ANDed, so one such expression is enough). Untyped: live objects and manifests alike.
 */
export function requiredAffinityPinsWindows(terms: unknown): boolean {
  if (!Array.isArray(terms) || terms.length === 0) return false;
  const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return terms.every((term) => {
    const expressions = record(term) ? term['matchExpressions'] : undefined;
    return (
      Array.isArray(expressions) &&
      expressions.some((e) => {
        if (!record(e)) return false;
        const values = e['values'];
        return OS_KEYS.has(String(e['key'])) && e['operator'] === 'In' && Array.isArray(values) && values.length > 0 && values.every((x) => String(x).toLowerCase() === 'windows');
      })
    );
  });
}

function isWindowsSelector(nodeSelector: Readonly<Record<string, string>>): boolean {
  const os = nodeSelector['kubernetes.io/os'] ?? nodeSelector['beta.kubernetes.io/os'];
  return os?.toLowerCase() === 'windows';
}

function placementOfNode(node: NodeObject): Placement {
  if (node.computeType === 'fargate') return 'fargate';
  if (node.os.toLowerCase() === 'windows') return 'windows';
  return node.computeType === 'auto' ? 'auto' : 'ec2';
}

const cmp = compareStrings;
export const isLive = (p: PodObject): boolean => p.phase !== 'Succeeded' && p.phase !== 'Failed';

/**
 * A cluster's workloads, pods and nodes grouped once, so each service account's analysis reads
 * its own namespace and pods instead of scanning the whole cluster (a fleet scan analyses
 * thousands of service accounts). Groups keep the snapshot's order.
 */
export interface ClusterIndex {
  workloadsByNamespace: ReadonlyMap<string, readonly WorkloadObject[]>;
  /** By namespace, then service account: the workloads whose template runs as it. */
  workloadsByServiceAccount: ReadonlyMap<string, ReadonlyMap<string, readonly WorkloadObject[]>>;
  /** By namespace, then service account. */
  podsByServiceAccount: ReadonlyMap<string, ReadonlyMap<string, readonly PodObject[]>>;
  nodes: ReadonlyMap<string, NodeObject>;
}

const NONE: readonly never[] = [];

/** What a two-level index holds for a namespace and service account (no key string is built per pod or lookup). */
export function ofServiceAccount<T>(index: ReadonlyMap<string, ReadonlyMap<string, readonly T[]>>, namespace: string, serviceAccount: string): readonly T[] {
  return index.get(namespace)?.get(serviceAccount) ?? NONE;
}

function groupByServiceAccount<T extends { namespace: string; serviceAccount: string }>(items: readonly T[]): Map<string, Map<string, T[]>> {
  const out = new Map<string, Map<string, T[]>>();
  for (const item of items) {
    let inNs = out.get(item.namespace);
    if (inNs === undefined) out.set(item.namespace, (inNs = new Map()));
    const list = inNs.get(item.serviceAccount);
    if (list) list.push(item);
    else inNs.set(item.serviceAccount, [item]);
  }
  return out;
}

function group<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export function indexCluster(cluster: ClusterSnapshot): ClusterIndex {
  const { kube } = cluster;
  return {
    workloadsByNamespace: group(kube.workloads, (w) => w.namespace),
    workloadsByServiceAccount: groupByServiceAccount(kube.workloads),
    podsByServiceAccount: groupByServiceAccount(kube.pods),
    nodes: new Map(kube.nodes.map((n) => [n.name, n])),
  };
}

/**
 * A namespace's workloads by kind/name, built once per namespace group of a ClusterIndex (the
 * same group serves every service account of the namespace) rather than once per service account.
 */
const byKeyCache = new WeakMap<readonly WorkloadObject[], ReadonlyMap<string, WorkloadObject>>();
function workloadsByKey(inNs: readonly WorkloadObject[]): ReadonlyMap<string, WorkloadObject> {
  let map = byKeyCache.get(inNs);
  if (map === undefined) {
    map = new Map(inNs.map((w) => [`${w.kind}/${w.name}`, w]));
    byKeyCache.set(inNs, map);
  }
  return map;
}

/** `index` defaults to one built for this call; analyzeFleet passes one per cluster. */
export function analyzeWorkloads(cluster: ClusterSnapshot, namespace: string, serviceAccount: string, index: ClusterIndex = indexCluster(cluster)): WorkloadAnalysis {
  const inNs = index.workloadsByNamespace.get(namespace) ?? [];
  const byKey = workloadsByKey(inNs);
  const nodes = index.nodes;

  /**
   * The top-level controller podid would restart: ReplicaSet -> Deployment, Job -> CronJob.
   * `foreign` names a controller podid does not know (an Argo Rollout owning a ReplicaSet, a
   * static pod's Node): its pods are reported one by one, as podid cannot restart them.
   */
  const root = (kind: string, name: string): { kind: WorkloadReport['kind']; name: string } | { foreign: string } => {
    if (kind === 'ReplicaSet') {
      const owner = byKey.get(`ReplicaSet/${name}`)?.owner ?? null;
      if (owner === null) return { kind, name };
      return owner.kind === 'Deployment' ? { kind: 'Deployment', name: owner.name } : { foreign: `${owner.kind}/${owner.name} (through ReplicaSet/${name})` };
    }
    if (kind === 'Job') {
      const owner = byKey.get(`Job/${name}`)?.owner ?? null;
      return owner?.kind === 'CronJob' ? { kind: 'CronJob', name: owner.name } : { kind, name };
    }
    if (kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet' || kind === 'CronJob') return { kind, name };
    return { foreign: `${kind}/${name}` };
  };

  const entries = new Map<string, Entry>();
  const entry = (kind: WorkloadReport['kind'], name: string): Entry => {
    const key = `${kind}/${name}`;
    let e = entries.get(key);
    if (e === undefined) {
      e = { kind, name, pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: new Set(), why: new Map(), foreignOwner: null };
      entries.set(key, e);
    }
    return e;
  };
  // `why` is made only for the placements a finding explains (a fleet has 100,000 pods on EC2).
  const place = (e: Entry, where: Placement, why: () => string) => {
    e.runsOn.add(where);
    if (where === 'fargate' || where === 'windows') e.why.set(where, [...(e.why.get(where) ?? []), why()]);
  };

  // Workloads whose template names the service account, even with no pod yet. Completed Jobs
  // and ReplicaSets (their Deployment is listed itself; old revisions hold no pods) are skipped.
  for (const w of ofServiceAccount(index.workloadsByServiceAccount, namespace, serviceAccount)) {
    if (w.kind === 'ReplicaSet' || (w.kind === 'Job' && (!w.active || w.owner !== null))) continue;
    templatePlacement(cluster, w, entry(w.kind, w.name), place);
  }

  const jobPods = new Map<Entry, number>();
  // A controller's pods come one after the other: the previous pod's owner, when it is the same
  // and podid knows its controller, has the same entry (root is a function of the owner).
  let lastOwner: { kind: string; name: string } | null = null;
  let lastEntry: Entry | undefined;
  for (const pod of ofServiceAccount(index.podsByServiceAccount, namespace, serviceAccount)) {
    if (!isLive(pod)) continue;
    const owner = pod.owner;
    let e: Entry;
    if (owner !== null && lastEntry !== undefined && lastOwner !== null && owner.kind === lastOwner.kind && owner.name === lastOwner.name) {
      e = lastEntry;
    } else {
      const r = owner === null ? null : root(owner.kind, owner.name);
      e = r === null || 'foreign' in r ? entry('Pod', pod.name) : entry(r.kind, r.name);
      if (r !== null && 'foreign' in r) e.foreignOwner = r.foreign;
      lastOwner = owner;
      lastEntry = r === null || 'foreign' in r ? undefined : e;
    }
    if (owner?.kind === 'Job') jobPods.set(e, (jobPods.get(e) ?? 0) + 1);
    e.pods[pod.identity === 'pod-identity' ? 'podIdentity' : pod.identity]++;

    const node = pod.nodeName === null ? undefined : nodes.get(pod.nodeName);
    if (node !== undefined) {
      const where = placementOfNode(node);
      // Only Fargate and Windows placements carry a reason (most pods run on EC2 nodes).
      if (where === 'fargate' || where === 'windows') place(e, where, () => (where === 'fargate' ? `pod ${pod.name} on Fargate node ${node.name}` : `pod ${pod.name} on node ${node.name}`));
      else e.runsOn.add(where);
    } else {
      // Not scheduled yet: the Fargate admission decides from the namespace and labels.
      const profile = matchingFargateProfile(cluster.fargateProfiles, namespace, pod.labels);
      if (profile !== null) place(e, 'fargate', () => `Fargate profile ${profile} selects pod ${pod.name}`);
    }
  }

  const workloads: WorkloadReport[] = [];
  const findings: Finding[] = [];
  const total = { irsa: 0, podIdentity: 0, none: 0 };
  const sorted = [...entries.values()].sort((a, b) => cmp(a.kind, b.kind) || cmp(a.name, b.name));
  for (const e of sorted) {
    const label = `${e.kind} ${namespace}/${e.name}`;
    workloads.push({ kind: e.kind, namespace, name: e.name, pods: { ...e.pods }, runsOn: PLACEMENT_ORDER.filter((p) => e.runsOn.has(p)) });
    total.irsa += e.pods.irsa;
    total.podIdentity += e.pods.podIdentity;
    total.none += e.pods.none;
    if (e.runsOn.has('fargate')) findings.push(finding('WORKLOAD_ON_FARGATE', { workload: label, why: summarise(e.why.get('fargate')) }));
    if (e.runsOn.has('windows')) findings.push(finding('WORKLOAD_ON_WINDOWS', { workload: label, why: summarise(e.why.get('windows')) }));
    if (e.kind === 'Pod') findings.push(finding('POD_NOT_RESTARTABLE', { pod: `${namespace}/${e.name}`, owner: e.foreignOwner }));
    const running = jobPods.get(e) ?? 0;
    if (running > 0) findings.push(finding('JOB_RUNNING', { workload: label, pods: running }));
  }
  return { workloads, pods: total, findings };
}

function summarise(reasons: readonly string[] | undefined): string {
  const r = [...new Set(reasons ?? [])];
  return r.length <= 2 ? r.join('; ') : `${r.slice(0, 2).join('; ')} and ${r.length - 2} more`;
}

/** Placement implied by a workload's pod template: a Fargate profile selecting it, a Windows nodeSelector. */
function templatePlacement(cluster: ClusterSnapshot, w: WorkloadObject, e: Entry, place: (e: Entry, where: Placement, why: () => string) => void): void {
  // DaemonSet pods are never scheduled on Fargate, whatever the profiles select.
  if (w.kind !== 'DaemonSet') {
    const profile = matchingFargateProfile(cluster.fargateProfiles, w.namespace, w.templateLabels);
    if (profile !== null) place(e, 'fargate', () => `Fargate profile ${profile} selects its pods`);
  }
  if (isWindowsSelector(w.nodeSelector)) place(e, 'windows', () => 'nodeSelector kubernetes.io/os=windows');
  else if (w.windowsAffinity === true) place(e, 'windows', () => 'required node affinity kubernetes.io/os In (windows)');
}
