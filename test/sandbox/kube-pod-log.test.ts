/**
 * Pods that run `aws sts get-caller-identity` in the sandbox: they complete with what the AWS CLI
 * would print, from the credential model, and `pods/log` serves it (client-node over HTTP).
 */
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { ACCOUNT, FakeClock, ISSUER, cluster, serviceAccount, world } from './kube-world.js';

const HOST = ISSUER.replace('https://', '');
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cart`;
const probe = (name: string, sa: string, command: string[] = ['aws', 'sts', 'get-caller-identity', '--output', 'json']): V1Pod => ({
  metadata: { name, namespace: 'shop' },
  spec: { serviceAccountName: sa, restartPolicy: 'Never', containers: [{ name: 'probe', image: 'amazon/aws-cli', command }] },
});

describe('get-caller-identity pods and pods/log', () => {
  let sandbox: Sandbox;
  let core: CoreV1Api;
  const clock = new FakeClock();

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock,
      world: world([cluster({ objects: [serviceAccount('shop', 'cart', ROLE), serviceAccount('shop', 'nobody')] })], {
        rolloutDelayMs: 5_000,
        iam: {
          trustPolicyLimit: 2048,
          policies: [],
          openIdConnectProviders: [{ url: ISSUER, clientIds: ['sts.amazonaws.com'], account: ACCOUNT }],
          roles: [
            {
              name: 'cart', path: '/', account: ACCOUNT, attachedPolicies: [], inlinePolicies: {}, tags: {},
              assumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:shop:cart' } } }],
              },
            },
          ],
        },
      }),
    });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('a pod whose role the model grants succeeds and logs the caller identity', async () => {
    await core.createNamespacedPod({ namespace: 'shop', body: probe('who-cart', 'cart') });
    // Not started yet: the kubelet has no log to give.
    await expect(core.readNamespacedPodLog({ namespace: 'shop', name: 'who-cart' })).rejects.toMatchObject({ code: 400 });
    clock.advance(5_000);
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: 'who-cart' });
    expect(pod.status?.phase).toBe('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    const log = await core.readNamespacedPodLog({ namespace: 'shop', name: 'who-cart' });
    const doc = JSON.parse(log) as { Arn: string; Account: string; UserId: string };
    expect(doc.Account).toBe(ACCOUNT);
    // IRSA here (the SA's annotation): a web identity session of role cart.
    expect(doc.Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/cart/botocore-session-\\d+$`));
    expect(doc.UserId).toMatch(/^AROA\w+:botocore-session-\d+$/);
  });

  it('a pod the model gives no credentials fails with exit code 255 and the CLI error', async () => {
    await core.createNamespacedPod({ namespace: 'shop', body: probe('who-nobody', 'nobody', ['sh', '-c', 'aws sts get-caller-identity']) });
    clock.advance(5_000);
    const pod = await core.readNamespacedPod({ namespace: 'shop', name: 'who-nobody' });
    expect(pod.status?.phase).toBe('Failed');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(255);
    expect(await core.readNamespacedPodLog({ namespace: 'shop', name: 'who-nobody' })).toContain('Unable to locate credentials');
  });

  it('other pods run on and log nothing; an unknown pod is 404', async () => {
    await core.createNamespacedPod({ namespace: 'shop', body: probe('sleeper', 'cart', ['sleep', 'infinity']) });
    clock.advance(5_000);
    expect((await core.readNamespacedPod({ namespace: 'shop', name: 'sleeper' })).status?.phase).toBe('Running');
    expect(await core.readNamespacedPodLog({ namespace: 'shop', name: 'sleeper' })).toBe('');
    await expect(core.readNamespacedPodLog({ namespace: 'shop', name: 'ghost' })).rejects.toMatchObject({ code: 404 });
  });
});
