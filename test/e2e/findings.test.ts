/**
 * Every finding code of the catalogue, end to end: the built `podid` (in-process,
 * helpers/podid.ts) against the sandbox (over HTTP) on worlds built to produce them (test/fixtures/finding-worlds/), and `podid scan
 * --manifests` over a fixture repository. A few runs collect the findings, one table says
 * which run must report which code on which cluster, service account, add-on or plan item,
 * and a last test keeps the table in step with the catalogue: a new code must get a world here
 * or a reason in EXCLUDED.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreatePodIdentityAssociationCommand, EKSClient, UpdateAddonCommand } from '@aws-sdk/client-eks';
import { GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import { FINDING_CODES, FINDINGS, type FindingCode } from '../../src/core/scan/findings.js';
import type { Finding, Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const WORLDS = join(ROOT, 'test/fixtures/finding-worlds');
const world = (file: string) => readFileSync(join(WORLDS, file), 'utf8');

/**
 * Codes no world can produce end to end, each with the reason. Keep it short: a code belongs
 * here only when neither the sandbox nor a real-looking input can trigger it.
 */
const EXCLUDED: Readonly<Partial<Record<FindingCode, string>>> = {
  // The world file only accepts `version: "<major>.<minor>"` and `platformVersion: eks.<n>`
  // (world-schema.ts), which podid can always compare; only an unexpected DescribeCluster
  // answer from real EKS yields it (unit-tested in test/unit/analyze-cluster.test.ts).
  CLUSTER_VERSION_UNKNOWN: 'the sandbox world schema admits only versions podid can compare',
  // podid's own trust edit always passes its own no-widening proof; the proof itself refusing a
  // widened document is unit-tested (test/unit/plan-validate.test.ts, trust-boundary tests).
  TRUST_WIDENING_REFUSED: "podid's own edits never widen; only a bug would produce it",
  // Clusters a fleet run could not scan: NOT_AN_EKS_CONTEXT, CLUSTER_UNREACHABLE and
  // CLUSTER_NOT_FOUND are produced end to end in test/e2e/fleet.test.ts (a kubeconfig of its own).
  NOT_AN_EKS_CONTEXT: 'produced end to end in test/e2e/fleet.test.ts',
  CLUSTER_UNREACHABLE: 'produced end to end in test/e2e/fleet.test.ts',
  CLUSTER_NOT_FOUND: 'produced end to end in test/e2e/fleet.test.ts',
  KUBECONFIG_ENTRY_INVALID: 'produced end to end in test/e2e/fleet.test.ts',
  // The sandbox's faults and caller permissions apply to every cluster alike, so a fleet with
  // one denied, throttled or failing cluster is built from in-memory ports instead
  // (test/unit/collect-fleet-degrade.test.ts); a context another selected context deduplicates
  // is never compared with its cluster's endpoint, so the mismatch is proven in
  // test/sandbox/collect.test.ts.
  CLUSTER_ACCESS_DENIED: 'per-cluster denial: test/unit/collect-fleet-degrade.test.ts',
  CLUSTER_THROTTLED: 'per-cluster throttling: test/unit/collect-fleet-degrade.test.ts',
  CLUSTER_SCAN_FAILED: 'per-cluster failure: test/unit/collect-fleet-degrade.test.ts',
  CLUSTER_ENDPOINT_MISMATCH: 'test/sandbox/collect.test.ts (the snapshot) and analyze: test/unit/collect-fleet-degrade.test.ts',
};

/** The runs whose output the table below reads. */
type Run =
  | 'scan:service-accounts'
  | 'plan:service-accounts'
  | 'plan:service-accounts:source-role'
  | 'plan:service-accounts:shared-source'
  | 'plan:service-accounts:open-source'
  | 'scan:clusters'
  | 'plan:clusters'
  | 'scan:china'
  | 'scan:restricted'
  | 'scan:manifests'
  | 'scan:peer'
  | 'scan:peer:listing'
  | 'scan:peer:listroles'
  | 'scan:example';

/**
 * Which run reports which code where. Targets: `cluster:NAME`, `sa:CLUSTER/NS/NAME` (a
 * manifests scan has no cluster: `sa:NS/NAME`), `addon:CLUSTER/NAME`, `input` (a manifests
 * scan's inputFindings); in a plan, the blocked item's target with the same keys.
 */
