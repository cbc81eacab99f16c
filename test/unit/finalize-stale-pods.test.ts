import { describe, expect, it } from 'vitest';
import { stalePodsRefusal } from '../../src/core/finalize/plan.js';
import { withReplicaSetOwners } from '../../src/core/restart-advice.js';

const pod = (name: string, owner: { kind: string; name: string } | null, identity = 'irsa') => ({ name, identity, owner });

describe('stalePodsRefusal: what to do fits each pod\'s controller', () => {
  it('a bare Pod: delete and recreate it (kubectl rollout restart cannot restart it)', () => {
    const reason = stalePodsRefusal([pod('toolbox', null)]);
    expect(reason).toBe('1 running pod still uses IRSA credentials (toolbox): delete and recreate Pod toolbox (no controller restarts it), then finalize');
    expect(reason).not.toContain('rollout restart');
  });

  it('pods of Deployments, StatefulSets and DaemonSets: kubectl rollout restart', () => {
    expect(stalePodsRefusal([pod('cart-7d9-b', { kind: 'ReplicaSet', name: 'cart-7d9' }), pod('cart-7d9-a', { kind: 'ReplicaSet', name: 'cart-7d9' })])).toBe(
      '2 running pods still use IRSA credentials (cart-7d9-a, cart-7d9-b): restart their workloads (kubectl rollout restart), then finalize',
    );
  });

  it('a mix: each group its own advice; a Job\'s pod, another controller\'s; no credentials at all', () => {
    expect(stalePodsRefusal([pod('web-0', { kind: 'StatefulSet', name: 'web' }), pod('a', null), pod('b', null), pod('load-x', { kind: 'Job', name: 'load' }), pod('c-1', { kind: 'Rollout', name: 'c' }, 'none')])).toBe(
      '5 running pods still use IRSA credentials (a, b, c-1, load-x, web-0): restart the workloads of web-0 (kubectl rollout restart); delete and recreate Pods a, b (no controller restarts them); let the Job of load-x finish, or delete and re-run it; restart c-1 through its controller (Rollout/c), then finalize',
    );
    expect(stalePodsRefusal([pod('x', null, 'none')])).toBe('1 running pod still uses no credentials (x): delete and recreate Pod x (no controller restarts it), then finalize');
  });
  it("a bare ReplicaSet's pod (no Deployment owns the ReplicaSet, as the scan read it): delete the pod, the ReplicaSet recreates it", () => {
    const workloads = [
      { kind: 'ReplicaSet', namespace: 'shop', name: 'cart-7d9', owner: { kind: 'Deployment', name: 'cart' } },
      { kind: 'ReplicaSet', namespace: 'shop', name: 'worker', owner: null },
      { kind: 'ReplicaSet', namespace: 'other', name: 'cart-7d9', owner: null },
    ];
    const pods = withReplicaSetOwners([{ ...pod('worker-x', { kind: 'ReplicaSet', name: 'worker' }), namespace: 'shop' }, { ...pod('cart-7d9-a', { kind: 'ReplicaSet', name: 'cart-7d9' }), namespace: 'shop' }], workloads);
    const reason = stalePodsRefusal(pods);
    expect(reason).toBe('2 running pods still use IRSA credentials (cart-7d9-a, worker-x): restart the workloads of cart-7d9-a (kubectl rollout restart); delete Pod worker-x (ReplicaSet/worker, which no Deployment owns, recreates it), then finalize');
    expect(stalePodsRefusal(pods.slice(0, 1))).not.toContain('rollout restart');
  });
});
