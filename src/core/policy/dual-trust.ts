/**
 * Dual trust: during a migration the role must trust both its IRSA provider(s) and EKS Pod
 * Identity, so pods keep working whichever credentials they get. `addPodIdentityTrust` admits
 * exactly the (cluster, namespace, service account) subjects being migrated through Pod Identity
 * and nothing else, using the session tags EKS Pod Identity attaches (EKS user guide, "Create IAM
 * role with trust policy required by EKS Pod Identity" and "Enable or disable session tags"):
 *
 *   Principal  { "Service": "pods.eks.amazonaws.com" }
 *   Action     [ "sts:AssumeRole", "sts:TagSession" ]
 *   Condition  StringEquals aws:SourceAccount                          = the cluster account
 *              StringEquals aws:RequestTag/eks-cluster-arn             = cluster ARNs
 *              StringEquals aws:RequestTag/kubernetes-namespace        = namespaces
 *              StringEquals aws:RequestTag/kubernetes-service-account  = service accounts
 *
 * Never `aws:SourceArn`: no AWS page documents what Pod Identity sends there. Values of one key
 * are ORed and keys are ANDed, so one statement admits the product clusters x namespaces x
 * service accounts; the encoding splits the subjects into such products ("rectangles") that are
 * exact: namespaces with the same set of service accounts share a statement, clusters with the
 * same rows share one. An existing statement of exactly this shape is extended only when the
 * union is still a product (two of the three lists equal), so it stays exact too. Idempotent:
 * subjects the policy already provably admits are not added again. No statement other than the
 * ones it appends or extends changes, byte for byte.
 */
import { parseClusterArn } from '../arn.js';
import { principalMatches, statementApplies, statementCoversAction } from './evaluate.js';
import type { TrustRequest } from './evaluate.js';
import { parseStatement } from './parse.js';
import { ASSUME_ROLE_ACTION, POD_IDENTITY_SERVICE, TAG_SESSION_ACTION, podIdentityRequests } from './requests.js';
import { withStatements } from './serialize.js';
import type { JsonObject, JsonValue, Statement, TrustPolicy } from './types.js';
import { PolicyEditError } from './types.js';
import { compareStrings } from '../text.js';


/** Sid of the statements podid appends (alphanumeric: some IAM policy types allow nothing else); later ones get 2, 3, ... */
export const POD_IDENTITY_SID = 'PodidPodIdentity';

/** The condition keys of the statement podid writes, in the order it writes them. */
export const SOURCE_ACCOUNT_KEY = 'aws:SourceAccount';
export const CLUSTER_TAG_KEY = 'aws:RequestTag/eks-cluster-arn';
export const NAMESPACE_TAG_KEY = 'aws:RequestTag/kubernetes-namespace';
export const SERVICE_ACCOUNT_TAG_KEY = 'aws:RequestTag/kubernetes-service-account';

