/**
 * The Kubernetes port of one kubeconfig context (the scan's read side). Each list is ONE
 * all-namespaces list walked with `limit` + `continue`, mapped page by page to slim snapshot
 * objects. Every request has a timeout; 429, 5xx and network failures are retried with capped
 * exponential backoff (Retry-After honoured); a continue token that expired (410) restarts the
 * list from the beginning.
 *
 * Pages are fetched with kube-http.ts (the kubeconfig's auth and TLS as @kubernetes/client-node
 * applies them, without loading it for what EKS kubeconfigs use; one keep-alive connection pool
 * per context) and parsed from their bytes with
 * json-keep.ts, keeping only the fields the mappers in kube-map.ts read (each mapper's Keep):
 * a fleet's pod lists are hundreds of MB of JSON of which the scan keeps a few fields per pod.
 */
import { PodidError } from '../core/errors.js';
import type { KubePort, RequestLimiter } from '../core/ports.js';
import { compileKeep, JsonKeepError, mapKept, parseKept, shareKept, type Keep, type KeepPlan } from './json-keep.js';
import { credentialsUnavailable, KubeCredentialError } from './kube-auth.js';
import { kubeHttp, KubeTransportError, type KubeHttp } from './kube-http.js';
import type { Kubeconfig } from './kubeconfig.js';
import {
  CRONJOB_KEEP,
  guardedMapper,
  KubeShapeError,
  NODE_KEEP,
  POD_KEEP,
  POD_SHARED,
  SERVICE_ACCOUNT_KEEP,
  toCronJob,
  toDaemonSet,
  toDeployment,
  toJob,
  toNode,
  toPod,
  toReplicaSet,
  toServiceAccount,
  toStatefulSet,
  WORKLOAD_KEEP,
} from './kube-map.js';

export interface KubeOptions {
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Attempts per request, first one included (default 5). */
  maxAttempts?: number;
  /** Injected in tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 500;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ATTEMPTS = 5;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 8_000;
const MAX_LIST_RESTARTS = 2;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface KubeFailure {
  status: number | undefined;
  retryAfterMs: number | undefined;
  message: string;
  network: boolean;
  /** No answer before the request timeout (the client aborted). */
  timedOut: boolean;
  /** Nothing listens at the server's address (connection refused). */
  refused: boolean;
}

/**
 * What a failed request says: HTTP status (KubeHttpStatusError, or client-node's ApiException
 * `code`), Retry-After, or a network failure (KubeTransportError, or client-node's FetchError).
 */
export function describeKubeFailure(err: unknown): KubeFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; headers?: Record<string, string>; body?: unknown; message?: unknown; name?: unknown; type?: unknown };
  const status = typeof e.code === 'number' ? e.code : undefined;
  const retryAfter = e.headers?.['retry-after'];
  const seconds = retryAfter !== undefined ? Number(retryAfter) : NaN;
  let message = typeof e.message === 'string' ? e.message.split('\n')[0] ?? '' : String(err);
  if (status !== undefined && typeof e.body === 'string') {
    try {
      const parsed = JSON.parse(e.body) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // Not a Status object; keep the exception's message.
    }
  }
  const transport = err instanceof KubeTransportError;
  const network =
    status === undefined &&
    (transport || e.name === 'FetchError' || e.name === 'AbortError' || e.type === 'aborted' || e.type === 'request-timeout' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)));
  const timedOut = status === undefined && ((transport && err.timedOut) || e.name === 'AbortError' || e.type === 'aborted' || e.type === 'request-timeout');
  const refused = network && (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message));
  return { status, retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined, message: timedOut ? 'no answer before the request timeout' : message, network, timedOut, refused };
}

/**
 * A server that does not answer at all is tried twice, not maxAttempts times: each try costs a
 * full timeout. So is one that refuses the connection: nothing listens there, and a fleet run
 * should report it and move on rather than back off for seconds.
 */
const TIMEOUT_ATTEMPTS = 2;

export function isRetryable(f: KubeFailure): boolean {
  return f.network || f.status === 429 || (f.status !== undefined && f.status >= 500);
}

/** Backoff before attempt `attempt + 1`: Retry-After when given, else 250 ms doubling, capped. */
export function backoffMs(attempt: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), MAX_DELAY_MS);
  return Math.min(BASE_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
}

