import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { backoffMs, describeKubeFailure, withKubeRetry } from '../../src/adapters/kube.js';
import { classifyPodIdentity, toCronJob, toDeployment, toJob, toNode, toPod, toServiceAccount } from '../../src/adapters/kube-map.js';

const env = (...names: string[]) => names.map((name) => ({ name, value: 'x' }));

describe('classifyPodIdentity', () => {
  it.each([
    [[env('AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE')], 'pod-identity'],
    [[env('AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE')], 'irsa'],
    // Both sets present: Pod Identity wins, as the SDK credential chain prefers it too.
    [[env('AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI')], 'pod-identity'],
    [[env('AWS_ROLE_ARN')], 'none'],
    [[env('AWS_REGION')], 'none'],
    [[env(), env('AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE')], 'irsa'],
  ])('%j -> %s', (containers, expected) => {
    expect(classifyPodIdentity({ containers: containers.map((e, i) => ({ name: `c${i}`, env: e })) })).toBe(expected);
  });

  it('reads init containers too', () => {
    expect(classifyPodIdentity({ containers: [{ name: 'a' }], initContainers: [{ name: 'i', env: env('AWS_CONTAINER_CREDENTIALS_FULL_URI') }] })).toBe('pod-identity');
  });
});

describe('slim mappers', () => {
  it('keeps only eks.amazonaws.com annotations of a service account', () => {
    const sa = toServiceAccount({
      metadata: { name: 'cart', namespace: 'shop', uid: 'u1', resourceVersion: '7', annotations: { 'eks.amazonaws.com/role-arn': 'arn', 'kubectl.kubernetes.io/last-applied-configuration': '{...}' } },
    });
    expect(sa).toEqual({ namespace: 'shop', name: 'cart', uid: 'u1', resourceVersion: '7', annotations: { 'eks.amazonaws.com/role-arn': 'arn' } });
  });

  it('maps a pod with its controller owner and defaults the service account', () => {
    const pod: V1Pod = {
      metadata: { name: 'p', namespace: 'n', labels: { app: 'a' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Other', name: 'o', uid: '1' }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: '2', controller: true }] },
      spec: { containers: [{ name: 'c' }], nodeName: 'node-1' },
      status: { phase: 'Running' },
    };
    expect(toPod(pod)).toEqual({ namespace: 'n', name: 'p', serviceAccount: 'default', nodeName: 'node-1', phase: 'Running', owner: { kind: 'ReplicaSet', name: 'rs' }, identity: 'none', labels: { app: 'a' } });
  });

  it('maps a pod template whose required node affinity pins every term to Windows (the scheduler then only places it there)', () => {
    const affinity = (...terms: { key: string; operator: string; values?: string[] }[][]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })) } },
    });
    const deploy = (a: unknown) => toDeployment({ metadata: { name: 'd', namespace: 'n' }, spec: { selector: {}, template: { spec: { containers: [], affinity: a as never } } } });
    const windows = { key: 'kubernetes.io/os', operator: 'In', values: ['windows'] };
    expect(deploy(affinity([windows]))).toMatchObject({ windowsAffinity: true });
    expect(deploy(affinity([{ key: 'beta.kubernetes.io/os', operator: 'In', values: ['windows'] }]))).toMatchObject({ windowsAffinity: true });
    expect(deploy(affinity([windows], [{ key: 'kubernetes.io/os', operator: 'In', values: ['windows'] }, { key: 'zone', operator: 'In', values: ['a'] }]))).toMatchObject({ windowsAffinity: true });
    // Linux allowed too (a term or a value), or a preference only: it may run on Linux.
    expect(deploy(affinity([windows], [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }])).windowsAffinity).toBeUndefined();
    expect(deploy(affinity([{ key: 'kubernetes.io/os', operator: 'In', values: ['linux', 'windows'] }])).windowsAffinity).toBeUndefined();
    expect(deploy(affinity([{ key: 'kubernetes.io/os', operator: 'NotIn', values: ['windows'] }])).windowsAffinity).toBeUndefined();
    expect(deploy({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [windows] } }] } }).windowsAffinity).toBeUndefined();
    expect(deploy(undefined).windowsAffinity).toBeUndefined();
  });

  it('maps workloads: replicas default to 1, scaled-to-zero is inactive, suspended CronJobs are inactive', () => {
    const template = { metadata: { labels: { app: 'x' } }, spec: { serviceAccountName: 'sa', nodeSelector: { 'kubernetes.io/os': 'windows' }, containers: [] } };
    expect(toDeployment({ metadata: { name: 'd', namespace: 'n' }, spec: { selector: {}, template } })).toMatchObject({ kind: 'Deployment', replicas: 1, active: true, serviceAccount: 'sa', nodeSelector: { 'kubernetes.io/os': 'windows' }, templateLabels: { app: 'x' } });
    expect(toDeployment({ metadata: { name: 'd' }, spec: { replicas: 0, selector: {}, template } })).toMatchObject({ replicas: 0, active: false });
    expect(toJob({ metadata: { name: 'j', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: '1', controller: true }] }, spec: { template }, status: { active: 1 } })).toMatchObject({ kind: 'Job', active: true, owner: { kind: 'CronJob', name: 'cj' } });
    expect(toJob({ metadata: { name: 'j' }, spec: { template }, status: { succeeded: 1 } })).toMatchObject({ active: false });
    expect(toCronJob({ metadata: { name: 'c' }, spec: { schedule: '* * * * *', suspend: true, jobTemplate: { spec: { template } } } })).toMatchObject({ kind: 'CronJob', active: false, serviceAccount: 'sa' });
  });

  it.each([
    [{ 'kubernetes.io/os': 'linux', 'eks.amazonaws.com/nodegroup': 'ng' }, { os: 'linux', computeType: 'ec2', nodegroup: 'ng' }],
    [{ 'kubernetes.io/os': 'windows' }, { os: 'windows', computeType: 'ec2', nodegroup: null }],
    [{ 'eks.amazonaws.com/compute-type': 'fargate' }, { os: 'linux', computeType: 'fargate', nodegroup: null }],
    [{ 'eks.amazonaws.com/compute-type': 'auto', 'kubernetes.io/os': 'linux' }, { os: 'linux', computeType: 'auto', nodegroup: null }],
  ])('node labels %j', (labels, expected) => {
    const node: V1Node = { metadata: { name: 'n1', labels } };
    expect(toNode(node)).toEqual({ name: 'n1', ...expected });
  });
});

