/**
 * The executor of `podid migrate --apply`. For every ServiceAccount, in this order, each step
 * gated on the success of the previous ones for that SA:
 *
 *   agent add-on (CreateAddon, wait ACTIVE) -> trust policy (one UpdateAssumeRolePolicy per
 *   role, all of its SAs merged by the planner) -> wait until IAM returns the new document ->
 *   association (CreatePodIdentityAssociation with a clientRequestToken) or UpdateAddon (wait
 *   ACTIVE) -> --propagation-wait -> restart (kubectl's restartedAt annotation, at most
 *   --max-concurrent-rollouts per cluster, each awaited as `kubectl rollout status` does) ->
 *   verify.
 *
 * Before each step it re-reads the step's inputs: what is already in the target state counts as
 * done (so a re-run converges and never duplicates), what changed since the plan (the
 * fingerprint differs) is refused and reported drifted, never overwritten. Every mutation is
 * journaled (intent before, result after). Failures mark their SAs failed and the run goes on
 * (unless --fail-fast); an abort (SIGINT) lets the calls in flight finish and starts nothing new.
 */
import { parseClusterArn } from '../arn.js';
import { roleKey } from '../scan/planning.js';
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { createLimiter, type Limiter } from '../concurrency.js';
import { compareStrings, plural } from '../text.js';
import { checkNoWidening, parsePolicy } from '../policy/index.js';
import { canonicalJson, fingerprintAddon, fingerprintAgent, fingerprintAssociationInput, fingerprintRestartBatch, fingerprintTrust } from '../plan/fingerprint.js';
import type { ServedAssociation } from '../plan/fingerprint.js';
import type { CreateAssociationStep, InstallAgentStep, MigrationPlan, PlanCluster, PlanStep, RestartBatchStep, UpdateAddonStep, UpdateTrustStep } from '../plan/model.js';
import { addonBusy, associationIdOf, errorText as msg, Execution, ownedBy, requestToken, restartStamp, rolloutFailure, succeeded as ok, type ExecutorDeps } from './execution.js';
import type { PreviousState, RunOptionsRecord } from './journal.js';
import { buildModel, type ApplyModel, type SubjectSa, type WorkloadUnit } from './model.js';
import type { AddonRecord, AssociationRecord, PodState, WorkloadState } from './ports.js';
import { RUN_RESULT_KIND, RUN_RESULT_SCHEMA_VERSION, type RunResult, type SaOutcome, type ServiceAccountReport, type StepReport, type StepStatus, type WorkloadReport } from './result.js';
import { waitForRollout } from './rollout.js';
import { verifyServiceAccount } from './verify.js';
import { runProbe, type ProbeOutcome } from './probe.js';

export interface ExecutorOptions extends RunOptionsRecord {
  /** How often rollouts and add-on status are polled. */
  pollMs: number;
  /** How long to wait for IAM to return an updated trust policy, and for an add-on to become ACTIVE. */
  settleTimeoutMs: number;
}

export type ApplyEvent =
  | { kind: 'step'; report: StepReport }
  | { kind: 'workload'; cluster: string; workload: WorkloadReport }
  | { kind: 'outcome'; sa: ServiceAccountReport };

interface StepResult {
  status: StepStatus;
  message: string;
  /** Clock time at which a mutation of this step completed (for --propagation-wait). */
  mutatedAt: number | null;
}

const AGENT_NAMESPACE = 'kube-system';

export class ApplyExecutor extends Execution<PreviousState, ApplyEvent> {
  private readonly model: ApplyModel;
  private readonly results = new Map<string, Promise<StepResult>>();
  private readonly settled = new Map<string, StepResult>();
  private readonly reports: StepReport[] = [];
  private readonly workloadReports = new Map<string, WorkloadReport>();
  private readonly limit: Limiter;
  private readonly rollouts = new Map<string, Limiter>();
  private readonly roleLocks = new Map<string, Limiter>();
  private failures = 0;
  private readonly addonNamespaces = new Map<string, string>();
  private readonly installedAgent = new Set<string>();
  private readonly agentReady = new Map<string, Promise<string | null>>();

  constructor(
    private readonly plan: MigrationPlan,
    private readonly opts: ExecutorOptions,
    deps: ExecutorDeps<PreviousState, ApplyEvent>,
  ) {
    super(deps);
    this.model = buildModel(plan);
    this.limit = createLimiter(opts.concurrency);
  }

  get subjects(): readonly SubjectSa[] {
    return this.model.subjects;
  }

  private stopped(): string | null {
    if (this.deps.signal.aborted) return 'not started: the run was interrupted';
    if (this.stop.signal.aborted) return 'not started: --fail-fast stopped the run after a failure';
    return null;
  }

  private clusterOf(arn: string): PlanCluster {
    const c = this.model.clusters.get(arn);
    if (!c) throw new PodidError('PLAN_INVALID', `the plan names cluster ${arn} but does not list it in clusters`);
    return c;
  }

  private eks(cluster: string) {
    return this.deps.ports.eks(this.clusterOf(cluster).region);
  }

  private kube(cluster: string) {
    const c = this.clusterOf(cluster);
    if (c.context === null) throw new PodidError('PLAN_INVALID', `cluster ${c.name} has no kubeconfig context in the plan, so podid cannot reach its Kubernetes API`, { hint: 'make the plan from a kubeconfig context (podid migrate --dry-run --context ...)' });
    return this.deps.ports.kube(c.context);
  }

  // ---------------------------------------------------------------- previous state

