/**
 * `rollback`: the use case behind `podid rollback --apply`. Takes the rollback plan read from a
 * run's journal, locks its clusters (the same lock as apply), journals itself, and runs the
 * rollback executor. The review, the confirmation and printing are the CLI's.
 */
import { RollbackExecutor, type RollbackEvent, type RollbackOptions } from '../core/rollback/executor.js';
import type { RollbackPlan } from '../core/rollback/plan.js';
import type { RollbackResult } from '../core/rollback/result.js';
import type { EventSink } from './events.js';
import { runLocked, runRecord, type ExecutionServices, type RunIdentity } from './execution.js';

export interface RollbackRunOptions extends RunIdentity {
  readonly plan: RollbackPlan;
  /** Earlier runs this rollback undoes too (lineage.ts). */
  readonly alsoRollsBack?: readonly string[];
  readonly options: RollbackOptions;
}

export async function rollbackRun(o: RollbackRunOptions, services: ExecutionServices, events: EventSink): Promise<RollbackResult> {
  const clusters = o.plan.clusters.map((c) => c.arn);
  return runLocked<void, RollbackEvent, RollbackResult>(
    services,
    { ...o, clusters },
    () => ({
      ...runRecord('rollback', o, clusters),
      rollbackOf: o.plan.target.runId,
      rollbackOfJournal: o.plan.target.journal,
      ...(o.alsoRollsBack !== undefined && o.alsoRollsBack.length > 0 ? { alsoRollsBack: [...o.alsoRollsBack] } : {}),
      options: { propagationWaitMs: o.options.propagationWaitMs, maxConcurrentRollouts: o.options.maxConcurrentRollouts, rolloutTimeoutMs: o.options.rolloutTimeoutMs, concurrency: o.options.concurrency },
    }),
    events,
    (e) => {
      if (e.kind === 'step') events({ type: 'rollback-step', report: e.report });
      else events({ type: 'rollback-outcome', sa: e.sa });
    },
    (deps) => new RollbackExecutor(o.plan, o.options, deps).run(o.startedAt.toISOString()),
  );
}
