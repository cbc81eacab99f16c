/**
 * The OIDC provider steps of the finalize and rollback executors over the in-memory ports:
 * decided again right before the deletion (a role that trusts it since the review, or a listing
 * that cannot finish, keeps it), journaled before the call, read back after a lost answer; and
 * created again by rollback exactly, or refused when someone created it differently.
 */
import { describe, expect, it } from 'vitest';
import type { FinalizePrevious, IntentRecord, JournalWriter } from '../../src/core/apply/journal.js';
import type { OidcProviderRecord } from '../../src/core/apply/ports.js';
import { FinalizeExecutor } from '../../src/core/finalize/executor.js';
import { FINALIZE_PLAN_KIND, type FinalizePlan } from '../../src/core/finalize/plan.js';
import { RollbackExecutor } from '../../src/core/rollback/executor.js';
import type { RollbackPlan } from '../../src/core/rollback/plan.js';
import { ACCOUNT, FakeWorld, PROD, roleArn } from './fixtures/apply-fake.js';

const HOST = 'oidc.eks.us-east-1.amazonaws.com/id/EXECUTORTEST';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}`;
const RECORD: OidcProviderRecord = { arn: PROVIDER, url: `https://${HOST}`, clientIds: ['sts.amazonaws.com'], thumbprints: ['0123456789abcdef0123456789abcdef01234567'], tags: [{ key: 'team', value: 'platform' }] };
const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 };
const podIdentityOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] };

function world(): FakeWorld {
  const w = new FakeWorld();
  for (const n of ['a', 'b', 'c']) w.trust.set(roleArn(n), structuredClone(podIdentityOnly));
  w.oidcProviders.set(PROVIDER, structuredClone(RECORD));
  return w;
}

const plan = (): FinalizePlan => ({
  kind: FINALIZE_PLAN_KIND, schemaVersion: 1,
  clusters: [{ arn: PROD, name: 'prod', region: 'us-east-1', context: PROD }],
  serviceAccounts: [], trust: [],
  oidcProviders: [{ cluster: PROD, providerArn: PROVIDER, action: 'delete', reason: 'no role refers to it', trustedBy: [], trustedByCount: 0, rolesRead: 3, provider: structuredClone(RECORD) }],
});

async function finalize(w: FakeWorld, p = plan()) {
  const records: unknown[] = [];
  let previous: FinalizePrevious | null = null;
  let openedAt = -1;
  const ex = new FinalizeExecutor(p, { concurrency: 4 }, {
    ports: w.ports(), clock: w.clock, random: () => 0, retry: RETRY, signal: new AbortController().signal, runId: 'run-1',
    openJournal: async (prev): Promise<JournalWriter> => {
      previous = prev;
      openedAt = w.log.length;
      return { path: '/memory/run.jsonl', append: async (r) => void records.push(r) };
    },
  });
  const result = await ex.run('2026-12-01T00:00:00.000Z');
  return { result, records, previous: previous as FinalizePrevious | null, openedAt };
}

