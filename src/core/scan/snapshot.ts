/**
 * What the scan reads from the outside world, before any judgement: the adapters
 * (src/adapters) fill a FleetSnapshot, `core/scan/analyze` turns it into an Inventory. Keeping
 * the raw facts separate keeps the analysis pure and testable without AWS or Kubernetes.
 * Only the fields the analysis needs are kept, so a large fleet stays small in memory.
 */
import type { ErrorCode } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { Manager } from './managed-by.js';
import type { ScanScope } from './scope.js';

export interface FleetSnapshot {
  caller: { account: string; arn: string };
  /** IAM's trust-policy length quota in force (--trust-policy-limit, default 2048). */
  trustPolicyLimit: number;
  clusters: ClusterSnapshot[];
  /** Every role named by an annotation, add-on or association, fetched once per run, keyed by the normalised ARN (parseRoleArn: trimmed). */
  roles: Record<string, RoleSnapshot>;
  /** Node roles' permission check, by role ARN. */
  nodeRoles: Record<string, NodeRoleSnapshot>;
  /**
   * The -n / --service-account scope the snapshot was read with; absent: unscoped. The
   * Kubernetes lists are already filtered by it, but cluster facts (add-ons among them) are
   * kept whole, so the analysis needs it to report only the add-ons in scope.
   */
  scope?: ScanScope;
  /**
   * Clusters of a fleet run that could not be scanned (not an EKS context, unreachable, denied,
   * throttled past the retries); every other cluster is in `clusters`. Absent when there are none.
   */
  unscanned?: UnscannedCluster[];
  /**
   * Roles whose permissions boundary is unknown: read with ListRoles because
   * GetAccountAuthorizationDetails was denied or failed (`reason`). Absent when none.
   */
  boundariesUnknown?: { roles: number; reason: string };
}

/** A context a fleet run could not scan, with what podid knew of it and why. */
export interface UnscannedCluster {
  context: string;
  /** The EKS cluster behind the context, when podid could tell. */
  clusterName: string | null;
  region: string | null;
  /** The kubeconfig's API server URL, when it has one. */
  server: string | null;
  error: { code: ErrorCode; message: string; hint: string | null };
}

export interface ClusterSnapshot {
  /** The kubeconfig context the cluster was reached through (null in manifests mode). */
  context: string | null;
  name: string;
  arn: string;
  account: string;
  region: string;
  partition: string;
  version: string;
  platformVersion: string;
  status: string;
  /** The API server URL; must equal the kubeconfig context's server. */
  endpoint: string;
  oidcIssuer: string | null;
  /** EKS Auto Mode (computeConfig.enabled). */
  autoMode: boolean;
  addons: AddonSnapshot[];
  nodegroups: NodegroupSnapshot[];
  fargateProfiles: FargateProfileSnapshot[];
  associations: AssociationSnapshot[];
  kube: KubeSnapshot;
}

export interface AddonSnapshot {
  name: string;
  version: string;
  status: string;
  arn: string;
  serviceAccountRoleArn: string | null;
  /** ARNs of the associations the add-on owns. */
  podIdentityAssociations: string[];
  /** DescribeAddonConfiguration's podIdentityConfiguration; null when this version does not support Pod Identity. Only fetched for add-ons that use IRSA. */
  podIdentityConfiguration: { serviceAccount: string; recommendedManagedPolicies: string[] }[] | null;
}

export interface NodegroupSnapshot {
  name: string;
  nodeRole: string;
  amiType: string;
  status: string;
}

export interface FargateProfileSnapshot {
  name: string;
  selectors: { namespace: string; labels: Record<string, string> }[];
}

/**
 * Every association of the cluster is listed (the quota counts them all), but only the ones the
 * analysis reads are described (core/scan/collect.ts): the others carry `roleArn: null`, as
 * ListPodIdentityAssociations does not return the role.
 */
