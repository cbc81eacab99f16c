import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  POD_IDENTITY_SID, PolicyEditError, addPodIdentityTrust, encodeSubjects, parsePolicy, parseStatement, podIdentityStatement as buildPodIdentityStatement, policyLength, serializePolicy,
} from '../../src/core/policy/index.js';
import type { JsonObject, PodIdentitySubject, TrustPolicy } from '../../src/core/policy/index.js';
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
const sa = (namespace: string, serviceAccount: string, cluster = PROD): PodIdentitySubject => ({ cluster, namespace, serviceAccount });
const target = (...subjects: PodIdentitySubject[]) => ({ partition: 'aws', clusterAccount: ACCOUNT, subjects });
const CART = target(sa('shop', 'cart'));

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

const scopedCondition = (clusters: string | string[], namespaces: string | string[], serviceAccounts: string | string[]): JsonObject => ({
  StringEquals: {
    'aws:SourceAccount': ACCOUNT,
    'aws:RequestTag/eks-cluster-arn': clusters,
    'aws:RequestTag/kubernetes-namespace': namespaces,
    'aws:RequestTag/kubernetes-service-account': serviceAccounts,
  },
});

function admits(policy: TrustPolicy, s: PodIdentitySubject): boolean {
  return analyzeTrust(policy, { partition: 'aws', clusterAccount: ACCOUNT, clusterArn: s.cluster, oidcIssuer: null, namespace: s.namespace, serviceAccount: s.serviceAccount }).grantsPodIdentity;
}

describe('addPodIdentityTrust on every fixture', () => {
  it.each(fixtures)('$file: untouched statements stay byte-identical, and a second run changes nothing', ({ kind, policy }) => {
    const before = serializePolicy(parsePolicy(policy));
    const first = addPodIdentityTrust(parsePolicy(policy), CART);
    const after = serializePolicy(first.policy);
    const original = statementTexts(before);
    expect(statementTexts(after).slice(0, original.length)).toEqual(original);

    if (kind === 'pod-identity') {
      // The published Pod Identity examples have no conditions: they admit everyone already.
      expect(first.change).toBe('none');
      expect(first.existingUnconditioned).toBe(true);
      expect(after).toBe(before);
    } else {
      expect(first).toMatchObject({ change: 'changed', added: [original.length], extended: [], addedSubjects: [sa('shop', 'cart')] });
      expect(statementTexts(after)).toHaveLength(original.length + 1);
      // Top-level key order (Statement before Version for eksctl/kubeflow) is kept.
      expect(Object.keys(JSON.parse(after) as object)).toEqual(Object.keys(policy));
    }

    const second = addPodIdentityTrust(first.policy, CART);
    expect(second.change).toBe('none');
    expect(serializePolicy(second.policy)).toBe(after);
  });

  it('appends the session-tag statement (never aws:SourceArn, never unconditioned)', () => {
    const result = addPodIdentityTrust(fixture('aws-docs-irsa'), CART);
    const statements = (JSON.parse(serializePolicy(result.policy)) as { Statement: JsonObject[] }).Statement;
    expect(JSON.stringify(statements[1], null, 2)).toBe(
      JSON.stringify({ Sid: POD_IDENTITY_SID, ...podIdentityStatement(scopedCondition(PROD, 'shop', 'cart')) }, null, 2),
    );
    expect(admits(result.policy, sa('shop', 'cart'))).toBe(true);
    for (const other of [sa('shop', 'orders'), sa('billing', 'cart'), sa('shop', 'cart', DEV)]) expect(admits(result.policy, other)).toBe(false);
  });

  it('admits a role shared by two clusters for exactly their service accounts, in one statement when the rows match', () => {
    const west = `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/dr`;
    const result = addPodIdentityTrust(fixture('tfmod-iam-assumable-role-with-oidc-two'), target(sa('kube-system', 'external-dns'), sa('kube-system', 'external-dns', west)));
    expect(result.added).toEqual([2]);
    expect(result.policy.statements[2]?.raw['Condition']).toEqual(scopedCondition([PROD, west], 'kube-system', 'external-dns'));
  });

  it('works in GovCloud', () => {
    const gov = `arn:aws-us-gov:eks:us-gov-west-1:${ACCOUNT}:cluster/gov`;
    const result = addPodIdentityTrust(fixture('karpenter'), { partition: 'aws-us-gov', clusterAccount: ACCOUNT, subjects: [sa('karpenter', 'karpenter', gov)] });
    expect(result.policy.statements[1]?.raw['Condition']).toEqual(scopedCondition(gov, 'karpenter', 'karpenter'));
  });

  it('pushes the kubeflow role further past the 2048-character default quota', () => {
    const policy = fixture('kubeflow');
    const before = policyLength(policy);
    const after = policyLength(addPodIdentityTrust(policy, target(sa('kubeflow', 'profiles-controller', `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/kubeflow`))).policy);
    expect(before).toBe(2420);
    expect(after - before).toBeGreaterThan(200);
  });
});

