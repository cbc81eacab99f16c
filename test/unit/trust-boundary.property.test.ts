/**
 * The trust boundary as properties (fast-check), over every real trust-policy fixture and over
 * generated policies: whatever subset of the service accounts a role's IRSA trust admits podid
 * migrates, its change
 * - is proven by checkNoWidening (the same check a loaded plan and apply run);
 * - admits through Pod Identity exactly what the policy admitted before plus the migrated
 *   service accounts (probed with podid's evaluator on subjects in and out of the boundary:
 *   other namespaces, other service accounts, other clusters);
 * - leaves IRSA admission and every statement it does not extend unchanged, and is idempotent;
 * and any statement that admits one more subject than that is refused by checkNoWidening.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addPodIdentityTrust, admitsIrsaTwin, admitsRequests, checkNoWidening, deniesRequests, parsePolicy, podIdentityStatement, serializePolicy, subjectKey, subjectRequests, withStatements,
} from '../../src/core/policy/index.js';
import type { AccessCluster, JsonObject, PodIdentitySubject, TrustPolicy } from '../../src/core/policy/index.js';

const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, policy: (JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as { policy: JsonObject }).policy }));

const RUNS = 60;

/** One cluster per OIDC provider the policy names (its region from the issuer), in the provider's account and partition. */
function clustersOf(policy: TrustPolicy): AccessCluster[] {
  const providers = new Set<string>();
  for (const s of policy.statements) for (const f of s.principal?.ids.Federated ?? []) if (f.includes(':oidc-provider/')) providers.add(f);
  return [...providers].sort().map((provider, i) => {
    const m = /^arn:([^:]+):iam::(\d{12}):oidc-provider\/oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com/.exec(provider);
    const [partition, account, region] = m === null ? ['aws', '111122223333', 'us-east-1'] : [m[1]!, m[2]!, m[3]!];
    return { arn: `arn:${partition}:eks:${region}:${account}:cluster/c${i}`, account, oidcProvider: provider };
  });
}

/** Namespaces and service-account names worth probing: those the policy names (wildcards made concrete) and a few others. */
function namesOf(policy: TrustPolicy): { namespaces: string[]; serviceAccounts: string[] } {
  const namespaces = new Set(['default', 'shop', 'other']);
  const serviceAccounts = new Set(['app', 'intruder']);
  for (const s of policy.statements) {
    for (const c of s.conditions) {
      if (!c.key.toLowerCase().endsWith(':sub')) continue;
      for (const v of c.values) {
        const m = /^system:serviceaccount:([^:]+):(.+)$/.exec(v.replaceAll('*', 'x').replaceAll('?', 'y'));
        if (m !== null) {
          namespaces.add(m[1]!);
          serviceAccounts.add(m[2]!);
        }
      }
    }
  }
  return { namespaces: [...namespaces].sort(), serviceAccounts: [...serviceAccounts].sort() };
}

function universe(policy: TrustPolicy, clusters: readonly AccessCluster[]): PodIdentitySubject[] {
  const { namespaces, serviceAccounts } = namesOf(policy);
  return clusters.flatMap((c) => namespaces.flatMap((namespace) => serviceAccounts.map((serviceAccount) => ({ cluster: c.arn, namespace, serviceAccount }))));
}

const podAdmits = (policy: TrustPolicy, c: AccessCluster, s: PodIdentitySubject) => admitsRequests(policy.statements, subjectRequests(c.account, s));

