/**
 * `podid finalize`, phase two of the migration: for each IRSA ServiceAccount whose every running
 * pod is on Pod Identity, remove the IRSA annotations and, from its role's trust policy, only this
 * cluster's OIDC grant for it (core/policy/remove-oidc-trust.ts: its `sub` value removed, a
 * statement dropped only when nothing remains in it, other providers', clusters' and service
 * accounts' grants never touched). Pure: planned from a scan; the executor re-checks it live.
 */
import { oidcProviderArn, parseRoleArn } from '../arn.js';
import { AUDIENCE_ANNOTATION, DEFAULT_AUDIENCE, ROLE_ARN_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from '../annotations.js';
import type { JsonObject } from '../json.js';
import { plural } from '../text.js';
import { podNames, restartAdvice, withReplicaSetOwners, type StalePod } from '../restart-advice.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { parsePolicy, policyToJson, removeOidcTrust, type OidcTrustTarget } from '../policy/index.js';
import type { FleetSnapshot } from '../scan/snapshot.js';
import type { Inventory } from '../scan/inventory.js';
import type { FinalizeProvider } from './provider.js';

export const FINALIZE_PLAN_KIND = 'podid-finalize-plan';

/** The annotations only the IRSA webhook reads: removed together. */
export const IRSA_ANNOTATIONS = [ROLE_ARN_ANNOTATION, AUDIENCE_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION] as const;

export interface FinalizeSa {
  cluster: string;
  context: string;
  namespace: string;
  name: string;
  uid: string;
  roleArn: string;
  /** This cluster's OIDC provider. */
  providerArn: string | null;
  /** `finalize`: will be finalized; `refused`: not (reason says why). */
  action: 'finalize' | 'refused';
  reason: string;
  /** The IRSA annotations to remove, with their current values. */
  annotations: Record<string, string>;
  /** Said in the review and the result: the owner that would put the annotation back, trust statements left for a person. */
  warnings: string[];
}

export interface FinalizeTrust {
  roleArn: string;
  before: JsonObject;
  after: JsonObject;
  /** `<namespace>/<sa> on <cluster>` whose grants are removed. */
  serviceAccounts: string[];
}

export interface FinalizePlan {
  kind: typeof FINALIZE_PLAN_KIND;
  schemaVersion: 1;
  clusters: { arn: string; name: string; region: string; context: string }[];
  serviceAccounts: FinalizeSa[];
  trust: FinalizeTrust[];
  /** --delete-oidc-provider: each cluster's OIDC provider and whether it goes (empty without the flag). */
  oidcProviders: FinalizeProvider[];
}

/**
 * Why a ServiceAccount is refused while some of its running pods are not on Pod Identity, with
 * what to do that fits each pod's controller: `kubectl rollout restart` cannot restart a bare
 * Pod (delete and recreate it), a bare ReplicaSet's pod (delete it; the ReplicaSet recreates it)
 * or a Job's pod (let it finish, or delete and re-run the Job).
 */
export function stalePodsRefusal(pods: readonly (StalePod & { identity: string })[]): string {
  const credentials = pods.some((p) => p.identity === 'irsa') ? 'IRSA' : 'no';
  return `${plural(pods.length, 'running pod')} still ${pods.length === 1 ? 'uses' : 'use'} ${credentials} credentials (${podNames(pods)}): ${restartAdvice(pods).join('; ')}, then finalize`;
}

export function planFinalize(snapshot: FleetSnapshot, inventory: Inventory): FinalizePlan {
  const clusters = snapshot.clusters.filter((c) => c.context !== null).map((c) => ({ arn: c.arn, name: c.name, region: c.region, context: c.context as string }));
  const sas: FinalizeSa[] = [];
  for (const sa of inventory.serviceAccounts) {
    const cluster = snapshot.clusters.find((c) => c.arn === sa.cluster);
    if (!cluster || cluster.context === null || sa.addon !== null) continue;
    const obj = cluster.kube.serviceAccounts.find((o) => o.namespace === sa.namespace && o.name === sa.name);
    if (!obj) continue;
    const annotations = Object.fromEntries(IRSA_ANNOTATIONS.filter((k) => obj.annotations[k] !== undefined).map((k) => [k, obj.annotations[k] as string]));
    const warnings: string[] = [];
    if (obj.managedBy) {
      warnings.push(`managed by ${obj.managedBy.manager}: ${ROLE_ARN_ANNOTATION} comes back from ${obj.managedBy.source}; remove it there too, and gate it with podid scan --manifests --fail-on irsa`);
    }
    const providerArn = cluster.oidcIssuer ? oidcProviderArn(cluster.partition, cluster.account, cluster.oidcIssuer) : null;
    const base = { cluster: sa.cluster, context: cluster.context, namespace: sa.namespace, name: sa.name, uid: obj.uid, roleArn: sa.role.arn, providerArn, annotations, warnings };
    const irsaPods = cluster.kube.pods.filter((p) => p.namespace === sa.namespace && p.serviceAccount === sa.name && p.phase === 'Running' && p.terminating !== true && p.identity !== 'pod-identity');
    let refusal: string | null = null;
    if (sa.association.state === 'none') refusal = 'it has no pod identity association: migrate it first (podid migrate --apply)';
    else if (sa.association.state === 'other-role') refusal = `its association names ${sa.association.roleArn ?? 'another role'}, not ${sa.role.arn}: reconcile them first`;
    else if (irsaPods.length > 0) refusal = stalePodsRefusal(withReplicaSetOwners(irsaPods, cluster.kube.workloads));
    else if (sa.role.state !== 'found') refusal = `its role ${sa.role.arn} cannot be read (${sa.role.state})`;
    else if (sa.trust.podIdentity !== 'admits-cluster') refusal = `the trust policy of ${sa.role.arn} does not admit Pod Identity for this cluster: removing IRSA would cut it off`;
    sas.push({ ...base, action: refusal === null ? 'finalize' : 'refused', reason: refusal ?? `every running pod is on Pod Identity through association ${sa.association.associationId ?? ''}` });
  }

  // One trust edit per role, for every ServiceAccount of it being finalized (on every cluster).
  const trust: FinalizeTrust[] = [];
  const roles = [...new Set(sas.filter((s) => s.action === 'finalize').map((s) => s.roleArn))].sort();
  for (const roleArn of roles) {
    const parsed = parseRoleArn(roleArn);
    const doc = snapshot.roles[parsed.ok ? parsed.arn.arn : roleArn]?.trustPolicy ?? null;
    if (doc === null) continue;
    let policy = parsePolicy(doc);
    const names: string[] = [];
    for (const s of sas.filter((x) => x.action === 'finalize' && x.roleArn === roleArn)) {
      if (s.providerArn === null) continue;
      let removed = false;
      for (const target of oidcTargets(s, s.providerArn)) {
        const r = removeOidcTrust(policy, target);
        for (const st of r.steps) {
          const warning = `trust statement ${st.index} of ${roleArn} still grants it through the OIDC provider and is left for you: ${st.reason}`;
          if (st.action === 'needs-manual' && !s.warnings.includes(warning)) s.warnings.push(warning);
        }
        if (r.change === 'removed') {
          policy = r.policy;
          removed = true;
        }
      }
      if (removed) names.push(`${s.namespace}/${s.name} on ${s.cluster.slice(s.cluster.lastIndexOf('/') + 1)}`);
    }
    const after = policyToJson(policy);
    if (canonicalJson(after) !== canonicalJson(doc)) trust.push({ roleArn, before: doc, after, serviceAccounts: names });
  }
  return { kind: FINALIZE_PLAN_KIND, schemaVersion: 1, clusters, serviceAccounts: sas, trust, oidcProviders: [] };
}

/** The trust policies the plan writes, by lowercased role ARN: the post-finalize state the provider decision reads. */
export function trustAfter(plan: Pick<FinalizePlan, 'trust'>): Map<string, JsonObject> {
  return new Map(plan.trust.map((t) => [t.roleArn.toLowerCase(), t.after] as const));
}

/**
 * What finalize removes for one ServiceAccount: its grant through this cluster's provider, for the
 * token audience its pods were given (`eks.amazonaws.com/audience`), so that a statement admitting
 * only a custom audience is found and removed too, and for the default `sts.amazonaws.com`, which
 * a token for the ServiceAccount can still ask for whatever the annotation said.
 */
function oidcTargets(s: FinalizeSa, providerArn: string): OidcTrustTarget[] {
  const audience = s.annotations[AUDIENCE_ANNOTATION];
  const base = { providerArn, namespace: s.namespace, serviceAccount: s.name };
  return audience !== undefined && audience !== '' && audience !== DEFAULT_AUDIENCE ? [{ ...base, audience }, base] : [base];
}

/**
 * The same edit made again on the document read at apply time, for the ServiceAccounts still
 * verified: never more than the plan showed (a subset of its SAs, over the same document).
 */
export function trustEditFor(current: JsonObject, sas: readonly FinalizeSa[]): JsonObject {
  let policy = parsePolicy(current);
  for (const s of sas) {
    if (s.providerArn === null) continue;
    for (const target of oidcTargets(s, s.providerArn)) {
      const r = removeOidcTrust(policy, target);
      if (r.change === 'removed') policy = r.policy;
    }
  }
  return policyToJson(policy);
}
