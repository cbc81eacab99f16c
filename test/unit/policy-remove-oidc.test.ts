import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyEditError, addPodIdentityTrust, parsePolicy, removeOidcTrust, serializePolicy } from '../../src/core/policy/index.js';
import type { JsonObject, TrustPolicy } from '../../src/core/policy/index.js';

const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);
function fixture(prefix: string): TrustPolicy {
  const file = readdirSync(FIXTURES).find((f) => f.startsWith(prefix));
  if (file === undefined) throw new Error(`no fixture ${prefix}`);
  return parsePolicy((JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { policy: JsonObject }).policy);
}

const ACCOUNT = '111122223333';
const provider = (issuer: string, partition = 'aws') => `arn:${partition}:iam::${ACCOUNT}:oidc-provider/${issuer}`;
const USE1 = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const USW2 = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const EUW1 = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const OTHER = 'oidc.eks.us-west-2.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;

function withPodIdentity(policy: TrustPolicy): TrustPolicy {
  return addPodIdentityTrust(policy, { partition: 'aws', clusterAccount: ACCOUNT, subjects: [{ cluster: PROD, namespace: 'default', serviceAccount: 'app' }] }).policy;
}
function statementsOf(policy: TrustPolicy): JsonObject[] {
  return (JSON.parse(serializePolicy(policy)) as { Statement: JsonObject[] }).Statement;
}

