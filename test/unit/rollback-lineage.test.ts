import { describe, expect, it } from 'vitest';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, linkRuns, summarizeJournal, type JournalRecord, type RunRecord, type RunSummary } from '../../src/core/apply/journal.js';
import { decideRollback, type JournaledRun } from '../../src/core/rollback/lineage.js';
import { planRollback } from '../../src/core/rollback/plan.js';
import { FakeWorld, PROD, roleArn } from './fixtures/apply-fake.js';

/** An apply journal of shop/cart -> role shop: r1 creates it (trust, association a-1); a re-run finds both in place. */
function journals(): { r1: JournalRecord[]; r2: JournalRecord[] } {
  const world = new FakeWorld();
  world.addRole('shop', ['shop:cart']);
  world.addWorkload('shop', 'cart', 'cart', 1);
  const plan = world.plan([{ namespace: 'shop', sa: 'cart', role: 'shop', workload: 'cart' }]);
  const trust = plan.steps.find((s) => s.kind === 'update-trust');
  if (trust?.kind !== 'update-trust') throw new Error('no trust step');
  const run = (runId: string, startedAt: string, found: boolean): RunRecord => ({
    kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId, startedAt, toolVersion: 't', clusters: [PROD], planSource: null,
    options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1000, concurrency: 1, failFast: false, restart: true },
    plan,
    previous: {
      roles: [{ roleArn: roleArn('shop'), trustPolicy: found ? trust.after : trust.before }],
      associations: [{ cluster: PROD, namespace: 'shop', serviceAccount: 'cart', existing: found ? [{ associationId: 'a-1', associationArn: 'arn:a-1', cluster: PROD, namespace: 'shop', serviceAccount: 'cart', roleArn: roleArn('shop'), targetRoleArn: null, ownerArn: null } as never] : [] }],
      addons: [],
      workloads: [],
    },
  });
  const at = '2026-12-01T00:00:01.000Z';
  const r1: JournalRecord[] = [
    run('r1', '2026-12-01T00:00:00.000Z', false),
    { record: 'intent', at, stepId: trust.id, action: 'update-trust', target: roleArn('shop'), request: { before: trust.before, after: trust.after } },
    { record: 'intent', at, stepId: `assoc:${PROD}/shop/cart`, action: 'create-association', target: 'shop/cart', request: {} },
    { record: 'step', at, stepId: `assoc:${PROD}/shop/cart`, action: 'create-association', target: 'shop/cart', status: 'done', message: '', result: { association: { associationId: 'a-1', roleArn: roleArn('shop') } } },
    { record: 'finished', at, status: 'partial', exitCode: 5, summary: {} },
  ];
  // The re-run found both in place (already-done, no intent).
  const r2: JournalRecord[] = [
    run('r2', '2026-12-01T00:01:00.000Z', true),
    { record: 'step', at, stepId: trust.id, action: 'update-trust', target: roleArn('shop'), status: 'already-done', message: '', result: null },
    { record: 'step', at, stepId: `assoc:${PROD}/shop/cart`, action: 'create-association', target: 'shop/cart', status: 'already-done', message: '', result: null },
    { record: 'finished', at, status: 'succeeded', exitCode: 0, summary: {} },
  ];
  return { r1, r2 };
}

const rollbackOf = (id: string, of: string, status: string, startedAt: string, also?: string[]): JournalRecord[] => [
  { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'rollback', runId: id, startedAt, toolVersion: 't', clusters: [PROD], rollbackOf: of, rollbackOfJournal: `/j/${of}.jsonl`, ...(also ? { alsoRollsBack: also } : {}), options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1, concurrency: 1 } },
  { record: 'finished', at: startedAt, status, exitCode: status === 'succeeded' ? 0 : 4, summary: {} },
];

function runs(...js: JournalRecord[][]): JournaledRun[] {
  const summaries = linkRuns(js.map((records) => summarizeJournal(`/j/${(records[0] as { runId: string }).runId}.jsonl`, records)!));
  return summaries.map((summary: RunSummary) => ({ summary, records: js.find((r) => (r[0] as { runId: string }).runId === summary.runId)! }));
}

