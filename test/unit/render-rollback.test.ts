/** render/rollback.ts: the review lists a rollback's changes in the order the rollback makes them. */
import { describe, expect, it } from 'vitest';
import type { RollbackPlan } from '../../src/core/rollback/plan.js';
import type { RollbackResult } from '../../src/core/rollback/result.js';
import { renderRollbackPlan, renderRollbackResult } from '../../src/render/rollback.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const ROLE = 'arn:aws:iam::111122223333:role/shop';
const doc = (n: number) => ({ Version: '2012-10-17', Statement: Array.from({ length: n }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' })) });

function plan(command: 'apply' | 'finalize'): RollbackPlan {
  return {
    target: { runId: 'r1', journal: '/j/r1.jsonl', startedAt: '2026-12-01T00:00:00.000Z', status: 'succeeded', command },
    clusters: [{ arn: PROD, name: 'prod', region: 'us-east-1', account: '111122223333', partition: 'aws', context: 'prod' }],
    associations: [], addons: [], agents: [], workloads: [], oidcProviders: [], subjects: [], adoptedFrom: [],
    trust: [{ roleArn: ROLE, previous: doc(2), written: doc(1) }],
    serviceAccounts: command === 'finalize' ? [{ cluster: PROD, namespace: 'shop', name: 'cart', uid: 'u', annotations: { 'eks.amazonaws.com/role-arn': ROLE } }] : [],
  } as RollbackPlan;
}

describe('renderRollbackPlan', () => {
  it('a finalize\'s rollback: trust policies back before the annotations, as it does them', () => {
    const text = renderRollbackPlan(plan('finalize'));
    expect(text.indexOf(`trust policy of ${ROLE}`)).toBeGreaterThan(0);
    expect(text.indexOf(`trust policy of ${ROLE}`)).toBeLessThan(text.indexOf('ServiceAccount shop/cart on prod: restore'));
    expect(text).not.toContain('after its ServiceAccounts are verified on IRSA');
  });

  it('an apply\'s rollback: trust last, after its ServiceAccounts are verified', () => {
    expect(renderRollbackPlan(plan('apply'))).toMatch(/trust policy of \S+: back to the document journaled before the run \(after its ServiceAccounts are verified on IRSA\)/);
  });
});

describe('renderRollbackResult: what is undone', () => {
  const result = (status: 'succeeded' | 'interrupted' | 'partial' | 'refused'): RollbackResult => ({
    kind: 'podid-rollback-result', schemaVersion: 1, runId: 'rb1', rollbackOf: 'r1', journal: '/j/rb1.jsonl', startedAt: 's', finishedAt: 'f', status, exitCode: status === 'succeeded' ? 0 : status === 'interrupted' ? 130 : status === 'partial' ? 5 : 4, clusters: [PROD],
    steps: [], serviceAccounts: [],
    summary: { restored: 1, needsRestart: 0, drifted: 0, failed: 0, skipped: 1, refusedSteps: 0, mutatingCalls: 3, undone: { oidcProviders: 0, trustPolicies: 0, annotations: 0, associations: 2, addons: 0, workloads: 1, agents: 0 } },
  }) as RollbackResult;

  it('a rollback that finished says the world is back as before', () => {
    expect(renderRollbackResult(result('succeeded'))).toContain('\nBack as before: associations of 2 ServiceAccounts removed, 1 workload restarted back.\n');
  });

  it('one that did not finish (interrupted, partial, refused) does not claim it: it says what is undone so far', () => {
    for (const status of ['interrupted', 'partial', 'refused'] as const) {
      const text = renderRollbackResult(result(status));
      expect(text).not.toContain('Back as before');
      expect(text).toContain('\nUndone so far: associations of 2 ServiceAccounts removed, 1 workload restarted back.\n');
    }
  });
});
