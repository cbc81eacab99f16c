/**
 * The application layer's progress events: what a command is doing, typed. The app emits them
 * through an EventSink it is given; the CLI renders them (cli/progress.ts), a test can collect
 * them. Commands added later (apply) extend AppEvent with their own members.
 */
import type { ServiceAccountReport, StepReport, WorkloadReport } from '../core/apply/result.js';
import type { FinalizeStepReport } from '../core/finalize/result.js';
import type { RollbackSaReport, RollbackStepReport } from '../core/rollback/result.js';
import type { ScanEvent } from '../core/scan/events.js';

export type PlanEvent =
  /** The clusters are read (`objects`: their Kubernetes objects): what follows is the analysis. */
  | { readonly type: 'analysing'; readonly clusters: number; readonly objects: number }
  | { readonly type: 'planning'; readonly serviceAccounts: number; readonly addons: number };

export type ApplyAppEvent =
  | { readonly type: 'apply-reading' }
  | { readonly type: 'apply-step'; readonly report: StepReport }
  | { readonly type: 'apply-workload'; readonly cluster: string; readonly workload: WorkloadReport }
  | { readonly type: 'apply-progress'; readonly message: string }
  | { readonly type: 'apply-outcome'; readonly sa: ServiceAccountReport };

export type RollbackAppEvent =
  | { readonly type: 'rollback-step'; readonly report: RollbackStepReport }
  | { readonly type: 'rollback-outcome'; readonly sa: RollbackSaReport }
  | { readonly type: 'finalize-step'; readonly report: FinalizeStepReport };

export type AppEvent = ScanEvent | PlanEvent | ApplyAppEvent | RollbackAppEvent;

export type EventSink = (event: AppEvent) => void;

