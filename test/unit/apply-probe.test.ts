import { describe, expect, it } from 'vitest';
import { isSessionOf, parseCallerIdentity, probePodName, runProbe } from '../../src/core/apply/probe.js';
import type { Clock, KubeApplyPort, PodRun } from '../../src/core/apply/ports.js';

const ROLE = 'arn:aws:iam::111122223333:role/team/cart';

describe('the verification probe', () => {
  it('parses the CLI answer and matches sessions of the role by partition, account and name (not path)', () => {
    const log = '{\n    "UserId": "AROAX:s",\n    "Account": "111122223333",\n    "Arn": "arn:aws:sts::111122223333:assumed-role/cart/eks-prod-x"\n}\n';
    expect(parseCallerIdentity(log)).toEqual({ arn: 'arn:aws:sts::111122223333:assumed-role/cart/eks-prod-x', account: '111122223333' });
    expect(parseCallerIdentity('\nUnable to locate credentials.\n')).toBeNull();
    expect(isSessionOf('arn:aws:sts::111122223333:assumed-role/cart/s', ROLE)).toBe(true);
    expect(isSessionOf('arn:aws:sts::444455556666:assumed-role/cart/s', ROLE)).toBe(false);
    expect(isSessionOf('arn:aws:sts::111122223333:assumed-role/cart2/s', ROLE)).toBe(false);
    expect(isSessionOf('arn:aws-cn:sts::111122223333:assumed-role/cart/s', ROLE)).toBe(false);
    expect(isSessionOf('arn:aws:iam::111122223333:user/cart', ROLE)).toBe(false);
  });

  it('names the pod within a DNS label', () => {
    expect(probePodName('cart', () => 'abcde')).toBe('podid-verify-cart-abcde');
    expect(probePodName('A_very-long-service-account-name-that-goes-on-and-on-forever-x', () => 'abcde').length).toBeLessThanOrEqual(63);
  });

  it('deletes the pod also when it never finishes, and says why it failed', async () => {
    let t = 0;
    const clock: Clock = { now: () => t, sleep: async (ms) => { t += ms; } };
    const calls: string[] = [];
    const kube = {
      createPod: async (_ns: string, m: { metadata?: unknown }) => { calls.push(`create ${JSON.stringify(m.metadata)}`); },
      getPodRun: async (): Promise<PodRun> => ({ phase: 'Pending', exitCode: null, waitingReason: 'ImagePullBackOff' }),
      readPodLog: async () => '',
      deletePod: async (ns: string, name: string) => { calls.push(`delete ${ns}/${name}`); },
    } as unknown as KubeApplyPort;
    const out = await runProbe({ kube, clock, namespace: 'shop', serviceAccount: 'cart', image: 'amazon/aws-cli', expectedRoleArn: ROLE, timeoutMs: 3000, pollMs: 500, name: 'podid-verify-cart-aaaaa' });
    expect(out).toMatchObject({ ok: false, pod: 'podid-verify-cart-aaaaa', arn: null });
    expect(out.message).toContain('did not finish within 3s (phase Pending, ImagePullBackOff)');
    expect(calls[0]).toContain('"app.kubernetes.io/managed-by":"podid"');
    expect(calls.at(-1)).toBe('delete shop/podid-verify-cart-aaaaa');
  });

  it('reports a session of another role as a mismatch', async () => {
    const clock: Clock = { now: () => 0, sleep: async () => undefined };
    const deleted: string[] = [];
    const kube = {
      createPod: async () => undefined,
      getPodRun: async (): Promise<PodRun> => ({ phase: 'Succeeded', exitCode: 0, waitingReason: null }),
      readPodLog: async () => '{"Account":"111122223333","Arn":"arn:aws:sts::111122223333:assumed-role/node/i-0abc"}',
      deletePod: async (_ns: string, name: string) => { deleted.push(name); },
    } as unknown as KubeApplyPort;
    const out = await runProbe({ kube, clock, namespace: 'shop', serviceAccount: 'cart', image: 'i', expectedRoleArn: ROLE, timeoutMs: 1000, pollMs: 100, name: 'p' });
    expect(out).toMatchObject({ ok: false, arn: 'arn:aws:sts::111122223333:assumed-role/node/i-0abc' });
    expect(out.message).toContain(`not a session of ${ROLE}`);
    expect(deleted).toEqual(['p']);
  });
});