  /** Reads everything the run may touch, exactly as it is, for the journal (before any mutation). */
  async readPrevious(): Promise<PreviousState> {
    const previous: PreviousState = { roles: [], associations: [], addons: [], workloads: [] };
    const tasks: Promise<void>[] = [];
    for (const s of this.plan.steps) {
      tasks.push(
        this.limit(async () => {
          if (s.kind === 'update-trust') {
            const role = await this.read(() => this.deps.ports.iam.getRole(s.roleArn));
            previous.roles.push({ roleArn: s.roleArn, trustPolicy: role?.document ?? null });
          } else if (s.kind === 'create-association') {
            const existing = await this.read(() => this.eks(s.cluster).findAssociations(this.clusterOf(s.cluster).name, s.namespace, s.serviceAccount));
            previous.associations.push({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount, existing });
          } else if (s.kind === 'install-agent' || s.kind === 'update-addon') {
            const name = this.clusterOf(s.cluster).name;
            const addon = await this.read(() => this.eks(s.cluster).describeAddon(name, s.addonName));
            const ownedAssociations = addon === null ? [] : await this.describeOwned(s.cluster, addon);
            previous.addons.push({ cluster: s.cluster, addonName: s.addonName, addon, ownedAssociations });
          } else if (s.kind === 'restart-batch') {
            for (const w of s.workloads) {
              const state = await this.read(() => this.kube(s.cluster).getWorkload(w.kind, w.namespace, w.name));
              previous.workloads.push({ cluster: s.cluster, kind: w.kind, namespace: w.namespace, name: w.name, uid: state?.uid ?? null, restartedAt: state?.restartedAt ?? null });
            }
          }
        }),
      );
    }
    await Promise.all(tasks);
    const by = <T>(key: (x: T) => string) => (a: T, b: T) => compareStrings(key(a), key(b));
    previous.roles.sort(by((r) => r.roleArn));
    previous.associations.sort(by((a) => `${a.cluster}/${a.namespace}/${a.serviceAccount}`));
    previous.addons.sort(by((a) => `${a.cluster}/${a.addonName}`));
    previous.workloads.sort(by((w) => `${w.cluster}/${w.namespace}/${w.kind}/${w.name}`));
    return previous;
  }

  private async describeOwned(cluster: string, addon: AddonRecord): Promise<AssociationRecord[]> {
    const name = this.clusterOf(cluster).name;
    const out: AssociationRecord[] = [];
    for (const arn of addon.podIdentityAssociations) {
      const a = await this.read(() => this.eks(cluster).describeAssociation(name, associationIdOf(arn)));
      if (a !== null) out.push(a);
    }
    return out;
  }

  // ---------------------------------------------------------------- the run

  async run(startedAt: string): Promise<RunResult> {
    const journal = await this.openJournal(await this.readPrevious());

    const stepIds = this.plan.steps.filter((s) => s.kind !== 'restart-batch').map((s) => s.id);
    const batches = this.plan.steps.filter((s): s is RestartBatchStep => s.kind === 'restart-batch');
    const byCluster = new Map<string, RestartBatchStep[]>();
    for (const b of batches) byCluster.set(b.cluster, [...(byCluster.get(b.cluster) ?? []), b]);

    await Promise.all([
      ...stepIds.map((id) => this.runStep(id)),
      ...[...byCluster.values()].map((list) => this.runBatches(list)),
    ]);

    const sas: ServiceAccountReport[] = [];
    await Promise.all(this.model.subjects.map((s) => this.limit(async () => { sas.push(await this.judge(s)); })));
    const order = (r: ServiceAccountReport) => `${r.cluster}\u0000${r.namespace}\u0000${r.serviceAccount}`;
    sas.sort((a, b) => compareStrings(order(a), order(b)));

    const count = (o: SaOutcome) => sas.filter((s) => s.outcome === o).length;
    const summary = { migrated: count('migrated'), needsRestart: count('needs-restart'), drifted: count('drifted'), failed: count('failed'), skipped: count('skipped'), mutatingCalls: this.mutatingCalls };
    const failed = summary.failed > 0 || this.reports.some((r) => r.status === 'failed');
    const refused = summary.drifted > 0 || this.reports.some((r) => r.status === 'drifted');
    const header = await this.finish(journal, startedAt, this.plan.clusters.map((c) => c.arn), failed, refused, summary);
    return {
      kind: RUN_RESULT_KIND,
      schemaVersion: RUN_RESULT_SCHEMA_VERSION,
      ...header,
      steps: [...this.reports].sort((a, b) => this.stepOrder(a.id) - this.stepOrder(b.id) || compareStrings(a.id, b.id)),
      serviceAccounts: sas,
      blocked: this.plan.blocked.length,
      summary,
    };
  }

  private stepOrder(id: string): number {
    const base = id.split('#')[0] ?? id;
    const i = this.plan.steps.findIndex((s) => s.id === base);
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  }

  /** Runs a step once, after its dependencies; the same promise for every caller. */
  private runStep(id: string): Promise<StepResult> {
    let p = this.results.get(id);
    if (!p) {
      p = this.runStepOnce(id);
      this.results.set(id, p);
    }
    return p;
  }

  private async runStepOnce(id: string): Promise<StepResult> {
    const step = this.model.steps.get(id);
    if (!step) return { status: 'failed', message: `unknown step ${id}`, mutatedAt: null };
    const depResults = await Promise.all(step.dependsOn.map(async (d) => [d, await this.runStep(d)] as const));
    const blocker = depResults.find(([, r]) => !ok(r.status));
    let result: StepResult & { attempts?: number; journal?: JsonObject };
    if (blocker) {
      result = { status: 'skipped', message: `not attempted: ${blocker[0]} ${blocker[1].status}`, mutatedAt: null };
    } else {
      result = await this.limit(async (): Promise<StepResult & { attempts?: number; journal?: JsonObject }> => {
        const stop = this.stopped();
        if (stop) return { status: 'skipped', message: stop, mutatedAt: null };
        // The calls sent are counted whatever the step came to: one that fails after sending (a
        // write retried past its limit) reports them, not 0.
        return this.attempted<StepResult & { journal?: JsonObject }>(() => this.execute(step), (err) => ({ status: 'failed', message: msg(err), mutatedAt: null }));
      });
    }
    return this.finishStep(step, target(step), result, result.attempts ?? 0);
  }

  private async finishStep(step: PlanStep, what: string, result: StepResult & { attempts?: number }, attempts: number, journalResult: JsonObject | null = null): Promise<StepResult> {
    this.settled.set(step.id, result);
    if (result.status === 'failed') {
      this.failures++;
      if (this.opts.failFast) this.stop.abort();
    }
    const report: StepReport = { id: step.id, kind: step.kind === 'restart-batch' ? 'restart' : step.kind, target: what, status: result.status, message: result.message, attempts };
    this.reports.push(report);
    await this.recordStep({ stepId: step.id, action: step.kind === 'restart-batch' ? 'restart' : step.kind, target: what, status: result.status, message: result.message, result: (result as { journal?: JsonObject }).journal ?? journalResult, attempts });
    this.emit({ kind: 'step', report });
    return result;
  }

  private execute(step: PlanStep): Promise<StepResult & { attempts?: number; journal?: JsonObject }> {
    switch (step.kind) {
      case 'install-agent':
        return this.installAgent(step);
      case 'update-trust':
        return this.serialisedPerRole(step.roleArn, () => this.updateTrust(step));
      case 'create-association':
        return this.createAssociation(step);
      case 'update-addon':
        return this.updateAddon(step);
      case 'restart-batch':
        return Promise.resolve({ status: 'failed', message: 'restart batches run per cluster', mutatedAt: null });
    }
  }