/** Runs one request with bounded retries. */
export async function withKubeRetry<T>(run: () => Promise<T>, maxAttempts: number, sleep: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const f = describeKubeFailure(err);
      if (attempt >= (f.timedOut || f.refused ? Math.min(maxAttempts, TIMEOUT_ATTEMPTS) : maxAttempts) || !isRetryable(f)) throw err;
      await sleep(backoffMs(attempt, f.retryAfterMs));
    }
  }
}

interface ListPage {
  items: unknown[];
  /** The continue token of the next page; absent or empty on the last. */
  continue: string | undefined;
}

/** A list response as the API server writes it (wire names: `continue`, not the model's `_continue`). */
interface WireList {
  items?: unknown[] | null;
  metadata?: { continue?: string };
}

/**
 * How a list's pages are read: the continue token and the items, each parsed to what `item`
 * names and mapped to its snapshot object (`R`) as soon as it is parsed.
 */
interface ListPlan<R> {
  readonly plan: KeepPlan;
  /** The mapper, for an item that is not an object (the plan maps objects only). */
  readonly map: (item: never) => R;
}

function listPlan<R>(kind: string, item: Keep, unguarded: (item: never) => R, shared: readonly (readonly string[])[] = []): ListPlan<R> {
  const map = guardedMapper(kind, item, unguarded);
  const base = compileKeep({ metadata: { continue: true }, items: item }) as KeepPlan;
  const items = (c: KeepPlan) => mapKept(shared.length === 0 ? c : shareKept(c, shared), map as (kept: Record<string, unknown>) => R);
  const children = base.children.map((c, i) => (base.names[i] === 'items' ? items(c!) : c));
  return { plan: { ...base, children, byName: new Map(base.names.map((n, i) => [n, children[i]!])) }, map };
}

const LISTS = {
  serviceAccounts: listPlan('ServiceAccount', SERVICE_ACCOUNT_KEEP, toServiceAccount),
  pods: listPlan('Pod', POD_KEEP, toPod, POD_SHARED),
  nodes: listPlan('Node', NODE_KEEP, toNode),
  deployments: listPlan('Deployment', WORKLOAD_KEEP, toDeployment),
  replicaSets: listPlan('ReplicaSet', WORKLOAD_KEEP, toReplicaSet),
  statefulSets: listPlan('StatefulSet', WORKLOAD_KEEP, toStatefulSet),
  daemonSets: listPlan('DaemonSet', WORKLOAD_KEEP, toDaemonSet),
  jobs: listPlan('Job', WORKLOAD_KEEP, toJob),
  cronJobs: listPlan('CronJob', CRONJOB_KEEP, toCronJob),
};

/** A factory of per-context ports over one loaded kubeconfig. */
export async function kubePortFactory(kubeconfig: Kubeconfig, opts: KubeOptions = {}): Promise<(context: string) => KubePort> {
  const ports = new Map<string, KubePort>();
  return (context: string) => {
    let port = ports.get(context);
    if (!port) {
      port = createKubePort(kubeHttp(kubeconfig, context), context, opts);
      ports.set(context, port);
    }
    return port;
  };
}

const direct: RequestLimiter = (fn) => fn();