/** One ServiceAccount admitted through Pod Identity: its cluster's ARN, namespace and name. */
export interface PodIdentitySubject {
  readonly cluster: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

export interface PodIdentityTrustTarget {
  readonly partition: string;
  readonly clusterAccount: string;
  /** The service accounts being migrated onto this role (each admitted by the role's IRSA trust). */
  readonly subjects: readonly PodIdentitySubject[];
}

export interface AddPodIdentityTrustResult {
  readonly policy: TrustPolicy;
  readonly change: 'none' | 'changed';
  /** Indexes (in the new policy) of the statements appended. */
  readonly added: readonly number[];
  /** Indexes of existing statements extended. */
  readonly extended: readonly number[];
  /** Subjects the change newly admits (sorted). */
  readonly addedSubjects: readonly PodIdentitySubject[];
  /** Subjects the policy already provably admitted. */
  readonly alreadyAdmitted: readonly PodIdentitySubject[];
  /** Subjects a Deny statement blocks (or may block): no Allow podid adds can make them work; not added. */
  readonly deniedSubjects: readonly PodIdentitySubject[];
  /** An existing Pod Identity statement without conditions (any cluster in any account). podid leaves it alone. */
  readonly existingUnconditioned: boolean;
}

/** An Allow statement granting `sts:AssumeRole` to the Pod Identity service principal. */
export function isPodIdentityGrant(s: Statement): boolean {
  return s.effect === 'Allow' && s.principal !== undefined && principalMatches(s, 'Service', POD_IDENTITY_SERVICE) && statementCoversAction(s, ASSUME_ROLE_ACTION);
}

const cmp = compareStrings;
export const subjectKey = (s: PodIdentitySubject) => `${s.cluster}\u0000${s.namespace}\u0000${s.serviceAccount}`;
export const compareSubjects = (a: PodIdentitySubject, b: PodIdentitySubject) => cmp(a.cluster, b.cluster) || cmp(a.namespace, b.namespace) || cmp(a.serviceAccount, b.serviceAccount);

// Kubernetes names (RFC 1123 labels / subdomains): no glob characters, so StringEquals values are exact.
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function validateTarget(target: PodIdentityTrustTarget): PodIdentitySubject[] {
  if (target.subjects.length === 0) throw new PolicyEditError('addPodIdentityTrust needs at least one service account');
  const seen = new Map<string, PodIdentitySubject>();
  for (const s of target.subjects) {
    const parsed = parseClusterArn(s.cluster);
    if (!parsed.ok) throw new PolicyEditError(`invalid cluster ARN ${JSON.stringify(s.cluster)}: ${parsed.issues.map((i) => i.message).join('; ')}`);
    const { arn } = parsed;
    if (arn.partition !== target.partition || arn.account !== target.clusterAccount) {
      throw new PolicyEditError(
        `cluster ${arn.arn} is not in partition ${target.partition} and account ${target.clusterAccount}`,
        'a pod identity association can only use a role of the cluster account; use targetRoleArn for cross-account roles',
      );
    }
    for (const [what, value] of [['namespace', s.namespace], ['service account', s.serviceAccount]] as const) {
      if (!K8S_NAME.test(value) || value.length > 253) throw new PolicyEditError(`${what} ${JSON.stringify(value)} is not a Kubernetes name`);
    }
    const subject = { cluster: arn.arn, namespace: s.namespace, serviceAccount: s.serviceAccount };
    seen.set(subjectKey(subject), subject);
  }
  return [...seen.values()].sort(compareSubjects);
}

/** The AssumeRole and TagSession requests EKS makes for a subject. */
export function subjectRequests(clusterAccount: string, s: PodIdentitySubject): TrustRequest[] {
  const { assumeRole, tagSession } = podIdentityRequests({ clusterArn: s.cluster, clusterAccount, namespace: s.namespace, serviceAccount: s.serviceAccount });
  return [assumeRole, tagSession];
}

/** Some Allow provably admits every request, and no Deny applies or may apply. */
export function admitsRequests(statements: readonly Statement[], requests: readonly TrustRequest[]): boolean {
  return requests.every((r) => statements.some((s) => s.effect === 'Allow' && statementApplies(s, r) === 'yes')) && !deniesRequests(statements, requests);
}

/** A Deny statement applies (or may apply: a condition podid cannot evaluate) to one of the requests. */
export function deniesRequests(statements: readonly Statement[], requests: readonly TrustRequest[]): boolean {
  return requests.some((r) => statements.some((s) => s.effect === 'Deny' && statementApplies(s, r) !== 'no'));
}

/** clusters x namespaces x serviceAccounts: what one podid statement admits. */
export interface SubjectRectangle {
  readonly clusters: readonly string[];
  readonly namespaces: readonly string[];
  readonly serviceAccounts: readonly string[];
}

/**
 * Splits subjects into exact products: per cluster, namespaces with the same set of service
 * accounts form one row; clusters with the same rows share them. The union of the products is
 * exactly the subjects, and no product admits a subject outside them.
 */
export function encodeSubjects(subjects: readonly PodIdentitySubject[]): SubjectRectangle[] {
  const byCluster = new Map<string, Map<string, Set<string>>>();
  for (const s of subjects) {
    const nss = byCluster.get(s.cluster) ?? new Map<string, Set<string>>();
    byCluster.set(s.cluster, nss);
    const sas = nss.get(s.namespace) ?? new Set<string>();
    nss.set(s.namespace, sas);
    sas.add(s.serviceAccount);
  }
  // row key (namespaces|serviceAccounts) -> clusters
  const rows = new Map<string, { namespaces: string[]; serviceAccounts: string[]; clusters: string[] }>();
  for (const [cluster, nss] of [...byCluster].sort(([a], [b]) => cmp(a, b))) {
    const bySas = new Map<string, { namespaces: string[]; serviceAccounts: string[] }>();
    for (const [ns, sas] of [...nss].sort(([a], [b]) => cmp(a, b))) {
      const serviceAccounts = [...sas].sort();
      const key = serviceAccounts.join('\u0000');
      const row = bySas.get(key) ?? { namespaces: [], serviceAccounts };
      row.namespaces.push(ns);
      bySas.set(key, row);
    }
    for (const row of bySas.values()) {
      const key = `${row.namespaces.join('\u0000')}\u0001${row.serviceAccounts.join('\u0000')}`;
      const entry = rows.get(key) ?? { ...row, clusters: [] };
      entry.clusters.push(cluster);
      rows.set(key, entry);
    }
  }
  return [...rows.values()]
    .map((r) => ({ clusters: r.clusters, namespaces: r.namespaces, serviceAccounts: r.serviceAccounts }))
    .sort((a, b) => cmp(a.clusters.join(), b.clusters.join()) || cmp(a.namespaces.join(), b.namespaces.join()) || cmp(a.serviceAccounts.join(), b.serviceAccounts.join()));
}

const one = (values: readonly string[]): JsonValue => (values.length === 1 && values[0] !== undefined ? values[0] : [...values]);

/** The statement podid writes for one product of subjects. */
export function podIdentityStatement(sid: string, clusterAccount: string, rect: SubjectRectangle): Statement {
  const raw: JsonObject = {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: POD_IDENTITY_SERVICE },
    Action: [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION],
    Condition: {
      StringEquals: {
        [SOURCE_ACCOUNT_KEY]: clusterAccount,
        [CLUSTER_TAG_KEY]: one(rect.clusters),
        [NAMESPACE_TAG_KEY]: one(rect.namespaces),
        [SERVICE_ACCOUNT_TAG_KEY]: one(rect.serviceAccounts),
      },
    },
  };
  // What parseStatement(raw) returns, built directly: podid's own statement has nothing to
  // validate (the policy-parse unit tests hold the two equal).
  const list = (values: readonly string[]) => [...values];
  return {
    sid,
    effect: 'Allow',
    principal: { wildcard: false, ids: { AWS: [], Service: [POD_IDENTITY_SERVICE], Federated: [], CanonicalUser: [] } },
    notPrincipal: undefined,
    action: { negated: false, values: [ASSUME_ROLE_ACTION, TAG_SESSION_ACTION] },
    conditions: [
      { operator: 'StringEquals', key: SOURCE_ACCOUNT_KEY, values: [clusterAccount] },
      { operator: 'StringEquals', key: CLUSTER_TAG_KEY, values: list(rect.clusters) },
      { operator: 'StringEquals', key: NAMESPACE_TAG_KEY, values: list(rect.namespaces) },
      { operator: 'StringEquals', key: SERVICE_ACCOUNT_TAG_KEY, values: list(rect.serviceAccounts) },
    ],
    raw,
  };
}

