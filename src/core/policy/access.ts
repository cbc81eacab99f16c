/**
 * Who can assume a role, read from its trust policy with podid's own evaluator, and the proof
 * that a podid change admits nobody new:
 *
 * - `roleAccess(policy)`: every Allow statement described as IRSA subjects per OIDC provider,
 *   Pod Identity subjects (cluster / namespace / service account, or why they cannot be
 *   enumerated), or other principals (untouched by podid and shown as such); and the Denies.
 * - `checkNoWidening(before, after, clusters)`: every subject `after` admits that `before` did
 *   not is the Pod Identity twin of a subject `before` admitted through IRSA (same cluster's OIDC
 *   provider, `sub` = system:serviceaccount:NS:SA), or the change is refused. It does not trust
 *   how `after` was made: it works from the two documents (a hand-edited plan is checked the
 *   same way), and it refuses whatever it cannot enumerate.
 */
import { parseClusterArn, providerIssuer } from '../arn.js';
import { parseOperator } from './conditions.js';
import { isNotPrincipalAllow, statementCoversAction } from './evaluate.js';
import type { TrustRequest } from './evaluate.js';
import {
  CLUSTER_TAG_KEY, NAMESPACE_TAG_KEY, SERVICE_ACCOUNT_TAG_KEY, SOURCE_ACCOUNT_KEY, admitsRequests, compareSubjects, isPodIdentityGrant, subjectKey, subjectRequests,
} from './dual-trust.js';
import type { PodIdentitySubject } from './dual-trust.js';
import { parsePolicy } from './parse.js';
import { DEFAULT_AUDIENCE } from '../annotations.js';
import { WEB_IDENTITY_ACTION, webIdentityRequest } from './requests.js';
import type { JsonObject, Statement, TrustPolicy } from './types.js';
import { PRINCIPAL_TYPES } from './types.js';

/** A grant through an OIDC provider (IRSA): the `:sub` values it admits, or every subject. */
export interface IrsaGrant {
  statement: number;
  provider: string;
  /** `:sub` values as written (patterns under StringLike); `["*"]` when there is no `:sub` condition. */
  subjects: string[];
  /** Conditions beyond `:sub`/`:aud` make the grant depend on more than the token: shown, not enumerated. */
  otherConditions: string[];
}

export type PodIdentityGrant =
  | { statement: number; kind: 'scoped'; accounts: string[]; clusters: string[]; namespaces: string[]; serviceAccounts: string[] }
  | { statement: number; kind: 'unprovable'; reason: string }
  | { statement: number; kind: 'unconditioned' };

export interface OtherGrant {
  statement: number;
  /** `Type:id` for each principal, `*` for everyone. */
  principals: string[];
}

export interface RoleAccess {
  irsa: IrsaGrant[];
  podIdentity: PodIdentityGrant[];
  other: OtherGrant[];
  /** Deny statements (indexes): kept as they are by podid. */
  denies: number[];
}

/** `*` when a key has no condition (any value). */
const ANY = ['*'];

const POD_KEYS: Record<string, 'accounts' | 'clusters' | 'namespaces' | 'serviceAccounts'> = {
  [SOURCE_ACCOUNT_KEY.toLowerCase()]: 'accounts',
  [CLUSTER_TAG_KEY.toLowerCase()]: 'clusters',
  'aws:requesttag/eks-cluster-name': 'clusters',
  [NAMESPACE_TAG_KEY.toLowerCase()]: 'namespaces',
  [SERVICE_ACCOUNT_TAG_KEY.toLowerCase()]: 'serviceAccounts',
};

function describePodIdentity(s: Statement, statement: number): PodIdentityGrant {
  if (s.conditions.length === 0) return { statement, kind: 'unconditioned' };
  const dims: Record<'accounts' | 'clusters' | 'namespaces' | 'serviceAccounts', string[] | undefined> = { accounts: undefined, clusters: undefined, namespaces: undefined, serviceAccounts: undefined };
  for (const c of s.conditions) {
    const key = c.key.toLowerCase();
    if (key === 'aws:sourcearn') {
      return { statement, kind: 'unprovable', reason: 'it depends on aws:SourceArn, whose value for EKS Pod Identity no AWS page documents' };
    }
    const dim = POD_KEYS[key];
    const op = parseOperator(c.operator);
    if (dim === undefined || op.negated || op.set !== undefined || op.ifExists || !['StringEquals', 'StringLike'].includes(op.base)) {
      return { statement, kind: 'unprovable', reason: `its condition ${c.operator} ${c.key} is not one podid can enumerate` };
    }
    const prefix = key === 'aws:requesttag/eks-cluster-name' ? 'name:' : '';
    const values = c.values.map((v) => `${prefix}${v}`);
    dims[dim] = dims[dim] === undefined ? values : dims[dim].filter((v) => values.includes(v));
  }
  return { statement, kind: 'scoped', accounts: dims.accounts ?? ANY, clusters: dims.clusters ?? ANY, namespaces: dims.namespaces ?? ANY, serviceAccounts: dims.serviceAccounts ?? ANY };
}

