/**
 * `finalize`: the use cases behind `podid finalize`. `planFinalizeRun` scans the clusters
 * (read-only) and plans (pure); `finalizeRun` locks the plan's clusters (the same lock as apply),
 * journals the previous state and runs the executor. The review, confirmation and printing are
 * the CLI's.
 */
import type { FinalizePrevious } from '../core/apply/journal.js';
import { FinalizeExecutor, type FinalizeEvent } from '../core/finalize/executor.js';
import type { FinalizeResult } from '../core/finalize/result.js';
import { planFinalize, type FinalizePlan } from '../core/finalize/plan.js';
import type { JsonObject } from '../core/json.js';
import type { ScanPorts } from '../core/ports.js';
import type { Inventory } from '../core/scan/inventory.js';
import type { EventSink } from './events.js';
import { runLocked, runRecord, type ExecutionServices, type RunIdentity } from './execution.js';
import { scanClusters, type ClusterScanOptions } from './scan.js';

export async function planFinalizeRun(options: ClusterScanOptions, ports: ScanPorts, events: EventSink): Promise<{ plan: FinalizePlan; partial: boolean; inventory: Inventory }> {
  const scanned = await scanClusters(options, ports, events);
  return { plan: planFinalize(scanned.snapshot, scanned.inventory), partial: scanned.partial, inventory: scanned.inventory };
}

export interface FinalizeRunOptions extends RunIdentity {
  readonly plan: FinalizePlan;
  readonly concurrency: number;
}

export async function finalizeRun(o: FinalizeRunOptions, services: ExecutionServices, events: EventSink): Promise<FinalizeResult> {
  const clusters = o.plan.clusters.map((c) => c.arn);
  return runLocked<FinalizePrevious, FinalizeEvent, FinalizeResult>(
    services,
    { ...o, clusters },
    (previous) => ({
      ...runRecord('finalize', o, clusters),
      contexts: Object.fromEntries(o.plan.clusters.map((c) => [c.arn, c.context])),
      plan: o.plan as unknown as JsonObject,
      previous,
    }),
    events,
    (e) => events({ type: 'finalize-step', report: e.report }),
    (deps) => new FinalizeExecutor(o.plan, { concurrency: o.concurrency }, deps).run(o.startedAt.toISOString()),
  );
}
