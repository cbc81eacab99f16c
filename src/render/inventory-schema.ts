/**
 * The `podid scan -o json|yaml` document, in zod: one source for the JSON Schema published in
 * docs/output.md (`INVENTORY_JSON_SCHEMA`), the copy of it the renderer projects through without
 * loading zod (inventory-json-schema.ts, `npm run gen:schema` writes both), and the tests that
 * validate real output. The type assertions at the bottom fail to compile when inventory.ts gains, loses or
 * retypes a field this schema does not: update both (and docs/output.md) together.
 */
import { z } from 'zod';
import { FINDING_CODES } from '../core/scan/findings.js';
import {
  INVENTORY_SCHEMA_VERSION, type AddonReport, type ClusterReport, type Finding, type Inventory, type InventorySummary, type RoleRef,
  type ServiceAccountReport, type TrustReport, type WorkloadReport,
} from '../core/scan/inventory.js';

const count = z.int().min(0);
const verdict = z.enum(['ready', 'ready-with-warnings', 'blocked', 'partial', 'migrated']).meta({ id: 'Verdict' });
const location = z.object({
  file: z.string().meta({ description: 'Path of the manifest, as given on the command line (relative paths stay relative).' }),
  line: z.int().min(1).meta({ description: '1-based line of the document or field.' }),
}).meta({ id: 'Location', description: 'Manifests mode: where it was found.' });

export const SuppressionSchema = z.object({
  reason: z.string().meta({ description: 'The allowlist entry\'s reason.' }),
  expires: z.string().meta({ description: 'The allowlist entry\'s expiry date (YYYY-MM-DD).' }),
}).meta({
  id: 'Suppression',
  description: 'Present when an unexpired .podid.yaml allowlist entry covers the finding; it then does not trip --fail-on.',
});

export const FindingSchema = z.object({
  code: z.enum(FINDING_CODES).meta({ description: 'Stable code (docs/findings.md), e.g. TRUST_POLICY_TOO_LARGE.' }),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string().meta({ description: 'What was found, in one sentence.' }),
  fix: z.string().meta({ description: 'How to fix it or proceed.' }),
  location: location.optional(),
  suppressed: SuppressionSchema.optional(),
}).meta({ id: 'Finding', description: 'One judgement of the scan, with a stable code.' });

const pods = z.object({
  irsa: count.meta({ description: 'Running pods with IRSA credentials (AWS_WEB_IDENTITY_TOKEN_FILE).' }),
  podIdentity: count.meta({ description: 'Running pods with Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI).' }),
  none: count.meta({ description: 'Running pods with neither (started before the annotation, or opted out).' }),
}).meta({ id: 'Pods', description: 'Running pods by the credentials the webhook gave them.' });

export const ClusterSchema = z.object({
  arn: z.string().meta({ description: 'Cluster ARN; service accounts and add-ons refer to it in `cluster`.' }),
  name: z.string(),
  account: z.string(),
  region: z.string(),
  context: z.string().nullable().meta({ description: 'The kubeconfig context scanned, if any.' }),
  version: z.string().meta({ description: 'Kubernetes version, e.g. 1.29.' }),
  platformVersion: z.string().meta({ description: 'EKS platform version, e.g. eks.8.' }),
  endpoint: z.string(),
  oidcIssuer: z.string().nullable(),
  autoMode: z.boolean(),
  agent: z.object({
    source: z.enum(['addon', 'auto-mode', 'none']).meta({ description: 'The eks-pod-identity-agent add-on, Auto Mode\'s built-in agent, or none.' }),
    addonVersion: z.string().nullable(),
    addonStatus: z.string().nullable(),
    nodesReady: count.meta({ description: 'Linux (non-Fargate) nodes running a ready agent pod.' }),
    nodesTotal: count.meta({ description: 'Linux (non-Fargate) nodes.' }),
  }),
  associations: z.object({ count, quota: count }).meta({ description: 'Pod Identity associations in the cluster and the quota (1,000).' }),
  scanned: z.literal(false).optional().meta({ description: 'Present (false) only for a cluster a fleet run could not scan; its finding says why.' }),
  readiness: z.enum(['ready', 'ready-with-warnings', 'blocked']).meta({ description: '`blocked` when a cluster finding is an error.' }),
  findings: z.array(FindingSchema),
}).meta({ id: 'Cluster', description: 'A scanned cluster and its readiness for Pod Identity.' });

