/** Pure parts of apply: rollout status as kubectl judges it, retry/backoff, the journal file and the lock, durations. */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApplyCallError, type WorkloadState } from '../../src/core/apply/ports.js';
import { backoffDelay, withRetry } from '../../src/core/apply/retry.js';
import { rolloutStatus, waitForRollout } from '../../src/core/apply/rollout.js';
import { parseJournal } from '../../src/core/apply/journal.js';
import { acquireLocks, createJournal, lockIsStale } from '../../src/adapters/journal-fs.js';
import { parseDuration } from '../../src/cli/duration.js';
import { defaultJournalDir } from '../../src/cli/confirm.js';
import { FakeClock } from './fixtures/apply-fake.js';

function workload(kind: WorkloadState['kind'], over: Partial<WorkloadState> = {}, status: Partial<WorkloadState['status']> = {}): WorkloadState {
  return {
    kind, namespace: 'shop', name: 'cart', uid: 'u', generation: 2, restartedAt: null, serviceAccountName: 'cart', strategy: 'RollingUpdate', replicas: kind === 'DaemonSet' ? null : 3, partition: null,
    ...over,
    status: {
      observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, currentRevision: 'r2', updateRevision: 'r2',
      desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, conditions: [], ...status,
    },
  };
}

describe('rolloutStatus (kubectl rollout status)', () => {
  it.each([
    ['Deployment', {}, {}, 'done', 'deployment "cart" successfully rolled out'],
    ['Deployment', {}, { observedGeneration: 1 }, 'waiting', 'Waiting for deployment "cart" spec update to be observed...'],
    ['Deployment', {}, { updatedReplicas: 1 }, 'waiting', 'Waiting for deployment "cart" rollout to finish: 1 out of 3 new replicas have been updated...'],
    ['Deployment', {}, { replicas: 4 }, 'waiting', 'Waiting for deployment "cart" rollout to finish: 1 old replicas are pending termination...'],
    ['Deployment', {}, { availableReplicas: 2 }, 'waiting', 'Waiting for deployment "cart" rollout to finish: 2 of 3 updated replicas are available...'],
    ['Deployment', {}, { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'x' }] }, 'failed', 'deployment "cart" exceeded its progress deadline'],
    // Paused (kubectl rollout pause): the controller will not roll the new template out until it is
    // resumed, so waiting --rollout-timeout (5m by default) for it is pointless; done if it already is.
    ['Deployment', {}, { updatedReplicas: 0, conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }] }, 'failed', 'deployment "cart" is paused: its pods are not replaced until it is resumed (kubectl rollout resume deployment/cart -n shop)'],
    ['Deployment', {}, { conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }] }, 'done', 'deployment "cart" successfully rolled out'],
    ['Deployment', {}, { availableReplicas: 2, conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }] }, 'waiting', 'Waiting for deployment "cart" rollout to finish: 2 of 3 updated replicas are available...'],
    ['StatefulSet', {}, {}, 'done', 'statefulset rolling update complete 3 pods at revision r2...'],
    // spec.paused without the condition (no progress deadline): paused all the same.
    ['Deployment', { paused: true }, { updatedReplicas: 0 }, 'failed', 'deployment "cart" is paused: its pods are not replaced until it is resumed (kubectl rollout resume deployment/cart -n shop)'],
    ['Deployment', { paused: true }, {}, 'done', 'deployment "cart" successfully rolled out'],
    ['StatefulSet', {}, { readyReplicas: 1 }, 'waiting', 'Waiting for 2 pods to be ready...'],
    ['StatefulSet', {}, { currentRevision: 'r1' }, 'waiting', 'waiting for statefulset rolling update to complete 3 pods at revision r2...'],
    ['StatefulSet', { strategy: 'OnDelete' }, {}, 'failed', 'rollout status is only available for RollingUpdate strategy type (statefulset "cart" uses OnDelete)'],
    ['DaemonSet', {}, {}, 'done', 'daemon set "cart" successfully rolled out'],
    ['DaemonSet', {}, { updatedNumberScheduled: 1 }, 'waiting', 'Waiting for daemon set "cart" rollout to finish: 1 out of 3 new pods have been updated...'],
    ['DaemonSet', {}, { numberAvailable: 2 }, 'waiting', 'Waiting for daemon set "cart" rollout to finish: 2 of 3 updated pods are available...'],
  ] as [WorkloadState['kind'], Partial<WorkloadState>, Partial<WorkloadState['status']>, string, string][])('%s %o %o -> %s', (kind, over, status, state, message) => {
    expect(rolloutStatus(workload(kind, over, status))).toEqual({ state, message });
  });

  it('is stuck only after --rollout-timeout without any progress', async () => {
    const clock = new FakeClock();
    let updated = 0;
    const read = async () => {
      // Progress every 10 s until 2 of 3, then nothing.
      if (updated < 2 && clock.now() % 10_000 === 0) updated++;
      return workload('Deployment', {}, { updatedReplicas: updated, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }] });
    };
    const start = clock.now();
    const out = await waitForRollout({ read, clock, timeoutMs: 30_000, pollMs: 1000 });
    expect(out).toMatchObject({ state: 'failed', stuck: true });
    expect(out.message).toBe('no progress for 30s: Waiting for deployment "cart" rollout to finish: 2 out of 3 new replicas have been updated...; conditions: Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)');
    expect(clock.now() - start).toBeGreaterThanOrEqual(30_000);
    expect(clock.now() - start).toBeLessThan(45_000);
  });
});