const EXPECTED: readonly (readonly [FindingCode, Run, string])[] = [
  // --- cluster readiness (clusters.yaml, china.yaml, restricted.yaml)
  ['CLUSTER_VERSION_UNSUPPORTED', 'scan:clusters', 'cluster:old-k8s'],
  ['CLUSTER_PLATFORM_VERSION_UNSUPPORTED', 'scan:clusters', 'cluster:stale-platform'],
  ['CLUSTER_REGION_UNSUPPORTED', 'scan:china', 'cluster:beijing'],
  ['CLUSTER_NO_OIDC_ISSUER', 'scan:clusters', 'cluster:no-oidc'],
  ['CLUSTER_NOT_ACTIVE', 'scan:clusters', 'cluster:upgrading'],
  ['AGENT_MISSING', 'scan:clusters', 'cluster:no-agent'],
  ['AGENT_MISSING', 'scan:clusters', 'cluster:auto-mixed'],
  ['AGENT_NOT_ACTIVE', 'scan:clusters', 'cluster:agent-degraded'],
  ['AGENT_NOT_READY', 'scan:clusters', 'cluster:agent-gap'],
  ['POD_IDENTITY_PODS_WITHOUT_AGENT', 'scan:clusters', 'cluster:stranded'],
  ['NODE_ROLE_MISSING_PERMISSION', 'scan:clusters', 'cluster:weak-node-role'],
  ['NODE_ROLE_UNCHECKED', 'scan:restricted', 'cluster:locked'],
  ['ASSOCIATION_QUOTA_EXCEEDED', 'scan:clusters', 'cluster:full'],
  ['CLUSTER_BLOCKED', 'scan:clusters', 'sa:old-k8s/app/api'],
  ['CLUSTER_HAS_WARNINGS', 'scan:clusters', 'sa:no-agent/app/api'],
  // --- the role ARN as written (service-accounts.yaml)
  ['ARN_WHITESPACE', 'scan:service-accounts', 'sa:prod/arn/whitespace'],
  ['ARN_NOT_AN_ARN', 'scan:service-accounts', 'sa:prod/arn/bare-name'],
  ['ARN_MALFORMED', 'scan:service-accounts', 'sa:prod/arn/malformed'],
  ['ARN_NOT_A_ROLE', 'scan:service-accounts', 'sa:prod/arn/user-arn'],
  ['ARN_BAD_ACCOUNT', 'scan:service-accounts', 'sa:prod/arn/short-account'],
  ['ARN_BAD_NAME', 'scan:service-accounts', 'sa:prod/arn/bad-name'],
  ['ARN_PARTITION_MISMATCH', 'scan:service-accounts', 'sa:prod/arn/wrong-partition'],
  ['ARN_HAS_PATH', 'scan:service-accounts', 'sa:prod/arn/with-path'],
  // --- the role and its trust policy
  ['ROLE_NOT_FOUND', 'scan:service-accounts', 'sa:prod/roles/ghost'],
  ['ROLE_UNREADABLE', 'scan:restricted', 'sa:locked/app/api'],
  ['ROLE_CROSS_ACCOUNT', 'scan:service-accounts', 'sa:prod/roles/exporter'],
  ['TRUST_POLICY_INVALID', 'scan:service-accounts', 'sa:prod/roles/broken-trust'],
  ['TRUST_NO_IRSA_GRANT', 'scan:service-accounts', 'sa:prod/trust/not-granted'],
  ['TRUST_NO_IRSA_GRANT', 'scan:clusters', 'sa:no-oidc/app/api'],
  ['TRUST_IRSA_WILDCARD', 'scan:service-accounts', 'sa:prod/trust/wildcard'],
  ['TRUST_IRSA_UNCONSTRAINED', 'scan:service-accounts', 'sa:prod/trust/unconstrained'],
  ['TRUST_POD_IDENTITY_PRESENT', 'scan:service-accounts', 'sa:prod/trust/dual'],
  // dual's Pod Identity statement pins the cluster only: every service account of it.
  ['TRUST_POD_IDENTITY_BROAD', 'scan:service-accounts', 'sa:prod/trust/dual'],
  ['TRUST_POD_IDENTITY_OTHER_CLUSTERS', 'scan:service-accounts', 'sa:prod/trust/other-cluster'],
  ['TRUST_POD_IDENTITY_SOURCE_ARN', 'scan:service-accounts', 'sa:prod/trust/source-arn'],
  ['TRUST_POD_IDENTITY_UNCONDITIONED', 'scan:service-accounts', 'sa:prod/trust/eksctl'],
  ['TRUST_POD_IDENTITY_DENIED', 'scan:service-accounts', 'sa:prod/trust/denied'],
  ['TRUST_POD_IDENTITY_DENIED', 'scan:service-accounts', 'sa:prod/trust/org-guard'],
  ['TRUST_NOT_PRINCIPAL_ALLOW', 'scan:service-accounts', 'sa:prod/trust/not-principal'],
  ['TRUST_POLICY_TOO_LARGE', 'scan:service-accounts', 'sa:prod/trust/crowded'],
  // --- associations
  ['ASSOCIATION_EXISTS', 'scan:service-accounts', 'sa:prod/assoc/same-role'],
  // app's trust has no Pod Identity statement: the association gives its pods nothing.
  ['ASSOCIATION_TRUST_MISSING', 'scan:service-accounts', 'sa:prod/assoc/same-role'],
  ['ASSOCIATION_CONFLICT', 'scan:service-accounts', 'sa:prod/assoc/other-role'],
  ['ASSOCIATION_SESSION_TAGS_DISABLED', 'scan:service-accounts', 'sa:prod/assoc/no-tags'],
  ['ASSOCIATION_SESSION_TAGS_DISABLED', 'plan:service-accounts', 'sa:prod/assoc/no-tags'],
  // --- workloads and pods
  ['WORKLOAD_ON_FARGATE', 'scan:service-accounts', 'sa:prod/batch/etl'],
  ['WORKLOAD_ON_WINDOWS', 'scan:service-accounts', 'sa:prod/windows/reporter'],
  ['POD_NOT_RESTARTABLE', 'scan:service-accounts', 'sa:prod/tools/debug'],
  ['JOB_RUNNING', 'scan:service-accounts', 'sa:prod/jobs/backfill'],
  ['SA_NO_PODS', 'scan:service-accounts', 'sa:prod/idle/unused'],
  ['PODS_NEED_RESTART', 'scan:clusters', 'sa:no-agent/app/api'],
  ['PODS_WITHOUT_CREDENTIALS', 'scan:clusters', 'sa:no-oidc/app/api'],
  // --- the other IRSA annotations
  ['ANNOTATION_AUDIENCE', 'scan:service-accounts', 'sa:prod/annotations/legacy-client'],
  ['ANNOTATION_STS_REGIONAL_ENDPOINTS', 'scan:service-accounts', 'sa:prod/annotations/legacy-client'],
  ['ANNOTATION_TOKEN_EXPIRATION', 'scan:service-accounts', 'sa:prod/annotations/legacy-client'],
  // --- add-ons
  ['ADDON_SERVICE_ACCOUNT', 'scan:service-accounts', 'sa:prod/kube-system/aws-node'],
  ['ADDON_VERSION_UNSUPPORTED', 'scan:service-accounts', 'addon:prod/aws-ebs-csi-driver'],
  ['ADDON_VERSION_UNSUPPORTED', 'scan:service-accounts', 'sa:prod/kube-system/ebs-csi-controller-sa'],
  ['ADDON_NOT_ACTIVE', 'scan:service-accounts', 'addon:prod/aws-efs-csi-driver'],
  ['ADDON_MIGRATED', 'scan:service-accounts', 'addon:prod/amazon-cloudwatch-observability'],
  // --- the migration plan's own reasons (podid migrate --dry-run -o json, blocked[])
  ['AGENT_REQUIRED', 'plan:clusters', 'sa:no-agent/app/api'],
  ['ASSOCIATION_QUOTA_FULL', 'plan:clusters', 'sa:full/app/api'],
  ['CROSS_ACCOUNT_SOURCE_ROLE_REQUIRED', 'plan:service-accounts', 'sa:prod/roles/exporter'],
  ['CROSS_ACCOUNT_SOURCE_ROLE_UNUSABLE', 'plan:service-accounts:source-role', 'sa:prod/roles/exporter'],
  ['ADDON_ROLE_CROSS_ACCOUNT', 'plan:service-accounts', 'addon:prod/aws-mountpoint-s3-csi-driver'],
  ['CROSS_ACCOUNT_SOURCE_ROLE_SHARED', 'plan:service-accounts:shared-source', 'sa:prod/roles/exporter'],
  ['CROSS_ACCOUNT_SOURCE_ROLE_OPEN', 'plan:service-accounts:open-source', 'sa:prod/roles/exporter'],
  ['TRUST_IRSA_NOT_PROVEN', 'plan:service-accounts', 'sa:prod/trust/not-granted'],
  ['ADDON_SERVICE_ACCOUNT_AMBIGUOUS', 'plan:service-accounts', 'addon:prod/adot'],
  // --- what the nearest peer tool reports too (peer.yaml)
  ['SA_DEFAULT_ANNOTATED', 'scan:peer', 'sa:prod/shared/default'],
  ['SA_DEFAULT_ANNOTATED', 'scan:manifests', 'sa:shop/default'],
  ['SA_ANNOTATION_MANAGED', 'scan:peer', 'sa:prod/crossplane-system/provider-aws-s3-8f2a1c'],
  ['SA_ANNOTATION_MANAGED', 'scan:peer', 'sa:prod/kube-system/karpenter'],
  ['ROLE_PERMISSIONS_BOUNDARY', 'scan:peer', 'sa:prod/roles/bounded'],
  // More than 25 roles: read in one listing (GetAccountAuthorizationDetails), boundary included;
  // with that denied, ListRoles, and a note that boundaries are unknown.
  ['ROLE_PERMISSIONS_BOUNDARY', 'scan:peer:listing', 'sa:prod/roles/bounded'],
  ['ROLE_BOUNDARIES_UNKNOWN', 'scan:peer:listroles', 'input'],
  ['TRUST_MIXED_PRINCIPAL', 'scan:peer', 'sa:prod/trust/mixed'],
  ['TRUST_OTHER_OIDC_PROVIDER', 'scan:peer', 'sa:prod/trust/foreign-provider'],
  ['TRUST_SUB_SET_OPERATOR', 'scan:peer', 'sa:prod/trust/set-operator'],
  ['TRUST_IRSA_MULTIPLE_SUBJECTS', 'scan:peer', 'sa:prod/trust/multi-sub'],
  ['POD_CUSTOM_TOKEN_FILE', 'scan:peer', 'sa:prod/pods/hand-wired'],
  // --- manifests mode and the allowlist (manifests/, allowlist.yaml)
  ['IRSA_ANNOTATION', 'scan:manifests', 'sa:shop/api'],
  ['IRSA_HAND_WIRED', 'scan:manifests', 'sa:shop/worker'],
  ['MANIFEST_PARSE_ERROR', 'scan:manifests', 'input'],
  ['MANIFEST_DUPLICATE_KEY', 'scan:manifests', 'input'],
  ['MANIFEST_UNRENDERED_TEMPLATE', 'scan:manifests', 'input'],
  ['MANIFEST_NOT_TEXT', 'scan:manifests', 'input'],
  ['MANIFEST_INPUT_EMPTY', 'scan:manifests', 'input'],
  ['ALLOWLIST_EXEMPT', 'scan:manifests', 'sa:vendor/vendor-agent'],
  ['ALLOWLIST_EXPIRED', 'scan:manifests', 'sa:legacy/legacy-sync'],
];

