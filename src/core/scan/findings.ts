/**
 * The catalogue of every finding `podid scan` can report. A code is a promise to users (CI
 * allowlists, SARIF rule ids and scripts key on it), so codes never change meaning; each one is
 * documented in docs/findings.md (a unit test keeps the two in step). Severity is fixed per
 * code so that the verdict rules stay simple and predictable: an `error` blocks, a `warning`
 * degrades `ready` to `ready-with-warnings`, an `info` never changes a verdict.
 */
import type { ArnIssue } from '../arn.js';
import { plural } from '../text.js';
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable, documented code (docs/findings.md); only codes of the catalogue below type-check. */
  code: FindingCode;
  severity: Severity;
  message: string;
  /** How to fix or proceed. */
  fix: string;
  /** Manifests mode: where the finding was found. */
  location?: { file: string; line: number };
  /** Set when an unexpired `.podid.yaml` allowlist entry covers this finding: it no longer fails the gate. */
  suppressed?: { reason: string; expires: string };
}


interface FindingDef<A> {
  readonly severity: Severity;
  /** A short name for tables and SARIF rules. */
  readonly title: string;
  /** The default fix; a builder may pass a more specific one. */
  readonly fix: string;
  readonly message: (args: A) => string;
}

function def<A>(severity: Severity, title: string, fix: string, message: (args: A) => string): FindingDef<A> {
  return { severity, title, fix, message };
}

/** ARN problems are reported by `parseRoleArn` with their own message (and sometimes a hint). */
type Issue = { message: string };
const issueMessage = (a: Issue): string => a.message;

