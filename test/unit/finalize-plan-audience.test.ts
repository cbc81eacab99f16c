import { describe, expect, it } from 'vitest';
import { trustEditFor, type FinalizeSa } from '../../src/core/finalize/plan.js';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`;
const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';

const trust = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:logging:log-shipper', [`${ISSUER}:aud`]: 'custom-aud' } } },
    { Sid: 'PodidPodIdentity', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
  ],
};

const sa = (annotations: Record<string, string>): FinalizeSa => ({
  cluster: PROD, context: 'prod', namespace: 'logging', name: 'log-shipper', uid: 'u', roleArn: 'arn:aws:iam::111122223333:role/log-shipper',
  providerArn: PROVIDER, action: 'finalize', reason: '', annotations, warnings: [],
});

describe('finalize trust edit: a ServiceAccount with a custom token audience', () => {
  it('removes the OIDC grant its eks.amazonaws.com/audience admits it through (not left in place silently)', () => {
    const after = trustEditFor(trust, [sa({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/log-shipper', 'eks.amazonaws.com/audience': 'custom-aud' })]);
    expect(after['Statement']).toEqual([trust.Statement[1]]);
  });
});

describe('finalize trust edit: a custom audience does not hide the default-audience grant', () => {
  it('removes a statement admitting the ServiceAccount with sts.amazonaws.com too (IRSA through the default audience stays granted otherwise)', () => {
    const both = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:logging:log-shipper', [`${ISSUER}:aud`]: 'sts.amazonaws.com' } } },
        trust.Statement[0]!,
        trust.Statement[1]!,
      ],
    };
    const after = trustEditFor(both, [sa({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/log-shipper', 'eks.amazonaws.com/audience': 'custom-aud' })]);
    expect(after['Statement']).toEqual([trust.Statement[1]]);
  });
});