export function createKubePort(http: KubeHttp, context: string, opts: KubeOptions): KubePort {
  const server = http.server || '(no server)';
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = opts.maxAttempts ?? DEFAULT_ATTEMPTS;
  const sleep = opts.sleep ?? realSleep;

  function fail(err: unknown, what: string): PodidError {
    if (err instanceof KubeShapeError) {
      return new PodidError('KUBE_ERROR', `${what} in context ${JSON.stringify(context)}: ${err.message}`, {
        hint: `look at the object (kubectl get ${err.object.split(' ')[0]!.toLowerCase()} -o yaml): Kubernetes itself never serves this shape`,
        cause: err,
      });
    }
    if (err instanceof JsonKeepError) {
      return new PodidError('KUBE_ERROR', `${what} in context ${JSON.stringify(context)}: the API server's answer is not valid JSON (${err.message})`, {
        hint: 'check that the context points at a Kubernetes API server (not a proxy or login page)',
        cause: err,
      });
    }
    if (err instanceof KubeCredentialError) {
      // Never retried: a plugin that failed (or timed out) fails the same way again.
      return credentialsUnavailable(err, context, what);
    }
    const f = describeKubeFailure(err);
    if (f.status === 401) {
      return new PodidError('KUBE_UNAUTHORIZED', `Kubernetes rejected the credentials of context ${JSON.stringify(context)} on ${what}: ${f.message}`, {
        hint: 'refresh the credentials (aws eks update-kubeconfig, aws sso login) and check the context user',
        cause: err,
      });
    }
    if (f.status === 403) {
      return new PodidError('KUBE_FORBIDDEN', `${what} is forbidden in context ${JSON.stringify(context)}: ${f.message}`, {
        hint: 'podid scan needs cluster-wide get/list on serviceaccounts, pods, nodes, deployments, replicasets, statefulsets, daemonsets, jobs and cronjobs',
        cause: err,
      });
    }
    if (f.status === 429) {
      return new PodidError('KUBE_THROTTLED', `${what} in context ${JSON.stringify(context)} was throttled (HTTP 429) past podid's retries: ${f.message}`, {
        hint: 'run again later, or lower --concurrency so fewer requests are in flight',
        cause: err,
      });
    }
    if (f.network) {
      const via = http.proxyUrl ? ` through the proxy ${http.proxyUrl} (${http.proxyFrom === undefined || http.proxyFrom === 'proxy-url' ? "the cluster's proxy-url" : `from ${http.proxyFrom}`})` : '';
      return new PodidError('KUBE_UNREACHABLE', `cannot reach the Kubernetes API of context ${JSON.stringify(context)} at ${server}${via} (${what}): ${f.message}`, {
        hint: `check the network, ${via ? 'the proxy, ' : ''}VPN or private endpoint access; podid retried before giving up`,
        cause: err,
      });
    }
    return new PodidError('KUBE_ERROR', `${what} failed in context ${JSON.stringify(context)}${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}`, { cause: err });
  }

  /** One page of an all-namespaces list: the continue token and each item's kept fields. */
  async function listPage(path: string, keep: KeepPlan, cont: string | undefined): Promise<ListPage> {
    const query = `limit=${pageSize}${cont !== undefined ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const list = await http.get(`${path}?${query}`, timeoutMs, (body) => parseKept(body, keep) as WireList);
    return { items: list.items ?? [], continue: list.metadata?.continue };
  }

  /** One paginated list (its items mapped as they are parsed, `plan`); each request (each attempt) through `each`. */
  async function listAll<R>(what: string, path: string, list: ListPlan<R>, each: RequestLimiter = direct): Promise<R[]> {
    for (let restart = 0; ; restart++) {
      const out: R[] = [];
      let cont: string | undefined;
      try {
        do {
          const res = await withKubeRetry(() => each(() => listPage(path, list.plan, cont)), attempts, sleep);
          // Objects come mapped (the plan's map); anything else an API server should never send is mapped here.
          for (const item of res.items) out.push(item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as R) : list.map(item as never));
          cont = res.continue || undefined;
        } while (cont);
        return out;
      } catch (err) {
        // 410 Gone: the continue token expired mid-list; start over for a consistent snapshot.
        if (cont !== undefined && describeKubeFailure(err).status === 410 && restart < MAX_LIST_RESTARTS) continue;
        // Already podid's (the limiter refused the request: this cluster failed elsewhere).
        if (err instanceof PodidError) throw err;
        throw fail(err, what);
      }
    }
  }

  return {
    context,
    listServiceAccounts: (each) => listAll('list serviceaccounts', '/api/v1/serviceaccounts', LISTS.serviceAccounts, each),
    listPods: (each) => listAll('list pods', '/api/v1/pods', LISTS.pods, each),
    listNodes: (each) => listAll('list nodes', '/api/v1/nodes', LISTS.nodes, each),
    listDeployments: (each) => listAll('list deployments', '/apis/apps/v1/deployments', LISTS.deployments, each),
    listReplicaSets: (each) => listAll('list replicasets', '/apis/apps/v1/replicasets', LISTS.replicaSets, each),
    listStatefulSets: (each) => listAll('list statefulsets', '/apis/apps/v1/statefulsets', LISTS.statefulSets, each),
    listDaemonSets: (each) => listAll('list daemonsets', '/apis/apps/v1/daemonsets', LISTS.daemonSets, each),
    listJobs: (each) => listAll('list jobs', '/apis/batch/v1/jobs', LISTS.jobs, each),
    listCronJobs: (each) => listAll('list cronjobs', '/apis/batch/v1/cronjobs', LISTS.cronJobs, each),
  };
}
