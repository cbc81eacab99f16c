/**
 * The Kubernetes side of apply's ports (core/apply/ports.ts) for one kubeconfig context, over
 * the scan's transport (kube-http.ts: the kubeconfig's TLS and credentials as kube-auth.ts
 * applies them, exec plugins bounded by the request timeout with the run's environment and
 * directory, one keep-alive agent per context, a 401 to renewable credentials retried once with
 * new ones). Each call is made once: failures are thrown as ApplyCallErrors (429 throttled with
 * Retry-After, 5xx, 409 conflict, no answer = lost) and the executor decides.
 *
 * The restart is `kubectl rollout restart`'s own request: a strategic merge patch of the pod
 * template's `kubectl.kubernetes.io/restartedAt` annotation.
 */
import { PodidError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import { ApplyCallError, type KubeApplyPort, type NodeState, type PodState, type RestartableKind, type WorkloadCondition, type WorkloadState } from '../core/apply/ports.js';
import type { Keep } from './json-keep.js';
import { classifyPodIdentity, guardedMapper, KubeShapeError } from './kube-map.js';
import { credentialsUnavailable, KubeCredentialError } from './kube-auth.js';
import { kubeHttp, KubeTransportError, type KubeAnswer } from './kube-http.js';
import { clusterTransport, type Kubeconfig } from './kubeconfig.js';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const AGENT_SELECTOR = 'app.kubernetes.io/name=eks-pod-identity-agent';

type Obj = Record<string, unknown>;

/**
 * What apply's readers take from a pod, a workload and a node: an object in another shape
 * (`containers: 5`, `conditions: {}`) is a KubeShapeError naming it and the field (kube-map.ts),
 * never a TypeError.
 */
const OWNERS: Keep = { kind: true, name: true, controller: true };
const CONDITIONS: Keep = { type: true, status: true, reason: true, message: true };
const CONTAINERS: Keep = { name: true, env: { name: true } };
const APPLY_POD_KEEP: Keep = {
  metadata: { namespace: true, name: true, uid: true, creationTimestamp: true, labels: true, ownerReferences: OWNERS },
  spec: { serviceAccountName: true, nodeName: true, containers: CONTAINERS, initContainers: CONTAINERS },
  status: { phase: true, conditions: CONDITIONS, containerStatuses: { state: { waiting: { reason: true, message: true }, terminated: { exitCode: true } } } },
};
const APPLY_WORKLOAD_KEEP: Keep = {
  metadata: { namespace: true, name: true, uid: true, generation: true },
  spec: { strategy: { type: true }, updateStrategy: { type: true, rollingUpdate: { partition: true } }, replicas: true, paused: true, template: { metadata: { annotations: true } } },
  status: { observedGeneration: true, conditions: CONDITIONS },
};
const APPLY_NODE_KEEP: Keep = { metadata: { name: true, labels: true } };

const readPod = guardedMapper('Pod', APPLY_POD_KEEP, (p: Obj) => toPodState(p));
const readNode = guardedMapper('Node', APPLY_NODE_KEEP, (n: Obj) => toNodeState(n));
const readWorkload = (kind: RestartableKind) => guardedMapper(kind, APPLY_WORKLOAD_KEEP, (w: Obj) => toWorkloadState(kind, w));

const PLURAL: Record<RestartableKind, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export async function kubeApplyPortFactory(kubeconfig: Kubeconfig, opts: { requestTimeoutMs?: number } = {}): Promise<(context: string) => KubeApplyPort> {
  const ports = new Map<string, KubeApplyPort>();
  return (context) => {
    let port = ports.get(context);
    if (!port) {
      port = createKubeApplyPort(kubeconfig, context, opts.requestTimeoutMs ?? 30_000);
      ports.set(context, port);
    }
    return port;
  };
}

const obj = (v: unknown): Obj => (isJsonObject(v) ? (v as Obj) : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const path = (o: unknown, p: string): unknown => p.split('.').reduce<unknown>((cur, k) => obj(cur)[k], o);

function createKubeApplyPort(kubeconfig: Kubeconfig, context: string, timeoutMs: number): KubeApplyPort {
  // The scan's guards (kubeconfig.ts), checked when the port is made: https, or http only with
  // insecure-skip-tls-verify, and not insecure-skip-tls-verify with a CA.
  const entry = kubeconfig.getCluster(kubeconfig.getContext(context)?.cluster);
  if (entry) clusterTransport(entry);
  const http = kubeHttp(kubeconfig, context);
  const server = http.server || '(no server)';

  async function request(method: 'GET' | 'PATCH' | 'POST' | 'DELETE', what: string, p: string, opts: { query?: Record<string, string>; body?: unknown; contentType?: string; allow404?: boolean; text?: boolean } = {}): Promise<Obj | null> {
    const query = new URLSearchParams(opts.query ?? {}).toString();
    let rsp: KubeAnswer;
    try {
      rsp = await http.request({
        method,
        path: query ? `${p}?${query}` : p,
        accept: opts.text ? 'text/plain' : 'application/json',
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body), contentType: opts.contentType ?? 'application/json' } : {}),
        timeoutMs,
      });
    } catch (err) {
      // Never retried: a plugin that failed (or timed out) fails the same way again.
      if (err instanceof KubeCredentialError) throw credentialsUnavailable(err, context, what);
      if (!(err instanceof KubeTransportError)) throw err;
      const refused = err.code === 'ECONNREFUSED';
      // Refused: nothing was sent. Anything else (reset, timeout): the request may have been applied.
      throw new ApplyCallError(refused ? 'server' : 'lost', 'KUBE_UNREACHABLE', `${refused ? 'cannot reach' : 'no answer from'} the Kubernetes API of context ${JSON.stringify(context)} at ${server} (${what}): ${err.message}`, { cause: err });
    }
    const text = rsp.body.toString('utf8');
    const status = rsp.status;
    if (status >= 200 && status < 300) return opts.text ? { text } : (JSON.parse(text) as Obj);
    if (status === 404 && opts.allow404) return null;
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // not a Status object
    }
    if (status === 401) throw new PodidError('KUBE_UNAUTHORIZED', `Kubernetes rejected the credentials of context ${JSON.stringify(context)} on ${what}: ${message}`, { hint: 'refresh the credentials (aws eks update-kubeconfig, aws sso login) and check the context user' });
    const retryAfter = Number(rsp.headers['retry-after']);
    const kind = status === 429 ? 'throttled' : status >= 500 ? 'server' : status === 409 ? 'conflict' : status === 404 ? 'not-found' : status === 403 ? 'denied' : 'invalid';
    throw new ApplyCallError(kind, kind === 'throttled' ? 'KUBE_THROTTLED' : kind === 'denied' ? 'KUBE_FORBIDDEN' : 'KUBE_ERROR', `${what} failed in context ${JSON.stringify(context)} (HTTP ${status}): ${message}`, {
      ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
      ...(status === 403 ? { hint: 'podid migrate --apply needs get and patch on deployments, statefulsets and daemonsets, get on serviceaccounts, list on pods and nodes; --verify-probe also create, get and delete on pods and get on pods/log' } : {}),
    });
  }

  /** Reads an answer with `map`; an object in a shape podid cannot read is one KUBE_ERROR naming it. */
  function shaped<T>(what: string, map: () => T): T {
    try {
      return map();
    } catch (err) {
      if (!(err instanceof KubeShapeError)) throw err;
      throw new PodidError('KUBE_ERROR', `${what} in context ${JSON.stringify(context)}: ${err.message}`, {
        hint: `look at the object (kubectl get ${err.object.split(' ')[0]!.toLowerCase()} -o yaml): Kubernetes itself never serves this shape`,
        cause: err,
      });
    }
  }

  async function listAll(what: string, p: string, query: Record<string, string>): Promise<Obj[]> {
    const items: Obj[] = [];
    let cont: string | undefined;
    do {
      const page = await request('GET', what, p, { query: { ...query, limit: '500', ...(cont ? { continue: cont } : {}) } });
      const got = page?.['items'] ?? [];
      if (!Array.isArray(got)) throw new PodidError('KUBE_ERROR', `${what} in context ${JSON.stringify(context)}: the API server sent a list whose items are not a list`, { hint: 'check that the context points at a Kubernetes API server (not a proxy or login page)' });
      for (const i of got) items.push(obj(i));
      cont = str(path(page, 'metadata.continue')) || undefined;
    } while (cont);
    return items;
  }

  return {
    async getServiceAccount(namespace, name) {
      const sa = await request('GET', `get serviceaccount ${namespace}/${name}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`, { allow404: true });
      if (sa === null) return null;
      const strings = (o: unknown) => Object.fromEntries(Object.entries(obj(o)).filter((e): e is [string, string] => typeof e[1] === 'string'));
      return { uid: str(path(sa, 'metadata.uid')) ?? '', resourceVersion: str(path(sa, 'metadata.resourceVersion')) ?? '', annotations: strings(path(sa, 'metadata.annotations')), labels: strings(path(sa, 'metadata.labels')) };
    },
    async getWorkload(kind, namespace, name) {
      const w = await request('GET', `get ${PLURAL[kind]} ${namespace}/${name}`, `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}/${encodeURIComponent(name)}`, { allow404: true });
      return w === null ? null : shaped(`get ${PLURAL[kind]} ${namespace}/${name}`, () => readWorkload(kind)(w as never));
    },
    async restartWorkload(kind, namespace, name, restartedAt) {
      await request('PATCH', `patch ${PLURAL[kind]} ${namespace}/${name}`, `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}/${encodeURIComponent(name)}`, {
        body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } },
        contentType: 'application/strategic-merge-patch+json',
        query: { fieldManager: 'podid' },
      });
    },
    async setRestartedAt(kind, namespace, name, restartedAt) {
      // Strategic merge patch: a null value deletes the annotation.
      await request('PATCH', `patch ${PLURAL[kind]} ${namespace}/${name}`, `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}/${encodeURIComponent(name)}`, {
        body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } },
        contentType: 'application/strategic-merge-patch+json',
        query: { fieldManager: 'podid' },
      });
    },
    async patchServiceAccountAnnotations(namespace, name, annotations) {
      // JSON merge patch (RFC 7386): a null value removes the key.
      await request('PATCH', `patch serviceaccount ${namespace}/${name}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`, {
        body: { metadata: { annotations } },
        contentType: 'application/merge-patch+json',
        query: { fieldManager: 'podid' },
      });
    },
    async listPods(namespace, serviceAccount) {
      const what = `list pods in ${namespace}`;
      const pods = await listAll(what, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { fieldSelector: `spec.serviceAccountName=${serviceAccount}` });
      return shaped(what, () => pods.map((p) => readPod(p as never)));
    },
    async listAgentPods() {
      const pods = await listAll('list eks-pod-identity-agent pods', '/api/v1/namespaces/kube-system/pods', { labelSelector: AGENT_SELECTOR });
      return shaped('list eks-pod-identity-agent pods', () => pods.map((p) => readPod(p as never)));
    },
    async listNodes() {
      const nodes = await listAll('list nodes', '/api/v1/nodes', {});
      return shaped('list nodes', () => nodes.map((n) => readNode(n as never)));
    },
    async createPod(namespace, manifest) {
      await request('POST', `create pod in ${namespace}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { body: manifest, query: { fieldManager: 'podid' } });
    },
    async getPodRun(namespace, name) {
      const p = await request('GET', `get pod ${namespace}/${name}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, { allow404: true });
      if (p === null) return null;
      const pod = shaped(`get pod ${namespace}/${name}`, () => readPod(p as never));
      const cs = obj(((path(p, 'status.containerStatuses') as unknown[] | undefined) ?? [])[0]);
      const terminated = path(cs, 'state.terminated');
      const exit = path(terminated, 'exitCode');
      return { phase: str(path(p, 'status.phase')) ?? 'Unknown', exitCode: typeof exit === 'number' ? exit : null, waitingReason: pod.waitingReason };
    },
    async readPodLog(namespace, name) {
      const r = await request('GET', `get pods/log ${namespace}/${name}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`, { text: true });
      return str(r?.['text']) ?? '';
    },
    async deletePod(namespace, name) {
      await request('DELETE', `delete pod ${namespace}/${name}`, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, { query: { gracePeriodSeconds: '0' }, allow404: true });
    },
  };
}

