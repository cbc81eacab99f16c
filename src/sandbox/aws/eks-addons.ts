/**
 * EKS add-on operations (ListAddons, DescribeAddon, CreateAddon, UpdateAddon, DeleteAddon,
 * DescribeUpdate). Add-ons own Pod Identity associations through their `podIdentityAssociations`:
 * each names a service account from the version's `podIdentityConfiguration`, lives in the
 * add-on's namespace with `ownerArn` = the add-on ARN, and a request that names the list replaces
 * every association the add-on owned before.
 */
import type { AddonState, ClusterState, SandboxState } from '../state.js';
import { addonArn } from '../state.js';
import type { JsonObject, PodIdentityConfigurationSpec } from '../world-types.js';
import type { AddonCatalog, CatalogVersion } from './eks-catalog.js';
import { MAX_ASSOCIATIONS_PER_CLUSTER } from './eks-associations.js';
import { IdempotencyTokens } from './eks-idempotency.js';
import { checkPodIdentityRole } from './eks-role-check.js';
import {
  EksError, checkRoleArn, epoch, invalidParameter, optString, optStringMap, paginate, reqString, type JsonBody,
} from './eks-wire.js';

interface AddonExtras {
  namespace: string;
  tags: Record<string, string>;
  configurationValues?: string;
}

interface StoredUpdate {
  clusterName: string;
  addonName: string;
  update: JsonBody;
}

interface RequestedAssociation {
  serviceAccount: string;
  roleArn: string;
}

export class AddonOperations {
  /** What AddonState does not hold: namespace, tags and configuration values, per add-on. */
  private readonly extras = new WeakMap<AddonState, AddonExtras>();
  private readonly updates = new Map<string, StoredUpdate>();
  private readonly tokens = new IdempotencyTokens();

  constructor(private readonly state: SandboxState, private readonly catalog: AddonCatalog) {}

  private now(): Date {
    return new Date(this.state.clock.now());
  }

  private extrasOf(addon: AddonState): AddonExtras {
    let e = this.extras.get(addon);
    if (!e) {
      e = { namespace: this.catalog.get(addon.name)?.defaultNamespace ?? 'kube-system', tags: {} };
      this.extras.set(addon, e);
    }
    return e;
  }

  findAddon(cluster: ClusterState, name: string): AddonState {
    const addon = cluster.addons.get(name);
    if (!addon) {
      throw new EksError('ResourceNotFoundException', `No addon: ${name} found in cluster: ${cluster.name}`, {
        clusterName: cluster.name, addonName: name,
      });
    }
    return addon;
  }

  render(cluster: ClusterState, addon: AddonState, status: string = addon.status): JsonBody {
    const extras = this.extrasOf(addon);
    return {
      addonName: addon.name,
      clusterName: cluster.name,
      status,
      addonVersion: addon.version,
      health: { issues: healthIssues(addon, status) },
      addonArn: addon.arn,
      createdAt: epoch(addon.createdAt),
      modifiedAt: epoch(addon.modifiedAt),
      ...(addon.serviceAccountRoleArn ? { serviceAccountRoleArn: addon.serviceAccountRoleArn } : {}),
      tags: extras.tags,
      owner: 'aws',
      publisher: 'eks',
      ...(extras.configurationValues !== undefined ? { configurationValues: extras.configurationValues } : {}),
      podIdentityAssociations: cluster.associations.filter((a) => a.ownerArn === addon.arn).map((a) => a.associationArn),
      namespaceConfig: { namespace: extras.namespace },
    };
  }

