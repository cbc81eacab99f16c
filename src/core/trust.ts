/**
 * What a role's trust policy means for one cluster and one service account: which statements
 * grant it IRSA (and how tightly), which grant Pod Identity (and to which clusters), and which
 * belong to other clusters and must survive finalize. Pure: the scanner turns this into findings.
 */
import { issuerHostPath, oidcProviderArn, providerIssuer } from './arn.js';
import type { ConditionEntry, Statement, TrustPolicy } from './policy/types.js';
import { evaluateCondition, hasWildcard, parseOperator } from './policy/conditions.js';
import { conditionsForKey, isNotPrincipalAllow, matchStatement, principalMatches, statementApplies, statementCoversAction } from './policy/evaluate.js';
import type { Tri, TrustRequest } from './policy/evaluate.js';
import { DEFAULT_AUDIENCE } from './annotations.js';
import { POD_IDENTITY_SERVICE, TAG_SESSION_ACTION, WEB_IDENTITY_ACTION, podIdentityRequests, serviceAccountSubject, webIdentityRequest } from './policy/requests.js';
import { isPodIdentityGrant } from './policy/dual-trust.js';

export interface TrustSubject {
  readonly partition: string;
  readonly clusterAccount: string;
  readonly clusterArn: string;
  /** `https://oidc.eks...`; null when the cluster has no OIDC issuer (no IRSA possible). */
  readonly oidcIssuer: string | null;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The token audience (`eks.amazonaws.com/audience`); default `sts.amazonaws.com`. */
  readonly audience?: string;
}

/**
 * - `exact`: the `:sub` condition names this service account.
 * - `wildcard`: it admits it through a pattern (or a negated operator).
 * - `none`: it does not admit it (or cannot be proven to).
 * - `unconstrained`: there is no `:sub` condition: every service account of the cluster.
 */
export type SubMatch = 'exact' | 'wildcard' | 'none' | 'unconstrained';
export type AudMatch = 'present-match' | 'present-mismatch' | 'absent';

export interface IrsaStatementAnalysis {
  readonly index: number;
  readonly subMatch: SubMatch;
  /** Operator of the first `:sub` condition, e.g. `StringEquals`, `StringLike`. */
  readonly subOperator: string | undefined;
  /**
   * The `:sub` values, for messages: a negated operator's (`StringNotEquals`, `StringNotLike`)
   * as `not VALUE`, since it admits every subject but those.
   */
  readonly subValues: readonly string[];
  readonly audMatch: AudMatch;
  /** The statement admits this service account and no other one. */
  readonly onlyThisServiceAccount: boolean;
  /** `:sub` values other than this service account's subject (names or patterns). */
  readonly otherSubjects: readonly string[];
  /** Whether the whole statement (every condition) admits this service account. */
  readonly admits: Tri;
  /** Condition keys podid cannot evaluate (admission not provable). */
  readonly unknownConditionKeys: readonly string[];
}

export interface PodIdentityStatementAnalysis {
  readonly index: number;
  /** `sts:TagSession` is allowed too (Pod Identity needs it). */
  readonly allowsTagSession: boolean;
  /** The statement provably admits this cluster (and service account) for AssumeRole and TagSession. */
  readonly admitsCluster: boolean;
  /** No conditions: any cluster in any account can use the role. */
  readonly unconditioned: boolean;
  /** `Principal: "*"`: not only the Pod Identity service. */
  readonly principalWildcard: boolean;
  /** Cluster ARNs (or patterns) named in `aws:SourceArn`. */
  readonly scopedClusters: readonly string[];
  /** Condition keys podid cannot evaluate (e.g. `aws:SourceOrgId`): admission not provable. */
  readonly unknownConditionKeys: readonly string[];
}

export interface OtherProviderStatement {
  readonly index: number;
  /** Provider ARNs of this statement other than this cluster's. */
  readonly providers: readonly string[];
  /** Whether those providers are EKS cluster issuers (as opposed to e.g. GitHub Actions). */
  readonly eksIssuer: boolean;
  readonly subjects: readonly string[];
}

export interface DenyStatementAnalysis {
  readonly index: number;
  readonly blocks: 'irsa' | 'pod-identity';
  /** `false`: it may block, depending on a condition podid cannot evaluate. */
  readonly certain: boolean;
}

export interface TrustAnalysis {
  readonly providerArn: string | null;
  readonly subject: string;
  readonly irsaStatements: readonly IrsaStatementAnalysis[];
  /** Some Allow statement provably admits this service account and no Deny certainly blocks it. */
  readonly grantsIrsa: boolean;
  readonly podIdentityStatements: readonly PodIdentityStatementAnalysis[];
  /** AssumeRole and TagSession are both provably allowed for this cluster and not denied. */
  readonly grantsPodIdentity: boolean;
  /** OIDC statements for other providers: finalize must keep them. */
  readonly otherClusterIrsa: readonly OtherProviderStatement[];
  readonly denies: readonly DenyStatementAnalysis[];
  /**
   * Indexes of `Allow` statements that use `NotPrincipal`. IAM does not support that in a role
   * trust policy, so podid counts them as admitting nobody (neither IRSA nor Pod Identity) and
   * adds its own statement instead; the scanner should report them.
   */
  readonly unsupportedNotPrincipalAllows: readonly number[];
}

