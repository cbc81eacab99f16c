/**
 * The sandbox's live state, built from a validated World. AWS service modules (src/sandbox/aws)
 * and the Kubernetes API servers (src/sandbox/kube) read and change it; `/_sandbox/state`
 * serialises it back in the world-file schema.
 */
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
  /** Create or delete the kube-system/eks-pod-identity-agent DaemonSet to match the cluster's add-ons. */
  syncAgent(): void;
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

export interface RoleState extends RoleSpec {
  arn: string;
  roleId: string;
  createDate: Date;
}

export interface SandboxSettings {
  account: string;
  region: string;
  partition: Partition;
  latencyMs: number;
  rolloutDelayMs: number;
  associationPropagationMs: number;
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
  readonly oidcProviders: OidcProviderSpec[];
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
      trustPolicyLimit: world.iam.trustPolicyLimit,
    };
    const created = new Date(clock.now());
    this.roles = world.iam.roles.map((r) => ({
      ...structuredClone(r),
      arn: roleArn(world.partition, r.account, r.path, r.name),
      roleId: stableId('AROA', `${r.account}:${r.name}`),
      createDate: created,
    }));
    this.policies = structuredClone(world.iam.policies);
    this.oidcProviders = structuredClone(world.iam.openIdConnectProviders);
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
      externalId: spec.targetRoleArn ? crypto.randomUUID() : null,
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
    return cluster.associations.find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount && a.visibleAt <= now);
  }

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
        })),
        objects: c.kube.allObjects(),
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
        })),
        policies: this.policies,
        openIdConnectProviders: this.oidcProviders,
      },
      caller: this.caller,
      faults: this.faults.map(({ seen: _seen, ...f }) => f),
    };
  }
}

export function roleArn(partition: Partition, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

export function addonArn(clusterArn: string, addonName: string): string {
  // arn:aws:eks:us-east-1:111122223333:addon/prod/vpc-cni/<uuid>, as EKS writes it
  const [, partition, , region, account, res] = clusterArn.split(':');
  const cluster = (res ?? '').replace(/^cluster\//, '');
  return `arn:${partition}:eks:${region}:${account}:addon/${cluster}/${addonName}/${stableId('', `${clusterArn}/${addonName}`).toLowerCase()}`;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function randomSuffix(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  return [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');
}

/** A deterministic id (IAM's AROA... role ids), so repeated runs over one world agree. */
export function stableId(prefix: string, seed: string): string {
  let h = 2166136261;
  let out = '';
  for (let i = 0; out.length < 17; i++) {
    h ^= seed.charCodeAt(i % seed.length) + i;
    h = Math.imul(h, 16777619) >>> 0;
    out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[h % 32];
  }
  return prefix + out;
}
