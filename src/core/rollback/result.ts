/**
 * The result of `podid rollback --apply` (and what `-o json` prints). Documented in
 * docs/rollback.md#the-result.
 */
import type { JsonObject } from '../json.js';
import type { RunResultHeader, StepStatus } from '../apply/result.js';

export const ROLLBACK_RESULT_KIND = 'podid-rollback-result';
export const ROLLBACK_RESULT_SCHEMA_VERSION = 1;

export type RollbackStepKind = 'restore-service-account' | 'restore-trust' | 'delete-association' | 'restore-addon' | 'restore-restart' | 'delete-addon';

export interface RollbackStepReport {
  id: string;
  kind: RollbackStepKind;
  target: string;
  status: StepStatus;
  message: string;
  attempts: number;
  /**
   * A trust policy refused because someone changed it after the run: the three documents (before
   * the run, what the run wrote, what it is now). The text report shows them as diffs.
   */
  conflict?: { previous: JsonObject; written: JsonObject; current: JsonObject };
}

/**
 * - `restored`: back on IRSA: no association of the run left, the IRSA annotation in place, the
 *   role's trust admits IRSA, and every new pod of the restarted workloads has the IRSA env.
 * - `needs-restart`: restored, but some pods (not restarted by the run) still run on Pod Identity.
 * - `drifted`, `failed`, `skipped`: as for apply.
 */
export type RollbackOutcome = 'restored' | 'needs-restart' | 'drifted' | 'failed' | 'skipped';

export interface RollbackSaReport {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  addon: string | null;
  outcome: RollbackOutcome;
  reason: string;
  /** Pods verified on IRSA, and running pods still on Pod Identity. */
  pods: { irsa: string[]; podIdentity: string[] };
}

export interface RollbackResult extends RunResultHeader {
  kind: typeof ROLLBACK_RESULT_KIND;
  schemaVersion: typeof ROLLBACK_RESULT_SCHEMA_VERSION;
  rollbackOf: string;
  steps: RollbackStepReport[];
  serviceAccounts: RollbackSaReport[];
  summary: { restored: number; needsRestart: number; drifted: number; failed: number; skipped: number; refusedSteps: number; mutatingCalls: number };
}