/** Target key -> the codes reported there, for one run. */
type Observed = Map<string, Finding[]>;

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

function add(into: Observed, key: string, findings: readonly Finding[]): void {
  into.set(key, [...(into.get(key) ?? []), ...findings]);
}

function fromInventory(inv: Inventory): Observed {
  const out: Observed = new Map();
  for (const c of inv.clusters) add(out, `cluster:${c.name}`, c.findings);
  for (const s of inv.serviceAccounts) {
    // A manifests scan names no cluster unless --cluster says one.
    const prefix = inv.source === 'manifests' ? '' : `${clusterName(s.cluster)}/`;
    add(out, `sa:${prefix}${s.namespace}/${s.name}`, s.findings);
  }
  for (const a of inv.addons) add(out, `addon:${clusterName(a.cluster)}/${a.name}`, a.findings);
  add(out, 'input', inv.inputFindings ?? []);
  return out;
}

function fromPlan(plan: MigrationPlan): Observed {
  const out: Observed = new Map();
  for (const b of plan.blocked) {
    const t = b.target;
    const key =
      t.kind === 'service-account' ? `sa:${clusterName(t.cluster)}/${t.namespace}/${t.name}`
        : t.kind === 'addon' ? `addon:${clusterName(t.cluster)}/${t.name}`
          : t.kind === 'cluster' ? `cluster:${clusterName(t.cluster)}`
            : `role:${t.roleArn}`;
    add(out, key, b.reasons);
  }
  return out;
}