  private serialisedPerRole<T>(roleArn: string, fn: () => Promise<T>): Promise<T> {
    let lock = this.roleLocks.get(roleArn);
    if (!lock) {
      lock = createLimiter(1);
      this.roleLocks.set(roleArn, lock);
    }
    return lock(fn);
  }

  // ---------------------------------------------------------------- install-agent

  private async installAgent(step: InstallAgentStep): Promise<StepResult & { attempts?: number; journal?: JsonObject }> {
    const name = this.clusterOf(step.cluster).name;
    const eks = this.eks(step.cluster);
    const current = await this.read(() => eks.describeAddon(name, step.addonName));
    if (current !== null) {
      const settled = await this.addonSettled(step.cluster, step.addonName);
      if (settled !== null) return { status: 'failed', message: settled, mutatedAt: null };
      return { status: 'already-done', message: `${step.addonName} is installed (${current.version})`, mutatedAt: null };
    }
    if (fingerprintAgent(null) !== step.fingerprint) return { status: 'drifted', message: 'the plan expected the agent add-on to be present', mutatedAt: null };
    const token = requestToken(this.deps.runId, step.id);
    await this.intent(step.id, 'create-addon', `${step.addonName} on ${name}`, { addonName: step.addonName, addonVersion: step.addonVersion, clientRequestToken: token });
    const sent = await this.mutate(
      async () => {
        await eks.createAddon(name, { addonName: step.addonName, addonVersion: step.addonVersion, clientRequestToken: token });
        return true;
      },
      // A create whose answer was lost, or refused because it exists: the add-on is there now.
      { readBack: async () => ((await eks.describeAddon(name, step.addonName)) !== null ? true : undefined), inUseIsDone: true },
    );
    const mutatedAt = this.deps.clock.now();
    this.installedAgent.add(step.cluster);
    const settled = await this.addonSettled(step.cluster, step.addonName);
    // Created but not healthy: the journal says it was created, so a rollback removes it.
    if (settled !== null) return { status: 'failed', message: settled, mutatedAt, attempts: sent.attempts, journal: { created: true } };
    const after = await this.read(() => eks.describeAddon(name, step.addonName));
    return { status: 'done', message: `installed ${step.addonName} ${after?.version ?? ''}`.trim(), mutatedAt, attempts: sent.attempts, journal: { addon: (after ?? null) as unknown as JsonObject } };
  }

  /** null when ACTIVE; otherwise why not (an add-on that disappeared included). */
  private addonSettled(cluster: string, addonName: string): Promise<string | null> {
    return this.waitAddonActive(this.eks(cluster), this.clusterOf(cluster).name, addonName, { settleTimeoutMs: this.opts.settleTimeoutMs, pollMs: this.opts.pollMs, goneIsSettled: false });
  }

  // ---------------------------------------------------------------- update-trust

  private async updateTrust(step: UpdateTrustStep): Promise<StepResult & { attempts?: number; journal?: JsonObject }> {
    const iam = this.deps.ports.iam;
    const current = await this.read(() => iam.getRole(step.roleArn));
    if (current === null) return { status: 'drifted', message: `role ${step.roleArn} no longer exists`, mutatedAt: null };
    if (canonicalJson(current.document) === canonicalJson(step.after)) {
      return { status: 'already-done', message: `the trust policy of ${step.roleName} already holds the planned statement`, mutatedAt: null };
    }
    if (fingerprintTrust(current.document) !== step.fingerprint) {
      return { status: 'drifted', message: `the trust policy of ${step.roleArn} changed since the plan was made (its fingerprint differs); make a new plan and review it`, mutatedAt: null };
    }
    // An association made outside podid since the plan, for a ServiceAccount this write would
    // admit, to another role: that SA's association step will be refused, so the statement for it
    // must not be written either. The whole role is refused (the plan's `after` is all or nothing).
    const foreign = await this.foreignAssociation(step);
    if (foreign !== null) return { status: 'drifted', message: `${foreign}; the trust policy of ${step.roleArn} was left as it is`, mutatedAt: null };
    // The trust boundary, proved again on the document as read now: what is written admits no one
    // but the Pod Identity twins of the service accounts the role's IRSA trust admits.
    const proof = checkNoWidening(parsePolicy(current.document), parsePolicy(step.after), this.plan.clusters.map((c) => ({ arn: c.arn, account: c.account, oidcProvider: c.oidcProvider })), step.basis === 'cross-account-source' ? { chained: step.subjects } : {});
    if (proof.problems.length > 0) return { status: 'failed', message: `refused to write the trust policy of ${step.roleArn}: it would widen who can assume the role: ${proof.problems.join('; ')}`, mutatedAt: null };
    await this.intent(step.id, 'update-trust', step.roleArn, { before: current.document, after: step.after });
    const sent = await this.writeTrust(step.roleArn, step.after);
    const mutatedAt = this.deps.clock.now();
    // IAM is eventually consistent: wait until it returns the new document before the
    // association relies on it.
    const started = this.deps.clock.now();
    for (;;) {
      const seen = await this.read(() => iam.getRole(step.roleArn));
      if (seen !== null && canonicalJson(seen.document) === canonicalJson(step.after)) break;
      if (this.deps.clock.now() - started >= this.opts.settleTimeoutMs) {
        return { status: 'failed', message: `IAM did not return the updated trust policy of ${step.roleArn} within ${Math.round(this.opts.settleTimeoutMs / 1000)}s (another writer may have changed it)`, mutatedAt, attempts: sent.attempts };
      }
      await this.deps.clock.sleep(this.opts.pollMs, this.deps.signal);
    }
    return {
      status: 'done',
      message: `${[step.added.length > 0 ? `added ${step.added.length}` : '', step.extended.length > 0 ? `extended ${step.extended.length}` : ''].filter(Boolean).join(' and ')} Pod Identity ${step.added.length + step.extended.length === 1 ? 'statement' : 'statements'} of ${step.roleName} for ${plural(step.subjects.length, 'service account')}${sent.readBack ? ' (confirmed by reading back after a lost answer)' : ''}`,
      mutatedAt,
      attempts: sent.attempts,
      journal: { written: step.after },
    };
  }