/** The statement's Action is exactly {sts:AssumeRole, sts:TagSession} (any case, string or list, no wildcard). */
function grantsExactlyPodIdentityActions(s: Statement): boolean {
  if (s.action.negated) return false;
  const wanted = [ASSUME_ROLE_ACTION.toLowerCase(), TAG_SESSION_ACTION.toLowerCase()];
  const actions = new Set(s.action.values.map((a) => a.toLowerCase()));
  return actions.size === wanted.length && wanted.every((a) => actions.has(a));
}

const RECT_KEYS = [CLUSTER_TAG_KEY, NAMESPACE_TAG_KEY, SERVICE_ACCOUNT_TAG_KEY].map((k) => k.toLowerCase());

/**
 * The product an existing statement admits, when it has exactly the shape podid writes: only the
 * Pod Identity principal, exactly the two actions, and a single StringEquals block of
 * aws:SourceAccount = `account` and literal lists of the three session tags. Anything else
 * (another operator, another key, a wildcard, another principal) is not a product podid can
 * extend without changing what it means.
 */
export function statementRectangle(s: Statement, account: string): SubjectRectangle | undefined {
  const p = s.principal;
  if (s.effect !== 'Allow' || p === undefined || p.wildcard || s.notPrincipal !== undefined) return undefined;
  if (p.ids.Service.length === 0 || !p.ids.Service.every((id) => id === POD_IDENTITY_SERVICE)) return undefined;
  if (p.ids.AWS.length + p.ids.Federated.length + p.ids.CanonicalUser.length > 0) return undefined;
  if (!grantsExactlyPodIdentityActions(s)) return undefined;
  const values = new Map<string, readonly string[]>();
  for (const c of s.conditions) {
    const key = c.key.toLowerCase();
    if (c.operator !== 'StringEquals' || values.has(key)) return undefined;
    if (key === SOURCE_ACCOUNT_KEY.toLowerCase()) {
      if (!c.values.every((v) => v === account)) return undefined;
    } else if (!RECT_KEYS.includes(key) || c.values.length === 0 || c.values.some((v) => /[*?$]/.test(v))) {
      return undefined;
    }
    values.set(key, c.values);
  }
  if (!values.has(SOURCE_ACCOUNT_KEY.toLowerCase())) return undefined;
  const [clusters, namespaces, serviceAccounts] = RECT_KEYS.map((k) => values.get(k));
  if (clusters === undefined || namespaces === undefined || serviceAccounts === undefined) return undefined;
  return { clusters: [...new Set(clusters)], namespaces: [...new Set(namespaces)], serviceAccounts: [...new Set(serviceAccounts)] };
}