async function podidJson<T>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  // A bound on a hang, not a speed test: on a loaded 2-core machine a run can take long (and
  // in-process runs wait for each other).
  const r = await podid(args, { env, timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`podid ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as T;
}

/**
 * service-accounts.yaml plus an add-on whose podIdentityConfiguration lists two service
 * accounts, none of them annotated: podid cannot tell which one runs with its IRSA role.
 */
function serviceAccountsWorld(): object {
  const doc = parse(world('service-accounts.yaml')) as { clusters: { name: string; addons: unknown[] }[] };
  const prod = doc.clusters.find((c) => c.name === 'prod');
  if (prod === undefined) throw new Error('service-accounts.yaml has no cluster named prod');
  prod.addons.push({
    name: 'adot',
    version: 'v0.109.0-eksbuild.1',
    serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/app',
    podIdentityConfiguration: [{ serviceAccount: 'adot-col-otlp-ingest' }, { serviceAccount: 'adot-col-prom-metrics' }],
  });
  return doc;
}

/**
 * peer.yaml with 30 more service accounts, each with a role of its own, so that podid reads the
 * roles in one listing of the account (more than 25 referenced); `listRolesOnly` lets the
 * scanning identity use ListRoles but not GetAccountAuthorizationDetails.
 */
function manyRolesWorld(listRolesOnly: boolean): object {
  const doc = parse(world('peer.yaml')) as { clusters: { name: string; objects: unknown[] }[]; iam: { roles: unknown[] }; caller?: unknown };
  const prod = doc.clusters.find((c) => c.name === 'prod');
  if (prod === undefined) throw new Error('peer.yaml has no cluster named prod');
  for (let i = 0; i < 30; i++) {
    prod.objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `filler-${i}`, namespace: 'filler', annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::111122223333:role/filler-${i}` } } });
    doc.iam.roles.push({ name: `filler-${i}`, assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } });
  }
  if (listRolesOnly) {
    doc.caller = {
      arn: 'arn:aws:iam::111122223333:user/ci-scanner',
      allow: ['sts:GetCallerIdentity', 'eks:Describe*', 'eks:List*', 'iam:GetRole', 'iam:ListRoles', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:GetPolicy', 'iam:GetPolicyVersion'],
    };
  }
  return doc;
}

