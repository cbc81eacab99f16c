/**
 * The result of `podid rollback --apply` (and what `-o json` prints). Documented in
 * docs/rollback.md#the-result.
 */
import type { JsonObject } from '../json.js';
import type { RunResultHeader, StepStatus } from '../apply/result.js';

export const ROLLBACK_RESULT_KIND = 'podid-rollback-result';
export const ROLLBACK_RESULT_SCHEMA_VERSION = 1;

export type RollbackStepKind = 'restore-service-account' | 'restore-trust' | 'restore-oidc-provider' | 'delete-association' | 'restore-addon' | 'restore-restart' | 'delete-addon';

/** What a rollback put back, by kind of change: steps that ended done or already-done. */
export interface RollbackUndone {
  oidcProviders: number;
  trustPolicies: number;
  annotations: number;
  associations: number;
  addons: number;
  workloads: number;
  agents: number;
}

const UNDONE_KEY: Record<RollbackStepKind, keyof RollbackUndone> = {
  'restore-oidc-provider': 'oidcProviders',
  'restore-trust': 'trustPolicies',
  'restore-service-account': 'annotations',
  'delete-association': 'associations',
  'restore-addon': 'addons',
  'restore-restart': 'workloads',
  'delete-addon': 'agents',
};

/** Counts the steps that are back as before (done now, or found already done), by kind. */
export function countUndone(steps: readonly Pick<RollbackStepReport, 'kind' | 'status'>[]): RollbackUndone {
  const out: RollbackUndone = { oidcProviders: 0, trustPolicies: 0, annotations: 0, associations: 0, addons: 0, workloads: 0, agents: 0 };
  for (const s of steps) if (s.status === 'done' || s.status === 'already-done') out[UNDONE_KEY[s.kind]]++;
  return out;
}

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
 *   For a finalize run: its IRSA annotations, its role's OIDC grant and the cluster's OIDC
 *   provider are back, verified (its pods keep Pod Identity while its association exists).
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
  summary: { restored: number; needsRestart: number; drifted: number; failed: number; skipped: number; refusedSteps: number; undone: RollbackUndone; mutatingCalls: number };
}
