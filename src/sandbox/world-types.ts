/**
 * The sandbox world file, after validation and defaults (the world-file contract,
 * documented for users in docs/sandbox.md). Every optional field of the file is filled in here,
 * so the emulator never re-derives a default.
 */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';
export const ADDON_STATUSES = ['ACTIVE', 'CREATING', 'DEGRADED', 'DELETING', 'DELETE_FAILED', 'UPDATING', 'UPDATE_FAILED', 'CREATE_FAILED'] as const;
export type AddonStatus = (typeof ADDON_STATUSES)[number];
export const CLUSTER_STATUSES = ['ACTIVE', 'CREATING', 'UPDATING', 'DELETING', 'FAILED', 'PENDING'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];
export const FAULT_KINDS = ['throttle', 'server-error', 'reset', 'timeout'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type JsonObject = { [k: string]: unknown };

export interface World {
  account: string;
  region: string;
  partition: Partition;
  latencyMs: number;
  rolloutDelayMs: number;
  associationPropagationMs: number;
  /** Time before a trust-policy change is seen by the credential model (default 0; optional for hand-built worlds). */
  iamPropagationMs?: number;
  /** Time an add-on spends CREATING/UPDATING/DELETING (default 0). */
  addonTransitionMs?: number;
  /** Time a deleted association's namespace/service account stays unusable (default 0). */
  associationReuseDelayMs?: number;
  clusters: ClusterSpec[];
  iam: IamSpec;
  caller: CallerSpec | null;
  faults: FaultSpec[];
}

export interface ClusterSpec {
  name: string;
  account: string;
  region: string;
  version: string;
  platformVersion: string;
  oidcIssuer: string | null;
  autoMode: boolean;
  /** What DescribeCluster reports (default ACTIVE). */
  status: ClusterStatus;
  addons: AddonSpec[];
  nodegroups: NodegroupSpec[];
  fargateProfiles: FargateProfileSpec[];
  podIdentityAssociations: AssociationSpec[];
  /** Kubernetes objects as manifests (apiVersion, kind, metadata, ...). */
  objects: JsonObject[];
  /** Sandbox option: workloads whose pods created after the world loads never become ready. */
  stuckWorkloads?: StuckWorkloadSpec[];
  /** Sandbox option: image patterns (`*` wildcards) no node can pull; their pods stay in ImagePullBackOff. */
  missingImages?: string[];
  /** The API server URL to report instead of the sandbox's own (an unreachable cluster). */
  apiServerUrl?: string;
}

export interface StuckWorkloadSpec {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Job';
  namespace: string;
  name: string;
  reason: 'CrashLoopBackOff' | 'ImagePullBackOff';
}

export interface AddonSpec {
  name: string;
  version: string;
  status: AddonStatus;
  serviceAccountRoleArn: string | null;
  /** What DescribeAddonConfiguration returns; null = this version does not support Pod Identity. */
  podIdentityConfiguration: PodIdentityConfigurationSpec[] | null;
}

export interface PodIdentityConfigurationSpec {
  serviceAccount: string;
  recommendedManagedPolicies: string[];
}

export interface NodegroupSpec {
  name: string;
  nodeRole: string;
  amiType: string;
  nodes: number;
}

export interface FargateProfileSpec {
  name: string;
  selectors: { namespace: string; labels?: Record<string, string> }[];
  podExecutionRoleArn: string | null;
}

export interface AssociationSpec {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  /** Optional in the file; generated (`a-` + 17 chars) when absent. */
  associationId?: string;
  /** Set for associations owned by an add-on (UpdateAddon podIdentityAssociations). */
  ownerArn?: string | null;
  /** The external ID EKS generated for a target role; generated when absent. */
  externalId?: string | null;
}

export interface IamSpec {
  trustPolicyLimit: number;
  roles: RoleSpec[];
  policies: ManagedPolicySpec[];
  openIdConnectProviders: OidcProviderSpec[];
}

export interface RoleSpec {
  name: string;
  path: string;
  account: string;
  /** Decoded trust policy (the file may give an object or a JSON string). */
  assumeRolePolicyDocument: JsonObject;
  attachedPolicies: string[];
  inlinePolicies: Record<string, JsonObject>;
  tags: Record<string, string>;
  /** The permissions boundary's policy ARN; absent or null: none. */
  permissionsBoundary?: string | null | undefined;
}

export interface ManagedPolicySpec {
  arn: string;
  document: JsonObject;
}

export interface OidcProviderSpec {
  url: string;
  clientIds: string[];
  /** Owning account; defaults to the top-level account. */
  account: string;
}

export interface CallerSpec {
  arn: string;
  /** IAM-style action patterns (`eks:Describe*`); calls outside them answer AccessDenied. */
  allow: string[];
}

export interface FaultSpec {
  /** `service:Operation` (iam:UpdateAssumeRolePolicy) or `k8s:<verb>:<resource>` (k8s:patch:deployments). */
  target: string;
  error: FaultKind;
  after: number;
  times: number;
  /** `before` (default): the call fails unapplied. `after-commit`: the change is applied, then the answer fails. */
  when?: 'before' | 'after-commit';
  /** Only calls to this cluster's Kubernetes API (or EKS calls naming this cluster). */
  cluster?: string;
  /** Only Kubernetes calls in this namespace. */
  namespace?: string;
}
