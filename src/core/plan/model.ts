/**
 * The migration plan is data: a versioned, serialisable document (`podid migrate --dry-run
 * --out plan.json`) that the renderers show, Terraform export reads, and `podid migrate
 * --apply` executes step by step. Every step carries a fingerprint of the inputs it was planned
 * from, so apply can refuse a stale plan (Terraform's "saved plan is stale").
 */
import type { JsonObject } from '../json.js';
import type { RoleAccess } from '../policy/access.js';
import type { Finding } from '../scan/inventory.js';

export type { RoleAccess } from '../policy/access.js';

/**
 * 2: the Pod Identity statement is scoped by session tags per service account (`subjects`,
 * `added`/`extended` instead of `change`/`statementIndex`), trust steps store who can assume the
 * role before and after (`access`), clusters name their OIDC provider, and cross-account
 * associations are marked as two-phase.
 */
export const PLAN_SCHEMA_VERSION = 2;
export const PLAN_KIND = 'podid-migration-plan';

export interface MigrationPlan {
  kind: typeof PLAN_KIND;
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  createdAt: string;
  toolVersion: string;
  /** The identity the plan was made with; apply warns when it differs. */
  caller: { account: string; arn: string };
  options: PlanOptions;
  clusters: PlanCluster[];
  /**
   * The selected clusters a fleet run could not scan (unreachable, denied, not EKS, ...): nothing
   * of theirs is in the plan. Empty when every cluster was scanned.
   */
  unscanned: UnscannedPlanCluster[];
  /** In execution order: agent installs, trust updates, associations, add-on updates, restart batches. */
  steps: PlanStep[];
  /** What the plan will not do, and why. */
  blocked: BlockedItem[];
  /** Workloads podid cannot restart (bare Pods, running Jobs) or need not (CronJobs), with advice. */
  manual: ManualItem[];
  summary: PlanSummary;
}

export interface PlanOptions {
  installAgent: boolean;
  restart: boolean;
  maxConcurrentRollouts: number;
  crossAccountSourceRole: string | null;
  /** The selection the plan was made for (scan flags plus --role). */
  selection: { contexts: string[]; namespaces: string[]; serviceAccounts: string[]; roles: string[] };
  trustPolicyLimit: number;
}

export interface PlanCluster {
  arn: string;
  name: string;
  account: string;
  region: string;
  context: string | null;
  endpoint: string;
  /** The cluster's IAM OIDC provider ARN (what IRSA trust policies name), or null without an issuer. */
  oidcProvider: string | null;
}

/** A cluster the plan does not cover because the scan could not read it. */
export interface UnscannedPlanCluster {
  /** The kubeconfig context. */
  context: string;
  /** The EKS cluster name when podid could tell it from the context, else the context's name. */
  name: string;
  /** The region, when known; else ''. */
  region: string;
  /** Why: the cluster-level error finding (CLUSTER_UNREACHABLE, CLUSTER_ACCESS_DENIED, NOT_AN_EKS_CONTEXT, ...). */
  reasons: Finding[];
}

/** sha256 (hex) of the canonical JSON of the input a step depends on. */
export type Fingerprint = string;

interface StepBase {
  /** Stable within a plan: `trust:<roleArn>`, `assoc:<clusterArn>/<ns>/<sa>`, ... */
  id: string;
  /** Steps that must succeed first. */
  dependsOn: string[];
}

/** CreateAddon eks-pod-identity-agent (only with --install-agent). */
export interface InstallAgentStep extends StepBase {
  kind: 'install-agent';
  cluster: string;
  addonName: 'eks-pod-identity-agent';
  /** null: the default version EKS picks for the cluster. */
  addonVersion: string | null;
  /** Fingerprint of "the add-on is absent". */
  fingerprint: Fingerprint;
}

/** One ServiceAccount admitted through Pod Identity. */
export interface TrustSubject {
  /** Cluster ARN. */
  cluster: string;
  namespace: string;
  serviceAccount: string;
}

/**
 * UpdateAssumeRolePolicy: add (or extend) pods.eks.amazonaws.com statements scoped by session
 * tags to exactly `subjects`; nothing else changes.
 */
