/**
 * The trust boundary end to end (issue 8): the built `podid migrate --dry-run` (in-process,
 * helpers/podid.ts) against the sandbox (over HTTP) on a world with a role trusted by two clusters, an IRSA wildcard, a role with a path,
 * and an annotation its role never admitted. The plan is checked (who can assume each role,
 * before and after; the unproven grant blocked), then written into the sandbox through the
 * unmodified AWS SDK (a stand-in for `migrate --apply`, which does not exist yet), and the
 * sandbox's credential probe (evaluated by its own IAM simulator, independent of podid's) shows
 * every migrated service account's new pods obtaining exactly their role, and a service account
 * outside the boundary (another namespace, another service account, another cluster) denied
 * even when someone binds it to the role with an association.
 */
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateAssociationStep, MigrationPlan, UpdateTrustStep } from '../../src/core/plan/model.js';
import type { SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const ACCOUNT = '111122223333';
const PROD_ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/B0DA1234567890ABCDEF1234567890AB';
const DR_ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/D15A5EE4567890ABCDEF1234567890CD';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const DR = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/dr`;
const role = (name: string, path = '/') => `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
const CART = role('cart');
const WILD = role('jobs');
const PATHED = role('pathed', '/team/');
const SHARED = role('dns');

const irsa = (issuer: string, op: 'StringEquals' | 'StringLike', sub: string) => ({
  Effect: 'Allow',
  Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}` },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: op === 'StringEquals'
    ? { StringEquals: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: 'sts.amazonaws.com' } }
    : { StringLike: { [`${issuer}:sub`]: sub }, StringEquals: { [`${issuer}:aud`]: 'sts.amazonaws.com' } },
});
const sa = (namespace: string, name: string, roleArn?: string) => ({
  apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, ...(roleArn === undefined ? {} : { annotations: { 'eks.amazonaws.com/role-arn': roleArn } }) },
});
const cluster = (name: string, issuer: string, objects: object[]) => ({
  name, version: '1.30', platformVersion: 'eks.9', oidcIssuer: `https://${issuer}`,
  addons: [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }],
  nodegroups: [{ name: 'ng', nodeRole: role('eks-node'), amiType: 'AL2023_x86_64_STANDARD', nodes: 1 }],
  objects,
});

const WORLD = {
  account: ACCOUNT,
  region: 'us-east-1',
  latencyMs: 0,
  clusters: [
    cluster('prod', PROD_ISSUER, [
      sa('shop', 'cart', CART),
      // A copy-paste: the annotation names cart's role, whose trust never admitted shop/typo.
      sa('shop', 'typo', CART),
      // The IRSA trust admits jobs:*; only jobs/etl is annotated, jobs/other is not.
      sa('jobs', 'etl', WILD),
      sa('jobs', 'other'),
      sa('shop', 'pathed', PATHED),
      sa('platform', 'dns', SHARED),
      sa('shop', 'intruder'),
    ]),
    cluster('dr', DR_ISSUER, [sa('platform', 'dns', SHARED), sa('shop', 'cart')]),
  ],
  iam: {
    openIdConnectProviders: [{ url: `https://${PROD_ISSUER}`, clientIds: ['sts.amazonaws.com'] }, { url: `https://${DR_ISSUER}`, clientIds: ['sts.amazonaws.com'] }],
    roles: [
      {
        name: 'eks-node',
        assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'],
      },
      { name: 'cart', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [irsa(PROD_ISSUER, 'StringEquals', 'system:serviceaccount:shop:cart')] } },
      { name: 'jobs', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [irsa(PROD_ISSUER, 'StringLike', 'system:serviceaccount:jobs:*')] } },
      { name: 'pathed', path: '/team/', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [irsa(PROD_ISSUER, 'StringEquals', 'system:serviceaccount:shop:pathed')] } },
      {
        name: 'dns',
        assumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [irsa(PROD_ISSUER, 'StringEquals', 'system:serviceaccount:platform:dns'), irsa(DR_ISSUER, 'StringEquals', 'system:serviceaccount:platform:dns')],
        },
      },
    ],
  },
};

