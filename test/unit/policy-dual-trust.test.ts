import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_SID, PolicyEditError, addPodIdentityTrust, parsePolicy, policyLength, serializePolicy } from '../../src/core/policy/index.js';
import type { JsonObject, TrustPolicy } from '../../src/core/policy/index.js';
import { analyzeTrust } from '../../src/core/trust.js';

const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { kind: string; policy: JsonObject }) }));
function fixture(prefix: string): TrustPolicy {
  const f = fixtures.find((x) => x.file.startsWith(prefix));
  if (f === undefined) throw new Error(`no fixture ${prefix}`);
  return parsePolicy(f.policy);
}

const ACCOUNT = '111122223333';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const DEV = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev`;
const TARGET = { partition: 'aws', clusterAccount: ACCOUNT, clusterArns: [PROD] };

/** Each statement of a serialised policy, as its own two-space JSON text. */
function statementTexts(json: string): string[] {
  const doc = JSON.parse(json) as { Statement: JsonObject | JsonObject[] };
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return list.map((s) => JSON.stringify(s, null, 2));
}

const podIdentityStatement = (condition?: JsonObject): JsonObject => ({
  Effect: 'Allow',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Action: ['sts:AssumeRole', 'sts:TagSession'],
  ...(condition === undefined ? {} : { Condition: condition }),
});

describe('addPodIdentityTrust on every fixture', () => {
  it.each(fixtures)('$file: untouched statements stay byte-identical, and a second run changes nothing', ({ kind, policy }) => {
    const before = serializePolicy(parsePolicy(policy));
    const first = addPodIdentityTrust(parsePolicy(policy), TARGET);
    const after = serializePolicy(first.policy);
    const original = statementTexts(before);
    expect(statementTexts(after).slice(0, original.length)).toEqual(original);

    if (kind === 'pod-identity') {
      expect(first.change).toBe('none');
      expect(first.existingUnconditioned).toBe(true);
      expect(after).toBe(before);
    } else {
      expect(first.change).toBe('added-statement');
      expect(first.statementIndex).toBe(original.length);
      expect(first.existingUnconditioned).toBe(false);
      expect(statementTexts(after)).toHaveLength(original.length + 1);
      // Top-level key order (Statement before Version for eksctl/kubeflow) is kept.
      expect(Object.keys(JSON.parse(after) as object)).toEqual(Object.keys(policy));
    }

    const second = addPodIdentityTrust(first.policy, TARGET);
    expect(second.change).toBe('none');
    expect(serializePolicy(second.policy)).toBe(after);
  });

  it('appends the least-privilege statement, not eksctl\'s unconditioned one', () => {
    const result = addPodIdentityTrust(fixture('aws-docs-irsa'), TARGET);
    const statements = (JSON.parse(serializePolicy(result.policy)) as { Statement: JsonObject[] }).Statement;
    expect(JSON.stringify(statements[1], null, 2)).toBe(
      JSON.stringify(
        {
          Sid: POD_IDENTITY_SID,
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': PROD } },
        },
        null,
        2,
      ),
    );
    expect(result.addedClusterArns).toEqual([PROD]);
    const analysis = analyzeTrust(result.policy, { partition: 'aws', clusterAccount: ACCOUNT, clusterArn: PROD, oidcIssuer: null, namespace: 'a', serviceAccount: 'b' });
    expect(analysis.grantsPodIdentity).toBe(true);
    expect(analyzeTrust(result.policy, { partition: 'aws', clusterAccount: ACCOUNT, clusterArn: DEV, oidcIssuer: null, namespace: 'a', serviceAccount: 'b' }).grantsPodIdentity).toBe(false);
  });

  it('the two-cluster terraform role gets one statement admitting both clusters', () => {
    const west = `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/dr`;
    const result = addPodIdentityTrust(fixture('tfmod-iam-assumable-role-with-oidc-two'), { ...TARGET, clusterArns: [PROD, west, PROD] });
    expect(result.change).toBe('added-statement');
    const added = result.policy.statements[2];
    expect(added?.raw['Condition']).toEqual({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': [PROD, west] } });
    for (const clusterArn of [PROD, west]) {
      expect(analyzeTrust(result.policy, { partition: 'aws', clusterAccount: ACCOUNT, clusterArn, oidcIssuer: null, namespace: 'kube-system', serviceAccount: 'external-dns' }).grantsPodIdentity).toBe(true);
    }
  });

  it('works in GovCloud', () => {
    const gov = `arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/gov`;
    const result = addPodIdentityTrust(fixture('karpenter'), { partition: 'aws-us-gov', clusterAccount: ACCOUNT, clusterArns: [gov] });
    expect(result.change).toBe('added-statement');
    expect(result.policy.statements[1]?.raw['Condition']).toEqual({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': gov } });
  });

  it('pushes the kubeflow role further past the 2048-character default quota', () => {
    const policy = fixture('kubeflow');
    const before = policyLength(policy);
    const after = policyLength(addPodIdentityTrust(policy, { ...TARGET, clusterArns: [`arn:aws:eks:us-west-2:${ACCOUNT}:cluster/kubeflow`] }).policy);
    expect(before).toBe(2420);
    expect(after).toBeGreaterThan(2048);
    expect(after - before).toBeGreaterThan(200);
  });

  it('a short policy stays under the quota', () => {
    expect(policyLength(addPodIdentityTrust(fixture('aws-docs-irsa'), TARGET).policy)).toBeLessThan(2048);
  });
});

describe('addPodIdentityTrust: existing Pod Identity statements', () => {
  const irsaStatement = fixture('aws-docs-irsa').raw['Statement'] as JsonObject[];

  it('extends a statement scoped to another cluster of the account (string becomes array)', () => {
    const scoped = { Sid: 'Existing', ...podIdentityStatement({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': DEV } }) };
    const policy = parsePolicy({ Version: '2012-10-17', Statement: [...irsaStatement, scoped] });
    const result = addPodIdentityTrust(policy, TARGET);
    expect(result.change).toBe('extended-statement');
    expect(result.statementIndex).toBe(1);
    expect(result.addedClusterArns).toEqual([PROD]);
    const texts = statementTexts(serializePolicy(result.policy));
    expect(texts[0]).toBe(JSON.stringify(irsaStatement[0], null, 2));
    expect(texts[1]).toBe(
      JSON.stringify({ ...scoped, Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': [DEV, PROD] } } }, null, 2),
    );
    expect(addPodIdentityTrust(result.policy, TARGET).change).toBe('none');
    // The original scope still holds.
    expect(addPodIdentityTrust(result.policy, { ...TARGET, clusterArns: [DEV] }).change).toBe('none');
  });

  it('extends an ArnLike list in place, keeping its operator and key spelling', () => {
    const scoped = podIdentityStatement({ ArnLike: { 'AWS:SourceArn': [DEV] } });
    const result = addPodIdentityTrust(parsePolicy({ Statement: [scoped] }), TARGET);
    expect(result.change).toBe('extended-statement');
    expect(result.policy.statements[0]?.raw['Condition']).toEqual({ ArnLike: { 'AWS:SourceArn': [DEV, PROD] } });
  });

  it('does not extend a statement with other conditions, a wildcard or another account: it appends', () => {
    const variants: JsonObject[] = [
      podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV }, StringEquals: { 'aws:SourceOrgId': 'o-1' } }),
      podIdentityStatement({ ArnLike: { 'aws:SourceArn': `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev-*` } }),
      podIdentityStatement({ ArnEquals: { 'aws:SourceArn': 'arn:aws:eks:us-east-1:444455556666:cluster/dev' } }),
      { ...podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV } }), Principal: { Service: ['pods.eks.amazonaws.com', 'ec2.amazonaws.com'] } },
      { ...podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV } }), Action: 'sts:AssumeRole' },
    ];
    for (const statement of variants) {
      const before = parsePolicy({ Statement: [statement] });
      const result = addPodIdentityTrust(before, TARGET);
      expect(result.change).toBe('added-statement');
      expect(statementTexts(serializePolicy(result.policy))[0]).toBe(JSON.stringify(statement, null, 2));
    }
  });

  it.each([
    ['"*"', '*'],
    ['"sts:*"', 'sts:*'],
    ['a wildcard list', ['sts:AssumeRole', 'sts:Tag*']],
    ['an extra action', ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']],
  ] satisfies [string, string | string[]][])('does not extend a scoped statement granting %s: the new cluster would get more than two actions', (_name, action) => {
    const statement: JsonObject = { ...podIdentityStatement({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': DEV } }), Action: action };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [statement] }), TARGET);
    expect(result).toMatchObject({ change: 'added-statement', statementIndex: 1, addedClusterArns: [PROD] });
    expect(statementTexts(serializePolicy(result.policy))[0]).toBe(JSON.stringify(statement, null, 2));
    expect(result.policy.statements[1]?.action.values).toEqual(['sts:AssumeRole', 'sts:TagSession']);
  });

  it('does not extend a NotAction statement', () => {
    const statement: JsonObject = {
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      NotAction: 'sts:AssumeRoleWithWebIdentity',
      Condition: { ArnEquals: { 'aws:SourceArn': DEV } },
    };
    expect(addPodIdentityTrust(parsePolicy({ Statement: [statement] }), TARGET).change).toBe('added-statement');
  });

  it.each([
    ['reordered, any case', ['STS:TagSession', 'sts:assumerole']],
    ['with a duplicate', ['sts:AssumeRole', 'sts:TagSession', 'sts:AssumeRole']],
  ] satisfies [string, string[]][])('extends a statement whose actions are exactly AssumeRole and TagSession (%s)', (_name, action) => {
    const statement: JsonObject = { ...podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV } }), Action: action };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [statement] }), TARGET);
    expect(result).toMatchObject({ change: 'extended-statement', statementIndex: 0, addedClusterArns: [PROD] });
    expect(result.policy.statements[0]?.raw['Action']).toEqual(action);
  });

  it('does not count an Allow with NotPrincipal as admitting the cluster: it appends its own statement', () => {
    const notPrincipal = { Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:*' };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [notPrincipal] }), TARGET);
    expect(result).toMatchObject({ change: 'added-statement', statementIndex: 1, addedClusterArns: [PROD] });
  });

  it.each([
    ['ArnLike aws:SourceArn "*"', { ArnLike: { 'aws:SourceArn': '*' } }, [PROD, DEV]],
    ['ArnNotLike aws:SourceArn "*"', { ArnNotLike: { 'aws:SourceArn': '*' } }, []],
    ['Bool aws:PrincipalIsAWSService true', { Bool: { 'aws:PrincipalIsAWSService': 'true' } }, [PROD, DEV]],
    ['StringNotEquals aws:PrincipalOrgID (absent for a service)', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-x' } }, [PROD, DEV]],
    ['Null aws:PrincipalOrgID false', { Null: { 'aws:PrincipalOrgID': 'false' } }, []],
  ])('reports the clusters a Deny * sts:* with %s blocks', (_name, condition, blocked) => {
    const deny = { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: condition };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [deny] }), { ...TARGET, clusterArns: [PROD, DEV] });
    expect(result.deniedClusterArns).toEqual(blocked);
  });

  it('changes nothing when a scoped statement already admits the cluster, and names it', () => {
    const policy = parsePolicy({ Statement: [...irsaStatement, podIdentityStatement({ ArnLike: { 'aws:SourceArn': `arn:aws:eks:*:${ACCOUNT}:cluster/*` } })] });
    const result = addPodIdentityTrust(policy, { ...TARGET, clusterArns: [PROD, DEV] });
    expect(result).toMatchObject({ change: 'none', statementIndex: 1, existingUnconditioned: false, addedClusterArns: [] });
    expect(result.policy).toBe(policy);
  });

  it('does not widen a namespace-scoped statement when it admits the migrated service accounts', () => {
    const scoped = podIdentityStatement({ StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/kubernetes-namespace': 'shop' } });
    const policy = parsePolicy({ Statement: [scoped] });
    const shop = addPodIdentityTrust(policy, { ...TARGET, serviceAccounts: [{ namespace: 'shop', serviceAccount: 'cart' }] });
    expect(shop).toMatchObject({ change: 'none', statementIndex: 0 });
    const mixed = addPodIdentityTrust(policy, { ...TARGET, serviceAccounts: [{ namespace: 'shop', serviceAccount: 'cart' }, { namespace: 'billing', serviceAccount: 'api' }] });
    expect(mixed.change).toBe('added-statement');
    // Without knowing the service accounts, the namespace tag cannot be proven.
    expect(addPodIdentityTrust(policy, TARGET).change).toBe('added-statement');
  });

  it('reports an unconditioned statement and leaves it alone', () => {
    const policy = parsePolicy({ Statement: [...irsaStatement, podIdentityStatement()] });
    const result = addPodIdentityTrust(policy, TARGET);
    expect(result).toMatchObject({ change: 'none', existingUnconditioned: true, statementIndex: 1 });
    expect(serializePolicy(result.policy)).toBe(serializePolicy(policy));
  });

  it('adds a full statement when the existing one lacks sts:TagSession', () => {
    const policy = parsePolicy({ Statement: [{ ...podIdentityStatement(), Action: 'sts:AssumeRole' }] });
    const result = addPodIdentityTrust(policy, TARGET);
    expect(result.change).toBe('added-statement');
    expect(result.existingUnconditioned).toBe(true);
  });

  it('picks a Sid that is unique in the policy', () => {
    const taken = { Sid: POD_IDENTITY_SID.toLowerCase(), ...podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV } }), Action: 'sts:AssumeRole' };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [taken] }), TARGET);
    expect(result.policy.statements[1]?.sid).toBe(`${POD_IDENTITY_SID}2`);
  });

  it('turns a single-object Statement into an array when appending', () => {
    const single = { Version: '2012-10-17', Statement: irsaStatement[0] } as JsonObject;
    const out = JSON.parse(serializePolicy(addPodIdentityTrust(parsePolicy(single), TARGET).policy)) as { Statement: unknown };
    expect(Array.isArray(out.Statement)).toBe(true);
  });

  it('reports clusters a Deny blocks', () => {
    const deny = { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { ArnEquals: { 'aws:SourceArn': PROD } } };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [deny] }), { ...TARGET, clusterArns: [PROD, DEV] });
    expect(result.deniedClusterArns).toEqual([PROD]);
  });

  it.each([
    ['no clusters', { ...TARGET, clusterArns: [] }],
    ['a cluster of another account', { ...TARGET, clusterArns: ['arn:aws:eks:us-east-1:444455556666:cluster/prod'] }],
    ['a cluster of another partition', { ...TARGET, clusterArns: [`arn:aws-cn:eks:cn-north-1:${ACCOUNT}:cluster/prod`] }],
    ['not a cluster ARN', { ...TARGET, clusterArns: ['prod'] }],
  ])('refuses %s', (_name, target) => {
    expect(() => addPodIdentityTrust(fixture('aws-docs-irsa'), target)).toThrow(PolicyEditError);
  });
});
