import { describe, expect, it } from 'vitest';
import { livePortOptions } from '../../src/cli/live-ports.js';
import type { EksPort } from '../../src/core/ports.js';
import { describeContextClusters } from '../../src/core/scan/collect.js';

describe('livePortOptions: the ports options of migrate --apply, rollback and finalize', () => {
  it('keeps --request-timeout 0 as 0 (no timeout; an exec plugin then gets the 60 s ceiling), never a huge number', () => {
    expect(livePortOptions({ requestTimeout: '0' }, undefined).requestTimeoutMs).toBe(0);
  });

  it("reads --request-timeout as kubectl does, 30 s when absent", () => {
    expect(livePortOptions({ requestTimeout: '45s' }, undefined).requestTimeoutMs).toBe(45_000);
    expect(livePortOptions({ requestTimeout: '2' }, undefined).requestTimeoutMs).toBe(2_000);
    expect(livePortOptions({}, undefined).requestTimeoutMs).toBe(30_000);
  });

  it('refuses a bad --request-timeout as a usage error naming the flag', () => {
    expect(() => livePortOptions({ requestTimeout: 'soon' }, undefined)).toThrow(/--request-timeout soon/);
  });

  it('takes --region over the plan\'s first cluster\'s region, and passes --profile and --kubeconfig', () => {
    expect(livePortOptions({ region: 'eu-west-1', profile: 'ops', kubeconfig: '/k' }, 'us-east-1')).toEqual({ profile: 'ops', region: 'eu-west-1', kubeconfig: '/k', requestTimeoutMs: 30_000, concurrency: 8 });
    expect(livePortOptions({}, 'us-east-1').region).toBe('us-east-1');
  });
});

describe('livePortOptions: --concurrency', () => {
  it('reads --concurrency (8 when absent) and refuses a bad one naming the flag', () => {
    expect(livePortOptions({ concurrency: '3' }, undefined).concurrency).toBe(3);
    expect(livePortOptions({}, undefined).concurrency).toBe(8);
    expect(() => livePortOptions({ concurrency: '0' }, undefined)).toThrow(/--concurrency 0/);
  });
});

describe('describeContextClusters: the contexts check of migrate --apply and rollback --apply', () => {
  const targets = Array.from({ length: 7 }, (_, i) => ({ context: `ctx-${i}`, server: `https://c${i}.eks.example`, clusterName: `c${i}`, region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1' }));
  /** An EKS port whose DescribeCluster stays in flight until released, recording the peak. */
  function eksPorts(endpointOf: (name: string) => string = (name) => `https://${name}.eks.example`) {
    let inFlight = 0;
    let peak = 0;
    const waiting: (() => void)[] = [];
    const eks = (): EksPort =>
      ({
        describeCluster: async (name: string) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise<void>((r) => waiting.push(r));
          inFlight--;
          return { name, arn: `arn:aws:eks:eu-west-1:111122223333:cluster/${name}`, version: '1.31', platformVersion: 'eks.1', status: 'ACTIVE', endpoint: endpointOf(name), oidcIssuer: null, autoMode: false };
        },
      }) as unknown as EksPort;
    const releaseAll = async () => {
      do {
        waiting.splice(0).forEach((r) => r());
        await new Promise((r) => setImmediate(r));
      } while (waiting.length > 0 || inFlight > 0);
    };
    return { eks, releaseAll, peak: () => peak };
  }

  it('has at most --concurrency DescribeCluster calls in flight at once, across regions', async () => {
    const p = eksPorts();
    const done = describeContextClusters(targets, p.eks, 3, 'applying the plan would mix two clusters', () => 'hint');
    await new Promise((r) => setImmediate(r));
    expect(p.peak()).toBe(3);
    await p.releaseAll();
    await done;
    expect(p.peak()).toBe(3);
  });

  it('refuses a context that points at another cluster (CONTEXT_ENDPOINT_MISMATCH, with the hint for that cluster)', async () => {
    const p = eksPorts((name) => (name === 'c4' ? 'https://elsewhere.example' : `https://${name}.eks.example`));
    const done = describeContextClusters(targets, p.eks, 2, 'rolling back would mix two clusters', (t) => `fix ${t.clusterName}`);
    const outcome = expect(done).rejects.toMatchObject({ code: 'CONTEXT_ENDPOINT_MISMATCH', hint: 'fix c4' });
    await p.releaseAll();
    await outcome;
  });
});
