/** render/rollback.ts: the review lists a rollback's changes in the order the rollback makes them. */
import { describe, expect, it } from 'vitest';
import type { RollbackPlan } from '../../src/core/rollback/plan.js';
import { renderRollbackPlan } from '../../src/render/rollback.js';

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
