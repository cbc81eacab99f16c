/**
 * toPod over the shared values the list reader gives pods (POD_SHARED): what it makes from a
 * shared (frozen) labels, owner or containers value is remembered by that value, and must be
 * exactly what it makes from unshared copies; a pod's init containers are never ignored.
 */
import { describe, expect, it } from 'vitest';
import { parseKept, compileKeep, shareKept, type KeepPlan } from '../../src/adapters/json-keep.js';
import { POD_KEEP, POD_SHARED, toPod } from '../../src/adapters/kube-map.js';

const env = (pairs: Record<string, string>) => Object.entries(pairs).map(([name, value]) => ({ name, value }));
const WIN_TOKEN = 'C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token';
const IRSA = { AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/r', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' };

function pod(name: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name, namespace: 'team', labels: { app: 'svc' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'svc-1', controller: true }] },
    spec: { serviceAccountName: 'svc', nodeName: 'n1', containers: [{ name: 'app', env: env(IRSA) }], ...extra },
    status: { phase: 'Running' },
  };
}

function sharedPlan(): KeepPlan {
  const base = compileKeep({ items: POD_KEEP }) as KeepPlan;
  const children = base.children.map((c) => shareKept(c!, POD_SHARED));
  return { ...base, children, byName: new Map(base.names.map((n, i) => [n, children[i]!])) };
}

describe('toPod over shared values', () => {
  it('maps shared and unshared copies of the same pods alike', () => {
    const pods = [
      pod('svc-1-a'),
      pod('svc-1-b'),
      // Same containers, but an init container that gets Pod Identity: the pod is Pod Identity.
      pod('svc-1-c', { initContainers: [{ name: 'init', env: env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials' }) }] }),
      pod('svc-1-d'),
      pod('svc-1-e', { containers: [{ name: 'app', env: env({ AWS_WEB_IDENTITY_TOKEN_FILE: '/custom/token', AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/r' }) }] }),
      pod('svc-1-f', { containers: [{ name: 'app' }] }),
      // Windows, as the webhook tells it (nodeSelector, either label): its token path is a Windows one.
      pod('svc-1-g', { nodeSelector: { 'kubernetes.io/os': 'windows' }, containers: [{ name: 'app', env: env({ ...IRSA, AWS_WEB_IDENTITY_TOKEN_FILE: WIN_TOKEN }) }] }),
      pod('svc-1-h', { nodeSelector: { 'beta.kubernetes.io/os': 'windows' }, containers: [{ name: 'app', env: env({ ...IRSA, AWS_WEB_IDENTITY_TOKEN_FILE: WIN_TOKEN }) }] }),
      pod('svc-1-i', { nodeSelector: { 'kubernetes.io/os': 'linux' } }),
    ];
    const text = Buffer.from(JSON.stringify({ items: pods }));
    const shared = (parseKept(text, sharedPlan()) as { items: never[] }).items.map(toPod);
    // Twice: the second time every shared value is remembered already.
    const again = (parseKept(text, sharedPlan()) as { items: never[] }).items.map(toPod);
    const plain = (parseKept(text, { items: POD_KEEP }) as { items: never[] }).items.map(toPod);
    expect(shared).toStrictEqual(plain);
    expect(again).toStrictEqual(plain);
    expect(plain.map((p) => p.identity)).toEqual(['irsa', 'irsa', 'pod-identity', 'irsa', 'irsa', 'none', 'irsa', 'irsa', 'irsa']);
    expect(plain.map((p) => p.windowsNodeSelector ?? false)).toEqual([false, false, false, false, false, false, true, true, false]);
    expect(plain[4]!.tokenFiles).toEqual([{ container: 'app', path: '/custom/token' }]);
    expect(shared[0]!.owner).toBe(shared[1]!.owner);
  });
});