/** Same length, and the union of both holds that many distinct values. */
function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n > 16) return new Set([...a, ...b]).size === n;
  // The union's size without building it (the lists podid compares hold a few values).
  const at = (i: number) => (i < n ? a[i] : b[i - n]);
  let distinct = 0;
  for (let i = 0; i < 2 * n; i++) {
    let first = true;
    for (let j = 0; j < i && first; j++) if (at(j) === at(i)) first = false;
    if (first) distinct++;
  }
  return distinct === n;
}

const DIMENSIONS: readonly (keyof SubjectRectangle)[] = ['clusters', 'namespaces', 'serviceAccounts'];

/** Which one dimension to widen so that `existing` ∪ `rect` is still one product, or undefined. */
function mergeDimension(existing: SubjectRectangle, rect: SubjectRectangle): keyof SubjectRectangle | undefined {
  let differing: keyof SubjectRectangle | undefined;
  let count = 0;
  for (const d of DIMENSIONS) {
    if (sameSet(existing[d], rect[d])) continue;
    differing = d;
    count++;
  }
  if (count === 0) return 'serviceAccounts';
  return count === 1 ? differing : undefined;
}

const DIMENSION_KEY: Record<keyof SubjectRectangle, string> = { clusters: CLUSTER_TAG_KEY, namespaces: NAMESPACE_TAG_KEY, serviceAccounts: SERVICE_ACCOUNT_TAG_KEY };

