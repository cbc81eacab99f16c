/**
 * Cross-account role chaining (an association with a targetRoleArn): what the other account
 * must do, which podid cannot do for it. EKS assumes the source role, then the target role,
 * passing the association's `externalId` as `sts:ExternalId`; the target role's trust must
 * require that value, or any holder of the source role's credentials (another association
 * chaining through it, a pod misusing it) could assume the target too. EKS only generates the
 * externalId when it creates the association, so a plan names it with a placeholder that cannot
 * be mistaken for, or work as, a real value.
 */
import type { CrossAccountChain } from './model.js';

export const ROLE_CHAINING_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;

/**
 * The stand-in for an association's externalId, e.g.
 * `<externalId of the pod identity association data/exporter on cluster prod (us-east-1, account 111122223333), known once it is created>`.
 * The `<`, `>` and spaces are outside the character set IAM accepts for sts:ExternalId, so a
 * statement applied with the placeholder left in matches no request: it fails closed.
 */
export function externalIdPlaceholder(cluster: { name: string; region: string; account: string }, namespace: string, serviceAccount: string): string {
  return `<externalId of the pod identity association ${namespace}/${serviceAccount} on cluster ${cluster.name} (${cluster.region}, account ${cluster.account}), known once it is created>`;
}

/**
 * The target role's trust statement (the source role may assume and tag it, only with this
 * association's externalId) and the source role's permission to do so.
 */
export function roleChaining(sourceRole: string, targetRole: string, externalId: string): CrossAccountChain {
  return {
    targetTrustStatement: {
      Sid: 'PodidRoleChainingSource',
      Effect: 'Allow',
      Principal: { AWS: sourceRole },
      Action: [...ROLE_CHAINING_ACTIONS],
      Condition: { StringEquals: { 'sts:ExternalId': externalId } },
    },
    sourcePermissionStatement: { Sid: 'PodidRoleChainingTarget', Effect: 'Allow', Action: [...ROLE_CHAINING_ACTIONS], Resource: targetRole },
    externalIdPlaceholder: externalId,
  };
}
