/**
 * `finalize`: the use cases behind `podid finalize`. `planFinalizeRun` scans the clusters
 * (read-only), plans (pure) and, with --delete-oidc-provider, decides for each cluster's OIDC
 * provider whether any role of its account still refers to it (every role, read-only);
 * `finalizeRun` locks the plan's clusters (the same lock as apply), journals the previous state
 * and runs the executor. The review, confirmation and printing are the CLI's.
 */
import { oidcProviderArn, type Partition } from '../core/arn.js';
import type { FinalizePrevious } from '../core/apply/journal.js';
import type { Clock, IamApplyPort } from '../core/apply/ports.js';
import { readRetrying, type RetryPolicy } from '../core/apply/retry.js';
import { FinalizeExecutor, type FinalizeEvent } from '../core/finalize/executor.js';
import { planFinalize, trustAfter, type FinalizePlan } from '../core/finalize/plan.js';
import { assessProviders } from '../core/finalize/provider.js';
import type { FinalizeResult } from '../core/finalize/result.js';
import type { JsonObject } from '../core/json.js';
import type { ScanPorts } from '../core/ports.js';
import type { Inventory } from '../core/scan/inventory.js';
import type { UsageError } from '../core/errors.js';
import { unmatchedListedSelection } from '../core/selection.js';
import type { EventSink } from './events.js';
import { runLocked, runRecord, type ExecutionServices, type RunIdentity } from './execution.js';
import { scanClusters, type ClusterScanOptions } from './scan.js';

/** --delete-oidc-provider: the IAM port its reads go through, retried as apply retries reads. */
export interface ProviderAssessment {
  readonly iam: IamApplyPort;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
  readonly random: () => number;
}

/**
 * Scans and plans a finalize run. A selection that names nothing on the scanned clusters is a
 * usage error when every cluster was scanned; in a partial fleet run it may name something on a
 * cluster that could not be scanned, so it is returned (`unmatched`) for the caller to say.
 */
export async function planFinalizeRun(options: ClusterScanOptions, ports: ScanPorts, events: EventSink, oidc?: ProviderAssessment): Promise<{ plan: FinalizePlan; partial: boolean; inventory: Inventory; unmatched: UsageError | null }> {
  const scanned = await scanClusters(options, ports, events);
  const unmatched = unmatchedListedSelection(scanned.snapshot, options);
  if (unmatched !== null && !scanned.partial) throw unmatched;
  const plan = planFinalize(scanned.snapshot, scanned.inventory);
  if (oidc) {
    events({ type: 'apply-progress', message: 'reading every role of the account (--delete-oidc-provider)' });
    const candidates = scanned.snapshot.clusters
      .filter((c) => c.context !== null && c.oidcIssuer !== null)
      .map((c) => ({ cluster: c.arn, partition: c.partition, account: c.account, providerArn: oidcProviderArn(c.partition as Partition, c.account, c.oidcIssuer as string) }));
    const ctx = { clock: oidc.clock, policy: oidc.retry, random: oidc.random, signal: new AbortController().signal };
    plan.oidcProviders = await assessProviders(candidates, trustAfter(plan), { iam: oidc.iam, callerAccount: scanned.snapshot.caller.account, read: (fn) => readRetrying(ctx, fn) });
  }
  return { plan, partial: scanned.partial, inventory: scanned.inventory, unmatched };
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
