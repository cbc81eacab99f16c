import { describe, expect, it } from 'vitest';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, linkRuns, summarizeJournal, type FinalizeRunRecord, type JournalRecord, type RunRecord } from '../../src/core/apply/journal.js';
import { isEmptyRollback, kubeClusters, planRollback } from '../../src/core/rollback/plan.js';
import { FakeWorld, PROD, roleArn } from './fixtures/apply-fake.js';

function applyJournal(sent: { trust?: boolean; cart?: boolean; orders?: boolean; restartCart?: boolean }): JournalRecord[] {
  const world = new FakeWorld();
  world.addRole('shop', ['shop:cart', 'shop:orders']);
  world.addWorkload('shop', 'cart', 'cart', 2);
  world.addWorkload('shop', 'orders', 'orders', 1);
  const plan = world.plan([{ namespace: 'shop', sa: 'cart', role: 'shop', workload: 'cart' }, { namespace: 'shop', sa: 'orders', role: 'shop', workload: 'orders' }]);
  const trust = plan.steps.find((s) => s.kind === 'update-trust');
  if (trust?.kind !== 'update-trust') throw new Error('no trust step');
  const run: RunRecord = {
    kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId: 'r1', startedAt: '2026-12-01T00:00:00.000Z', toolVersion: 't', clusters: [PROD], planSource: null,
    options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1000, concurrency: 1, failFast: false, restart: true },
    plan,
    previous: {
      roles: [{ roleArn: roleArn('shop'), trustPolicy: trust.before }],
      associations: [
        { cluster: PROD, namespace: 'shop', serviceAccount: 'cart', existing: [] },
        { cluster: PROD, namespace: 'shop', serviceAccount: 'orders', existing: [] },
      ],
      addons: [],
      workloads: [{ cluster: PROD, kind: 'Deployment', namespace: 'shop', name: 'cart', uid: 'u1', restartedAt: null }],
    },
  };
  const at = '2026-12-01T00:00:01.000Z';
  const records: JournalRecord[] = [run];
  if (sent.trust) records.push({ record: 'intent', at, stepId: trust.id, action: 'update-trust', target: roleArn('shop'), request: { before: trust.before, after: trust.after } });
  if (sent.cart) {
    records.push({ record: 'intent', at, stepId: `assoc:${PROD}/shop/cart`, action: 'create-association', target: 'shop/cart', request: {} });
    records.push({ record: 'step', at, stepId: `assoc:${PROD}/shop/cart`, action: 'create-association', target: 'shop/cart', status: 'done', message: '', result: { association: { associationId: 'a-1', roleArn: roleArn('shop') } } });
  }
  if (sent.orders) records.push({ record: 'intent', at, stepId: `assoc:${PROD}/shop/orders`, action: 'create-association', target: 'shop/orders', request: {} });
  if (sent.restartCart) records.push({ record: 'intent', at, stepId: `restart:${PROD}/1#Deployment/shop/cart`, action: 'restart', target: 'Deployment/shop/cart', request: { restartedAt: '2026-12-01T00:00:02Z', previousRestartedAt: null } });
  return records;
}

describe('planRollback', () => {
  it('undoes only what the run may have sent: steps with an intent record', () => {
    const plan = planRollback('/j/r1.jsonl', applyJournal({ trust: true, cart: true }));
    expect(plan.target).toMatchObject({ runId: 'r1', command: 'apply', status: 'unfinished' });
    expect(plan.trust.map((t) => t.roleArn)).toEqual([roleArn('shop')]);
    expect(plan.associations).toEqual([{ cluster: PROD, namespace: 'shop', serviceAccount: 'cart', roleArn: roleArn('shop'), targetRoleArn: null, createdIds: ['a-1'], preexistingIds: [] }]);
    expect(plan.workloads).toEqual([]);
    // Every SA of the plan is verified back on IRSA, sent or not (it shares the role).
    expect(plan.subjects.map((s) => s.serviceAccount)).toEqual(['cart', 'orders']);
  });

  it('keeps an association whose create was sent but not answered (no id journaled), and restores restartedAt to its previous value', () => {
    const plan = planRollback('/j/r1.jsonl', applyJournal({ trust: true, cart: true, orders: true, restartCart: true }));
    expect(plan.associations.find((a) => a.serviceAccount === 'orders')).toMatchObject({ createdIds: [], roleArn: roleArn('shop') });
    expect(plan.workloads).toEqual([{ cluster: PROD, kind: 'Deployment', namespace: 'shop', name: 'cart', uid: 'u1', previousRestartedAt: null, writtenRestartedAt: '2026-12-01T00:00:02Z', serviceAccounts: ['cart'] }]);
  });

  it('names the clusters whose Kubernetes API the rollback uses (checked against the kubeconfig first): those with ServiceAccounts or workloads to restore or verify', () => {
    expect(kubeClusters(planRollback('j', applyJournal({ trust: true, cart: true }))).map((c) => c.arn)).toEqual([PROD]);
    expect(kubeClusters(planRollback('j', applyJournal({})))).toEqual([]);
  });

  it('has nothing to undo for a run that sent nothing, and refuses to roll back a rollback', () => {
    const plan = planRollback('/j/r1.jsonl', applyJournal({}));
    expect(plan.trust.length + plan.associations.length + plan.workloads.length).toBe(0);
    const rollback: JournalRecord[] = [{ kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'rollback', runId: 'r2', startedAt: '', toolVersion: '', clusters: [], rollbackOf: 'r1', rollbackOfJournal: '', options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1, concurrency: 1 } }];
    expect(() => planRollback('/j/r2.jsonl', rollback)).toThrow(/itself a rollback/);
  });
});