const role = z.object({
  arn: z.string().meta({ description: 'The normalised (trimmed) ARN, or the raw annotation when it is not an ARN.' }),
  account: z.string().nullable(),
  name: z.string().nullable(),
  path: z.string().nullable(),
  state: z.enum(['found', 'missing', 'unreadable', 'invalid']).meta({
    description: 'found; missing (NoSuchEntity); unreadable (another account, AccessDenied); invalid (not a role ARN).',
  }),
  crossAccount: z.boolean().meta({ description: 'The role\'s account is not the cluster\'s.' }),
}).meta({ id: 'Role', description: 'The IAM role the annotation names.' });

const trust = z.object({
  irsa: z.enum(['exact', 'wildcard', 'unconstrained', 'none', 'unknown']).meta({ description: 'How this cluster\'s OIDC provider grants this SA.' }),
  irsaStatements: z.array(count).meta({ description: 'Indices of the statements granting it.' }),
  podIdentity: z.enum(['admits-cluster', 'other-clusters', 'unconditioned', 'none', 'unknown']).meta({
    description: 'Whether a pods.eks.amazonaws.com statement admits this cluster.',
  }),
  length: count.nullable().meta({ description: 'Trust policy length as IAM counts it (no whitespace).' }),
  lengthAfter: count.nullable().meta({ description: 'Length after podid adds the Pod Identity statement.' }),
  limit: count.meta({ description: 'The limit compared against (--trust-policy-limit).' }),
}).meta({ id: 'Trust', description: 'What the role\'s trust policy grants this SA.' });

const workload = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicaSet', 'Pod']).meta({
    description: 'The owning workload; ReplicaSet only for one no Deployment owns.',
  }),
  namespace: z.string(),
  name: z.string(),
  pods,
  runsOn: z.array(z.enum(['ec2', 'fargate', 'windows', 'auto'])).meta({ description: 'Where its pods run; Pod Identity does not work on Fargate or Windows.' }),
}).meta({ id: 'Workload', description: 'A workload whose pods use the service account.' });

export const ServiceAccountSchema = z.object({
  cluster: z.string().meta({ description: 'Cluster ARN (manifests mode: empty unless --cluster is given).' }),
  namespace: z.string(),
  name: z.string(),
  roleArn: z.string().meta({ description: 'The eks.amazonaws.com/role-arn annotation exactly as written.' }),
  role,
  annotations: z.object({
    audience: z.string().nullable(),
    stsRegionalEndpoints: z.string().nullable(),
    tokenExpiration: z.string().nullable(),
  }).meta({ description: 'The other IRSA annotations (eks.amazonaws.com/audience, sts-regional-endpoints, token-expiration).' }),
  trust,
  association: z.object({
    state: z.enum(['none', 'same-role', 'other-role']),
    associationId: z.string().nullable(),
    roleArn: z.string().nullable(),
    ownerArn: z.string().nullable(),
  }).meta({ description: 'The Pod Identity association for this SA, if any; other-role is a conflict.' }),
  workloads: z.array(workload),
  pods: pods.meta({ description: 'Totals over the workloads.' }),
  addon: z.string().nullable().meta({ description: 'The EKS add-on owning this SA (migrated with UpdateAddon), or null.' }),
  verdict: verdict.meta({
    description: 'ready, ready-with-warnings, blocked, partial (association exists, pods still on IRSA), migrated (every running pod on Pod Identity).',
  }),
  findings: z.array(FindingSchema),
  location: location.optional(),
}).meta({ id: 'ServiceAccount', description: 'A service account with an eks.amazonaws.com/role-arn annotation.' });

export const AddonSchema = z.object({
  cluster: z.string().meta({ description: 'Cluster ARN.' }),
  name: z.string(),
  version: z.string(),
  serviceAccountRoleArn: z.string(),
  serviceAccount: z.string().nullable().meta({ description: 'The add-on\'s service account, when its podIdentityConfiguration names it.' }),
  supportsPodIdentity: z.boolean(),
  verdict,
  findings: z.array(FindingSchema),
}).meta({ id: 'Addon', description: 'An EKS add-on using IRSA through serviceAccountRoleArn.' });

const byVerdict = z.object({
  ready: count,
  'ready-with-warnings': count,
  blocked: count,
  partial: count,
  migrated: count,
});