  /** Why an association step depending on `step` would be refused as drifted (an association for another role exists), or null. */
  private async foreignAssociation(step: UpdateTrustStep): Promise<string | null> {
    const dependents = this.plan.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association' && s.dependsOn.includes(step.id));
    for (const a of dependents) {
      const existing = await this.read(() => this.eks(a.cluster).findAssociations(this.clusterOf(a.cluster).name, a.namespace, a.serviceAccount));
      const other = foreignOf(a, existing);
      if (other !== undefined) return foreignAssociationText(a, this.clusterOf(a.cluster), other);
    }
    return null;
  }

  // ---------------------------------------------------------------- create-association

  private async createAssociation(step: CreateAssociationStep): Promise<StepResult & { attempts?: number; journal?: JsonObject }> {
    const name = this.clusterOf(step.cluster).name;
    const eks = this.eks(step.cluster);
    const existing = await this.read(() => eks.findAssociations(name, step.namespace, step.serviceAccount));
    const same = (a: AssociationRecord) => sameAssociation(step, a);
    const mine = existing.find(same);
    if (mine) return { status: 'already-done', message: this.adoptedText(step, mine), mutatedAt: null, journal: { association: mine as unknown as JsonObject } };
    const other = foreignOf(step, existing);
    if (other) return { status: 'drifted', message: foreignAssociationText(step, this.clusterOf(step.cluster), other), mutatedAt: null };
    const sa = await this.read(() => this.kube(step.cluster).getServiceAccount(step.namespace, step.serviceAccount));
    if (sa === null) return { status: 'drifted', message: `ServiceAccount ${step.namespace}/${step.serviceAccount} no longer exists`, mutatedAt: null };
    if (fingerprintAssociationInput({ association: null, saUid: sa.uid, saResourceVersion: sa.resourceVersion }) !== step.fingerprint) {
      return { status: 'drifted', message: `ServiceAccount ${step.namespace}/${step.serviceAccount} changed since the plan was made (uid or resourceVersion differs); make a new plan and review it`, mutatedAt: null };
    }
    // The plan's annotationRoleArn is what ties the association's role to the SA (plan
    // integrity); the SA's fingerprint can be recomputed by whoever edits a plan, so the live
    // annotation is compared too.
    const annotated = sa.annotations[ROLE_ARN_ANNOTATION];
    if (annotated === undefined || roleKey(annotated) !== roleKey(step.annotationRoleArn)) {
      return { status: 'drifted', message: `ServiceAccount ${step.namespace}/${step.serviceAccount} is annotated with ${annotated === undefined ? 'no role' : annotated}, not the plan's ${step.annotationRoleArn}; make a new plan and review it`, mutatedAt: null };
    }
    const token = requestToken(this.deps.runId, step.id);
    await this.intent(step.id, 'create-association', `${step.namespace}/${step.serviceAccount} on ${name}`, { roleArn: step.roleArn, targetRoleArn: step.targetRoleArn, clientRequestToken: token });
    const readBack = async () => (await eks.findAssociations(name, step.namespace, step.serviceAccount)).find(same);
    const sent = await this.mutate(
      () => eks.createAssociation(name, { namespace: step.namespace, serviceAccount: step.serviceAccount, roleArn: step.roleArn, targetRoleArn: step.targetRoleArn, clientRequestToken: token, tags: { 'podid/run': this.deps.runId } }),
      { readBack, inUseIsDone: true },
    );
    return {
      status: 'done',
      message: `created association ${sent.value.associationId} ${step.namespace}/${step.serviceAccount} -> ${roles(step)}${sent.readBack ? ' (confirmed by reading back after a lost answer)' : ''}`,
      mutatedAt: this.deps.clock.now(),
      attempts: sent.attempts,
      journal: { association: sent.value as unknown as JsonObject },
    };
  }

  /**
   * The planned association found in place (made by someone else since the plan, or by an earlier
   * run): this step sent nothing, so it has no intent record, and rollback deletes only
   * associations of steps that have one (rollback/plan.ts). Rolling this run back keeps it (and
   * reports its ServiceAccount drifted, with the command to delete it, when it verifies it).
   */
  private adoptedText(step: CreateAssociationStep, mine: AssociationRecord): string {
    return `association ${mine.associationId} already names ${roles(step)}; podid did not create it in this run, so rolling this run back (podid rollback) deletes it only if an earlier podid run journaled creating it`;
  }

  // ---------------------------------------------------------------- update-addon

  private async addonDone(step: UpdateAddonStep, addon: AddonRecord): Promise<AssociationRecord[] | undefined> {
    const owned = await this.describeOwned(step.cluster, addon);
    const done = step.podIdentityAssociations.every((p) => owned.some((a) => a.serviceAccount === p.serviceAccount && a.roleArn === p.roleArn));
    return done ? owned : undefined;
  }

  private async updateAddon(step: UpdateAddonStep): Promise<StepResult & { attempts?: number; journal?: JsonObject }> {
    const name = this.clusterOf(step.cluster).name;
    const eks = this.eks(step.cluster);
    const addon = await this.read(() => eks.describeAddon(name, step.addonName));
    if (addon === null) return { status: 'drifted', message: `add-on ${step.addonName} is no longer installed on ${name}`, mutatedAt: null };
    const already = await this.addonDone(step, addon);
    if (already) {
      this.rememberAddonNamespace(step, already);
      return { status: 'already-done', message: `add-on ${step.addonName} already has its Pod Identity associations`, mutatedAt: null };
    }
    if (fingerprintAddon({ version: addon.version, serviceAccountRoleArn: addon.serviceAccountRoleArn, podIdentityAssociations: addon.podIdentityAssociations }) !== step.fingerprint) {
      return { status: 'drifted', message: `add-on ${step.addonName} on ${name} changed since the plan was made (version, IRSA role or associations); make a new plan and review it`, mutatedAt: null };
    }
    if (addonBusy(addon)) {
      const why = await this.addonSettled(step.cluster, step.addonName);
      if (why !== null) return { status: 'failed', message: why, mutatedAt: null };
    }
    const token = requestToken(this.deps.runId, step.id);
    await this.intent(step.id, 'update-addon', `${step.addonName} on ${name}`, { podIdentityAssociations: step.podIdentityAssociations, clientRequestToken: token });
    const readBack = async () => {
      const a = await eks.describeAddon(name, step.addonName);
      return a === null ? undefined : (await this.addonDone(step, a)) !== undefined ? true : undefined;
    };
    const sent = await this.mutate(async () => {
      await eks.updateAddon(name, { addonName: step.addonName, podIdentityAssociations: step.podIdentityAssociations, clientRequestToken: token });
      return true;
    }, { readBack });
    const mutatedAt = this.deps.clock.now();
    const why = await this.addonSettled(step.cluster, step.addonName);
    if (why !== null) return { status: 'failed', message: why, mutatedAt, attempts: sent.attempts };
    const after = await this.read(() => eks.describeAddon(name, step.addonName));
    const owned = after === null ? [] : await this.describeOwned(step.cluster, after);
    this.rememberAddonNamespace(step, owned);
    return {
      status: 'done',
      message: `updated add-on ${step.addonName}: ${step.podIdentityAssociations.map((p) => `${p.serviceAccount} -> ${p.roleArn}`).join(', ')}${sent.readBack ? ' (confirmed by reading back after a lost answer)' : ''}`,
      mutatedAt,
      attempts: sent.attempts,
      journal: { associations: owned as unknown as JsonObject },
    };
  }