describe('planRollback of a finalize', () => {
  const provider = { arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.example/id/X', url: 'https://oidc.example/id/X', clientIds: ['sts.amazonaws.com'], thumbprints: ['0123456789abcdef0123456789abcdef01234567'], tags: [{ key: 'team', value: 'platform' }] };
  const run = (): FinalizeRunRecord => ({
    kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'finalize', runId: 'f1', startedAt: '2026-12-01T00:00:00.000Z', toolVersion: 't',
    clusters: [PROD], contexts: { [PROD]: PROD }, plan: {}, previous: { serviceAccounts: [], roles: [], oidcProviders: [{ cluster: PROD, ...provider }] },
  });
  const at = '2026-12-01T00:00:01.000Z';

  it('creates again each OIDC provider the run sent a deletion for, with what the intent journaled', () => {
    const intent: JournalRecord = { record: 'intent', at, stepId: `oidc-provider:${provider.arn}`, action: 'delete-oidc-provider', target: provider.arn, request: { provider: { cluster: PROD, ...provider, clientIds: ['sts.amazonaws.com', 'b'] } } };
    const plan = planRollback('/j/f1.jsonl', [run(), intent]);
    expect(plan.oidcProviders).toEqual([{ cluster: PROD, ...provider, clientIds: ['sts.amazonaws.com', 'b'] }]);
    expect(isEmptyRollback(plan)).toBe(false);
  });

  it('falls back to the run record\'s previous state, and undoes nothing the run never sent', () => {
    const bare: JournalRecord = { record: 'intent', at, stepId: 'x', action: 'delete-oidc-provider', target: provider.arn, request: {} };
    expect(planRollback('/j/f1.jsonl', [run(), bare]).oidcProviders).toEqual([{ cluster: PROD, ...provider }]);
    const none = planRollback('/j/f1.jsonl', [run()]);
    expect(none.oidcProviders).toEqual([]);
    expect(isEmptyRollback(none)).toBe(true);
  });
});

describe('summarizeJournal and linkRuns', () => {
  it('counts outcomes and changes, says unfinished without a finished record, and links rollbacks to their runs', () => {
    const records = applyJournal({ trust: true, cart: true });
    records.push({ record: 'outcome', at: '', cluster: PROD, namespace: 'shop', serviceAccount: 'cart', outcome: 'migrated', reason: '' });
    const apply = summarizeJournal('/j/r1.jsonl', records)!;
    expect(apply).toMatchObject({ runId: 'r1', command: 'apply', status: 'unfinished', exitCode: null, outcomes: { migrated: 1 }, changes: 2, rollbackOf: null });
    const rb = summarizeJournal('/j/r2.jsonl', [
      { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'rollback', runId: 'r2', startedAt: '2026-12-02T00:00:00.000Z', toolVersion: '', clusters: [PROD], rollbackOf: 'r1', rollbackOfJournal: '/j/r1.jsonl', options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1, concurrency: 1 } },
      { record: 'finished', at: '2026-12-02T00:00:05.000Z', status: 'succeeded', exitCode: 0, summary: {} },
    ])!;
    const linked = linkRuns([apply, rb]);
    expect(linked.map((r) => r.runId)).toEqual(['r2', 'r1']);
    expect(linked[1]!.rolledBackBy).toEqual(['r2']);
    expect(linked[0]).toMatchObject({ status: 'succeeded', rollbackOf: 'r1' });
    expect(summarizeJournal('/j/x.jsonl', [])).toBeNull();
  });
});
