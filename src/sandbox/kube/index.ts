/**
 * The sandbox's Kubernetes API servers, one per EKS cluster. `createKubeCluster` loads the
 * world's objects (plus nodes, system namespaces and the Pod Identity agent) into a fresh
 * cluster; the sandbox server routes `/k8s/<account>/<region>/<name>/...` requests to `route`.
 */
import type { HttpReply } from '../aws/common.js';
import type { ClusterState, KubeApi, SandboxState } from '../state.js';
import type { ClusterSpec, JsonObject } from '../world-types.js';
import { AGENT, agentDaemonSet } from './agent.js';
import { manifest, route, type KubeRequest, type KubeRouted } from './api.js';
import { KubeCore } from './cluster.js';
import { callerIdentityPodsToRun, finishPod } from './exec.js';
import { RESOURCES, resource, resourceByKind, type ResourceType } from './resources.js';
import { jsonReply, statusBody } from './status.js';
import { clone, getPath, isObj } from './util.js';
import { WorldError } from '../world.js';

export type { KubeRequest, KubeRouted, KubeStream } from './api.js';
export { isStream } from './api.js';

export interface KubeCluster extends KubeApi {
  /** Resolve a request without changing state; `run()` performs it. */
  route(req: KubeRequest): KubeRouted;
  /** A metav1.Status error reply (fault injection: 429 TooManyRequests, 500 InternalError). */
  renderError(status: number, reason: string, message: string): HttpReply;
  /** Started pods that call `aws sts get-caller-identity` and have not run yet (exec.ts). */
  callerIdentityPodsToRun(): { namespace: string; name: string }[];
  /** Finish such a pod with the exit code and output the AWS CLI would give. */
  finishPod(namespace: string, name: string, exitCode: number, log: string): void;
}

/** World objects go in dependency order: namespaces, then service accounts (the webhooks read them), workloads, bare pods. */
const LOAD_ORDER = ['namespaces', 'nodes', 'serviceaccounts', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'pods'];

export function createKubeCluster(state: SandboxState, cluster: ClusterState, spec: ClusterSpec): KubeCluster {
  const core = new KubeCore(state, cluster);
  core.stuckWorkloads = structuredClone(spec.stuckWorkloads ?? []);
  core.missingImages = [...(spec.missingImages ?? [])];
  // The world's own objects are the starting state, not history a watch could ask for.
  core.store.setRecording(false);
  core.bootstrap();
  const typed: { type: ResourceType; obj: JsonObject; index: number }[] = spec.objects.map((obj, i) => {
    const type = resourceByKind(String(obj.apiVersion ?? ''), String(obj.kind ?? ''));
    if (!type) {
      throw new WorldError(
        `cluster ${cluster.name}: objects[${i}]: unsupported kind ${String(obj.kind)} (apiVersion ${String(obj.apiVersion)}); ` +
          `supported: ${RESOURCES.map((r) => `${r.group ? `${r.group}/` : ''}${r.version} ${r.kind}`).join(', ')}`,
      );
    }
    return { type, obj, index: i };
  });
  typed.sort((a, b) => LOAD_ORDER.indexOf(a.type.plural) - LOAD_ORDER.indexOf(b.type.plural));
  for (const { type, obj, index } of typed) {
    const name = String(getPath(obj, 'metadata.name'));
    // A `default` ServiceAccount exists in every namespace once the namespace does.
    const ns = type.plural === 'namespaces' ? '' : String(getPath(obj, 'metadata.namespace') ?? 'default');
    const exists = (type.plural === 'namespaces' || (type.plural === 'serviceaccounts' && name === 'default')) && core.store.get(type.plural, ns, name);
    try {
      // System namespaces and default service accounts already exist; a world may still list
      // them (with labels or an IRSA annotation, say).
      const replace = () => core.replace(type, ns, name, { ...obj, metadata: { ...(isObj(obj.metadata) ? obj.metadata : {}), ...(ns === '' ? {} : { namespace: ns }) } });
      if (exists) replace();
      else if (type.plural === 'serviceaccounts' && name === 'default') {
        // Creating it creates its namespace, and with it the default ServiceAccount it replaces.
        try {
          core.create(type, obj);
        } catch {
          replace();
        }
      } else core.create(type, obj);
    } catch (err) {
      const what = `${type.kind} ${String(getPath(obj, 'metadata.namespace') ?? '')}${getPath(obj, 'metadata.namespace') ? '/' : ''}${String(getPath(obj, 'metadata.name'))}`;
      // What Kubernetes would refuse is a mistake in the world file (exit 2), not a sandbox bug.
      throw new WorldError(`cluster ${cluster.name}: objects[${index}] (${what}): ${err instanceof Error ? err.message : String(err)}`, 'fix the object in the world file (docs/sandbox.md)');
    }
  }
  const syncAgent = (): void => {
    const want = !cluster.autoMode && cluster.addons.has(AGENT);
    const existing = core.store.get('daemonsets', 'kube-system', AGENT);
    const type = existing?.type;
    if (want) {
      const desired = agentDaemonSet(cluster, cluster.addons.get(AGENT)?.version ?? 'v1.3.4-eksbuild.1');
      if (!existing) core.create(RESOURCES.find((r) => r.plural === 'daemonsets') as ResourceType, desired);
      else if (type && JSON.stringify(getPath(existing.obj, 'spec.template')) !== JSON.stringify(getPath(desired, 'spec.template'))) {
        // A new add-on version rolls the agent to the new image.
        const next = { ...existing.obj, spec: { ...(existing.obj.spec as JsonObject), template: getPath(desired, 'spec.template') } };
        core.replace(type, 'kube-system', AGENT, next);
      }
    } else if (existing && type) {
      core.remove(type, 'kube-system', AGENT);
    }
    core.reconcile();
  };
  syncAgent();
  core.reconcile();
  core.loading = false;
  core.store.setRecording(true);

  return {
    route: (req) => route(core, req),
    callerIdentityPodsToRun: () => callerIdentityPodsToRun(core),
    finishPod: (namespace, name, exitCode, log) => finishPod(core, namespace, name, exitCode, log),
    renderError: (status, reason, message) => {
      const reply = jsonReply(status, statusBody(status, reason, message, status === 429 ? { retryAfterSeconds: 1 } : undefined));
      if (status === 429) reply.headers['retry-after'] = '1';
      return reply;
    },
    allObjects: () => {
      core.reconcile();
      const out: JsonObject[] = [];
      for (const type of RESOURCES) for (const e of core.store.list(type.plural)) out.push(manifest(e.obj, type));
      return out;
    },
    syncAgent,
    sandboxOptions: () => ({ stuckWorkloads: structuredClone(core.stuckWorkloads), missingImages: [...core.missingImages] }),
    // For the sandbox's AWS side (credential probe, add-on rollouts): plain object access through
    // the same core the HTTP API uses, so these see and cause what a client would.
    getObject: (plural, namespace, name) => {
      core.reconcile();
      const e = core.store.get(plural, namespace, name);
      return e ? manifest(e.obj, e.type) : undefined;
    },
    listObjects: (plural, namespace) => {
      core.reconcile();
      return core.store.list(plural, namespace).map((e) => manifest(e.obj, e.type));
    },
    updateObject: (plural, namespace, name, change) => {
      const e = core.store.get(plural, namespace, name);
      if (!e) return false;
      core.replace(e.type, namespace, name, change(clone(e.obj)));
      core.reconcile();
      return true;
    },
    createObject: (plural, obj) => {
      core.create(resource(plural), obj);
      core.reconcile();
    },
  };
}
