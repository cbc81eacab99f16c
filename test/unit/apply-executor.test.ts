/** The apply executor against an in-memory world with a fake clock (no real sleeping). */
import { describe, expect, it } from 'vitest';
import { ApplyExecutor, type ExecutorOptions } from '../../src/core/apply/executor.js';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, type JournalRecord, type RunRecord, type StepRecord } from '../../src/core/apply/journal.js';
import { fingerprintAgent, fingerprintRestartBatch } from '../../src/core/plan/fingerprint.js';
import { planRollback } from '../../src/core/rollback/plan.js';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import { FakeWorld, MemoryJournal, PROD, roleArn } from './fixtures/apply-fake.js';

const OPTS: ExecutorOptions = { propagationWaitMs: 15_000, maxConcurrentRollouts: 5, rolloutTimeoutMs: 60_000, concurrency: 4, failFast: false, restart: true, pollMs: 500, settleTimeoutMs: 60_000 };

function world(): FakeWorld {
  const w = new FakeWorld();
  w.addRole('shop', ['system:serviceaccount:shop:cart', 'system:serviceaccount:shop:orders']);
  w.addRole('billing', ['system:serviceaccount:billing:invoices']);
  w.addWorkload('shop', 'cart', 'cart', 2);
  w.addWorkload('shop', 'orders', 'orders', 1);
  w.addWorkload('billing', 'invoices', 'invoices', 1);
  return w;
}

const SAS = [
  { namespace: 'shop', sa: 'cart', role: 'shop', workload: 'cart' },
  { namespace: 'shop', sa: 'orders', role: 'shop', workload: 'orders' },
  { namespace: 'billing', sa: 'invoices', role: 'billing', workload: 'invoices' },
];

async function run(w: FakeWorld, plan: MigrationPlan, opts: Partial<ExecutorOptions> = {}, signal = new AbortController().signal) {
  const journal = new MemoryJournal();
  const ex = new ApplyExecutor(plan, { ...OPTS, ...opts }, { ports: w.ports(), clock: w.clock, random: () => 0.5, retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 }, signal, runId: 'run-1', openJournal: journal.open(w) });
  const result = await ex.run('2026-12-01T00:00:00.000Z');
  const outcome = Object.fromEntries(result.serviceAccounts.map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]));
  return { result, journal, outcome };
}

const mutations = (w: FakeWorld) => w.log.filter((l) => !l.startsWith('GetRole'));

