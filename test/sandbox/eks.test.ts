/**
 * The sandbox's EKS module, driven by the real EKSClient over HTTP. A small in-test server
 * (SigV4 scope parsing + the EKS module + renderError) stands in for the full sandbox server, so
 * these tests exercise exactly the wire format the SDK reads, with a fake Kubernetes side that
 * records `syncAgent` calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateAddonCommand, CreatePodIdentityAssociationCommand, DeleteAddonCommand, DeletePodIdentityAssociationCommand,
  DescribeAddonCommand, DescribeAddonConfigurationCommand, DescribeAddonVersionsCommand, DescribeClusterCommand,
  DescribeFargateProfileCommand, DescribeNodegroupCommand, DescribePodIdentityAssociationCommand, DescribeUpdateCommand,
  EKSClient, InvalidParameterException, InvalidRequestException, ListAddonsCommand, ListClustersCommand,
  ListFargateProfilesCommand, ListNodegroupsCommand, ListPodIdentityAssociationsCommand, ResourceInUseException,
  ResourceLimitExceededException, ResourceNotFoundException, UpdateAddonCommand, UpdatePodIdentityAssociationCommand,
  paginateListPodIdentityAssociations,
} from '@aws-sdk/client-eks';
import { AwsServiceError, type AwsRequest, type HttpReply } from '../../src/sandbox/aws/common.js';
import { createEksService } from '../../src/sandbox/aws/eks.js';
import { parseSigV4 } from '../../src/sandbox/sigv4.js';
import { SandboxState, type Clock } from '../../src/sandbox/state.js';
import type { AddonSpec, AssociationSpec, ClusterSpec, World } from '../../src/sandbox/world-types.js';

const ACCOUNT = '111122223333';
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

function cluster(name: string, over: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name, account: ACCOUNT, region: 'us-east-1', version: '1.29', platformVersion: 'eks.8', oidcIssuer: ISSUER,
    autoMode: false, status: 'ACTIVE', addons: [], nodegroups: [], fargateProfiles: [], podIdentityAssociations: [], objects: [], ...over,
  };
}

function addon(name: string, version: string, over: Partial<AddonSpec> = {}): AddonSpec {
  return { name, version, status: 'ACTIVE', serviceAccountRoleArn: null, podIdentityConfiguration: null, ...over };
}

function assoc(namespace: string, serviceAccount: string, over: Partial<AssociationSpec> = {}): AssociationSpec {
  return { namespace, serviceAccount, roleArn: role(serviceAccount), targetRoleArn: null, disableSessionTags: false, ...over };
}

/** Roles the tests name, each assumable by EKS Pod Identity (EKS checks that on association create). */
const POD_ROLES = [
  'app', 'cart', 'cart2', 'cni', 'dns', 'ebs-controller', 'ebs-controller-v2', 'ebs-node', 'manual', 'orders', 'orders-v2', 'other', 'pay', 'x',
];
const POD_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
};

function world(clusters: ClusterSpec[]): World {
  const roles = POD_ROLES.map((name) => ({
    name, path: '/', account: ACCOUNT, assumeRolePolicyDocument: POD_TRUST, attachedPolicies: [], inlinePolicies: {}, tags: {},
  }));
  return {
    account: ACCOUNT, region: 'us-east-1', partition: 'aws', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters, iam: { trustPolicyLimit: 2048, roles, policies: [], openIdConnectProviders: [] }, caller: null, faults: [],
  };
}

