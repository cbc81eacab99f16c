/**
 * The result of `podid finalize --apply` (and what `-o json` prints). Documented in
 * docs/rollback.md.
 */
import type { RunResultHeader, StepStatus } from '../apply/result.js';

export const FINALIZE_RESULT_KIND = 'podid-finalize-result';

export type FinalizeOutcome = 'finalized' | 'refused' | 'drifted' | 'failed' | 'skipped';

export interface FinalizeStepReport {
  id: string;
  kind: 'remove-oidc-trust' | 'remove-irsa-annotations' | 'delete-oidc-provider';
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
  /** --delete-oidc-provider: what became of each cluster's OIDC provider (empty without the flag). */
  oidcProviders: FinalizeProviderReport[];
  summary: { finalized: number; refused: number; drifted: number; failed: number; skipped: number; oidcProvidersDeleted: number; mutatingCalls: number };
}

/**
 * - `deleted` (or `already-gone`): no role refers to it; it is journaled and deleted.
 * - `refused`: kept, some role still refers to it or podid could not read every role (exit 4).
 * - `declined`: the deletion was not confirmed. `absent`: there is none. `failed`, `skipped`.
 */
export type FinalizeProviderOutcome = 'deleted' | 'already-gone' | 'refused' | 'declined' | 'absent' | 'failed' | 'skipped';

export interface FinalizeProviderReport {
  cluster: string;
  providerArn: string;
  outcome: FinalizeProviderOutcome;
  reason: string;
  trustedBy: string[];
  trustedByCount: number;
}