const list = (items: readonly string[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

const DEFS = {
  // --- Cluster readiness ---------------------------------------------------------------------
  CLUSTER_VERSION_UNSUPPORTED: def(
    'error',
    'Kubernetes version too old',
    'upgrade the cluster to Kubernetes 1.24 or later (EKS Pod Identity does not exist below it)',
    (a: { version: string }) => `Kubernetes ${a.version} is below 1.24, the first version EKS Pod Identity supports`,
  ),
  CLUSTER_PLATFORM_VERSION_UNSUPPORTED: def(
    'error',
    'EKS platform version too old',
    'wait for EKS to roll the platform version forward, or upgrade the cluster to the next Kubernetes version',
    (a: { version: string; platformVersion: string; minimum: string }) =>
      `platform version ${a.platformVersion} of Kubernetes ${a.version} is below ${a.minimum}, the first one with EKS Pod Identity`,
  ),
  CLUSTER_VERSION_UNKNOWN: def(
    'warning',
    'Cluster version not recognised',
    'check the Kubernetes and platform versions by hand against docs/findings.md',
    (a: { version: string; platformVersion: string }) =>
      `cannot compare Kubernetes ${JSON.stringify(a.version)} platform ${JSON.stringify(a.platformVersion)} with the Pod Identity minimums`,
  ),
  CLUSTER_NOT_ACTIVE: def(
    'warning',
    'Cluster not ACTIVE',
    'wait until the cluster is ACTIVE before migrating',
    (a: { status: string }) => `the cluster is ${a.status}; associations and add-on updates may be refused until it is ACTIVE`,
  ),
  CLUSTER_REGION_UNSUPPORTED: def(
    'error',
    'Pod Identity unavailable in this region',
    'keep IRSA on this cluster: EKS Pod Identity is not available in the China regions',
    (a: { region: string; partition: string }) => `EKS Pod Identity is not available in ${a.region} (partition ${a.partition})`,
  ),
  CLUSTER_NO_OIDC_ISSUER: def(
    'info',
    'No OIDC issuer',
    'nothing to do for Pod Identity; note that IRSA annotations cannot work on this cluster today',
    (_: Record<string, never>) => 'the cluster has no OIDC issuer, so no IRSA annotation on it can work today',
  ),
  AGENT_MISSING: def(
    'warning',
    'Pod Identity agent not installed',
    'install the eks-pod-identity-agent add-on (podid migrate --install-agent plans it)',
    (a: { nodes: number; autoMode: boolean }) =>
      a.autoMode
        ? `Auto Mode's built-in agent covers only Auto Mode nodes; ${plural(a.nodes, 'other Linux node')} have no eks-pod-identity-agent`
        : 'the eks-pod-identity-agent add-on is not installed: pods cannot get Pod Identity credentials',
  ),
  AGENT_NOT_ACTIVE: def(
    'error',
    'Pod Identity agent add-on not ACTIVE',
    'repair the eks-pod-identity-agent add-on (aws eks describe-addon shows its health issues) until it is ACTIVE',
    (a: { status: string; version: string }) => `the eks-pod-identity-agent add-on ${a.version} is ${a.status}, not ACTIVE`,
  ),
  AGENT_NOT_READY: def(
    'error',
    'Pod Identity agent not running on every node',
    'find why the kube-system/eks-pod-identity-agent DaemonSet pods are not running there (taints, resources, hostNetwork ports 80 and 2703)',
    (a: { ready: number; total: number; missing: readonly string[] }) =>
      `the eks-pod-identity-agent runs on ${a.ready} of ${plural(a.total, 'Linux node')}; none on ${list(a.missing)}`,
  ),
  POD_IDENTITY_PODS_WITHOUT_AGENT: def(
    'warning',
    'Pods on Pod Identity where no agent runs',
    'install the eks-pod-identity-agent add-on (podid migrate --install-agent plans it), or get its DaemonSet running on those nodes',
    (a: { pods: number; nodes: readonly string[]; examples: readonly string[] }) =>
      `${plural(a.pods, 'running pod has', 'running pods have')} Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) on ${plural(a.nodes.length, 'node')} where no eks-pod-identity-agent runs (${list(a.nodes)}): their AWS SDKs get no credentials there (${list(a.examples, 3)})`,
  ),
  NODE_ROLE_MISSING_PERMISSION: def(
    'error',
    'Node role cannot assume roles for pods',
    'attach AmazonEKSWorkerNodePolicy to the node role, or allow eks-auth:AssumeRoleForPodIdentity in one of its policies',
    (a: { role: string; nodegroups: readonly string[] }) =>
      `node role ${a.role} (node groups ${list(a.nodegroups)}) does not allow eks-auth:AssumeRoleForPodIdentity`,
  ),
  NODE_ROLE_UNCHECKED: def(
    'warning',
    'Node role permission not checked',
    'let the scan read the node role (iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy, iam:GetPolicyVersion) or check eks-auth:AssumeRoleForPodIdentity by hand',
    (a: { role: string; nodegroups: readonly string[]; detail: string }) =>
      `could not tell whether node role ${a.role} (node groups ${list(a.nodegroups)}) allows eks-auth:AssumeRoleForPodIdentity: ${a.detail}`,
  ),
  ASSOCIATION_QUOTA_EXCEEDED: def(
    'warning',
    'Association quota would be exceeded',
    'migrate in batches (-n/--service-account), delete unused associations, or share one service account between workloads',
    (a: { existing: number; planned: number; quota: number }) =>
      `${plural(a.existing, 'existing association')} plus ${a.planned} planned exceed the quota of ${a.quota} per cluster`,
  ),
  CLUSTER_BLOCKED: def(
    'error',
    'Cluster not ready',
    'fix the cluster findings first (see the cluster in this report)',
    (a: { cluster: string; codes: readonly string[] }) => `cluster ${a.cluster} is blocked: ${a.codes.join(', ')}`,
  ),
  CLUSTER_HAS_WARNINGS: def(
    'warning',
    'Cluster has warnings',
    'review the cluster findings (see the cluster in this report)',
    (a: { cluster: string; codes: readonly string[] }) => `cluster ${a.cluster} has warnings: ${a.codes.join(', ')}`,
  ),

  // --- What the nearest peer reports too (issue 10) ------------------------------------------
  SA_DEFAULT_ANNOTATED: def(
    'warning',
    'Default service account has a role',
    'give the workloads that need the role a service account of their own, and remove the annotation from default',
    (a: { namespace: string }) =>
      `the default service account of namespace ${a.namespace} carries an IRSA role: every pod of the namespace that names no service account runs with it (and so would every such pod under a Pod Identity association for default)`,
  ),
  SA_ANNOTATION_MANAGED: def(
    'info',
    'Annotation managed by a controller',
    'change the annotation where the controller takes it from (chart values, Git, the runtime config), not on the cluster: a change made here is reverted',
    (a: { manager: string; source: string }) => `this service account is managed by ${a.manager}, which re-applies its annotations from ${a.source}`,
  ),
  ROLE_PERMISSIONS_BOUNDARY: def(
    'info',
    'Role has a permissions boundary',
    'nothing to do for the move (Pod Identity keeps the boundary); review the effective permissions with the boundary in mind',
    (a: { role: string; boundary: string }) => `role ${a.role} has the permissions boundary ${a.boundary}: its effective permissions are those its policies and the boundary both allow`,
  ),
  ROLE_BOUNDARIES_UNKNOWN: def(
    'info',
    'Permissions boundaries not read',
    'allow iam:GetAccountAuthorizationDetails (read-only) for the identity running podid: it lists each role with its permissions boundary, which iam:ListRoles does not return',
    (a: { roles: number; reason: string }) =>
      `${plural(a.roles, 'role was', 'roles were')} read with iam:ListRoles, which does not return permissions boundaries (iam:GetAccountAuthorizationDetails: ${a.reason}); ROLE_PERMISSIONS_BOUNDARY is not reported for them`,
  ),
  TRUST_MIXED_PRINCIPAL: def(
    'warning',
    'Trust statement mixes an OIDC provider with other principals',
    'split the statement: one for the OIDC provider with its sub/aud conditions, one per other principal with conditions of its own',
    (a: { role: string; statements: readonly number[]; others: readonly string[] }) =>
      `the trust policy of ${a.role} has statement ${a.statements.join(', ')} trusting an OIDC provider together with ${list(a.others)}; its conditions apply to all of them, and removing the OIDC provider after the move changes who else it admits`,
  ),
  TRUST_OTHER_OIDC_PROVIDER: def(
    'info',
    'Trust names another OIDC provider',
    'nothing to do for this cluster; remove trust for providers of deleted clusters (it is stale access)',
    (a: { role: string; providers: readonly string[] }) => `the trust policy of ${a.role} also trusts ${plural(a.providers.length, 'OIDC provider')} of another cluster or issuer: ${list(a.providers)}`,
  ),
  TRUST_SUB_SET_OPERATOR: def(
    'warning',
    'Set operator on a single-valued OIDC key',
    'use StringEquals (or StringLike) on the :sub and :aud keys: ForAllValues and ForAnyValue are for multivalued keys, and ForAllValues is true when the key is missing',
    (a: { role: string; operators: readonly string[] }) => `the trust policy of ${a.role} uses ${list(a.operators)} on an OIDC :sub or :aud key, a single-valued key these operators are not meant for`,
  ),
  TRUST_IRSA_MULTIPLE_SUBJECTS: def(
    'info',
    'Trust admits several service accounts',
    'nothing to do: podid creates one association per service account; each service account the condition lists needs its own',
    (a: { role: string; subjects: readonly string[] }) => `the trust policy of ${a.role} admits ${plural(a.subjects.length, 'service account')} through one sub condition: ${list(a.subjects)}`,
  ),
  POD_CUSTOM_TOKEN_FILE: def(
    'warning',
    'Pod reads a custom web identity token file',
    'remove AWS_WEB_IDENTITY_TOKEN_FILE (and AWS_ROLE_ARN) from the pod spec: the SDKs try web identity before Pod Identity, so this pod stays on IRSA after the move',
    (a: { pod: string; container: string; path: string }) =>
      `running pod ${a.pod} (container ${a.container}) sets AWS_WEB_IDENTITY_TOKEN_FILE to ${a.path}, not the path the EKS webhook injects: it was wired by hand`,
  ),

  // --- A cluster podid could not scan (fleet runs: the others are scanned) -------------------
  NOT_AN_EKS_CONTEXT: def(
    'error',
    'Not an EKS context',
    'scan it alone with --context NAME --cluster NAME --region REGION, or leave it out of the run (--context for the others)',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_NOT_FOUND: def(
    'error',
    'EKS cluster not found',
    'point the context at an existing cluster (aws eks update-kubeconfig), or remove the context',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_ENDPOINT_MISMATCH: def(
    'error',
    'Context is not its cluster',
    'point the context at the cluster (aws eks update-kubeconfig --name NAME --region REGION)',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_UNREACHABLE: def(
    'error',
    'Cluster unreachable',
    'check the network, VPN or private endpoint access to the API server and AWS, or raise --request-timeout; then scan again',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_ACCESS_DENIED: def(
    'error',
    'Cluster access denied',
    'grant the identity podid runs as the read permissions README.md lists (EKS, and cluster-wide list in Kubernetes), or refresh its credentials',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_THROTTLED: def(
    'error',
    'Cluster calls throttled',
    'scan again later or with a lower --concurrency',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  KUBECONFIG_ENTRY_INVALID: def(
    'error',
    'Kubeconfig entry unusable',
    'fix the cluster entry in the kubeconfig (aws eks update-kubeconfig rewrites it)',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),
  CLUSTER_SCAN_FAILED: def(
    'error',
    'Cluster scan failed',
    'see the message for the call that failed; scan again once it is fixed',
    (a: { context: string; detail: string }) => `context ${a.context} was not scanned: ${a.detail}`,
  ),

  // --- Role ARN (from parseRoleArn) ----------------------------------------------------------
  ARN_WHITESPACE: def('warning', 'Role ARN has whitespace', 'remove the whitespace from the annotation; podid uses the trimmed value', issueMessage),
  ARN_NOT_AN_ARN: def('error', 'Role annotation is not an ARN', 'write the full role ARN, e.g. arn:aws:iam::111122223333:role/my-role', issueMessage),
  ARN_MALFORMED: def('error', 'Role ARN malformed', 'fix the annotation to arn:<partition>:iam::<account>:role/<name>', issueMessage),
  ARN_NOT_A_ROLE: def('error', 'ARN is not a role', 'annotate with the IAM role ARN, not a user, instance profile or session ARN', issueMessage),
  ARN_BAD_ACCOUNT: def('error', 'Role ARN account invalid', 'an account ID is exactly 12 digits', issueMessage),
  ARN_BAD_NAME: def('error', 'Role name or path invalid', 'role names are 1-64 characters of letters, digits and +=,.@_-', issueMessage),
  ARN_PARTITION_MISMATCH: def('error', 'Role ARN in the wrong partition', "use the partition of the cluster's region (aws, aws-cn, aws-us-gov)", issueMessage),
  ARN_HAS_PATH: def('info', 'Role has a path', 'nothing to do: pod identity associations accept role ARNs with paths', issueMessage),

  // --- Role and trust policy -----------------------------------------------------------------
  ROLE_NOT_FOUND: def(
    'error',
    'Role does not exist',
    'create the role or correct the annotation (IRSA is broken for this service account today)',
    (a: { role: string; detail: string | null }) => `role ${a.role} does not exist${a.detail === null ? '' : ` (${a.detail})`}`,
  ),
  ROLE_UNREADABLE: def(
    'error',
    'Role cannot be read',
    'allow iam:GetRole on the role for the identity running podid',
    (a: { role: string; detail: string | null }) => `cannot read role ${a.role}${a.detail === null ? '' : `: ${a.detail}`}`,
  ),
  ROLE_CROSS_ACCOUNT: def(
    'warning',
    'Cross-account role',
    'pass --cross-account-source-role: podid then creates the association with a role of the cluster account and this role as targetRoleArn (role chaining); this role must trust that source role',
    (a: { role: string; roleAccount: string; clusterAccount: string; readable: boolean }) =>
      `role ${a.role} is in account ${a.roleAccount}, not the cluster account ${a.clusterAccount}; an association needs a role of the cluster account and this one as its target${a.readable ? '' : ' (podid could not read it from here)'}`,
  ),
  TRUST_POLICY_INVALID: def(
    'error',
    'Trust policy unreadable',
    'fix the trust policy (IAM would reject it) before migrating; podid will not edit a policy it cannot parse',
    (a: { role: string; detail: string }) => `the trust policy of ${a.role} cannot be analysed: ${a.detail}`,
  ),
  TRUST_NO_IRSA_GRANT: def(
    'warning',
    'Trust policy does not grant IRSA',
    'IRSA is already broken for this service account: correct the annotation or the trust policy; podid will not migrate it (plans block it with TRUST_IRSA_NOT_PROVEN) until the role admits it',
    (a: { role: string; reason: string }) => `the trust policy of ${a.role} does not let this service account use IRSA through this cluster: ${a.reason}`,
  ),
  TRUST_IRSA_WILDCARD: def(
    'info',
    'IRSA trust uses a wildcard',
    'nothing to do: podid creates one association per service account; other service accounts the pattern admits need their own',
    (a: { role: string; patterns: readonly string[] }) => `the trust policy of ${a.role} admits this service account through a pattern (${list(a.patterns)})`,
  ),
  TRUST_IRSA_UNCONSTRAINED: def(
    'info',
    'IRSA trust has no subject condition',
    'nothing to do for the move; the OIDC statement admits every service account of the cluster and should be removed once migrated (podid finalize)',
    (a: { role: string }) => `the trust policy of ${a.role} lets every service account of the cluster assume it (no :sub condition)`,
  ),
  TRUST_POD_IDENTITY_PRESENT: def(
    'info',
    'Pod Identity trust already present',
    'nothing to do: the role already trusts pods.eks.amazonaws.com for this cluster',
    (a: { role: string }) => `the trust policy of ${a.role} already admits EKS Pod Identity from this cluster`,
  ),
  TRUST_POD_IDENTITY_OTHER_CLUSTERS: def(
    'info',
    'Pod Identity trust for other clusters',
    'nothing to do: podid adds this cluster to the existing statement or appends a scoped one',
    (a: { role: string; clusters: readonly string[] }) =>
      `the trust policy of ${a.role} trusts EKS Pod Identity only for ${a.clusters.length === 0 ? 'conditions podid cannot prove for this cluster' : list(a.clusters)}`,
  ),
  TRUST_POD_IDENTITY_UNCONDITIONED: def(
    'warning',
    'Over-broad Pod Identity trust',
    'scope the statement with StringEquals aws:SourceAccount and the session tags aws:RequestTag/eks-cluster-arn, kubernetes-namespace and kubernetes-service-account; as it is, any cluster in any account can use this role through an association',
    (a: { role: string; statements: readonly number[] }) =>
      `the trust policy of ${a.role} trusts pods.eks.amazonaws.com without conditions (statement ${a.statements.join(', ')})`,
  ),
  TRUST_POD_IDENTITY_BROAD: def(
    'warning',
    'Pod Identity trust wider than one service account',
    'scope the statement with StringEquals on aws:RequestTag/kubernetes-namespace and aws:RequestTag/kubernetes-service-account (and aws:RequestTag/eks-cluster-arn) to the service accounts that need the role; podid keeps the statement as it is and adds nothing wider',
    (a: { role: string; statement: number; who: string; anyCluster: boolean }) =>
      `the trust policy of ${a.role} already admits EKS Pod Identity for ${a.who}${a.anyCluster ? ' of any cluster of the account' : ' of this cluster'} (statement ${a.statement}): any of them given an association to the role gets it`,
  ),
  TRUST_POD_IDENTITY_DENIED: def(
    'error',
    'Pod Identity denied by the trust policy',
    'remove or narrow the Deny statement; no Allow podid adds can override it',
    (a: { role: string; statements: readonly number[] }) => `a Deny in the trust policy of ${a.role} (statement ${a.statements.join(', ')}) blocks EKS Pod Identity from this cluster`,
  ),
  TRUST_NOT_PRINCIPAL_ALLOW: def(
    'warning',
    'Trust policy allows with NotPrincipal',
    'rewrite the statement with Principal naming who may assume the role, or remove it: IAM does not support Allow with NotPrincipal in a role trust policy, so it grants nothing podid can rely on',
    (a: { role: string; statements: readonly number[] }) =>
      `the trust policy of ${a.role} has an Allow with NotPrincipal (statement ${a.statements.join(', ')}), which IAM does not support in trust policies; podid counts it as granting nothing and adds its own Pod Identity statement where one is needed`,
  ),
  TRUST_POLICY_TOO_LARGE: def(
    'error',
    'Trust policy would exceed the length quota',
    'raise the "Role trust policy length" quota (Service Quotas L-C07B4B0D) and pass --trust-policy-limit, split the role per workload, or drop stale OIDC statements of deleted clusters',
    (a: { role: string; length: number; lengthAfter: number | null; limit: number; subjects?: number; statements?: number }) =>
      a.lengthAfter === null || a.lengthAfter === a.length
        ? `the trust policy of ${a.role} is ${a.length} characters, over the limit of ${a.limit}`
        : `the trust policy of ${a.role} would grow from ${a.length} to ${a.lengthAfter} characters with the Pod Identity statement${a.statements === undefined || a.statements === 1 ? '' : 's'}` +
          `${a.subjects === undefined ? '' : ` (${plural(a.subjects, 'service account')} in ${plural(a.statements ?? 1, 'statement')}, each pinned by cluster, namespace and name)`}, over the limit of ${a.limit}`,
  ),
  TRUST_POD_IDENTITY_SOURCE_ARN: def(
    'warning',
    'Pod Identity trust depends on aws:SourceArn',
    'replace the aws:SourceArn condition with the session tags EKS documents (aws:RequestTag/eks-cluster-arn, kubernetes-namespace, kubernetes-service-account) and aws:SourceAccount; podid adds such a statement for the service accounts it migrates',
    (a: { role: string; statements: readonly number[] }) =>
      `the trust policy of ${a.role} trusts pods.eks.amazonaws.com under an aws:SourceArn condition (statement ${a.statements.join(', ')}); no AWS page documents what EKS Pod Identity sends there, so podid cannot prove it admits any pod and does not count it`,
  ),

  // --- Association ---------------------------------------------------------------------------
  ASSOCIATION_EXISTS: def(
    'info',
    'Association exists',
    'nothing to do: the pod identity association for this role exists',
    (a: { id: string; role: string }) => `pod identity association ${a.id} already binds this service account to ${a.role}`,
  ),
  ASSOCIATION_CONFLICT: def(
    'error',
    'Association for another role',
    'decide which role is right: delete the association or change the annotation; EKS allows one association per service account',
    (a: { id: string; associated: string; annotated: string }) =>
      `pod identity association ${a.id} binds this service account to ${a.associated}, but the annotation names ${a.annotated}; new pods already use ${a.associated}`,
  ),

  // --- Workloads and pods --------------------------------------------------------------------
  WORKLOAD_ON_FARGATE: def(
    'error',
    'Runs on Fargate',
    'keep IRSA for this service account, or move the workload off Fargate: EKS Pod Identity does not work on Fargate',
    (a: { workload: string; why: string }) => `${a.workload} runs on Fargate (${a.why})`,
  ),
  WORKLOAD_ON_WINDOWS: def(
    'error',
    'Runs on Windows nodes',
    'keep IRSA for this service account, or move the workload to Linux nodes: EKS Pod Identity does not work on Windows',
    (a: { workload: string; why: string }) => `${a.workload} runs on Windows nodes (${a.why})`,
  ),
  POD_NOT_RESTARTABLE: def(
    'info',
    'Pod podid cannot restart',
    'delete and re-create the pod yourself after the migration so it gets Pod Identity credentials',
    (a: { pod: string; owner: string | null }) =>
      a.owner === null ? `pod ${a.pod} has no controller; podid cannot restart it` : `pod ${a.pod} is owned by ${a.owner}, which podid cannot restart`,
  ),
  JOB_RUNNING: def(
    'info',
    'Job running',
    'let the running Job finish; its pods keep IRSA credentials, the next ones get Pod Identity',
    (a: { workload: string; pods: number }) => `${a.workload} has ${plural(a.pods, 'running pod')} that podid will not restart`,
  ),
  SA_NO_PODS: def(
    'info',
    'No pods',
    'nothing to do: pods created after the migration get Pod Identity credentials',
    (a: { workloads: number }) =>
      a.workloads === 0 ? 'no workload or pod uses this service account' : `no running pod uses this service account (${plural(a.workloads, 'workload')} ${a.workloads === 1 ? 'references' : 'reference'} it)`,
  ),
  PODS_NEED_RESTART: def(
    'warning',
    'Pods still on IRSA',
    'restart the workloads (kubectl rollout restart; podid migrate plans the restarts) so new pods get Pod Identity credentials',
    (a: { irsa: number; none: number }) =>
      `the association exists but ${plural(a.irsa + a.none, 'running pod')} still ${a.irsa + a.none === 1 ? 'has' : 'have'} ${a.none === 0 ? 'IRSA credentials' : `IRSA or no injected credentials (${a.irsa} IRSA, ${a.none} none)`}`,
  ),
  PODS_WITHOUT_CREDENTIALS: def(
    'info',
    'Pods without injected credentials',
    'nothing to do before the migration; the pods were created before the annotation (or the webhook skipped them) and the rollout replaces them',
    (a: { pods: number }) => `${plural(a.pods, 'running pod')} of this service account ${a.pods === 1 ? 'has' : 'have'} neither IRSA nor Pod Identity credentials`,
  ),

  // --- Other IRSA annotations ----------------------------------------------------------------
  ANNOTATION_AUDIENCE: def(
    'warning',
    'Custom token audience',
    'check that nothing relies on the custom audience (e.g. a non-STS token consumer); Pod Identity has no audience setting',
    (a: { audience: string }) => `eks.amazonaws.com/audience is ${JSON.stringify(a.audience)}; Pod Identity credentials have no audience`,
  ),
  ANNOTATION_STS_REGIONAL_ENDPOINTS: def(
    'info',
    'STS regional endpoints annotation',
    'nothing to do: Pod Identity credentials come from the node-local agent; remove the annotation after the migration',
    (a: { value: string }) => `eks.amazonaws.com/sts-regional-endpoints is ${JSON.stringify(a.value)}; it has no effect under Pod Identity`,
  ),
  ANNOTATION_TOKEN_EXPIRATION: def(
    'info',
    'Token expiration annotation',
    'nothing to do: the SDKs refresh Pod Identity credentials before they expire; remove the annotation after the migration',
    (a: { value: string }) => `eks.amazonaws.com/token-expiration is ${JSON.stringify(a.value)}; Pod Identity credentials have their own expiry and ignore it`,
  ),

  // --- EKS add-ons ---------------------------------------------------------------------------
  ADDON_SERVICE_ACCOUNT: def(
    'info',
    'Belongs to an EKS add-on',
    'nothing to do: podid plans it as an UpdateAddon (podIdentityAssociations), not a direct association',
    (a: { addon: string }) => `this service account belongs to the ${a.addon} add-on`,
  ),
  ADDON_VERSION_UNSUPPORTED: def(
    'error',
    'Add-on version without Pod Identity',
    'upgrade the add-on to a version whose DescribeAddonConfiguration lists podIdentityConfiguration, then migrate',
    (a: { addon: string; version: string }) => `add-on ${a.addon} ${a.version} does not support Pod Identity`,
  ),
  ADDON_NOT_ACTIVE: def(
    'warning',
    'Add-on not ACTIVE',
    'repair the add-on before migrating it: UpdateAddon may be refused or fail',
    (a: { addon: string; status: string }) => `add-on ${a.addon} is ${a.status}, not ACTIVE`,
  ),
  ADDON_MIGRATED: def(
    'info',
    'Add-on uses Pod Identity',
    'nothing to do; remove serviceAccountRoleArn from the add-on when you no longer need IRSA',
    (a: { addon: string; associations: number }) => `add-on ${a.addon} already has ${plural(a.associations, 'pod identity association')}`,
  ),

  // --- Migration plan (podid migrate: why an item is blocked) ---------------------------------
  AGENT_REQUIRED: def(
    'error',
    'Pod Identity agent required',
    'pass --install-agent (podid creates the eks-pod-identity-agent add-on first) or install the eks-pod-identity-agent add-on yourself',
    (a: { cluster: string }) => `cluster ${a.cluster} has no eks-pod-identity-agent: pods restarted after the association would get no credentials`,
  ),
  CROSS_ACCOUNT_SOURCE_ROLE_REQUIRED: def(
    'error',
    'Cross-account role needs a source role',
    'pass --cross-account-source-role ARN (a role of the cluster account): podid associates it with this role as targetRoleArn; this role must trust the source role (the plan shows the statement)',
    (a: { role: string; roleAccount: string; clusterAccount: string }) =>
      `role ${a.role} is in account ${a.roleAccount}, not the cluster account ${a.clusterAccount}; an association needs a role of the cluster account`,
  ),
  CROSS_ACCOUNT_SOURCE_ROLE_UNUSABLE: def(
    'error',
    'Cross-account source role unusable',
    'pass --cross-account-source-role with an existing role of the cluster account whose trust policy podid can read',
    (a: { sourceRole: string; reason: string }) => `the cross-account source role ${a.sourceRole} cannot be used: ${a.reason}`,
  ),
  CROSS_ACCOUNT_SOURCE_ROLE_SHARED: def(
    'error',
    'Cross-account source role already in use',
    'create a dedicated role in the cluster account that nothing else uses (no IRSA annotation, no association without targetRoleArn, no add-on) and pass it as --cross-account-source-role',
    (a: { sourceRole: string; users: readonly string[] }) =>
      `the cross-account source role ${a.sourceRole} is already used by ${list(a.users)}: their pods hold its credentials and could assume every role that trusts it`,
  ),
  TRUST_IRSA_NOT_PROVEN: def(
    'error',
    'Role never admitted this service account',
    "correct the eks.amazonaws.com/role-arn annotation to the role this service account really uses, or, if it should use this role, add its subject (system:serviceaccount:NAMESPACE:NAME) to the role's IRSA trust and plan again: podid gives a role only to service accounts its trust admits today",
    (a: { role: string; serviceAccounts: readonly string[]; cluster: string }) =>
      `the trust policy of ${a.role} does not admit ${list(a.serviceAccounts)} on ${a.cluster} through IRSA, so podid will neither add it to the trust nor create an association: the annotation alone must not be a way to obtain a role`,
  ),
  TRUST_WIDENING_REFUSED: def(
    'error',
    'Trust change would widen who can assume the role',
    'report this as a podid bug with the plan; apply nothing',
    (a: { role: string; problem: string }) => `podid cannot prove that its change to the trust policy of ${a.role} admits no one new: ${a.problem}`,
  ),
  CROSS_ACCOUNT_SOURCE_ROLE_OPEN: def(
    'error',
    'Cross-account source role trusts more than Pod Identity',
    'use a dedicated source role whose trust policy admits only pods.eks.amazonaws.com (no node or instance role, no OIDC provider, no other principal), and pass it as --cross-account-source-role',
    (a: { sourceRole: string; principals: readonly string[] }) =>
      `the cross-account source role ${a.sourceRole} can also be assumed by ${list(a.principals)}: whoever holds its credentials could chain into every target role that trusts it`,
  ),
  ASSOCIATION_SESSION_TAGS_DISABLED: def(
    'warning',
    'Association disables session tags',
    'update the association to keep session tags (aws eks update-pod-identity-association --no-disable-session-tags), or scope the trust by aws:SourceAccount only: a trust scoped by session tags denies it',
    (a: { id: string; role: string }) =>
      `pod identity association ${a.id} sets disableSessionTags, so EKS sends no aws:RequestTag/* values: a trust policy of ${a.role} scoped by session tags (as podid writes it) denies its pods`,
  ),
  ASSOCIATION_TRUST_MISSING: def(
    'warning',
    'Association without a Pod Identity trust',
    'add a pods.eks.amazonaws.com statement for this service account to the role trust policy (podid migrate plans it); restarting the pods does not help until then',
    (a: { id: string; role: string }) =>
      `pod identity association ${a.id} binds this service account to ${a.role}, but the role's trust policy does not provably admit it through EKS Pod Identity: pods started since the association get no credentials from it (AccessDenied)`,
  ),
  ASSOCIATION_QUOTA_FULL: def(
    'error',
    'No association left in the quota',
    'delete unused associations and migrate the rest in another run, or share one service account between workloads',
    (a: { cluster: string; existing: number; planned: number; quota: number }) =>
      `cluster ${a.cluster} has ${plural(a.existing, 'association')} and this plan creates ${a.planned} before this one: the quota of ${a.quota} per cluster is reached`,
  ),
  ADDON_ROLE_CROSS_ACCOUNT: def(
    'error',
    'Add-on role in another account',
    'give the add-on a role of the cluster account: UpdateAddon podIdentityAssociations cannot chain to a role in another account',
    (a: { addon: string; role: string; clusterAccount: string }) => `add-on ${a.addon} uses role ${a.role}, which is not in the cluster account ${a.clusterAccount}`,
  ),
  ADDON_SERVICE_ACCOUNT_AMBIGUOUS: def(
    'error',
    'Add-on service account unknown',
    "migrate the add-on yourself with UpdateAddon podIdentityAssociations naming only the service accounts that need the role, or make sure the add-on's service account that uses the role is annotated with it, then plan again",
    (a: { addon: string; role: string; serviceAccounts: readonly string[] }) =>
      `add-on ${a.addon} configures ${plural(a.serviceAccounts.length, 'service account')} (${list(a.serviceAccounts)}) and no scanned one is annotated with its role ${a.role}: podid cannot tell which of them run with it, and will not give the role to all of them`,
  ),

  // --- Manifests mode (podid scan --manifests) -----------------------------------------------
  IRSA_ANNOTATION: def(
    'warning',
    'Uses IRSA',
    'migrate to an EKS Pod Identity association (aws_eks_pod_identity_association / eksctl podIdentityAssociations) and remove the annotation',
    (a: { serviceAccount: string; at: string; template: string | null }) =>
      `ServiceAccount ${a.serviceAccount} uses IRSA (eks.amazonaws.com/role-arn) at ${a.at}${a.template === null ? '' : ` (from ${a.template})`}`,
  ),
  IRSA_HAND_WIRED: def(
    'warning',
    'IRSA wired by hand',
    "remove these variables and the projected token volume from the pod spec: the AWS SDKs try web identity before Pod Identity's container credentials, so the pod would stay on IRSA after the migration",
    (a: { workload: string; container: string; variables: readonly string[]; at: string }) =>
      `${a.workload} sets ${a.variables.join(' and ')} in container ${a.container} itself (hand-wired IRSA) at ${a.at}`,
  ),
  MANIFEST_PARSE_ERROR: def(
    'error',
    'Manifest cannot be read',
    'fix the YAML (kubectl apply --dry-run=client -f FILE shows the same error), or leave the file out of --manifests',
    (a: { at: string; detail: string }) => `${a.at}: ${a.detail}; podid could not read the object there`,
  ),
  MANIFEST_DUPLICATE_KEY: def(
    'error',
    'Manifest has a duplicate key',
    'write the key once (merge the two entries): kubectl keeps the last one without a word, kustomize build refuses the file',
    (a: { at: string; detail: string }) => `${a.at}: ${a.detail}; the document is read as kubectl reads it (the last key wins), and an eks.amazonaws.com/role-arn written under a key it drops is reported as IRSA too`,
  ),
  MANIFEST_NOT_TEXT: def(
    'error',
    'Manifest is not text',
    'save the file as UTF-8 (or UTF-16 with a byte-order mark), or leave it out of --manifests',
    (a: { at: string; detail: string }) => `${a.at}: ${a.detail}; podid could not look for IRSA annotations in it`,
  ),
  MANIFEST_INPUT_EMPTY: def(
    'error',
    'No manifests in the input',
    'check the path, or the command that pipes into podid (helm template, kustomize build): an empty input proves nothing',
    (a: { at: string; detail: string }) => `${a.at}: ${a.detail}`,
  ),
  MANIFEST_UNRENDERED_TEMPLATE: def(
    'warning',
    'Manifest is an unrendered template',
    'scan the rendered output instead: helm template RELEASE CHART | podid scan --manifests - (or kustomize build DIR | podid scan --manifests -)',
    (a: { at: string; what: string }) => `${a.at}: ${a.what} contains unrendered template syntax ({{ }}); podid cannot tell what it renders to`,
  ),

  // --- CI gate (.podid.yaml) -----------------------------------------------------------------
  ALLOWLIST_EXPIRED: def(
    'warning',
    'Allowlist entry expired',
    'migrate what the entry covered, or extend its expires date in .podid.yaml after review',
    (a: { entry: string; expires: string; reason: string }) =>
      `${a.entry} (${JSON.stringify(a.reason)}) was valid until ${a.expires} and no longer applies`,
  ),
  ALLOWLIST_EXEMPT: def(
    'info',
    'Exempted by the allowlist',
    'nothing to do until the entry expires; migrate it or extend the entry after review',
    (a: { entry: string; expires: string; reason: string }) =>
      `${a.entry} exempts this from the CI gate until ${a.expires}: ${a.reason}`,
  ),
} as const;

type Defs = typeof DEFS;
export type FindingCode = keyof Defs;
export type FindingArgs<C extends FindingCode> = Parameters<Defs[C]['message']>[0];

export interface FindingSpec {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly title: string;
  readonly fix: string;
}

/** Every code with its severity, title and default fix (what docs/findings.md documents). */
export const FINDINGS: { readonly [C in FindingCode]: FindingSpec & { readonly code: C } } = Object.fromEntries(
  Object.entries(DEFS).map(([code, d]) => [code, { code, severity: d.severity, title: d.title, fix: d.fix }]),
) as { readonly [C in FindingCode]: FindingSpec & { readonly code: C } };

export const FINDING_CODES = Object.keys(DEFS) as [FindingCode, ...FindingCode[]];

export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(DEFS, code);
}

/** Builds a finding from the catalogue; `fix` overrides the default with a more specific one. */
export function finding<C extends FindingCode>(code: C, args: FindingArgs<C>, fix?: string): Finding {
  const d = DEFS[code] as FindingDef<FindingArgs<C>>;
  return { code, severity: d.severity, message: d.message(args), fix: fix ?? d.fix };
}

type ArnFindingCode = Extract<FindingCode, `ARN_${string}`>;

/**
 * The finding for an issue parseRoleArn reported about a role annotation: its codes are part of
 * the catalogue (a unit test checks it), and its hint is the more specific fix. A cluster-ARN
 * issue, which a role annotation cannot raise, reads as ARN_MALFORMED.
 */
export function arnFinding(issue: ArnIssue): Finding {
  const code: ArnFindingCode = issue.code !== 'ARN_NOT_A_CLUSTER' && isFindingCode(issue.code) && issue.code.startsWith('ARN_') ? (issue.code as ArnFindingCode) : 'ARN_MALFORMED';
  return finding(code, { message: issue.message }, issue.hint);
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Most severe first; within a severity, the order the analysis found them (stable sort). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

export function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) {
    if (worst === null || SEVERITY_RANK[f.severity] < SEVERITY_RANK[worst]) worst = f.severity;
  }
  return worst;
}