/** The world most tests use: one cluster "prod" with IRSA add-ons, nodes, Fargate and one association. */
function prodWorld(): World {
  return world([
    cluster('prod', {
      addons: [
        addon('eks-pod-identity-agent', 'v1.3.4-eksbuild.1'),
        addon('vpc-cni', 'v1.18.3-eksbuild.1', {
          serviceAccountRoleArn: role('vpc-cni-irsa'),
          podIdentityConfiguration: [{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }],
        }),
        addon('aws-ebs-csi-driver', 'v1.30.0-eksbuild.1', {
          podIdentityConfiguration: [
            { serviceAccount: 'ebs-csi-controller-sa', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy'] },
            { serviceAccount: 'ebs-csi-node-sa', recommendedManagedPolicies: [] },
          ],
        }),
        addon('coredns', 'v1.11.1-eksbuild.4'),
      ],
      nodegroups: [
        { name: 'ng-linux', nodeRole: role('eks-node'), amiType: 'AL2023_x86_64_STANDARD', nodes: 3 },
        { name: 'ng-win', nodeRole: role('eks-node-win'), amiType: 'WINDOWS_CORE_2022_x86_64', nodes: 1 },
      ],
      fargateProfiles: [{ name: 'fp-batch', selectors: [{ namespace: 'batch', labels: { tier: 'jobs' } }], podExecutionRoleArn: role('fargate-exec') }],
      podIdentityAssociations: [assoc('shop', 'cart', { associationId: 'a-cart00000000000000' })],
    }),
    cluster('auto', { autoMode: true, oidcIssuer: null }),
    cluster('west', { region: 'us-west-2' }),
  ]);
}

/** A cluster with no Kubernetes objects (these tests are about the EKS API alone). */
const NO_KUBE = {
  allObjects: () => [],
  syncAgent: () => undefined,
  getObject: () => undefined,
  listObjects: () => [],
  updateObject: () => false,
  createObject: () => undefined,
};

interface Harness {
  client: EKSClient;
  state: SandboxState;
  clock: { t: number } & Clock;
  syncs: Map<string, number>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function start(w: World): Promise<Harness> {
  const clock = { t: T0, now() { return this.t; } };
  const syncs = new Map<string, number>();
  const state = new SandboxState(w, clock, (_s, c) => ({
    ...NO_KUBE,
    syncAgent: () => { syncs.set(c.name, (syncs.get(c.name) ?? 0) + 1); },
  }));
  const eks = createEksService(state);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      const scope = parseSigV4(req.headers);
      let reply: HttpReply;
      if (!scope || scope.service !== 'eks') {
        reply = { status: 403, headers: {}, body: 'unsigned' };
      } else {
        const awsReq: AwsRequest = {
          service: 'eks', region: scope.region, accessKeyId: scope.accessKeyId, method: req.method ?? 'GET',
          path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks),
        };
        try {
          reply = eks.route(awsReq).run() as HttpReply;
        } catch (err) {
          if (!(err instanceof AwsServiceError)) throw err;
          reply = eks.renderError(err);
        }
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.endpoint = endpoint;
  const client = new EKSClient({
    region: 'us-east-1', endpoint, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
  });
  return { client, state, clock, syncs };
}

function prod(h: Harness) {
  return h.state.findCluster('prod', 'us-east-1')!;
}

async function rejection(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } } & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

describe('clusters', () => {
  it('lists the clusters of the request region, paginated', async () => {
    const h = await start(prodWorld());
    const first = await h.client.send(new ListClustersCommand({ maxResults: 1 }));
    expect(first.clusters).toEqual(['auto']);
    expect(first.nextToken).toBeTruthy();
    const second = await h.client.send(new ListClustersCommand({ maxResults: 1, nextToken: first.nextToken }));
    expect(second.clusters).toEqual(['prod']);
    expect(second.nextToken).toBeUndefined();

    const west = new EKSClient({ region: 'us-west-2', endpoint: h.state.endpoint, credentials: { accessKeyId: 'A', secretAccessKey: 'B' } });
    expect((await west.send(new ListClustersCommand({}))).clusters).toEqual(['west']);
  });

  it('describes a cluster with the endpoint of its Kubernetes API', async () => {
    const h = await start(prodWorld());
    const { cluster } = await h.client.send(new DescribeClusterCommand({ name: 'prod' }));
    expect(cluster?.endpoint).toBe(`${h.state.endpoint}/k8s/${ACCOUNT}/us-east-1/prod`);
    expect(cluster?.arn).toBe(`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`);
    expect(cluster?.version).toBe('1.29');
    expect(cluster?.platformVersion).toBe('eks.8');
    expect(cluster?.status).toBe('ACTIVE');
    expect(cluster?.identity?.oidc?.issuer).toBe(ISSUER);
    expect(cluster?.createdAt?.getTime()).toBe(T0);
    expect(cluster?.computeConfig?.enabled).toBe(false);
    expect(cluster?.accessConfig?.authenticationMode).toBe('API_AND_CONFIG_MAP');
    expect(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').length).toBeGreaterThan(0);
    expect(cluster?.roleArn).toMatch(/^arn:aws:iam::111122223333:role\//);

    const auto = (await h.client.send(new DescribeClusterCommand({ name: 'auto' }))).cluster;
    expect(auto?.computeConfig?.enabled).toBe(true);
    expect(auto?.identity).toBeUndefined();
  });

  it('answers ResourceNotFoundException for unknown clusters and clusters of other regions', async () => {
    const h = await start(prodWorld());
    for (const name of ['nope', 'west']) {
      const err = await rejection(h.client.send(new DescribeClusterCommand({ name })));
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.message).toBe(`No cluster found for name: ${name}.`);
      expect(err.$metadata?.httpStatusCode).toBe(404);
      expect(err['clusterName']).toBe(name);
    }
    const err = await rejection(h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'nope' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('node groups and Fargate profiles', () => {
  it('lists and describes node groups', async () => {
    const h = await start(prodWorld());
    expect((await h.client.send(new ListNodegroupsCommand({ clusterName: 'prod' }))).nodegroups).toEqual(['ng-linux', 'ng-win']);
    const { nodegroup } = await h.client.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'ng-win' }));
    expect(nodegroup).toMatchObject({
      nodegroupName: 'ng-win', clusterName: 'prod', status: 'ACTIVE', capacityType: 'ON_DEMAND',
      amiType: 'WINDOWS_CORE_2022_x86_64', nodeRole: role('eks-node-win'), scalingConfig: { desiredSize: 1, minSize: 1, maxSize: 1 },
    });
    const err = await rejection(h.client.send(new DescribeNodegroupCommand({ clusterName: 'prod', nodegroupName: 'gone' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err['nodegroupName']).toBe('gone');
  });

  it('lists and describes Fargate profiles', async () => {
    const h = await start(prodWorld());
    expect((await h.client.send(new ListFargateProfilesCommand({ clusterName: 'prod' }))).fargateProfileNames).toEqual(['fp-batch']);
    const { fargateProfile } = await h.client.send(new DescribeFargateProfileCommand({ clusterName: 'prod', fargateProfileName: 'fp-batch' }));
    expect(fargateProfile).toMatchObject({
      fargateProfileName: 'fp-batch', status: 'ACTIVE', podExecutionRoleArn: role('fargate-exec'),
      selectors: [{ namespace: 'batch', labels: { tier: 'jobs' } }],
    });
    const err = await rejection(h.client.send(new DescribeFargateProfileCommand({ clusterName: 'prod', fargateProfileName: 'x' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('add-ons', () => {
  it('lists and describes add-ons', async () => {
    const h = await start(prodWorld());
    const { addons } = await h.client.send(new ListAddonsCommand({ clusterName: 'prod' }));
    expect(addons).toEqual(['aws-ebs-csi-driver', 'coredns', 'eks-pod-identity-agent', 'vpc-cni']);
    const { addon: a } = await h.client.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }));
    expect(a).toMatchObject({
      addonName: 'vpc-cni', clusterName: 'prod', status: 'ACTIVE', addonVersion: 'v1.18.3-eksbuild.1',
      serviceAccountRoleArn: role('vpc-cni-irsa'), podIdentityAssociations: [],
    });
    expect(a?.addonArn).toMatch(/^arn:aws:eks:us-east-1:111122223333:addon\/prod\/vpc-cni\//);
    expect(a?.createdAt?.getTime()).toBe(T0);
    const err = await rejection(h.client.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'kube-proxy' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.message).toBe('No addon: kube-proxy found in cluster: prod');
  });

  it('installs the Pod Identity agent, syncs the cluster, and refuses a second install', async () => {
    const h = await start(prodWorld());
    const { addon: a } = await h.client.send(new CreateAddonCommand({ clusterName: 'auto', addonName: 'eks-pod-identity-agent' }));
    expect(a).toMatchObject({ addonName: 'eks-pod-identity-agent', status: 'ACTIVE', addonVersion: 'v1.3.5-eksbuild.2' });
    expect(h.state.findCluster('auto')!.addons.has('eks-pod-identity-agent')).toBe(true);
    expect(h.syncs.get('auto')).toBe(1);

    const err = await rejection(h.client.send(new CreateAddonCommand({ clusterName: 'prod', addonName: 'eks-pod-identity-agent' })));
    expect(err).toBeInstanceOf(ResourceInUseException);
    expect(err.$metadata?.httpStatusCode).toBe(409);

    const badVersion = await rejection(h.client.send(new CreateAddonCommand({ clusterName: 'auto', addonName: 'vpc-cni', addonVersion: 'v0.0.1' })));
    expect(badVersion).toBeInstanceOf(InvalidParameterException);
  });

  it('creates an add-on with its Pod Identity associations', async () => {
    const h = await start(prodWorld());
    const created = await h.client.send(new CreateAddonCommand({
      clusterName: 'auto', addonName: 'vpc-cni', addonVersion: 'v1.18.3-eksbuild.1',
      podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }],
    }));
    const auto = h.state.findCluster('auto')!;
    expect(auto.associations).toHaveLength(1);
    expect(auto.associations[0]).toMatchObject({ namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: role('cni'), ownerArn: created.addon?.addonArn });
    expect(created.addon?.podIdentityAssociations).toEqual([auto.associations[0]!.associationArn]);
  });

  it('describes add-on configuration and versions', async () => {
    const h = await start(prodWorld());
    const cni = await h.client.send(new DescribeAddonConfigurationCommand({ addonName: 'vpc-cni', addonVersion: 'v1.18.3-eksbuild.1' }));
    expect(cni.podIdentityConfiguration).toEqual([{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }]);
    expect(JSON.parse(cni.configurationSchema ?? '')).toHaveProperty('type', 'object');
    const core = await h.client.send(new DescribeAddonConfigurationCommand({ addonName: 'coredns', addonVersion: 'v1.11.1-eksbuild.4' }));
    expect(core.podIdentityConfiguration ?? []).toEqual([]);
    const missing = await rejection(h.client.send(new DescribeAddonConfigurationCommand({ addonName: 'vpc-cni', addonVersion: 'v9.9.9' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);

    const versions = await h.client.send(new DescribeAddonVersionsCommand({ kubernetesVersion: '1.29' }));
    const byName = new Map(versions.addons?.map((a) => [a.addonName, a]));
    expect([...byName.keys()]).toEqual(['aws-ebs-csi-driver', 'coredns', 'eks-pod-identity-agent', 'vpc-cni']);
    const agent = byName.get('eks-pod-identity-agent')!;
    expect(agent.addonVersions?.[0]?.addonVersion).toBe('v1.3.5-eksbuild.2');
    expect(agent.addonVersions?.[0]?.compatibilities?.[0]).toMatchObject({ clusterVersion: '1.29', defaultVersion: true });
    expect(agent.addonVersions?.every((v) => v.requiresIamPermissions === false)).toBe(true);
    expect(byName.get('vpc-cni')?.addonVersions?.[0]?.requiresIamPermissions).toBe(true);
    const one = await h.client.send(new DescribeAddonVersionsCommand({ addonName: 'vpc-cni' }));
    expect(one.addons?.map((a) => a.addonName)).toEqual(['vpc-cni']);
  });

  it('UpdateAddon creates owned associations, replaces them, and removes dropped ones', async () => {
    const h = await start(prodWorld());
    const p = prod(h);
    const arn = p.addons.get('aws-ebs-csi-driver')!.arn;
    const first = await h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'aws-ebs-csi-driver',
      podIdentityAssociations: [
        { serviceAccount: 'ebs-csi-controller-sa', roleArn: role('ebs-controller') },
        { serviceAccount: 'ebs-csi-node-sa', roleArn: role('ebs-node') },
      ],
    }));
    expect(first.update).toMatchObject({ status: 'Successful', type: 'AddonUpdate' });
    expect(first.update?.params?.[0]?.type).toBe('PodIdentityAssociations');
    expect(JSON.parse(first.update?.params?.[0]?.value ?? '')[0]).toMatchObject({ serviceAccount: 'ebs-csi-controller-sa', namespace: 'kube-system' });
    const owned = () => p.associations.filter((a) => a.ownerArn === arn);
    expect(owned().map((a) => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual(['kube-system/ebs-csi-controller-sa', 'kube-system/ebs-csi-node-sa']);
    const controllerId = owned().find((a) => a.serviceAccount === 'ebs-csi-controller-sa')!.associationId;

    const listed = await h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', namespace: 'kube-system' }));
    expect(listed.associations?.every((a) => a.ownerArn === arn)).toBe(true);
    expect(listed.associations).toHaveLength(2);

    h.clock.t = T0 + 60_000;
    await h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'aws-ebs-csi-driver',
      podIdentityAssociations: [{ serviceAccount: 'ebs-csi-controller-sa', roleArn: role('ebs-controller-v2') }],
    }));
    expect(owned()).toHaveLength(1);
    expect(owned()[0]).toMatchObject({ associationId: controllerId, roleArn: role('ebs-controller-v2') });
    const { addon: described } = await h.client.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'aws-ebs-csi-driver' }));
    expect(described?.podIdentityAssociations).toEqual([owned()[0]!.associationArn]);
    expect(described?.modifiedAt?.getTime()).toBe(T0 + 60_000);

    await h.client.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'aws-ebs-csi-driver', podIdentityAssociations: [] }));
    expect(owned()).toHaveLength(0);
    expect(p.associations.map((a) => a.serviceAccount)).toEqual(['cart']);
  });

  it('UpdateAddon changes version and IRSA role, and DescribeUpdate returns the update', async () => {
    const h = await start(prodWorld());
    const res = await h.client.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', serviceAccountRoleArn: '' }));
    expect(prod(h).addons.get('vpc-cni')!.serviceAccountRoleArn).toBeNull();
    const again = await h.client.send(new DescribeUpdateCommand({ name: 'prod', updateId: res.update!.id!, addonName: 'vpc-cni' }));
    expect(again.update).toMatchObject({ id: res.update?.id, status: 'Successful', params: [{ type: 'ServiceAccountRoleArn', value: '' }] });
    expect(h.syncs.get('prod')).toBe(1);

    await h.client.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'eks-pod-identity-agent', addonVersion: 'v1.3.5-eksbuild.2' }));
    expect(prod(h).addons.get('eks-pod-identity-agent')!.version).toBe('v1.3.5-eksbuild.2');
    const bad = await rejection(h.client.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni', addonVersion: 'v7.0.0-eksbuild.1' })));
    expect(bad).toBeInstanceOf(InvalidParameterException);
  });

  it('UpdateAddon refuses versions without Pod Identity, unknown service accounts and taken service accounts', async () => {
    const h = await start(prodWorld());
    const unsupported = await rejection(h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'coredns', podIdentityAssociations: [{ serviceAccount: 'coredns', roleArn: role('dns') }],
    })));
    expect(unsupported).toBeInstanceOf(InvalidParameterException);
    expect(unsupported.message).toBe('Pod Identity feature is not supported for addon version: v1.11.1-eksbuild.4');

    const unknownSa = await rejection(h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'other', roleArn: role('x') }],
    })));
    expect(unknownSa).toBeInstanceOf(InvalidParameterException);
    expect(unknownSa.message).toContain('Service account other');

    const badRole = await rejection(h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: 'arn:aws:iam::111122223333:user/x' }],
    })));
    expect(badRole).toBeInstanceOf(InvalidParameterException);

    await h.client.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: role('manual') }));
    const taken = await rejection(h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }],
    })));
    expect(taken).toBeInstanceOf(ResourceInUseException);
    expect(prod(h).associations.filter((a) => a.ownerArn)).toHaveLength(0);
    expect(h.syncs.get('prod')).toBeUndefined();
  });

  it('reports unhealthy add-ons and refuses updates while one is in progress', async () => {
    const h = await start(world([cluster('prod', {
      addons: [addon('coredns', 'v1.11.1-eksbuild.4', { status: 'DEGRADED' }), addon('kube-proxy', 'v1.29.0-eksbuild.1', { status: 'UPDATING' })],
    })]));
    const { addon: dns } = await h.client.send(new DescribeAddonCommand({ clusterName: 'prod', addonName: 'coredns' }));
    expect(dns?.status).toBe('DEGRADED');
    expect(dns?.health?.issues?.[0]?.code).toBe('InsufficientNumberOfReplicas');
    const busy = await rejection(h.client.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: 'kube-proxy', resolveConflicts: 'OVERWRITE' })));
    expect(busy).toBeInstanceOf(ResourceInUseException);
    expect(busy['addonName']).toBe('kube-proxy');
  });

  it('owned associations change only through the add-on, and go away with it', async () => {
    const h = await start(prodWorld());
    await h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }],
    }));
    const id = prod(h).associations.find((a) => a.serviceAccount === 'aws-node')!.associationId;
    const upd = await rejection(h.client.send(new UpdatePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id, roleArn: role('other') })));
    expect(upd).toBeInstanceOf(InvalidRequestException);
    const del = await rejection(h.client.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id })));
    expect(del).toBeInstanceOf(InvalidRequestException);

    const { addon: deleted } = await h.client.send(new DeleteAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' }));
    expect(deleted?.status).toBe('DELETING');
    expect(prod(h).addons.has('vpc-cni')).toBe(false);
    expect(prod(h).associations.map((a) => a.serviceAccount)).toEqual(['cart']);
    expect(h.syncs.get('prod')).toBe(2);
    const gone = await rejection(h.client.send(new DeleteAddonCommand({ clusterName: 'prod', addonName: 'vpc-cni' })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('pod identity associations', () => {
  it('creates, describes, updates and deletes an association', async () => {
    const h = await start(prodWorld());
    h.clock.t = T0 + 5_000;
    const { association: created } = await h.client.send(new CreatePodIdentityAssociationCommand({
      clusterName: 'prod', namespace: 'shop', serviceAccount: 'orders', roleArn: role('orders'),
      targetRoleArn: 'arn:aws:iam::444455556666:role/orders-data', disableSessionTags: true, tags: { team: 'shop' },
    }));
    expect(created).toMatchObject({
      clusterName: 'prod', namespace: 'shop', serviceAccount: 'orders', roleArn: role('orders'),
      targetRoleArn: 'arn:aws:iam::444455556666:role/orders-data', disableSessionTags: true, tags: { team: 'shop' },
    });
    expect(created?.associationId).toMatch(/^a-[a-z0-9]{17}$/);
    expect(created?.associationArn).toBe(`arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/${created?.associationId}`);
    expect(created?.externalId).toBeTruthy();
    expect(created?.ownerArn).toBeUndefined();
    expect(created?.createdAt?.getTime()).toBe(T0 + 5_000);
    const id = created!.associationId!;

    const { association: described } = await h.client.send(new DescribePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id }));
    expect(described).toEqual(created);

    h.clock.t = T0 + 10_000;
    const { association: updated } = await h.client.send(new UpdatePodIdentityAssociationCommand({
      clusterName: 'prod', associationId: id, roleArn: role('orders-v2'), targetRoleArn: '', disableSessionTags: false,
    }));
    expect(updated).toMatchObject({ roleArn: role('orders-v2'), disableSessionTags: false, associationId: id });
    expect(updated?.targetRoleArn).toBeUndefined();
    expect(updated?.externalId).toBeUndefined();
    expect(updated?.modifiedAt?.getTime()).toBe(T0 + 10_000);
    expect(updated?.createdAt?.getTime()).toBe(T0 + 5_000);

    const nothing = await rejection(h.client.send(new UpdatePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id })));
    expect(nothing).toBeInstanceOf(InvalidParameterException);

    const { association: deleted } = await h.client.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id }));
    expect(deleted?.associationId).toBe(id);
    expect(deleted?.roleArn).toBe(role('orders-v2'));
    const gone = await rejection(h.client.send(new DescribePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
    expect(gone.$metadata?.httpStatusCode).toBe(404);
  });

  it('refuses a second association for a service account and role ARNs that are not roles', async () => {
    const h = await start(prodWorld());
    const dup = await rejection(h.client.send(new CreatePodIdentityAssociationCommand({
      clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('cart2'),
    })));
    expect(dup).toBeInstanceOf(ResourceInUseException);
    expect(dup.message).toBe('Association already exists: a-cart00000000000000');
    expect(dup.$metadata?.httpStatusCode).toBe(409);

    for (const roleArn of ['arn:aws:iam::111122223333:policy/p', 'cart', 'arn:aws:iam::1234:role/short-account']) {
      const bad = await rejection(h.client.send(new CreatePodIdentityAssociationCommand({
        clusterName: 'prod', namespace: 'shop', serviceAccount: 'pay', roleArn,
      })));
      expect(bad).toBeInstanceOf(InvalidParameterException);
      expect(bad.$metadata?.httpStatusCode).toBe(400);
    }
    const badNs = await rejection(h.client.send(new CreatePodIdentityAssociationCommand({
      clusterName: 'prod', namespace: 'Shop_NS', serviceAccount: 'pay', roleArn: role('pay'),
    })));
    expect(badNs).toBeInstanceOf(InvalidParameterException);
    expect(prod(h).associations).toHaveLength(1);
  });

  it('paginates with small pages and filters by namespace and service account', async () => {
    const specs = [
      assoc('shop', 'cart'), assoc('shop', 'orders'), assoc('shop', 'payments'),
      assoc('batch', 'cart'), assoc('batch', 'reports'), assoc('ops', 'cart'),
    ];
    const h = await start(world([cluster('prod', { podIdentityAssociations: specs })]));
    const all: string[] = [];
    let pages = 0;
    for await (const page of paginateListPodIdentityAssociations({ client: h.client, pageSize: 2 }, { clusterName: 'prod' })) {
      pages += 1;
      expect(page.associations!.length).toBeLessThanOrEqual(2);
      all.push(...page.associations!.map((a) => `${a.namespace}/${a.serviceAccount}`));
    }
    expect(pages).toBe(3);
    expect(all.sort()).toEqual(specs.map((s) => `${s.namespace}/${s.serviceAccount}`).sort());

    const collect = async (filter: { namespace?: string; serviceAccount?: string }) => {
      const out: string[] = [];
      for await (const page of paginateListPodIdentityAssociations({ client: h.client, pageSize: 1 }, { clusterName: 'prod', ...filter })) {
        out.push(...page.associations!.map((a) => `${a.namespace}/${a.serviceAccount}`));
      }
      return out.sort();
    };
    expect(await collect({ namespace: 'shop' })).toEqual(['shop/cart', 'shop/orders', 'shop/payments']);
    expect(await collect({ serviceAccount: 'cart' })).toEqual(['batch/cart', 'ops/cart', 'shop/cart']);
    expect(await collect({ namespace: 'batch', serviceAccount: 'reports' })).toEqual(['batch/reports']);

    const summary = (await h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', namespace: 'ops' }))).associations?.[0];
    expect(summary).toMatchObject({ clusterName: 'prod', namespace: 'ops', serviceAccount: 'cart' });
    expect(summary?.associationArn).toContain(`/prod/${summary?.associationId}`);

    // A deletion between pages neither repeats nor skips the remaining associations.
    const first = await h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', maxResults: 2 }));
    const victim = first.associations![0]!.associationId!;
    await h.client.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: victim }));
    const rest = await h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', maxResults: 100, nextToken: first.nextToken }));
    expect(rest.associations).toHaveLength(4);

    for (const maxResults of [0, 101]) {
      const bad = await rejection(h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', maxResults })));
      expect(bad).toBeInstanceOf(InvalidParameterException);
    }
    const badToken = await rejection(h.client.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod', nextToken: 'garbage' })));
    expect(badToken).toBeInstanceOf(InvalidParameterException);
  });

  it('enforces the 1,000 associations per cluster quota, for direct and add-on associations', async () => {
    const specs = Array.from({ length: 999 }, (_, i) => assoc(`ns-${i}`, 'app'));
    const h = await start(world([cluster('prod', {
      podIdentityAssociations: specs,
      addons: [addon('vpc-cni', 'v1.18.3-eksbuild.1', { podIdentityConfiguration: [{ serviceAccount: 'aws-node', recommendedManagedPolicies: [] }] })],
    })]));
    await h.client.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'last', serviceAccount: 'app', roleArn: role('app') }));
    expect(prod(h).associations).toHaveLength(1000);
    const over = await rejection(h.client.send(new CreatePodIdentityAssociationCommand({
      clusterName: 'prod', namespace: 'one-more', serviceAccount: 'app', roleArn: role('app'),
    })));
    expect(over).toBeInstanceOf(ResourceLimitExceededException);
    expect(over.$metadata?.httpStatusCode).toBe(400);
    const viaAddon = await rejection(h.client.send(new UpdateAddonCommand({
      clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: role('cni') }],
    })));
    expect(viaAddon).toBeInstanceOf(ResourceLimitExceededException);
    expect(prod(h).associations).toHaveLength(1000);
  });
});

