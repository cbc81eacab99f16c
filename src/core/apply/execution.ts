/**
 * What the three executors (`migrate --apply`, `rollback --apply`, `finalize --apply`) share, one
 * copy each: their dependencies, retried reads and mutations counted for the summary, the journal
 * records (intent before a change, step after, outcome per ServiceAccount, finished last), the
 * run's status and exit code, and the waits and read-backs more than one of them makes (an
 * add-on settling, a trust policy or a ServiceAccount's annotations written and read back).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { canonicalJson } from '../plan/fingerprint.js';
import type { JournalAction, JournalWriter, StepRecord } from './journal.js';
import type { AddonRecord, ApplyPorts, Clock, EksApplyPort, KubeApplyPort, PodState } from './ports.js';
import { readRetrying, withRetry, type RetryContext, type RetryPolicy } from './retry.js';
import type { RunResultHeader, RunStatus, StepStatus } from './result.js';
import type { RolloutOutcome } from './rollout.js';

export interface ProgressEvent {
  kind: 'progress';
  message: string;
}

/** What an executor is given (the application layer builds it from its services). */
export interface ExecutorDeps<Previous, Event> {
  ports: ApplyPorts;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  /** Aborted on SIGINT: finish what is in flight, start nothing new. */
  signal: AbortSignal;
  runId: string;
  /** Opens the run's journal with the previous state; called once, before the first mutating call. */
  openJournal(previous: Previous): Promise<JournalWriter>;
  onEvent?: (e: Event | ProgressEvent) => void;
}

/** What one step of a rollback or finalize came to. */
export interface StepOutcome {
  status: StepStatus;
  message: string;
  /** Calls made for the change (retries included). */
  attempts?: number;
}

/** An error as one line for a report: a PodidError's message with its hint. */
export function errorText(err: unknown): string {
  if (err instanceof PodidError) return `${err.message}${err.hint ? ` (${err.hint})` : ''}`;
  return err instanceof Error ? err.message : String(err);
}

/** A step that left its target as wanted. */
export const succeeded = (s: StepStatus): boolean => s === 'done' || s === 'already-done';

/** A pod that is running or about to (not terminating, not finished). */
export const isActivePod = (p: PodState): boolean => !p.terminating && (p.phase === 'Running' || p.phase === 'Pending');

/** Whether a pod belongs to the workload (Deployment pods are owned by its ReplicaSets). */
export function ownedBy(p: PodState, kind: string, name: string): boolean {
  if (p.owner === null) return false;
  if (kind === 'Deployment') return p.owner.kind === 'ReplicaSet' && p.owner.name.startsWith(`${name}-`);
  return p.owner.kind === kind && p.owner.name === name;
}

/** An idempotency token for one step of one run (EKS allows 1-64 characters). */
export function requestToken(runId: string, stepId: string): string {
  return createHash('sha256').update(`${runId}\u0000${stepId}`).digest('hex').slice(0, 40);
}

/** The association id in an association ARN (`arn:...:podidentityassociation/<cluster>/<id>`). */
export function associationIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** The value `kubectl rollout restart` writes to kubectl.kubernetes.io/restartedAt (RFC 3339, seconds). */
export function restartStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A rollout that did not complete, as one line. */
export function rolloutFailure(o: Exclude<RolloutOutcome, { state: 'done' | 'interrupted' }>): string {
  return `rollout ${o.state === 'gone' ? 'lost' : o.stuck ? 'stuck' : 'failed'}: ${o.message}`;
}

/** The run's status and exit code (docs/errors.md): interrupted 130, partial 5, refused 4. */
export function runStatus(interrupted: boolean, failed: boolean, refused: boolean): { status: RunStatus; exitCode: number } {
  if (interrupted) return { status: 'interrupted', exitCode: 130 };
  if (failed) return { status: 'partial', exitCode: 5 };
  if (refused) return { status: 'refused', exitCode: 4 };
  return { status: 'succeeded', exitCode: 0 };
}

const ADDON_BUSY = new Set(['CREATING', 'UPDATING', 'DELETING']);

/** Whether EKS is still working on the add-on (another update must wait). */
export const addonBusy = (a: AddonRecord): boolean => ADDON_BUSY.has(a.status);