export function toWorkloadState(kind: RestartableKind, w: Obj): WorkloadState {
  const spec = obj(w['spec']);
  const status = obj(w['status']);
  const strategy = kind === 'Deployment' ? str(path(spec, 'strategy.type')) : str(path(spec, 'updateStrategy.type'));
  const conditions: WorkloadCondition[] = ((status['conditions'] as unknown[] | undefined) ?? []).map((c) => {
    const o = obj(c);
    return { type: str(o['type']) ?? '', status: str(o['status']) ?? '', reason: str(o['reason']) ?? '', message: str(o['message']) ?? '' };
  });
  const annotations = obj(path(spec, 'template.metadata.annotations'));
  const partition = path(spec, 'updateStrategy.rollingUpdate.partition');
  return {
    kind,
    namespace: str(path(w, 'metadata.namespace')) ?? '',
    name: str(path(w, 'metadata.name')) ?? '',
    uid: str(path(w, 'metadata.uid')) ?? '',
    generation: num(path(w, 'metadata.generation')),
    restartedAt: str(annotations[RESTARTED_AT]),
    // serviceAccount is the deprecated alias the API server still honours; neither set: `default`.
    serviceAccountName: str(path(spec, 'template.spec.serviceAccountName')) || str(path(spec, 'template.spec.serviceAccount')) || 'default',
    // The API server defaults the strategy to RollingUpdate.
    strategy: strategy ?? (kind === 'Deployment' ? null : 'RollingUpdate'),
    replicas: kind === 'DaemonSet' ? null : typeof spec['replicas'] === 'number' ? spec['replicas'] : 1,
    partition: typeof partition === 'number' ? partition : null,
    paused: spec['paused'] === true,
    status: {
      observedGeneration: num(status['observedGeneration']),
      replicas: num(status['replicas']),
      updatedReplicas: num(status['updatedReplicas']),
      readyReplicas: num(status['readyReplicas']),
      availableReplicas: num(status['availableReplicas']),
      currentRevision: str(status['currentRevision']),
      updateRevision: str(status['updateRevision']),
      desiredNumberScheduled: num(status['desiredNumberScheduled']),
      updatedNumberScheduled: num(status['updatedNumberScheduled']),
      numberAvailable: num(status['numberAvailable']),
      conditions,
    },
  };
}

