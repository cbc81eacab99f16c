/**
 * The sandbox server as a whole: faults, latency, caller permissions, the call log and the
 * state dump, through unmodified SDK and Kubernetes clients.
 */
import { readFileSync } from 'node:fs';
import { EKSClient, ListClustersCommand, CreatePodIdentityAssociationCommand } from '@aws-sdk/client-eks';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import * as k8s from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Sandbox } from '../../src/sandbox/server.js';
import { parseWorld } from '../../src/sandbox/world.js';
import { awsConfig, sandboxFrom } from '../helpers/sandbox.js';

const FULL = readFileSync(new URL('../fixtures/worlds/full.yaml', import.meta.url), 'utf8');
const BASE = {
  account: '111122223333',
  region: 'us-east-1',
  clusters: [{
    name: 'prod', version: '1.30', platformVersion: 'eks.9',
    oidcIssuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE',
    objects: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cart', namespace: 'shop' } }],
  }],
  iam: { roles: [{ name: 'cart', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } }] },
};

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function calls(sb: Sandbox) {
  return (await (await fetch(`${sb.endpoint}/_sandbox/calls`)).json()) as { service: string; operation: string; mutating: boolean; status: number }[];
}

describe('state dump', () => {
  it('serves a world using every contract field back in the same schema, and it loads again', async () => {
    sandbox = await sandboxFrom(FULL);
    const dumped = (await (await fetch(`${sandbox.endpoint}/_sandbox/state`)).json()) as Record<string, unknown>;
    const original = parse(FULL) as Record<string, unknown>;
    expect(Object.keys(dumped).sort()).toEqual(Object.keys(original).sort());
    const reloaded = parseWorld(JSON.stringify(dumped), 'state.json');
    const world = parseWorld(FULL, 'full.yaml');
    expect(reloaded.iam.roles.map((r) => r.assumeRolePolicyDocument)).toEqual(world.iam.roles.map((r) => r.assumeRolePolicyDocument));
    expect(reloaded.clusters.map((c) => c.podIdentityAssociations.length)).toEqual(world.clusters.map((c) => c.podIdentityAssociations.length));
    expect(reloaded.faults).toEqual(world.faults);
    expect(reloaded.caller).toEqual(world.caller);
  });
});