/**
 * The base of the executors: retried reads, counted mutations, journal records, events. A read
 * stops retrying once `stop` is aborted; a mutation already sent is retried until the run itself
 * is interrupted (SIGINT).
 */
export abstract class Execution<Previous, Event> {
  protected journal: JournalWriter | null = null;
  protected mutatingCalls = 0;
  /** Aborted on SIGINT, or by the executor itself (apply's --fail-fast): reads stop retrying, nothing new starts. */
  protected readonly stop = new AbortController();
  protected readonly retryCtx: RetryContext;
  /** The mutating calls sent by the step whose work runs in this async context (see `counted`). */
  private readonly stepCalls = new AsyncLocalStorage<{ sent: number }>();

  constructor(protected readonly deps: ExecutorDeps<Previous, Event>) {
    this.retryCtx = {
      clock: deps.clock,
      policy: deps.retry,
      random: deps.random,
      signal: this.stop.signal,
      onRetry: ({ attempt, delayMs, error }) => this.progress(`retrying after ${errorText(error)} (attempt ${attempt + 1} in ${delayMs} ms)`),
    };
    if (deps.signal.aborted) this.stop.abort();
    else deps.signal.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  protected emit(e: Event | ProgressEvent): void {
    this.deps.onEvent?.(e);
  }

  protected progress(message: string): void {
    this.emit({ kind: 'progress', message });
  }

  protected now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  protected read<T>(fn: () => Promise<T>): Promise<T> {
    return readRetrying(this.retryCtx, fn);
  }

  /** A mutating call, retried (core/apply/retry.ts) and counted; `attempts` is how many were sent. */
  protected async mutate<T>(send: () => Promise<T>, opts: Parameters<typeof withRetry<T>>[2] = {}): Promise<{ value: T; attempts: number; readBack: boolean }> {
    let attempts = 0;
    const step = this.stepCalls.getStore();
    const result = await withRetry(
      { ...this.retryCtx, signal: this.deps.signal },
      () => {
        attempts++;
        this.mutatingCalls++;
        if (step) step.sent++;
        return send();
      },
      opts,
    );
    return { ...result, attempts };
  }

  /**
   * Runs one step's work and counts the mutating calls it sent (retries included), whatever it
   * came to: a step that fails after a call was sent (a retried write that ran out of retries, a
   * rollout that failed after its patch) reports the calls it really sent, not 0. `work` must not
   * throw (it returns its failure).
   */
  protected async counted<T>(work: () => Promise<T>): Promise<{ value: T; sent: number }> {
    const counter = { sent: 0 };
    const value = await this.stepCalls.run(counter, work);
    return { value, sent: counter.sent };
  }

  /**
   * One step's work, its error turned into its failure (`failed`), with `attempts`: the mutating
   * calls it sent (`counted`), failed or not. Apply's steps and `guarded` share it.
   */
  protected async attempted<O extends object>(run: () => Promise<O>, failed: (err: unknown) => O): Promise<O & { attempts: number }> {
    const { value, sent } = await this.counted(async () => {
      try {
        return await run();
      } catch (err) {
        return failed(err);
      }
    });
    return { ...value, attempts: sent };
  }

  /** Opens the journal with the previous state: before the first mutation, always. */
  protected async openJournal(previous: Previous): Promise<JournalWriter> {
    this.journal = await this.deps.openJournal(previous);
    return this.journal;
  }

  protected async intent(stepId: string, action: JournalAction, target: string, request: JsonObject): Promise<void> {
    await this.journal?.append({ record: 'intent', at: this.now(), stepId, action, target, request });
  }

  protected async recordStep(rec: Omit<StepRecord, 'record' | 'at'>): Promise<void> {
    await this.journal?.append({ record: 'step', at: this.now(), ...rec });
  }

  protected async recordOutcome(r: { cluster: string; namespace: string; serviceAccount: string; outcome: string; reason: string }): Promise<void> {
    await this.journal?.append({ record: 'outcome', at: this.now(), cluster: r.cluster, namespace: r.namespace, serviceAccount: r.serviceAccount, outcome: r.outcome, reason: r.reason });
  }

  /** Journals the run's end and returns its header fields. */
  protected async finish(journal: JournalWriter, startedAt: string, clusters: string[], failed: boolean, refused: boolean, summary: JsonObject): Promise<RunResultHeader> {
    const { status, exitCode } = runStatus(this.deps.signal.aborted, failed, refused);
    const finishedAt = this.now();
    await journal.append({ record: 'finished', at: finishedAt, status, exitCode, summary });
    return { runId: this.deps.runId, journal: journal.path, startedAt, finishedAt, status, exitCode, clusters };
  }

  /**
   * Runs one step's work: skipped (`interrupted`) once the run is interrupted, else `attempted`.
   */
  protected async guarded<O extends StepOutcome>(interrupted: string, run: () => Promise<O>): Promise<O | StepOutcome> {
    if (this.deps.signal.aborted) return { status: 'skipped', message: interrupted };
    return this.attempted<O | StepOutcome>(run, (err) => ({ status: 'failed', message: errorText(err) }));
  }

  /** UpdateAssumeRolePolicy with `document`, read back (GetRole) when an answer is lost. */
  protected writeTrust(roleArn: string, document: JsonObject): Promise<{ value: true; attempts: number; readBack: boolean }> {
    const iam = this.deps.ports.iam;
    return this.mutate(
      async () => {
        await iam.updateAssumeRolePolicy(roleArn, document);
        return true as const;
      },
      {
        readBack: async () => {
          const r = await iam.getRole(roleArn);
          return r !== null && canonicalJson(r.document) === canonicalJson(document) ? (true as const) : undefined;
        },
      },
    );
  }

  /** Sets (a string) or removes (null) a ServiceAccount's annotations, read back when an answer is lost. */
  protected patchAnnotations(kube: KubeApplyPort, namespace: string, name: string, patch: Record<string, string | null>): Promise<{ value: true; attempts: number; readBack: boolean }> {
    return this.mutate(
      async () => {
        await kube.patchServiceAccountAnnotations(namespace, name, patch);
        return true as const;
      },
      {
        readBack: async () => {
          const now = await kube.getServiceAccount(namespace, name);
          return now !== null && Object.entries(patch).every(([k, v]) => now.annotations[k] === (v ?? undefined)) ? (true as const) : undefined;
        },
      },
    );
  }

  /**
   * Waits until EKS has finished with the add-on: null when it is ACTIVE (or, with `goneIsSettled`,
   * no longer installed), otherwise why not (failed, still busy after `settleTimeoutMs`, interrupted).
   */
  protected async waitAddonActive(eks: EksApplyPort, cluster: string, addonName: string, o: { settleTimeoutMs: number; pollMs: number; goneIsSettled: boolean }): Promise<string | null> {
    const started = this.deps.clock.now();
    for (;;) {
      const a = await this.read(() => eks.describeAddon(cluster, addonName));
      if (a === null) return o.goneIsSettled ? null : `add-on ${addonName} disappeared from ${cluster}`;
      if (a.status === 'ACTIVE') return null;
      if (!addonBusy(a)) return `add-on ${addonName} on ${cluster} is ${a.status}${a.issues.length ? `: ${a.issues.join('; ')}` : ''}`;
      if (this.deps.clock.now() - started >= o.settleTimeoutMs) return `add-on ${addonName} on ${cluster} is still ${a.status} after ${Math.round(o.settleTimeoutMs / 1000)}s`;
      if (this.deps.signal.aborted) return `interrupted while add-on ${addonName} on ${cluster} was ${a.status}`;
      await this.deps.clock.sleep(o.pollMs, this.deps.signal);
    }
  }

  /** The pods of a workload (its own, by owner) among those of the ServiceAccounts it runs as. */
  protected async podsOf(kube: KubeApplyPort, w: { kind: string; namespace: string; name: string; serviceAccounts: readonly string[] }): Promise<PodState[]> {
    const pods = (await Promise.all(w.serviceAccounts.map((sa) => this.read(() => kube.listPods(w.namespace, sa))))).flat();
    return pods.filter((p) => ownedBy(p, w.kind, w.name));
  }
}