function principalsOf(s: Statement): string[] {
  if (s.principal === undefined) return s.notPrincipal === undefined ? [] : ['NotPrincipal (IAM does not support it in an Allow)'];
  if (s.principal.wildcard) return ['*'];
  return PRINCIPAL_TYPES.flatMap((t) => s.principal?.ids[t].map((id) => `${t}:${id}`) ?? []);
}

/** Who a trust policy lets assume the role, statement by statement. */
export function roleAccess(input: TrustPolicy | JsonObject): RoleAccess {
  const policy = 'statements' in input && 'statementForm' in input ? (input as TrustPolicy) : parsePolicy(input);
  const access: RoleAccess = { irsa: [], podIdentity: [], other: [], denies: [] };
  for (const [i, s] of policy.statements.entries()) {
    if (s.effect === 'Deny') {
      access.denies.push(i);
      continue;
    }
    if (isNotPrincipalAllow(s)) {
      access.other.push({ statement: i, principals: principalsOf(s) });
      continue;
    }
    if (s.principal === undefined || s.principal.wildcard) {
      access.other.push({ statement: i, principals: ['*'] });
      continue;
    }
    const others: string[] = [];
    for (const provider of s.principal.ids.Federated) {
      const issuer = providerIssuer(provider);
      if (issuer === undefined || !statementCoversAction(s, WEB_IDENTITY_ACTION)) {
        others.push(`Federated:${provider}`);
        continue;
      }
      const sub = `${issuer}:sub`.toLowerCase();
      const aud = `${issuer}:aud`.toLowerCase();
      const subs = s.conditions.filter((c) => c.key.toLowerCase() === sub);
      access.irsa.push({
        statement: i,
        provider,
        subjects: subs.length === 0 ? ANY : [...new Set(subs.flatMap((c) => c.values.map((v) => (parseOperator(c.operator).negated ? `not ${v}` : v))))],
        otherConditions: s.conditions.filter((c) => ![sub, aud].includes(c.key.toLowerCase())).map((c) => `${c.operator} ${c.key}`),
      });
    }
    const pods = isPodIdentityGrant(s);
    if (pods) access.podIdentity.push(describePodIdentity(s, i));
    for (const t of ['AWS', 'Service', 'CanonicalUser'] as const) {
      for (const id of s.principal.ids[t]) if (!(pods && t === 'Service' && id === 'pods.eks.amazonaws.com')) others.push(`${t}:${id}`);
    }
    if (others.length > 0) access.other.push({ statement: i, principals: others });
  }
  return access;
}

/** A cluster as the widening check needs it: its ARN, account and IAM OIDC provider (null: none). */
export interface AccessCluster {
  arn: string;
  account: string;
  oidcProvider: string | null;
}

export interface WideningCheck {
  /** Subjects `after` admits through Pod Identity that `before` did not (each the twin of an IRSA subject). */
  added: PodIdentitySubject[];
  /** Why the change cannot be proven not to widen who can assume the role; empty when it is proven. */
  problems: string[];
}

/** Literal values of a condition key under StringEquals, or undefined when it is not exactly that. */
function literalValues(s: Statement, key: string): string[] | undefined {
  const entries = s.conditions.filter((c) => c.key.toLowerCase() === key.toLowerCase());
  if (entries.length !== 1 || entries[0]?.operator !== 'StringEquals') return undefined;
  return [...entries[0].values];
}

/**
 * The subjects a statement podid may have added admits, when it can enumerate them: Allow, only
 * the Pod Identity principal, no more than AssumeRole and TagSession, and conditions that are
 * exactly StringEquals of aws:SourceAccount, eks-cluster-arn, kubernetes-namespace and
 * kubernetes-service-account with literal values. Otherwise a reason.
 */