export interface AssociationSnapshot {
  associationId: string;
  associationArn: string;
  namespace: string;
  serviceAccount: string;
  /** null: not described (not needed by the analysis); a described association always has one. */
  roleArn: string | null;
  /** null: no role chaining, or not described (roleArn null). */
  targetRoleArn: string | null;
  /** The association turns off the session tags EKS attaches (absent: not described, or false). */
  disableSessionTags?: boolean;
  ownerArn: string | null;
}

export interface KubeSnapshot {
  serviceAccounts: ServiceAccountObject[];
  workloads: WorkloadObject[];
  pods: PodObject[];
  nodes: NodeObject[];
}

export interface ServiceAccountObject {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** Only the `eks.amazonaws.com/*` annotations. */
  annotations: Record<string, string>;
  /** The controller that re-applies its annotations (Helm, Argo CD, Crossplane...), when its markers say so. */
  managedBy?: Manager | null;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicaSet';

export interface WorkloadObject {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  serviceAccount: string;
  /** Pod template labels (for Fargate selector matching). */
  templateLabels: Record<string, string>;
  /** Pod template nodeSelector (kubernetes.io/os: windows means Windows nodes). */
  nodeSelector: Record<string, string>;
  /**
   * Set when the pod template's required node affinity admits Windows nodes only (every term pins
   * `kubernetes.io/os` or `beta.kubernetes.io/os` to `windows`, see requiredAffinityPinsWindows):
   * its pods can only run there, even before one is scheduled.
   */
  windowsAffinity?: true;
  replicas: number | null;
  /** ReplicaSet/Job owner (e.g. the Deployment of a ReplicaSet, the CronJob of a Job). */
  owner: { kind: string; name: string } | null;
  /** Jobs: still running (active pods); CronJobs: suspended. */
  active: boolean;
}

export type PodIdentityEnv = 'pod-identity' | 'irsa' | 'none';

export interface PodObject {
  namespace: string;
  name: string;
  serviceAccount: string;
  nodeName: string | null;
  phase: string;
  owner: { kind: string; name: string } | null;
  /** Which credentials the webhook injected at creation, read from the containers' env. */
  identity: PodIdentityEnv;
  labels: Record<string, string>;
  /** Containers whose env sets AWS_WEB_IDENTITY_TOKEN_FILE to a literal value, with it. */
  tokenFiles?: { container: string; path: string }[];
  /**
   * Set (with tokenFiles only) when the pod's nodeSelector asks for Windows nodes
   * (`kubernetes.io/os` or `beta.kubernetes.io/os`: `windows`): the EKS webhook then injects the
   * token path as a Windows path.
   */
  windowsNodeSelector?: true;
  /** metadata.deletionTimestamp is set: the pod is shutting down (finalize ignores it). */
  terminating?: boolean;
}

export interface NodeObject {
  name: string;
  os: string;
  /** `fargate`, `auto` (EKS Auto Mode), or `ec2`. */
  computeType: 'fargate' | 'auto' | 'ec2';
  nodegroup: string | null;
}

export interface RoleSnapshot {
  /** The ARN as the annotation/add-on wrote it (normalised by parseRoleArn). */
  arn: string;
  /** found: readable; missing: NoSuchEntity; unreadable: AccessDenied or another account. */
  state: 'found' | 'missing' | 'unreadable';
  trustPolicy: JsonObject | null;
  error: string | null;
  /**
   * The permissions boundary's policy ARN (GetRole, GetAccountAuthorizationDetails); null: none;
   * undefined: not known (ListRoles does not return it, see the IAM API reference for ListRoles).
   */
  permissionsBoundary?: string | null;
}

export interface NodeRoleSnapshot {
  arn: string;
  /** Whether some attached or inline policy allows eks-auth:AssumeRoleForPodIdentity; null when it could not be read. */
  allowsAssumeRoleForPodIdentity: boolean | null;
  /** Which policy grants it, or why it could not be decided. */
  detail: string;
}