describe('rollback lineage', () => {
  it('refuses to take over an earlier run\'s association that a finalize in between built on (its pods would be left with no credentials)', () => {
    const { r1, r2 } = journals();
    const at = '2026-12-01T00:00:30.000Z';
    // F finalized shop/cart between r1 and the re-run r2 (which found the association in place).
    const f: JournalRecord[] = [
      { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'finalize', runId: 'f1', startedAt: at, toolVersion: 't', clusters: [PROD], contexts: { [PROD]: 'prod' }, plan: {},
        previous: { roles: [], serviceAccounts: [{ cluster: PROD, namespace: 'shop', name: 'cart', uid: 'u-cart', annotations: { 'eks.amazonaws.com/role-arn': roleArn('shop') } }], oidcProviders: [] } } as never,
      { record: 'intent', at, stepId: 'sa:shop/cart', action: 'remove-irsa-annotations', target: 'shop/cart', request: { cluster: PROD, namespace: 'shop', name: 'cart' } },
      { record: 'finished', at, status: 'succeeded', exitCode: 0, summary: {} },
    ];
    const all = runs(r1, f, r2);
    expect(() => decideRollback(all.find((r) => r.summary.runId === 'r2')!, all)).toThrow(
      expect.objectContaining({ code: 'ROLLBACK_SUPERSEDED', message: expect.stringMatching(/^run r2 cannot be rolled back: it would undo what the earlier run r1 did \(found in place by this run\), but the later finalize run f1 .* built on the association of shop\/cart on prod/) }),
    );
    // And r1 itself, newest first: the finalize built on its association.
    expect(() => decideRollback(all.find((r) => r.summary.runId === 'r1')!, all)).toThrow(/the later (apply run r2|finalize run f1) \(started [^)]*\) (changed|built on) the association of shop\/cart on prod/);
    const withoutRerun = runs(r1, f);
    expect(() => decideRollback(withoutRerun.find((r) => r.summary.runId === 'r1')!, withoutRerun)).toThrow(/^run r1 cannot be rolled back: the later finalize run f1 \(started [^)]*\) built on the association of shop\/cart on prod and has not been rolled back; nothing was changed$/);
    // Without the finalize in between, the same re-run's rollback takes r1's association over.
    const plain = runs(r1, r2);
    expect(decideRollback(plain.find((r) => r.summary.runId === 'r2')!, plain).plan.associations).toEqual([expect.objectContaining({ adoptedFrom: 'r1' })]);
  });

  it('a new plan that only restarted what an interrupted run left (its association already there) takes that association over: the restart alone cannot bring IRSA back', () => {
    const { r1 } = journals();
    const first = r1[0] as RunRecord;
    const restart = first.plan.steps.find((st) => st.kind === 'restart-batch')!;
    const plan = { ...first.plan, steps: [{ ...restart, dependsOn: [] }] } as RunRecord['plan'];
    const at = '2026-12-01T00:01:01.000Z';
    const unit = `${restart.id}#Deployment/shop/cart`;
    const r3: JournalRecord[] = [
      { ...first, runId: 'r3', startedAt: '2026-12-01T00:01:00.000Z', plan, previous: { roles: [], associations: [], addons: [], workloads: [{ cluster: PROD, kind: 'Deployment', namespace: 'shop', name: 'cart', uid: 'u', restartedAt: null }] } },
      { record: 'intent', at, stepId: unit, action: 'restart', target: 'Deployment/shop/cart', request: { restartedAt: at, previousRestartedAt: null } },
      { record: 'step', at, stepId: unit, action: 'restart', target: 'Deployment/shop/cart', status: 'done', message: '', result: { restartedAt: at, previousRestartedAt: null } },
      { record: 'step', at, stepId: restart.id, action: 'restart', target: 'batch 1', status: 'done', message: '', result: null },
      { record: 'finished', at, status: 'succeeded', exitCode: 0, summary: {} },
    ];
    // Its own journal alone: only the restart, and the ServiceAccount is not the rollback's to verify.
    expect(planRollback('/j/r3.jsonl', r3).associations).toEqual([]);
    const all = runs(r1, r3);
    const { plan: rb, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r3')!, all);
    expect(rb.associations).toEqual([expect.objectContaining({ namespace: 'shop', serviceAccount: 'cart', createdIds: ['a-1'], adoptedFrom: 'r1' })]);
    expect(rb.workloads.map((w) => w.name)).toEqual(['cart']);
    expect(rb.subjects).toEqual([expect.objectContaining({ serviceAccount: 'cart', preexisting: false, roleArn: roleArn('shop') })]);
    // r1's trust edit is not r3's to undo: r1 stays listed, rolled back after r3.
    expect(alsoRollsBack).toEqual([]);
  });

  it('a re-run that refused its steps (a stale plan: drifted) adopts nothing: its rollback undoes nothing of the earlier run', () => {
    const { r1, r2 } = journals();
    const refused = r2.map((rec) => (rec.record === 'step' ? { ...rec, status: 'drifted' as const } : rec.record === 'finished' ? { ...rec, status: 'drifted', exitCode: 4 } : rec)) as JournalRecord[];
    const all = runs(r1, refused);
    const { plan, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r2')!, all.filter((r) => r.summary.runId !== 'r2'));
    expect(plan.associations).toEqual([]);
    expect(plan.trust).toEqual([]);
    expect(alsoRollsBack).toEqual([]);
  });

  it('a re-run that found an earlier run\'s association and trust in place undoes them: only the journaled id, from that run', () => {
    const { r1, r2 } = journals();
    const alone = planRollback('/j/r2.jsonl', r2);
    expect(alone.associations).toEqual([]);
    expect(alone.trust).toEqual([]);
    const all = runs(r1, r2);
    const { plan, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r2')!, all.filter((r) => r.summary.runId !== 'r2'));
    expect(plan.associations).toEqual([expect.objectContaining({ createdIds: ['a-1'], preexistingIds: [], adoptedFrom: 'r1' })]);
    expect(plan.subjects[0]?.keptAssociationIds).toBeUndefined();
    expect(plan.trust.map((t) => `${t.roleArn} from ${t.adoptedFrom ?? '-'}`)).toEqual([`${roleArn('shop')} from r1`]);
    expect(alsoRollsBack).toEqual(['r1']);
  });

  it('a run of another plan that found a succeeded earlier run\'s work in place adopts none of it: its rollback restores what was there before it, and the earlier run rolls back on its own', () => {
    const { r1, r2 } = journals();
    // r1 finished (succeeded); r2 applied another plan, made before r1 ran (a stale plan covering
    // the same ServiceAccount), and found r1's association and trust in place.
    const done = r1.map((rec) => (rec.record === 'finished' ? { ...rec, status: 'succeeded', exitCode: 0 } : rec)) as JournalRecord[];
    const other = r2.map((rec) => (rec.record === 'run' ? { ...rec, plan: { ...(rec as RunRecord).plan, createdAt: '2026-11-30T00:00:00.000Z' } } : rec)) as JournalRecord[];
    const all = runs(done, other);
    const { plan, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r2')!, all);
    expect(plan.associations).toEqual([]);
    expect(plan.trust).toEqual([]);
    expect(plan.adoptedFrom ?? []).toEqual([]);
    expect(alsoRollsBack).toEqual([]);
    // r2 did not change what r1 did: r1 is not superseded by it.
    expect(decideRollback(all.find((r) => r.summary.runId === 'r1')!, all).plan.associations).toEqual([expect.objectContaining({ createdIds: ['a-1'] })]);
    // A re-run of the same plan still takes the succeeded run's work over.
    const same = runs(done, r2);
    expect(decideRollback(same.find((r) => r.summary.runId === 'r2')!, same).plan.associations).toEqual([expect.objectContaining({ adoptedFrom: 'r1' })]);
  });

  it("a run of another plan does not adopt an interrupted run's work that a succeeded run of a third plan already finished: it found that run's work in place", () => {
    const { r1, r2 } = journals();
    // r1 (plan P) was interrupted after creating the association; r2 (plan Q) finished it and
    // succeeded; r3 (plan R, made before r2 ran) found it all in place.
    const planned = (recs: JournalRecord[], runId: string, startedAt: string, createdAt: string) =>
      recs.map((rec) => (rec.record === 'run' ? { ...rec, runId, startedAt, plan: { ...(rec as RunRecord).plan, createdAt } } : rec)) as JournalRecord[];
    const q = planned(r2, 'r2', '2026-12-01T00:01:00.000Z', '2026-11-30T00:00:00.000Z');
    const r = planned(r2, 'r3', '2026-12-01T00:02:00.000Z', '2026-11-29T00:00:00.000Z');
    const all = runs(r1, q, r);
    // r2 takes r1's association over (it finished the interrupted run)...
    expect(decideRollback(all.find((x) => x.summary.runId === 'r2')!, all).plan.associations).toEqual([expect.objectContaining({ adoptedFrom: 'r1' })]);
    // ...but r3 changed nothing: rolling it back must not put shop/cart back on IRSA under r2.
    const { plan, alsoRollsBack } = decideRollback(all.find((x) => x.summary.runId === 'r3')!, all);
    expect(plan.associations).toEqual([]);
    expect(plan.trust).toEqual([]);
    expect(alsoRollsBack).toEqual([]);
  });

  it('refuses the earlier run while the re-run is not rolled back, naming it', () => {
    const { r1, r2 } = journals();
    const all = runs(r1, r2);
    expect(() => decideRollback(all.find((r) => r.summary.runId === 'r1')!, all)).toThrow(/^run r1 cannot be rolled back: the later apply run r2 \(started 2026-12-01T00:01:00.000Z\) changed the association of shop\/cart on prod, the trust policy of .* again and has not been rolled back/);
  });

  it('refuses a run a successful rollback undid (also one that undid it through a re-run); a refused rollback does not count', () => {
    const { r1, r2 } = journals();
    const all = runs(r1, r2, rollbackOf('rb2', 'r2', 'succeeded', '2026-12-01T00:02:00.000Z', ['r1']));
    for (const id of ['r1', 'r2']) {
      expect(() => decideRollback(all.find((r) => r.summary.runId === id)!, all)).toThrow(expect.objectContaining({ code: 'ALREADY_ROLLED_BACK', message: expect.stringContaining(`run ${id} was already rolled back by rb2 (succeeded)`) }));
    }
    const refused = runs(r1, r2, rollbackOf('rb2', 'r2', 'refused', '2026-12-01T00:02:00.000Z'));
    expect(decideRollback(refused.find((r) => r.summary.runId === 'r2')!, refused).plan.target.runId).toBe('r2');
  });
});

describe('rollback lineage: add-ons', () => {
  /** r1 installs the agent and updates the vpc-cni add-on (IRSA role -> association); the re-run r2 finds both done. */
  function addonJournals(r2FoundInPlace: { serviceAccount: string; roleArn: string }[]): { r1: JournalRecord[]; r2: JournalRecord[] } {
    const world = new FakeWorld();
    world.addRole('cni', ['kube-system:aws-node']);
    const base = world.plan([]);
    const agentId = `agent:${PROD}`;
    const addonId = `addon:${PROD}/vpc-cni`;
    const wanted = [{ serviceAccount: 'aws-node', roleArn: roleArn('cni') }];
    const plan = {
      ...base,
      steps: [
        { id: agentId, dependsOn: [], kind: 'install-agent', cluster: PROD, addonName: 'eks-pod-identity-agent', addonVersion: null, fingerprint: 'f-agent' },
        { id: addonId, dependsOn: [agentId], kind: 'update-addon', cluster: PROD, addonName: 'vpc-cni', addonVersion: 'v1', podIdentityAssociations: wanted, before: { serviceAccountRoleArn: roleArn('cni'), podIdentityAssociations: [] }, fingerprint: 'f-addon' },
      ],
    } as unknown as RunRecord['plan'];
    const addon = (pia: string[]) => ({ name: 'vpc-cni', version: 'v1', status: 'ACTIVE', arn: 'addon/vpc-cni', serviceAccountRoleArn: roleArn('cni'), podIdentityAssociations: pia, issues: [] });
    const owned = (pairs: { serviceAccount: string; roleArn: string }[]) => pairs.map((p, i) => ({ associationId: `a-cni-${i}`, associationArn: `arn:a-cni-${i}`, cluster: PROD, namespace: 'kube-system', serviceAccount: p.serviceAccount, roleArn: p.roleArn, targetRoleArn: null, ownerArn: 'addon/vpc-cni' }) as never);
    const run = (runId: string, startedAt: string, found: boolean): RunRecord => ({
      kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId, startedAt, toolVersion: 't', clusters: [PROD], planSource: null,
      options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1000, concurrency: 1, failFast: false, restart: true },
      plan,
      previous: {
        roles: [],
        associations: [],
        addons: [
          { cluster: PROD, addonName: 'eks-pod-identity-agent', addon: found ? { ...addon([]), name: 'eks-pod-identity-agent', arn: 'addon/agent', serviceAccountRoleArn: null } : null, ownedAssociations: [] },
          { cluster: PROD, addonName: 'vpc-cni', addon: addon(found ? ['arn:a-cni-0'] : []), ownedAssociations: found ? owned(r2FoundInPlace) : [] },
        ],
        workloads: [],
      },
    });
    const at = '2026-12-01T00:00:01.000Z';
    const r1: JournalRecord[] = [
      run('r1', '2026-12-01T00:00:00.000Z', false),
      { record: 'intent', at, stepId: agentId, action: 'create-addon', target: 'prod', request: {} },
      { record: 'step', at, stepId: agentId, action: 'create-addon', target: 'prod', status: 'done', message: '', result: null },
      { record: 'intent', at, stepId: addonId, action: 'update-addon', target: 'vpc-cni on prod', request: {} },
      { record: 'step', at, stepId: addonId, action: 'update-addon', target: 'vpc-cni on prod', status: 'done', message: '', result: null },
      { record: 'finished', at, status: 'partial', exitCode: 5, summary: {} },
    ];
    const r2: JournalRecord[] = [
      run('r2', '2026-12-01T00:01:00.000Z', true),
      { record: 'step', at, stepId: agentId, action: 'create-addon', target: 'prod', status: 'already-done', message: '', result: null },
      { record: 'step', at, stepId: addonId, action: 'update-addon', target: 'vpc-cni on prod', status: 'already-done', message: '', result: null },
      { record: 'finished', at, status: 'succeeded', exitCode: 0, summary: {} },
    ];
    return { r1, r2 };
  }

  it('a re-run that found an earlier run\'s add-on update in place undoes it too; the agent stays the earlier run\'s to remove', () => {
    const { r1, r2 } = addonJournals([{ serviceAccount: 'aws-node', roleArn: roleArn('cni') }]);
    const alone = planRollback('/j/r2.jsonl', r2);
    expect(alone.addons).toEqual([]);
    expect(alone.agents).toEqual([]);
    const all = runs(r1, r2);
    const { plan, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r2')!, all.filter((r) => r.summary.runId !== 'r2'));
    expect(plan.addons).toEqual([expect.objectContaining({ addonName: 'vpc-cni', previousOwned: [], written: [{ serviceAccount: 'aws-node', roleArn: roleArn('cni') }], adoptedFrom: 'r1' })]);
    expect(plan.agents).toEqual([]);
    expect(plan.subjects.map((s) => `${s.serviceAccount} via ${s.addon}`)).toEqual(['aws-node via vpc-cni']);
    // r1 installed the agent, which r2's rollback leaves: r1 is not undone with it.
    expect(alsoRollsBack).toEqual([]);
    // The earlier run is refused while the re-run that took its add-on update over is not rolled back.
    expect(() => decideRollback(all.find((r) => r.summary.runId === 'r1')!, all)).toThrow(/changed add-on vpc-cni on prod again/);
    // Once the re-run is rolled back, the earlier run's rollback removes its agent.
    const after = runs(r1, r2, rollbackOf('rb2', 'r2', 'succeeded', '2026-12-01T00:02:00.000Z'));
    expect(decideRollback(after.find((r) => r.summary.runId === 'r1')!, after).plan.agents).toEqual([{ cluster: PROD, addonName: 'eks-pod-identity-agent' }]);
  });

  it('another plan\'s run that found the agent installed does not hold up the rollback of the run that installed it', () => {
    const { r1, r2 } = addonJournals([{ serviceAccount: 'aws-node', roleArn: roleArn('cni') }]);
    // r2 ran another plan: only the agent (found installed), none of r1's add-on update.
    const other = r2.map((rec) => (rec.record === 'run' ? { ...rec, plan: { ...(rec as RunRecord).plan, steps: (rec as RunRecord).plan.steps.filter((st) => st.kind === 'install-agent') } } : rec)).filter((rec) => rec.record !== 'step' || rec.action !== 'update-addon') as JournalRecord[];
    const all = runs(r1, other);
    const { plan } = decideRollback(all.find((r) => r.summary.runId === 'r1')!, all);
    expect(plan.agents).toEqual([{ cluster: PROD, addonName: 'eks-pod-identity-agent' }]);
  });

  it('does not adopt an add-on whose associations in place are not what the earlier run wrote', () => {
    const { r1, r2 } = addonJournals([{ serviceAccount: 'aws-node', roleArn: roleArn('someone-else') }]);
    const all = runs(r1, r2);
    const { plan, alsoRollsBack } = decideRollback(all.find((r) => r.summary.runId === 'r2')!, all.filter((r) => r.summary.runId !== 'r2'));
    expect(plan.addons).toEqual([]);
    expect(alsoRollsBack).toEqual([]);
  });
});
