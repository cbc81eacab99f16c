/**
 * Server-side printing: the `meta.k8s.io` Table a client gets when its Accept header asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io` (what kubectl get sends), as kube-apiserver
 * builds it. Columns and cells follow kubernetes/kubernetes pkg/printers/internalversion/printers.go
 * (the server always fills the priority-1, `-o wide`, cells; kubectl hides them otherwise); a
 * resource without a printer gets the apiserver's default table convertor (Name, Created At).
 */
import type { JsonObject } from '../world-types.js';
import type { ResourceType } from './resources.js';
import { KubeError, badRequest } from './status.js';
import { getPath, isObj, num, objList, str, strMap } from './util.js';

/** What the Accept header asks for: a plain object or list, or a Table of one of meta.k8s.io's versions. */
export type Rendering = { as: 'plain' } | { as: 'Table'; version: 'v1' | 'v1beta1' };

const TABLE_VERSIONS = new Set(['v1', 'v1beta1']);

/**
 * Content negotiation as the API server does it for get and list: the first acceptable media
 * range in Accept wins. `as=Table` is acceptable only as `g=meta.k8s.io` with `v=v1` or `v1beta1`
 * and a JSON media type; when every range in the header is a Table the server cannot produce,
 * the answer is 406 Not Acceptable. Ranges without `as` keep the sandbox's plain JSON answer.
 */
export function negotiate(accept: string | string[] | undefined): Rendering {
  const header = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  if (header.trim() === '') return { as: 'plain' };
  let refused = 0;
  let ranges = 0;
  for (const clause of header.split(',')) {
    const [type = '', ...paramParts] = clause.split(';').map((s) => s.trim());
    if (type === '') continue;
    ranges++;
    const params = new Map<string, string>();
    for (const p of paramParts) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, ''));
    }
    if (params.get('q') === '0') {
      refused++;
      continue;
    }
    const as = params.get('as');
    if (as === undefined) return { as: 'plain' };
    if (as !== 'Table') return { as: 'plain' };
    const jsonType = ['application/json', 'application/*', '*/*'].includes(type.toLowerCase());
    const version = params.get('v') ?? '';
    if (jsonType && params.get('g') === 'meta.k8s.io' && TABLE_VERSIONS.has(version)) return { as: 'Table', version: version as 'v1' | 'v1beta1' };
    refused++;
  }
  if (ranges > 0 && refused === ranges) {
    throw new KubeError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
  }
  return { as: 'plain' };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The includeObject query parameter (TableOptions): Metadata when absent. */
export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject') ?? '';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`unrecognized includeObject value: "${v}"`);
}

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean;
interface Row {
  cells: Cell[];
  conditions?: JsonObject[];
}

// metav1.ObjectMeta{}.SwaggerDoc()["name"] and ["creationTimestamp"].
const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATED_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
const CONTAINERS_DOC = 'Names of each container in the template.';
const IMAGES_DOC = 'Images referenced by each container in the template.';
const SELECTOR_DOC = 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template\'s labels.';

function col(name: string, type: string, description: string, priority = 0, format = ''): Column {
  return { name, type, format, description, priority };
}
const NAME = col('Name', 'string', NAME_DOC, 0, 'name');
const AGE = col('Age', 'string', CREATED_DOC);
const WIDE_TEMPLATE = [col('Containers', 'string', CONTAINERS_DOC, 1), col('Images', 'string', IMAGES_DOC, 1)];

