/**
 * `apply`: the use case behind `podid migrate --apply`. Takes a checked plan, the executor's
 * options and the ports (AWS and Kubernetes, the journal directory, the lock), and runs it:
 * lock the plan's clusters, read the previous state, journal it, execute, report per
 * ServiceAccount. Planning, the review, confirmation and printing are the caller's (the CLI's).
 */
import { ApplyExecutor, type ExecutorOptions } from '../core/apply/executor.js';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, type JournalStore, type LockPort } from '../core/apply/journal.js';
import type { ApplyPorts, Clock } from '../core/apply/ports.js';
import { RUN_RESULT_KIND, RUN_RESULT_SCHEMA_VERSION, type RunResult } from '../core/apply/result.js';
import type { RetryPolicy } from '../core/apply/retry.js';
import type { MigrationPlan } from '../core/plan/model.js';
import type { EventSink } from './events.js';

export interface ApplyRunOptions {
  readonly plan: MigrationPlan;
  /** The --plan file, or null when the plan was made in this run. */
  readonly planSource: string | null;
  readonly executor: ExecutorOptions;
  readonly runId: string;
  readonly startedAt: Date;
  readonly toolVersion: string;
}

export interface ApplyServices {
  readonly ports: ApplyPorts;
  readonly journal: JournalStore;
  readonly locks: LockPort;
  readonly clock: Clock;
  readonly random: () => number;
  readonly retry: RetryPolicy;
  /** Aborted on SIGINT: the calls in flight finish, nothing new starts. */
  readonly signal: AbortSignal;
}

/** The result of a plan without steps: nothing to lock, journal or verify. */
export function noChanges(plan: MigrationPlan, startedAt: Date, now: Date): RunResult {
  return {
    kind: RUN_RESULT_KIND, schemaVersion: RUN_RESULT_SCHEMA_VERSION, runId: null, journal: null, startedAt: startedAt.toISOString(), finishedAt: now.toISOString(),
    status: 'no-changes', exitCode: 0, clusters: plan.clusters.map((c) => c.arn), steps: [], serviceAccounts: [], blocked: plan.blocked.length,
    summary: { migrated: 0, needsRestart: 0, drifted: 0, failed: 0, skipped: 0, mutatingCalls: 0 },
  };
}

export async function applyPlan(options: ApplyRunOptions, services: ApplyServices, events: EventSink): Promise<RunResult> {
  const { plan } = options;
  if (plan.steps.length === 0) return noChanges(plan, options.startedAt, new Date(services.clock.now()));
  const clusters = plan.clusters.map((c) => c.arn);
  const lock = services.locks.acquire(clusters, options.runId);
  try {
    const executor = new ApplyExecutor(plan, options.executor, {
      ports: services.ports,
      clock: services.clock,
      random: services.random,
      retry: services.retry,
      signal: services.signal,
      runId: options.runId,
      openJournal: (previous) =>
        services.journal.create({
          kind: JOURNAL_KIND,
          schemaVersion: JOURNAL_SCHEMA_VERSION,
          record: 'run',
          command: 'apply',
          runId: options.runId,
          startedAt: options.startedAt.toISOString(),
          toolVersion: options.toolVersion,
          clusters,
          planSource: options.planSource,
          options: {
            propagationWaitMs: options.executor.propagationWaitMs,
            maxConcurrentRollouts: options.executor.maxConcurrentRollouts,
            rolloutTimeoutMs: options.executor.rolloutTimeoutMs,
            concurrency: options.executor.concurrency,
            failFast: options.executor.failFast,
            restart: options.executor.restart,
            verifyProbe: options.executor.verifyProbe ?? null,
          },
          plan,
          previous,
        }),
      onEvent: (e) => {
        if (e.kind === 'step') events({ type: 'apply-step', report: e.report });
        else if (e.kind === 'workload') events({ type: 'apply-workload', cluster: e.cluster, workload: e.workload });
        else if (e.kind === 'progress') events({ type: 'apply-progress', message: e.message });
        else events({ type: 'apply-outcome', sa: e.sa });
      },
    });
    events({ type: 'apply-reading' });
    return await executor.run(options.startedAt.toISOString());
  } finally {
    lock.release();
  }
}
