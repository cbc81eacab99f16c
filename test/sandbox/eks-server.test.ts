/**
 * EKS through the whole sandbox server (startSandbox): the endpoint/kubeconfig contract, the
 * agent add-on reaching the Kubernetes side, the call log, and the errors the server itself
 * raises for EKS (caller allow list, injected faults) as the SDK's typed exceptions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  AccessDeniedException, CreateAddonCommand, CreatePodIdentityAssociationCommand, DescribeClusterCommand, EKSClient,
  ListClustersCommand, ServerException, ThrottlingException,
} from '@aws-sdk/client-eks';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { ClusterSpec, World } from '../../src/sandbox/world-types.js';

const ACCOUNT = '111122223333';

function cluster(name: string, over: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name, account: ACCOUNT, region: 'us-east-1', version: '1.30', platformVersion: 'eks.2',
    oidcIssuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0000000000000000000000001', autoMode: false, status: 'ACTIVE',
    addons: [], nodegroups: [{ name: 'ng', nodeRole: `arn:aws:iam::${ACCOUNT}:role/node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 2 }],
    fargateProfiles: [], podIdentityAssociations: [], objects: [], ...over,
  };
}

function world(over: Partial<World> = {}): World {
  return {
    account: ACCOUNT, region: 'us-east-1', partition: 'aws', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters: [cluster('prod'), cluster('stage')],
    iam: {
      trustPolicyLimit: 2048, policies: [], openIdConnectProviders: [],
      // EKS checks an association's role exists and admits Pod Identity.
      roles: [{
        name: 'cart', path: '/', account: ACCOUNT, attachedPolicies: [], inlinePolicies: {}, tags: {},
        assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] },
      }],
    },
    caller: null, faults: [], ...over,
  };
}

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function start(w: World): Promise<{ sandbox: Sandbox; client: EKSClient }> {
  const sandbox = await startSandbox({ world: w, clock: { now: () => Date.UTC(2025, 0, 15) } });
  sandboxes.push(sandbox);
  const client = new EKSClient({
    region: 'us-east-1', endpoint: sandbox.endpoint, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
  });
  return { sandbox, client };
}

describe('EKS through the sandbox server', () => {
  it('describes each cluster with the server of its kubeconfig entry', async () => {
    const { sandbox, client } = await start(world());
    const kubeconfig = parseYaml(sandbox.kubeconfig()) as { clusters: { name: string; cluster: { server: string } }[] };
    for (const name of ['prod', 'stage']) {
      const { cluster: c } = await client.send(new DescribeClusterCommand({ name }));
      const entry = kubeconfig.clusters.find((k) => k.name === c?.arn);
      expect(entry?.cluster.server).toBe(c?.endpoint);
    }
  });

  it('installing the agent add-on activates Pod Identity on the cluster', async () => {
    const { sandbox, client } = await start(world());
    const prod = sandbox.state.findCluster('prod', 'us-east-1')!;
    expect(sandbox.state.podIdentityActive(prod)).toBe(false);
    await client.send(new CreateAddonCommand({ clusterName: 'prod', addonName: 'eks-pod-identity-agent' }));
    expect(sandbox.state.podIdentityActive(prod)).toBe(true);
    const agent = prod.kube.allObjects().find((o) => {
      const meta = o['metadata'] as { name?: string; namespace?: string } | undefined;
      return o['kind'] === 'DaemonSet' && meta?.name === 'eks-pod-identity-agent' && meta.namespace === 'kube-system';
    });
    expect(agent).toBeDefined();
  });

  it('logs EKS calls with their operation and whether they mutate', async () => {
    const { sandbox, client } = await start(world());
    await client.send(new ListClustersCommand({}));
    await client.send(new CreatePodIdentityAssociationCommand({
      clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: `arn:aws:iam::${ACCOUNT}:role/cart`,
    }));
    expect(sandbox.state.calls.filter((c) => c.service === 'eks')).toEqual([
      { service: 'eks', operation: 'ListClusters', mutating: false, status: 200 },
      { service: 'eks', operation: 'CreatePodIdentityAssociation', mutating: true, status: 200 },
    ]);
  });

  it('renders the server-raised errors as EKS typed exceptions', async () => {
    const denied = await start(world({ caller: { arn: `arn:aws:iam::${ACCOUNT}:user/ci`, allow: ['eks:Describe*'] } }));
    await expect(denied.client.send(new DescribeClusterCommand({ name: 'prod' }))).resolves.toBeDefined();
    const err = await denied.client.send(new ListClustersCommand({})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect((err as AccessDeniedException).$metadata.httpStatusCode).toBe(403);

    const faulty = await start(world({
      faults: [
        { target: 'eks:ListClusters', error: 'throttle', after: 0, times: 1 },
        { target: 'eks:DescribeCluster', error: 'server-error', after: 0, times: 1 },
      ],
    }));
    expect(await faulty.client.send(new ListClustersCommand({})).catch((e: unknown) => e)).toBeInstanceOf(ThrottlingException);
    expect((await faulty.client.send(new ListClustersCommand({}))).clusters).toEqual(['prod', 'stage']);
    const server = await faulty.client.send(new DescribeClusterCommand({ name: 'prod' })).catch((e: unknown) => e);
    expect(server).toBeInstanceOf(ServerException);
    expect((server as ServerException).$metadata.httpStatusCode).toBe(500);
  });
});
