/**
 * EKS behaviour an executor depends on, through the unmodified SDK clients: role checks on
 * association create, idempotency tokens, add-on transitions, the delay before a deleted
 * association's service account can be reused, UpdateAddon rolling the add-on's pods, unique ids.
 */
import {
  CreateAddonCommand, CreatePodIdentityAssociationCommand, DeleteAddonCommand, DeletePodIdentityAssociationCommand,
  DescribeAddonCommand, DescribeNodegroupCommand, DescribeUpdateCommand, EKSClient, InvalidParameterException,
  ListPodIdentityAssociationsCommand, ResourceInUseException, UpdateAddonCommand, UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { GetPolicyCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { ManualClock, awsConfig, sandboxFrom } from '../helpers/sandbox.js';

const ACCOUNT = '111122223333';
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const V = '2012-10-17';
const POD_TRUST = { Version: V, Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] };
const IRSA_ONLY = {
  Version: V,
  Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X` }, Action: 'sts:AssumeRoleWithWebIdentity' }],
};

function world(extra: object = {}) {
  return {
    account: ACCOUNT,
    region: 'us-east-1',
    ...extra,
    clusters: [{
      name: 'prod', version: '1.30', platformVersion: 'eks.9', oidcIssuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/X',
      addons: [
        { name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' },
        {
          name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', serviceAccountRoleArn: role('cni-irsa'),
          podIdentityConfiguration: [{ serviceAccount: 'aws-node', recommendedManagedPolicies: [] }],
        },
      ],
      nodegroups: [{ name: 'ng-a', nodeRole: role('eks-node'), nodes: 2 }, { name: 'ng-b', nodeRole: role('eks-node'), nodes: 1 }],
      fargateProfiles: [{ name: 'fp-a', selectors: [{ namespace: 'a' }] }, { name: 'fp-b', selectors: [{ namespace: 'b' }] }],
      objects: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'aws-node', namespace: 'kube-system', annotations: { 'eks.amazonaws.com/role-arn': role('cni-irsa') } } },
        {
          apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'aws-node', namespace: 'kube-system' },
          spec: {
            selector: { matchLabels: { 'k8s-app': 'aws-node' } },
            template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { serviceAccountName: 'aws-node', containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.18.3' }] } },
          },
        },
      ],
    },
    // Its coredns puts coredns in the sandbox's add-on catalog, for prod to install.
    { name: 'dev', version: '1.30', platformVersion: 'eks.9', addons: [{ name: 'coredns', version: 'v1.11.1-eksbuild.4' }] }],
    iam: {
      roles: [
        { name: 'cart', assumeRolePolicyDocument: POD_TRUST },
        { name: 'cart-v2', assumeRolePolicyDocument: POD_TRUST },
        { name: 'cni', assumeRolePolicyDocument: POD_TRUST },
        { name: 'cni-irsa', assumeRolePolicyDocument: IRSA_ONLY },
        { name: 'irsa-only', assumeRolePolicyDocument: IRSA_ONLY },
        { name: 'tag-only', assumeRolePolicyDocument: { Version: V, Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] } },
        { name: 'elsewhere', account: '444455556666', assumeRolePolicyDocument: POD_TRUST },
        { name: 'eks-node', assumeRolePolicyDocument: { Version: V, Statement: [] }, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'] },
      ],
      policies: [
        { arn: `arn:aws:iam::${ACCOUNT}:policy/a`, document: { Version: V, Statement: [] } },
        { arn: `arn:aws:iam::${ACCOUNT}:policy/b`, document: { Version: V, Statement: [] } },
      ],
    },
  };
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const rejection = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as Error);

describe('association role checks', () => {
  it('refuses a role that does not exist (or is in another account) and one Pod Identity cannot assume', async () => {
    sandbox = await sandboxFrom(world());
    const eks = new EKSClient(awsConfig(sandbox));
    const create = (roleArn: string) => eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn }));
    for (const missing of [role('nope'), role('elsewhere', '444455556666')]) {
      const err = await rejection(create(missing));
      expect(err).toBeInstanceOf(InvalidParameterException);
      expect(err.message).toBe('Role provided in the request does not exist');
    }
    for (const bad of [role('irsa-only'), role('tag-only')]) {
      const err = await rejection(create(bad));
      expect(err).toBeInstanceOf(InvalidParameterException);
      expect(err.message).toBe('Trust policy of the role provided is invalid');
    }
    const ok = await create(role('cart'));
    const err = await rejection(eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: 'prod', associationId: ok.association!.associationId!, roleArn: role('irsa-only') })));
    expect(err.message).toBe('Trust policy of the role provided is invalid');
    const addon = await rejection(eks.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni-irsa') }],
    })));
    expect(addon).toBeInstanceOf(InvalidParameterException);
    expect(addon.message).toBe('Trust policy of the role provided is invalid');
  });
});

describe('idempotency tokens', () => {
  it('a retried create with the same token returns the original association; other parameters are refused', async () => {
    sandbox = await sandboxFrom(world());
    const eks = new EKSClient(awsConfig(sandbox));
    const input = { clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('cart'), clientRequestToken: 'tok-1' };
    const first = await eks.send(new CreatePodIdentityAssociationCommand(input));
    const retry = await eks.send(new CreatePodIdentityAssociationCommand(input));
    expect(retry.association).toEqual(first.association);
    const list = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', namespace: 'shop' }));
    expect(list.associations).toHaveLength(1);
    const mismatch = await rejection(eks.send(new CreatePodIdentityAssociationCommand({ ...input, roleArn: role('cart-v2') })));
    expect(mismatch).toBeInstanceOf(InvalidParameterException);
    expect(mismatch.message).toContain('tok-1');
    // Without the token, the same request is a second create.
    expect(await rejection(eks.send(new CreatePodIdentityAssociationCommand({ ...input, clientRequestToken: 'tok-2' })))).toBeInstanceOf(ResourceInUseException);

    const update = { clusterName: 'prod', associationId: first.association!.associationId!, roleArn: role('cart-v2'), clientRequestToken: 'up-1' };
    const u1 = await eks.send(new UpdatePodIdentityAssociationCommand(update));
    const u2 = await eks.send(new UpdatePodIdentityAssociationCommand(update));
    expect(u2.association).toEqual(u1.association);

    const addon = { clusterName: 'prod', addonName: 'coredns', clientRequestToken: 'add-1' };
    const a1 = await eks.send(new CreateAddonCommand(addon));
    const a2 = await eks.send(new CreateAddonCommand(addon));
    expect(a2.addon).toEqual(a1.addon);
    const up = { clusterName: 'prod', addonName: 'coredns', configurationValues: '{}', clientRequestToken: 'upd-1' };
    const up1 = await eks.send(new UpdateAddonCommand(up));
    const up2 = await eks.send(new UpdateAddonCommand(up));
    expect(up2.update!.id).toBe(up1.update!.id);
  });
});

describe('add-on transitions (addonTransitionMs)', () => {
  it('CREATING, UPDATING and DELETING last addonTransitionMs; an update during an update is refused', async () => {
    const clock = new ManualClock();
    sandbox = await sandboxFrom(world({ addonTransitionMs: 30_000 }), clock);
    const eks = new EKSClient(awsConfig(sandbox));
    const created = await eks.send(new CreateAddonCommand({ clusterName: 'prod', addonName: 'coredns' }));
    expect(created.addon!.status).toBe('CREATING');
    expect(await rejection(eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'coredns', configurationValues: '{}' })))).toBeInstanceOf(ResourceInUseException);
    clock.advance(30_000);
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'coredns' }))).addon!.status).toBe('ACTIVE');

    const update = await eks.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }],
    }));
    expect(update.update!.status).toBe('InProgress');
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }))).addon!.status).toBe('UPDATING');
    const again = await rejection(eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', serviceAccountRoleArn: '' })));
    expect(again).toBeInstanceOf(ResourceInUseException);
    clock.advance(29_999);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod', updateId: update.update!.id!, addonName: 'vpc-cni' }))).update!.status).toBe('InProgress');
    clock.advance(1);
    expect((await eks.send(new DescribeUpdateCommand({ name: 'prod', updateId: update.update!.id!, addonName: 'vpc-cni' }))).update!.status).toBe('Successful');
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }))).addon!.status).toBe('ACTIVE');

    const deleting = await eks.send(new DeleteAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }));
    expect(deleting.addon!.status).toBe('DELETING');
    expect((await eks.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }))).addon!.status).toBe('DELETING');
    expect((await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod' }))).associations).toHaveLength(1);
    clock.advance(30_000);
    expect(await rejection(eks.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod' }))).associations).toHaveLength(0);
  });
});

describe('association deletion', () => {
  it('a deleted association keeps its service account unusable for associationReuseDelayMs', async () => {
    const clock = new ManualClock();
    sandbox = await sandboxFrom(world({ associationReuseDelayMs: 5000 }), clock);
    const eks = new EKSClient(awsConfig(sandbox));
    const input = { clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('cart') };
    const first = await eks.send(new CreatePodIdentityAssociationCommand(input));
    await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: first.association!.associationId! }));
    const early = await rejection(eks.send(new CreatePodIdentityAssociationCommand(input)));
    expect(early).toBeInstanceOf(ResourceInUseException);
    expect(early.message).toContain(first.association!.associationId!);
    // Another service account is not affected.
    await eks.send(new CreatePodIdentityAssociationCommand({ ...input, serviceAccount: 'other' }));
    clock.advance(5000);
    const again = await eks.send(new CreatePodIdentityAssociationCommand(input));
    expect(again.association!.associationId).not.toBe(first.association!.associationId);
  });
});

describe('UpdateAddon and the add-on\'s pods', () => {
  it('podIdentityAssociations roll the add-on\'s pods onto Pod Identity; serviceAccountRoleArn drives the SA annotation', async () => {
    sandbox = await sandboxFrom(world());
    const eks = new EKSClient(awsConfig(sandbox));
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    // Live pods: the replaced ones pass through Terminating for their grace period.
    const pods = async () => (await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=aws-node' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    const before = await pods();
    expect(before).toHaveLength(3);
    const probe = async (name: string) => (await (await fetch(`${sandbox!.endpoint}/_sandbox/credentials?cluster=prod&namespace=kube-system&pod=${name}`)).json()) as { mechanism: string; ok: boolean };
    expect(await probe(before[0]!.metadata!.name!)).toMatchObject({ mechanism: 'irsa' });

    await eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }] }));
    const after = await pods();
    expect(after).toHaveLength(3);
    expect(after.map((p) => p.metadata!.name).some((n) => before.some((b) => b.metadata!.name === n))).toBe(false);
    expect(await probe(after[0]!.metadata!.name!)).toMatchObject({ mechanism: 'pod-identity', ok: true });

    await eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', serviceAccountRoleArn: '' }));
    const sa = await core.readNamespacedServiceAccount({ namespace: 'kube-system', name: 'aws-node' });
    expect(sa.metadata!.annotations ?? {}).not.toHaveProperty('eks.amazonaws.com/role-arn');
    await eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', serviceAccountRoleArn: role('cni-irsa') }));
    expect((await core.readNamespacedServiceAccount({ namespace: 'kube-system', name: 'aws-node' })).metadata!.annotations).toMatchObject({ 'eks.amazonaws.com/role-arn': role('cni-irsa') });
  });
});

describe('unique ids', () => {
  it('gives every role, policy, node group, Fargate profile and add-on its own id; a re-created add-on a new ARN', async () => {
    sandbox = await sandboxFrom(world());
    const eks = new EKSClient(awsConfig(sandbox));
    const iam = new IAMClient(awsConfig(sandbox));
    const roleIds = await Promise.all(['cart', 'cart-v2', 'cni', 'cni-irsa', 'irsa-only', 'tag-only', 'eks-node'].map(async (n) => (await iam.send(new GetRoleCommand({ RoleName: n }))).Role!.RoleId));
    expect(new Set(roleIds).size).toBe(roleIds.length);
    const policyIds = await Promise.all(['a', 'b'].map(async (n) => (await iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/${n}` }))).Policy!.PolicyId));
    expect(policyIds[0]).not.toBe(policyIds[1]);
    const groups = await Promise.all(['ng-a', 'ng-b'].map(async (n) => (await eks.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: n }))).nodegroup!.nodegroupArn!));
    expect(groups[0]!.split('/').at(-1)).not.toBe(groups[1]!.split('/').at(-1));
    expect(groups[0]).toMatch(/:nodegroup\/prod\/ng-a\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const first = (await eks.send(new CreateAddonCommand({ clusterName: 'prod', addonName: 'coredns' }))).addon!.addonArn!;
    await eks.send(new DeleteAddonCommand({ clusterName: 'prod', addonName: 'coredns' }));
    const second = (await eks.send(new CreateAddonCommand({ clusterName: 'prod', addonName: 'coredns' }))).addon!.addonArn!;
    expect(second).not.toBe(first);
  });
});
