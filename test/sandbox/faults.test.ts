/** Fault injection: matching (targets, wildcards, scope, after/times) and post-commit faults on the AWS side. */
import { CreatePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand, ResourceInUseException } from '@aws-sdk/client-eks';
import { afterEach, describe, expect, it } from 'vitest';
import { nextFault } from '../../src/sandbox/faults.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { FaultSpec } from '../../src/sandbox/world-types.js';
import { awsConfig, sandboxFrom } from '../helpers/sandbox.js';

const faults = (...specs: Partial<FaultSpec>[]) => specs.map((f) => ({ target: 'k8s:patch:deployments', error: 'throttle' as const, after: 0, times: 1, ...f, seen: 0 }));

describe('nextFault', () => {
  it('matches targets case-insensitively and with *, counting only matching calls', () => {
    const f = faults({ target: 'k8s:*:deployments', after: 1, times: 2 });
    expect(nextFault(f, 'k8s:patch:pods')).toBeUndefined();
    expect(nextFault(f, 'k8s:get:deployments')).toBeUndefined(); // the one let through
    expect(nextFault(f, 'K8S:PATCH:deployments')).toEqual({ error: 'throttle', when: 'before' });
    expect(nextFault(f, 'k8s:list:deployments')).toEqual({ error: 'throttle', when: 'before' });
    expect(nextFault(f, 'k8s:list:deployments')).toBeUndefined();
  });

  it('scopes by cluster and namespace; when defaults to before', () => {
    const f = faults({ cluster: 'prod', namespace: 'shop', when: 'after-commit', times: 5 });
    expect(nextFault(f, 'k8s:patch:deployments', { cluster: 'dev', namespace: 'shop' })).toBeUndefined();
    expect(nextFault(f, 'k8s:patch:deployments', { cluster: 'prod', namespace: 'other' })).toBeUndefined();
    expect(nextFault(f, 'k8s:patch:deployments', { cluster: 'prod' })).toBeUndefined();
    expect(nextFault(f, 'k8s:patch:deployments', { cluster: 'prod', namespace: 'shop' })).toEqual({ error: 'throttle', when: 'after-commit' });
    expect(f[0]?.seen).toBe(1);
  });
});

describe('post-commit faults on AWS', () => {
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('creates the association, drops the answer; the retry finds it made (ResourceInUseException) and the list shows one', async () => {
    sandbox = await sandboxFrom({
      account: '111122223333',
      region: 'us-east-1',
      clusters: [{ name: 'prod', version: '1.30', platformVersion: 'eks.9' }],
      iam: { roles: [{ name: 'cart', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] } }] },
      faults: [{ target: 'eks:CreatePodIdentityAssociation', error: 'server-error', when: 'after-commit', cluster: 'prod' }],
    });
    const eks = new EKSClient(awsConfig(sandbox));
    const create = () => eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: 'arn:aws:iam::111122223333:role/cart' }));
    await expect(create()).rejects.toMatchObject({ name: 'ServerException', $metadata: { httpStatusCode: 500 } });
    await expect(create()).rejects.toBeInstanceOf(ResourceInUseException);
    const list = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'prod' }));
    expect(list.associations?.map((a) => `${a.namespace}/${a.serviceAccount}`)).toEqual(['shop/cart']);
  });
});
