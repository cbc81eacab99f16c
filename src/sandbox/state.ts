/**
 * The sandbox's live state, built from a validated World. AWS service modules (src/sandbox/aws)
 * and the Kubernetes API servers (src/sandbox/kube) read and change it; `/_sandbox/state`
 * serialises it back in the world-file schema.
 */
import { createHash } from 'node:crypto';
import type {
  AddonSpec, AssociationSpec, CallerSpec, ClusterSpec, FargateProfileSpec, FaultSpec, JsonObject,
  ManagedPolicySpec, NodegroupSpec, OidcProviderSpec, Partition, RoleSpec, World,
} from './world-types.js';

export interface CallRecord {
  service: string;
  operation: string;
  mutating: boolean;
  status: number;
}

export interface AddonState extends AddonSpec {
  arn: string;
  createdAt: Date;
  modifiedAt: Date;
  /**
   * An EKS change in progress (`addonTransitionMs`): the add-on reports `status` (CREATING,
   * UPDATING or DELETING) until `until`, then `settle()` makes it ACTIVE (or removes it).
   */
  transition?: { until: number; updateId?: string };
}

export interface AssociationState {
  associationId: string;
  associationArn: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  ownerArn: string | null;
  externalId: string | null;
  tags: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
  /** When the Pod Identity webhook starts seeing it (createdAt + associationPropagationMs; world associations at once). */
  visibleAt: number;
}

/**
 * One cluster's Kubernetes API server. Implemented in src/sandbox/kube; the EKS module calls
 * `syncAgent` after add-on changes so the agent DaemonSet follows the add-on.
 */
export interface KubeApi {
  /** Every object (including generated pods, replicasets, nodes, namespaces) as manifests. */
  allObjects(): JsonObject[];
  /**
   * One object as the API server would return it now (controllers caught up with the clock), or
   * undefined. `plural` is the resource (`pods`, `nodes`, `daemonsets`); `namespace` is '' for
   * cluster-scoped ones. The caller must not change it.
   */
  getObject(plural: string, namespace: string, name: string): JsonObject | undefined;
  /** Objects of one resource, in one namespace or all, as the API server would list them now. */
  listObjects(plural: string, namespace?: string): JsonObject[];
  /**
   * Change an object through the API server (resourceVersion, generation and rollouts follow, as
   * for a PATCH): `change` receives a copy and returns the new object. False when it does not exist.
   */
  updateObject(plural: string, namespace: string, name: string, change: (obj: JsonObject) => JsonObject): boolean;
  /** Create an object through the API server (as a POST would). */
  createObject(plural: string, obj: JsonObject): void;
  /** Create or delete the kube-system/eks-pod-identity-agent DaemonSet to match the cluster's add-ons. */
  syncAgent(): void;
  /** The world's sandbox options for this cluster (stuckWorkloads, missingImages), for the state dump. */
  sandboxOptions?(): JsonObject;
}

export interface ClusterState {
  name: string;
  account: string;
  region: string;
  partition: Partition;
  arn: string;
  version: string;
  platformVersion: string;
  oidcIssuer: string | null;
  autoMode: boolean;
  status: string;
  createdAt: Date;
  /** Path of this cluster's Kubernetes API under the sandbox endpoint: /k8s/<account>/<region>/<name>. */
  kubePath: string;
  /** The world's apiServerUrl: reported instead of the sandbox's own API server for this cluster. */
  apiServerUrl?: string;
  addons: Map<string, AddonState>;
  nodegroups: NodegroupSpec[];
  fargateProfiles: FargateProfileSpec[];
  associations: AssociationState[];
  kube: KubeApi;
}

/**
 * An IAM OIDC provider as IAM keeps it: the world's `openIdConnectProviders` entry (url,
 * clientIds, account) plus what CreateOpenIDConnectProvider also stores. World providers get
 * the EKS issuer thumbprint, no tags, and the sandbox's start time.
 */
export interface OidcProviderState extends OidcProviderSpec {
  thumbprints: string[];
  tags: { Key: string; Value: string }[];
  createDate: Date;
}

/**
 * Thumbprint IAM stores for EKS OIDC providers created by eksctl/Terraform (the root CA of
 * oidc.eks.<region>.amazonaws.com). IAM no longer uses it for EKS issuers, but still returns it.
 */
export const EKS_OIDC_THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';

export interface RoleState extends RoleSpec {
  arn: string;
  roleId: string;
  createDate: Date;
  /**
   * Trust-policy versions with the time the credential model starts seeing each
   * (`iamPropagationMs` after UpdateAssumeRolePolicy; the world's at once). Oldest first;
   * `assumeRolePolicyDocument` is always the newest, which GetRole returns at once, as IAM does.
   */
  trustHistory: { document: JsonObject; visibleAt: number }[];
}

