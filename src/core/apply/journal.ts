/**
 * The run journal: what `podid migrate --apply` did, durable before and while it does it, so a
 * crash loses nothing and `podid rollback` can undo exactly. One JSON Lines file per run
 * (`<runId>.jsonl`): the first record (`run`) is written atomically (temporary file, fsync,
 * rename, fsync of the directory) BEFORE the first mutating call and holds the plan and the
 * exact previous state of everything the run may touch; every later record is appended with one
 * write and fsynced before the run goes on. A torn last line (power loss mid-append) is the only
 * damage possible, and readers skip it. Format: docs/apply.md#the-journal.
 */
import type { JsonObject } from '../json.js';
import type { MigrationPlan } from '../plan/model.js';
import type { AddonRecord, AssociationRecord, OidcProviderRecord, RestartableKind } from './ports.js';
import { compareStrings } from '../text.js';

export const JOURNAL_KIND = 'podid-run-journal';
export const JOURNAL_SCHEMA_VERSION = 1;

export interface PreviousState {
  /** Every role whose trust policy the run may update: the document exactly as GetRole returned it (decoded). */
  roles: { roleArn: string; trustPolicy: JsonObject | null }[];
  /** Every namespace/SA the run may associate: the associations that existed before (usually none). */
  associations: { cluster: string; namespace: string; serviceAccount: string; existing: AssociationRecord[] }[];
  /** Every add-on the run may create or update: as DescribeAddon returned it (null: absent), with the associations it owned, described. */
  addons: { cluster: string; addonName: string; addon: AddonRecord | null; ownedAssociations: AssociationRecord[] }[];
  /** Every workload the run may restart: its uid and its previous restartedAt annotation. */
  workloads: { cluster: string; kind: RestartableKind; namespace: string; name: string; uid: string | null; restartedAt: string | null }[];
}

export interface RunOptionsRecord {
  propagationWaitMs: number;
  maxConcurrentRollouts: number;
  rolloutTimeoutMs: number;
  concurrency: number;
  failFast: boolean;
  restart: boolean;
  /** --verify-probe: the image of the probe pod, or null (absent in journals of older versions). */
  verifyProbe?: string | null;
}

export interface RunRecord {
  kind: typeof JOURNAL_KIND;
  schemaVersion: typeof JOURNAL_SCHEMA_VERSION;
  record: 'run';
  /** Absent in journals of podid versions before rollback existed: an apply. */
  command?: 'apply';
  runId: string;
  startedAt: string;
  toolVersion: string;
  /** Cluster ARNs the run is locked on. */
  clusters: string[];
  /** The --plan file, or null when the run planned itself. */
  planSource: string | null;
  options: RunOptionsRecord;
  plan: MigrationPlan;
  previous: PreviousState;
}

/** The first record of a `podid rollback` journal. */
export interface RollbackRunRecord {
  kind: typeof JOURNAL_KIND;
  schemaVersion: typeof JOURNAL_SCHEMA_VERSION;
  record: 'run';
  command: 'rollback';
  runId: string;
  startedAt: string;
  toolVersion: string;
  clusters: string[];
  /** The run being undone, and its journal. */
  rollbackOf: string;
  rollbackOfJournal: string;
  /** Earlier runs whose every change this rollback undoes too (a re-run adopted them). Absent in older journals. */
  alsoRollsBack?: string[];
  options: { propagationWaitMs: number; maxConcurrentRollouts: number; rolloutTimeoutMs: number; concurrency: number };
}

/** What finalize found before changing anything: exactly what rollback restores. */
export interface FinalizePrevious {
  /** Every ServiceAccount finalize may edit: the annotations it may remove, with their values. */
  serviceAccounts: { cluster: string; context: string; namespace: string; name: string; uid: string; annotations: Record<string, string> }[];
  /** Every role whose trust policy finalize may update, exactly as GetRole returned it. */
  roles: { roleArn: string; trustPolicy: JsonObject | null }[];
  /**
   * Every OIDC provider finalize may delete (--delete-oidc-provider), as GetOpenIDConnectProvider
   * described it: what rollback creates again. Absent in journals of older versions.
   */
  oidcProviders?: (OidcProviderRecord & { cluster: string })[];
}

/** The first record of a `podid finalize` journal. */
export interface FinalizeRunRecord {
  kind: typeof JOURNAL_KIND;
  schemaVersion: typeof JOURNAL_SCHEMA_VERSION;
  record: 'run';
  command: 'finalize';
  runId: string;
  startedAt: string;
  toolVersion: string;
  clusters: string[];
  /** Cluster ARN -> kubeconfig context. */
  contexts: Record<string, string>;
  /** The reviewed finalize plan. */
  plan: JsonObject;
  previous: FinalizePrevious;
}

export type AnyRunRecord = RunRecord | RollbackRunRecord | FinalizeRunRecord;

/** Which command a journal's first record belongs to. */
export function commandOf(run: AnyRunRecord): 'apply' | 'rollback' | 'finalize' {
  return run.command ?? 'apply';
}

export type JournalAction =
  | 'update-trust' | 'create-association' | 'create-addon' | 'update-addon' | 'restart'
  // rollback
  | 'delete-association' | 'restore-addon' | 'delete-addon' | 'restore-restart' | 'restore-trust' | 'restore-service-account'
  // finalize
  | 'remove-irsa-annotations' | 'remove-oidc-trust' | 'delete-oidc-provider'
  // rollback of a finalize
  | 'restore-oidc-provider';