describe('routing', () => {
  it('recognises operations without changing state and refuses unknown routes', () => {
    const state = new SandboxState(prodWorld(), { now: () => T0 }, () => NO_KUBE);
    const eks = createEksService(state);
    const req = (method: string, path: string, body = ''): AwsRequest => ({
      service: 'eks', region: 'us-east-1', accessKeyId: 'AKID', method, path, query: new URLSearchParams(), headers: {}, body: Buffer.from(body),
    });
    const create = eks.route(req('POST', '/clusters/prod/pod-identity-associations', '{"namespace":"a","serviceAccount":"b","roleArn":"x"}'));
    expect(create).toMatchObject({ operation: 'CreatePodIdentityAssociation', mutating: true });
    expect(eks.route(req('POST', '/clusters/prod/addons/vpc-cni/update'))).toMatchObject({ operation: 'UpdateAddon', mutating: true });
    expect(eks.route(req('GET', '/clusters/prod/pod-identity-associations/a-1'))).toMatchObject({ operation: 'DescribePodIdentityAssociation', mutating: false });
    expect(eks.route(req('GET', '/addons/supported-versions'))).toMatchObject({ operation: 'DescribeAddonVersions', mutating: false });
    expect(state.findCluster('prod')!.associations).toHaveLength(1);
    expect(() => eks.route(req('PUT', '/clusters/prod'))).toThrow(AwsServiceError);

    const reply = eks.renderError(new AwsServiceError('ThrottlingException', 'Rate exceeded', 429));
    expect(reply.status).toBe(429);
    expect(reply.headers['x-amzn-errortype']).toBe('ThrottlingException');
    expect(JSON.parse(String(reply.body))).toEqual({ message: 'Rate exceeded' });

    const malformed = eks.route(req('POST', '/clusters/prod/pod-identity-associations', '{not json'));
    expect(() => malformed.run()).toThrow(/not valid JSON/);
  });
});
