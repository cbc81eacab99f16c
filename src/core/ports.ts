/**
 * The scan's view of the outside world: only the read calls `podid scan` makes, already mapped
 * to the slim snapshot shapes of core/scan/snapshot.ts. Ports belong to the core; the real
 * implementations are adapters (src/adapters/aws.ts, aws-eks.ts, kube.ts); tests can hand the
 * collector in-memory ports instead.
 *
 * Every port here is read-only by construction: no method mutates anything.
 */
import type {
  AddonSnapshot,
  AssociationSnapshot,
  ClusterSnapshot,
  FargateProfileSnapshot,
  NodeObject,
  NodegroupSnapshot,
  PodObject,
  RoleSnapshot,
  ServiceAccountObject,
  WorkloadObject,
} from './scan/snapshot.js';
import type { ErrorCode } from './errors.js';
import type { ManifestDoc } from './scan/manifests.js';

/** What DescribeCluster says about a cluster, before add-ons, node groups and the rest. */
export type EksClusterInfo = Pick<ClusterSnapshot, 'name' | 'arn' | 'version' | 'platformVersion' | 'status' | 'endpoint' | 'oidcIssuer' | 'autoMode'>;

/** What DescribeAddon says (DescribeAddonConfiguration is a call of its own). */
export type EksAddonInfo = Omit<AddonSnapshot, 'podIdentityConfiguration'>;

export interface AddonPodIdentityConfiguration {
  serviceAccount: string;
  recommendedManagedPolicies: string[];
}

/** ListPodIdentityAssociations' summary: everything but the role. */
export type AssociationSummary = Omit<AssociationSnapshot, 'roleArn' | 'targetRoleArn' | 'disableSessionTags'>;

/** EKS in one region. List calls return every page. */
export interface EksPort {
  listClusters(): Promise<string[]>;
  describeCluster(name: string): Promise<EksClusterInfo>;
  listAddons(cluster: string): Promise<string[]>;
  describeAddon(cluster: string, addon: string): Promise<EksAddonInfo>;
  /** null when this add-on version does not support Pod Identity (no podIdentityConfiguration). */
  describeAddonConfiguration(addon: string, version: string): Promise<AddonPodIdentityConfiguration[] | null>;
  listNodegroups(cluster: string): Promise<string[]>;
  describeNodegroup(cluster: string, nodegroup: string): Promise<NodegroupSnapshot>;
  listFargateProfiles(cluster: string): Promise<string[]>;
  describeFargateProfile(cluster: string, profile: string): Promise<FargateProfileSnapshot>;
  /** Cluster-wide, one paginated call chain (no namespace filter). */
  listPodIdentityAssociations(cluster: string): Promise<AssociationSummary[]>;
  describePodIdentityAssociation(cluster: string, associationId: string): Promise<AssociationSnapshot>;
}

export interface AttachedPolicy {
  arn: string;
  name: string;
}

/**
 * Codes of the PodidErrors the adapters throw for a read the caller may record instead of
 * failing the run (e.g. one node role whose policies cannot be read).
 */
export const READ_DENIED = 'AWS_ACCESS_DENIED' satisfies ErrorCode;
export const READ_NOT_FOUND = 'AWS_NOT_FOUND' satisfies ErrorCode;

/**
 * IAM, addressed by ARN: the adapter derives the role name and picks the partition's global
 * endpoint from it. AccessDenied / NoSuchEntity on getRole become the snapshot's state; on the
 * other calls they are thrown as PodidErrors coded READ_DENIED / READ_NOT_FOUND so the caller can
 * record why a node role could not be judged.
 */
export interface IamPort {
  getRole(roleArn: string): Promise<RoleSnapshot>;
  /**
   * ListRoles, every page: each role of the caller's account in `partition`, judged as getRole
   * judges it (state `found`, the trust policy decoded or why it could not be). Each snapshot's
   * `arn` is the role's ARN as IAM returns it. AccessDenied is thrown coded READ_DENIED.
   */
  listRoles(partition: string): Promise<RoleSnapshot[]>;
  /**
   * GetAccountAuthorizationDetails (Filter Role), every page: as listRoles, and each snapshot
   * also has its `permissionsBoundary` (null when none), which ListRoles does not return.
   */
  listRoleDetails(partition: string): Promise<RoleSnapshot[]>;
  listAttachedRolePolicies(roleArn: string): Promise<AttachedPolicy[]>;
  listRolePolicies(roleArn: string): Promise<string[]>;
  getRolePolicy(roleArn: string, policyName: string): Promise<unknown>;
  /** GetPolicy, then GetPolicyVersion of its default version: the decoded document. */
  getPolicyDocument(policyArn: string): Promise<unknown>;
}

export interface CallerIdentity {
  account: string;
  arn: string;
}

export interface StsPort {
  getCallerIdentity(): Promise<CallerIdentity>;
}

/**
 * Runs one request (collect.ts passes its fleet limiter): a paginated list takes a slot per page,
 * not for the whole list, so lists and other calls share the bound fairly.
 */
export type RequestLimiter = <T>(request: () => Promise<T>) => Promise<T>;

/** One cluster's Kubernetes API. Each list is ONE paginated all-namespaces list. */
export interface KubePort {
  /** The context this port talks through (for messages). */
  readonly context: string;
  listServiceAccounts(each?: RequestLimiter): Promise<ServiceAccountObject[]>;
  listPods(each?: RequestLimiter): Promise<PodObject[]>;
  listDeployments(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listReplicaSets(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listStatefulSets(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listDaemonSets(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listJobs(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listCronJobs(each?: RequestLimiter): Promise<WorkloadObject[]>;
  listNodes(each?: RequestLimiter): Promise<NodeObject[]>;
}

/** Everything the collector reads through. EKS is regional; IAM and STS are not (for podid). */
export interface ScanPorts {
  sts: StsPort;
  iam: IamPort;
  eks(region: string): EksPort;
  kube(context: string): KubePort;
}

/** Kubernetes manifests for the offline scan: files, directories, `-` for stdin. */
export interface ManifestPort {
  /** Every document of every path, parsed; a file that does not parse is a ManifestProblem, not a throw. */
  read(paths: readonly string[]): Promise<ManifestDoc[]>;
}