const EKS_ISSUER_RE = /^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

function isLiteralEqual(c: ConditionEntry, value: string, subject: string): boolean {
  const { base } = parseOperator(c.operator);
  if (base === 'StringEqualsIgnoreCase') return value.toLowerCase() === subject.toLowerCase();
  if (base === 'StringLike') return !hasWildcard(value) && value === subject;
  return base === 'StringEquals' && value === subject;
}

function analyzeIrsaStatement(s: Statement, index: number, view: TrustView, subject: string, subj: TrustSubject, webReq: TrustRequest): IrsaStatementAnalysis {
  const subs = conditionsForKey(s, view.subKey);
  const auds = conditionsForKey(s, view.audKey);
  const audience = subj.audience ?? DEFAULT_AUDIENCE;

  let subMatch: SubMatch;
  if (subs.length === 0) {
    subMatch = 'unconstrained';
  } else if (!subs.every((c) => evaluateCondition(c.operator, c.values, subject) === true)) {
    subMatch = 'none';
  } else {
    const plain = subs.every((c) => {
      const op = parseOperator(c.operator);
      return !op.negated && op.set === undefined && c.values.some((v) => isLiteralEqual(c, v, subject));
    });
    subMatch = plain ? 'exact' : 'wildcard';
  }

  const positiveSubs = subs.filter((c) => !parseOperator(c.operator).negated);
  const subValues = subs.flatMap((c) => (parseOperator(c.operator).negated ? c.values.map((v) => `not ${v}`) : c.values));
  const otherSubjects = [...new Set(positiveSubs.flatMap((c) => c.values.filter((v) => !isLiteralEqual(c, v, subject))))];
  const audMatch: AudMatch = auds.length === 0 ? 'absent' : auds.every((c) => evaluateCondition(c.operator, c.values, audience) === true) ? 'present-match' : 'present-mismatch';
  // webReq: the request for this provider, service account and audience (analyzeTrust builds it once).
  const match = matchStatement(s, webReq);
  const onlyThisServiceAccount =
    subMatch === 'exact' &&
    positiveSubs.length === subs.length &&
    subs.every((c) => parseOperator(c.operator).set === undefined && !parseOperator(c.operator).ifExists) &&
    otherSubjects.length === 0 &&
    s.principal !== undefined &&
    !s.principal.wildcard;

  return {
    index,
    subMatch,
    subOperator: subs[0]?.operator,
    subValues,
    audMatch,
    onlyThisServiceAccount,
    otherSubjects,
    admits: match.applies,
    unknownConditionKeys: match.unknownKeys,
  };
}

/** Three-valued OR: a Deny of either Pod Identity call blocks it. */
function eitherApplies(a: Tri, b: Tri): Tri {
  if (a === 'yes' || b === 'yes') return 'yes';
  return a === 'unknown' || b === 'unknown' ? 'unknown' : 'no';
}

function sourceArnValues(s: Statement): string[] {
  return conditionsForKey(s, 'aws:SourceArn')
    .filter((c) => !parseOperator(c.operator).negated)
    .flatMap((c) => c.values);
}

/**
 * What a trust policy says that does not depend on the service account, for one cluster (its
 * partition, account, ARN and OIDC issuer): which statements are this provider's IRSA grants,
 * Pod Identity grants, Denies and NotPrincipal Allows, and the other providers' statements.
 * analyzeTrust reads it for each service account; the scan builds it once per role and cluster.
 */
export interface TrustView {
  readonly policy: TrustPolicy;
  readonly providerArn: string | null;
  /** `<issuer host/path>:sub` and `:aud`, the keys of this provider's token conditions. */
  readonly subKey: string;
  readonly audKey: string;
  /** Allow statements trusting this cluster's provider for AssumeRoleWithWebIdentity. */
  readonly irsa: readonly number[];
  readonly podIdentity: readonly number[];
  readonly denies: readonly number[];
  readonly otherClusterIrsa: readonly OtherProviderStatement[];
  readonly unsupportedNotPrincipalAllows: readonly number[];
  /**
   * Some statement can apply to a Pod Identity request (a Deny, or an Allow whose principal
   * includes pods.eks.amazonaws.com): without one, the requests need not be built (nothing can
   * admit or deny them).
   */
  readonly podIdentityRelevant: boolean;
}