/** clusters.yaml with `full` at EKS's quota: 1,000 associations for other service accounts. */
function clustersWorld(): object {
  const doc = parse(world('clusters.yaml')) as { clusters: { name: string; podIdentityAssociations?: unknown[] }[] };
  const full = doc.clusters.find((c) => c.name === 'full');
  if (full === undefined) throw new Error('clusters.yaml has no cluster named full');
  full.podIdentityAssociations = Array.from({ length: 1000 }, (_, i) => ({
    namespace: 'tenants',
    serviceAccount: `tenant-${String(i).padStart(4, '0')}`,
    roleArn: 'arn:aws:iam::111122223333:role/app',
  }));
  return doc;
}

/**
 * The add-on migration a user would run (UpdateAddon with podIdentityAssociations), so the
 * sandbox creates the add-on-owned association whose ownerArn only it can compute.
 */
async function migrateAddon(sb: SandboxEndpoint, cluster: string, addon: string, serviceAccount: string, roleArn: string): Promise<void> {
  const eks = new EKSClient({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' },
  });
  try {
    await eks.send(new UpdateAddonCommand({ clusterName: cluster, addonName: addon, podIdentityAssociations: [{ serviceAccount, roleArn }] }));
  } finally {
    eks.destroy();
  }
}

/** An association made while the sandbox runs: pods created before it keep their env. */
async function associateLater(sb: SandboxEndpoint, cluster: string, namespace: string, serviceAccount: string, roleArn: string): Promise<void> {
  const eks = new EKSClient({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' },
  });
  try {
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: cluster, namespace, serviceAccount, roleArn }));
  } finally {
    eks.destroy();
  }
}