describe('removeOidcTrust', () => {
  it('drops a statement that grants only this service account, keeping the Pod Identity one', () => {
    const dual = withPodIdentity(fixture('aws-docs-irsa'));
    const result = removeOidcTrust(dual, { providerArn: provider(USE1), namespace: 'default', serviceAccount: 'my-service-account' });
    expect(result.change).toBe('removed');
    expect(result.needsManual).toBe(false);
    expect(result.steps).toEqual([{ index: 0, action: 'dropped-statement', reason: expect.any(String) }]);
    expect(statementsOf(result.policy)).toEqual([statementsOf(dual)[1]]);
    // Running finalize again finds nothing to do.
    const again = removeOidcTrust(result.policy, { providerArn: provider(USE1), namespace: 'default', serviceAccount: 'my-service-account' });
    expect(again).toMatchObject({ change: 'none', steps: [], needsManual: false });
  });

  it('removes just this subject from a shared sub list, keeping the list shape and the other statement', () => {
    const policy = withPodIdentity(fixture('tfmod-iam-v6'));
    const before = statementsOf(policy);
    const result = removeOidcTrust(policy, { providerArn: provider(EUW1), namespace: 'canary', serviceAccount: 'blue' });
    expect(result.steps).toEqual([{ index: 1, action: 'removed-subject', reason: expect.any(String) }]);
    const after = statementsOf(result.policy);
    expect(JSON.stringify(after[0], null, 2)).toBe(JSON.stringify(before[0], null, 2));
    expect(JSON.stringify(after[2], null, 2)).toBe(JSON.stringify(before[2], null, 2));
    expect(after[1]?.['Condition']).toEqual({
      StringEquals: { [`${EUW1}:aud`]: 'sts.amazonaws.com', [`${EUW1}:sub`]: ['system:serviceaccount:default:blue'] },
    });
    // The key order inside the edited statement is unchanged.
    expect(Object.keys(after[1] ?? {})).toEqual(Object.keys(before[1] ?? {}));
  });

  it('removes one kubeflow profile from the 33-subject list', () => {
    const policy = withPodIdentity(fixture('kubeflow'));
    const result = removeOidcTrust(policy, { providerArn: provider(USW2), namespace: 'test-kubeflow-user05', serviceAccount: 'default-editor' });
    expect(result.change).toBe('removed');
    const subs = result.policy.statements[0]?.conditions.find((c) => c.key.endsWith(':sub'))?.values;
    expect(subs).toHaveLength(32);
    expect(subs).not.toContain('system:serviceaccount:test-kubeflow-user05:default-editor');
  });

  it('never touches another cluster\'s provider', () => {
    const policy = withPodIdentity(fixture('tfmod-iam-assumable-role-with-oidc-two'));
    const before = statementsOf(policy);
    const result = removeOidcTrust(policy, { providerArn: provider(USE1), namespace: 'kube-system', serviceAccount: 'external-dns' });
    expect(result.steps.map((s) => [s.index, s.action])).toEqual([[0, 'dropped-statement']]);
    expect(statementsOf(result.policy)).toEqual([before[1], before[2]]);
  });

  it.each([
    ['the EFS glob', 'aws-docs-efs-csi', USE1, 'kube-system', 'efs-csi-controller-sa'],
    ['the cloudposse namespace wildcard', 'cloudposse', USE1, 'preview-1', 'external-dns'],
  ])('reports %s as needs-manual and leaves it alone', (_name, name, issuer, namespace, serviceAccount) => {
    const policy = withPodIdentity(fixture(name));
    const result = removeOidcTrust(policy, { providerArn: provider(issuer), namespace, serviceAccount });
    expect(result).toMatchObject({ change: 'none', needsManual: true });
    expect(result.steps).toEqual([{ index: 0, action: 'needs-manual', reason: expect.stringContaining('wildcard') }]);
    expect(serializePolicy(result.policy)).toBe(serializePolicy(policy));
  });

  it('ignores a wildcard statement that does not admit this service account', () => {
    const policy = withPodIdentity(fixture('aws-docs-efs-csi'));
    const result = removeOidcTrust(policy, { providerArn: provider(USE1), namespace: 'kube-system', serviceAccount: 'other' });
    expect(result).toMatchObject({ change: 'none', steps: [], needsManual: false });
  });

  it('matches the statement on the service account\'s token audience (eks.amazonaws.com/audience), not only the default one', () => {
    const custom = parsePolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Federated: provider(USE1) }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${USE1}:sub`]: 'system:serviceaccount:logging:shipper', [`${USE1}:aud`]: 'custom-aud' } } },
        { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      ],
    });
    const target = { providerArn: provider(USE1), namespace: 'logging', serviceAccount: 'shipper' };
    // With the default audience the statement does not admit it: nothing to remove.
    expect(removeOidcTrust(custom, target).change).toBe('none');
    const result = removeOidcTrust(custom, { ...target, audience: 'custom-aud' });
    expect(result.change).toBe('removed');
    expect(result.steps).toEqual([{ index: 0, action: 'dropped-statement', reason: expect.any(String) }]);
    expect(statementsOf(result.policy)).toEqual([statementsOf(custom)[1]]);
  });

  it('reports a statement without a sub condition as needs-manual', () => {
    const policy = parsePolicy({
      Statement: [
        { Effect: 'Allow', Principal: { Federated: provider(USE1) }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${USE1}:aud`]: 'sts.amazonaws.com' } } },
        { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      ],
    });
    const result = removeOidcTrust(policy, { providerArn: provider(USE1), namespace: 'a', serviceAccount: 'b' });
    expect(result.steps).toEqual([{ index: 0, action: 'needs-manual', reason: expect.stringContaining('every service account') }]);
  });

  it('reports a negated sub operator and a statement shared with other principals as needs-manual', () => {
    const sub = `${USE1}:sub`;
    const policy = parsePolicy({
      Statement: [
        { Effect: 'Allow', Principal: { Federated: provider(USE1) }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringNotEquals: { [sub]: 'system:serviceaccount:x:y' } } },
        { Effect: 'Allow', Principal: { Federated: [provider(USE1), provider(OTHER)] }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [sub]: 'system:serviceaccount:a:b' } } },
        { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      ],
    });
    const result = removeOidcTrust(policy, { providerArn: provider(USE1), namespace: 'a', serviceAccount: 'b' });
    expect(result.steps.map((s) => [s.index, s.action])).toEqual([
      [0, 'needs-manual'],
      [1, 'needs-manual'],
    ]);
    expect(result.change).toBe('none');
  });

  it('refuses to leave a trust policy without statements', () => {
    const policy = fixture('aws-docs-irsa');
    const result = removeOidcTrust(policy, { providerArn: provider(USE1), namespace: 'default', serviceAccount: 'my-service-account' });
    expect(result).toMatchObject({ change: 'none', needsManual: true });
    expect(result.steps).toEqual([{ index: 0, action: 'needs-manual', reason: expect.stringContaining('without statements') }]);
    expect(result.policy).toBe(policy);
  });

  it('works for the GovCloud partition', () => {
    const gov = 'oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    const policy = addPodIdentityTrust(fixture('karpenter'), { partition: 'aws-us-gov', clusterAccount: ACCOUNT, subjects: [{ cluster: `arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/gov`, namespace: 'kube-system', serviceAccount: 'karpenter' }] }).policy;
    expect(removeOidcTrust(policy, { providerArn: provider(gov), namespace: 'kube-system', serviceAccount: 'karpenter' }).change).toBe('none');
    expect(removeOidcTrust(policy, { providerArn: provider(gov, 'aws-us-gov'), namespace: 'kube-system', serviceAccount: 'karpenter' }).change).toBe('removed');
  });

  it('rejects something that is not a provider ARN', () => {
    expect(() => removeOidcTrust(fixture('aws-docs-irsa'), { providerArn: 'oidc.eks.us-east-1.amazonaws.com/id/X', namespace: 'a', serviceAccount: 'b' })).toThrow(PolicyEditError);
  });
});
