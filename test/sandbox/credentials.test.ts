/**
 * The credential probe (GET /_sandbox/credentials), over HTTP, with the world changed through the
 * unmodified EKS and IAM SDK clients: every outcome of the contract in /docs/sandbox.md.
 */
import { DeleteAddonCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateOpenIDConnectProviderCommand, DeleteOpenIDConnectProviderCommand, GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { ManualClock, awsConfig, sandboxFrom } from '../helpers/sandbox.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const V = '2012-10-17';

const irsaTrust = (sub: string) => ({
  Version: V,
  Statement: [{
    Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${ISSUER}:sub`]: sub, [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
  }],
});
/** The statement podid writes: account, cluster, namespace and service account by session tags. */
const tagTrust = (cluster: string, namespace: string, sa: string) => ({
  Version: V,
  Statement: [{
    Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:SourceAccount': ACCOUNT,
        'aws:RequestTag/eks-cluster-arn': cluster,
        'aws:RequestTag/kubernetes-namespace': namespace,
        'aws:RequestTag/kubernetes-service-account': sa,
      },
    },
  }],
});
const openPodTrust = { Version: V, Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] };

const sa = (namespace: string, name: string, roleArn?: string) => ({
  apiVersion: 'v1', kind: 'ServiceAccount',
  metadata: { name, namespace, ...(roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {}) },
});
const pod = (namespace: string, name: string, serviceAccountName: string, extra: object = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
  spec: { serviceAccountName, containers: [{ name: 'app', image: 'example/app:1' }], ...extra },
});
const assoc = (namespace: string, serviceAccount: string, roleArn: string, extra: object = {}) => ({ namespace, serviceAccount, roleArn, ...extra });
const agent = { name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' };

function fleet(extra: object = {}) {
  return {
    account: ACCOUNT,
    region: 'us-east-1',
    ...extra,
    clusters: [
      {
        name: 'prod', version: '1.30', platformVersion: 'eks.9', oidcIssuer: `https://${ISSUER}`,
        addons: [agent],
        nodegroups: [
          { name: 'ng-linux', nodeRole: role('eks-node'), nodes: 2 },
          { name: 'ng-win', nodeRole: role('eks-node'), amiType: 'WINDOWS_CORE_2022_x86_64', nodes: 1 },
        ],
        fargateProfiles: [{ name: 'fp-batch', selectors: [{ namespace: 'batch' }] }],
        podIdentityAssociations: [
          assoc('shop', 'orders', role('orders')),
          assoc('shop', 'billing', role('orders')),
          assoc('other', 'orders', role('orders')),
          assoc('shop', 'legacy', role('legacy')),
          assoc('shop', 'notags', role('orders-notags'), { disableSessionTags: true }),
          assoc('batch', 'batcher', role('open')),
          assoc('win', 'winapp', role('open')),
          assoc('shop', 'xacct', role('source'), { targetRoleArn: role('target', OTHER), externalId: 'ext-123' }),
          assoc('shop', 'xbad', role('source'), { targetRoleArn: role('target', OTHER), externalId: 'ext-999' }),
          assoc('shop', 'ghost', role('missing')),
        ],
        objects: [
          sa('shop', 'cart', role('cart')), pod('shop', 'cart-1', 'cart'),
          sa('shop', 'intruder', role('cart')), pod('shop', 'intruder-1', 'intruder'),
          sa('shop', 'orders'), pod('shop', 'orders-1', 'orders'),
          sa('shop', 'billing'), pod('shop', 'billing-1', 'billing'),
          sa('other', 'orders'), pod('other', 'orders-1', 'orders'),
          sa('shop', 'legacy'), pod('shop', 'legacy-1', 'legacy'),
          sa('shop', 'notags'), pod('shop', 'notags-1', 'notags'),
          sa('batch', 'batcher'), pod('batch', 'batcher-1', 'batcher'),
          sa('win', 'winapp'), pod('win', 'winapp-1', 'winapp', { nodeSelector: { 'kubernetes.io/os': 'windows' } }),
          sa('shop', 'xacct'), pod('shop', 'xacct-1', 'xacct'),
          sa('shop', 'xbad'), pod('shop', 'xbad-1', 'xbad'),
          sa('shop', 'ghost'), pod('shop', 'ghost-1', 'ghost'),
          sa('shop', 'plain'), pod('shop', 'plain-1', 'plain'),
        ],
      },
      {
        name: 'dev', version: '1.30', platformVersion: 'eks.9',
        addons: [agent],
        nodegroups: [{ name: 'ng', nodeRole: role('eks-node'), nodes: 1 }],
        podIdentityAssociations: [assoc('shop', 'orders', role('orders'))],
        objects: [sa('shop', 'orders'), pod('shop', 'orders-1', 'orders')],
      },
      {
        name: 'bare-nodes', version: '1.30', platformVersion: 'eks.9',
        addons: [agent],
        nodegroups: [{ name: 'ng', nodeRole: role('eks-node-bare'), nodes: 1 }],
        podIdentityAssociations: [assoc('shop', 'app', role('open'))],
        objects: [sa('shop', 'app'), pod('shop', 'app-1', 'app')],
      },
    ],
    iam: {
      roles: [
        { name: 'cart', assumeRolePolicyDocument: irsaTrust('system:serviceaccount:shop:cart') },
        { name: 'orders', assumeRolePolicyDocument: tagTrust(PROD, 'shop', 'orders') },
        { name: 'orders-notags', assumeRolePolicyDocument: tagTrust(PROD, 'shop', 'notags') },
        {
          name: 'legacy',
          assumeRolePolicyDocument: {
            Version: V,
            Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { ArnEquals: { 'aws:SourceArn': PROD } } }],
          },
        },
        { name: 'open', assumeRolePolicyDocument: openPodTrust },
        {
          name: 'source', assumeRolePolicyDocument: openPodTrust,
          inlinePolicies: { chain: { Version: V, Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: role('target', OTHER) }] } },
        },
        {
          name: 'target', account: OTHER,
          assumeRolePolicyDocument: {
            Version: V,
            Statement: [{ Effect: 'Allow', Principal: { AWS: role('source') }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'sts:ExternalId': 'ext-123' } } }],
          },
        },
        { name: 'eks-node', assumeRolePolicyDocument: { Version: V, Statement: [] }, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'] },
        { name: 'eks-node-bare', assumeRolePolicyDocument: { Version: V, Statement: [] }, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly'] },
      ],
      openIdConnectProviders: [{ url: `https://${ISSUER}` }],
    },
  };
}