  private rememberAddonNamespace(step: UpdateAddonStep, owned: readonly AssociationRecord[]): void {
    for (const a of owned) this.addonNamespaces.set(`${step.cluster}/${step.addonName}/${a.serviceAccount}`, a.namespace);
  }

  // ---------------------------------------------------------------- restarts

  private rolloutLimiter(cluster: string): Limiter {
    let l = this.rollouts.get(cluster);
    if (!l) {
      l = createLimiter(this.opts.maxConcurrentRollouts);
      this.rollouts.set(cluster, l);
    }
    return l;
  }

  /** The batches of one cluster, in order. */
  private async runBatches(batches: readonly RestartBatchStep[]): Promise<void> {
    for (const batch of batches) await this.runBatch(batch);
  }

  private setWorkload(unit: WorkloadUnit, status: WorkloadReport['status'], message: string): WorkloadReport {
    const report: WorkloadReport = { kind: unit.target.kind, namespace: unit.target.namespace, name: unit.target.name, status, message };
    this.workloadReports.set(unit.id, report);
    this.emit({ kind: 'workload', cluster: unit.cluster, workload: report });
    return report;
  }

  private async runBatch(batch: RestartBatchStep): Promise<void> {
    const units = this.model.workloads.filter((w) => w.batch === batch);
    // Wait for what the batch's workloads depend on to settle.
    const depStatus = new Map<string, StepResult>();
    for (const id of new Set(units.flatMap((u) => u.deps))) depStatus.set(id, await this.runStep(id));
    const eligible: WorkloadUnit[] = [];
    for (const u of units) {
      const blocker = u.deps.find((d) => !ok(depStatus.get(d)?.status ?? 'skipped'));
      if (blocker) this.setWorkload(u, 'skipped', `not restarted: ${blocker} ${depStatus.get(blocker)?.status ?? 'skipped'}`);
      else eligible.push(u);
    }
    const what = `${plural(batch.workloads.length, 'workload')} on ${this.clusterOf(batch.cluster).name}`;
    if (!this.opts.restart) {
      for (const u of eligible) this.setWorkload(u, 'not-restarted', '--no-restart: restart it yourself (kubectl rollout restart)');
      await this.finishStep(batch, what, { status: 'skipped', message: '--no-restart', mutatedAt: null }, 0);
      return;
    }
    if (eligible.length === 0) {
      await this.finishStep(batch, what, { status: 'skipped', message: 'no workload of this batch can restart (their steps did not succeed)', mutatedAt: null }, 0);
      return;
    }
    const stop = this.stopped();
    if (stop) {
      for (const u of eligible) this.setWorkload(u, 'skipped', stop);
      await this.finishStep(batch, what, { status: 'skipped', message: stop, mutatedAt: null }, 0);
      return;
    }

    // Re-read the batch's inputs: the workloads (by uid, and the ServiceAccount they run as) and
    // the existing associations it relies on.
    let drift: string | null = null;
    try {
      const states = await Promise.all(batch.workloads.map((w) => this.read(() => this.kube(batch.cluster).getWorkload(w.kind, w.namespace, w.name))));
      drift = await this.batchDrift(batch, states);
    } catch (err) {
      for (const u of eligible) this.setWorkload(u, 'failed', msg(err));
      await this.finishStep(batch, what, { status: 'failed', message: msg(err), mutatedAt: null }, 0);
      return;
    }
    if (drift !== null) {
      for (const u of units) if (!this.workloadReports.has(u.id) || eligible.includes(u)) this.setWorkload(u, 'drifted', drift);
      await this.finishStep(batch, what, { status: 'drifted', message: drift, mutatedAt: null }, 0);
      return;
    }

    // An agent installed by this run must be running on the nodes before pods rely on it.
    if (this.installedAgent.has(batch.cluster)) {
      const why = await this.waitAgentRollout(batch.cluster);
      if (why !== null) {
        for (const u of eligible) this.setWorkload(u, 'failed', why);
        await this.finishStep(batch, what, { status: 'failed', message: why, mutatedAt: null }, 0);
        return;
      }
    }

    // --propagation-wait after the latest association or trust change the batch relies on.
    const mutated = eligible.flatMap((u) => u.deps.map((d) => this.settled.get(d)?.mutatedAt ?? null)).filter((t): t is number => t !== null);
    if (mutated.length > 0) {
      const until = Math.max(...mutated) + this.opts.propagationWaitMs;
      const wait = until - this.deps.clock.now();
      if (wait > 0) {
        this.progress(`waiting ${Math.ceil(wait / 1000)}s for the associations to propagate before restarting on ${this.clusterOf(batch.cluster).name}`);
        await this.deps.clock.sleep(wait, this.deps.signal);
      }
    }

    let attempts = 0;
    const results = await Promise.all(
      eligible.map((u) =>
        this.rolloutLimiter(batch.cluster)(async () => {
          const r = await this.restartOne(u);
          attempts += r.attempts;
          return r.report;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'failed' || r.status === 'skipped');
    const status: StepStatus = results.some((r) => r.status === 'failed') ? 'failed' : failed.length > 0 ? 'skipped' : results.every((r) => r.status === 'already-on-pod-identity') ? 'already-done' : 'done';
    // Every workload of the batch, those not restarted (a step they needed did not succeed) too:
    // the line counts the batch's workloads.
    const notRestarted = units.filter((u) => !eligible.includes(u)).map((u) => this.workloadReports.get(u.id)).filter((r): r is WorkloadReport => r !== undefined);
    const message = [...results, ...notRestarted].map((r) => `${r.kind}/${r.namespace}/${r.name}: ${r.status}`).join(', ');
    await this.finishStep(batch, what, { status, message, mutatedAt: null }, attempts);
  }

  /** null when the eks-pod-identity-agent DaemonSet has rolled out; otherwise why not. */
  private waitAgentRollout(cluster: string): Promise<string | null> {
    let p = this.agentReady.get(cluster);
    if (!p) {
      const kube = this.kube(cluster);
      p = waitForRollout({
        read: () => this.read(() => kube.getWorkload('DaemonSet', AGENT_NAMESPACE, 'eks-pod-identity-agent')),
        clock: this.deps.clock,
        timeoutMs: this.opts.rolloutTimeoutMs,
        pollMs: this.opts.pollMs,
        signal: this.deps.signal,
      }).then((o) => (o.state === 'done' ? null : `the eks-pod-identity-agent DaemonSet did not roll out: ${o.message}`));
      this.agentReady.set(cluster, p);
    }
    return p;
  }

  /** Why the batch must not run (its workloads or the associations it relies on are not what the plan says), or null. */
  private async batchDrift(batch: RestartBatchStep, states: readonly (WorkloadState | null)[]): Promise<string | null> {
    const gone = batch.workloads.filter((_, i) => states[i] === null);
    if (gone.length > 0) return `${gone.map((w) => `${w.kind}/${w.namespace}/${w.name}`).join(', ')} no longer exist`;
    // The plan says which ServiceAccounts each workload runs as; its pod template must agree, or
    // the restart would move (or disrupt) the pods of a ServiceAccount the plan does not migrate.
    for (const [i, w] of batch.workloads.entries()) {
      const runsAs = states[i]?.serviceAccountName ?? '';
      if (!w.serviceAccounts.includes(runsAs)) return `${w.kind}/${w.namespace}/${w.name} runs as ServiceAccount ${w.namespace}/${runsAs}, not ${w.serviceAccounts.map((sa) => `${w.namespace}/${sa}`).join(', ')} as the plan says; make a new plan and review it`;
    }
    const served = await this.servedAssociations(batch);
    // A ServiceAccount whose association the plan does not create is restarted only for the one it has (its verdict was partial).
    const planned = this.plannedAssociations();
    const bare = batch.workloads.flatMap((w) => w.serviceAccounts.filter((sa) => !planned.has(`${batch.cluster}/${w.namespace}/${sa}`) && !served.some((a) => a.namespace === w.namespace && a.serviceAccount === sa)).map((sa) => `${w.namespace}/${sa}`));
    if (bare.length > 0) return `ServiceAccount ${[...new Set(bare)].join(', ')} has no pod identity association and the plan creates none: the plan does not migrate it; make a new plan and review it`;
    if (fingerprintRestartBatch(states.map((s) => s?.uid ?? ''), served) !== batch.fingerprint) return 'a workload of the batch was re-created, or an association it relies on was deleted or re-pointed, since the plan was made; make a new plan and review it';
    return null;
  }

  /** `<cluster>/<namespace>/<sa>` of every association the plan creates. */
  private plannedAssociations(): Set<string> {
    return new Set(this.plan.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association').map((s) => `${s.cluster}/${s.namespace}/${s.serviceAccount}`));
  }

  private async servedAssociations(batch: RestartBatchStep): Promise<ServedAssociation[]> {
    const planned = this.plannedAssociations();
    const name = this.clusterOf(batch.cluster).name;
    const out = new Map<string, ServedAssociation>();
    for (const w of batch.workloads) {
      for (const sa of w.serviceAccounts) {
        if (planned.has(`${batch.cluster}/${w.namespace}/${sa}`) || out.has(`${w.namespace}/${sa}`)) continue;
        const found = await this.read(() => this.eks(batch.cluster).findAssociations(name, w.namespace, sa));
        const a = found.find((x) => x.ownerArn === null) ?? found[0];
        if (a) out.set(`${w.namespace}/${sa}`, { namespace: w.namespace, serviceAccount: sa, associationId: a.associationId, roleArn: a.roleArn, targetRoleArn: a.targetRoleArn });
      }
    }
    return [...out.values()];
  }

  /** Pods of the workload: its own (owner), for every SA it serves. */
  private workloadPods(unit: WorkloadUnit): Promise<PodState[]> {
    return this.podsOf(this.kube(unit.cluster), unit.target);
  }

  private async restartOne(unit: WorkloadUnit): Promise<{ report: WorkloadReport; attempts: number }> {
    const { value: report, sent } = await this.counted(() => this.restartUnit(unit));
    return { report, attempts: sent };
  }

  /** Restarts one workload and awaits its rollout; its calls are counted by restartOne. */
  private async restartUnit(unit: WorkloadUnit): Promise<WorkloadReport> {
    const { kind, namespace, name } = unit.target;
    const kube = this.kube(unit.cluster);
    const read = () => this.read(() => kube.getWorkload(kind, namespace, name));
    const wait = () =>
      waitForRollout({
        read,
        clock: this.deps.clock,
        timeoutMs: this.opts.rolloutTimeoutMs,
        pollMs: this.opts.pollMs,
        signal: this.deps.signal,
        explain: async () => explainPods(await this.workloadPods(unit)),
      });
    try {
      const before = await read();
      if (before === null) return this.setWorkload(unit, 'drifted', 'the workload no longer exists');
      // A rollout already under way (a run killed mid-rollout, or someone else): let it finish,
      // and restart only if pods are still on IRSA afterwards. Verified workloads are never restarted again.
      const pods = await this.workloadPods(unit);
      const settledFirst = pods.some((p) => p.identity !== 'pod-identity') ? await wait() : null;
      if (settledFirst && settledFirst.state === 'interrupted') return this.setWorkload(unit, 'skipped', settledFirst.message);
      const now = await this.workloadPods(unit);
      const active = now.filter((p) => !p.terminating && (p.phase === 'Running' || p.phase === 'Pending'));
      if (active.length > 0 && active.every((p) => p.identity === 'pod-identity')) {
        return this.setWorkload(unit, 'already-on-pod-identity', 'every pod already runs with Pod Identity credentials; not restarted');
      }
      const stop = this.stopped();
      if (stop) return this.setWorkload(unit, 'skipped', stop);

      const restartedAt = restartStamp(this.deps.clock.now());
      await this.intent(unit.id, 'restart', `${kind}/${namespace}/${name}`, { restartedAt, previousRestartedAt: before.restartedAt });
      await this.mutate(
        async () => {
          await kube.restartWorkload(kind, namespace, name, restartedAt);
          return true;
        },
        { readBack: async () => ((await kube.getWorkload(kind, namespace, name))?.restartedAt === restartedAt ? true : undefined), refresh: async () => { await read(); } },
      );
      await this.recordStep({ stepId: unit.id, action: 'restart', target: `${kind}/${namespace}/${name}`, status: 'done', message: 'patched kubectl.kubernetes.io/restartedAt', result: { restartedAt, previousRestartedAt: before.restartedAt } });
      const outcome = await wait();
      if (outcome.state === 'done') return this.setWorkload(unit, 'restarted', outcome.message);
      if (outcome.state === 'interrupted') return this.setWorkload(unit, 'skipped', outcome.message);
      this.failures++;
      if (this.opts.failFast) this.stop.abort();
      return this.setWorkload(unit, 'failed', rolloutFailure(outcome));
    } catch (err) {
      this.failures++;
      if (this.opts.failFast) this.stop.abort();
      return this.setWorkload(unit, 'failed', msg(err));
    }
  }

  // ---------------------------------------------------------------- outcome per SA

  private async judge(s: SubjectSa): Promise<ServiceAccountReport> {
    const namespace = s.namespace ?? (s.addon ? this.addonNamespaces.get(`${s.cluster.arn}/${s.addon.addonName}/${s.serviceAccount}`) ?? null : null);
    const base: Omit<ServiceAccountReport, 'outcome' | 'reason'> = {
      cluster: s.cluster.arn,
      namespace: namespace ?? '',
      serviceAccount: s.serviceAccount,
      via: s.via,
      addon: s.addon?.addonName ?? null,
      roleArn: s.roleArn,
      targetRoleArn: s.targetRoleArn,
      steps: s.steps,
      workloads: s.workloads.map((w) => this.workloadReports.get(w.id) ?? { kind: w.target.kind, namespace: w.target.namespace, name: w.target.name, status: 'skipped', message: 'not reached' }),
      pods: { verified: [], stale: [] },
    };
    const report = await this.judgeInner(s, base, namespace);
    await this.recordOutcome(report);
    this.emit({ kind: 'outcome', sa: report });
    return report;
  }

  private async judgeInner(s: SubjectSa, baseIn: Omit<ServiceAccountReport, 'outcome' | 'reason'>, namespace: string | null): Promise<ServiceAccountReport> {
    let base = baseIn;
    const done = (outcome: SaOutcome, reason: string, pods = base.pods): ServiceAccountReport => ({ ...base, pods, outcome, reason });
    const stepResults = s.steps.filter((id) => this.model.steps.get(id)?.kind !== 'restart-batch').map((id) => [id, this.settled.get(id)] as const);
    const drifted = stepResults.find(([, r]) => r?.status === 'drifted');
    if (drifted) return done('drifted', `${drifted[0]}: ${drifted[1]?.message ?? ''}`);
    const failed = stepResults.find(([, r]) => r?.status === 'failed');
    if (failed) return done('failed', `${failed[0]}: ${failed[1]?.message ?? ''}`);
    const skipped = stepResults.find(([, r]) => r === undefined || r.status === 'skipped');
    if (skipped) return done('skipped', `${skipped[0]}: ${skipped[1]?.message ?? 'not reached'}`);
    const wDrift = base.workloads.find((w) => w.status === 'drifted');
    if (wDrift) return done('drifted', `${wDrift.kind}/${wDrift.namespace}/${wDrift.name}: ${wDrift.message}`);
    const wFail = base.workloads.find((w) => w.status === 'failed');
    if (wFail) return done('failed', `${wFail.kind}/${wFail.namespace}/${wFail.name}: ${wFail.message}`);
    const wSkip = base.workloads.find((w) => w.status === 'skipped');
    if (wSkip) return done('skipped', `${wSkip.kind}/${wSkip.namespace}/${wSkip.name}: ${wSkip.message}`);
    if (namespace === null) return done('failed', `podid could not read the namespace of add-on ${s.addon?.addonName ?? ''}'s association for ${s.serviceAccount}`);

    // Verify.
    try {
      const cluster = s.cluster;
      const name = cluster.name;
      const eks = this.eks(cluster.arn);
      const kube = this.kube(cluster.arn);
      const associations = await this.read(() => eks.findAssociations(name, namespace, s.serviceAccount));
      const expected = s.roleArn !== null ? { roleArn: s.roleArn, targetRoleArn: s.targetRoleArn } : associations[0] ? { roleArn: associations[0].roleArn, targetRoleArn: associations[0].targetRoleArn } : null;
      if (expected === null) return done('failed', `no pod identity association exists for ${namespace}/${s.serviceAccount}`);
      const role = await this.read(() => this.deps.ports.iam.getRole(expected.roleArn)).catch(() => null);
      const allPods = await this.read(() => kube.listPods(namespace, s.serviceAccount));
      const restartedUnits = s.workloads.filter((w) => {
        const r = this.workloadReports.get(w.id);
        return r?.status === 'restarted' || r?.status === 'already-on-pod-identity';
      });
      const mustBeNew = allPods.filter((p) => restartedUnits.some((u) => ownedBy(p, u.target.kind, u.target.name)));
      // Add-on pods are EKS's to restart; the ones it has re-created already must be on Pod Identity.
      const addonNew = s.via === 'addon' ? allPods.filter((p) => p.identity === 'pod-identity') : [];
      const others = allPods.filter((p) => !mustBeNew.includes(p) && !addonNew.includes(p));
      const [agentPods, nodes] = await Promise.all([this.read(() => kube.listAgentPods()), this.read(() => kube.listNodes())]);
      const parsed = parseClusterArn(cluster.arn);
      const result = verifyServiceAccount({
        cluster: { arn: cluster.arn, account: cluster.account, partition: parsed.ok ? parsed.arn.partition : 'aws' },
        namespace,
        serviceAccount: s.serviceAccount,
        roleArn: expected.roleArn,
        targetRoleArn: expected.targetRoleArn,
        associations,
        trust: role?.document ?? null,
        pods: [...mustBeNew, ...addonNew],
        otherPods: others,
        agentPods,
        nodes,
      });
      const pods = { verified: result.verifiedPods, stale: result.stalePods };
      await this.recordStep({ stepId: `verify:${s.key}`, action: 'verify', target: `${namespace}/${s.serviceAccount} on ${name}`, status: result.ok ? 'done' : 'failed', message: result.ok ? `verified ${plural(result.verifiedPods.length, 'pod')}` : result.problems.join('; '), result: { verifiedPods: result.verifiedPods, stalePods: result.stalePods } });
      if (!result.ok) return done('failed', `verification: ${result.problems.join('; ')}`, pods);
      let probe: ProbeOutcome | null = null;
      if (this.opts.verifyProbe) {
        // The effective role: the target role for a cross-account association.
        const expectedRole = expected.targetRoleArn ?? expected.roleArn;
        this.progress(`running verification probe pod for ${namespace}/${s.serviceAccount} on ${name}`);
        probe = await runProbe({ kube, clock: this.deps.clock, namespace, serviceAccount: s.serviceAccount, image: this.opts.verifyProbe, expectedRoleArn: expectedRole, timeoutMs: this.opts.rolloutTimeoutMs, pollMs: this.opts.pollMs, signal: this.deps.signal });
        await this.recordStep({ stepId: `verify-probe:${s.key}`, action: 'verify-probe', target: `${namespace}/${s.serviceAccount} on ${name}`, status: probe.ok ? 'done' : 'failed', message: probe.message, result: { pod: probe.pod, arn: probe.arn, expectedRoleArn: expectedRole } });
        base = { ...base, probe: { pod: probe.pod, arn: probe.arn, ok: probe.ok, message: probe.message } };
        // A cross-account SA waits for the target trust (a manual step): its probe is reported, not judged.
        // Interrupted (SIGINT) while the probe ran: not judged; the pod is deleted all the same.
        if (!probe.ok && this.deps.signal.aborted) return done('skipped', `verification probe: ${probe.message}`, pods);
        if (!probe.ok && s.targetRoleArn === null) return done('failed', `verification probe: ${probe.message}`, pods);
      }
      const probeText = probe === null ? '' : probe.ok ? `; ${probe.message}` : `; verification probe: ${probe.message}`;
      const restartLeft = base.workloads.filter((w) => w.status === 'not-restarted');
      if (s.targetRoleArn !== null) {
        // The webhook gives every pod created from now on Pod Identity, and EKS's second hop fails
        // until the target trusts this association's externalId (EKS user guide, "Access AWS
        // Resources using EKS Pod Identity Target IAM Roles"): said, with the value to write.
        const chained = associations.find((a) => a.roleArn === expected.roleArn && a.targetRoleArn === s.targetRoleArn);
        const externalId = chained?.externalId ? `sts:ExternalId ${chained.externalId} (association ${chained.associationId})` : "the association's sts:ExternalId";
        return done('needs-restart', `the association chains to ${s.targetRoleArn}: until its trust policy admits ${expected.roleArn} with ${externalId} (the plan's target trust statement), every new pod of this service account (a scale-up, a rescheduled pod, the next rollout) gets no credentials; add it in that account now, then restart the workloads (see the plan's Manual section)${probeText}`, pods);
      }
      if (result.stalePods.length > 0 || restartLeft.length > 0) {
        const advice = s.manual.map((m) => `${m.kind.toLowerCase()}/${m.name}: ${m.advice}`);
        const restarts = restartLeft.map((w) => `kubectl -n ${w.namespace} rollout restart ${w.kind.toLowerCase()}/${w.name}`);
        const stale = result.stalePods.length > 0 ? `${plural(result.stalePods.length, 'pod')} still ${result.stalePods.length === 1 ? 'runs' : 'run'} with IRSA credentials (${result.stalePods.join(', ')})` : 'its workloads were not restarted';
        if (s.via === 'addon') return done('migrated', `verified; EKS restarts the add-on's pods, ${stale}${probeText}`, pods);
        return done('needs-restart', `association and trust verified, but ${stale}${restarts.length ? `; run ${restarts.join('; ')}` : ''}${advice.length ? `; ${advice.join('; ')}` : ''}${probeText}`, pods);
      }
      const podsText = result.verifiedPods.length > 0 ? `${plural(result.verifiedPods.length, 'pod')} on Pod Identity with a ready agent on their nodes` : 'no running pods (new pods get Pod Identity)';
      return done('migrated', `verified: association ${result.associationId}, trust admits the session tags, ${podsText}${probeText}`, pods);
    } catch (err) {
      return done('failed', `verification could not run: ${msg(err)}`);
    }
  }
}

function explainPods(pods: readonly PodState[]): string | null {
  const waiting = pods.filter((p) => p.waitingReason !== null || !p.ready);
  if (waiting.length === 0) return null;
  return waiting
    .slice(0, 3)
    .map((p) => `${p.name} ${p.phase}${p.waitingReason ? ` (${p.waitingReason})` : p.ready ? '' : ', not ready'}`)
    .join('; ');
}

function target(step: PlanStep): string {
  switch (step.kind) {
    case 'install-agent':
      return `${step.addonName} on ${step.cluster}`;
    case 'update-trust':
      return step.roleArn;
    case 'create-association':
      return `${step.namespace}/${step.serviceAccount} on ${step.cluster}`;
    case 'update-addon':
      return `${step.addonName} on ${step.cluster}`;
    case 'restart-batch':
      return `batch ${step.batch} on ${step.cluster}`;
  }
}

/** The association's role, and for a chained (cross-account) one its target role: `ROLE -> TARGET`. */
function roles(step: CreateAssociationStep): string {
  return step.targetRoleArn === null ? step.roleArn : `${step.roleArn} -> target role ${step.targetRoleArn}`;
}

/** An existing association is the planned one when it names the planned role (and target role). */
function sameAssociation(step: CreateAssociationStep, a: AssociationRecord): boolean {
  return a.roleArn === step.roleArn && (a.targetRoleArn ?? null) === step.targetRoleArn;
}

/** An association for the SA that is not the planned one, when the planned one is not there (podid never replaces it). */
function foreignOf(step: CreateAssociationStep, existing: readonly AssociationRecord[]): AssociationRecord | undefined {
  return existing.some((e) => sameAssociation(step, e)) ? undefined : existing[0];
}

/** One line: whose association is in the way, and the two ways out. */
function foreignAssociationText(step: CreateAssociationStep, cluster: PlanCluster, other: AssociationRecord): string {
  const names = `${other.roleArn}${other.targetRoleArn ? ` -> ${other.targetRoleArn}` : ''}`;
  return `an association made since the plan, ${other.associationId}, gives ${step.namespace}/${step.serviceAccount} another role (${names}) than the plan's ${step.targetRoleArn ?? step.roleArn}; podid never overwrites or deletes one it did not create: keep it and make a new plan (podid migrate --dry-run), or delete it (aws eks delete-pod-identity-association --cluster-name ${cluster.name} --region ${cluster.region} --association-id ${other.associationId}) and apply again`;
}
