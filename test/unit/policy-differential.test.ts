/**
 * Differential property test (issue 8): podid's own trust-policy evaluator (src/core/policy)
 * against the independent IAM simulator the sandbox's credential model uses
 * (@cloud-copilot/iam-simulate, through src/sandbox/iam-simulator.ts), over every trust-policy
 * fixture and over generated policies and requests. Both get the same request with every
 * condition key known, so podid's evaluator must decide (not answer `unknown`) and agree.
 * This test may import both; the product code keeps them apart (sandbox-independence.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchStatement, parsePolicy, type TrustRequest } from '../../src/core/policy/index.js';
import type { PrincipalType } from '../../src/core/policy/index.js';
import { loadSimulator, type Decision, type Simulator } from '../../src/sandbox/iam-simulator.js';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/subject`;
const ISSUERS = ['oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE', 'oidc.eks.us-west-2.amazonaws.com/id/B0B0'];
const providerArn = (issuer: string, account = ACCOUNT) => `arn:aws:iam::${account}:oidc-provider/${issuer}`;
const CLUSTERS = [`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`, `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dev`];
const NAMESPACES = ['shop', 'kube-system', 'batch'];
const ACCOUNTS_SA = ['cart', 'orders', 'aws-node'];

interface Request {
  principal: { type: PrincipalType; id: string };
  action: string;
  context: Record<string, string | string[]>;
}

/** podid's verdict for a whole policy: explicit Deny wins, then any Allow; undefined when it cannot decide. */
function podidDecision(doc: object, req: Request): Decision | undefined {
  const policy = parsePolicy(doc);
  const keys = new Map<string, string | readonly string[] | null>();
  for (const [k, v] of Object.entries(req.context)) keys.set(k.toLowerCase(), v);
  // Every other key the policy names is known to be absent from this request.
  for (const s of policy.statements) for (const c of s.conditions) if (!keys.has(c.key.toLowerCase())) keys.set(c.key.toLowerCase(), null);
  const trustReq: TrustRequest = { principal: req.principal, action: req.action, keys };
  let allow = false;
  let unknown = false;
  for (const s of policy.statements) {
    const m = matchStatement(s, trustReq);
    if (m.applies === 'unknown') unknown = true;
    if (m.applies !== 'yes') continue;
    if (s.effect === 'Deny') return 'ExplicitDeny';
    allow = true;
  }
  if (unknown) return undefined;
  return allow ? 'Allow' : 'ImplicitDeny';
}

function simulatorDecision(sim: Simulator, doc: object, req: Request): Decision {
  return sim.evaluate(
    { principal: req.principal.id, action: req.action, resource: ROLE, resourceAccount: ACCOUNT, context: req.context },
    { trustPolicy: doc as Record<string, unknown> },
  );
}