function extendStatement(s: Statement, dim: keyof SubjectRectangle, add: readonly string[]): Statement {
  const raw = structuredClone(s.raw) as JsonObject;
  const block = (raw['Condition'] as JsonObject)['StringEquals'] as JsonObject;
  const key = Object.keys(block).find((k) => k.toLowerCase() === DIMENSION_KEY[dim].toLowerCase());
  if (key === undefined) throw new PolicyEditError(`internal: statement has no ${DIMENSION_KEY[dim]}`);
  const current = block[key];
  const existing: string[] = Array.isArray(current) ? current.map(String) : current === undefined ? [] : [String(current)];
  // Assigning to the existing key keeps its position, so only this value changes in the output.
  block[key] = [...existing, ...add.filter((v) => !existing.includes(v))];
  return parseStatement(raw);
}

function uniqueSid(statements: readonly Statement[]): string {
  const taken = new Set(statements.map((s) => (s.sid ?? '').toLowerCase()));
  if (!taken.has(POD_IDENTITY_SID.toLowerCase())) return POD_IDENTITY_SID;
  for (let n = 2; ; n++) {
    const sid = `${POD_IDENTITY_SID}${n}`;
    if (!taken.has(sid.toLowerCase())) return sid;
  }
}

/** Every request is provably allowed by some Allow (Denies aside). */
function allowsRequests(statements: readonly Statement[], requests: readonly TrustRequest[]): boolean {
  return requests.every((r) => statements.some((s) => s.effect === 'Allow' && statementApplies(s, r) === 'yes'));
}

export function addPodIdentityTrust(policy: TrustPolicy, target: PodIdentityTrustTarget): AddPodIdentityTrustResult {
  return editPolicy(policy, target.clusterAccount, validateTarget(target));
}

function editPolicy(policy: TrustPolicy, account: string, subjects: readonly PodIdentitySubject[]): AddPodIdentityTrustResult {
  const original = policy.statements;
  const existingUnconditioned = original.some((s) => isPodIdentityGrant(s) && s.conditions.length === 0);
  const deniedSubjects: PodIdentitySubject[] = [];
  const alreadyAdmitted: PodIdentitySubject[] = [];
  const missing: PodIdentitySubject[] = [];
  for (const s of subjects) {
    const requests = subjectRequests(account, s);
    if (deniesRequests(original, requests)) deniedSubjects.push(s);
    // Not denied: admitted when every request is allowed (admitsRequests less its Deny check).
    else if (allowsRequests(original, requests)) alreadyAdmitted.push(s);
    else missing.push(s);
  }
  if (missing.length === 0) {
    return { policy, change: 'none', added: [], extended: [], addedSubjects: [], alreadyAdmitted, deniedSubjects, existingUnconditioned };
  }

  const statements = [...original];
  const extended = new Set<number>();
  const added: number[] = [];
  // Each statement's product read once for all the rectangles (statementRectangle is pure).
  const rectangles = new Map<Statement, SubjectRectangle | undefined>();
  const rectangleOf = (s: Statement) => {
    if (rectangles.has(s)) return rectangles.get(s);
    const r = statementRectangle(s, account);
    rectangles.set(s, r);
    return r;
  };
  for (const rect of encodeSubjects(missing)) {
    let merged = false;
    for (let index = 0; index < statements.length; index++) {
      const s = statements[index]!;
      const existing = rectangleOf(s);
      if (existing === undefined) continue;
      const dim = mergeDimension(existing, rect);
      if (dim === undefined) continue;
      statements[index] = extendStatement(s, dim, rect[dim]);
      if (index < original.length) extended.add(index);
      merged = true;
      break;
    }
    if (merged) continue;
    added.push(statements.length);
    statements.push(podIdentityStatement(uniqueSid(statements), account, rect));
  }
  return {
    policy: withStatements(policy, statements),
    change: 'changed',
    added,
    extended: [...extended].sort((a, b) => a - b),
    addedSubjects: missing,
    alreadyAdmitted,
    deniedSubjects,
    existingUnconditioned,
  };
}
