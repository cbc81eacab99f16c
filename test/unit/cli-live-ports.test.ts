import { describe, expect, it } from 'vitest';
import { livePortOptions } from '../../src/cli/live-ports.js';

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
    expect(livePortOptions({ region: 'eu-west-1', profile: 'ops', kubeconfig: '/k' }, 'us-east-1')).toEqual({ profile: 'ops', region: 'eu-west-1', kubeconfig: '/k', requestTimeoutMs: 30_000 });
    expect(livePortOptions({}, 'us-east-1').region).toBe('us-east-1');
  });
});
