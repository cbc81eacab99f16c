/**
 * `rollback`: the use case behind `podid rollback --apply`. Takes the rollback plan read from a
 * run's journal, locks its clusters (the same lock as apply), journals itself, and runs the
 * rollback executor. The review, the confirmation and printing are the CLI's.
 */
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, type JournalStore, type LockPort } from '../core/apply/journal.js';
import type { ApplyPorts, Clock } from '../core/apply/ports.js';
import type { RetryPolicy } from '../core/apply/retry.js';
import { RollbackExecutor, type RollbackOptions } from '../core/rollback/executor.js';
import type { RollbackPlan } from '../core/rollback/plan.js';
import type { RollbackResult } from '../core/rollback/result.js';
import type { EventSink } from './events.js';

export interface RollbackRunOptions {
  readonly plan: RollbackPlan;
  readonly options: RollbackOptions;
  readonly runId: string;
  readonly startedAt: Date;
  readonly toolVersion: string;
}

export interface RollbackServices {
  readonly ports: ApplyPorts;
  readonly journal: JournalStore;
  readonly locks: LockPort;
  readonly clock: Clock;
  readonly random: () => number;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal;
}

export async function rollbackRun(o: RollbackRunOptions, services: RollbackServices, events: EventSink): Promise<RollbackResult> {
  const clusters = o.plan.clusters.map((c) => c.arn);
  const lock = services.locks.acquire(clusters, o.runId);
  try {
    const executor = new RollbackExecutor(o.plan, o.options, {
      ports: services.ports,
      clock: services.clock,
      random: services.random,
      retry: services.retry,
      signal: services.signal,
      runId: o.runId,
      openJournal: () =>
        services.journal.create({
          kind: JOURNAL_KIND,
          schemaVersion: JOURNAL_SCHEMA_VERSION,
          record: 'run',
          command: 'rollback',
          runId: o.runId,
          startedAt: o.startedAt.toISOString(),
          toolVersion: o.toolVersion,
          clusters,
          rollbackOf: o.plan.target.runId,
          rollbackOfJournal: o.plan.target.journal,
          options: { propagationWaitMs: o.options.propagationWaitMs, maxConcurrentRollouts: o.options.maxConcurrentRollouts, rolloutTimeoutMs: o.options.rolloutTimeoutMs, concurrency: o.options.concurrency },
        }),
      onEvent: (e) => {
        if (e.kind === 'step') events({ type: 'rollback-step', report: e.report });
        else if (e.kind === 'progress') events({ type: 'apply-progress', message: e.message });
        else events({ type: 'rollback-outcome', sa: e.sa });
      },
    });
    return await executor.run(o.startedAt.toISOString());
  } finally {
    lock.release();
  }
}
