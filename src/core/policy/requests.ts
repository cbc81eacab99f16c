/**
 * The requests a trust policy has to admit, with the condition keys podid can know in advance:
 * - IRSA: `sts:AssumeRoleWithWebIdentity` from the cluster's OIDC provider with the projected
 *   token's `<issuer>:sub` (`system:serviceaccount:<ns>:<sa>`) and `<issuer>:aud`.
 * - Pod Identity: `sts:AssumeRole` and `sts:TagSession` from `pods.eks.amazonaws.com`, with
 *   `aws:SourceAccount` of the cluster and the session tags EKS attaches (EKS user guide,
 *   "Enable or disable session tags"). Per-pod tags (pod name and uid) are unknown ahead of
 *   time. `aws:SourceArn` is deliberately unknown: no AWS page documents what Pod Identity sends
 *   there, so a condition on it can never be proven to admit (or to spare) anyone.
 *   The caller is a service principal, so (IAM global condition keys reference) the request
 *   carries `aws:PrincipalIsAWSService` = true and `aws:PrincipalServiceName`, and carries no
 *   `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalOrgID` or `aws:PrincipalOrgPaths`:
 *   known to be absent, so `Null`, `...IfExists` and negated operators on them evaluate
 *   definitely (a `Deny` with `StringNotEquals aws:PrincipalOrgID` applies to Pod Identity, as
 *   it does in IAM).
 */
import { DEFAULT_AUDIENCE } from '../annotations.js';
import { providerIssuer } from '../arn.js';
import type { TrustRequest } from './evaluate.js';

export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';
export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
export const ASSUME_ROLE_ACTION = 'sts:AssumeRole';
export const TAG_SESSION_ACTION = 'sts:TagSession';

/** Session tags EKS Pod Identity attaches on every assume. */
export const POD_IDENTITY_SESSION_TAGS = [
  'eks-cluster-arn',
  'eks-cluster-name',
  'kubernetes-namespace',
  'kubernetes-service-account',
  'kubernetes-pod-name',
  'kubernetes-pod-uid',
] as const;

/** Condition keys fixed for a request made by the Pod Identity service principal; null = absent. */
const SERVICE_PRINCIPAL_KEYS: readonly (readonly [string, string | null])[] = [
  ['aws:principalisawsservice', 'true'],
  ['aws:principalservicename', POD_IDENTITY_SERVICE],
  ['aws:principalarn', null],
  ['aws:principalaccount', null],
  ['aws:principalorgid', null],
  ['aws:principalorgpaths', null],
];

export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

export function webIdentityRequest(input: { providerArn: string; namespace: string; serviceAccount: string; audience?: string }): TrustRequest {
  const issuer = providerIssuer(input.providerArn) ?? '';
  const keys = new Map<string, string>([
    [`${issuer}:sub`.toLowerCase(), serviceAccountSubject(input.namespace, input.serviceAccount)],
    [`${issuer}:aud`.toLowerCase(), input.audience ?? DEFAULT_AUDIENCE],
  ]);
  return { principal: { type: 'Federated', id: input.providerArn }, action: WEB_IDENTITY_ACTION, keys };
}

export interface PodIdentityRequestInput {
  readonly clusterArn: string;
  readonly clusterAccount: string;
  /** Unknown when checking whether a role admits a whole cluster rather than one service account. */
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** false: the association sets disableSessionTags, so no aws:RequestTag/* key is sent. */
  readonly sessionTags?: boolean;
}

/** The two calls EKS makes for a pod identity association: AssumeRole and TagSession. */
export function podIdentityRequests(input: PodIdentityRequestInput): { assumeRole: TrustRequest; tagSession: TrustRequest } {
  const clusterName = input.clusterArn.slice(input.clusterArn.lastIndexOf('/') + 1);
  const keys = new Map<string, string | readonly string[] | null>([
    ...SERVICE_PRINCIPAL_KEYS,
    ['aws:sourceaccount', input.clusterAccount],
    ['aws:requesttag/eks-cluster-arn', input.clusterArn],
    ['aws:requesttag/eks-cluster-name', clusterName],
    ['aws:tagkeys', POD_IDENTITY_SESSION_TAGS],
  ]);
  if (input.namespace !== undefined) keys.set('aws:requesttag/kubernetes-namespace', input.namespace);
  if (input.serviceAccount !== undefined) keys.set('aws:requesttag/kubernetes-service-account', input.serviceAccount);
  if (input.sessionTags === false) {
    // Known to be absent: a condition on a tag fails (or, for the negated and IfExists forms, holds).
    for (const tag of POD_IDENTITY_SESSION_TAGS) keys.set(`aws:requesttag/${tag}`, null);
    keys.set('aws:tagkeys', null);
  }
  const principal = { type: 'Service', id: POD_IDENTITY_SERVICE } as const;
  return {
    assumeRole: { principal, action: ASSUME_ROLE_ACTION, keys },
    tagSession: { principal, action: TAG_SESSION_ACTION, keys },
  };
}