function enumerateAdded(s: Statement, clusters: ReadonlyMap<string, AccessCluster>): PodIdentitySubject[] | string {
  const p = s.principal;
  if (s.effect !== 'Allow' || p === undefined || p.wildcard) return 'it is not an Allow for a named principal';
  if (p.ids.Service.length === 0 || p.ids.Service.some((id) => id !== 'pods.eks.amazonaws.com') || p.ids.AWS.length + p.ids.Federated.length + p.ids.CanonicalUser.length > 0) {
    return 'it admits principals other than pods.eks.amazonaws.com';
  }
  if (s.action.negated || s.action.values.some((a) => !['sts:assumerole', 'sts:tagsession'].includes(a.toLowerCase()))) return 'it allows actions other than sts:AssumeRole and sts:TagSession';
  const allowed = [SOURCE_ACCOUNT_KEY, CLUSTER_TAG_KEY, NAMESPACE_TAG_KEY, SERVICE_ACCOUNT_TAG_KEY].map((k) => k.toLowerCase());
  const stray = s.conditions.find((c) => c.operator !== 'StringEquals' || !allowed.includes(c.key.toLowerCase()));
  if (stray !== undefined) return `its condition ${stray.operator} ${stray.key} is not one podid writes`;
  const [accounts, arns, namespaces, serviceAccounts] = [SOURCE_ACCOUNT_KEY, CLUSTER_TAG_KEY, NAMESPACE_TAG_KEY, SERVICE_ACCOUNT_TAG_KEY].map((k) => literalValues(s, k));
  if (accounts === undefined || arns === undefined || namespaces === undefined || serviceAccounts === undefined) {
    return 'it does not pin aws:SourceAccount, eks-cluster-arn, kubernetes-namespace and kubernetes-service-account, each once with StringEquals';
  }
  if ([...arns, ...namespaces, ...serviceAccounts].some((v) => /[*?$]/.test(v))) return 'a value holds a wildcard or policy variable';
  const out: PodIdentitySubject[] = [];
  for (const arn of arns) {
    // A cluster outside the plan can only appear in a statement podid extended; its subjects must
    // then be admitted by `before` already (checked by the caller), so only its account is needed.
    const parsed = parseClusterArn(arn);
    if (!parsed.ok) return `${arn} is not a cluster ARN`;
    const account = clusters.get(arn)?.account ?? parsed.arn.account;
    if (accounts.length !== 1 || accounts[0] !== account) return `aws:SourceAccount is not exactly ${account}, the account of ${arn}`;
    for (const namespace of namespaces) for (const serviceAccount of serviceAccounts) out.push({ cluster: arn, namespace, serviceAccount });
  }
  return out;
}

/** Audiences worth trying for a provider: the default, and every literal `:aud` value the policy names. */
export function irsaAudiences(policy: TrustPolicy, provider: string): string[] {
  const issuer = providerIssuer(provider);
  const key = `${issuer ?? ''}:aud`.toLowerCase();
  const named = policy.statements.flatMap((s) => s.conditions.filter((c) => c.key.toLowerCase() === key).flatMap((c) => c.values)).filter((v) => !/[*?$]/.test(v));
  return [...new Set([DEFAULT_AUDIENCE, ...named])];
}

/** Whether `policy` provably admits this service account through the cluster's OIDC provider (IRSA). */
export function admitsIrsaTwin(policy: TrustPolicy, subject: PodIdentitySubject, oidcProvider: string | null, audiences?: readonly string[]): boolean {
  if (oidcProvider === null) return false;
  // `audiences`: irsaAudiences(policy, oidcProvider), when the caller has it for several subjects.
  return (audiences ?? irsaAudiences(policy, oidcProvider)).some((audience) => {
    const req: TrustRequest = webIdentityRequest({ providerArn: oidcProvider, namespace: subject.namespace, serviceAccount: subject.serviceAccount, audience });
    return admitsRequests(policy.statements, [req]);
  });
}

/**
 * Proves that going from `before` to `after` admits no subject beyond the Pod Identity twins of
 * subjects `before` admitted through IRSA. What must hold:
 * 1. every Deny of `before` is in `after`, unchanged (dropping one could admit anyone);
 * 2. every statement of `after` that is not in `before`, unchanged, is a Pod Identity statement
 *    whose subjects podid can enumerate (see enumerateAdded);
 * 3. each of those subjects was admitted by `before` already (through Pod Identity), or is the
 *    twin of one `before` admitted through IRSA on that cluster's OIDC provider, or (`chained`)
 *    is a cross-account service account whose association chains through this role, the
 *    --cross-account-source-role: its IRSA subject lives in the target role's trust, and the
 *    target admits the chain only with that one association's externalId.
 */