describe('encodeSubjects: exact products', () => {
  it('shares a statement between namespaces with the same service accounts, and between clusters with the same rows', () => {
    const rects = encodeSubjects([sa('a', 'x'), sa('b', 'x'), sa('c', 'y'), sa('a', 'x', DEV), sa('b', 'x', DEV)]);
    expect(rects).toEqual([
      { clusters: [DEV, PROD], namespaces: ['a', 'b'], serviceAccounts: ['x'] },
      { clusters: [PROD], namespaces: ['c'], serviceAccounts: ['y'] },
    ]);
  });

  it('never puts a namespace with a different service-account set in the same product', () => {
    const rects = encodeSubjects([sa('a', 'x'), sa('a', 'y'), sa('b', 'x')]);
    const admitted = rects.flatMap((r) => r.clusters.flatMap((c) => r.namespaces.flatMap((n) => r.serviceAccounts.map((s) => `${c}/${n}/${s}`))));
    expect(admitted.sort()).toEqual([`${PROD}/a/x`, `${PROD}/a/y`, `${PROD}/b/x`]);
  });
});

describe('addPodIdentityTrust: existing Pod Identity statements', () => {
  const irsaStatement = fixture('aws-docs-irsa').raw['Statement'] as JsonObject[];

  it('extends a statement of its own shape when the union is still one product (another service account of the same namespace)', () => {
    const existing = { Sid: 'Existing', ...podIdentityStatement(scopedCondition(PROD, 'shop', 'cart')) };
    const policy = parsePolicy({ Version: '2012-10-17', Statement: [...irsaStatement, existing] });
    const result = addPodIdentityTrust(policy, target(sa('shop', 'orders')));
    expect(result).toMatchObject({ change: 'changed', added: [], extended: [1] });
    const texts = statementTexts(serializePolicy(result.policy));
    expect(texts[0]).toBe(JSON.stringify(irsaStatement[0], null, 2));
    expect(texts[1]).toBe(JSON.stringify({ ...existing, Condition: scopedCondition(PROD, 'shop', ['cart', 'orders']) }, null, 2));
    expect(admits(result.policy, sa('billing', 'orders'))).toBe(false);
    expect(addPodIdentityTrust(result.policy, target(sa('shop', 'orders'))).change).toBe('none');
  });

  it('does not extend when the union is not a product: it appends instead', () => {
    const existing = podIdentityStatement(scopedCondition(PROD, 'shop', 'cart'));
    const result = addPodIdentityTrust(parsePolicy({ Statement: [existing] }), target(sa('billing', 'api')));
    expect(result).toMatchObject({ added: [1], extended: [] });
    // Extending both lists would have admitted shop/api and billing/cart.
    expect(admits(result.policy, sa('shop', 'api'))).toBe(false);
    expect(admits(result.policy, sa('billing', 'cart'))).toBe(false);
  });

  it.each([
    ['StringLike', { StringLike: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': PROD, 'aws:RequestTag/kubernetes-namespace': 'shop', 'aws:RequestTag/kubernetes-service-account': 'cart' } }],
    ['an extra key', { StringEquals: { ...(scopedCondition(PROD, 'shop', 'cart')['StringEquals'] as JsonObject), 'aws:SourceOrgId': 'o-1' } }],
    ['a wildcard value', scopedCondition(PROD, 'shop', 'c*')],
    ['no aws:SourceAccount', { StringEquals: { 'aws:RequestTag/eks-cluster-arn': PROD, 'aws:RequestTag/kubernetes-namespace': 'shop', 'aws:RequestTag/kubernetes-service-account': 'cart' } }],
  ])('does not extend a session-tag statement with %s', (_name, condition) => {
    const existing = podIdentityStatement(condition);
    const result = addPodIdentityTrust(parsePolicy({ Statement: [existing] }), target(sa('shop', 'orders')));
    expect(result.extended).toEqual([]);
    expect(result.added).toEqual([1]);
  });

  it.each([
    ['"*"', '*'],
    ['"sts:*"', 'sts:*'],
    ['an extra action', ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']],
  ] satisfies [string, string | string[]][])('does not extend a scoped statement granting %s', (_name, action) => {
    const statement: JsonObject = { ...podIdentityStatement(scopedCondition(PROD, 'shop', 'cart')), Action: action };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [statement] }), target(sa('shop', 'orders')));
    expect(result).toMatchObject({ added: [1], extended: [] });
    expect(result.policy.statements[1]?.action.values).toEqual(['sts:AssumeRole', 'sts:TagSession']);
  });

  it('never counts an aws:SourceArn statement as admitting anyone (its value is undocumented): it adds its own', () => {
    const legacy = podIdentityStatement({ StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': PROD } });
    const result = addPodIdentityTrust(parsePolicy({ Statement: [...irsaStatement, legacy] }), CART);
    expect(result).toMatchObject({ change: 'changed', added: [2], alreadyAdmitted: [] });
  });

  it('recognises a statement scoped by session tags it did not write (eks-cluster-name), and adds nothing for what it admits', () => {
    const byName = podIdentityStatement({ StringEquals: { 'aws:RequestTag/eks-cluster-name': 'prod', 'aws:RequestTag/kubernetes-namespace': 'shop' } });
    const result = addPodIdentityTrust(parsePolicy({ Statement: [byName] }), target(sa('shop', 'cart'), sa('billing', 'api')));
    expect(result.alreadyAdmitted).toEqual([sa('shop', 'cart')]);
    expect(result.addedSubjects).toEqual([sa('billing', 'api')]);
  });

  it('does not count an Allow with NotPrincipal as admitting anyone', () => {
    const notPrincipal = { Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:*' };
    expect(addPodIdentityTrust(parsePolicy({ Statement: [notPrincipal] }), CART)).toMatchObject({ change: 'changed', added: [1] });
  });

  it.each([
    ['Bool aws:PrincipalIsAWSService true', { Bool: { 'aws:PrincipalIsAWSService': 'true' } }, true],
    ['StringNotEquals aws:PrincipalOrgID (absent for a service)', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-x' } }, true],
    ['Null aws:PrincipalOrgID false', { Null: { 'aws:PrincipalOrgID': 'false' } }, false],
    ['ArnLike aws:SourceArn "*" (may apply: the value is unknown)', { ArnLike: { 'aws:SourceArn': '*' } }, true],
  ])('reports the subjects a Deny * sts:* with %s blocks (or may block), and adds nothing for them', (_name, condition, blocked) => {
    const deny = { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: condition };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [deny] }), CART);
    expect(result.deniedSubjects).toEqual(blocked ? [sa('shop', 'cart')] : []);
    expect(result.change).toBe(blocked ? 'none' : 'changed');
  });

  it('reports an unconditioned statement and leaves it alone', () => {
    const policy = parsePolicy({ Statement: [...irsaStatement, podIdentityStatement()] });
    const result = addPodIdentityTrust(policy, CART);
    expect(result).toMatchObject({ change: 'none', existingUnconditioned: true, alreadyAdmitted: [sa('shop', 'cart')] });
    expect(serializePolicy(result.policy)).toBe(serializePolicy(policy));
  });

  it('picks a Sid that is unique in the policy', () => {
    const taken = { Sid: POD_IDENTITY_SID.toLowerCase(), ...podIdentityStatement({ ArnEquals: { 'aws:SourceArn': DEV } }), Action: 'sts:AssumeRole' };
    const result = addPodIdentityTrust(parsePolicy({ Statement: [taken] }), CART);
    expect(result.policy.statements[1]?.sid).toBe(`${POD_IDENTITY_SID}2`);
  });

  it('turns a single-object Statement into an array when appending', () => {
    const single = { Version: '2012-10-17', Statement: irsaStatement[0] } as JsonObject;
    const out = JSON.parse(serializePolicy(addPodIdentityTrust(parsePolicy(single), CART).policy)) as { Statement: unknown };
    expect(Array.isArray(out.Statement)).toBe(true);
  });

  it.each([
    ['no service accounts', target()],
    ['a cluster of another account', target(sa('shop', 'cart', 'arn:aws:eks:us-east-1:444455556666:cluster/prod'))],
    ['a cluster of another partition', target(sa('shop', 'cart', `arn:aws-cn:eks:cn-north-1:${ACCOUNT}:cluster/prod`))],
    ['not a cluster ARN', target(sa('shop', 'cart', 'prod'))],
    ['a namespace with a wildcard', target(sa('shop*', 'cart'))],
    ['a service account with a policy variable', target(sa('shop', '${aws:username}'))],
  ])('refuses %s', (_name, t) => {
    expect(() => addPodIdentityTrust(fixture('aws-docs-irsa'), t)).toThrow(PolicyEditError);
  });
});

describe('podIdentityStatement', () => {
  it('is what parsing its own JSON gives (it builds the model directly)', () => {
    for (const rect of [
      { clusters: ['arn:aws:eks:us-east-1:111122223333:cluster/a'], namespaces: ['ns'], serviceAccounts: ['sa'] },
      { clusters: ['arn:aws:eks:us-east-1:111122223333:cluster/a', 'arn:aws:eks:us-east-1:111122223333:cluster/b'], namespaces: ['x', 'y'], serviceAccounts: ['s1', 's2', 's3'] },
    ]) {
      const s = buildPodIdentityStatement('PodidPodIdentity2', '111122223333', rect);
      expect(s).toStrictEqual(parseStatement(structuredClone(s.raw)));
    }
  });
});
