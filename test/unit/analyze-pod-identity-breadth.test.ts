/**
 * TRUST_POD_IDENTITY_BROAD: a Pod Identity statement already in a role's trust that admits the
 * cluster without pinning the service account or namespace is reported (podid keeps it as it is).
 */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/core/policy/index.js';
import { podIdentityBreadthFindings } from '../../src/core/scan/analyze-extra.js';

const ACCOUNT = '111122223333';
const cluster = { arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`, name: 'prod', account: ACCOUNT };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ledger`;

function withPodIdentity(condition: Record<string, unknown> | undefined) {
  return parsePolicy({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/X:sub': 'system:serviceaccount:payments:ledger' } } },
      { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], ...(condition === undefined ? {} : { Condition: condition }) },
    ],
  });
}

const messages = (condition: Record<string, unknown> | undefined) => podIdentityBreadthFindings(withPodIdentity(condition), cluster, ROLE).map((f) => `${f.code} ${f.severity}: ${f.message}`);

describe('TRUST_POD_IDENTITY_BROAD', () => {
  it('a statement pinned to the cluster and a namespace only: any service account of that namespace', () => {
    expect(messages({ StringEquals: { 'aws:RequestTag/eks-cluster-name': 'prod', 'aws:RequestTag/kubernetes-namespace': 'payments' } })).toEqual([
      `TRUST_POD_IDENTITY_BROAD warning: the trust policy of ${ROLE} already admits EKS Pod Identity for any service account of namespace payments of this cluster (statement 1): any of them given an association to the role gets it`,
    ]);
  });

  it('pinned to the account only: any service account of any namespace of any cluster of the account', () => {
    expect(messages({ StringEquals: { 'aws:SourceAccount': ACCOUNT } })).toEqual([expect.stringContaining('for any service account of any namespace of any cluster of the account (statement 1)')]);
  });

  it('a service account name without a namespace: that name in every namespace', () => {
    expect(messages({ StringEquals: { 'aws:RequestTag/eks-cluster-arn': cluster.arn, 'aws:RequestTag/kubernetes-service-account': 'ledger' } })).toEqual([expect.stringContaining('for service accounts named ledger in any namespace of this cluster')]);
  });

  it('nothing when the statement names the namespace and the service account, admits another cluster or account, is unconditioned (its own finding) or cannot be enumerated', () => {
    expect(messages({ StringEquals: { 'aws:RequestTag/eks-cluster-arn': cluster.arn, 'aws:RequestTag/kubernetes-namespace': 'payments', 'aws:RequestTag/kubernetes-service-account': 'ledger' } })).toEqual([]);
    expect(messages({ StringEquals: { 'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging` } })).toEqual([]);
    expect(messages({ StringEquals: { 'aws:SourceAccount': '444455556666' } })).toEqual([]);
    expect(messages(undefined)).toEqual([]);
    expect(messages({ ArnLike: { 'aws:SourceArn': cluster.arn } })).toEqual([]);
  });
});
