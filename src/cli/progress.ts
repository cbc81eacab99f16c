/** The application layer's progress events as the one-line texts the CLI's spinner shows. */
import type { AppEvent, EventSink } from '../app/events.js';
import type { Io } from './io.js';

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
    case 'iam-reading':
      return 'reading IAM roles';
    case 'planning':
      return `planning ${e.serviceAccounts} service accounts and ${e.addons} add-ons`;
  }
}

/** Renders events through the Io (a spinner on a terminal, nothing otherwise). */
export function eventsTo(io: Io): EventSink {
  return (e) => io.progress(progressText(e));
}