describe('faults', () => {
  const withFault = (target: string, error: string, extra: object = {}) => ({ ...BASE, faults: [{ target, error, ...extra }] });

  it('throttle: IAM answers Throttling, then serves the call after `times` failures', async () => {
    sandbox = await sandboxFrom(withFault('iam:GetRole', 'throttle', { times: 1 }));
    const iam = new IAMClient(awsConfig(sandbox));
    await expect(iam.send(new GetRoleCommand({ RoleName: 'cart' }))).rejects.toMatchObject({ name: 'Throttling' });
    await expect(iam.send(new GetRoleCommand({ RoleName: 'cart' }))).resolves.toMatchObject({ Role: { RoleName: 'cart' } });
    expect((await calls(sandbox)).map((c) => c.status)).toEqual([400, 200]);
  });

  it('throttle with `after`: lets the first calls through', async () => {
    sandbox = await sandboxFrom(withFault('eks:ListClusters', 'throttle', { after: 1, times: 1 }));
    const eks = new EKSClient(awsConfig(sandbox));
    await eks.send(new ListClustersCommand({}));
    await expect(eks.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await eks.send(new ListClustersCommand({}));
  });

  it('the SDK retries a throttled call by itself', async () => {
    sandbox = await sandboxFrom(withFault('sts:GetCallerIdentity', 'throttle'));
    const sts = new STSClient({ ...awsConfig(sandbox), maxAttempts: 3 });
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Account: '111122223333' });
    expect((await calls(sandbox)).map((c) => c.status)).toEqual([400, 200]);
  });

  it('server-error: EKS ServerException (500)', async () => {
    sandbox = await sandboxFrom(withFault('eks:ListClusters', 'server-error'));
    await expect(new EKSClient(awsConfig(sandbox)).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'ServerException', $metadata: { httpStatusCode: 500 } });
  });

  it('reset: the connection is dropped', async () => {
    sandbox = await sandboxFrom(withFault('iam:GetRole', 'reset'));
    await expect(new IAMClient(awsConfig(sandbox)).send(new GetRoleCommand({ RoleName: 'cart' }))).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect(await calls(sandbox)).toEqual([{ service: 'iam', operation: 'GetRole', mutating: false, status: 0 }]);
  });

  it('timeout: the request is never answered, so the client gives up', async () => {
    sandbox = await sandboxFrom(withFault('eks:ListClusters', 'timeout'));
    const eks = new EKSClient({ ...awsConfig(sandbox), requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });
    await expect(eks.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('Kubernetes faults: 429 with Retry-After, 500, and a matching target only', async () => {
    sandbox = await sandboxFrom({ ...BASE, faults: [{ target: 'k8s:list:serviceaccounts', error: 'throttle' }, { target: 'k8s:get:serviceaccounts', error: 'server-error' }] });
    const base = `${sandbox.endpoint}/k8s/111122223333/us-east-1/prod`;
    const auth = { headers: { authorization: 'Bearer sandbox-token-prod' } };
    const throttled = await fetch(`${base}/api/v1/serviceaccounts`, auth);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(((await throttled.json()) as { reason: string }).reason).toBe('TooManyRequests');
    expect((await fetch(`${base}/api/v1/serviceaccounts`, auth)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/namespaces/shop/serviceaccounts/cart`, auth)).status).toBe(500);
    expect((await calls(sandbox)).map((c) => `${c.service} ${c.operation} ${c.status}`)).toEqual([
      'k8s:prod list:serviceaccounts 429', 'k8s:prod list:serviceaccounts 200', 'k8s:prod get:serviceaccounts 500',
    ]);
  });
});

describe('latency', () => {
  it('delays every AWS and Kubernetes request by at least latencyMs', async () => {
    sandbox = await sandboxFrom({ ...BASE, latencyMs: 150 });
    const t0 = performance.now();
    await new EKSClient(awsConfig(sandbox)).send(new ListClustersCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    const t1 = performance.now();
    await fetch(`${sandbox.endpoint}/k8s/111122223333/us-east-1/prod/version`);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(145);
  });
});

describe('caller and signing', () => {
  it('denies AWS calls outside caller.allow with each service\'s AccessDenied', async () => {
    sandbox = await sandboxFrom({ ...BASE, caller: { arn: 'arn:aws:iam::111122223333:user/ci', allow: ['eks:List*', 'iam:GetRole'] } });
    const eks = new EKSClient(awsConfig(sandbox));
    await expect(eks.send(new ListClustersCommand({}))).resolves.toMatchObject({ clusters: ['prod'] });
    await expect(eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: 'arn:aws:iam::111122223333:role/cart' })))
      .rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('eks:CreatePodIdentityAssociation') });
    await expect(new STSClient(awsConfig(sandbox)).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'AccessDenied' });
    const log = await calls(sandbox);
    expect(log.find((c) => c.operation === 'CreatePodIdentityAssociation')).toEqual({ service: 'eks', operation: 'CreatePodIdentityAssociation', mutating: true, status: 403 });
  });

  it('rejects unsigned AWS requests and routes signed ones by the signature\'s service', async () => {
    sandbox = await sandboxFrom(BASE);
    const r = await fetch(`${sandbox.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('MissingAuthenticationToken');
  });

  it('serves the Kubernetes API at the endpoint DescribeCluster reports, for client-node', async () => {
    sandbox = await sandboxFrom(BASE);
    const kc = new k8s.KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    expect(kc.getCurrentContext()).toBe('arn:aws:eks:us-east-1:111122223333:cluster/prod');
    expect(kc.getCurrentCluster()?.server).toBe(`${sandbox.endpoint}/k8s/111122223333/us-east-1/prod`);
    const sas = await kc.makeApiClient(k8s.CoreV1Api).listServiceAccountForAllNamespaces();
    expect(sas.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toContain('shop/cart');
  });
});