describe('withRetry', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('full jitter within the capped exponential ceiling, at least Retry-After', () => {
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(1, policy, () => 0, 700)).toBe(700);
  });

  it('retries throttling and 5xx, not other failures, and gives up after maxAttempts', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const throttled = () => {
      calls++;
      return Promise.reject(new ApplyCallError('throttled', 'AWS_THROTTLED', 'slow down'));
    };
    await expect(withRetry({ clock, policy, random: () => 0.5 }, throttled)).rejects.toThrow('slow down');
    expect(calls).toBe(4);
    calls = 0;
    await expect(withRetry({ clock, policy, random: () => 0.5 }, () => { calls++; return Promise.reject(new ApplyCallError('denied', 'AWS_ACCESS_DENIED', 'no')); })).rejects.toThrow('no');
    expect(calls).toBe(1);
  });

  it('after a lost answer, reads back instead of re-sending when the change is in place', async () => {
    const clock = new FakeClock();
    let sent = 0;
    const out = await withRetry({ clock, policy, random: () => 0 }, () => { sent++; return Promise.reject(new ApplyCallError('lost', 'AWS_UNREACHABLE', 'reset')); }, { readBack: async () => 'found' });
    expect(out).toEqual({ value: 'found', attempts: 1, readBack: true });
    expect(sent).toBe(1);
  });
});

describe('journal file and lock', () => {
  it('writes the first record atomically with mode 0600 and appends records', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'podid-unit-')), 'runs');
    const first = { kind: 'podid-run-journal', schemaVersion: 1, record: 'run', runId: 'r1' } as unknown as Parameters<typeof createJournal>[1];
    const j = createJournal(dir, first);
    await j.append({ record: 'finished', at: 'now', status: 'succeeded', exitCode: 0, summary: {} });
    expect(statSync(j.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const records = parseJournal(readFileSync(j.path, 'utf8'));
    expect(records.map((r) => r.record)).toEqual(['run', 'finished']);
    // A torn last line (a crash mid-append) is dropped, nothing else.
    expect(parseJournal(`${readFileSync(j.path, 'utf8')}{"record":"st`).map((r) => r.record)).toEqual(['run', 'finished']);
    expect(() => parseJournal('{"a":1}\nnot json\n{"b":2}\n')).toThrow(/line 2/);
  });

  it('takes over a stale lock (dead process on this host), refuses a live one', () => {
    expect(lockIsStale({ pid: 1, host: 'h', runId: 'x', cluster: 'c', startedAt: '' }, { host: 'h', alive: () => false })).toBe(true);
    expect(lockIsStale({ pid: 1, host: 'other', runId: 'x', cluster: 'c', startedAt: '' }, { host: 'h', alive: () => false })).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'podid-unit-'));
    const a = acquireLocks(dir, ['arn:c1'], 'run-a', () => 'now');
    expect(() => acquireLocks(dir, ['arn:c2', 'arn:c1'], 'run-b', () => 'now')).toThrow(/another podid run holds the lock of arn:c1 \(run run-a/);
    // The refused run released the lock it had taken on c2.
    const c2 = acquireLocks(dir, ['arn:c2'], 'run-c', () => 'now');
    c2.release();
    a.release();
    // A lock left by a dead process on this host.
    const held = acquireLocks(dir, ['arn:c3'], 'run-d', () => 'now');
    const lockFile = join(dir, 'locks', readdirSync(join(dir, 'locks'))[0]!);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, runId: 'run-d' });
    writeFileSync(lockFile, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), runId: 'dead', cluster: 'arn:c3', startedAt: 'then' }));
    const again = acquireLocks(dir, ['arn:c3'], 'run-e', () => 'now');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ runId: 'run-e' });
    again.release();
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
    void held;
  });
});

describe('flags', () => {
  it('parses kubectl-style durations', () => {
    expect(parseDuration('--x', '15s', '15s')).toBe(15_000);
    expect(parseDuration('--x', '1m30s', '15s')).toBe(90_000);
    expect(parseDuration('--x', '1500ms', '15s')).toBe(1500);
    expect(parseDuration('--x', '0', '15s')).toBe(0);
    expect(() => parseDuration('--rollout-timeout', '5 minutes', '5m')).toThrow('--rollout-timeout 5 minutes: expected a duration such as 5m');
    expect(() => parseDuration('--x', '10', '15s')).toThrow();
  });

  it('keeps journals under XDG_STATE_HOME, else ~/.local/state', () => {
    expect(defaultJournalDir({ XDG_STATE_HOME: '/var/state' }, '/home/u')).toBe('/var/state/podid/runs');
    expect(defaultJournalDir({}, '/home/u')).toBe('/home/u/.local/state/podid/runs');
    expect(defaultJournalDir({ XDG_STATE_HOME: 'relative' }, '/home/u')).toBe('/home/u/.local/state/podid/runs');
  });
});
