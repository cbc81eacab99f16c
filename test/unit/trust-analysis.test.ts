import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/core/policy/index.js';
import type { JsonObject, TrustPolicy } from '../../src/core/policy/index.js';
import { analyzeTrust } from '../../src/core/trust.js';
import type { TrustSubject } from '../../src/core/trust.js';

const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);
function fixture(prefix: string): TrustPolicy {
  const file = readdirSync(FIXTURES).find((f) => f.startsWith(prefix));
  if (file === undefined) throw new Error(`no fixture ${prefix}`);
  return parsePolicy((JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { policy: JsonObject }).policy);
}

const USE1 = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const USW2_OTHER = 'https://oidc.eks.us-west-2.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9';
const ACCOUNT = '111122223333';

function subject(over: Partial<TrustSubject> & Pick<TrustSubject, 'namespace' | 'serviceAccount'>): TrustSubject {
  return { partition: 'aws', clusterAccount: ACCOUNT, clusterArn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`, oidcIssuer: USE1, ...over };
}

describe('analyzeTrust: IRSA fixtures', () => {
  const cases: {
    name: string;
    fixture: string;
    subject: TrustSubject;
    grantsIrsa: boolean;
    statements: { index: number; subMatch: string; subOperator?: string; audMatch: string; onlyThisServiceAccount: boolean }[];
    otherClusterIrsa?: number[];
  }[] = [
    {
      name: 'AWS docs: StringEquals sub+aud admits exactly its SA',
      fixture: 'aws-docs-irsa',
      subject: subject({ namespace: 'default', serviceAccount: 'my-service-account' }),
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: true }],
    },
    {
      name: 'AWS docs: another SA of the same cluster is not admitted',
      fixture: 'aws-docs-irsa',
      subject: subject({ namespace: 'default', serviceAccount: 'other' }),
      grantsIrsa: false,
      statements: [{ index: 0, subMatch: 'none', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'AWS docs: a custom audience does not match the aud condition',
      fixture: 'aws-docs-irsa',
      subject: subject({ namespace: 'default', serviceAccount: 'my-service-account', audience: 'my-aud' }),
      grantsIrsa: false,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-mismatch', onlyThisServiceAccount: true }],
    },
    {
      name: 'EFS CSI: the StringLike glob admits the controller SA',
      fixture: 'aws-docs-efs-csi',
      subject: subject({ namespace: 'kube-system', serviceAccount: 'efs-csi-controller-sa' }),
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'wildcard', subOperator: 'StringLike', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'EFS CSI: the glob does not admit kube-system/other',
      fixture: 'aws-docs-efs-csi',
      subject: subject({ namespace: 'kube-system', serviceAccount: 'other' }),
      grantsIrsa: false,
      statements: [{ index: 0, subMatch: 'none', subOperator: 'StringLike', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'EFS CSI: another cluster (other issuer) is not admitted at all',
      fixture: 'aws-docs-efs-csi',
      subject: subject({ namespace: 'kube-system', serviceAccount: 'efs-csi-controller-sa', oidcIssuer: USW2_OTHER }),
      grantsIrsa: false,
      statements: [],
      otherClusterIrsa: [0],
    },
    {
      name: 'cloudposse: namespace wildcard admits external-dns in any namespace',
      fixture: 'cloudposse',
      subject: subject({ namespace: 'preview-42', serviceAccount: 'external-dns' }),
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'wildcard', subOperator: 'StringLike', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'cloudposse: but not another name',
      fixture: 'cloudposse',
      subject: subject({ namespace: 'preview-42', serviceAccount: 'cert-manager' }),
      grantsIrsa: false,
      statements: [{ index: 0, subMatch: 'none', subOperator: 'StringLike', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'eksctl: sorted keys and a one-element Action array',
      fixture: 'eksctl-irsa',
      subject: {
        partition: 'aws',
        clusterAccount: '456123987123',
        clusterArn: 'arn:aws:eks:us-west-2:456123987123:cluster/c1',
        oidcIssuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/A39A2842863C47208955D753DE205E6E',
        namespace: 'default',
        serviceAccount: 'sa-1',
      },
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: true }],
    },
    {
      name: 'Karpenter in GovCloud: the aws-us-gov provider ARN',
      fixture: 'karpenter',
      subject: {
        partition: 'aws-us-gov',
        clusterAccount: ACCOUNT,
        clusterArn: `arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/gov`,
        oidcIssuer: 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
        namespace: 'kube-system',
        serviceAccount: 'karpenter',
      },
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: true }],
    },
    {
      name: 'Karpenter in GovCloud: an aws-partition subject does not match the aws-us-gov provider',
      fixture: 'karpenter',
      subject: subject({ oidcIssuer: 'https://oidc.eks.us-gov-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', namespace: 'kube-system', serviceAccount: 'karpenter' }),
      grantsIrsa: false,
      statements: [],
      otherClusterIrsa: [0],
    },
    {
      name: 'kubeflow: one of 33 subjects in a sub array',
      fixture: 'kubeflow',
      subject: subject({ oidcIssuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', namespace: 'test-kubeflow-user17', serviceAccount: 'default-editor' }),
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: false }],
    },
    {
      name: 'terraform two clusters: the first cluster is admitted, the second kept as other',
      fixture: 'tfmod-iam-assumable-role-with-oidc-two-clusters',
      subject: subject({ namespace: 'kube-system', serviceAccount: 'external-dns' }),
      grantsIrsa: true,
      statements: [{ index: 0, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: true }],
      otherClusterIrsa: [1],
    },
    {
      name: 'terraform two clusters: the second cluster is admitted too',
      fixture: 'tfmod-iam-assumable-role-with-oidc-two-clusters',
      subject: subject({ clusterArn: `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/dr`, oidcIssuer: USW2_OTHER, namespace: 'kube-system', serviceAccount: 'external-dns' }),
      grantsIrsa: true,
      statements: [{ index: 1, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: true }],
      otherClusterIrsa: [0],
    },
    {
      name: 'terraform v6: two statements for the same provider, the SA is in the second',
      fixture: 'tfmod-iam-v6',
      subject: subject({ oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', namespace: 'canary', serviceAccount: 'blue' }),
      grantsIrsa: true,
      statements: [
        { index: 0, subMatch: 'none', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: false },
        { index: 1, subMatch: 'exact', subOperator: 'StringEquals', audMatch: 'present-match', onlyThisServiceAccount: false },
      ],
    },
  ];

  it.each(cases)('$name', (c) => {
    const a = analyzeTrust(fixture(c.fixture), c.subject);
    expect(a.grantsIrsa).toBe(c.grantsIrsa);
    expect(a.irsaStatements.map((s) => ({ index: s.index, subMatch: s.subMatch, subOperator: s.subOperator, audMatch: s.audMatch, onlyThisServiceAccount: s.onlyThisServiceAccount }))).toEqual(c.statements);
    expect(a.otherClusterIrsa.map((o) => o.index)).toEqual(c.otherClusterIrsa ?? []);
    expect(a.podIdentityStatements).toEqual([]);
    expect(a.grantsPodIdentity).toBe(false);
  });

  it('lists the other subjects a shared statement grants', () => {
    const a = analyzeTrust(fixture('tfmod-iam-v6'), subject({ oidcIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', namespace: 'canary', serviceAccount: 'blue' }));
    expect(a.irsaStatements[1]?.otherSubjects).toEqual(['system:serviceaccount:default:blue']);
    expect(a.subject).toBe('system:serviceaccount:canary:blue');
  });

  it('describes other providers (EKS issuers) with their subjects', () => {
    const a = analyzeTrust(fixture('tfmod-iam-assumable-role-with-oidc-two-clusters'), subject({ namespace: 'kube-system', serviceAccount: 'external-dns' }));
    expect(a.otherClusterIrsa).toEqual([
      {
        index: 1,
        providers: [`arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9`],
        eksIssuer: true,
        subjects: ['system:serviceaccount:kube-system:external-dns'],
      },
    ]);
  });
});

const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
function irsa(condition: JsonObject | undefined, extra: JsonObject = {}): JsonObject {
  return { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', ...(condition === undefined ? {} : { Condition: condition }), ...extra };
}

describe('analyzeTrust: IRSA edge cases', () => {
  const sa = subject({ namespace: 'shop', serviceAccount: 'cart' });

  it('treats a * under StringEquals as a literal: nothing is admitted', () => {
    const a = analyzeTrust(parsePolicy({ Statement: [irsa({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:*' } })] }), sa);
    expect(a.irsaStatements[0]?.subMatch).toBe('none');
    expect(a.grantsIrsa).toBe(false);
  });

  it('flags a statement without a sub condition as unconstrained', () => {
    const a = analyzeTrust(parsePolicy({ Statement: [irsa({ StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' } })] }), sa);
    expect(a.irsaStatements[0]).toMatchObject({ subMatch: 'unconstrained', subOperator: undefined, audMatch: 'present-match', onlyThisServiceAccount: false });
    expect(a.grantsIrsa).toBe(true);
  });

  it('accepts sts:* and * as covering AssumeRoleWithWebIdentity and finds condition keys in any case', () => {
    const p = parsePolicy({ Statement: [irsa({ StringEquals: { [`${ISSUER.toUpperCase()}:SUB`]: 'system:serviceaccount:shop:cart' } }, { Action: ['sts:*'] }), irsa(undefined, { Action: '*' })] });
    const a = analyzeTrust(p, sa);
    expect(a.irsaStatements.map((s) => s.subMatch)).toEqual(['exact', 'unconstrained']);
    expect(a.irsaStatements[1]?.audMatch).toBe('absent');
  });

  it('ignores statements for other actions or NotPrincipal', () => {
    const p = parsePolicy({ Statement: [irsa(undefined, { Action: 'sts:AssumeRole' }), { Effect: 'Allow', NotPrincipal: { AWS: 'x' }, Action: 'sts:*' }] });
    const a = analyzeTrust(p, sa);
    expect(a.irsaStatements).toEqual([]);
    expect(a.unsupportedNotPrincipalAllows).toEqual([1]);
    expect(a.grantsIrsa).toBe(false);
  });

  it('honours a Deny that excludes this SA', () => {
    const p = parsePolicy({
      Statement: [
        irsa({ StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:*' } }),
        { Effect: 'Deny', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:cart' } } },
      ],
    });
    const a = analyzeTrust(p, sa);
    expect(a.irsaStatements[0]?.admits).toBe('yes');
    expect(a.denies).toEqual([{ index: 1, blocks: 'irsa', certain: true }]);
    expect(a.grantsIrsa).toBe(false);
    expect(analyzeTrust(p, subject({ namespace: 'shop', serviceAccount: 'checkout' })).grantsIrsa).toBe(true);
  });

  it('does not claim a grant it cannot prove (unknown condition key)', () => {
    const p = parsePolicy({ Statement: [irsa({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:cart', 'aws:PrincipalTag/team': 'shop' } })] });
    const a = analyzeTrust(p, sa);
    expect(a.irsaStatements[0]).toMatchObject({ subMatch: 'exact', admits: 'unknown', unknownConditionKeys: ['aws:PrincipalTag/team'] });
    expect(a.grantsIrsa).toBe(false);
  });

  it('has no IRSA statements for a cluster without an OIDC issuer, and calls every provider "other"', () => {
    const a = analyzeTrust(fixture('aws-docs-irsa'), subject({ oidcIssuer: null, namespace: 'default', serviceAccount: 'my-service-account' }));
    expect(a.providerArn).toBeNull();
    expect(a.irsaStatements).toEqual([]);
    expect(a.otherClusterIrsa.map((o) => o.index)).toEqual([0]);
  });

  it('marks non-EKS providers (GitHub Actions) as such', () => {
    const gh = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const a = analyzeTrust(parsePolicy({ Statement: [irsa(undefined, { Principal: { Federated: gh } })] }), sa);
    expect(a.otherClusterIrsa[0]).toMatchObject({ providers: [gh], eksIssuer: false });
  });
});

describe('analyzeTrust: Pod Identity', () => {
  const sa = subject({ namespace: 'shop', serviceAccount: 'cart' });
  const podid = (condition?: JsonObject, extra: JsonObject = {}): JsonObject => ({
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    ...(condition === undefined ? {} : { Condition: condition }),
    ...extra,
  });

  it.each(['aws-docs-pod-identity', 'eksctl-pod-identity'])('%s: unconditioned, admits any cluster', (name) => {
    const a = analyzeTrust(fixture(name), sa);
    expect(a.podIdentityStatements).toEqual([{ index: 0, allowsTagSession: true, admitsCluster: true, unconditioned: true, principalWildcard: false, scopedClusters: [], unknownConditionKeys: [] }]);
    expect(a.grantsPodIdentity).toBe(true);
    expect(a.irsaStatements).toEqual([]);
    expect(a.grantsIrsa).toBe(false);
  });

  const cases: { name: string; statement: JsonObject; admitsCluster: boolean; grants: boolean; scopedClusters?: string[]; unknown?: string[]; tagSession?: boolean }[] = [
    {
      name: 'scoped to this cluster by aws:SourceArn: not provable (its value for Pod Identity is undocumented)',
      statement: podid({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': sa.clusterArn } }),
      admitsCluster: false,
      grants: false,
      scopedClusters: [sa.clusterArn],
      unknown: ['aws:SourceArn'],
    },
    {
      name: 'scoped to this account, cluster, namespace and service account by session tags',
      statement: podid({
        StringEquals: {
          'aws:SourceAccount': ACCOUNT,
          'aws:RequestTag/eks-cluster-arn': sa.clusterArn,
          'aws:RequestTag/kubernetes-namespace': 'shop',
          'aws:RequestTag/kubernetes-service-account': 'cart',
        },
      }),
      admitsCluster: true,
      grants: true,
    },
    {
      name: 'scoped by session tags to another cluster of the account',
      statement: podid({ StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev` } }),
      admitsCluster: false,
      grants: false,
    },
    {
      name: 'scoped to another account',
      statement: podid({ StringEquals: { 'aws:SourceAccount': '444455556666' } }),
      admitsCluster: false,
      grants: false,
    },
    {
      name: 'ArnLike aws:SourceArn over all clusters of the account: still not provable',
      statement: podid({ ArnLike: { 'aws:SourceArn': `arn:aws:eks:*:${ACCOUNT}:cluster/*` } }),
      admitsCluster: false,
      grants: false,
      scopedClusters: [`arn:aws:eks:*:${ACCOUNT}:cluster/*`],
      unknown: ['aws:SourceArn'],
    },
    {
      name: 'an organisation condition cannot be proven',
      statement: podid({ StringEquals: { 'aws:SourceOrgId': 'o-123' } }),
      admitsCluster: false,
      grants: false,
      unknown: ['aws:SourceOrgId'],
    },
    {
      name: 'a session-tag condition on the namespace is evaluated',
      statement: podid({ StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'shop' } }),
      admitsCluster: true,
      grants: true,
    },
    {
      name: 'AssumeRole without TagSession does not work for Pod Identity',
      statement: podid(undefined, { Action: 'sts:AssumeRole' }),
      admitsCluster: false,
      grants: false,
      tagSession: false,
    },
  ];
  it.each(cases)('$name', (c) => {
    const a = analyzeTrust(parsePolicy({ Statement: [c.statement] }), sa);
    expect(a.podIdentityStatements).toHaveLength(1);
    expect(a.podIdentityStatements[0]).toMatchObject({
      admitsCluster: c.admitsCluster,
      allowsTagSession: c.tagSession ?? true,
      scopedClusters: c.scopedClusters ?? [],
      unknownConditionKeys: c.unknown ?? [],
      unconditioned: c.statement['Condition'] === undefined,
    });
    expect(a.grantsPodIdentity).toBe(c.grants);
  });

  it('honours a Deny on the Pod Identity principal', () => {
    const p = parsePolicy({ Statement: [podid(), { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:TagSession' }] });
    const a = analyzeTrust(p, sa);
    expect(a.podIdentityStatements[0]?.admitsCluster).toBe(true);
    expect(a.denies).toEqual([{ index: 1, blocks: 'pod-identity', certain: true }]);
    expect(a.grantsPodIdentity).toBe(false);
  });

  const denyAll = (condition: JsonObject, action: string | string[] = 'sts:*'): JsonObject => ({ Effect: 'Deny', Principal: '*', Action: action, Condition: condition });

  it('sees a Deny on aws:PrincipalIsAWSService as certainly blocking Pod Identity', () => {
    const p = parsePolicy({ Statement: [podid(), denyAll({ Bool: { 'aws:PrincipalIsAWSService': 'true' } }, 'sts:AssumeRole')] });
    const a = analyzeTrust(p, sa);
    expect(a.denies.filter((d) => d.blocks === 'pod-identity')).toEqual([{ index: 1, blocks: 'pod-identity', certain: true }]);
    expect(a.grantsPodIdentity).toBe(false);
  });

  it('applies IAM\'s absent-key rules to the principal keys a service request lacks', () => {
    const podDenies = (condition: JsonObject) => analyzeTrust(parsePolicy({ Statement: [podid(), denyAll(condition)] }), sa).denies.filter((d) => d.blocks === 'pod-identity');
    // Negated operator on an absent key holds: the org guard denies the Pod Identity service too.
    expect(podDenies({ StringNotEquals: { 'aws:PrincipalOrgID': 'o-x' } })).toEqual([{ index: 1, blocks: 'pod-identity', certain: true }]);
    expect(podDenies({ Null: { 'aws:PrincipalOrgID': 'true' } })).toEqual([{ index: 1, blocks: 'pod-identity', certain: true }]);
    // The data-perimeter form exempts AWS services, so it does not block.
    expect(podDenies({ StringNotEqualsIfExists: { 'aws:PrincipalOrgID': 'o-x' }, BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } })).toEqual([]);
    expect(podDenies({ StringNotEquals: { 'aws:PrincipalServiceName': 'pods.eks.amazonaws.com' } })).toEqual([]);
    // aws:SourceArn is unknown for Pod Identity: a Deny on it may apply either way.
    expect(podDenies({ ArnLike: { 'aws:SourceArn': '*' } })).toEqual([{ index: 1, blocks: 'pod-identity', certain: false }]);
    expect(podDenies({ ArnNotLike: { 'aws:SourceArn': '*' } })).toEqual([{ index: 1, blocks: 'pod-identity', certain: false }]);
  });

  it('does not admit through an Allow gated on a principal key a service request lacks', () => {
    const a = analyzeTrust(parsePolicy({ Statement: [podid({ StringEquals: { 'aws:PrincipalOrgID': 'o-x' } })] }), sa);
    expect(a.podIdentityStatements[0]).toMatchObject({ admitsCluster: false, unknownConditionKeys: [] });
    expect(a.grantsPodIdentity).toBe(false);
  });

  it('reports an Allow with NotPrincipal as unsupported and not admitting', () => {
    const notPrincipal = { Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: '*' };
    const a = analyzeTrust(parsePolicy({ Statement: [notPrincipal] }), sa);
    expect(a.unsupportedNotPrincipalAllows).toEqual([0]);
    expect([a.grantsPodIdentity, a.grantsIrsa]).toEqual([false, false]);
    expect(a.podIdentityStatements).toEqual([]);
    const ok = analyzeTrust(parsePolicy({ Statement: [podid(), { ...notPrincipal, Effect: 'Deny', NotPrincipal: { Service: 'pods.eks.amazonaws.com' } }] }), sa);
    expect(ok.unsupportedNotPrincipalAllows).toEqual([]);
    expect(ok.grantsPodIdentity).toBe(true);
  });

  it('sees both trusts of a dual-trust role', () => {
    const p = parsePolicy({ Statement: [irsa({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:cart' } }), podid({ StringEquals: { 'aws:RequestTag/eks-cluster-arn': sa.clusterArn } })] });
    const a = analyzeTrust(p, sa);
    expect([a.grantsIrsa, a.grantsPodIdentity]).toEqual([true, true]);
    expect(a.irsaStatements.map((s) => s.index)).toEqual([0]);
    expect(a.podIdentityStatements.map((s) => s.index)).toEqual([1]);
  });
});
