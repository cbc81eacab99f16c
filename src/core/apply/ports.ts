/**
 * What `podid migrate --apply` reads and writes through: the mutating EKS, IAM and Kubernetes
 * calls the executor makes, and the reads it needs to re-check a step's inputs, to read back
 * after a lost response, and to verify. Implemented over the AWS SDK (adapters/aws-write.ts)
 * and podid's Kubernetes client (adapters/kube-write.ts over kube-http.ts); unit tests hand in fakes.
 *
 * Adapters do NOT retry: every call is made once and a failure is thrown as an ApplyCallError
 * saying what kind of failure it was, so the executor alone decides whether to retry (throttling,
 * 5xx), to read back (a response lost after the request may have committed) or to give up —
 * a blind SDK retry of a create whose response was lost is exactly what must not happen.
 */
import { PodidError, type ErrorCode } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { EksAddonInfo } from '../ports.js';

/**
 * - `throttled`: 429 / Throttling: retry after a backoff.
 * - `server`: 5xx: retry after a backoff.
 * - `lost`: no answer (reset, timeout): the request may or may not have committed; read back.
 * - `conflict`: Kubernetes 409: retry after a fresh read.
 * - `in-use`: EKS ResourceInUseException (it exists, or it is busy).
 * - `not-found`, `denied`, `invalid`: final.
 * - `other`: final.
 */
export type CallFailureKind = 'throttled' | 'server' | 'lost' | 'conflict' | 'in-use' | 'not-found' | 'denied' | 'invalid' | 'other';

export class ApplyCallError extends PodidError {
  readonly kind: CallFailureKind;
  /** A server-given delay before retrying (Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(kind: CallFailureKind, code: ErrorCode, message: string, opts: { hint?: string; retryAfterMs?: number; cause?: unknown } = {}) {
    super(code, message, { ...(opts.hint !== undefined ? { hint: opts.hint } : {}), ...(opts.cause !== undefined ? { cause: opts.cause } : {}) });
    this.name = 'ApplyCallError';
    this.kind = kind;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export function failureKind(err: unknown): CallFailureKind {
  return err instanceof ApplyCallError ? err.kind : 'other';
}

export interface RoleTrust {
  arn: string;
  /** The decoded AssumeRolePolicyDocument. */
  document: JsonObject;
}

/** An IAM OIDC provider as GetOpenIDConnectProvider describes it: enough to create it again exactly. */
export interface OidcProviderRecord {
  arn: string;
  /** `https://<issuer host and path>` (IAM returns it without the scheme; the adapter adds it). */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: { key: string; value: string }[];
}

/** One role of a ListRoles page: its trust policy decoded, or null with why it could not be. */
export interface ListedRole {
  arn: string;
  document: JsonObject | null;
  error: string | null;
}

export interface IamApplyPort {
  /** GetRole: the role's trust policy, or null when the role does not exist. */
  getRole(roleArn: string): Promise<RoleTrust | null>;
  /** UpdateAssumeRolePolicy with this document (serialised as compact JSON). */
  updateAssumeRolePolicy(roleArn: string, document: JsonObject): Promise<void>;
  /**
   * One ListRoles page of the caller's account in `partition` (null marker: the first page); the
   * next marker, or null after the last page. A page that says it is truncated without a marker
   * is thrown as an error: podid never takes a partial listing for a whole one.
   */
  listRolesPage(partition: string, marker: string | null): Promise<{ roles: ListedRole[]; marker: string | null }>;
  /** GetOpenIDConnectProvider: null when there is no such provider. */
  getOidcProvider(arn: string): Promise<OidcProviderRecord | null>;
  /** DeleteOpenIDConnectProvider (finalize --delete-oidc-provider). */
  deleteOidcProvider(arn: string): Promise<void>;
  /**
   * CreateOpenIDConnectProvider (rollback of a deletion) with the record's URL, client IDs,
   * thumbprints and tags, in the partition of its ARN: the new provider's ARN. EntityAlreadyExists
   * is kind in-use.
   */
  createOidcProvider(provider: OidcProviderRecord): Promise<string>;
}

export interface AssociationRecord {
  associationId: string;
  associationArn: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  /**
   * With a targetRoleArn: the id EKS generated for the association, passed as sts:ExternalId when
   * it assumes the target role (the target's trust must require it). Otherwise null.
   */
  externalId: string | null;
  ownerArn: string | null;
  disableSessionTags: boolean;
  /** ISO 8601, when EKS reports it. */
  createdAt: string | null;
}

/** DescribeAddon as apply reads it: as the scan does, with the add-on's health issues. */
export interface AddonRecord extends EksAddonInfo {
  /** DescribeAddon's health issues, one line each. */
  issues: string[];
}

export interface CreateAssociationInput {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  /** Idempotency token: EKS returns the same association for a retried request with the same token. */
  clientRequestToken: string;
  tags: Record<string, string>;
}

