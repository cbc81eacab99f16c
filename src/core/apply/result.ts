/**
 * The run result: what `podid migrate --apply -o json` prints and the text report renders.
 * Documented in docs/apply.md#the-run-result.
 */
export const RUN_RESULT_KIND = 'podid-apply-result';
export const RUN_RESULT_SCHEMA_VERSION = 1;

export type StepStatus = 'done' | 'already-done' | 'drifted' | 'failed' | 'skipped';

export interface StepReport {
  /** The plan step id; for one workload of a restart batch, `<batch id>#<Kind>/<namespace>/<name>`. */
  id: string;
  kind: 'install-agent' | 'update-trust' | 'create-association' | 'update-addon' | 'restart';
  target: string;
  status: StepStatus;
  message: string;
  /** Calls made for the change (retries included); 0 when nothing was sent. */
  attempts: number;
}

/**
 * - `migrated`: every step done and verified.
 * - `needs-restart`: the association and trust are in place and verified, but some of the SA's
 *   pods still run with IRSA credentials (--no-restart, workloads podid does not restart, or
 *   cross-account roles waiting for the target trust).
 * - `drifted`: a step's inputs changed since the plan was made; that step was refused.
 * - `failed`: a step or the verification failed.
 * - `skipped`: not reached (--fail-fast after another failure, or the run was interrupted).
 */
export type SaOutcome = 'migrated' | 'needs-restart' | 'drifted' | 'failed' | 'skipped';

export interface WorkloadReport {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  namespace: string;
  name: string;
  /** restarted | already-on-pod-identity | not-restarted | failed | drifted | skipped */
  status: 'restarted' | 'already-on-pod-identity' | 'not-restarted' | 'failed' | 'drifted' | 'skipped';
  message: string;
}

export interface ServiceAccountReport {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  /** How it moves: a new association, an add-on update, or an association that already existed. */
  via: 'association' | 'addon' | 'existing-association';
  addon: string | null;
  roleArn: string | null;
  targetRoleArn: string | null;
  outcome: SaOutcome;
  /** Why, in one or more sentences. */
  reason: string;
  /** The plan steps this SA depended on. */
  steps: string[];
  workloads: WorkloadReport[];
  /** Pods verified on Pod Identity, and running pods still on IRSA. */
  pods: { verified: string[]; stale: string[] };
  /** --verify-probe: the probe pod, the caller ARN it printed, and whether it was the expected role; null when no probe ran. */
  probe?: { pod: string; arn: string | null; ok: boolean; message: string } | null;
}

export type RunStatus = 'succeeded' | 'no-changes' | 'partial' | 'refused' | 'interrupted';

/** The fields every run result starts with (apply, rollback, finalize). */
export interface RunResultHeader {
  runId: string | null;
  /** The journal file, or null when nothing was to be done. */
  journal: string | null;
  startedAt: string;
  finishedAt: string;
  status: RunStatus;
  exitCode: number;
  /** The cluster ARNs the run was locked on. */
  clusters: string[];
}

export interface RunResult extends RunResultHeader {
  kind: typeof RUN_RESULT_KIND;
  schemaVersion: typeof RUN_RESULT_SCHEMA_VERSION;
  steps: StepReport[];
  serviceAccounts: ServiceAccountReport[];
  /** Items the plan itself blocked (never attempted), as in the plan. */
  blocked: number;
  summary: { migrated: number; needsRestart: number; drifted: number; failed: number; skipped: number; mutatingCalls: number };
}