describe('Kubernetes retries', () => {
  const apiError = (code: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${code}`), { code, headers, body: JSON.stringify({ message: `status ${code}` }) });

  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    let n = 0;
    const result = await withKubeRetry(
      async () => {
        n += 1;
        if (n === 1) throw apiError(429, { 'retry-after': '2' });
        if (n === 2) throw apiError(503);
        return 'ok';
      },
      5,
      async (ms) => void sleeps.push(ms),
    );
    expect(result).toBe('ok');
    expect(sleeps).toEqual([2000, 500]);
  });

  it('gives up after maxAttempts and does not retry 403', async () => {
    let n = 0;
    await expect(withKubeRetry(async () => { n += 1; throw apiError(500); }, 3, async () => undefined)).rejects.toThrow('HTTP 500');
    expect(n).toBe(3);
    n = 0;
    await expect(withKubeRetry(async () => { n += 1; throw apiError(403); }, 3, async () => undefined)).rejects.toThrow('HTTP 403');
    expect(n).toBe(1);
  });

  it('retries network failures (node-fetch FetchError / AbortError)', async () => {
    let n = 0;
    const value = await withKubeRetry(async () => {
      n += 1;
      if (n < 3) throw Object.assign(new Error('socket hang up'), { name: 'FetchError', code: 'ECONNRESET' });
      return n;
    }, 5, async () => undefined);
    expect(value).toBe(3);
    // Nothing listening (connection refused) is tried twice, like a server that never answers.
    let refused = 0;
    const err = await withKubeRetry(async () => {
      refused += 1;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { name: 'FetchError', code: 'ECONNREFUSED' });
    }, 5, async () => undefined).catch((e: unknown) => e);
    expect(refused).toBe(2);
    expect(describeKubeFailure(err)).toMatchObject({ network: true, refused: true });
    expect(describeKubeFailure(Object.assign(new Error('aborted'), { name: 'AbortError', type: 'aborted' })).network).toBe(true);
  });

  it('tries a server that never answers only twice, and says so plainly', async () => {
    let n = 0;
    const timeout = () => Object.assign(new Error('The user aborted a request.'), { name: 'AbortError', type: 'aborted' });
    await expect(withKubeRetry(async () => { n += 1; throw timeout(); }, 5, async () => undefined)).rejects.toThrow('aborted');
    expect(n).toBe(2);
    expect(describeKubeFailure(timeout())).toMatchObject({ timedOut: true, message: 'no answer before the request timeout' });
  });

  it('backoff doubles and is capped; Retry-After is capped too', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, undefined))).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffMs(1, 120_000)).toBe(8000);
  });

  it('reads the Status message of an API error', () => {
    expect(describeKubeFailure(apiError(403))).toMatchObject({ status: 403, message: 'status 403', network: false });
  });
});
