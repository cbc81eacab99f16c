/**
 * What the three changing use cases (apply, rollback, finalize) share: the services they are
 * given, and how an executor runs: the plan's clusters locked (one changing run per cluster at a
 * time), the journal's first record written by the executor before its first change, the lock
 * released whatever happens.
 */
import type { ExecutorDeps, ProgressEvent } from '../core/apply/execution.js';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, type AnyRunRecord, type JournalStore, type LockPort } from '../core/apply/journal.js';
import type { ApplyPorts, Clock } from '../core/apply/ports.js';
import type { RetryPolicy } from '../core/apply/retry.js';
import type { EventSink } from './events.js';

export interface ExecutionServices {
  readonly ports: ApplyPorts;
  readonly journal: JournalStore;
  readonly locks: LockPort;
  readonly clock: Clock;
  readonly random: () => number;
  readonly retry: RetryPolicy;
  /** Aborted on SIGINT: the calls in flight finish, nothing new starts. */
  readonly signal: AbortSignal;
}

/** Who a run is: its id, when it started, which podid ran it. */
export interface RunIdentity {
  readonly runId: string;
  readonly startedAt: Date;
  readonly toolVersion: string;
}

/** The fields every journal's first record starts with. */
export function runRecord<C extends NonNullable<AnyRunRecord['command']>>(command: C, run: RunIdentity, clusters: string[]) {
  return { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command, runId: run.runId, startedAt: run.startedAt.toISOString(), toolVersion: run.toolVersion, clusters } as const;
}

/**
 * Runs an executor with the clusters locked. `first` is the journal's first record for the
 * previous state the executor read; `onEvent` maps the executor's events to the app's
 * (progress is the same for all three commands).
 */
export async function runLocked<Previous, Event, R>(
  services: ExecutionServices,
  run: RunIdentity & { readonly clusters: string[] },
  first: (previous: Previous) => AnyRunRecord,
  events: EventSink,
  onEvent: (e: Event) => void,
  execute: (deps: ExecutorDeps<Previous, Event>) => Promise<R>,
): Promise<R> {
  const lock = services.locks.acquire(run.clusters, run.runId);
  try {
    return await execute({
      ports: services.ports,
      clock: services.clock,
      random: services.random,
      retry: services.retry,
      signal: services.signal,
      runId: run.runId,
      openJournal: (previous) => services.journal.create(first(previous)),
      onEvent: (e: Event | ProgressEvent) => {
        if (isProgress(e)) events({ type: 'apply-progress', message: e.message });
        else onEvent(e);
      },
    });
  } finally {
    lock.release();
  }
}

function isProgress(e: unknown): e is ProgressEvent {
  return typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'progress';
}
