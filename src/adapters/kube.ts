/**
 * The Kubernetes port of one kubeconfig context over @kubernetes/client-node (loaded lazily).
 * Each list is ONE all-namespaces list walked with `limit` + `continue` and mapped page by page
 * to slim snapshot objects. Every request has a timeout; 429, 5xx and network failures are
 * retried with capped exponential backoff (Retry-After honoured); a continue token that expired
 * (410) restarts the list from the beginning.
 *
 * Lists go through client-node's own request path (its configuration, the kubeconfig's auth and
 * TLS, its HTTP library) but skip its model deserialiser: ObjectSerializer walks every field of
 * every object against the OpenAPI models (revived dates, renamed keys), which cost more than
 * the rest of a fleet scan's Kubernetes reading. The mappers in kube-map.ts read only fields
 * whose wire name is the model's name, so the parsed JSON serves them as is.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { PodidError } from '../core/errors.js';
import { toCronJob, toDaemonSet, toDeployment, toJob, toNode, toPod, toReplicaSet, toServiceAccount, toStatefulSet } from './kube-map.js';
import type { KubePort } from '../core/ports.js';

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

/** What a client-node failure says: HTTP status (ApiException.code), Retry-After, or a network error. */
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
  const network =
    status === undefined &&
    (e.name === 'FetchError' || e.name === 'AbortError' || e.type === 'aborted' || e.type === 'request-timeout' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)));
  const timedOut = status === undefined && (e.name === 'AbortError' || e.type === 'aborted' || e.type === 'request-timeout');
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

interface ListPage<T> {
  items: T[];
  /** The continue token of the next page; absent or empty on the last. */
  continue: string | undefined;
}

/** A list response as the API server writes it (wire names: `continue`, not the model's `_continue`). */
interface WireList<T> {
  items?: T[] | null;
  metadata?: { continue?: string };
}

type K8s = typeof import('./k8s-client.js');

/** Loads the Kubernetes client once and returns a factory of per-context ports. */
export async function kubePortFactory(kubeconfig: KubeConfig, opts: KubeOptions = {}): Promise<(context: string) => KubePort> {
  const k8s = await import('./k8s-client.js');
  const ports = new Map<string, KubePort>();
  return (context: string) => {
    let port = ports.get(context);
    if (!port) {
      port = createKubePort(k8s, kubeconfig, context, opts);
      ports.set(context, port);
    }
    return port;
  };
}

function createKubePort(k8s: K8s, kubeconfig: KubeConfig, context: string, opts: KubeOptions): KubePort {
  // A copy pinned to this context, so contexts can be scanned in parallel.
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: kubeconfig.clusters, users: kubeconfig.users, contexts: kubeconfig.contexts, currentContext: context });
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  // What makeApiClient builds (it threw above when the context has no cluster): the cluster's
  // server, the KubeConfig as the auth method (token, exec plugin, client certificates, CA).
  const config = k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(server, {}), authMethods: { default: kc } });

  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = opts.maxAttempts ?? DEFAULT_ATTEMPTS;
  const sleep = opts.sleep ?? realSleep;

  function fail(err: unknown, what: string): PodidError {
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
      return new PodidError('KUBE_UNREACHABLE', `cannot reach the Kubernetes API of context ${JSON.stringify(context)} at ${server} (${what}): ${f.message}`, {
        hint: 'check the network, VPN or private endpoint access; podid retried before giving up',
        cause: err,
      });
    }
    return new PodidError('KUBE_ERROR', `${what} failed in context ${JSON.stringify(context)}${f.status ? ` (HTTP ${f.status})` : ''}: ${f.message}`, { cause: err });
  }

  /**
   * One page of an all-namespaces list, requested as the generated list methods request it and
   * failing as they fail (ApiException with the status, body and headers describeKubeFailure reads).
   */
  async function listPage<T>(path: string, cont: string | undefined): Promise<ListPage<T>> {
    const ctx = config.baseServer.makeRequestContext(path, k8s.HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    if (cont !== undefined) ctx.setQueryParam('continue', cont);
    ctx.setQueryParam('limit', String(pageSize));
    await config.authMethods.default?.applySecurityAuthentication(ctx);
    // --request-timeout 0 (kubectl's 'no timeout') sets no deadline.
    if (timeoutMs > 0) ctx.setSignal(AbortSignal.timeout(timeoutMs));
    const rsp = await config.httpApi.send(ctx).toPromise();
    if (rsp.httpStatusCode === 401) throw new k8s.ApiException(401, 'Unauthorized', undefined, rsp.headers);
    if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) {
      throw new k8s.ApiException(rsp.httpStatusCode, 'Unknown API Status Code!', await rsp.getBodyAsAny(), rsp.headers);
    }
    const list = JSON.parse(await rsp.body.text()) as WireList<T>;
    return { items: list.items ?? [], continue: list.metadata?.continue };
  }

  /** One paginated list, mapped page by page. */
  async function listAll<T, R>(what: string, path: string, map: (item: T) => R): Promise<R[]> {
    for (let restart = 0; ; restart++) {
      const out: R[] = [];
      let cont: string | undefined;
      try {
        do {
          const res = await withKubeRetry(() => listPage<T>(path, cont), attempts, sleep);
          for (const item of res.items) out.push(map(item));
          cont = res.continue || undefined;
        } while (cont);
        return out;
      } catch (err) {
        // 410 Gone: the continue token expired mid-list; start over for a consistent snapshot.
        if (cont !== undefined && describeKubeFailure(err).status === 410 && restart < MAX_LIST_RESTARTS) continue;
        throw fail(err, what);
      }
    }
  }

  return {
    context,
    listServiceAccounts: () => listAll('list serviceaccounts', '/api/v1/serviceaccounts', toServiceAccount),
    listPods: () => listAll('list pods', '/api/v1/pods', toPod),
    listNodes: () => listAll('list nodes', '/api/v1/nodes', toNode),
    listDeployments: () => listAll('list deployments', '/apis/apps/v1/deployments', toDeployment),
    listReplicaSets: () => listAll('list replicasets', '/apis/apps/v1/replicasets', toReplicaSet),
    listStatefulSets: () => listAll('list statefulsets', '/apis/apps/v1/statefulsets', toStatefulSet),
    listDaemonSets: () => listAll('list daemonsets', '/apis/apps/v1/daemonsets', toDaemonSet),
    listJobs: () => listAll('list jobs', '/apis/batch/v1/jobs', toJob),
    listCronJobs: () => listAll('list cronjobs', '/apis/batch/v1/cronjobs', toCronJob),
  };
}
