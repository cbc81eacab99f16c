/**
 * The result of `podid finalize --apply` (and what `-o json` prints). Documented in
 * docs/rollback.md.
 */
import type { RunResultHeader, StepStatus } from '../apply/result.js';

export const FINALIZE_RESULT_KIND = 'podid-finalize-result';

export type FinalizeOutcome = 'finalized' | 'refused' | 'drifted' | 'failed' | 'skipped';

export interface FinalizeStepReport {
  id: string;
  kind: 'remove-oidc-trust' | 'remove-irsa-annotations';
  target: string;
  status: StepStatus;
  message: string;
  attempts: number;
}

export interface FinalizeSaReport {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  outcome: FinalizeOutcome;
  reason: string;
  warnings: string[];
}

export interface FinalizeResult extends RunResultHeader {
  kind: typeof FINALIZE_RESULT_KIND;
  schemaVersion: 1;
  steps: FinalizeStepReport[];
  serviceAccounts: FinalizeSaReport[];
  summary: { finalized: number; refused: number; drifted: number; failed: number; skipped: number; mutatingCalls: number };
}