describe('finalize: deleting the OIDC provider', () => {
  it('journals the provider first (run record and intent), then deletes it', async () => {
    const w = world();
    const { result, records, previous, openedAt } = await finalize(w);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, summary: { oidcProvidersDeleted: 1, mutatingCalls: 1 } });
    expect(result.oidcProviders).toEqual([expect.objectContaining({ providerArn: PROVIDER, outcome: 'deleted' })]);
    expect(w.oidcProviders.has(PROVIDER)).toBe(false);
    expect(previous!.oidcProviders).toEqual([{ cluster: PROD, ...RECORD }]);
    // Opened before the deletion; every role listed again before it.
    const del = w.log.indexOf(`DeleteOpenIDConnectProvider ${PROVIDER}`);
    expect(openedAt).toBeLessThan(del);
    expect(w.log.slice(openedAt, del).filter((l) => l.startsWith('ListRoles'))).toEqual(['ListRoles', 'ListRoles 2']);
    const intent = records.find((r): r is IntentRecord => (r as IntentRecord).record === 'intent')!;
    expect(intent).toMatchObject({ action: 'delete-oidc-provider', target: PROVIDER, request: { provider: { cluster: PROD, ...RECORD } } });
    expect(records.indexOf(intent)).toBeLessThan(records.findIndex((r) => (r as { record: string; action?: string }).record === 'step'));
  });

  it('a deletion refused (access denied) fails with the one call it sent, in the result and the journal', async () => {
    const w = world();
    w.faults.set('DeleteOpenIDConnectProvider', { kind: 'denied', times: 1 });
    const { result, records } = await finalize(w);
    expect(result.steps).toEqual([expect.objectContaining({ status: 'failed', attempts: 1 })]);
    expect(records.find((r) => (r as { record: string }).record === 'step')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('keeps it when a role refers to it since the review (decided again over a fresh listing): refused, exit 4', async () => {
    const w = world();
    w.trust.set(roleArn('late'), { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity' }] });
    const { result } = await finalize(w);
    expect(result).toMatchObject({ status: 'refused', exitCode: 4, summary: { oidcProvidersDeleted: 0, mutatingCalls: 0 } });
    expect(result.oidcProviders[0]).toMatchObject({ outcome: 'refused', trustedBy: [roleArn('late')], trustedByCount: 1 });
    expect(result.steps).toEqual([expect.objectContaining({ kind: 'delete-oidc-provider', status: 'drifted' })]);
    expect(w.oidcProviders.has(PROVIDER)).toBe(true);
  });

  it('keeps it when the listing cannot finish (a page throttled past the retries)', async () => {
    const w = world();
    w.faults.set('ListRoles', { kind: 'throttled', times: 99 });
    const { result } = await finalize(w);
    expect(result.oidcProviders[0]!.outcome).toBe('refused');
    expect(result.oidcProviders[0]!.reason).toMatch(/^not deleted: the role listing is incomplete \(iam:ListRoles page 1: /);
    expect(result.exitCode).toBe(4);
    expect(w.log.some((l) => l.startsWith('DeleteOpenIDConnectProvider'))).toBe(false);
  });

  it('reads back after a lost answer, and reports one already gone as such; declined and kept providers are only reported', async () => {
    const w = world();
    w.faults.set('DeleteOpenIDConnectProvider', { kind: 'lost', times: 1, commit: true });
    const { result } = await finalize(w);
    expect(result.oidcProviders[0]!.outcome).toBe('deleted');
    expect(w.log.filter((l) => l.startsWith('DeleteOpenIDConnectProvider'))).toHaveLength(1);
    const again = await finalize(w);
    expect(again.result.oidcProviders[0]!.outcome).toBe('already-gone');
    const declined = plan();
    declined.oidcProviders[0]!.action = 'declined';
    const kept = await finalize(world(), declined);
    expect(kept.result).toMatchObject({ status: 'succeeded', steps: [], oidcProviders: [expect.objectContaining({ outcome: 'declined' })] });
  });
});

describe('rollback: creating the OIDC provider again', () => {
  const rollbackPlan = (): RollbackPlan => ({
    target: { runId: 'run-1', command: 'finalize', journal: '/memory/run.jsonl', startedAt: '2026-12-01T00:00:00.000Z', status: 'succeeded' },
    clusters: [{ arn: PROD, name: 'prod', region: 'us-east-1', account: ACCOUNT, partition: 'aws', context: PROD }],
    associations: [], addons: [], agents: [], workloads: [], trust: [], serviceAccounts: [], subjects: [],
    oidcProviders: [{ cluster: PROD, ...structuredClone(RECORD) }],
  });
  const rollback = (w: FakeWorld) => new RollbackExecutor(rollbackPlan(), { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 10_000, concurrency: 4, pollMs: 10, settleTimeoutMs: 10_000 }, {
    ports: w.ports(), clock: w.clock, random: () => 0, retry: RETRY, signal: new AbortController().signal, runId: 'rb-1',
    openJournal: async () => ({ path: '/memory/rb.jsonl', append: async () => undefined }),
  }).run('2026-12-01T01:00:00.000Z');

  it('creates it with the journaled URL, client IDs, thumbprints and tags; a lost answer is read back (EntityAlreadyExists is done)', async () => {
    const w = world();
    w.oidcProviders.clear();
    w.faults.set('CreateOpenIDConnectProvider', { kind: 'lost', times: 1, commit: true });
    const r = await rollback(w);
    expect(r).toMatchObject({ status: 'succeeded', summary: { undone: { oidcProviders: 1 } } });
    expect(w.oidcProviders.get(PROVIDER)).toEqual(RECORD);
    expect(w.log.filter((l) => l.startsWith('CreateOpenIDConnectProvider'))).toHaveLength(1);
    // Again: already done, no call.
    const again = await rollback(w);
    expect(again.steps.map((s) => s.status)).toEqual(['already-done']);
    expect(again.summary).toMatchObject({ mutatingCalls: 0, undone: { oidcProviders: 1 } });
  });

  it('a create throttled past the retries fails with the calls it sent (3, the retry limit), not 0', async () => {
    const w = world();
    w.oidcProviders.clear();
    w.faults.set('CreateOpenIDConnectProvider', { kind: 'throttled', times: 100 });
    const r = await rollback(w);
    expect(w.log.filter((l) => l.startsWith('CreateOpenIDConnectProvider'))).toHaveLength(3);
    expect(r.steps).toEqual([expect.objectContaining({ kind: 'restore-oidc-provider', status: 'failed', attempts: 3 })]);
    expect(r.summary.mutatingCalls).toBe(3);
  });

  it('refuses a provider someone created again with other settings', async () => {
    const w = world();
    w.oidcProviders.set(PROVIDER, { ...structuredClone(RECORD), clientIds: ['other'] });
    const r = await rollback(w);
    expect(r).toMatchObject({ status: 'refused', exitCode: 4, summary: { refusedSteps: 1, undone: { oidcProviders: 0 } } });
    expect(r.steps[0]!.message).toContain('created again since finalize with other settings (client IDs other');
    expect(w.oidcProviders.get(PROVIDER)!.clientIds).toEqual(['other']);
  });
});