/** The requests podid reasons about: IRSA web identity and the two Pod Identity calls. */
function webIdentity(issuer: string, namespace: string, sa: string, aud = 'sts.amazonaws.com'): Request {
  return {
    principal: { type: 'Federated', id: providerArn(issuer) },
    action: 'sts:AssumeRoleWithWebIdentity',
    context: { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${sa}`, [`${issuer}:aud`]: aud },
  };
}

function podIdentity(action: string, cluster: string, namespace: string, sa: string, tags: boolean): Request {
  const context: Record<string, string | string[]> = { 'aws:SourceAccount': ACCOUNT };
  if (tags) {
    const t = {
      'eks-cluster-arn': cluster, 'eks-cluster-name': cluster.slice(cluster.lastIndexOf('/') + 1),
      'kubernetes-namespace': namespace, 'kubernetes-service-account': sa, 'kubernetes-pod-name': `${sa}-1`, 'kubernetes-pod-uid': '0000-1111',
    };
    for (const [k, v] of Object.entries(t)) context[`aws:RequestTag/${k}`] = v;
    context['aws:TagKeys'] = Object.keys(t);
  }
  return { principal: { type: 'Service', id: 'pods.eks.amazonaws.com' }, action, context };
}

/** Requests a policy's own providers and subjects make interesting, plus strangers. */
function requestsFor(): Request[] {
  const out: Request[] = [];
  for (const issuer of ISSUERS) for (const ns of NAMESPACES) for (const sa of ACCOUNTS_SA) out.push(webIdentity(issuer, ns, sa));
  out.push(webIdentity(ISSUERS[0]!, 'shop', 'cart', 'other-audience'));
  for (const cluster of CLUSTERS) {
    for (const ns of NAMESPACES.slice(0, 2)) {
      for (const sa of ACCOUNTS_SA.slice(0, 2)) {
        for (const action of ['sts:AssumeRole', 'sts:TagSession']) out.push(podIdentity(action, cluster, ns, sa, true));
      }
    }
    out.push(podIdentity('sts:AssumeRole', cluster, 'shop', 'cart', false));
  }
  return out;
}

let sim: Simulator;
beforeAll(async () => {
  sim = await loadSimulator();
});

describe('podid\'s evaluator agrees with the independent IAM simulator', () => {
  const dir = new URL('../fixtures/trust-policies/', import.meta.url);
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it.each(fixtures)('on fixture %s, for every IRSA and Pod Identity request', (file) => {
    const { policy } = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { policy: object };
    // The fixtures name their own providers: ask about those as well as the generic ones.
    const issuers = new Set<string>();
    JSON.stringify(policy).replace(/oidc-provider\/([^"]+)"/g, (_m, iss: string) => { issuers.add(iss); return ''; });
    const requests = requestsFor();
    for (const issuer of issuers) {
      for (const ns of [...NAMESPACES, 'kube-system', 'default', 'karpenter', 'kubeflow-user-example-com']) {
        for (const sa of [...ACCOUNTS_SA, 'karpenter', 'efs-csi-controller-sa', 'default-editor']) {
          const req = webIdentity(issuer, ns, sa);
          // A fixture's provider may live in another account: use the one it names.
          const named = /arn:aws[\w-]*:iam::(\d{12}):oidc-provider\//.exec(JSON.stringify(policy));
          const partition = /arn:(aws[\w-]*):iam/.exec(JSON.stringify(policy))?.[1] ?? 'aws';
          req.principal = { type: 'Federated', id: `arn:${partition}:iam::${named?.[1] ?? ACCOUNT}:oidc-provider/${issuer}` };
          requests.push(req);
        }
      }
    }
    let decided = 0;
    for (const req of requests) {
      const ours = podidDecision(policy, req);
      if (ours === undefined) continue;
      decided++;
      expect(ours, `${file}: ${JSON.stringify(req)}`).toBe(simulatorDecision(sim, policy, req));
    }
    expect(decided).toBeGreaterThan(0);
  });

  const value = (key: string): fc.Arbitrary<string> => {
    if (key.endsWith(':sub')) {
      return fc.constantFrom('system:serviceaccount:shop:cart', 'system:serviceaccount:shop:*', 'system:serviceaccount:*:cart', 'system:serviceaccount:kube-system:aws-node', '*', 'system:serviceaccount:shop:car?');
    }
    if (key.endsWith(':aud')) return fc.constantFrom('sts.amazonaws.com', 'sts.*', 'other');
    if (key === 'aws:SourceAccount') return fc.constantFrom(ACCOUNT, '444455556666', '1111*');
    if (key === 'aws:SourceArn' || key === 'aws:RequestTag/eks-cluster-arn') return fc.constantFrom(...CLUSTERS, `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/*`);
    if (key === 'aws:RequestTag/kubernetes-namespace') return fc.constantFrom(...NAMESPACES, 'sh*', 'SHOP');
    if (key === 'aws:RequestTag/kubernetes-service-account') return fc.constantFrom(...ACCOUNTS_SA, 'c*');
    if (key === 'aws:TagKeys') return fc.constantFrom('kubernetes-namespace', 'eks-cluster-arn', 'kubernetes-*', 'team');
    return fc.constantFrom('true', 'false');
  };
  const KEYS = [
    `${ISSUERS[0]}:sub`, `${ISSUERS[0]}:aud`, 'aws:SourceAccount', 'aws:SourceArn', 'aws:RequestTag/eks-cluster-arn',
    'aws:RequestTag/kubernetes-namespace', 'aws:RequestTag/kubernetes-service-account', 'aws:TagKeys',
  ];
  const OPERATORS = [
    'StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase', 'StringEqualsIfExists',
    'StringNotEqualsIfExists', 'ForAnyValue:StringEquals', 'ForAllValues:StringEquals', 'ForAnyValue:StringLike', 'ArnEquals', 'ArnLike', 'Null',
  ];
  // aws:TagKeys is multivalued: IAM requires a set operator with it and documents nothing else
  // (IAM user guide, "Single-valued vs. multivalued context keys"), so only set operators are generated for it.
  const SET_OPERATORS = OPERATORS.filter((o) => o.startsWith('For'));
  // ARN operators compare ARNs component by component; on values that are not ARNs IAM documents nothing.
  const ARN_KEYS = new Set(['aws:SourceArn', 'aws:RequestTag/eks-cluster-arn']);
  const operatorsFor = (key: string) => key === 'aws:TagKeys' ? SET_OPERATORS : OPERATORS.filter((o) => !o.startsWith('Arn') || ARN_KEYS.has(key));
  const condition = fc.constantFrom(...KEYS).chain((key) => fc.tuple(fc.constantFrom(...operatorsFor(key)), fc.constant(key))).chain(([op, key]) =>
    (op === 'Null' ? fc.constantFrom('true', 'false') : value(key)).chain((v) => fc.array(value(key), { maxLength: 2 }).map((more) => ({ op, key, values: [v, ...more] }))));
  const statement = fc.record({
    Effect: fc.constantFrom('Allow', 'Allow', 'Allow', 'Deny'),
    Principal: fc.constantFrom<unknown>(
      { Service: 'pods.eks.amazonaws.com' }, { Federated: providerArn(ISSUERS[0]!) }, { Federated: providerArn(ISSUERS[1]!) },
      '*', { Service: ['ec2.amazonaws.com', 'pods.eks.amazonaws.com'] }, { Service: 'ec2.amazonaws.com' },
    ),
    Action: fc.subarray(['sts:AssumeRole', 'sts:TagSession', 'sts:AssumeRoleWithWebIdentity', 'sts:*', 'sts:Assume*'], { minLength: 1 }),
    conditions: fc.array(condition, { maxLength: 3 }),
  }).map(({ conditions, ...s }) => {
    const Condition: Record<string, Record<string, string[]>> = {};
    for (const c of conditions) {
      Condition[c.op] ??= {};
      Condition[c.op]![c.key] = c.values;
    }
    return conditions.length > 0 ? { ...s, Condition } : s;
  });
  const policyArb = fc.array(statement, { minLength: 1, maxLength: 3 }).map((Statement) => ({ Version: '2012-10-17', Statement }));
  const requestArb = fc.oneof(
    fc.tuple(fc.constantFrom(...ISSUERS), fc.constantFrom(...NAMESPACES), fc.constantFrom(...ACCOUNTS_SA), fc.constantFrom('sts.amazonaws.com', 'other'))
      .map(([i, ns, sa, aud]) => webIdentity(i, ns, sa, aud)),
    fc.tuple(fc.constantFrom('sts:AssumeRole', 'sts:TagSession'), fc.constantFrom(...CLUSTERS), fc.constantFrom(...NAMESPACES), fc.constantFrom(...ACCOUNTS_SA), fc.boolean())
      .map(([a, c, ns, sa, tags]) => podIdentity(a, c, ns, sa, tags)),
  );

  it('on generated policies and requests', () => {
    fc.assert(
      fc.property(policyArb, requestArb, (policy, req) => {
        const ours = podidDecision(policy, req);
        fc.pre(ours !== undefined);
        expect(ours).toBe(simulatorDecision(sim, policy, req));
      }),
      { numRuns: 400, seed: 20261204 },
    );
  });
});