interface Answer {
  ok: boolean;
  mechanism: string | null;
  roleArn: string | null;
  targetRoleArn: string | null;
  effectiveRoleArn: string | null;
  reason: string | null;
  message: string;
  serviceAccount: string;
  evaluation: { roleArn: string; decision: string; request: { principal: string; action: string; context: Record<string, unknown> } }[];
}

async function probe(sb: Sandbox, cluster: string, namespace: string, name: string): Promise<Answer> {
  const res = await fetch(`${sb.endpoint}/_sandbox/credentials?cluster=${cluster}&namespace=${namespace}&pod=${name}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe('credential probe outcomes', () => {
  it('answers every outcome of the contract', async () => {
    sandbox = await sandboxFrom(fleet());
    const sb = sandbox;

    const irsa = await probe(sb, 'prod', 'shop', 'cart-1');
    expect(irsa).toMatchObject({ ok: true, mechanism: 'irsa', roleArn: role('cart'), effectiveRoleArn: role('cart'), reason: null, serviceAccount: 'cart' });
    expect(irsa.evaluation[0]).toMatchObject({
      decision: 'Allow',
      request: { principal: PROVIDER, action: 'sts:AssumeRoleWithWebIdentity', context: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:cart', [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
    });

    // The annotation names cart's role, but its trust admits only shop:cart.
    expect(await probe(sb, 'prod', 'shop', 'intruder-1')).toMatchObject({ ok: false, mechanism: 'irsa', reason: 'trust-denied', effectiveRoleArn: null });

    const orders = await probe(sb, 'prod', 'shop', 'orders-1');
    expect(orders).toMatchObject({ ok: true, mechanism: 'pod-identity', roleArn: role('orders'), targetRoleArn: null, effectiveRoleArn: role('orders') });
    const assume = orders.evaluation.find((e) => e.roleArn === role('orders') && e.request.action === 'sts:AssumeRole')!;
    expect(assume.request.principal).toBe('pods.eks.amazonaws.com');
    expect(assume.request.context).toMatchObject({
      'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': PROD, 'aws:RequestTag/eks-cluster-name': 'prod',
      'aws:RequestTag/kubernetes-namespace': 'shop', 'aws:RequestTag/kubernetes-service-account': 'orders', 'aws:RequestTag/kubernetes-pod-name': 'orders-1',
    });
    expect(assume.request.context['aws:RequestTag/kubernetes-pod-uid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(assume.request.context).not.toHaveProperty('aws:SourceArn');
    expect(orders.evaluation.map((e) => e.request.action)).toEqual(['eks-auth:AssumeRoleForPodIdentity', 'sts:AssumeRole', 'sts:TagSession']);

    // Same role, outside the boundary its session tags draw: another SA, another namespace, another cluster.
    for (const [cluster, ns, name] of [['prod', 'shop', 'billing-1'], ['prod', 'other', 'orders-1'], ['dev', 'shop', 'orders-1']] as const) {
      const denied = await probe(sb, cluster, ns, name);
      expect(denied, `${cluster}/${ns}/${name}`).toMatchObject({ ok: false, mechanism: 'pod-identity', roleArn: role('orders'), reason: 'trust-denied', effectiveRoleArn: null });
      expect(denied.evaluation.at(-1)).toMatchObject({ roleArn: role('orders'), decision: 'ImplicitDeny' });
    }

    expect(await probe(sb, 'prod', 'shop', 'legacy-1')).toMatchObject({ ok: false, reason: 'trust-denied', roleArn: role('legacy') });
    const notags = await probe(sb, 'prod', 'shop', 'notags-1');
    expect(notags).toMatchObject({ ok: false, reason: 'trust-denied' });
    expect(notags.message).toContain('disables session tags');
    expect(notags.evaluation.at(-1)!.request.context).toEqual({ 'aws:SourceAccount': ACCOUNT });

    expect(await probe(sb, 'prod', 'batch', 'batcher-1')).toMatchObject({ ok: false, reason: 'fargate', mechanism: 'pod-identity' });
    expect(await probe(sb, 'prod', 'win', 'winapp-1')).toMatchObject({ ok: false, reason: 'windows', mechanism: 'pod-identity' });
    expect(await probe(sb, 'prod', 'shop', 'plain-1')).toMatchObject({ ok: false, reason: 'no-identity', mechanism: null, roleArn: null });
    expect(await probe(sb, 'prod', 'shop', 'ghost-1')).toMatchObject({ ok: false, reason: 'role-not-found', roleArn: role('missing') });
    const node = await probe(sb, 'bare-nodes', 'shop', 'app-1');
    expect(node).toMatchObject({ ok: false, reason: 'node-role-denied', mechanism: 'pod-identity' });
    expect(node.evaluation[0]).toMatchObject({ roleArn: role('eks-node-bare'), decision: 'ImplicitDeny', request: { action: 'eks-auth:AssumeRoleForPodIdentity' } });

    const chained = await probe(sb, 'prod', 'shop', 'xacct-1');
    expect(chained).toMatchObject({ ok: true, roleArn: role('source'), targetRoleArn: role('target', OTHER), effectiveRoleArn: role('target', OTHER) });
    const hop = chained.evaluation.find((e) => e.roleArn === role('target', OTHER))!;
    expect(hop.request).toMatchObject({ principal: expect.stringMatching(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/source/`)), context: { 'sts:ExternalId': 'ext-123' } });
    expect(await probe(sb, 'prod', 'shop', 'xbad-1')).toMatchObject({ ok: false, reason: 'target-trust-denied', targetRoleArn: role('target', OTHER) });
  });

  it('404s an unknown cluster or pod, 400s missing parameters', async () => {
    sandbox = await sandboxFrom(fleet());
    expect((await fetch(`${sandbox.endpoint}/_sandbox/credentials?cluster=nope&namespace=shop&pod=x`)).status).toBe(404);
    const missing = await fetch(`${sandbox.endpoint}/_sandbox/credentials?cluster=prod&namespace=shop&pod=nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: expect.stringContaining('shop/nope') });
    expect((await fetch(`${sandbox.endpoint}/_sandbox/credentials?cluster=prod`)).status).toBe(400);
  });

  it('IRSA needs the IAM OIDC provider: deleting it denies the issuer\'s pods (InvalidIdentityToken), creating it again restores them', async () => {
    sandbox = await sandboxFrom(fleet());
    const iam = new IAMClient(awsConfig(sandbox));
    expect(await probe(sandbox, 'prod', 'shop', 'cart-1')).toMatchObject({ ok: true, mechanism: 'irsa' });
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER }));
    const gone = await probe(sandbox, 'prod', 'shop', 'cart-1');
    expect(gone).toMatchObject({ ok: false, mechanism: 'irsa', reason: 'trust-denied', effectiveRoleArn: null });
    expect(gone.message).toContain(`has no IAM OIDC provider for https://${ISSUER}`);
    // Pod Identity does not use the provider.
    expect(await probe(sandbox, 'prod', 'shop', 'orders-1')).toMatchObject({ ok: true, mechanism: 'pod-identity' });
    // A provider whose client IDs lack the token's audience does not help.
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: `https://${ISSUER}`, ClientIDList: ['other'] }));
    expect(await probe(sandbox, 'prod', 'shop', 'cart-1')).toMatchObject({ ok: false, reason: 'trust-denied' });
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER }));
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: `https://${ISSUER}`, ClientIDList: ['sts.amazonaws.com'] }));
    expect(await probe(sandbox, 'prod', 'shop', 'cart-1')).toMatchObject({ ok: true, mechanism: 'irsa', effectiveRoleArn: role('cart') });
  });

  it('no agent: pods keep their Pod Identity env when the agent add-on goes, and then get nothing', async () => {
    sandbox = await sandboxFrom(fleet());
    expect(await probe(sandbox, 'prod', 'shop', 'orders-1')).toMatchObject({ ok: true });
    await new EKSClient(awsConfig(sandbox)).send(new DeleteAddonCommand({ clusterName: 'prod', addonName: 'eks-pod-identity-agent' }));
    const answer = await probe(sandbox, 'prod', 'shop', 'orders-1');
    expect(answer).toMatchObject({ ok: false, mechanism: 'pod-identity', reason: 'no-agent' });
    expect(answer.message).toMatch(/no running and ready eks-pod-identity-agent pod on node ip-/);
  });
});

describe('IAM eventual consistency', () => {
  it('a trust change is in GetRole at once and reaches credentials after iamPropagationMs', async () => {
    const clock = new ManualClock();
    sandbox = await sandboxFrom(fleet({ iamPropagationMs: 5000 }), clock);
    const iam = new IAMClient(awsConfig(sandbox));
    const narrowed = tagTrust(PROD, 'shop', 'someone-else');
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'orders', PolicyDocument: JSON.stringify(narrowed) }));
    const got = await iam.send(new GetRoleCommand({ RoleName: 'orders' }));
    expect(JSON.parse(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!))).toEqual(narrowed);
    expect(await probe(sandbox, 'prod', 'shop', 'orders-1')).toMatchObject({ ok: true });
    clock.advance(4999);
    expect(await probe(sandbox, 'prod', 'shop', 'orders-1')).toMatchObject({ ok: true });
    clock.advance(1);
    expect(await probe(sandbox, 'prod', 'shop', 'orders-1')).toMatchObject({ ok: false, reason: 'trust-denied' });
  });
});