export function trustView(policy: TrustPolicy, cluster: Pick<TrustSubject, 'partition' | 'clusterAccount' | 'oidcIssuer'>): TrustView {
  const providerArn = cluster.oidcIssuer === null ? null : oidcProviderArn(cluster.partition, cluster.clusterAccount, cluster.oidcIssuer);
  const issuer = cluster.oidcIssuer === null ? null : issuerHostPath(cluster.oidcIssuer);
  const irsa: number[] = [];
  const podIdentity: number[] = [];
  const denies: number[] = [];
  const otherClusterIrsa: OtherProviderStatement[] = [];
  const unsupportedNotPrincipalAllows: number[] = [];
  let podIdentityRelevant = false;
  for (const [index, s] of policy.statements.entries()) {
    if (s.effect === 'Deny') {
      denies.push(index);
      podIdentityRelevant = true;
      continue;
    }
    if (isNotPrincipalAllow(s)) {
      unsupportedNotPrincipalAllows.push(index);
      continue;
    }
    if (principalMatches(s, 'Service', POD_IDENTITY_SERVICE)) podIdentityRelevant = true;

    if (providerArn !== null && issuer !== null && principalMatches(s, 'Federated', providerArn) && s.principal !== undefined && statementCoversAction(s, WEB_IDENTITY_ACTION)) {
      irsa.push(index);
    }

    const otherProviders = (s.principal?.ids.Federated ?? []).filter((f) => f !== providerArn && providerIssuer(f) !== undefined);
    if (otherProviders.length > 0) {
      otherClusterIrsa.push({
        index,
        providers: otherProviders,
        eksIssuer: otherProviders.some((f) => EKS_ISSUER_RE.test(providerIssuer(f) ?? '')),
        subjects: s.conditions.filter((c) => c.key.toLowerCase().endsWith(':sub')).flatMap((c) => c.values),
      });
    }

    if (isPodIdentityGrant(s)) podIdentity.push(index);
  }
  return { policy, providerArn, subKey: `${issuer}:sub`, audKey: `${issuer}:aud`, irsa, podIdentity, denies, otherClusterIrsa, unsupportedNotPrincipalAllows, podIdentityRelevant };
}

export function analyzeTrust(policy: TrustPolicy, subj: TrustSubject): TrustAnalysis {
  return analyzeTrustIn(trustView(policy, subj), subj);
}

/** analyzeTrust with the view of the subject's cluster built already (the same partition, account and issuer). */
export function analyzeTrustIn(view: TrustView, subj: TrustSubject): TrustAnalysis {
  const { policy, providerArn } = view;
  const subject = serviceAccountSubject(subj.namespace, subj.serviceAccount);
  const webReq =
    providerArn === null ? undefined : webIdentityRequest({ providerArn, namespace: subj.namespace, serviceAccount: subj.serviceAccount, audience: subj.audience ?? DEFAULT_AUDIENCE });
  const pod = view.podIdentityRelevant
    ? podIdentityRequests({ clusterArn: subj.clusterArn, clusterAccount: subj.clusterAccount, namespace: subj.namespace, serviceAccount: subj.serviceAccount })
    : undefined;

  const denies: DenyStatementAnalysis[] = [];
  for (const index of view.denies) {
    const s = policy.statements[index]!;
    const irsa: Tri = webReq === undefined ? 'no' : statementApplies(s, webReq);
    if (irsa !== 'no') denies.push({ index, blocks: 'irsa', certain: irsa === 'yes' });
    // A Deny makes the Pod Identity requests relevant: `pod` is built.
    const podIdentity = pod === undefined ? 'no' : eitherApplies(statementApplies(s, pod.assumeRole), statementApplies(s, pod.tagSession));
    if (podIdentity !== 'no') denies.push({ index, blocks: 'pod-identity', certain: podIdentity === 'yes' });
  }
  // Statement order across the kinds is kept: each list is in statement order.
  const irsaStatements: IrsaStatementAnalysis[] = [];
  if (webReq !== undefined) for (const index of view.irsa) irsaStatements.push(analyzeIrsaStatement(policy.statements[index]!, index, view, subject, subj, webReq));

  const podIdentityStatements: PodIdentityStatementAnalysis[] = [];
  if (pod !== undefined) {
    for (const index of view.podIdentity) {
      const s = policy.statements[index]!;
      const assume = matchStatement(s, pod.assumeRole);
      const tag = matchStatement(s, pod.tagSession);
      podIdentityStatements.push({
        index,
        allowsTagSession: statementCoversAction(s, TAG_SESSION_ACTION),
        admitsCluster: assume.applies === 'yes' && tag.applies === 'yes',
        unconditioned: s.conditions.length === 0,
        principalWildcard: s.principal?.wildcard === true,
        scopedClusters: sourceArnValues(s),
        unknownConditionKeys: [...new Set([...assume.unknownKeys, ...tag.unknownKeys])],
      });
    }
  }

  const certainlyDenied = (blocks: DenyStatementAnalysis['blocks']) => denies.some((d) => d.blocks === blocks && d.certain);
  const allowedFor = (req: TrustRequest) => policy.statements.some((s) => s.effect === 'Allow' && statementApplies(s, req) === 'yes');
  const grantsIrsa = irsaStatements.some((st) => st.admits === 'yes') && !certainlyDenied('irsa');
  const grantsPodIdentity = pod !== undefined && allowedFor(pod.assumeRole) && allowedFor(pod.tagSession) && !certainlyDenied('pod-identity');

  return {
    providerArn,
    subject,
    irsaStatements,
    grantsIrsa,
    podIdentityStatements,
    grantsPodIdentity,
    otherClusterIrsa: view.otherClusterIrsa,
    denies,
    unsupportedNotPrincipalAllows: view.unsupportedNotPrincipalAllows,
  };
}
