import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import type { Inventory, ServiceAccountReport, Verdict } from '../../src/core/scan/inventory.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import type { FindingCode } from '../../src/core/scan/findings.js';
import {
  ACCOUNT, OTHER_ACCOUNT, PROD, agentAddon, baseCluster, baseFleet, deployment, foundRole, irsaStatement, pod, podIdentityStatementJson, policy, prod, roleArn,
  workload,
} from './analyze-snapshot.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const run = (s: FleetSnapshot): Inventory => analyzeFleet(s, { now: NOW });

function saReport(inv: Inventory, ns = 'shop', name = 'cart'): ServiceAccountReport {
  const r = inv.serviceAccounts.find((s) => s.namespace === ns && s.name === name);
  if (r === undefined) throw new Error(`no report for ${ns}/${name}`);
  return r;
}

function annotate(s: FleetSnapshot, value: string, extra: Record<string, string> = {}): void {
  const sa = prod(s).kube.serviceAccounts[0];
  if (sa === undefined) throw new Error('no SA');
  sa.annotations = { 'eks.amazonaws.com/role-arn': value, ...extra };
}

function setTrust(s: FleetSnapshot, ...statements: Parameters<typeof policy>): void {
  s.roles[roleArn('cart')] = foundRole(roleArn('cart'), policy(...statements));
}

const CART_SUB = 'system:serviceaccount:shop:cart';
const STAGING = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging`;
const association = (role: string, targetRoleArn: string | null = null) => ({
  associationId: 'a-123', associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/a-123`, namespace: 'shop', serviceAccount: 'cart', roleArn: role, targetRoleArn, ownerArn: null,
});

interface Case {
  name: string;
  mutate: (s: FleetSnapshot) => void;
  codes: FindingCode[];
  verdict: Verdict;
}

