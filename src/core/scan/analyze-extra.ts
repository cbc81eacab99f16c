/**
 * Findings about the shape of what is there rather than about the move itself: a trust policy
 * that mixes principals, trusts other OIDC providers, uses set operators on single-valued keys
 * or lists several subjects; a permissions boundary; the `default` service account with a
 * role; an annotation a controller re-applies; a running pod that wires IRSA by hand. Each is
 * something a reviewer of the migration should know (docs/findings.md). Pure.
 */
import { roleAccess } from '../policy/index.js';
import type { TrustPolicy } from '../policy/index.js';
import type { Finding } from './inventory.js';
import type { ClusterSnapshot, PodObject, RoleSnapshot, ServiceAccountObject } from './snapshot.js';
import { finding } from './findings.js';

const OIDC_PROVIDER = /:oidc-provider\//;
/** Where the EKS Pod Identity webhook mounts the projected token (amazon-eks-pod-identity-webhook). */
export const WEBHOOK_TOKEN_FILE = '/var/run/secrets/eks.amazonaws.com/serviceaccount/token';
/**
 * The token file the webhook injects for a pod whose nodeSelector asks for Windows
 * (`kubernetes.io/os` or `beta.kubernetes.io/os`: `windows`): the same path as a Windows one.
 * Source: aws/amazon-eks-pod-identity-webhook, pkg/handler/handler.go, getPodSpecPatch ("Convert
 * the unix file path to a windows file path"), and its testdata windowsPodWithoutVolumes.pod.yaml.
 */
export const WEBHOOK_WINDOWS_TOKEN_FILE = 'C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token';