export const SummarySchema = z.object({
  clusters: count,
  serviceAccounts: count,
  addons: count,
  byVerdict: byVerdict.meta({ description: 'Service accounts per verdict.' }),
  findings: z.object({ error: count, warning: count, info: count }).meta({ description: 'Findings per severity, suppressed ones included.' }),
}).meta({ id: 'Summary', description: 'Counts over the whole inventory.' });

export const InventorySchema = z.object({
  schemaVersion: z.literal(INVENTORY_SCHEMA_VERSION).meta({ description: 'Bumped on a breaking change to this document.' }),
  generatedAt: z.string().meta({ description: 'When the scan ran (RFC 3339, UTC).' }),
  toolVersion: z.string().optional().meta({ description: 'The podid version that produced it, when known.' }),
  source: z.enum(['live', 'manifests']).meta({ description: 'live: clusters through the AWS and Kubernetes APIs; manifests: files, offline.' }),
  caller: z.object({ account: z.string(), arn: z.string() }).nullable().meta({ description: 'The AWS identity that scanned (null offline).' }),
  trustPolicyLimit: count,
  clusters: z.array(ClusterSchema),
  serviceAccounts: z.array(ServiceAccountSchema).meta({ description: 'Every service account with an eks.amazonaws.com/role-arn annotation.' }),
  addons: z.array(AddonSchema).meta({ description: 'EKS add-ons with a serviceAccountRoleArn: migrated with UpdateAddon.' }),
  inputFindings: z.array(FindingSchema).optional().meta({
    description: 'Findings about the inputs, not about a cluster, service account or add-on: unreadable manifests, expired .podid.yaml entries that cover nothing.',
  }),
  summary: SummarySchema,
}).meta({
  title: 'podid scan inventory',
  description: 'The output of `podid scan -o json` (and -o yaml), schemaVersion 1.',
});

export type InventoryDocument = z.infer<typeof InventorySchema>;

/** The JSON Schema (draft 2020-12) of the document, as published in docs/output.md. */
export const INVENTORY_JSON_SCHEMA = z.toJSONSchema(InventorySchema, { target: 'draft-2020-12' });

/** The document for an inventory: keys in the documented order, nothing outside the schema. */
export function toInventoryDocument(inv: Inventory): InventoryDocument {
  return InventorySchema.parse(inv);
}

// ---- compile-time drift checks between inventory.ts and this schema ----
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Assert<T extends true> = T;
/** Both sides flattened, so `A & B` and the equivalent single object type compare equal. */
type Flat<T> = { [K in keyof T]: T[K] };
type Same<S extends z.ZodType, T> = Equals<Flat<z.infer<S>>, Flat<T>>;
/** For mapped types (Record<Verdict, number>), which Equals tells apart from the same literal object type. */
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? Equals<keyof A, keyof B> : false) : false;

/**
 * Never imported: exported so the compiler (noUnusedLocals) keeps checking it; it fails the
 * type-check when the schema and inventory.ts drift apart.
 * @public
 */
export type SchemaMatchesInventory = [
  Assert<Same<typeof FindingSchema, Finding>>,
  Assert<Same<typeof role, RoleRef>>,
  Assert<Same<typeof trust, TrustReport>>,
  Assert<Same<typeof workload, WorkloadReport>>,
  Assert<SameShape<z.infer<typeof SummarySchema>, InventorySummary>>,
  Assert<SameShape<z.infer<typeof SummarySchema>['byVerdict'], InventorySummary['byVerdict']>>,
  Assert<Equals<Omit<z.infer<typeof ClusterSchema>, 'findings'>, Omit<ClusterReport, 'findings'>>>,
  Assert<Equals<Omit<z.infer<typeof ServiceAccountSchema>, 'findings' | 'role' | 'trust' | 'workloads'>, Omit<ServiceAccountReport, 'findings' | 'role' | 'trust' | 'workloads'>>>,
  Assert<Equals<Omit<z.infer<typeof AddonSchema>, 'findings'>, Omit<AddonReport, 'findings'>>>,
  Assert<Equals<Omit<InventoryDocument, 'clusters' | 'serviceAccounts' | 'addons' | 'summary'>, Omit<Inventory, 'clusters' | 'serviceAccounts' | 'addons' | 'summary'>>>,
];
