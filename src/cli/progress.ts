/** The application layer's progress events as the one-line texts the CLI's spinner shows. */
import type { AppEvent, EventSink } from '../app/events.js';
import { finding } from '../core/scan/findings.js';
import type { Inventory } from '../core/scan/inventory.js';
import type { Io } from './io.js';
import { releaseMemoryAt } from './memory.js';

export function progressText(e: AppEvent): string {
  switch (e.type) {
    case 'scan-started':
      return `Scanning ${e.contexts.length === 1 ? e.contexts[0] : `${e.contexts.length} clusters`}`;
    case 'context-duplicate':
      return `context ${e.context} is the same cluster as ${e.sameAs}; scanning it once`;
    case 'cluster-describing':
      return `${e.cluster}: describing the cluster`;
    case 'cluster-reading':
      return `${e.cluster}: reading EKS and Kubernetes`;
    case 'cluster-read':
      return `${e.cluster}: ${e.serviceAccounts} service accounts, ${e.pods} pods`;
    case 'cluster-failed':
      // Kubernetes failures name their context; AWS ones name only the call: say whose it was.
      return e.message.includes(`"${e.context}"`) ? e.message : `context "${e.context}": ${e.message}`;
    case 'iam-reading':
      return 'reading IAM roles';
    case 'iam-boundaries-unknown':
      return finding('ROLE_BOUNDARIES_UNKNOWN', e).message;
    case 'analysing':
      return `analysing ${e.clusters === 1 ? 'the cluster' : `${e.clusters} clusters`}`;
    case 'planning':
      return `planning ${e.serviceAccounts} service accounts and ${e.addons} add-ons`;
    case 'apply-reading':
      return 'reading the current state of everything the plan touches';
    case 'apply-step':
      return `${e.report.kind} ${e.report.status}: ${e.report.target}`;
    case 'apply-workload':
      return `${e.workload.kind}/${e.workload.namespace}/${e.workload.name}: ${e.workload.status}`;
    case 'apply-progress':
      return e.message;
    case 'apply-outcome':
    case 'rollback-outcome':
      return `${e.sa.namespace}/${e.sa.serviceAccount}: ${e.sa.outcome}`;
    case 'rollback-step':
    case 'finalize-step':
      return `${e.report.kind} ${e.report.status}: ${e.report.target}`;
  }
}

/**
 * Renders events through the Io: progress on the spinner (a terminal only); a cluster a fleet
 * run could not scan as a line on stderr at once, whatever the output, so a long run never
 * hides a failure until the end (the report carries it as a finding too).
 */
export function eventsTo(io: Io): EventSink {
  return (e) => {
    if (e.type === 'cluster-failed') {
      io.done();
      io.warn(`podid: ${progressText(e)} (${e.code}); scanning the other clusters`);
    } else if (e.type === 'iam-boundaries-unknown') {
      io.done();
      io.warn(`podid: ${progressText(e)}`);
    } else {
      io.progress(progressText(e));
    }
    releaseMemoryAt(e);
  };
}

/**
 * A selection (-n, --service-account, --role) that matches nothing on the scanned clusters of a
 * fleet run where some could not be scanned may match there: not a usage error but a warning
 * (the run is partial, exit 5). Rethrows the error when every cluster was scanned.
 */
export function warnSelectionUnscanned(io: Io, inventory: Inventory, unmatched: Error): void {
  const skipped = inventory.clusters.filter((c) => c.scanned === false).map((c) => c.context ?? c.name);
  if (skipped.length === 0) throw unmatched;
  const them = skipped.length === 1 ? 'the cluster' : `the ${skipped.length} clusters`;
  io.warn(`podid: ${unmatched.message}; it may be on ${them} that could not be scanned (${skipped.join(', ')})`);
}

/** Exit 5's one line: the result is complete for every cluster but the ones named. */
export function reportPartial(io: Io, inventory: Inventory): void {
  const skipped = inventory.clusters.filter((c) => c.scanned === false).map((c) => c.context ?? c.name);
  io.warn(`podid: partial result: ${skipped.length} of ${inventory.clusters.length} clusters could not be scanned (${skipped.join(', ')}); their findings say why`);
}