export function checkNoWidening(
  beforeDoc: TrustPolicy | JsonObject,
  afterDoc: TrustPolicy | JsonObject,
  clusterList: readonly AccessCluster[],
  opts: { chained?: readonly PodIdentitySubject[] } = {},
): WideningCheck {
  const chained = new Set((opts.chained ?? []).map(subjectKey));
  const before = 'statementForm' in beforeDoc ? (beforeDoc as TrustPolicy) : parsePolicy(beforeDoc);
  const after = 'statementForm' in afterDoc ? (afterDoc as TrustPolicy) : parsePolicy(afterDoc);
  const clusters = new Map(clusterList.map((c) => [c.arn, c]));
  const problems: string[] = [];
  // Each statement's JSON once: `after` shares the statements an edit left alone with `before`.
  const texts = new Map<Statement, string>();
  const textOf = (s: Statement) => {
    let t = texts.get(s);
    if (t === undefined) texts.set(s, (t = JSON.stringify(s.raw)));
    return t;
  };
  const afterCount = new Map<string, number>();
  for (const s of after.statements) {
    const t = textOf(s);
    afterCount.set(t, (afterCount.get(t) ?? 0) + 1);
  }
  const beforeCount = new Map<string, number>();
  for (const [i, s] of before.statements.entries()) {
    const t = textOf(s);
    beforeCount.set(t, (beforeCount.get(t) ?? 0) + 1);
    if (s.effect === 'Deny' && (afterCount.get(t) ?? 0) < (beforeCount.get(t) ?? 0)) problems.push(`the Deny statement ${i} of before is changed or removed`);
  }
  const added = new Map<string, PodIdentitySubject>();
  const seen = new Map<string, number>();
  // The audiences of `before` per provider, once for all the subjects on it.
  const audiencesOf = new Map<string, string[]>();
  for (const [i, s] of after.statements.entries()) {
    const t = textOf(s);
    seen.set(t, (seen.get(t) ?? 0) + 1);
    if ((seen.get(t) ?? 0) <= (beforeCount.get(t) ?? 0)) continue; // unchanged from before
    const subjects = enumerateAdded(s, clusters);
    if (typeof subjects === 'string') {
      problems.push(`statement ${i} is new or changed and ${subjects}`);
      continue;
    }
    for (const subject of subjects) {
      const parsed = parseClusterArn(subject.cluster);
      const c = clusters.get(subject.cluster) ?? { arn: subject.cluster, account: parsed.ok ? parsed.arn.account : '', oidcProvider: null };
      // Only what `after` really admits counts (a Deny kept from before may still exclude it).
      const requests = subjectRequests(c.account, subject);
      if (!admitsRequests(after.statements, requests)) continue;
      if (admitsRequests(before.statements, requests)) continue;
      if (!clusters.has(subject.cluster)) {
        problems.push(`statement ${i} admits ${subject.namespace}/${subject.serviceAccount} on ${subject.cluster}, a cluster outside the plan that the trust policy did not admit`);
        continue;
      }
      let audiences: string[] | undefined;
      if (c.oidcProvider !== null) {
        audiences = audiencesOf.get(c.oidcProvider);
        if (audiences === undefined) audiencesOf.set(c.oidcProvider, (audiences = irsaAudiences(before, c.oidcProvider)));
      }
      if (!chained.has(subjectKey(subject)) && !admitsIrsaTwin(before, subject, c.oidcProvider, audiences)) {
        problems.push(`statement ${i} admits ${subject.namespace}/${subject.serviceAccount} on ${subject.cluster}, which the trust policy did not admit through IRSA`);
        continue;
      }
      added.set(subjectKey(subject), subject);
    }
  }
  return { added: [...added.values()].sort(compareSubjects), problems };
}

/** Whether a trust policy provably admits one subject through Pod Identity (for apply's re-check of a live policy). */
export function podIdentityAdmits(policy: TrustPolicy | JsonObject, account: string, subject: PodIdentitySubject): boolean {
  const p = 'statementForm' in policy ? (policy as TrustPolicy) : parsePolicy(policy);
  return admitsRequests(p.statements, subjectRequests(account, subject));
}