describe('analyzeFleet: service account findings and verdicts', () => {
  const cases: Case[] = [
    { name: 'a clean IRSA service account is ready', mutate: () => {}, codes: [], verdict: 'ready' },
    { name: 'whitespace around the ARN', mutate: (s) => annotate(s, ` ${roleArn('cart')} `), codes: ['ARN_WHITESPACE'], verdict: 'ready-with-warnings' },
    { name: 'a bare role name', mutate: (s) => annotate(s, 'cart'), codes: ['ARN_NOT_AN_ARN'], verdict: 'blocked' },
    { name: 'a truncated ARN', mutate: (s) => annotate(s, 'arn:aws:iam::role'), codes: ['ARN_MALFORMED'], verdict: 'blocked' },
    { name: 'a user ARN', mutate: (s) => annotate(s, `arn:aws:iam::${ACCOUNT}:user/cart`), codes: ['ARN_NOT_A_ROLE'], verdict: 'blocked' },
    { name: 'a short account', mutate: (s) => annotate(s, 'arn:aws:iam::1234:role/cart'), codes: ['ARN_BAD_ACCOUNT'], verdict: 'blocked' },
    { name: 'an invalid role name', mutate: (s) => annotate(s, `arn:aws:iam::${ACCOUNT}:role/ca$rt`), codes: ['ARN_BAD_NAME'], verdict: 'blocked' },
    { name: 'a GovCloud ARN on a commercial cluster', mutate: (s) => annotate(s, `arn:aws-us-gov:iam::${ACCOUNT}:role/cart`), codes: ['ARN_PARTITION_MISMATCH'], verdict: 'blocked' },
    {
      name: 'a role with a path',
      mutate: (s) => {
        const arn = `arn:aws:iam::${ACCOUNT}:role/team/cart`;
        annotate(s, arn);
        s.roles[arn] = foundRole(arn, policy(irsaStatement(CART_SUB)));
      },
      codes: ['ARN_HAS_PATH'],
      verdict: 'ready',
    },
    { name: 'a missing role', mutate: (s) => (s.roles[roleArn('cart')] = { arn: roleArn('cart'), state: 'missing', trustPolicy: null, error: 'role cart does not exist' }), codes: ['ROLE_NOT_FOUND'], verdict: 'blocked' },
    { name: 'an unreadable role', mutate: (s) => (s.roles[roleArn('cart')] = { arn: roleArn('cart'), state: 'unreadable', trustPolicy: null, error: 'AccessDenied' }), codes: ['ROLE_UNREADABLE'], verdict: 'blocked' },
    { name: 'a role the scan did not fetch', mutate: (s) => delete s.roles[roleArn('cart')], codes: ['ROLE_UNREADABLE'], verdict: 'blocked' },
    {
      name: 'a cross-account role (unreadable from here)',
      mutate: (s) => {
        annotate(s, roleArn('cart', OTHER_ACCOUNT));
        s.roles[roleArn('cart', OTHER_ACCOUNT)] = { arn: roleArn('cart', OTHER_ACCOUNT), state: 'unreadable', trustPolicy: null, error: 'AccessDenied' };
      },
      codes: ['ROLE_CROSS_ACCOUNT'],
      verdict: 'ready-with-warnings',
    },
    { name: 'an unparseable trust policy', mutate: (s) => (s.roles[roleArn('cart')] = foundRole(roleArn('cart'), { Statement: 'nope' })), codes: ['TRUST_POLICY_INVALID'], verdict: 'blocked' },
    { name: 'GetRole returned an undecodable policy', mutate: (s) => (s.roles[roleArn('cart')] = { arn: roleArn('cart'), state: 'found', trustPolicy: null, error: 'not JSON' }), codes: ['TRUST_POLICY_INVALID'], verdict: 'blocked' },
    { name: 'trust grants another service account', mutate: (s) => setTrust(s, irsaStatement('system:serviceaccount:shop:other')), codes: ['TRUST_NO_IRSA_GRANT'], verdict: 'ready-with-warnings' },
    { name: 'trust through a namespace wildcard', mutate: (s) => setTrust(s, irsaStatement('system:serviceaccount:shop:*', { operator: 'StringLike' })), codes: ['TRUST_IRSA_WILDCARD'], verdict: 'ready' },
    {
      name: 'trust with no sub condition',
      mutate: (s) => setTrust(s, { Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` }, Action: 'sts:AssumeRoleWithWebIdentity' }),
      codes: ['TRUST_IRSA_UNCONSTRAINED'],
      verdict: 'ready',
    },
    { name: 'Pod Identity already trusted for this cluster', mutate: (s) => setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson([PROD])), codes: ['TRUST_POD_IDENTITY_BROAD', 'TRUST_POD_IDENTITY_PRESENT'], verdict: 'ready-with-warnings' },
    {
      name: 'Pod Identity already trusted for this service account only',
      mutate: (s) => setTrust(s, irsaStatement(CART_SUB), { ...podIdentityStatementJson(null), Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': PROD, 'aws:RequestTag/kubernetes-namespace': 'shop', 'aws:RequestTag/kubernetes-service-account': 'cart' } } }),
      codes: ['TRUST_POD_IDENTITY_PRESENT'],
      verdict: 'ready',
    },
    { name: 'Pod Identity trusted for other clusters', mutate: (s) => setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson([STAGING])), codes: ['TRUST_POD_IDENTITY_OTHER_CLUSTERS'], verdict: 'ready' },
    {
      name: 'a Pod Identity statement that depends on aws:SourceArn (undocumented value)',
      mutate: (s) => setTrust(s, irsaStatement(CART_SUB), { ...podIdentityStatementJson(null), Condition: { ArnEquals: { 'aws:SourceArn': PROD } } }),
      codes: ['TRUST_POD_IDENTITY_OTHER_CLUSTERS', 'TRUST_POD_IDENTITY_SOURCE_ARN'],
      verdict: 'ready-with-warnings',
    },
    { name: "eksctl's unconditioned Pod Identity statement", mutate: (s) => setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson(null)), codes: ['TRUST_POD_IDENTITY_UNCONDITIONED'], verdict: 'ready-with-warnings' },
    {
      name: 'a Deny of Pod Identity',
      mutate: (s) => setTrust(s, irsaStatement(CART_SUB), { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      codes: ['TRUST_POD_IDENTITY_DENIED'],
      verdict: 'blocked',
    },
    { name: 'a trust policy near the limit', mutate: (s) => (s.trustPolicyLimit = 300), codes: ['TRUST_POLICY_TOO_LARGE'], verdict: 'blocked' },
    {
      name: 'association, trust and every pod on Pod Identity',
      mutate: (s) => {
        const c = prod(s);
        setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson([PROD]));
        c.associations.push(association(roleArn('cart')));
        c.kube.pods = c.kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'pod-identity' } : p));
      },
      codes: ['ASSOCIATION_EXISTS', 'TRUST_POD_IDENTITY_BROAD', 'TRUST_POD_IDENTITY_PRESENT'],
      verdict: 'migrated',
    },
    {
      name: 'association and every pod on Pod Identity, but a trust that does not provably admit it (only aws:SourceArn)',
      mutate: (s) => {
        const c = prod(s);
        setTrust(s, irsaStatement(CART_SUB), { ...podIdentityStatementJson(null), Condition: { ArnEquals: { 'aws:SourceArn': PROD } } });
        c.associations.push(association(roleArn('cart')));
        c.kube.pods = c.kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'pod-identity' } : p));
      },
      codes: ['ASSOCIATION_EXISTS', 'ASSOCIATION_TRUST_MISSING', 'TRUST_POD_IDENTITY_OTHER_CLUSTERS', 'TRUST_POD_IDENTITY_SOURCE_ARN'],
      verdict: 'partial',
    },
    {
      name: 'association and trust, but pods still on IRSA',
      mutate: (s) => {
        setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson([PROD]));
        prod(s).associations.push(association(roleArn('cart')));
      },
      codes: ['ASSOCIATION_EXISTS', 'PODS_NEED_RESTART', 'TRUST_POD_IDENTITY_BROAD', 'TRUST_POD_IDENTITY_PRESENT'],
      verdict: 'partial',
    },
    {
      // The trust's Pod Identity statement removed after the association was made: pods restarted onto it get AccessDenied.
      name: 'association but no Pod Identity trust, pods still on IRSA',
      mutate: (s) => prod(s).associations.push(association(roleArn('cart'))),
      codes: ['ASSOCIATION_EXISTS', 'ASSOCIATION_TRUST_MISSING', 'PODS_NEED_RESTART'],
      verdict: 'partial',
    },
    {
      name: 'association but no Pod Identity trust, every pod on Pod Identity (no credentials today)',
      mutate: (s) => {
        prod(s).associations.push(association(roleArn('cart')));
        prod(s).kube.pods = prod(s).kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'pod-identity' } : p));
      },
      codes: ['ASSOCIATION_EXISTS', 'ASSOCIATION_TRUST_MISSING'],
      verdict: 'partial',
    },
    { name: 'association for another role', mutate: (s) => prod(s).associations.push(association(roleArn('other'))), codes: ['ASSOCIATION_CONFLICT'], verdict: 'blocked' },
    {
      name: 'a pod on a Fargate node',
      mutate: (s) => {
        const c = prod(s);
        c.kube.nodes.push({ name: 'fargate-ip-10-0-9-9', os: 'linux', computeType: 'fargate', nodegroup: null });
        const p = c.kube.pods.find((x) => x.namespace === 'shop');
        if (p) p.nodeName = 'fargate-ip-10-0-9-9';
      },
      codes: ['WORKLOAD_ON_FARGATE'],
      verdict: 'blocked',
    },
    {
      name: 'a Fargate profile selecting the namespace and labels',
      mutate: (s) => prod(s).fargateProfiles.push({ name: 'fp-shop', selectors: [{ namespace: 'sh*', labels: { app: 'cart' } }] }),
      codes: ['WORKLOAD_ON_FARGATE'],
      verdict: 'blocked',
    },
    {
      name: 'a Windows nodeSelector',
      mutate: (s) => {
        const d = prod(s).kube.workloads.find((w) => w.kind === 'Deployment' && w.name === 'cart');
        if (d) d.nodeSelector = { 'kubernetes.io/os': 'windows' };
      },
      codes: ['WORKLOAD_ON_WINDOWS'],
      verdict: 'blocked',
    },
    {
      // No pod yet (scaled to zero, or Pending while a Windows node group scales up from zero).
      name: 'a required node affinity pinning Windows, no pod running',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.filter((p) => p.namespace !== 'shop');
        const d = c.kube.workloads.find((w) => w.kind === 'Deployment' && w.name === 'cart');
        if (d) d.windowsAffinity = true;
      },
      codes: ['SA_NO_PODS', 'WORKLOAD_ON_WINDOWS'],
      verdict: 'blocked',
    },
    {
      name: 'a pod on a Windows node',
      mutate: (s) => {
        const c = prod(s);
        c.kube.nodes.push({ name: 'win-1', os: 'windows', computeType: 'ec2', nodegroup: 'ng-win' });
        const p = c.kube.pods.find((x) => x.namespace === 'shop');
        if (p) p.nodeName = 'win-1';
      },
      codes: ['WORKLOAD_ON_WINDOWS'],
      verdict: 'blocked',
    },
    { name: 'a bare pod', mutate: (s) => prod(s).kube.pods.push(pod('shop', 'debug', 'cart', 'irsa')), codes: ['POD_NOT_RESTARTABLE'], verdict: 'ready' },
    {
      name: 'a running Job of a CronJob',
      mutate: (s) => {
        const c = prod(s);
        c.kube.workloads.push(workload('CronJob', 'shop', 'nightly', 'cart'), workload('Job', 'shop', 'nightly-289', 'cart', { owner: { kind: 'CronJob', name: 'nightly' }, active: true }));
        c.kube.pods.push(pod('shop', 'nightly-289-x', 'cart', 'irsa', { owner: { kind: 'Job', name: 'nightly-289' } }));
      },
      codes: ['JOB_RUNNING'],
      verdict: 'ready',
    },
    {
      name: 'no pods at all',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.filter((p) => p.namespace !== 'shop');
        c.kube.workloads = c.kube.workloads.filter((w) => w.namespace !== 'shop');
      },
      codes: ['SA_NO_PODS'],
      verdict: 'ready',
    },
    {
      name: 'pods without injected credentials',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'none' } : p));
      },
      codes: ['PODS_WITHOUT_CREDENTIALS'],
      verdict: 'ready',
    },
    {
      name: 'a custom audience (the trust requires the default one)',
      mutate: (s) => annotate(s, roleArn('cart'), { 'eks.amazonaws.com/audience': 'my-audience' }),
      codes: ['TRUST_NO_IRSA_GRANT', 'ANNOTATION_AUDIENCE'],
      verdict: 'ready-with-warnings',
    },
    { name: 'the default audience, written out', mutate: (s) => annotate(s, roleArn('cart'), { 'eks.amazonaws.com/audience': 'sts.amazonaws.com' }), codes: [], verdict: 'ready' },
    { name: 'sts-regional-endpoints', mutate: (s) => annotate(s, roleArn('cart'), { 'eks.amazonaws.com/sts-regional-endpoints': 'true' }), codes: ['ANNOTATION_STS_REGIONAL_ENDPOINTS'], verdict: 'ready' },
    { name: 'token-expiration', mutate: (s) => annotate(s, roleArn('cart'), { 'eks.amazonaws.com/token-expiration': '86400' }), codes: ['ANNOTATION_TOKEN_EXPIRATION'], verdict: 'ready' },
    { name: 'a cluster warning (agent missing)', mutate: (s) => (prod(s).addons = []), codes: ['CLUSTER_HAS_WARNINGS'], verdict: 'ready-with-warnings' },
    { name: 'a cluster error (platform too old)', mutate: (s) => Object.assign(prod(s), { version: '1.28', platformVersion: 'eks.3' }), codes: ['CLUSTER_BLOCKED'], verdict: 'blocked' },
    {
      name: 'a cluster error outranks an existing migration',
      mutate: (s) => {
        const c = prod(s);
        c.version = '1.23';
        c.associations.push(association(roleArn('cart')));
        c.kube.pods = c.kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'pod-identity' } : p));
      },
      codes: ['ASSOCIATION_EXISTS', 'ASSOCIATION_TRUST_MISSING', 'CLUSTER_BLOCKED'],
      verdict: 'blocked',
    },
    {
      name: 'a migrated service account keeps its verdict despite a cluster warning',
      mutate: (s) => {
        const c = prod(s);
        c.addons = [];
        c.autoMode = true;
        c.kube.nodes.push({ name: 'i-auto', os: 'linux', computeType: 'auto', nodegroup: null });
        setTrust(s, irsaStatement(CART_SUB), podIdentityStatementJson([PROD]));
        c.associations.push(association(roleArn('cart')));
        c.kube.pods = c.kube.pods.map((p) => (p.namespace === 'shop' ? { ...p, identity: 'pod-identity' } : p));
      },
      codes: ['ASSOCIATION_EXISTS', 'CLUSTER_HAS_WARNINGS', 'TRUST_POD_IDENTITY_BROAD', 'TRUST_POD_IDENTITY_PRESENT'],
      verdict: 'migrated',
    },
  ];

  it.each(cases)('$name -> $verdict', (c) => {
    const s = baseFleet();
    c.mutate(s);
    const r = saReport(run(s));
    expect(r.findings.map((f) => f.code).sort()).toEqual([...c.codes].sort());
    expect(r.verdict).toBe(c.verdict);
  });

  it('every finding carries a message and a fix', () => {
    for (const c of cases) {
      const s = baseFleet();
      c.mutate(s);
      for (const f of saReport(run(s)).findings) {
        expect(f.message.length, f.code).toBeGreaterThan(10);
        expect(f.fix.length, f.code).toBeGreaterThan(10);
      }
    }
  });
});

describe('PODS_NEED_RESTART beside ASSOCIATION_TRUST_MISSING', () => {
  it('says to fix the trust before restarting (a restart first leaves the new pods without credentials)', () => {
    const s = baseFleet();
    prod(s).associations.push(association(roleArn('cart')));
    const restart = saReport(run(s)).findings.find((f) => f.code === 'PODS_NEED_RESTART')!;
    expect(restart.fix).toMatch(/^first add the Pod Identity trust \(ASSOCIATION_TRUST_MISSING.*\), then restart the workloads/);
    // With the trust in place, the catalogue's fix as before.
    const ok = baseFleet();
    setTrust(ok, irsaStatement(CART_SUB), podIdentityStatementJson([PROD]));
    prod(ok).associations.push(association(roleArn('cart')));
    expect(saReport(run(ok)).findings.find((f) => f.code === 'PODS_NEED_RESTART')!.fix).toMatch(/^restart the workloads/);
  });
});

describe('analyzeFleet: service account details', () => {
  it('reports the role, trust, pods and workloads of a ready service account', () => {
    const r = saReport(run(baseFleet()));
    expect(r).toMatchObject({
      cluster: PROD,
      roleArn: roleArn('cart'),
      role: { arn: roleArn('cart'), account: ACCOUNT, name: 'cart', path: '/', state: 'found', crossAccount: false },
      trust: { irsa: 'exact', irsaStatements: [0], podIdentity: 'none', limit: 2048 },
      association: { state: 'none', associationId: null },
      pods: { irsa: 2, podIdentity: 0, none: 0 },
      workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'cart', pods: { irsa: 2, podIdentity: 0, none: 0 }, runsOn: ['ec2'] }],
      addon: null,
    });
    expect(r.trust.length).toBeGreaterThan(100);
    expect(r.trust.lengthAfter).toBeGreaterThan(r.trust.length ?? Infinity);
  });

  it('keeps the raw annotation but reports the normalised ARN', () => {
    const s = baseFleet();
    annotate(s, `${roleArn('cart')}\n`);
    const r = saReport(run(s));
    expect(r.roleArn).toBe(`${roleArn('cart')}\n`);
    expect(r.role.arn).toBe(roleArn('cart'));
    expect(r.role.state).toBe('found');
  });

  it('marks an invalid ARN as such and leaves the trust unknown', () => {
    const s = baseFleet();
    annotate(s, 'cart');
    const r = saReport(run(s));
    expect(r.role).toEqual({ arn: 'cart', account: null, name: null, path: null, state: 'invalid', crossAccount: false });
    expect(r.trust).toEqual({ irsa: 'unknown', irsaStatements: [], podIdentity: 'unknown', length: null, lengthAfter: null, limit: 2048 });
  });

  it('measures the length after for every scanned cluster that shares the role', () => {
    const single = saReport(run(baseFleet())).trust;
    const s = baseFleet();
    const staging = baseCluster('staging');
    staging.kube.serviceAccounts.push({ namespace: 'shop', name: 'cart', uid: 'x', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('cart') } });
    s.clusters.push(staging);
    const shared = saReport(run(s)).trust;
    expect(shared.length).toBe(single.length);
    // The second cluster ARN goes into the same statement's aws:SourceArn list.
    expect((shared.lengthAfter ?? 0) - (single.lengthAfter ?? 0)).toBeGreaterThan(STAGING.length);
  });

  it('names a negated sub condition as one (StringNotEquals admits everyone but its values)', () => {
    const s = baseFleet();
    setTrust(s, irsaStatement('system:serviceaccount:kube-system:admin', { operator: 'StringNotEquals', aud: false }));
    const admitted = saReport(run(s)).findings.find((x) => x.code === 'TRUST_IRSA_WILDCARD');
    expect(admitted?.message).toContain('(not system:serviceaccount:kube-system:admin)');
    setTrust(s, irsaStatement(CART_SUB, { operator: 'StringNotEquals', aud: false }));
    const refused = saReport(run(s)).findings.find((x) => x.code === 'TRUST_NO_IRSA_GRANT');
    expect(refused?.message).toContain(`the sub condition (not ${CART_SUB}) does not admit ${CART_SUB}`);
  });

  it('says why the trust policy is too large, with both lengths', () => {
    const s = baseFleet();
    s.trustPolicyLimit = 300;
    const r = saReport(run(s));
    const f = r.findings.find((x) => x.code === 'TRUST_POLICY_TOO_LARGE');
    expect(f?.message).toContain(`from ${r.trust.length} to ${r.trust.lengthAfter}`);
    expect(f?.fix).toContain('L-C07B4B0D');
  });

  it('treats a cross-account role as the association target (role chaining)', () => {
    const s = baseFleet();
    const target = roleArn('cart', OTHER_ACCOUNT);
    annotate(s, target);
    s.roles[target] = foundRole(target, policy(irsaStatement(CART_SUB, { provider: `arn:aws:iam::${OTHER_ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE` })));
    prod(s).associations.push(association(roleArn('source'), target));
    const r = saReport(run(s));
    expect(r.role.crossAccount).toBe(true);
    // Its OIDC provider lives in the role's account; that grant is found.
    expect(r.trust.irsa).toBe('exact');
    expect(r.trust.lengthAfter).toBeNull();
    expect(r.association).toMatchObject({ state: 'same-role', roleArn: target });
    expect(r.findings.map((f) => f.code).sort()).toEqual(['ASSOCIATION_EXISTS', 'PODS_NEED_RESTART', 'ROLE_CROSS_ACCOUNT']);
  });

  it('groups pods by their top-level controller and counts them by identity', () => {
    const s = baseFleet();
    const c = prod(s);
    c.kube.pods.push(pod('shop', 'cart-7d9f8-2', 'cart', 'pod-identity', { owner: { kind: 'ReplicaSet', name: 'cart-7d9f8' } }));
    c.kube.pods.push(pod('shop', 'cart-7d9f8-3', 'cart', 'irsa', { owner: { kind: 'ReplicaSet', name: 'cart-7d9f8' }, phase: 'Succeeded' }));
    c.kube.workloads.push(workload('StatefulSet', 'shop', 'db', 'cart'), workload('DaemonSet', 'shop', 'agent', 'cart'));
    c.kube.pods.push(pod('shop', 'db-0', 'cart', 'irsa', { owner: { kind: 'StatefulSet', name: 'db' } }));
    c.kube.pods.push(pod('shop', 'agent-x', 'cart', 'none', { owner: { kind: 'DaemonSet', name: 'agent' } }));
    c.kube.pods.push(pod('shop', 'rollout-abc-1', 'cart', 'irsa', { owner: { kind: 'ReplicaSet', name: 'rollout-abc' } }));
    c.kube.workloads.push(workload('ReplicaSet', 'shop', 'rollout-abc', 'cart', { owner: { kind: 'Rollout', name: 'rollout' } }));
    // Another namespace's pods with the same SA name are not counted.
    c.kube.pods.push(pod('other', 'cart-1', 'cart', 'irsa'));
    const r = saReport(run(s));
    expect(r.workloads.map((w) => [w.kind, w.name, w.pods])).toEqual([
      ['DaemonSet', 'agent', { irsa: 0, podIdentity: 0, none: 1 }],
      ['Deployment', 'cart', { irsa: 2, podIdentity: 1, none: 0 }],
      ['Pod', 'rollout-abc-1', { irsa: 1, podIdentity: 0, none: 0 }],
      ['StatefulSet', 'db', { irsa: 1, podIdentity: 0, none: 0 }],
    ]);
    expect(r.pods).toEqual({ irsa: 4, podIdentity: 1, none: 1 });
    expect(r.findings.find((f) => f.code === 'POD_NOT_RESTARTABLE')?.message).toContain('Rollout/rollout');
  });

  it('lists a Fargate-selected workload with no pods yet, but never a DaemonSet', () => {
    const s = baseFleet();
    const c = prod(s);
    c.fargateProfiles.push({ name: 'fp-batch', selectors: [{ namespace: 'batch', labels: {} }] });
    c.kube.serviceAccounts.push({ namespace: 'batch', name: 'etl', uid: 'x', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('cart') } });
    c.kube.workloads.push(workload('Deployment', 'batch', 'etl', 'etl', { replicas: 0 }), workload('DaemonSet', 'batch', 'logs', 'etl'));
    const r = saReport(run(s), 'batch', 'etl');
    expect(r.workloads).toEqual([
      { kind: 'DaemonSet', namespace: 'batch', name: 'logs', pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: [] },
      { kind: 'Deployment', namespace: 'batch', name: 'etl', pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: ['fargate'] },
    ]);
    const fargate = r.findings.filter((f) => f.code === 'WORKLOAD_ON_FARGATE');
    expect(fargate).toHaveLength(1);
    expect(fargate[0]?.message).toContain('Deployment batch/etl');
    expect(fargate[0]?.message).toContain('fp-batch');
  });

  it('uses pod labels for unscheduled pods against Fargate selectors', () => {
    const s = baseFleet();
    const c = prod(s);
    c.fargateProfiles.push({ name: 'fp', selectors: [{ namespace: 'shop', labels: { tier: 'batch' } }] });
    c.kube.pods.push(pod('shop', 'loose', 'cart', 'irsa', { nodeName: null, labels: { tier: 'batch' } }));
    const r = saReport(run(s));
    expect(r.workloads.find((w) => w.name === 'loose')?.runsOn).toEqual(['fargate']);
    expect(r.workloads.find((w) => w.name === 'cart')?.runsOn).toEqual(['ec2']);
  });
});

describe('analyzeFleet: add-ons', () => {
  function withVpcCni(s: FleetSnapshot, supported: boolean, over: { status?: string; associations?: string[] } = {}): void {
    const c = prod(s);
    const role = roleArn('vpc-cni-irsa');
    c.addons.push({
      name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', status: over.status ?? 'ACTIVE', arn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/prod/vpc-cni/x`,
      serviceAccountRoleArn: role, podIdentityAssociations: over.associations ?? [],
      podIdentityConfiguration: supported ? [{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }] : null,
    });
    c.kube.serviceAccounts.push({ namespace: 'kube-system', name: 'aws-node', uid: 'x', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': role } });
    s.roles[role] = foundRole(role, policy(irsaStatement('system:serviceaccount:kube-system:aws-node')));
    c.kube.workloads.push(workload('DaemonSet', 'kube-system', 'aws-node', 'aws-node'));
    c.kube.pods.push(pod('kube-system', 'aws-node-1', 'aws-node', 'irsa', { owner: { kind: 'DaemonSet', name: 'aws-node' } }));
  }

  it('marks the add-on service account and reports a supported add-on as ready', () => {
    const s = baseFleet();
    withVpcCni(s, true);
    const inv = run(s);
    const r = saReport(inv, 'kube-system', 'aws-node');
    expect(r.addon).toBe('vpc-cni');
    expect(r.findings.map((f) => f.code)).toEqual(['ADDON_SERVICE_ACCOUNT']);
    expect(r.verdict).toBe('ready');
    expect(inv.addons).toEqual([
      { cluster: PROD, name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', serviceAccountRoleArn: roleArn('vpc-cni-irsa'), serviceAccount: 'aws-node', supportsPodIdentity: true, verdict: 'ready', findings: [] },
    ]);
  });

  it('blocks an add-on version without Pod Identity support, on the add-on and its service account', () => {
    const s = baseFleet();
    withVpcCni(s, false);
    const inv = run(s);
    expect(inv.addons[0]).toMatchObject({ supportsPodIdentity: false, serviceAccount: 'aws-node', verdict: 'blocked' });
    expect(inv.addons[0]?.findings.map((f) => f.code)).toEqual(['ADDON_VERSION_UNSUPPORTED']);
    const r = saReport(inv, 'kube-system', 'aws-node');
    expect(r.findings.map((f) => f.code)).toEqual(['ADDON_VERSION_UNSUPPORTED', 'ADDON_SERVICE_ACCOUNT']);
    expect(r.verdict).toBe('blocked');
  });

  it('reports an add-on that already has associations as migrated, and a degraded one with a warning', () => {
    const s = baseFleet();
    withVpcCni(s, true, { associations: ['arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-1'] });
    expect(run(s).addons[0]).toMatchObject({ verdict: 'migrated', findings: [{ code: 'ADDON_MIGRATED', severity: 'info' }] });
    const d = baseFleet();
    withVpcCni(d, true, { status: 'DEGRADED' });
    expect(run(d).addons[0]).toMatchObject({ verdict: 'ready-with-warnings', findings: [{ code: 'ADDON_NOT_ACTIVE', severity: 'warning' }] });
  });

  it('ignores add-ons without serviceAccountRoleArn', () => {
    const s = baseFleet();
    prod(s).addons.push({ ...agentAddon(), name: 'coredns' });
    expect(run(s).addons).toEqual([]);
  });
});

describe('analyzeFleet: inventory', () => {
  function fleet(): FleetSnapshot {
    const s = baseFleet();
    const staging = baseCluster('staging', 'eu-west-1');
    for (const [ns, name] of [['web', 'b'], ['api', 'z'], ['api', 'a']] as const) {
      staging.kube.serviceAccounts.push({ namespace: ns, name, uid: name, resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn(name) } });
      deployment(staging, ns, name, name, ['irsa']);
    }
    staging.kube.serviceAccounts.push({ namespace: 'api', name: 'plain', uid: 'p', resourceVersion: '1', annotations: {} });
    s.clusters.unshift(staging);
    return s;
  }

  it('sorts clusters by ARN and service accounts by cluster, namespace and name; skips unannotated ones', () => {
    const inv = run(fleet());
    // arn:aws:eks:eu-west-1:... sorts before arn:aws:eks:us-east-1:...
    expect(inv.clusters.map((c) => c.name)).toEqual(['staging', 'prod']);
    expect(inv.serviceAccounts.map((s) => `${s.cluster.split('/')[1]}/${s.namespace}/${s.name}`)).toEqual(['staging/api/a', 'staging/api/z', 'staging/web/b', 'prod/shop/cart']);
  });

  it('is deterministic: the same snapshot in another order gives identical JSON', () => {
    const a = fleet();
    const b = fleet();
    b.clusters.reverse();
    for (const c of b.clusters) {
      c.kube.serviceAccounts.reverse();
      c.kube.pods.reverse();
      c.kube.workloads.reverse();
      c.kube.nodes.reverse();
    }
    b.roles = Object.fromEntries(Object.entries(b.roles).reverse());
    expect(JSON.stringify(run(b))).toBe(JSON.stringify(run(a)));
    expect(JSON.stringify(run(a))).toBe(JSON.stringify(run(a)));
  });

  it('fills the header and summary', () => {
    const inv = analyzeFleet(fleet(), { now: NOW, toolVersion: '0.1.0' });
    expect(inv).toMatchObject({ schemaVersion: 1, generatedAt: '2025-06-01T12:00:00.000Z', toolVersion: '0.1.0', source: 'live', caller: { account: ACCOUNT }, trustPolicyLimit: 2048 });
    // Roles a, b, z were never fetched: unreadable, blocked.
    expect(inv.summary).toEqual({
      clusters: 2, serviceAccounts: 4, addons: 0,
      byVerdict: { ready: 1, 'ready-with-warnings': 0, blocked: 3, partial: 0, migrated: 0 },
      findings: { error: 3, warning: 0, info: 0 },
    });
    expect(run(fleet())).not.toHaveProperty('toolVersion');
  });
});
