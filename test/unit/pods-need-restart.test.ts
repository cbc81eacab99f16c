import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import { FINDINGS } from '../../src/core/scan/findings.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import { ACCOUNT, PROD, baseFleet, foundRole, irsaStatement, pod, podIdentityStatementJson, policy, prod, roleArn, workload } from './analyze-snapshot.js';

const NOW = new Date('2025-06-01T12:00:00Z');

/**
 * The shop/cart fixture (a Deployment's pods on IRSA) with its association and a trust that
 * admits Pod Identity (without it the fix says to add the trust first: analyze.test.ts), after
 * `mutate`.
 */
function restartFix(mutate: (s: FleetSnapshot) => void): string {
  const s = baseFleet();
  s.roles[roleArn('cart')] = foundRole(roleArn('cart'), policy(irsaStatement('system:serviceaccount:shop:cart'), podIdentityStatementJson([PROD])));
  prod(s).associations.push({
    associationId: 'a-123', associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/a-123`, namespace: 'shop', serviceAccount: 'cart', roleArn: roleArn('cart'), targetRoleArn: null, ownerArn: null,
  });
  mutate(s);
  const sa = analyzeFleet(s, { now: NOW }).serviceAccounts.find((r) => r.namespace === 'shop' && r.name === 'cart');
  const f = sa?.findings.find((x) => x.code === 'PODS_NEED_RESTART');
  if (f === undefined) throw new Error(`no PODS_NEED_RESTART on shop/cart: ${sa?.findings.map((x) => x.code).join(', ')}`);
  return f.fix;
}

const shopPods = (s: FleetSnapshot) => prod(s).kube.pods.filter((p) => p.namespace === 'shop');

describe('PODS_NEED_RESTART: the fix fits the controllers of the pods still on IRSA', () => {
  it("a Deployment's pods: kubectl rollout restart (the catalogue's fix)", () => {
    expect(restartFix(() => {})).toBe(FINDINGS.PODS_NEED_RESTART.fix);
    expect(FINDINGS.PODS_NEED_RESTART.fix).toContain('kubectl rollout restart');
  });

  it('a bare Pod: delete and recreate it, never rollout restart', () => {
    const fix = restartFix((s) => {
      const c = prod(s);
      c.kube.pods = c.kube.pods.filter((p) => p.namespace !== 'shop');
      c.kube.pods.push(pod('shop', 'toolbox', 'cart', 'irsa'));
    });
    expect(fix).toBe('delete and recreate Pod toolbox (no controller restarts it), so that new pods get Pod Identity credentials');
    expect(fix).not.toContain('rollout restart');
  });

  it("a Job's pod, another controller's, a bare Pod and a Deployment's: each its own advice; pods on Pod Identity or finished are left out", () => {
    let rs = '';
    const fix = restartFix((s) => {
      const c = prod(s);
      const [first, ...rest] = shopPods(s);
      rs = first?.name ?? '';
      rest.forEach((p) => (p.identity = 'pod-identity'));
      c.kube.pods.push(
        pod('shop', 'load-x', 'cart', 'irsa', { owner: { kind: 'Job', name: 'load' } }),
        pod('shop', 'c-1', 'cart', 'none', { owner: { kind: 'Rollout', name: 'c' } }),
        pod('shop', 'debug', 'cart', 'irsa'),
        pod('shop', 'done', 'cart', 'irsa', { phase: 'Succeeded' }),
      );
      expect(first?.owner?.kind).toBe('ReplicaSet');
    });
    expect(fix).toBe(
      `restart the workloads of ${rs} (kubectl rollout restart; podid migrate plans the restarts); delete and recreate Pod debug (no controller restarts it); let the Job of load-x finish, or delete and re-run it; restart c-1 through its controller (Rollout/c), so that new pods get Pod Identity credentials`,
    );
  });
  it('a bare ReplicaSet\'s pods (its ReplicaSet has no Deployment): delete the pods, never rollout restart', () => {
    const fix = restartFix((s) => {
      const c = prod(s);
      c.kube.pods = c.kube.pods.filter((p) => p.namespace !== 'shop');
      c.kube.workloads.push(workload('ReplicaSet', 'shop', 'cart-bare', 'cart', { owner: null }));
      c.kube.pods.push(pod('shop', 'cart-bare-b', 'cart', 'irsa', { owner: { kind: 'ReplicaSet', name: 'cart-bare' } }), pod('shop', 'cart-bare-a', 'cart', 'irsa', { owner: { kind: 'ReplicaSet', name: 'cart-bare' } }));
    });
    expect(fix).toBe('delete Pods cart-bare-a, cart-bare-b (ReplicaSet/cart-bare, which no Deployment owns, recreates them), so that new pods get Pod Identity credentials');
    expect(fix).not.toContain('rollout restart');
  });

  it("an Argo Rollout's ReplicaSet: restart through the Rollout, not kubectl rollout restart", () => {
    const fix = restartFix((s) => {
      const c = prod(s);
      c.kube.pods = c.kube.pods.filter((p) => p.namespace !== 'shop');
      c.kube.workloads.push(workload('ReplicaSet', 'shop', 'cart-ro-5f', 'cart', { owner: { kind: 'Rollout', name: 'cart-ro' } }));
      c.kube.pods.push(pod('shop', 'cart-ro-5f-x', 'cart', 'irsa', { owner: { kind: 'ReplicaSet', name: 'cart-ro-5f' } }));
    });
    expect(fix).toBe('restart cart-ro-5f-x through its controller (Rollout/cart-ro), so that new pods get Pod Identity credentials');
  });
});