let sb: SandboxEndpoint;
let plan: MigrationPlan;

beforeAll(async () => {
  sb = await sandboxServer(WORLD);
  const r = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
  expect(r.code, r.stderr).toBe(0);
  plan = JSON.parse(r.stdout) as MigrationPlan;
}, 60_000);
afterAll(async () => {
  await sb?.stop();
});

const trustOf = (arn: string) => plan.steps.find((s): s is UpdateTrustStep => s.kind === 'update-trust' && s.roleArn === arn);
const subjects = (t: UpdateTrustStep | undefined) => (t?.subjects ?? []).map((s) => `${s.cluster === PROD ? 'prod' : 'dr'}:${s.namespace}/${s.serviceAccount}`);

describe('migrate --dry-run: the boundary in the plan', () => {
  it('admits through Pod Identity exactly the annotated service accounts each role\'s IRSA trust admits', () => {
    expect(subjects(trustOf(CART))).toEqual(['prod:shop/cart']);
    // The IRSA wildcard admits jobs:*, but only jobs/etl moves: never a Pod Identity wildcard.
    expect(subjects(trustOf(WILD))).toEqual(['prod:jobs/etl']);
    expect(JSON.stringify(trustOf(WILD)?.after)).not.toContain('"aws:RequestTag/kubernetes-service-account":"*"');
    expect(subjects(trustOf(PATHED))).toEqual(['prod:shop/pathed']);
    // A role trusted by two clusters: the service account on each, in one statement.
    expect(subjects(trustOf(SHARED))).toEqual(['dr:platform/dns', 'prod:platform/dns']);
    expect(trustOf(SHARED)?.added).toHaveLength(1);
  });

  it('stores who can assume each role, before and after', () => {
    const t = trustOf(CART)!;
    expect(t.access.before.podIdentity).toEqual([]);
    expect(t.access.after.irsa).toEqual(t.access.before.irsa);
    expect(t.access.after.podIdentity).toEqual([{ statement: 1, kind: 'scoped', accounts: [ACCOUNT], clusters: [PROD], namespaces: ['shop'], serviceAccounts: ['cart'] }]);
    expect(trustOf(SHARED)!.access.after.podIdentity).toEqual([{ statement: 2, kind: 'scoped', accounts: [ACCOUNT], clusters: [DR, PROD], namespaces: ['platform'], serviceAccounts: ['dns'] }]);
  });

  it('blocks the annotation its role never admitted: no trust change, no association', () => {
    const typo = plan.blocked.find((b) => b.target.kind === 'service-account' && b.target.name === 'typo');
    expect(typo?.reasons.map((r) => r.code)).toEqual(['TRUST_IRSA_NOT_PROVEN']);
    expect(plan.steps.some((s) => s.kind === 'create-association' && s.serviceAccount === 'typo')).toBe(false);
  });

  it('shows the before/after sets in the review', async () => {
    const r = await podid(['migrate', '--dry-run', '--all-contexts', '--no-color'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  ~ role jobs (arn:aws:iam::111122223333:role/jobs)');
    expect(r.stdout).toContain('        before  IRSA via prod: jobs/*\n        after   IRSA via prod: jobs/*\n              + Pod Identity on prod: jobs/etl\n');
    expect(r.stdout).toContain('              + Pod Identity on dr, prod: platform/dns\n');
    expect(r.stdout).toMatch(/! service account shop\/typo on prod \(role\/cart\)\n\s+error TRUST_IRSA_NOT_PROVEN/);
  });
});

describe('the plan written into the sandbox: credentials as the sandbox evaluates them', () => {
  const aws = () => ({ endpoint: sb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });

  /** What `migrate --apply` will do for these steps: the trust changes, then the associations. */
  async function applyPlan(p: MigrationPlan): Promise<void> {
    const iam = new IAMClient(aws());
    const eks = new EKSClient(aws());
    try {
      for (const t of p.steps.filter((s): s is UpdateTrustStep => s.kind === 'update-trust')) {
        await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: t.roleName, PolicyDocument: JSON.stringify(t.after) }));
      }
      for (const a of p.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association')) {
        await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: a.cluster.slice(a.cluster.lastIndexOf('/') + 1), namespace: a.namespace, serviceAccount: a.serviceAccount, roleArn: a.roleArn }));
      }
      // Someone allowed to create associations and pass the roles binds service accounts
      // outside the boundary: the trust, not the association, must stop them.
      const outside = [['prod', 'shop', 'intruder', CART], ['prod', 'jobs', 'other', WILD], ['dr', 'shop', 'cart', CART]] as const;
      for (const [clusterName, namespace, serviceAccount, roleArn] of outside) {
        await eks.send(new CreatePodIdentityAssociationCommand({ clusterName, namespace, serviceAccount, roleArn }));
      }
    } finally {
      iam.destroy();
      eks.destroy();
    }
  }

  async function newPod(clusterArn: string, namespace: string, serviceAccount: string): Promise<string> {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    kc.setCurrentContext(clusterArn);
    const core = kc.makeApiClient(CoreV1Api);
    const name = `${serviceAccount}-new`;
    await core.createNamespacedPod({ namespace, body: { metadata: { name, namespace }, spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'example/app:1' }] } } });
    return name;
  }

  async function probe(clusterArn: string, namespace: string, pod: string): Promise<{ ok: boolean; mechanism: string | null; effectiveRoleArn: string | null; reason: string | null }> {
    const name = clusterArn.slice(clusterArn.lastIndexOf('/') + 1);
    const res = await fetch(`${sb.endpoint}/_sandbox/credentials?cluster=${name}&namespace=${namespace}&pod=${pod}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { ok: boolean; mechanism: string | null; effectiveRoleArn: string | null; reason: string | null };
  }

  it('every migrated service account\'s new pods obtain exactly their role; outside the boundary, denied', async () => {
    await applyPlan(plan);
    const inside: [string, string, string, string][] = [
      [PROD, 'shop', 'cart', CART],
      [PROD, 'jobs', 'etl', WILD],
      [PROD, 'shop', 'pathed', PATHED],
      [PROD, 'platform', 'dns', SHARED],
      [DR, 'platform', 'dns', SHARED],
    ];
    for (const [clusterArn, namespace, serviceAccount, roleArn] of inside) {
      const answer = await probe(clusterArn, namespace, await newPod(clusterArn, namespace, serviceAccount));
      expect(answer, `${clusterArn} ${namespace}/${serviceAccount}`).toMatchObject({ ok: true, mechanism: 'pod-identity', effectiveRoleArn: roleArn });
    }
    // Another service account in the namespace, another namespace's SA the IRSA wildcard would
    // admit, the same SA name on another cluster: each has an association, none gets the role.
    const outside: [string, string, string][] = [[PROD, 'shop', 'intruder'], [PROD, 'jobs', 'other'], [DR, 'shop', 'cart']];
    for (const [clusterArn, namespace, serviceAccount] of outside) {
      const answer = await probe(clusterArn, namespace, await newPod(clusterArn, namespace, serviceAccount));
      expect(answer, `${clusterArn} ${namespace}/${serviceAccount}`).toMatchObject({ ok: false, mechanism: 'pod-identity', effectiveRoleArn: null, reason: 'trust-denied' });
    }
    // The typo keeps IRSA, which its role never admitted: it had no access before and has none now.
    expect(await probe(PROD, 'shop', await newPod(PROD, 'shop', 'typo'))).toMatchObject({ ok: false, mechanism: 'irsa', reason: 'trust-denied' });

    // Planning again: nothing left to change for the migrated ones.
    const again = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as MigrationPlan).steps.filter((s) => s.kind === 'update-trust' || s.kind === 'create-association')).toEqual([]);
  }, 60_000);
});