/** A ServiceAccount annotated with `roleArn` and a bare ReplicaSet of two pods using it, created through the Kubernetes API; waits for its pods. */
async function orphanReplicaSet(sb: SandboxEndpoint, namespace: string, name: string, roleArn: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfig);
  kc.setCurrentContext('arn:aws:eks:us-east-1:111122223333:cluster/prod');
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, annotations: { 'eks.amazonaws.com/role-arn': roleArn } } } });
  const labels = { app: name };
  await apps.createNamespacedReplicaSet({
    namespace,
    body: { metadata: { name: `${name}-rs`, labels }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'public.ecr.aws/docker/library/busybox:latest' }] } } } },
  });
  for (let i = 0; i < 100; i++) {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
    if (pods.items.length === 2) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ReplicaSet ${namespace}/${name}-rs made no pods`);
}

/** What `podid migrate` would add first: a statement that lets Pod Identity assume the role (EKS refuses an association without one). */
async function trustPodIdentity(sb: SandboxEndpoint, roleName: string): Promise<void> {
  const iam = new IAMClient({
    endpoint: sb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' },
  });
  try {
    const role = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    const doc = JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)) as { Statement: unknown[] };
    doc.Statement.push({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(doc) }));
  } finally {
    iam.destroy();
  }
}

const observed = new Map<Run, Observed>();
/** The IAM role reads of the scan:peer:listing run, and the stderr of scan:peer:listroles. */
const listingCalls: string[] = [];
let listRolesStderr = '';
const sandboxes: SandboxEndpoint[] = [];

async function withSandbox(worldDoc: string | object, runs: (sb: SandboxEndpoint) => Promise<void>): Promise<void> {
  const sb = await sandboxServer(worldDoc);
  sandboxes.push(sb);
  await runs(sb);
}

beforeAll(async () => {
  const scan = ['scan', '--all-contexts', '-o', 'json'];
  const plan = ['migrate', '--dry-run', '--all-contexts', '-o', 'json'];
  // Independent worlds: their sandboxes serve in parallel; the in-process runs go one at a time.
  await Promise.all([
    withSandbox(serviceAccountsWorld(), async (sb) => {
      await migrateAddon(sb, 'prod', 'amazon-cloudwatch-observability', 'cloudwatch-agent', 'arn:aws:iam::111122223333:role/someone-else');
      const [inv, p, withSource, sharedSource] = await Promise.all([
        podidJson<Inventory>(scan, sb.clientEnv),
        podidJson<MigrationPlan>(plan, sb.clientEnv),
        // An ARN of the cluster account that does not exist.
        podidJson<MigrationPlan>([...plan, '--cross-account-source-role', 'arn:aws:iam::111122223333:role/no-such-source'], sb.clientEnv),
        // The role most service accounts of the world are annotated with.
        podidJson<MigrationPlan>([...plan, '--cross-account-source-role', 'arn:aws:iam::111122223333:role/app'], sb.clientEnv),
      ]);
      // The node role: EC2 may assume it, so it must never be a source role.
      const openSource = await podidJson<MigrationPlan>([...plan, '--cross-account-source-role', 'arn:aws:iam::111122223333:role/eks-node'], sb.clientEnv);
      observed.set('scan:service-accounts', fromInventory(inv));
      observed.set('plan:service-accounts', fromPlan(p));
      observed.set('plan:service-accounts:source-role', fromPlan(withSource));
      observed.set('plan:service-accounts:shared-source', fromPlan(sharedSource));
      observed.set('plan:service-accounts:open-source', fromPlan(openSource));
    }),
    withSandbox(clustersWorld(), async (sb) => {
      await associateLater(sb, 'no-agent', 'app', 'api', 'arn:aws:iam::111122223333:role/app');
      const [inv, p] = await Promise.all([podidJson<Inventory>(scan, sb.clientEnv), podidJson<MigrationPlan>(plan, sb.clientEnv)]);
      observed.set('scan:clusters', fromInventory(inv));
      observed.set('plan:clusters', fromPlan(p));
    }),
    // The demo world after an association for the bare Pod tools/toolbox's service account
    // and for shop/cart (a Deployment's): both partial, each with the fix its pods need.
    withSandbox({ file: join(ROOT, 'examples/world.yaml') }, async (sb) => {
      // And a ReplicaSet no Deployment owns (kubectl rollout restart cannot restart it), its
      // ServiceAccount associated after its pods started.
      await orphanReplicaSet(sb, 'shop', 'legacy', 'arn:aws:iam::111122223333:role/cart');
      for (const [namespace, name] of [['tools', 'debug-tools'], ['shop', 'cart']] as const) {
        await trustPodIdentity(sb, name);
        await associateLater(sb, 'prod', namespace, name, `arn:aws:iam::111122223333:role/${name}`);
      }
      await associateLater(sb, 'prod', 'shop', 'legacy', 'arn:aws:iam::111122223333:role/cart');
      observed.set('scan:example', fromInventory(await podidJson<Inventory>(['scan', '--context', 'arn:aws:eks:us-east-1:111122223333:cluster/prod', '-o', 'json'], sb.clientEnv)));
    }),
    withSandbox(world('china.yaml'), async (sb) => {
      observed.set('scan:china', fromInventory(await podidJson<Inventory>(scan, sb.clientEnv)));
    }),
    withSandbox(world('restricted.yaml'), async (sb) => {
      observed.set('scan:restricted', fromInventory(await podidJson<Inventory>(scan, sb.clientEnv)));
    }),
    (async () => {
      // Offline: no AWS endpoint or kubeconfig that could answer.
      const inv = await podidJson<Inventory>(
        ['scan', '--manifests', join(WORLDS, 'manifests'), join(WORLDS, 'empty-input'), '--config', join(WORLDS, 'allowlist.yaml'), '-o', 'json'],
        { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', KUBECONFIG: '/nonexistent' },
      );
      observed.set('scan:manifests', fromInventory(inv));
    })(),
  ]);
  // After the others (in-process runs go one at a time anyway).
  await withSandbox(world('peer.yaml'), async (sb) => {
    observed.set('scan:peer', fromInventory(await podidJson<Inventory>(scan, sb.clientEnv)));
  });
  await Promise.all([
    withSandbox(manyRolesWorld(false), async (sb) => {
      observed.set('scan:peer:listing', fromInventory(await podidJson<Inventory>(scan, sb.clientEnv)));
      const calls = (await (await fetch(`${sb.endpoint}/_sandbox/calls`)).json()) as { operation: string }[];
      listingCalls.push(...calls.map((c) => c.operation).filter((o) => o === 'GetAccountAuthorizationDetails' || o === 'ListRoles' || o === 'GetRole'));
    }),
    withSandbox(manyRolesWorld(true), async (sb) => {
      // The note goes to stderr as well as into the inventory's inputFindings.
      const r = await podid(scan, { env: sb.clientEnv, timeoutMs: 90_000 });
      if (r.code !== 0) throw new Error(`podid scan exited ${r.code}: ${r.stderr}`);
      listRolesStderr = r.stderr;
      observed.set('scan:peer:listroles', fromInventory(JSON.parse(r.stdout) as Inventory));
    }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(sandboxes.map((sb) => sb.stop()));
});

describe('every finding code comes from a world that produces it', () => {
  it.each(EXPECTED.map(([code, run, target]) => ({ code, run, target })))('$code on $target ($run)', ({ code, run, target }) => {
    const byTarget = observed.get(run);
    expect(byTarget, `run ${run} did not happen`).toBeDefined();
    const findings = byTarget!.get(target);
    expect(findings, `${run} reported nothing on ${target}; it reported on ${[...byTarget!.keys()].join(', ')}`).toBeDefined();
    const found = findings!.find((f) => f.code === code);
    expect(found, `${run} on ${target}: ${findings!.map((f) => f.code).join(', ') || 'no finding'}`).toBeDefined();
    // With the catalogue's severity (verdicts and --fail-on depend on it).
    expect(found!.severity).toBe(FINDINGS[code].severity);
  });

  it('PODS_NEED_RESTART advises what fits the pods: no rollout restart for a bare Pod', () => {
    const example = observed.get('scan:example')!;
    const restart = (target: string) => example.get(target)?.find((f) => f.code === 'PODS_NEED_RESTART');
    const bare = restart('sa:prod/tools/debug-tools');
    expect(bare, `sa:prod/tools/debug-tools: ${example.get('sa:prod/tools/debug-tools')?.map((f) => f.code).join(', ')}`).toBeDefined();
    expect(bare!.fix).toContain('delete and recreate Pod toolbox');
    expect(bare!.fix).not.toContain('rollout restart');
    expect(restart('sa:prod/shop/cart')!.fix).toBe(FINDINGS.PODS_NEED_RESTART.fix);
    // A ReplicaSet no Deployment owns: its pods are deleted for it to recreate, not rolled out.
    const orphan = restart('sa:prod/shop/legacy');
    expect(orphan, `sa:prod/shop/legacy: ${example.get('sa:prod/shop/legacy')?.map((f) => f.code).join(', ')}`).toBeDefined();
    expect(orphan!.fix).toMatch(/delete Pods legacy-rs-\S+, legacy-rs-\S+ \(ReplicaSet\/legacy-rs, which no Deployment owns, recreates them\)/);
    expect(orphan!.fix).not.toContain('rollout restart');
  });

  it('reports the details the worlds were built for', () => {
    const sa = observed.get('scan:service-accounts')!;
    // The crowded role fits today and overflows only once the Pod Identity statement is added.
    expect(sa.get('sa:prod/trust/crowded')!.find((f) => f.code === 'TRUST_POLICY_TOO_LARGE')!.message).toMatch(/would grow from \d+ to \d+ characters .* over the limit of 2048/);
    // An organisation guard denies Pod Identity: the fix is the standard service exemption, not "remove the Deny".
    expect(sa.get('sa:prod/trust/org-guard')!.find((f) => f.code === 'TRUST_POD_IDENTITY_DENIED')!.fix).toContain('"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}');
    expect(sa.get('sa:prod/trust/denied')!.find((f) => f.code === 'TRUST_POD_IDENTITY_DENIED')!.fix).not.toContain('BoolIfExists');
    expect(sa.get('sa:prod/trust/not-principal')!.find((f) => f.code === 'TRUST_NOT_PRINCIPAL_ALLOW')!.message).toContain('statement 1');
    // AccessDenied (not a missing role): the restricted caller could not read it.
    expect(observed.get('scan:restricted')!.get('sa:locked/app/api')!.find((f) => f.code === 'ROLE_UNREADABLE')!.message).toMatch(/iam:GetRole was denied/);
    // Auto Mode's variant of AGENT_MISSING names the nodes outside Auto Mode.
    expect(observed.get('scan:clusters')!.get('cluster:auto-mixed')!.find((f) => f.code === 'AGENT_MISSING')!.message).toMatch(/Auto Mode/);
    expect(observed.get('scan:clusters')!.get('cluster:agent-gap')!.find((f) => f.code === 'AGENT_NOT_READY')!.message).toContain('ip-10-0-50-10.ec2.internal');
    // Read from the running pods' env: the one app/api pod, on a node with no agent.
    expect(observed.get('scan:clusters')!.get('cluster:stranded')!.find((f) => f.code === 'POD_IDENTITY_PODS_WITHOUT_AGENT')!.message).toMatch(/^1 running pod has Pod Identity credentials .* on 1 node where no eks-pod-identity-agent runs \(\S+\): .*\(app\/api-\S+\)$/);
    const peer = observed.get('scan:peer')!;
    // Read from GetRole's PermissionsBoundary, through the SDK.
    expect(peer.get('sa:prod/roles/bounded')!.find((f) => f.code === 'ROLE_PERMISSIONS_BOUNDARY')!.message).toContain('arn:aws:iam::111122223333:policy/team-boundary');
    expect(peer.get('sa:prod/trust/mixed')!.find((f) => f.code === 'TRUST_MIXED_PRINCIPAL')!.message).toContain('ec2.amazonaws.com');
    expect(peer.get('sa:prod/trust/foreign-provider')!.find((f) => f.code === 'TRUST_OTHER_OIDC_PROVIDER')!.message).toContain('DELETED00000000000000000000000B2');
    // Live: read from the running pods' env, once for the two replicas.
    const custom = peer.get('sa:prod/pods/hand-wired')!.filter((f) => f.code === 'POD_CUSTOM_TOKEN_FILE');
    expect(custom.map((f) => f.message)).toEqual([expect.stringMatching(/^running pod pods\/legacy-client-\S+ and 1 more \(container app\) sets AWS_WEB_IDENTITY_TOKEN_FILE to \/var\/run\/secrets\/custom\/token/)]);
    expect(peer.get('sa:prod/crossplane-system/provider-aws-s3-8f2a1c')!.find((f) => f.code === 'SA_ANNOTATION_MANAGED')!.message).toContain('Crossplane');
    // Over 25 roles: one GetAccountAuthorizationDetails page, no ListRoles, GetRole only for the
    // roles IAM does not have (peer.yaml refers to one that does not exist).
    expect(listingCalls.filter((o) => o === 'GetAccountAuthorizationDetails')).toHaveLength(1);
    expect(listingCalls.filter((o) => o !== 'GetAccountAuthorizationDetails').every((o) => o === 'GetRole')).toBe(true);
    expect(observed.get('scan:peer:listing')!.get('sa:prod/roles/bounded')!.find((f) => f.code === 'ROLE_PERMISSIONS_BOUNDARY')!.message).toContain('arn:aws:iam::111122223333:policy/team-boundary');
    const unknown = observed.get('scan:peer:listroles')!.get('input')!.find((f) => f.code === 'ROLE_BOUNDARIES_UNKNOWN')!;
    expect(unknown.message).toMatch(/^\d+ roles were read with iam:ListRoles, which does not return permissions boundaries \(iam:GetAccountAuthorizationDetails: .*not authorized.*\)/);
    expect(listRolesStderr.trim()).toBe(`podid: ${unknown.message}`);
    expect(observed.get('scan:peer:listroles')!.get('sa:prod/roles/bounded')!.map((f) => f.code)).not.toContain('ROLE_PERMISSIONS_BOUNDARY');
    // Nothing in the peer world trusts only this cluster exactly but the trust/* roles: no false positives there.
    expect(peer.get('sa:prod/trust/foreign-provider')!.map((f) => f.code)).not.toContain('TRUST_MIXED_PRINCIPAL');
  });

  it('covers the whole catalogue, apart from the codes EXCLUDED says cannot be produced', () => {
    const covered = new Set(EXPECTED.map(([code]) => code));
    const excluded = Object.keys(EXCLUDED) as FindingCode[];
    expect(excluded.filter((c) => covered.has(c)), 'excluded yet covered').toEqual([]);
    expect([...covered, ...excluded].sort()).toEqual([...FINDING_CODES].sort());
  });
});