  list(cluster: ClusterState, query: URLSearchParams): JsonBody {
    const names = [...cluster.addons.keys()].sort();
    const page = paginate(names, (n) => n, query, `ListAddons/${cluster.arn}`);
    return { addons: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  describe(cluster: ClusterState, name: string): JsonBody {
    return { addon: this.render(cluster, this.findAddon(cluster, name)) };
  }

  create(cluster: ClusterState, body: JsonBody): JsonBody {
    return this.tokens.run(`create/${cluster.arn}`, body, { clusterName: cluster.name }, () => this.doCreate(cluster, body));
  }

  private doCreate(cluster: ClusterState, body: JsonBody): JsonBody {
    const name = reqString(body, 'addonName');
    const entry = this.catalog.get(name);
    if (!entry) {
      throw invalidParameter(`Addon ${name} specified is not supported in ${cluster.version} kubernetes version`, {
        clusterName: cluster.name, addonName: name,
      });
    }
    if (cluster.addons.has(name)) {
      throw new EksError('ResourceInUseException', 'Addon already exists.', { clusterName: cluster.name, addonName: name });
    }
    const requestedVersion = optString(body, 'addonVersion');
    const version = requestedVersion ? this.catalog.version(entry, requestedVersion, cluster.name) : this.catalog.defaultVersion(entry);
    const roleArn = optString(body, 'serviceAccountRoleArn');
    if (roleArn) checkRoleArn(roleArn, 'serviceAccountRoleArn');
    const namespaceConfig = body['namespaceConfig'];
    const namespace = typeof namespaceConfig === 'object' && namespaceConfig !== null
      ? optString(namespaceConfig as JsonBody, 'namespace') ?? entry.defaultNamespace
      : entry.defaultNamespace;
    const requested = readAssociations(body);
    const at = this.now();
    const transitionMs = this.state.settings.addonTransitionMs;
    const addon: AddonState = {
      name,
      version: version.version,
      status: transitionMs > 0 ? 'CREATING' : 'ACTIVE',
      serviceAccountRoleArn: roleArn ?? null,
      podIdentityConfiguration: cloneConfig(version.podIdentityConfiguration),
      // A new uuid each time, so an add-on deleted and created again has a new ARN, as in EKS.
      arn: addonArn(cluster.arn, name, crypto.randomUUID()),
      createdAt: at,
      modifiedAt: at,
      ...(transitionMs > 0 ? { transition: { until: at.getTime() + transitionMs } } : {}),
    };
    const extras: AddonExtras = { namespace, tags: optStringMap(body, 'tags') ?? {} };
    const configurationValues = optString(body, 'configurationValues');
    if (configurationValues !== undefined) extras.configurationValues = configurationValues;
    // Validate the associations before anything changes, so a refused request leaves no add-on behind.
    const plan = requested ? this.planAssociations(cluster, addon, namespace, requested) : undefined;
    cluster.addons.set(name, addon);
    this.extras.set(addon, extras);
    if (plan) this.applyAssociations(cluster, addon, namespace, plan, at);
    cluster.kube.syncAgent();
    if (addon.serviceAccountRoleArn) this.annotateServiceAccounts(cluster, addon, namespace);
    return { addon: this.render(cluster, addon) };
  }

  update(cluster: ClusterState, name: string, body: JsonBody): JsonBody {
    return this.tokens.run(`update/${cluster.arn}/${name}`, body, { clusterName: cluster.name, addonName: name }, () => this.doUpdate(cluster, name, body));
  }

  private doUpdate(cluster: ClusterState, name: string, body: JsonBody): JsonBody {
    const addon = this.findAddon(cluster, name);
    if (BUSY_STATUSES.has(addon.status)) {
      throw new EksError('ResourceInUseException', `Addon ${name} is ${addon.status} and cannot be updated until that finishes.`, {
        clusterName: cluster.name, addonName: name,
      });
    }
    const entry = this.catalog.get(name);
    const requestedVersion = optString(body, 'addonVersion');
    let version: CatalogVersion | undefined;
    if (requestedVersion !== undefined && requestedVersion !== addon.version) {
      if (!entry) throw invalidParameter(`Addon version ${requestedVersion} specified is not supported for addon ${name}.`, { clusterName: cluster.name, addonName: name });
      version = this.catalog.version(entry, requestedVersion, cluster.name);
    }
    const roleArn = optString(body, 'serviceAccountRoleArn');
    if (roleArn) checkRoleArn(roleArn, 'serviceAccountRoleArn');
    const requested = readAssociations(body);
    const podIdentityConfiguration = version ? version.podIdentityConfiguration : addon.podIdentityConfiguration;
    const namespace = this.extrasOf(addon).namespace;
    const plan = requested
      ? this.planAssociations(cluster, { ...addon, version: version?.version ?? addon.version, podIdentityConfiguration }, namespace, requested)
      : undefined;

    const at = this.now();
    const params: { type: string; value: string }[] = [];
    if (version) {
      addon.version = version.version;
      addon.podIdentityConfiguration = cloneConfig(version.podIdentityConfiguration);
      params.push({ type: 'AddonVersion', value: version.version });
    }
    if (roleArn !== undefined) {
      // An empty string removes the IRSA role, as in EKS.
      addon.serviceAccountRoleArn = roleArn === '' ? null : roleArn;
      params.push({ type: 'ServiceAccountRoleArn', value: roleArn });
    }
    const resolveConflicts = optString(body, 'resolveConflicts');
    if (resolveConflicts !== undefined) params.push({ type: 'ResolveConflicts', value: resolveConflicts });
    const configurationValues = optString(body, 'configurationValues');
    if (configurationValues !== undefined) {
      this.extrasOf(addon).configurationValues = configurationValues;
      params.push({ type: 'ConfigurationValues', value: configurationValues });
    }
    let identityChanged = roleArn !== undefined;
    if (plan && requested) {
      identityChanged = this.applyAssociations(cluster, addon, namespace, plan, at) || identityChanged;
      params.push({
        type: 'PodIdentityAssociations',
        value: JSON.stringify(requested.map((r) => ({ serviceAccount: r.serviceAccount, roleArn: r.roleArn, namespace }))),
      });
    }
    addon.modifiedAt = at;
    cluster.kube.syncAgent();
    if (roleArn !== undefined) this.annotateServiceAccounts(cluster, addon, namespace);
    // New credentials reach only new pods: EKS restarts the add-on's pods (their workloads roll).
    if (identityChanged) this.rollAddonPods(cluster, addon, namespace, at);
    const id = crypto.randomUUID();
    const transitionMs = this.state.settings.addonTransitionMs;
    if (transitionMs > 0) {
      addon.status = 'UPDATING';
      addon.transition = { until: at.getTime() + transitionMs, updateId: id };
    }
    const update: JsonBody = { id, status: 'Successful', type: 'AddonUpdate', params, createdAt: epoch(at), errors: [] };
    this.updates.set(id, { clusterName: cluster.name, addonName: name, update });
    return { update: this.updateView(cluster, name, update) };
  }

  delete(cluster: ClusterState, name: string): JsonBody {
    const addon = this.findAddon(cluster, name);
    if (addon.status === 'DELETING') {
      throw new EksError('ResourceInUseException', `Addon ${name} is already DELETING.`, { clusterName: cluster.name, addonName: name });
    }
    const transitionMs = this.state.settings.addonTransitionMs;
    if (transitionMs > 0) {
      // Gone (with the associations it owns and its agent DaemonSet) once DELETING is over: SandboxState.settle.
      addon.status = 'DELETING';
      addon.transition = { until: this.state.clock.now() + transitionMs };
      return { addon: this.render(cluster, addon) };
    }
    const rendered = this.render(cluster, addon, 'DELETING');
    // EKS removes the associations an add-on owns together with the add-on.
    cluster.associations = cluster.associations.filter((a) => a.ownerArn !== addon.arn);
    cluster.addons.delete(name);
    cluster.kube.syncAgent();
    return { addon: rendered };
  }

  describeUpdate(cluster: ClusterState, updateId: string, query: URLSearchParams): JsonBody {
    const stored = this.updates.get(updateId);
    const addonName = query.get('addonName');
    if (!stored || stored.clusterName !== cluster.name || (addonName !== null && addonName !== stored.addonName)) {
      throw new EksError('ResourceNotFoundException', `No update found for ID: ${updateId}.`, {
        clusterName: cluster.name, ...(addonName ? { addonName } : {}),
      });
    }
    return { update: this.updateView(cluster, stored.addonName, stored.update) };
  }

  /** An update is InProgress while its add-on is UPDATING for it, Successful after. */
  private updateView(cluster: ClusterState, addonName: string, update: JsonBody): JsonBody {
    const addon = cluster.addons.get(addonName);
    const inProgress = addon?.status === 'UPDATING' && addon.transition?.updateId === update['id'];
    return { ...update, status: inProgress ? 'InProgress' : 'Successful' };
  }

  /**
   * The add-on's service accounts (those of its Pod Identity configuration, or the well-known one
   * of its kind) carry `eks.amazonaws.com/role-arn` = serviceAccountRoleArn, or none once it is
   * removed, as EKS writes them. Service accounts the world does not have are left alone.
   */
  private annotateServiceAccounts(cluster: ClusterState, addon: AddonState, namespace: string): void {
    for (const sa of this.addonServiceAccounts(addon)) {
      cluster.kube.updateObject('serviceaccounts', namespace, sa, (obj) => {
        const meta = (obj.metadata ?? {}) as JsonObject;
        const annotations = { ...((meta.annotations ?? {}) as Record<string, string>) };
        if (addon.serviceAccountRoleArn) annotations[ROLE_ARN_ANNOTATION] = addon.serviceAccountRoleArn;
        else delete annotations[ROLE_ARN_ANNOTATION];
        return { ...obj, metadata: { ...meta, annotations } };
      });
    }
  }

  /**
   * Roll the workloads (Deployments, DaemonSets, StatefulSets in the add-on's namespace) whose pods
   * run as one of the add-on's service accounts, by a pod-template annotation as
   * `kubectl rollout restart` does: their new pods get the new identity from the webhooks.
   */
  private rollAddonPods(cluster: ClusterState, addon: AddonState, namespace: string, at: Date): void {
    const accounts = new Set(this.addonServiceAccounts(addon));
    for (const plural of ['deployments', 'daemonsets', 'statefulsets']) {
      for (const w of cluster.kube.listObjects(plural, namespace)) {
        const template = ((w.spec as JsonObject | undefined)?.template ?? {}) as JsonObject;
        const podSpec = (template.spec ?? {}) as JsonObject;
        const sa = String(podSpec.serviceAccountName ?? podSpec.serviceAccount ?? 'default');
        if (!accounts.has(sa)) continue;
        const name = String((w.metadata as JsonObject).name);
        cluster.kube.updateObject(plural, namespace, name, (obj) => {
          const spec = (obj.spec ?? {}) as JsonObject;
          const tmpl = (spec.template ?? {}) as JsonObject;
          const meta = (tmpl.metadata ?? {}) as JsonObject;
          const annotations = { ...((meta.annotations ?? {}) as Record<string, string>), [RESTARTED_AT]: at.toISOString() };
          return { ...obj, spec: { ...spec, template: { ...tmpl, metadata: { ...meta, annotations } } } };
        });
      }
    }
  }

  private addonServiceAccounts(addon: AddonState): string[] {
    const fromConfig = (addon.podIdentityConfiguration ?? []).map((c) => c.serviceAccount);
    const known = KNOWN_SERVICE_ACCOUNTS[addon.name];
    return [...new Set([...fromConfig, ...(known ? [known] : [])])];
  }

  /**
   * Checks a requested association list against the add-on version and the cluster (Pod
   * Identity support, known service accounts, conflicts with associations the add-on does not
   * own, the per-cluster quota) and returns it unchanged when it can be applied.
   */
  private planAssociations(
    cluster: ClusterState,
    addon: AddonState,
    namespace: string,
    requested: RequestedAssociation[],
  ): RequestedAssociation[] {
    const fields = { clusterName: cluster.name, addonName: addon.name };
    if (requested.length > 0 && addon.podIdentityConfiguration === null) {
      throw invalidParameter(`Pod Identity feature is not supported for addon version: ${addon.version}`, fields);
    }
    const allowed = new Set((addon.podIdentityConfiguration ?? []).map((c) => c.serviceAccount));
    const seen = new Set<string>();
    for (const r of requested) {
      if (!allowed.has(r.serviceAccount)) {
        throw invalidParameter(`Service account ${r.serviceAccount} in pod identity configuration is not supported for addon ${addon.name}`, fields);
      }
      if (seen.has(r.serviceAccount)) {
        throw invalidParameter(`Service account ${r.serviceAccount} appears more than once in podIdentityAssociations.`, fields);
      }
      seen.add(r.serviceAccount);
      checkRoleArn(r.roleArn, 'roleArn');
      checkPodIdentityRole(this.state, cluster.account, r.roleArn, fields);
      const other = cluster.associations.find(
        (a) => a.namespace === namespace && a.serviceAccount === r.serviceAccount && a.ownerArn !== addon.arn,
      );
      if (other) {
        throw new EksError(
          'ResourceInUseException',
          `Pod identity association ${other.associationId} already exists for service account ${namespace}/${r.serviceAccount}; an add-on cannot adopt an existing association.`,
          fields,
        );
      }
    }
    const owned = cluster.associations.filter((a) => a.ownerArn === addon.arn);
    const added = requested.filter((r) => !owned.some((a) => a.serviceAccount === r.serviceAccount)).length;
    const removed = owned.filter((a) => !seen.has(a.serviceAccount)).length;
    if (cluster.associations.length - removed + added > MAX_ASSOCIATIONS_PER_CLUSTER) {
      throw new EksError(
        'ResourceLimitExceededException',
        `Cluster ${cluster.name} already has the maximum number of pod identity associations (${MAX_ASSOCIATIONS_PER_CLUSTER}).`,
        { clusterName: cluster.name },
      );
    }
    return requested;
  }

  /**
   * Makes the add-on own exactly `requested`: keeps (and re-points) named ones, creates new,
   * deletes the rest. Returns whether anything changed.
   */
  private applyAssociations(cluster: ClusterState, addon: AddonState, namespace: string, requested: RequestedAssociation[], at: Date): boolean {
    const wanted = new Map(requested.map((r) => [r.serviceAccount, r.roleArn]));
    const before = cluster.associations.length;
    cluster.associations = cluster.associations.filter((a) => a.ownerArn !== addon.arn || wanted.has(a.serviceAccount));
    let changed = cluster.associations.length !== before;
    for (const [serviceAccount, roleArn] of wanted) {
      const existing = cluster.associations.find((a) => a.ownerArn === addon.arn && a.serviceAccount === serviceAccount);
      if (existing) {
        if (existing.roleArn !== roleArn) {
          existing.roleArn = roleArn;
          existing.modifiedAt = at;
          changed = true;
        }
        continue;
      }
      cluster.associations.push(this.state.newAssociation(cluster, {
        namespace, serviceAccount, roleArn, targetRoleArn: null, disableSessionTags: false, ownerArn: addon.arn,
      }, at));
      changed = true;
    }
    return changed;
  }
}

const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** The service account each well-known add-on runs as (for add-ons whose world entry has no podIdentityConfiguration). */
const KNOWN_SERVICE_ACCOUNTS: Record<string, string> = {
  'vpc-cni': 'aws-node',
  'aws-ebs-csi-driver': 'ebs-csi-controller-sa',
  'aws-efs-csi-driver': 'efs-csi-controller-sa',
  'aws-mountpoint-s3-csi-driver': 's3-csi-driver-sa',
  'adot': 'opentelemetry-operator',
  'amazon-cloudwatch-observability': 'cloudwatch-agent',
};

/** Statuses during which EKS is already changing the add-on, so another update must wait. */
const BUSY_STATUSES = new Set(['CREATING', 'UPDATING', 'DELETING']);

/** What DescribeAddon's `health` says for the unhealthy statuses a world may give an add-on. */
function healthIssues(addon: AddonState, status: string): JsonBody[] {
  if (status === 'DEGRADED') {
    return [{ code: 'InsufficientNumberOfReplicas', message: `The add-on ${addon.name} is unhealthy because it doesn't have the desired number of replicas.`, resourceIds: [] }];
  }
  if (status.endsWith('_FAILED')) {
    return [{ code: 'InternalFailure', message: `The last ${status === 'CREATE_FAILED' ? 'create' : status === 'UPDATE_FAILED' ? 'update' : 'delete'} of ${addon.name} failed.`, resourceIds: [] }];
  }
  return [];
}

function readAssociations(body: JsonBody): RequestedAssociation[] | undefined {
  const raw = body['podIdentityAssociations'];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalidParameter('podIdentityAssociations must be a list.');
  return raw.map((item, i) => {
    if (typeof item !== 'object' || item === null) throw invalidParameter(`podIdentityAssociations[${i}] must be an object.`);
    const o = item as JsonBody;
    return { serviceAccount: reqString(o, 'serviceAccount'), roleArn: reqString(o, 'roleArn') };
  });
}

function cloneConfig(c: PodIdentityConfigurationSpec[] | null): PodIdentityConfigurationSpec[] | null {
  return c ? structuredClone(c) : null;
}