/** `arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>`, lowercased for comparison. */
function providerArn(partition: string, account: string, issuer: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`.toLowerCase();
}

/**
 * @param accounts the accounts whose provider for this cluster's issuer counts as "this
 *   cluster's" (the cluster's, and a cross-account role's own account).
 */
export function trustShapeFindings(policy: TrustPolicy, cluster: Pick<ClusterSnapshot, 'partition' | 'oidcIssuer'>, accounts: readonly string[], role: string, fleetIssuers: readonly string[] = []): Finding[] {
  const out: Finding[] = [];
  const own = new Set(cluster.oidcIssuer === null ? [] : accounts.map((a) => providerArn(cluster.partition, a, cluster.oidcIssuer!)));
  const allows = policy.statements.map((s, index) => ({ s, index })).filter(({ s }) => s.effect === 'Allow' && s.principal !== undefined);
  const oidcOf = (ids: readonly string[]) => ids.filter((id) => OIDC_PROVIDER.test(id));

  const mixed = allows.filter(({ s }) => {
    const ids = s.principal!.ids;
    return oidcOf(ids.Federated).length > 0 && (ids.Service.length > 0 || ids.AWS.length > 0 || ids.Federated.length > oidcOf(ids.Federated).length || s.principal!.wildcard);
  });
  if (mixed.length > 0) {
    const others = [...new Set(mixed.flatMap(({ s }) => [...s.principal!.ids.Service, ...s.principal!.ids.AWS, ...s.principal!.ids.Federated.filter((f) => !OIDC_PROVIDER.test(f))]))];
    out.push(finding('TRUST_MIXED_PRINCIPAL', { role, statements: mixed.map(({ index }) => index), others }));
  }

  const providers = [...new Set(allows.flatMap(({ s }) => oidcOf(s.principal!.ids.Federated)))];
  // Providers of other scanned clusters are a shared role, not stale trust.
  const fleetHosts = new Set(fleetIssuers.map((i) => i.replace(/^https:\/\//, '').toLowerCase()));
  const hostOf = (p: string) => p.slice(p.indexOf(':oidc-provider/') + ':oidc-provider/'.length).toLowerCase();
  const foreign = providers.filter((p) => !own.has(p.toLowerCase()) && !fleetHosts.has(hostOf(p)));
  if (foreign.length > 0) out.push(finding('TRUST_OTHER_OIDC_PROVIDER', { role, providers: foreign }));

  const oidcStatements = allows.filter(({ s }) => oidcOf(s.principal!.ids.Federated).length > 0);
  const isTokenKey = (key: string) => /:(sub|aud)$/i.test(key);
  const setOperators = [...new Set(oidcStatements.flatMap(({ s }) => s.conditions.filter((c) => /^For(AllValues|AnyValue):/i.test(c.operator) && isTokenKey(c.key)).map((c) => `${c.operator} ${c.key}`)))];
  // IAM docs: "Do not use condition set operators with single-valued context keys" (ForAllValues
  // is true when the key is absent): reference_policies_condition-single-vs-multi-valued-context-keys.
  if (setOperators.length > 0) out.push(finding('TRUST_SUB_SET_OPERATOR', { role, operators: setOperators }));

  const ownStatements = oidcStatements.filter(({ s }) => oidcOf(s.principal!.ids.Federated).some((p) => own.has(p.toLowerCase())));
  for (const { s } of ownStatements) {
    const subjects = [...new Set(s.conditions.filter((c) => /:sub$/i.test(c.key)).flatMap((c) => c.values))];
    if (subjects.length > 1) {
      out.push(finding('TRUST_IRSA_MULTIPLE_SUBJECTS', { role, subjects }));
      break;
    }
  }
  return out;
}

/**
 * A Pod Identity statement already in the trust that admits this cluster without pinning the
 * service account or the namespace (no `aws:RequestTag/kubernetes-service-account` or
 * `kubernetes-namespace` condition): every ServiceAccount it covers that is given an association
 * to the role gets the role, though its IRSA trust admits named service accounts. podid keeps the
 * statement as it is (it never edits what it did not write), so the reviewer hears of it here.
 * An unconditioned statement is TRUST_POD_IDENTITY_UNCONDITIONED; patterns under StringLike
 * (`app-*`) are shown as written, not flagged.
 */
export function podIdentityBreadthFindings(policy: TrustPolicy, cluster: Pick<ClusterSnapshot, 'arn' | 'name' | 'account'>, role: string): Finding[] {
  const any = (values: readonly string[]) => values.length === 1 && values[0] === '*';
  const out: Finding[] = [];
  for (const g of roleAccess(policy).podIdentity) {
    if (g.kind !== 'scoped') continue;
    const admitsCluster = (any(g.clusters) || g.clusters.some((c) => c === cluster.arn || c === `name:${cluster.name}`)) && (any(g.accounts) || g.accounts.includes(cluster.account));
    if (!admitsCluster || (!any(g.serviceAccounts) && !any(g.namespaces))) continue;
    const who = any(g.namespaces)
      ? any(g.serviceAccounts) ? 'any service account of any namespace' : `service accounts named ${g.serviceAccounts.join(', ')} in any namespace`
      : `any service account of namespace${g.namespaces.length > 1 ? 's' : ''} ${g.namespaces.join(', ')}`;
    out.push(finding('TRUST_POD_IDENTITY_BROAD', { role, statement: g.statement, who, anyCluster: any(g.clusters) }));
  }
  return out;
}

export function permissionsBoundaryFinding(snap: RoleSnapshot, role: string): Finding | null {
  return snap.permissionsBoundary ? finding('ROLE_PERMISSIONS_BOUNDARY', { role, boundary: snap.permissionsBoundary }) : null;
}

export function serviceAccountShapeFindings(sa: Pick<ServiceAccountObject, 'namespace' | 'name' | 'managedBy'>): Finding[] {
  const out: Finding[] = [];
  if (sa.name === 'default') out.push(finding('SA_DEFAULT_ANNOTATED', { namespace: sa.namespace }));
  if (sa.managedBy) out.push(finding('SA_ANNOTATION_MANAGED', { manager: sa.managedBy.manager, source: sa.managedBy.source }));
  return out;
}

/**
 * Running pods whose spec sets the token file to a path of its own. The webhook's is
 * {@link WEBHOOK_TOKEN_FILE}, or {@link WEBHOOK_WINDOWS_TOKEN_FILE} for a pod whose nodeSelector
 * asks for Windows (and only for such a pod, as the webhook decides).
 */
export function customTokenFileFindings(pods: readonly PodObject[]): Finding[] {
  // One finding per container and path: a Deployment's replicas all say the same.
  const groups = new Map<string, { container: string; path: string; pods: string[] }>();
  for (const pod of pods) {
    for (const t of pod.tokenFiles ?? []) {
      if (t.path === (pod.windowsNodeSelector === true ? WEBHOOK_WINDOWS_TOKEN_FILE : WEBHOOK_TOKEN_FILE)) continue;
      const key = `${t.container}\u0000${t.path}`;
      const g = groups.get(key) ?? { container: t.container, path: t.path, pods: [] };
      g.pods.push(`${pod.namespace}/${pod.name}`);
      groups.set(key, g);
    }
  }
  return [...groups.values()].map((g) => {
    const pod = g.pods.length === 1 ? g.pods[0]! : `${g.pods[0]!} and ${g.pods.length - 1} more`;
    return finding('POD_CUSTOM_TOKEN_FILE', { pod, container: g.container, path: g.path });
  });
}
