/**
 * The scan's result: a readonly, serialisable Inventory. `podid scan -o json` prints exactly
 * this (documented in docs/output.md, schemaVersion bumps on breaking change). With the
 * planning facts `analyzeFleet` records beside it (scan/planning.ts, never serialised) it is the
 * planner's only input. Every judgement is a Finding with a stable code (docs/findings.md).
 */
import type { Finding, Severity } from './findings.js';

export type { Finding, Severity };

export const INVENTORY_SCHEMA_VERSION = 1;

export type Verdict = 'ready' | 'ready-with-warnings' | 'blocked' | 'partial' | 'migrated';
export const VERDICTS: readonly Verdict[] = ['ready', 'ready-with-warnings', 'blocked', 'partial', 'migrated'];

export interface Inventory {
  schemaVersion: typeof INVENTORY_SCHEMA_VERSION;
  generatedAt: string;
  /** The podid version that produced it, when known. */
  toolVersion?: string;
  /** `live` (clusters through AWS and Kubernetes APIs) or `manifests` (files, offline). */
  source: 'live' | 'manifests';
  caller: { account: string; arn: string } | null;
  trustPolicyLimit: number;
  clusters: ClusterReport[];
  serviceAccounts: ServiceAccountReport[];
  addons: AddonReport[];
  /**
   * Findings about podid's inputs rather than any cluster, service account or add-on: a
   * manifest that cannot be parsed, an expired `.podid.yaml` entry that covers nothing.
   * Absent when there are none.
   */
  inputFindings?: Finding[];
  summary: InventorySummary;
}

export interface InventorySummary {
  clusters: number;
  serviceAccounts: number;
  addons: number;
  byVerdict: Record<Verdict, number>;
  findings: Record<Severity, number>;
}

export interface ClusterReport {
  arn: string;
  name: string;
  account: string;
  region: string;
  context: string | null;
  version: string;
  platformVersion: string;
  endpoint: string;
  oidcIssuer: string | null;
  autoMode: boolean;
  agent: {
    /** The eks-pod-identity-agent add-on, or Auto Mode's built-in agent. */
    source: 'addon' | 'auto-mode' | 'none';
    addonVersion: string | null;
    addonStatus: string | null;
    /** Linux (non-Fargate) nodes running a ready agent pod / Linux nodes. */
    nodesReady: number;
    nodesTotal: number;
  };
  associations: { count: number; quota: number };
  /**
   * Present (false) only for a cluster a fleet run could not scan: its one finding says why
   * (NOT_AN_EKS_CONTEXT, CLUSTER_UNREACHABLE, ...), its readiness is `blocked`, and the fields
   * podid could not learn are empty ('' / null / 0).
   */
  scanned?: false;
  /** Cluster-wide readiness: `blocked` when a cluster finding is an error. */
  readiness: 'ready' | 'ready-with-warnings' | 'blocked';
  findings: Finding[];
}

export interface RoleRef {
  /** The normalised ARN (trimmed), or the raw annotation when it is not an ARN. */
  arn: string;
  account: string | null;
  name: string | null;
  path: string | null;
  /** found / missing (NoSuchEntity) / unreadable (another account, AccessDenied) / invalid (not a role ARN). */
  state: 'found' | 'missing' | 'unreadable' | 'invalid';
  crossAccount: boolean;
}

export interface TrustReport {
  /** How this cluster's OIDC provider grants this SA: exact sub, wildcard sub, or not at all. */
  irsa: 'exact' | 'wildcard' | 'unconstrained' | 'none' | 'unknown';
  /** Indices of the statements granting it. */
  irsaStatements: number[];
  /** Whether a pods.eks.amazonaws.com statement admits this cluster. */
  podIdentity: 'admits-cluster' | 'other-clusters' | 'unconditioned' | 'none' | 'unknown';
  /** IAM length (no whitespace) now, and after podid adds the Pod Identity statement. */
  length: number | null;
  lengthAfter: number | null;
  limit: number;
}

export interface WorkloadReport {
  /** `ReplicaSet` only for one no Deployment owns; a Deployment's ReplicaSets count as the Deployment. */
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicaSet' | 'Pod';
  namespace: string;
  name: string;
  /** Running pods by the credentials the webhook gave them. */
  pods: { irsa: number; podIdentity: number; none: number };
  /** Where its pods run that Pod Identity cannot: Fargate, Windows. */
  runsOn: ('ec2' | 'fargate' | 'windows' | 'auto')[];
}

export interface ServiceAccountReport {
  cluster: string;
  namespace: string;
  name: string;
  /** The annotation's value exactly as written. */
  roleArn: string;
  role: RoleRef;
  annotations: { audience: string | null; stsRegionalEndpoints: string | null; tokenExpiration: string | null };
  trust: TrustReport;
  association: { state: 'none' | 'same-role' | 'other-role'; associationId: string | null; roleArn: string | null; ownerArn: string | null };
  workloads: WorkloadReport[];
  pods: { irsa: number; podIdentity: number; none: number };
  /** When the SA belongs to an EKS add-on that uses IRSA: migrate with UpdateAddon, not an association. */
  addon: string | null;
  verdict: Verdict;
  findings: Finding[];
  /** Manifests mode: where the annotation is. */
  location?: { file: string; line: number };
}

export interface AddonReport {
  cluster: string;
  name: string;
  version: string;
  serviceAccountRoleArn: string;
  /** The add-on's SA (from its podIdentityConfiguration), when known. */
  serviceAccount: string | null;
  supportsPodIdentity: boolean;
  verdict: Verdict;
  findings: Finding[];
}