/** The invariants for one policy and one chosen set of IRSA-admitted subjects. */
function checkBoundary(before: TrustPolicy, clusters: readonly AccessCluster[], chosen: readonly PodIdentitySubject[], probes: readonly PodIdentitySubject[]): void {
  const byArn = new Map(clusters.map((c) => [c.arn, c]));
  const account = clusters[0]!.account;
  const partition = clusters[0]!.arn.split(':')[1]!;
  const result = addPodIdentityTrust(before, { partition, clusterAccount: account, subjects: chosen });
  const after = result.policy;

  // 1. Proven by the plan/apply check.
  expect(checkNoWidening(before, after, clusters).problems).toEqual([]);

  // 2. Exactly as wide as before plus the migrated service accounts (the denied ones excepted).
  const picked = new Set(chosen.map(subjectKey));
  const denied = new Set(result.deniedSubjects.map(subjectKey));
  // Every probe is checked; those that differ are listed, named, in one assertion (an expect()
  // per probe cost more than the check itself: thousands per run).
  const wrong: string[] = [];
  for (const s of probes) {
    const c = byArn.get(s.cluster)!;
    const expected = podAdmits(before, c, s) || (picked.has(subjectKey(s)) && !denied.has(subjectKey(s)));
    if (podAdmits(after, c, s) !== expected) wrong.push(`Pod Identity ${s.namespace}/${s.serviceAccount} on ${s.cluster}: expected ${expected ? 'admitted' : 'refused'}`);
    // 3. IRSA unchanged.
    const irsa = admitsIrsaTwin(before, s, c.oidcProvider);
    if (admitsIrsaTwin(after, s, c.oidcProvider) !== irsa) wrong.push(`IRSA ${s.namespace}/${s.serviceAccount} on ${s.cluster}: expected ${irsa ? 'admitted' : 'refused'} as before`);
  }
  expect(wrong).toEqual([]);

  // 4. Untouched statements byte-identical; a second run changes nothing.
  const extended = new Set(result.extended);
  before.statements.forEach((s, i) => {
    if (!extended.has(i)) expect(JSON.stringify(after.statements[i]?.raw)).toBe(JSON.stringify(s.raw));
  });
  expect(serializePolicy(addPodIdentityTrust(after, { partition, clusterAccount: account, subjects: chosen }).policy)).toBe(serializePolicy(after));

  // 5. One subject more than that, in a statement of podid's own shape, is refused.
  // (Not one a Deny excludes: a statement for it would admit nothing, which is no widening.)
  const outside = probes.find((s) => !podAdmits(after, byArn.get(s.cluster)!, s) && !admitsIrsaTwin(before, s, byArn.get(s.cluster)!.oidcProvider) && !deniesRequests(before.statements, subjectRequests(byArn.get(s.cluster)!.account, s)));
  if (outside !== undefined) {
    const widened = withStatements(after, [...after.statements, podIdentityStatement('Widened', account, { clusters: [outside.cluster], namespaces: [outside.namespace], serviceAccounts: [outside.serviceAccount] })]);
    expect(checkNoWidening(before, widened, clusters).problems).not.toEqual([]);
  }
}

describe('trust boundary over every trust-policy fixture', () => {
  it.each(fixtures)('$file: any subset of the service accounts its IRSA trust admits', ({ policy: doc }) => {
    const before = parsePolicy(doc);
    const clusters = clustersOf(before);
    if (clusters.length === 0) {
      // A Pod Identity-only role: nothing is admitted through IRSA, so podid adds no one.
      expect(checkNoWidening(before, before, []).problems).toEqual([]);
      return;
    }
    const probes = universe(before, clusters);
    const admitted = probes.filter((s) => admitsIrsaTwin(before, s, clusters.find((c) => c.arn === s.cluster)!.oidcProvider));
    expect(admitted.length, 'the fixture admits some service account through IRSA').toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.subarray(admitted, { minLength: 1 }), (chosen) => checkBoundary(before, clusters, chosen, probes)),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Generated policies

const ACCOUNT = '111122223333';
const ISSUERS = ['oidc.eks.us-east-1.amazonaws.com/id/AAAA', 'oidc.eks.us-west-2.amazonaws.com/id/BBBB'];
const PROVIDERS = ISSUERS.map((i) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${i}`);
const NAMESPACES = ['shop', 'billing', 'kube-system'];
const ACCOUNTS = ['cart', 'api', 'worker'];
const CLUSTERS: AccessCluster[] = [
  { arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`, account: ACCOUNT, oidcProvider: PROVIDERS[0]! },
  { arn: `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/dr`, account: ACCOUNT, oidcProvider: PROVIDERS[1]! },
];

const subValue = fc.oneof(
  fc.tuple(fc.constantFrom(...NAMESPACES), fc.constantFrom(...ACCOUNTS)).map(([n, s]) => ({ like: false, v: `system:serviceaccount:${n}:${s}` })),
  fc.constantFrom(...NAMESPACES).map((n) => ({ like: true, v: `system:serviceaccount:${n}:*` })),
  fc.constantFrom(...ACCOUNTS).map((s) => ({ like: true, v: `system:serviceaccount:*:${s}` })),
  // A `*` under StringEquals is literal: it admits nobody (the classic copy-paste).
  fc.constantFrom(...NAMESPACES).map((n) => ({ like: false, v: `system:serviceaccount:${n}:*` })),
);

const irsaStatement = fc.record({ provider: fc.integer({ min: 0, max: 1 }), subs: fc.array(subValue, { minLength: 0, maxLength: 3 }), aud: fc.boolean() }).map(({ provider, subs, aud }): JsonObject => {
  const issuer = ISSUERS[provider]!;
  const condition: JsonObject = {};
  const eq = subs.filter((s) => !s.like).map((s) => s.v);
  const like = subs.filter((s) => s.like).map((s) => s.v);
  if (eq.length > 0) condition['StringEquals'] = { [`${issuer}:sub`]: eq };
  if (like.length > 0) condition['StringLike'] = { [`${issuer}:sub`]: like };
  if (aud) condition['StringEquals'] = { ...((condition['StringEquals'] as JsonObject | undefined) ?? {}), [`${issuer}:aud`]: 'sts.amazonaws.com' };
  return { Effect: 'Allow', Principal: { Federated: PROVIDERS[provider]! }, Action: 'sts:AssumeRoleWithWebIdentity', ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}) };
});