export interface UpdateTrustStep extends StepBase {
  kind: 'update-trust';
  roleArn: string;
  roleName: string;
  /** Cluster ARNs of `subjects`. */
  clusters: string[];
  /** The service accounts this change newly admits through Pod Identity (sorted). */
  subjects: TrustSubject[];
  /**
   * `irsa`: each subject's IRSA twin is admitted by `before`. `cross-account-source`: the role is
   * the --cross-account-source-role; the subjects are the cross-account service accounts whose
   * associations chain through it (their IRSA trust is the target role's).
   */
  basis: 'irsa' | 'cross-account-source';
  /** Indexes in `after.Statement` of the statements appended. */
  added: number[];
  /** Indexes of existing statements extended (same index in `before` and `after`). */
  extended: number[];
  before: JsonObject;
  after: JsonObject;
  /** Who can assume the role before and after: recomputed from `before` and `after` when a plan is loaded. */
  access: { before: RoleAccess; after: RoleAccess };
  lengthBefore: number;
  lengthAfter: number;
  limit: number;
  /** Fingerprint of `before` (the trust policy as read). */
  fingerprint: Fingerprint;
}

/** CreatePodIdentityAssociation for one ServiceAccount. */
export interface CreateAssociationStep extends StepBase {
  kind: 'create-association';
  cluster: string;
  namespace: string;
  serviceAccount: string;
  /** The role the association names: the SA's role, or for cross-account the same-account source role. */
  roleArn: string;
  /** Cross-account role chaining: the SA's role in the other account. */
  targetRoleArn: string | null;
  /** The IRSA annotation's value, for review. */
  annotationRoleArn: string;
  /**
   * Cross-account only: what podid cannot apply in the other account and shows for review —
   * the statement the target role's trust policy needs (the source role may assume and tag it,
   * only with this association's `sts:ExternalId`), and the permission the source role needs
   * (sts:AssumeRole + sts:TagSession on the target).
   */
  crossAccount: CrossAccountChain | null;
  /**
   * `single`: done when the association exists. `two-phase` (cross-account): the association's
   * externalId exists only once EKS creates it; the target role's trust statement
   * (`crossAccount.targetTrustStatement`) can be written only after, with that value.
   */
  phases: 'single' | 'two-phase';
  /** Fingerprint of: no association for ns/sa, and the SA's resourceVersion. */
  fingerprint: Fingerprint;
}

export interface CrossAccountChain {
  /**
   * Its `Condition.StringEquals["sts:ExternalId"]` is {@link externalIdPlaceholder}: EKS
   * generates the association's externalId when it creates the association, so the plan can
   * only name it. Replace it with the real value before applying the statement.
   */
  targetTrustStatement: JsonObject;
  sourcePermissionStatement: JsonObject;
  /** The placeholder standing for the association's externalId in `targetTrustStatement`. */
  externalIdPlaceholder: string;
}

/** UpdateAddon with podIdentityAssociations (add-ons cannot adopt associations). */
export interface UpdateAddonStep extends StepBase {
  kind: 'update-addon';
  cluster: string;
  addonName: string;
  addonVersion: string;
  podIdentityAssociations: { serviceAccount: string; roleArn: string }[];
  before: { serviceAccountRoleArn: string | null; podIdentityAssociations: string[] };
  /** Fingerprint of the add-on's version, IRSA role and owned associations. */
  fingerprint: Fingerprint;
}

export interface RolloutTarget {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  name: string;
  /** The ServiceAccounts whose association this restart applies. */
  serviceAccounts: string[];
}

/** Restart a batch of workloads (pod-template annotation kubectl.kubernetes.io/restartedAt). */
export interface RestartBatchStep extends StepBase {
  kind: 'restart-batch';
  cluster: string;
  /** 1-based batch number within the cluster. */
  batch: number;
  workloads: RolloutTarget[];
  /**
   * Fingerprint of the workloads' identity (uid) — a deleted-and-recreated workload is a
   * different one — and of the existing association (id, roleArn, targetRoleArn) of every
   * served service account whose association the plan does not create itself.
   */
  fingerprint: Fingerprint;
}

export type PlanStep = InstallAgentStep | UpdateTrustStep | CreateAssociationStep | UpdateAddonStep | RestartBatchStep;

export interface BlockedItem {
  /** What is blocked: a ServiceAccount, an add-on, a role, or a whole cluster. */
  target:
    | { kind: 'service-account'; cluster: string; namespace: string; name: string; roleArn: string }
    | { kind: 'addon'; cluster: string; name: string }
    | { kind: 'role'; roleArn: string }
    | { kind: 'cluster'; cluster: string };
  reasons: Finding[];
}

export interface ManualItem {
  cluster: string;
  kind: 'Pod' | 'Job' | 'CronJob' | 'ReplicaSet' | 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  name: string;
  serviceAccount: string;
  /** What the user should do: recreate the Pod, let the Job finish and rerun, nothing for CronJobs... */
  advice: string;
}

export interface PlanSummary {
  agentsToInstall: number;
  rolesToUpdate: number;
  associationsToCreate: number;
  addonsToUpdate: number;
  workloadsToRestart: number;
  blocked: number;
  manual: number;
}