/** EKS in one region. */
export interface EksApplyPort {
  /** Every association of namespace/serviceAccount (all pages), described. */
  findAssociations(cluster: string, namespace: string, serviceAccount: string): Promise<AssociationRecord[]>;
  describeAssociation(cluster: string, associationId: string): Promise<AssociationRecord | null>;
  createAssociation(cluster: string, input: CreateAssociationInput): Promise<AssociationRecord>;
  /** null when the add-on is not installed. */
  describeAddon(cluster: string, addon: string): Promise<AddonRecord | null>;
  createAddon(cluster: string, input: { addonName: string; addonVersion: string | null; clientRequestToken: string }): Promise<void>;
  /** `serviceAccountRoleArn`: absent leaves it; '' removes it (as EKS reads an empty string). */
  updateAddon(cluster: string, input: { addonName: string; podIdentityAssociations: { serviceAccount: string; roleArn: string }[]; serviceAccountRoleArn?: string; clientRequestToken: string }): Promise<void>;
  /** Every association of the cluster (ids only as listed; not described). Used by rollback before removing an agent. */
  listAssociationIds(cluster: string): Promise<string[]>;
  /** DeletePodIdentityAssociation (rollback); not-found is thrown as an ApplyCallError of kind not-found. */
  deleteAssociation(cluster: string, associationId: string): Promise<void>;
  /** DeleteAddon (rollback of an agent add-on the run installed). */
  deleteAddon(cluster: string, addonName: string): Promise<void>;
  /** DescribeCluster's OIDC issuer URL (null when the cluster has none). */
  clusterIssuer(cluster: string): Promise<string | null>;
}

export type RestartableKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The parts of a Deployment/StatefulSet/DaemonSet that rollout status and restarts read. */
export interface WorkloadState {
  kind: RestartableKind;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  /** spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] */
  restartedAt: string | null;
  /** spec.template.spec.serviceAccountName (the ServiceAccount its pods run as; `default` when unset). */
  serviceAccountName: string;
  /** spec.updateStrategy.type (StatefulSet, DaemonSet) or spec.strategy.type (Deployment). */
  strategy: string | null;
  /** spec.replicas (Deployment, StatefulSet); null for a DaemonSet. */
  replicas: number | null;
  /** spec.updateStrategy.rollingUpdate.partition (StatefulSet). */
  partition: number | null;
  /** spec.paused (Deployment, `kubectl rollout pause`); absent when not read. */
  paused?: boolean;
  status: {
    observedGeneration: number;
    replicas: number;
    updatedReplicas: number;
    readyReplicas: number;
    availableReplicas: number;
    /** StatefulSet */
    currentRevision: string | null;
    updateRevision: string | null;
    /** DaemonSet */
    desiredNumberScheduled: number;
    updatedNumberScheduled: number;
    numberAvailable: number;
    conditions: WorkloadCondition[];
  };
}

export interface PodState {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
  nodeName: string | null;
  phase: string;
  ready: boolean;
  /** Being deleted (metadata.deletionTimestamp set). */
  terminating: boolean;
  createdAt: string;
  /** Which credential env the webhook injected at creation. */
  identity: 'pod-identity' | 'irsa' | 'none';
  labels: Record<string, string>;
  /** The controller (ownerReference with controller: true), if any. */
  owner: { kind: string; name: string } | null;
  /** Why a pod is not running, when the kubelet or scheduler says (Unschedulable: ...). */
  waitingReason: string | null;
}

export interface NodeState {
  name: string;
  os: string;
  computeType: 'fargate' | 'auto' | 'ec2' | 'hybrid';
  nodegroup: string | null;
}

export interface ServiceAccountState {
  uid: string;
  resourceVersion: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

/** One cluster's Kubernetes API. */
export interface KubeApplyPort {
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountState | null>;
  getWorkload(kind: RestartableKind, namespace: string, name: string): Promise<WorkloadState | null>;
  /**
   * What `kubectl rollout restart` does: a strategic merge patch setting the pod-template
   * annotation kubectl.kubernetes.io/restartedAt to `restartedAt`.
   */
  restartWorkload(kind: RestartableKind, namespace: string, name: string, restartedAt: string): Promise<void>;
  /**
   * Rollback: sets the pod-template annotation kubectl.kubernetes.io/restartedAt back to its
   * previous value (null removes it), so the template is again exactly what it was.
   */
  setRestartedAt(kind: RestartableKind, namespace: string, name: string, restartedAt: string | null): Promise<void>;
  /** A merge patch of the ServiceAccount's annotations: a null value removes that annotation. */
  patchServiceAccountAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
  /** Pods of a namespace using one ServiceAccount. */
  listPods(namespace: string, serviceAccount: string): Promise<PodState[]>;
  /** The eks-pod-identity-agent pods (kube-system). */
  listAgentPods(): Promise<PodState[]>;
  listNodes(): Promise<NodeState[]>;
  // The verification probe (--verify-probe): a bare pod podid creates, watches, reads and deletes.
  /** POST the pod; resolves once created. */
  createPod?(namespace: string, manifest: JsonObject): Promise<void>;
  /** The pod's phase and its first container's exit code; null when it does not exist. */
  getPodRun?(namespace: string, name: string): Promise<PodRun | null>;
  /** GET .../pods/NAME/log (text). */
  readPodLog?(namespace: string, name: string): Promise<string>;
  /** DELETE the pod with gracePeriodSeconds=0; a pod already gone counts as deleted. */
  deletePod?(namespace: string, name: string): Promise<void>;
}

export interface PodRun {
  phase: string;
  exitCode: number | null;
  waitingReason: string | null;
}

export interface ApplyPorts {
  iam: IamApplyPort;
  eks(region: string): EksApplyPort;
  /** The Kubernetes API of a kubeconfig context. */
  kube(context: string): KubeApplyPort;
}

/** Time, passed in: unit tests use a fake clock and never sleep. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