/** Written just before a mutating call whose request carries something the read-back needs. */
export interface IntentRecord {
  record: 'intent';
  at: string;
  stepId: string;
  action: JournalAction;
  target: string;
  /** What will be sent: the trust document, the clientRequestToken, the restartedAt value, ... */
  request: JsonObject;
}

/** A step (or, for restarts, one workload of a batch) finished. */
export interface StepRecord {
  record: 'step';
  at: string;
  stepId: string;
  action: JournalAction | 'install-agent' | 'verify' | 'verify-probe';
  target: string;
  status: 'done' | 'already-done' | 'drifted' | 'failed' | 'skipped';
  message: string;
  /** What is there now, for rollback: the association created, the trust written, the restartedAt set. */
  result: JsonObject | null;
  /** The mutating calls the step sent (retries included), failed or not; absent on per-workload, verify and older records. */
  attempts?: number;
}

export interface OutcomeRecord {
  record: 'outcome';
  at: string;
  cluster: string;
  namespace: string;
  serviceAccount: string;
  outcome: string;
  reason: string;
}

export interface FinishedRecord {
  record: 'finished';
  at: string;
  status: string;
  exitCode: number;
  summary: JsonObject;
}

export type JournalRecord = AnyRunRecord | IntentRecord | StepRecord | OutcomeRecord | FinishedRecord;

/** The journal of one run, open for appending. `append` resolves once the record is durable. */
export interface JournalWriter {
  readonly path: string;
  append(record: IntentRecord | StepRecord | OutcomeRecord | FinishedRecord): Promise<void>;
}

/** Parses a journal file; a torn last line is dropped, any other bad line is an error. */
export function parseJournal(text: string): JournalRecord[] {
  const lines = text.split('\n');
  const out: JournalRecord[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as JournalRecord);
    } catch (err) {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (last) break;
      throw new Error(`journal line ${i + 1} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return out;
}

/** Where journals are kept: creates a run's journal with its first record, durably. */
export interface JournalStore {
  create(first: AnyRunRecord): Promise<JournalWriter>;
}

/** One run as `podid runs` lists it: read from its journal. */
export interface RunSummary {
  runId: string;
  command: 'apply' | 'rollback' | 'finalize';
  journal: string;
  startedAt: string;
  finishedAt: string | null;
  clusters: string[];
  /** The finished record's status; `unfinished` when the run never wrote one (killed, or still running). */
  status: string;
  exitCode: number | null;
  /** ServiceAccounts per outcome (migrated, restored, finalized, failed, ...). */
  outcomes: Record<string, number>;
  /** Changes sent (one intent record is journaled before each mutating call). */
  changes: number;
  /** rollback: the run it undoes. */
  rollbackOf: string | null;
  /** apply/finalize: the rollback runs that undid it, latest last. */
  rolledBackBy: string[];
  /** rollback: earlier runs it undoes too (their changes were adopted by the run it undoes). */
  alsoRollsBack?: string[];
}

/** Summarises one journal (pure). null when its first record is not a run record. */
export function summarizeJournal(path: string, records: readonly JournalRecord[]): RunSummary | null {
  const run = records[0];
  if (run === undefined || run.record !== 'run' || run.kind !== JOURNAL_KIND) return null;
  const finished = records.find((r): r is FinishedRecord => r.record === 'finished');
  const outcomes: Record<string, number> = {};
  for (const r of records) if (r.record === 'outcome') outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const changes = records.filter((r) => r.record === 'intent').length;
  return {
    runId: run.runId,
    command: commandOf(run),
    journal: path,
    startedAt: run.startedAt,
    finishedAt: finished?.at ?? null,
    clusters: run.clusters,
    status: finished?.status ?? 'unfinished',
    exitCode: finished?.exitCode ?? null,
    outcomes,
    changes,
    rollbackOf: run.command === 'rollback' ? run.rollbackOf : null,
    rolledBackBy: [],
    ...(run.command === 'rollback' && Array.isArray(run.alsoRollsBack) && run.alsoRollsBack.length > 0 ? { alsoRollsBack: run.alsoRollsBack.map(String) } : {}),
  };
}

/** Links rollbacks to the runs they undo, newest run first. */
export function linkRuns(summaries: readonly RunSummary[]): RunSummary[] {
  const sorted = [...summaries].sort((a, b) => compareStrings(b.startedAt, a.startedAt) || compareStrings(b.runId, a.runId));
  const byId = new Map(sorted.map((s) => [s.runId, { ...s, rolledBackBy: [] as string[] }] as const));
  for (const s of [...sorted].reverse()) {
    if (s.rollbackOf !== null) byId.get(s.rollbackOf)?.rolledBackBy.push(s.runId);
    for (const id of s.alsoRollsBack ?? []) byId.get(id)?.rolledBackBy.push(s.runId);
  }
  return sorted.map((s) => byId.get(s.runId)!);
}

export interface HeldLock {
  release(): void;
}

/** One apply at a time per cluster: acquire refuses (RefusedError, exit 4) while a live run holds any of them. */
export interface LockPort {
  acquire(clusters: readonly string[], runId: string): HeldLock;
}
