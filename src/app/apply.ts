/**
 * `apply`: the use case behind `podid migrate --apply`. Takes a checked plan, the executor's
 * options and the ports (AWS and Kubernetes, the journal directory, the lock), and runs it:
 * lock the plan's clusters, read the previous state, journal it, execute, report per
 * ServiceAccount. Planning, the review, confirmation and printing are the caller's (the CLI's).
 */
import { ApplyExecutor, type ApplyEvent, type ExecutorOptions } from '../core/apply/executor.js';
import type { PreviousState } from '../core/apply/journal.js';
import { RUN_RESULT_KIND, RUN_RESULT_SCHEMA_VERSION, type RunResult } from '../core/apply/result.js';
import type { MigrationPlan } from '../core/plan/model.js';
import type { EventSink } from './events.js';
import { runLocked, runRecord, type ExecutionServices, type RunIdentity } from './execution.js';

export interface ApplyRunOptions extends RunIdentity {
  readonly plan: MigrationPlan;
  /** The --plan file, or null when the plan was made in this run. */
  readonly planSource: string | null;
  readonly executor: ExecutorOptions;
}

/** The result of a plan without steps: nothing to lock, journal or verify. */
export function noChanges(plan: MigrationPlan, startedAt: Date, now: Date): RunResult {
  return {
    kind: RUN_RESULT_KIND, schemaVersion: RUN_RESULT_SCHEMA_VERSION, runId: null, journal: null, startedAt: startedAt.toISOString(), finishedAt: now.toISOString(),
    status: 'no-changes', exitCode: 0, clusters: plan.clusters.map((c) => c.arn), steps: [], serviceAccounts: [], blocked: plan.blocked.length,
    summary: { migrated: 0, needsRestart: 0, drifted: 0, failed: 0, skipped: 0, mutatingCalls: 0 },
  };
}

export async function applyPlan(options: ApplyRunOptions, services: ExecutionServices, events: EventSink): Promise<RunResult> {
  const { plan, executor: o } = options;
  if (plan.steps.length === 0) return noChanges(plan, options.startedAt, new Date(services.clock.now()));
  const clusters = plan.clusters.map((c) => c.arn);
  return runLocked<PreviousState, ApplyEvent, RunResult>(
    services,
    { ...options, clusters },
    (previous) => ({
      ...runRecord('apply', options, clusters),
      planSource: options.planSource,
      options: { propagationWaitMs: o.propagationWaitMs, maxConcurrentRollouts: o.maxConcurrentRollouts, rolloutTimeoutMs: o.rolloutTimeoutMs, concurrency: o.concurrency, failFast: o.failFast, restart: o.restart, verifyProbe: o.verifyProbe ?? null },
      plan,
      previous,
    }),
    events,
    (e) => {
      if (e.kind === 'step') events({ type: 'apply-step', report: e.report });
      else if (e.kind === 'workload') events({ type: 'apply-workload', cluster: e.cluster, workload: e.workload });
      else events({ type: 'apply-outcome', sa: e.sa });
    },
    (deps) => {
      const executor = new ApplyExecutor(plan, o, deps);
      events({ type: 'apply-reading' });
      return executor.run(options.startedAt.toISOString());
    },
  );
}