export interface SandboxSettings {
  account: string;
  region: string;
  partition: Partition;
  latencyMs: number;
  rolloutDelayMs: number;
  associationPropagationMs: number;
  iamPropagationMs: number;
  addonTransitionMs: number;
  associationReuseDelayMs: number;
  trustPolicyLimit: number;
}

/** A clock the sandbox reads; tests may pass a fake one. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export class SandboxState {
  readonly settings: SandboxSettings;
  readonly clusters: ClusterState[] = [];
  readonly roles: RoleState[];
  readonly policies: ManagedPolicySpec[];
  /** IAM OIDC providers; Create/DeleteOpenIDConnectProvider change it (IRSA fails for an issuer without one). */
  readonly oidcProviders: OidcProviderState[];
  readonly caller: CallerSpec | null;
  readonly faults: (FaultSpec & { seen: number })[];
  readonly calls: CallRecord[] = [];
  /** The sandbox endpoint (http://127.0.0.1:PORT), known once listening. */
  endpoint = 'http://127.0.0.1:0';

  /** A cluster's API server URL: the world's apiServerUrl, else its path under the sandbox. */
  apiServer(c: Pick<ClusterState, 'kubePath' | 'apiServerUrl'>): string {
    return c.apiServerUrl ?? this.endpoint + c.kubePath;
  }

  constructor(
    world: World,
    readonly clock: Clock,
    makeKube: (state: SandboxState, cluster: ClusterState, spec: ClusterSpec) => KubeApi,
  ) {
    this.settings = {
      account: world.account,
      region: world.region,
      partition: world.partition,
      latencyMs: world.latencyMs,
      rolloutDelayMs: world.rolloutDelayMs,
      associationPropagationMs: world.associationPropagationMs,
      iamPropagationMs: world.iamPropagationMs ?? 0,
      addonTransitionMs: world.addonTransitionMs ?? 0,
      associationReuseDelayMs: world.associationReuseDelayMs ?? 0,
      trustPolicyLimit: world.iam.trustPolicyLimit,
    };
    const created = new Date(clock.now());
    this.roles = world.iam.roles.map((r) => ({
      ...structuredClone(r),
      arn: roleArn(world.partition, r.account, r.path, r.name),
      roleId: stableId('AROA', `${r.account}:${r.name}`),
      createDate: created,
      trustHistory: [{ document: structuredClone(r.assumeRolePolicyDocument), visibleAt: 0 }],
    }));
    this.policies = structuredClone(world.iam.policies);
    this.oidcProviders = world.iam.openIdConnectProviders.map((p) => ({ ...structuredClone(p), thumbprints: [EKS_OIDC_THUMBPRINT], tags: [], createDate: created }));
    this.caller = world.caller ? structuredClone(world.caller) : null;
    this.faults = world.faults.map((f) => ({ ...f, seen: 0 }));
    for (const spec of world.clusters) {
      const arn = `arn:${world.partition}:eks:${spec.region}:${spec.account}:cluster/${spec.name}`;
      const cluster: ClusterState = {
        name: spec.name,
        account: spec.account,
        region: spec.region,
        partition: world.partition,
        arn,
        version: spec.version,
        platformVersion: spec.platformVersion,
        oidcIssuer: spec.oidcIssuer,
        autoMode: spec.autoMode,
        status: spec.status,
        createdAt: created,
        kubePath: `/k8s/${spec.account}/${spec.region}/${spec.name}`,
        ...(spec.apiServerUrl === undefined ? {} : { apiServerUrl: spec.apiServerUrl }),
        addons: new Map(
          spec.addons.map((a) => [a.name, { ...structuredClone(a), arn: addonArn(arn, a.name), createdAt: created, modifiedAt: created }]),
        ),
        nodegroups: structuredClone(spec.nodegroups),
        fargateProfiles: structuredClone(spec.fargateProfiles),
        associations: [],
        kube: undefined as unknown as KubeApi,
      };
      // Associations the world starts with have long propagated.
      cluster.associations = spec.podIdentityAssociations.map((a) => ({ ...this.newAssociation(cluster, a, created), visibleAt: created.getTime() }));
      this.clusters.push(cluster);
      cluster.kube = makeKube(this, cluster, spec);
    }
  }

  /** The cluster a signed request names: by name, in the request's region and the caller's account. */
  findCluster(name: string, region?: string): ClusterState | undefined {
    return this.clusters.find((c) => c.name === name && (region === undefined || c.region === region));
  }

  findRole(name: string): RoleState | undefined {
    return this.roles.find((r) => r.name === name);
  }

  /** The role an ARN names, in any account (IAM role names are case-insensitive; the path must match). */
  roleByArn(arn: string): RoleState | undefined {
    const m = /^arn:([^:]+):iam::(\d{12}):role(\/(?:.*\/)?)([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const [, partition, account, path, name] = m;
    return this.roles.find((r) => partition === this.settings.partition && r.account === account && r.path === path && r.name.toLowerCase() === name!.toLowerCase());
  }

  /** UpdateAssumeRolePolicy: GetRole shows `doc` at once; the credential model after `iamPropagationMs`. */
  setTrustPolicy(role: RoleState, doc: JsonObject): void {
    role.assumeRolePolicyDocument = doc;
    role.trustHistory.push({ document: structuredClone(doc), visibleAt: this.clock.now() + this.settings.iamPropagationMs });
    // Versions older than the newest one already visible can never be seen again.
    const now = this.clock.now();
    while (role.trustHistory.length > 1 && role.trustHistory[1]!.visibleAt <= now) role.trustHistory.shift();
  }

  /** The trust policy STS and EKS evaluate now: the newest version that has propagated. */
  propagatedTrust(role: RoleState): JsonObject {
    const now = this.clock.now();
    let doc = role.trustHistory[0]!.document;
    for (const v of role.trustHistory) if (v.visibleAt <= now) doc = v.document;
    return doc;
  }

  /**
   * Finish the EKS changes whose time has come (`addonTransitionMs`): CREATING/UPDATING add-ons
   * become ACTIVE, DELETING ones go away with the associations they own. The server calls it
   * before every request, so the state any client sees is current.
   */
  settle(): void {
    const now = this.clock.now();
    for (const cluster of this.clusters) {
      let agentChanged = false;
      for (const addon of [...cluster.addons.values()]) {
        if (!addon.transition || addon.transition.until > now) continue;
        if (addon.status === 'DELETING') {
          cluster.associations = cluster.associations.filter((a) => a.ownerArn !== addon.arn);
          cluster.addons.delete(addon.name);
          agentChanged = true;
        } else {
          addon.status = 'ACTIVE';
        }
        delete addon.transition;
      }
      if (agentChanged) cluster.kube.syncAgent();
    }
  }
  newAssociation(cluster: ClusterState, spec: AssociationSpec, at: Date): AssociationState {
    const associationId = spec.associationId ?? `a-${randomSuffix(17)}`;
    return {
      associationId,
      associationArn: `arn:${cluster.partition}:eks:${cluster.region}:${cluster.account}:podidentityassociation/${cluster.name}/${associationId}`,
      clusterName: cluster.name,
      namespace: spec.namespace,
      serviceAccount: spec.serviceAccount,
      roleArn: spec.roleArn,
      targetRoleArn: spec.targetRoleArn,
      disableSessionTags: spec.disableSessionTags,
      ownerArn: spec.ownerArn ?? null,
      // EKS gives every association with a target role an external ID for the target's trust policy.
      externalId: spec.targetRoleArn ? (spec.externalId ?? crypto.randomUUID()) : null,
      tags: {},
      createdAt: at,
      modifiedAt: at,
      visibleAt: at.getTime() + this.settings.associationPropagationMs,
    };
  }

  /**
   * The association the Pod Identity webhook sees for namespace/SA now: one that exists and has
   * propagated (`associationPropagationMs`), or undefined.
   */
  visibleAssociation(cluster: ClusterState, namespace: string, serviceAccount: string): AssociationState | undefined {
    const now = this.clock.now();
    return this.associationsFor(cluster, namespace, serviceAccount)?.find((a) => a.visibleAt <= now);
  }

  /**
   * A cluster's associations of one namespace/ServiceAccount, in list order. The webhook asks for
   * every new pod: an index, rebuilt when the list changes. The EKS module replaces the list or
   * appends to it, and an association's namespace and ServiceAccount never change (as on EKS).
   */
  private associationsFor(cluster: ClusterState, namespace: string, serviceAccount: string): AssociationState[] | undefined {
    const list = cluster.associations;
    let index = this.associationIndex.get(cluster);
    if (!index || index.list !== list || index.length !== list.length) {
      const byKey = new Map<string, AssociationState[]>();
      for (const a of list) {
        const key = `${a.namespace}\0${a.serviceAccount}`;
        const same = byKey.get(key);
        if (same) same.push(a);
        else byKey.set(key, [a]);
      }
      index = { list, length: list.length, byKey };
      this.associationIndex.set(cluster, index);
    }
    return index.byKey.get(`${namespace}\0${serviceAccount}`);
  }

  private readonly associationIndex = new WeakMap<ClusterState, { list: AssociationState[]; length: number; byKey: Map<string, AssociationState[]> }>();

  /** Whether the Pod Identity webhook is active: the agent add-on is installed, or Auto Mode. */
  podIdentityActive(cluster: ClusterState): boolean {
    return cluster.autoMode || cluster.addons.has('eks-pod-identity-agent');
  }

  /** The world as it is now, in the world-file schema (GET /_sandbox/state). */
  toWorld(): JsonObject {
    return {
      account: this.settings.account,
      region: this.settings.region,
      partition: this.settings.partition,
      latencyMs: this.settings.latencyMs,
      rolloutDelayMs: this.settings.rolloutDelayMs,
      associationPropagationMs: this.settings.associationPropagationMs,
      iamPropagationMs: this.settings.iamPropagationMs,
      addonTransitionMs: this.settings.addonTransitionMs,
      associationReuseDelayMs: this.settings.associationReuseDelayMs,
      clusters: this.clusters.map((c) => ({
        name: c.name,
        account: c.account,
        region: c.region,
        arn: c.arn,
        endpoint: this.apiServer(c),
        version: c.version,
        platformVersion: c.platformVersion,
        oidcIssuer: c.oidcIssuer,
        autoMode: c.autoMode,
        status: c.status,
        addons: [...c.addons.values()].map((a) => ({
          name: a.name,
          version: a.version,
          status: a.status,
          serviceAccountRoleArn: a.serviceAccountRoleArn,
          podIdentityConfiguration: a.podIdentityConfiguration,
        })),
        nodegroups: c.nodegroups,
        fargateProfiles: c.fargateProfiles,
        podIdentityAssociations: c.associations.map((a) => ({
          associationId: a.associationId,
          associationArn: a.associationArn,
          namespace: a.namespace,
          serviceAccount: a.serviceAccount,
          roleArn: a.roleArn,
          targetRoleArn: a.targetRoleArn,
          disableSessionTags: a.disableSessionTags,
          ownerArn: a.ownerArn,
          ...(a.externalId ? { externalId: a.externalId } : {}),
        })),
        objects: c.kube.allObjects(),
        ...(c.kube.sandboxOptions?.() ?? {}),
      })),
      iam: {
        trustPolicyLimit: this.settings.trustPolicyLimit,
        roles: this.roles.map((r) => ({
          name: r.name,
          path: r.path,
          account: r.account,
          arn: r.arn,
          assumeRolePolicyDocument: r.assumeRolePolicyDocument,
          attachedPolicies: r.attachedPolicies,
          inlinePolicies: r.inlinePolicies,
          tags: r.tags,
          permissionsBoundary: r.permissionsBoundary,
        })),
        policies: this.policies,
        // The world-file schema: what CreateOpenIDConnectProvider adds (thumbprints, tags) stays in IAM's answers.
        openIdConnectProviders: this.oidcProviders.map((p) => ({ url: p.url, clientIds: p.clientIds, account: p.account })),
      },
      caller: this.caller,
      faults: this.faults.map(({ seen: _seen, ...f }) => f),
    };
  }
}

export function roleArn(partition: Partition, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

/**
 * arn:aws:eks:us-east-1:111122223333:addon/prod/vpc-cni/<uuid>, as EKS writes it. The world's
 * add-ons get a uuid derived from cluster and name (stable across runs); CreateAddon passes a
 * random one, so an add-on deleted and created again has a new ARN, as in EKS.
 */
export function addonArn(clusterArn: string, addonName: string, uuid: string = stableUuid(`${clusterArn}/addon/${addonName}`)): string {
  const [, partition, , region, account, res] = clusterArn.split(':');
  const cluster = (res ?? '').replace(/^cluster\//, '');
  return `arn:${partition}:eks:${region}:${account}:addon/${cluster}/${addonName}/${uuid}`;
}

/** A uuid-shaped id derived from `seed` (EKS node group, Fargate profile and add-on ARNs end in one). */
export function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function randomSuffix(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');
}

/**
 * A deterministic id (IAM's AROA... role ids, ANPA... policy ids), so repeated runs over one world
 * agree: 17 base-32 characters (85 bits) of a SHA-256 of `seed`, so distinct objects never share one.
 */
export function stableId(prefix: string, seed: string): string {
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < 17; i++) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[bytes[i]! % 32];
  return prefix + out;
}