export function toPodState(p: Obj): PodState {
  const meta = obj(p['metadata']);
  const spec = obj(p['spec']);
  const status = obj(p['status']);
  const conditions = ((status['conditions'] as unknown[] | undefined) ?? []).map(obj);
  const ready = conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
  const scheduled = conditions.find((c) => c['type'] === 'PodScheduled');
  const waiting = ((status['containerStatuses'] as unknown[] | undefined) ?? []).map((c) => obj(path(c, 'state.waiting'))).find((w) => typeof w['reason'] === 'string');
  const waitingReason =
    scheduled && scheduled['status'] === 'False'
      ? `${str(scheduled['reason']) ?? 'Unschedulable'}: ${str(scheduled['message']) ?? ''}`.trim()
      : waiting
        ? `${str(waiting['reason'])}${str(waiting['message']) ? `: ${str(waiting['message'])}` : ''}`
        : null;
  const refs = ((meta['ownerReferences'] as unknown[] | undefined) ?? []).map(obj);
  const owner = refs.find((r) => r['controller'] === true) ?? refs[0];
  return {
    namespace: str(meta['namespace']) ?? '',
    name: str(meta['name']) ?? '',
    uid: str(meta['uid']) ?? '',
    serviceAccount: str(spec['serviceAccountName']) || 'default',
    nodeName: str(spec['nodeName']),
    phase: str(status['phase']) ?? 'Unknown',
    ready,
    terminating: meta['deletionTimestamp'] !== undefined && meta['deletionTimestamp'] !== null,
    createdAt: str(meta['creationTimestamp']) ?? '',
    identity: classifyPodIdentity(spec as Parameters<typeof classifyPodIdentity>[0]),
    labels: Object.fromEntries(Object.entries(obj(meta['labels'])).filter((e): e is [string, string] => typeof e[1] === 'string')),
    owner: owner ? { kind: str(owner['kind']) ?? '', name: str(owner['name']) ?? '' } : null,
    waitingReason,
  };
}

export function toNodeState(n: Obj): NodeState {
  const labels = obj(path(n, 'metadata.labels'));
  const compute = labels['eks.amazonaws.com/compute-type'];
  return {
    name: str(path(n, 'metadata.name')) ?? '',
    os: str(labels['kubernetes.io/os']) ?? 'linux',
    computeType: compute === 'fargate' ? 'fargate' : compute === 'auto' ? 'auto' : compute === 'hybrid' ? 'hybrid' : 'ec2',
    nodegroup: str(labels['eks.amazonaws.com/nodegroup']),
  };
}