const tagStatement = fc.record({
  cluster: fc.constantFrom(...CLUSTERS.map((c) => c.arn)),
  namespace: fc.constantFrom(...NAMESPACES),
  serviceAccount: fc.option(fc.constantFrom(...ACCOUNTS), { nil: undefined }),
  sourceArn: fc.boolean(),
}).map(({ cluster, namespace, serviceAccount, sourceArn }): JsonObject => ({
  Effect: 'Allow',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Action: ['sts:AssumeRole', 'sts:TagSession'],
  Condition: sourceArn
    ? { StringEquals: { 'aws:SourceAccount': ACCOUNT }, ArnEquals: { 'aws:SourceArn': cluster } }
    : {
        StringEquals: {
          'aws:SourceAccount': ACCOUNT,
          'aws:RequestTag/eks-cluster-arn': cluster,
          'aws:RequestTag/kubernetes-namespace': namespace,
          ...(serviceAccount === undefined ? {} : { 'aws:RequestTag/kubernetes-service-account': serviceAccount }),
        },
      },
}));

const denyStatement = fc.constantFrom(...NAMESPACES).map((n): JsonObject => ({
  Effect: 'Deny',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Action: 'sts:AssumeRole',
  Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': n } },
}));

const generatedPolicy = fc
  .tuple(fc.array(irsaStatement, { minLength: 1, maxLength: 3 }), fc.array(tagStatement, { maxLength: 2 }), fc.array(denyStatement, { maxLength: 1 }))
  .map(([irsa, tags, denies]) => parsePolicy({ Version: '2012-10-17', Statement: [...irsa, ...tags, ...denies] }));

const PROBES: PodIdentitySubject[] = CLUSTERS.flatMap((c) => [...NAMESPACES, 'other'].flatMap((namespace) => [...ACCOUNTS, 'intruder'].map((serviceAccount) => ({ cluster: c.arn, namespace, serviceAccount }))));

describe('trust boundary over generated policies', () => {
  it('admits exactly the migrated IRSA subjects, proven, whatever the policy', () => {
    fc.assert(
      fc.property(generatedPolicy, fc.infiniteStream(fc.boolean()), (before, picks) => {
        const admitted = PROBES.filter((s) => admitsIrsaTwin(before, s, CLUSTERS.find((c) => c.arn === s.cluster)!.oidcProvider));
        const chosen = admitted.filter(() => picks.next().value === true);
        if (chosen.length === 0) return;
        checkBoundary(before, CLUSTERS, chosen, PROBES);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a subject the IRSA trust does not admit in', () => {
    fc.assert(
      fc.property(generatedPolicy, fc.constantFrom(...PROBES), (before, s) => {
        const c = CLUSTERS.find((x) => x.arn === s.cluster)!;
        fc.pre(!admitsIrsaTwin(before, s, c.oidcProvider) && !admitsRequests(before.statements, subjectRequests(ACCOUNT, s)) && !deniesRequests(before.statements, subjectRequests(ACCOUNT, s)));
        const widened = withStatements(before, [...before.statements, podIdentityStatement('X', ACCOUNT, { clusters: [s.cluster], namespaces: [s.namespace], serviceAccounts: [s.serviceAccount] })]);
        expect(checkNoWidening(before, widened, CLUSTERS).problems).not.toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