interface Printer {
  columns: Column[];
  row(obj: JsonObject, now: number): Row;
}

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [
      NAME,
      col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'string', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', 'string', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename', 1),
      col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', 1),
      col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', 1),
    ],
    row: podRow,
  },
  deployments: {
    columns: [
      NAME,
      col('Ready', 'string', 'Number of the pod with ready state'),
      col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE,
      ...WIDE_TEMPLATE,
      col('Selector', 'string', SELECTOR_DOC, 1),
    ],
    row: (o, now) => ({
      cells: [
        nameOf(o),
        `${int(o, 'status.readyReplicas')}/${int(o, 'spec.replicas')}`,
        int(o, 'status.updatedReplicas'),
        int(o, 'status.availableReplicas'),
        age(o, now),
        ...templateCells(o, 'spec.template'),
        selectorString(getPath(o, 'spec.selector')),
      ],
    }),
  },
  replicasets: {
    columns: [
      NAME,
      col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
      col('Current', 'integer', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
      col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
      AGE,
      ...WIDE_TEMPLATE,
      col('Selector', 'string', 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    row: (o, now) => ({
      cells: [nameOf(o), int(o, 'spec.replicas'), int(o, 'status.replicas'), int(o, 'status.readyReplicas'), age(o, now), ...templateCells(o, 'spec.template'), selectorString(getPath(o, 'spec.selector'))],
    }),
  },
  statefulsets: {
    columns: [NAME, col('Ready', 'string', 'Number of the pod with ready state'), AGE, ...WIDE_TEMPLATE],
    row: (o, now) => ({ cells: [nameOf(o), `${int(o, 'status.readyReplicas')}/${int(o, 'spec.replicas')}`, age(o, now), ...templateCells(o, 'spec.template')] }),
  },
  daemonsets: {
    columns: [
      NAME,
      col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      col('Ready', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
      col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
      AGE,
      ...WIDE_TEMPLATE,
      col('Selector', 'string', "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", 1),
    ],
    row: (o, now) => ({
      cells: [
        nameOf(o),
        int(o, 'status.desiredNumberScheduled'),
        int(o, 'status.currentNumberScheduled'),
        int(o, 'status.numberReady'),
        int(o, 'status.updatedNumberScheduled'),
        int(o, 'status.numberAvailable'),
        formatLabels(strMap(getPath(o, 'spec.template.spec.nodeSelector'))),
        age(o, now),
        ...templateCells(o, 'spec.template'),
        selectorString(getPath(o, 'spec.selector')),
      ],
    }),
  },
  jobs: {
    columns: [
      NAME,
      col('Status', 'string', 'Status of the job.'),
      col('Completions', 'string', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
      col('Duration', 'string', 'Time required to complete the job.'),
      AGE,
      ...WIDE_TEMPLATE,
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    row: jobRow,
  },
  cronjobs: {
    columns: [
      NAME,
      col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones'),
      col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
      col('Active', 'integer', 'A list of pointers to currently running jobs.'),
      col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
      AGE,
      ...WIDE_TEMPLATE,
      col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
    ],
    row: (o, now) => {
      const last = str(getPath(o, 'status.lastScheduleTime'));
      const suspend = getPath(o, 'spec.suspend');
      return {
        cells: [
          nameOf(o),
          str(getPath(o, 'spec.schedule')) ?? '',
          str(getPath(o, 'spec.timeZone')) ?? '<none>',
          typeof suspend === 'boolean' ? (suspend ? 'True' : 'False') : '<unset>',
          objList(getPath(o, 'status.active')).length,
          last ? since(Date.parse(last), now) : '<none>',
          age(o, now),
          ...templateCells(o, 'spec.jobTemplate.spec.template'),
          selectorString(getPath(o, 'spec.jobTemplate.spec.selector')),
        ],
      };
    },
  },
  serviceaccounts: {
    columns: [NAME, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret'), AGE],
    row: (o, now) => ({ cells: [nameOf(o), objList(getPath(o, 'secrets')).length, age(o, now)] }),
  },
  nodes: {
    columns: [
      NAME,
      col('Status', 'string', 'The status of the node'),
      col('Roles', 'string', 'The roles of the node'),
      AGE,
      col('Version', 'string', 'Deprecated: KubeletVersion reported by the node. Not reliable, the kubelet version is not guaranteed to be the version that is running.'),
      col('Internal-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).', 1),
      col('External-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).', 1),
      col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row: nodeRow,
  },
  namespaces: {
    columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
    row: (o, now) => ({ cells: [nameOf(o), str(getPath(o, 'status.phase')) ?? '', age(o, now)] }),
  },
};

/** The apiserver's default table convertor (registry/rest/table.go): for a resource without a printer. */
const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'date', CREATED_DOC)],
  row: (o) => {
    const t = str(getPath(o, 'metadata.creationTimestamp'));
    return { cells: [nameOf(o), t ? new Date(Date.parse(t)).toISOString().replace(/\.\d{3}Z$/, 'Z') : '0001-01-01T00:00:00Z'] };
  },
};

export interface TableInput {
  type: ResourceType;
  objects: readonly JsonObject[];
  /** The list's metadata (resourceVersion, continue, remainingItemCount), or the single object's resourceVersion. */
  metadata: JsonObject;
  version: 'v1' | 'v1beta1';
  include: IncludeObject;
  /** The sandbox clock (ages). */
  now: number;
}

/** The Table for `objects` (a list page, or one object), as kube-apiserver encodes it. */
export function table(input: TableInput): JsonObject {
  const printer = PRINTERS[input.type.plural] ?? DEFAULT_PRINTER;
  const apiVersion = `meta.k8s.io/${input.version}`;
  const apiVersionOfType = input.type.group ? `${input.type.group}/${input.type.version}` : input.type.version;
  const rows = input.objects.map((o) => {
    const r = printer.row(o, input.now);
    const row: JsonObject = { cells: r.cells };
    if (r.conditions) row.conditions = r.conditions;
    if (input.include === 'None') row.object = null;
    else if (input.include === 'Object') row.object = { kind: input.type.kind, apiVersion: apiVersionOfType, ...withoutKind(o) };
    else {
      const meta: JsonObject = isObj(o.metadata) ? { ...o.metadata } : {};
      delete meta.managedFields;
      row.object = { kind: 'PartialObjectMetadata', apiVersion, metadata: meta };
    }
    return row;
  });
  return { kind: 'Table', apiVersion, metadata: input.metadata, columnDefinitions: printer.columns, rows };
}

function withoutKind(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(o)) if (k !== 'kind' && k !== 'apiVersion') out[k] = o[k];
  return out;
}

function nameOf(o: JsonObject): string {
  return str(getPath(o, 'metadata.name')) ?? '';
}

function int(o: JsonObject, path: string): number {
  return num(getPath(o, path)) ?? 0;
}

function age(o: JsonObject, now: number): string {
  const t = str(getPath(o, 'metadata.creationTimestamp'));
  return t ? since(Date.parse(t), now) : '<unknown>';
}

function since(t: number, now: number): string {
  if (!Number.isFinite(t)) return '<unknown>';
  return humanDuration(now - t);
}

/** k8s.io/apimachinery/pkg/util/duration HumanDuration: `5s`, `3m20s`, `15m`, `4h10m`, `2d3h`, `1y20d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${hours / 24}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${Math.trunc(hours / 24 / 365)}y` : `${Math.trunc(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** layoutContainerCells: container names and images, comma-joined. */
function templateCells(o: JsonObject, templatePath: string): [string, string] {
  const containers = objList(getPath(o, `${templatePath}.spec.containers`));
  return [containers.map((c) => String(c.name ?? '')).join(','), containers.map((c) => String(c.image ?? '')).join(',')];
}

/** labels.FormatLabels: sorted `k=v` pairs, `<none>` when empty. */
function formatLabels(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels[k]}`).join(',');
}

/** metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key; `<none>` for no selector. */
function selectorString(sel: unknown): string {
  if (!isObj(sel)) return '<none>';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(strMap(sel.matchLabels))) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of objList(sel.matchExpressions)) {
    const key = String(e.key ?? '');
    const values = (Array.isArray(e.values) ? e.values.map(String) : []).sort();
    const op = String(e.operator ?? '');
    const text = op === 'In' ? `${key} in (${values.join(',')})` : op === 'NotIn' ? `${key} notin (${values.join(',')})` : op === 'Exists' ? key : op === 'DoesNotExist' ? `!${key}` : '<invalid>';
    if (text === '<invalid>') return '<invalid>';
    reqs.push({ key, text });
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  restartCount?: number;
  started?: boolean;
  state?: JsonObject;
  lastState?: JsonObject;
}

/** printPod: READY ready/total, STATUS the aggregate reason, RESTARTS with the last restart's age. */
function podRow(pod: JsonObject, now: number): Row {
  const spec = isObj(pod.spec) ? pod.spec : {};
  const status = isObj(pod.status) ? pod.status : {};
  const initSpecs = objList(spec.initContainers);
  const restartable = new Set(initSpecs.filter((c) => c.restartPolicy === 'Always').map((c) => String(c.name ?? '')));
  const totalContainers = objList(spec.containers).length + restartable.size;
  let readyContainers = 0;
  let restarts = 0;
  let restartableRestarts = 0;
  let lastRestart = 0;
  let lastRestartableRestart = 0;
  const phase = str(status.phase) ?? '';
  let reason = str(status.reason) || phase;
  const conditions = objList(status.conditions);
  for (const c of conditions) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const row: Row = { cells: [] };
  if (phase === 'Succeeded') row.conditions = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  else if (phase === 'Failed') row.conditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  const finishedAt = (cs: ContainerStatus): number => {
    const t = str(getPath(cs.lastState, 'terminated.finishedAt'));
    return t ? Date.parse(t) : 0;
  };
  let initializing = false;
  const initStatuses = objList(status.initContainerStatuses) as ContainerStatus[];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as ContainerStatus;
    restarts += cs.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    const isRestartable = restartable.has(String(cs.name ?? ''));
    if (isRestartable) {
      restartableRestarts += cs.restartCount ?? 0;
      lastRestartableRestart = Math.max(lastRestartableRestart, finishedAt(cs));
    }
    const terminated = isObj(cs.state?.terminated) ? cs.state.terminated : undefined;
    const waiting = isObj(cs.state?.waiting) ? cs.state.waiting : undefined;
    if (terminated && terminated.exitCode === 0) continue;
    if (isRestartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      const r = str(terminated.reason) ?? '';
      reason = r === '' ? (num(terminated.signal) ? `Init:Signal:${String(terminated.signal)}` : `Init:ExitCode:${String(terminated.exitCode ?? 0)}`) : `Init:${r}`;
    } else if (waiting && str(waiting.reason) && waiting.reason !== 'PodInitializing') {
      reason = `Init:${String(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = restartableRestarts;
    lastRestart = lastRestartableRestart;
    let hasRunning = false;
    const statuses = objList(status.containerStatuses) as ContainerStatus[];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as ContainerStatus;
      restarts += cs.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      const terminated = isObj(cs.state?.terminated) ? cs.state.terminated : undefined;
      const waiting = isObj(cs.state?.waiting) ? cs.state.waiting : undefined;
      if (waiting && str(waiting.reason)) reason = String(waiting.reason);
      else if (terminated && str(terminated.reason)) reason = String(terminated.reason);
      else if (terminated) reason = num(terminated.signal) ? `Signal:${String(terminated.signal)}` : `ExitCode:${String(terminated.exitCode ?? 0)}`;
      else if (cs.ready && isObj(cs.state?.running)) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  const deleting = getPath(pod, 'metadata.deletionTimestamp') !== undefined;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const restartsText = restarts !== 0 && lastRestart > 0 ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);

  const podIPs = objList(status.podIPs);
  const podIP = str(podIPs[0]?.ip) || '<none>';
  const gates = objList(spec.readinessGates);
  let readinessGates = '<none>';
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = conditions.find((x) => x.type === g.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  row.cells = [
    nameOf(pod),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsText,
    age(pod, now),
    podIP,
    str(spec.nodeName) || '<none>',
    str(status.nominatedNodeName) || '<none>',
    readinessGates,
  ];
  return row;
}

function jobRow(o: JsonObject, now: number): Row {
  const succeeded = int(o, 'status.succeeded');
  const completions = num(getPath(o, 'spec.completions'));
  const parallelism = num(getPath(o, 'spec.parallelism')) ?? 0;
  const completionsText = completions !== undefined ? `${succeeded}/${completions}` : parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
  const start = str(getPath(o, 'status.startTime'));
  const done = str(getPath(o, 'status.completionTime'));
  const duration = !start ? '' : !done ? humanDuration(now - Date.parse(start)) : humanDuration(Date.parse(done) - Date.parse(start));
  const has = (type: string) => objList(getPath(o, 'status.conditions')).some((c) => c.type === type && c.status === 'True');
  const status = has('Complete')
    ? 'Complete'
    : has('Failed')
      ? 'Failed'
      : getPath(o, 'metadata.deletionTimestamp') !== undefined
        ? 'Terminating'
        : has('Suspended')
          ? 'Suspended'
          : has('FailureTarget')
            ? 'FailureTarget'
            : has('SuccessCriteriaMet')
              ? 'SuccessCriteriaMet'
              : 'Running';
  return { cells: [nameOf(o), status, completionsText, duration, age(o, now), ...templateCells(o, 'spec.template'), selectorString(getPath(o, 'spec.selector'))] };
}

function nodeRow(o: JsonObject, now: number): Row {
  const statuses: string[] = [];
  const ready = objList(getPath(o, 'status.conditions')).find((c) => c.type === 'Ready');
  if (ready) statuses.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (statuses.length === 0) statuses.push('Unknown');
  if (getPath(o, 'spec.unschedulable') === true) statuses.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(strMap(getPath(o, 'metadata.labels')))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') roles.add(v);
  }
  const addresses = objList(getPath(o, 'status.addresses'));
  const address = (type: string) => str(addresses.find((a) => a.type === type)?.address) ?? '<none>';
  const info = (key: string) => str(getPath(o, `status.nodeInfo.${key}`)) || '<unknown>';
  return {
    cells: [
      nameOf(o),
      statuses.join(','),
      roles.size === 0 ? '<none>' : [...roles].sort().join(','),
      age(o, now),
      str(getPath(o, 'status.nodeInfo.kubeletVersion')) ?? '',
      address('InternalIP'),
      address('ExternalIP'),
      info('osImage'),
      info('kernelVersion'),
      info('containerRuntimeVersion'),
    ],
  };
}