describe('ApplyExecutor', () => {
  it('migrates every SA: one trust write per role, trust before association before restart, journal before any mutation', async () => {
    const w = world();
    const { result, journal, outcome } = await run(w, w.plan(SAS));
    expect(outcome).toEqual({ 'billing/invoices': 'migrated', 'shop/cart': 'migrated', 'shop/orders': 'migrated' });
    expect(result.exitCode).toBe(0);
    const m = mutations(w);
    expect(m.filter((l) => l.startsWith('UpdateAssumeRolePolicy'))).toEqual([`UpdateAssumeRolePolicy ${roleArn('billing')}`, `UpdateAssumeRolePolicy ${roleArn('shop')}`]);
    expect(m.indexOf(`UpdateAssumeRolePolicy ${roleArn('shop')}`)).toBeLessThan(m.indexOf('CreatePodIdentityAssociation shop/cart'));
    expect(m.indexOf('CreatePodIdentityAssociation shop/cart')).toBeLessThan(m.indexOf('Restart shop/cart'));
    // The journal was opened, with the previous trust of every role, before the first mutation.
    const firstMutation = w.log.findIndex((l) => !l.startsWith('GetRole'));
    expect(journal.openedAtLog).toBeLessThanOrEqual(firstMutation);
    expect(journal.previous?.roles.map((r) => r.roleArn)).toEqual([roleArn('billing'), roleArn('shop')]);
    expect(JSON.stringify(journal.previous?.roles[1]?.trustPolicy)).not.toContain('pods.eks.amazonaws.com');
    expect(journal.records.at(-1)).toMatchObject({ record: 'finished', status: 'succeeded', exitCode: 0 });
  });

  it('waits --propagation-wait after the association before restarting (fake clock)', async () => {
    const w = world();
    const started = w.clock.now();
    const { journal } = await run(w, w.plan(SAS.slice(0, 1)));
    const intents = journal.records.filter((r): r is { record: 'intent'; action: string; at: string } => (r as { record: string }).record === 'intent');
    const assocAt = Date.parse(intents.find((r) => r.action === 'create-association')!.at);
    const restartAt = Date.parse(intents.find((r) => r.action === 'restart')!.at);
    expect(restartAt - assocAt).toBeGreaterThanOrEqual(15_000);
    expect(assocAt - started).toBeLessThan(15_000);
  });

  it('never creates an association for a role whose trust update failed; the other role goes on; exit 5', async () => {
    const w = world();
    w.faults.set('UpdateAssumeRolePolicy', { kind: 'denied', times: 1 });
    const { result, outcome } = await run(w, w.plan(SAS));
    // Roles are written in ARN order: billing first, and it is the one denied.
    expect(outcome).toEqual({ 'billing/invoices': 'failed', 'shop/cart': 'migrated', 'shop/orders': 'migrated' });
    expect(mutations(w).some((l) => l.includes('billing/invoices'))).toBe(false);
    expect(result.serviceAccounts.find((s) => s.serviceAccount === 'invoices')?.reason).toContain('injected denied');
    expect(result.exitCode).toBe(5);
  });

  it('refuses a step whose inputs changed (drift), touches nothing of that role, exit 4', async () => {
    const w = world();
    const plan = w.plan(SAS);
    w.trust.set(roleArn('shop'), { Version: '2012-10-17', Statement: [] });
    const { result, outcome } = await run(w, plan);
    expect(outcome).toEqual({ 'billing/invoices': 'migrated', 'shop/cart': 'drifted', 'shop/orders': 'drifted' });
    expect(w.trust.get(roleArn('shop'))).toEqual({ Version: '2012-10-17', Statement: [] });
    expect(mutations(w).filter((l) => l.includes('shop'))).toEqual([]);
    // The restart line names every workload of its batch, those not restarted too.
    expect(result.steps.filter((st) => st.kind === 'restart').map((st) => st.message).join(' | ')).toBe("Deployment/billing/invoices: restarted, Deployment/shop/cart: skipped, Deployment/shop/orders: skipped");
    expect(result.exitCode).toBe(4);
  });

  describe('a workload added to a restart batch by hand (fingerprint recomputed) is never restarted', () => {
    const withOrders = (w: FakeWorld, serviceAccounts: string[]): MigrationPlan => {
      const plan = w.plan(SAS.slice(0, 1));
      const batch = plan.steps.find((s) => s.kind === 'restart-batch')!;
      if (batch.kind !== 'restart-batch') throw new Error('no restart batch');
      batch.workloads.push({ kind: 'Deployment', namespace: 'shop', name: 'orders', serviceAccounts });
      batch.fingerprint = fingerprintRestartBatch(batch.workloads.map((x) => `uid-shop-${x.name}`));
      return plan;
    };

    it('listed under a ServiceAccount it does not run as', async () => {
      const w = world();
      const { result, outcome } = await run(w, withOrders(w, ['cart']));
      expect(mutations(w).filter((l) => l.startsWith('Restart'))).toEqual([]);
      expect(outcome['shop/cart']).toBe('drifted');
      expect(result.steps.find((s) => s.kind === 'restart')).toMatchObject({ status: 'drifted', message: 'Deployment/shop/orders runs as ServiceAccount shop/orders, not shop/cart as the plan says; make a new plan and review it' });
      expect(result.exitCode).toBe(4);
    });

    it('listed under its own ServiceAccount, which has no association and none in the plan', async () => {
      const w = world();
      const { result, outcome } = await run(w, withOrders(w, ['orders']));
      expect(mutations(w).filter((l) => l.startsWith('Restart'))).toEqual([]);
      expect(outcome['shop/orders']).toBe('drifted');
      expect(result.steps.find((s) => s.kind === 'restart')?.message).toBe('ServiceAccount shop/orders has no pod identity association and the plan creates none: the plan does not migrate it; make a new plan and review it');
    });
  });

  it('restarts every workload of a ServiceAccount that runs two in one batch (the second never waits on its own batch)', async () => {
    const w = world();
    w.addWorkload('shop', 'cart-worker', 'cart', 1);
    const plan = w.plan(SAS.slice(0, 1));
    const batch = plan.steps.find((s) => s.kind === 'restart-batch')!;
    if (batch.kind !== 'restart-batch') throw new Error('no restart batch');
    batch.workloads.push({ kind: 'Deployment', namespace: 'shop', name: 'cart-worker', serviceAccounts: ['cart'] });
    batch.fingerprint = fingerprintRestartBatch(batch.workloads.map((x) => `uid-shop-${x.name}`));
    const { result, outcome } = await run(w, plan);
    expect(mutations(w).filter((l) => l.startsWith('Restart'))).toEqual(['Restart shop/cart', 'Restart shop/cart-worker']);
    expect(result.steps.filter((s) => s.kind === 'restart')).toEqual([expect.objectContaining({ status: 'done', attempts: 2 })]);
    expect(outcome).toEqual({ 'shop/cart': 'migrated' });
  });

  it('never overwrites an association for another role', async () => {
    const w = world();
    const plan = w.plan(SAS.slice(2));
    w.associations.push({ associationId: 'a-other', associationArn: 'x/a-other', namespace: 'billing', serviceAccount: 'invoices', roleArn: roleArn('intruder'), targetRoleArn: null, externalId: null, ownerArn: null, disableSessionTags: false, createdAt: null });
    const { result, outcome } = await run(w, plan);
    expect(outcome).toEqual({ 'billing/invoices': 'drifted' });
    expect(result.serviceAccounts[0]?.reason).toContain('never overwrites');
    expect(mutations(w).filter((l) => l.startsWith('CreatePod') || l.startsWith('Restart'))).toEqual([]);
  });

  describe('a failed step reports the calls it really sent, in the result and the journal', () => {
    it('a trust write throttled past its retries: 4 calls sent (the retry limit), not 0', async () => {
      const w = world();
      w.faults.set('UpdateAssumeRolePolicy', { kind: 'throttled', times: 100 });
      const { result, journal } = await run(w, w.plan(SAS.slice(0, 1)));
      expect(w.log.filter((l) => l.startsWith('UpdateAssumeRolePolicy'))).toHaveLength(4);
      expect(result.steps.find((s) => s.kind === 'update-trust')).toMatchObject({ status: 'failed', attempts: 4 });
      expect(journal.records.find((r) => (r as { record: string; action?: string }).record === 'step' && (r as { action?: string }).action === 'update-trust')).toMatchObject({ status: 'failed', attempts: 4 });
      expect(result.summary.mutatingCalls).toBe(4);
    });

    it('a restart whose patch was refused: the batch counts the call sent', async () => {
      const w = world();
      w.faults.set('Restart', { kind: 'denied', times: 1 });
      const { result } = await run(w, w.plan(SAS.slice(0, 1)));
      expect(result.steps.find((s) => s.kind === 'restart')).toMatchObject({ status: 'failed', attempts: 1 });
    });
  });

  it('retries throttling and reads back a create whose answer was lost, never creating twice', async () => {
    const w = world();
    w.faults.set('UpdateAssumeRolePolicy', { kind: 'throttled', times: 2 });
    w.faults.set('CreatePodIdentityAssociation', { kind: 'lost', times: 1, commit: true });
    const { outcome, result } = await run(w, w.plan(SAS.slice(2)));
    expect(outcome).toEqual({ 'billing/invoices': 'migrated' });
    expect(mutations(w).filter((l) => l.startsWith('UpdateAssumeRolePolicy'))).toHaveLength(3);
    expect(mutations(w).filter((l) => l.startsWith('CreatePodIdentityAssociation'))).toHaveLength(1);
    expect(w.associations).toHaveLength(1);
    expect(result.steps.find((s) => s.kind === 'create-association')?.message).toContain('reading back after a lost answer');
  });

  it('a lost answer that did not commit is sent again', async () => {
    const w = world();
    w.faults.set('CreatePodIdentityAssociation', { kind: 'lost', times: 1 });
    const { outcome } = await run(w, w.plan(SAS.slice(2)));
    expect(outcome).toEqual({ 'billing/invoices': 'migrated' });
    expect(mutations(w).filter((l) => l.startsWith('CreatePodIdentityAssociation'))).toHaveLength(2);
    expect(w.associations).toHaveLength(1);
  });

  it('reports a stuck rollout as failed after --rollout-timeout of no progress', async () => {
    const w = world();
    w.stuck.add('invoices');
    const { outcome, result } = await run(w, w.plan(SAS), { rolloutTimeoutMs: 30_000 });
    expect(outcome['billing/invoices']).toBe('failed');
    expect(result.serviceAccounts.find((s) => s.serviceAccount === 'invoices')?.reason).toMatch(/rollout stuck: no progress for 30s: Waiting for deployment "invoices" spec update to be observed/);
    expect(outcome['shop/cart']).toBe('migrated');
    expect(result.exitCode).toBe(5);
  });

  it('a second run over the migrated world restarts nothing and writes nothing', async () => {
    const w = world();
    const plan = w.plan(SAS);
    await run(w, plan);
    const before = mutations(w).length;
    const again = await run(w, plan);
    expect(Object.values(again.outcome)).toEqual(['migrated', 'migrated', 'migrated']);
    expect(mutations(w).length).toBe(before);
    expect(again.result.steps.every((s) => s.status === 'already-done')).toBe(true);
  });

  it('--fail-fast starts nothing after the first failure', async () => {
    const w = world();
    w.faults.set('UpdateAssumeRolePolicy', { kind: 'invalid', times: 1 });
    const { outcome, result } = await run(w, w.plan(SAS), { failFast: true, concurrency: 1 });
    expect(outcome['billing/invoices']).toBe('failed');
    expect(outcome['shop/cart']).toBe('skipped');
    expect(result.steps.find((s) => s.target === roleArn('shop'))?.message).toContain('--fail-fast');
    expect(mutations(w)).toHaveLength(1);
  });

  it('an interrupted run starts nothing new and exits 130', async () => {
    const w = world();
    const abort = new AbortController();
    abort.abort();
    const { result, journal } = await run(w, w.plan(SAS), {}, abort.signal);
    expect(result.exitCode).toBe(130);
    expect(result.status).toBe('interrupted');
    expect(mutations(w)).toEqual([]);
    expect(journal.records.at(-1)).toMatchObject({ record: 'finished', status: 'interrupted' });
  });

  it('verification fails a SA whose new pods run where no agent is ready', async () => {
    const w = world();
    w.agentNodes.clear();
    const { outcome, result } = await run(w, w.plan(SAS.slice(2)));
    expect(outcome).toEqual({ 'billing/invoices': 'failed' });
    expect(result.serviceAccounts[0]?.reason).toContain('no running and ready eks-pod-identity-agent pod on node node-a (node group ng-a)');
  });

  it('--no-restart leaves the SA needs-restart with the command to run', async () => {
    const w = world();
    const { outcome, result } = await run(w, w.plan(SAS.slice(2)), { restart: false });
    expect(outcome).toEqual({ 'billing/invoices': 'needs-restart' });
    expect(result.serviceAccounts[0]?.reason).toContain('kubectl -n billing rollout restart deployment/invoices');
    expect(mutations(w).some((l) => l.startsWith('Restart'))).toBe(false);
  });

  describe('the agent add-on: what its journal lets a rollback remove', () => {
    const withAgent = (w: FakeWorld): MigrationPlan => {
      const plan = w.plan(SAS.slice(0, 1));
      const agent = { id: `agent:${PROD}`, dependsOn: [], kind: 'install-agent' as const, cluster: PROD, addonName: 'eks-pod-identity-agent' as const, addonVersion: null, fingerprint: fingerprintAgent(null) };
      return { ...plan, steps: [agent, ...plan.steps] };
    };
    const agentOutcome = async (w: FakeWorld) => {
      const plan = withAgent(w);
      const { journal } = await run(w, plan, { settleTimeoutMs: 2_000 });
      // The run record the journal file starts with (journal-fs.ts writes it; MemoryJournal keeps what follows).
      const runRecord: RunRecord = {
        kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId: 'run-1', startedAt: '2026-12-01T00:00:00.000Z', toolVersion: 't', clusters: [PROD], planSource: null,
        options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1000, concurrency: 1, failFast: false, restart: true },
        plan,
        previous: journal.previous!,
      };
      const records = [runRecord, ...journal.records] as JournalRecord[];
      const step = records.find((r) => r.record === 'step' && r.stepId === `agent:${PROD}`) as StepRecord;
      return { step, agents: planRollback('/memory/run.jsonl', records).agents };
    };

    it('created: the rollback removes it', async () => {
      const { step, agents } = await agentOutcome(world());
      expect(step).toMatchObject({ status: 'done' });
      expect(agents).toEqual([{ cluster: PROD, addonName: 'eks-pod-identity-agent' }]);
    });

    it('created but never healthy (CREATE_FAILED): failed, journaled as created, and the rollback removes it', async () => {
      const w = world();
      const set = w.addons.set.bind(w.addons);
      w.addons.set = (k, v) => set(k, { ...v, status: 'CREATE_FAILED' });
      const { step, agents } = await agentOutcome(w);
      expect(step).toMatchObject({ status: 'failed', result: { created: true } });
      expect(agents).toEqual([{ cluster: PROD, addonName: 'eks-pod-identity-agent' }]);
    });

    it('CreateAddon refused: nothing created, so an agent someone installs later is not the rollback\'s to remove', async () => {
      const w = world();
      w.faults.set('CreateAddon', { kind: 'denied', times: 1 });
      const { step, agents } = await agentOutcome(w);
      expect(step).toMatchObject({ status: 'failed', result: null });
      expect(agents).toEqual([]);
    });
  });

  it('orders plan steps in the result and names the journal', async () => {
    const w = world();
    const { result } = await run(w, w.plan(SAS));
    expect(result.journal).toBe('/memory/run.jsonl');
    expect(result.steps.map((s) => s.kind)).toEqual(['update-trust', 'update-trust', 'create-association', 'create-association', 'create-association', 'restart']);
    expect(result.clusters).toEqual([PROD]);
  });
});
