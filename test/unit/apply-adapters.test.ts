/** Apply's adapters: which failures are retried, read back or final; Kubernetes objects as apply reads them. */
import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../src/adapters/aws-write.js';
import { toNodeState, toPodState, toWorkloadState } from '../../src/adapters/kube-write.js';

const sdkError = (name: string, status?: number, extra: object = {}) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('classifyAwsError', () => {
  it.each([
    [sdkError('Throttling', 400), 'throttled'],
    [sdkError('ThrottlingException', 429), 'throttled'],
    [sdkError('TooManyRequestsException', 429), 'throttled'],
    [sdkError('ServiceFailure', 500, { $fault: 'server' }), 'server'],
    [sdkError('ServerException', 503), 'server'],
    [sdkError('ResourceInUseException', 409), 'in-use'],
    [sdkError('NoSuchEntity', 404), 'not-found'],
    [sdkError('AccessDeniedException', 403), 'denied'],
    // IAM's LimitExceeded is the trust-policy length quota: final, never retried.
    [sdkError('LimitExceeded', 409), 'invalid'],
    [sdkError('MalformedPolicyDocument', 400), 'invalid'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'lost'],
    [sdkError('TimeoutError'), 'lost'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'server'],
  ] as [unknown, string][])('%s -> %s', (err, kind) => {
    expect(classifyAwsError(err)).toBe(kind);
  });
});

describe('Kubernetes objects as apply reads them', () => {
  it('reads a Deployment: generation, restartedAt, status and conditions; strategy defaults', () => {
    const w = toWorkloadState('Deployment', {
      metadata: { name: 'cart', namespace: 'shop', uid: 'u1', generation: 4 },
      spec: { replicas: 3, template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-04T10:00:00Z' } } } },
      status: { observedGeneration: 3, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' }] },
    });
    expect(w).toMatchObject({ uid: 'u1', generation: 4, restartedAt: '2026-12-04T10:00:00Z', replicas: 3, strategy: null, paused: false, status: { observedGeneration: 3, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } });
    expect(toWorkloadState('Deployment', { spec: { paused: true } })).toMatchObject({ paused: true });
    expect(toWorkloadState('StatefulSet', { spec: { updateStrategy: { rollingUpdate: { partition: 2 } } } })).toMatchObject({ strategy: 'RollingUpdate', partition: 2, replicas: 1 });
    expect(toWorkloadState('DaemonSet', { spec: { updateStrategy: { type: 'OnDelete' } } })).toMatchObject({ strategy: 'OnDelete', replicas: null });
  });

  it('reads a pod: credentials env, owner, readiness, why it waits', () => {
    const pod = toPodState({
      metadata: { name: 'cart-abc-1', namespace: 'shop', uid: 'p1', creationTimestamp: '2026-12-04T10:00:00Z', ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-abc', controller: true }] },
      spec: { serviceAccountName: 'cart', containers: [{ name: 'app', env: [{ name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' }] }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] },
    });
    expect(pod).toMatchObject({ identity: 'pod-identity', owner: { kind: 'ReplicaSet', name: 'cart-abc' }, ready: false, nodeName: null, terminating: false, waitingReason: 'Unschedulable: 0/3 nodes are available' });
    const irsa = toPodState({ metadata: { deletionTimestamp: '2026-12-04T10:00:00Z' }, spec: { nodeName: 'n1', containers: [{ name: 'a', env: [{ name: 'AWS_ROLE_ARN' }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE' }] }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(irsa).toMatchObject({ identity: 'irsa', serviceAccount: 'default', ready: true, terminating: true, nodeName: 'n1' });
  });

  it('reads a node: compute type and node group', () => {
    expect(toNodeState({ metadata: { name: 'n', labels: { 'eks.amazonaws.com/compute-type': 'auto' } } })).toEqual({ name: 'n', os: 'linux', computeType: 'auto', nodegroup: null });
    expect(toNodeState({ metadata: { name: 'n', labels: { 'eks.amazonaws.com/nodegroup': 'ng-a', 'kubernetes.io/os': 'linux' } } })).toMatchObject({ computeType: 'ec2', nodegroup: 'ng-a' });
  });
});
