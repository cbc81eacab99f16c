/**
 * The executor of `podid finalize --apply`. Journals the previous state (the annotations and
 * trust policies it may change) before the first change, then for every planned ServiceAccount
 * verifies again, live, that every running pod obtains its role through Pod Identity (the same
 * checks as apply's verification: Pod Identity env, a ready agent on the pod's node, the
 * association, the trust evaluator) and refuses it otherwise; then one trust update per role
 * (only the grants of the ServiceAccounts still verified, over the document the plan was made
 * from: a changed document is refused, never overwritten), then the IRSA annotations, then
 * (--delete-oidc-provider, confirmed) each OIDC provider nothing refers to any more, decided again
 * over a fresh listing of every role (core/finalize/provider.ts). Reversible by `podid rollback`.
 */
import { parseClusterArn } from '../arn.js';
import { createLimiter } from '../concurrency.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import type { FinalizePrevious, JournalWriter } from '../apply/journal.js';
import type { ApplyPorts, Clock, PodState } from '../apply/ports.js';
import { readRetrying, withRetry, type RetryContext, type RetryPolicy } from '../apply/retry.js';
import type { StepStatus } from '../apply/result.js';
import { verifyServiceAccount } from '../apply/verify.js';
import { IRSA_ANNOTATIONS, trustEditFor, type FinalizePlan, type FinalizeSa } from './plan.js';
import { decideDeletion, listAllRoles, providerTrustedBy, type FinalizeProvider } from './provider.js';

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

export interface FinalizeResult {
  kind: typeof FINALIZE_RESULT_KIND;
  schemaVersion: 1;
  runId: string | null;
  journal: string | null;
  startedAt: string;
  finishedAt: string;
  /** succeeded | no-changes | refused | partial | interrupted */
  status: string;
  exitCode: number;
  clusters: string[];
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

export type FinalizeEvent = { kind: 'step'; report: FinalizeStepReport } | { kind: 'progress'; message: string };

export interface FinalizeDeps {
  ports: ApplyPorts;
  clock: Clock;
  random: () => number;
  retry: RetryPolicy;
  signal: AbortSignal;
  runId: string;
  openJournal(previous: FinalizePrevious): Promise<JournalWriter>;
  onEvent?: (e: FinalizeEvent) => void;
}

const msg = (err: unknown) => (err instanceof PodidError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : err instanceof Error ? err.message : String(err));
const active = (p: PodState) => !p.terminating && (p.phase === 'Running' || p.phase === 'Pending');
const saKey = (s: FinalizeSa) => `${s.cluster}/${s.namespace}/${s.name}`;
/** A provider the plan does not delete, as the result reports it. */
const providerReport = (p: FinalizeProvider): FinalizeProviderReport => ({ cluster: p.cluster, providerArn: p.providerArn, outcome: p.action === 'delete' ? 'skipped' : p.action, reason: p.reason, trustedBy: p.trustedBy, trustedByCount: p.trustedByCount });

export class FinalizeExecutor {
  private journal: JournalWriter | null = null;
  private readonly steps: FinalizeStepReport[] = [];
  private readonly limit;
  private mutatingCalls = 0;
  private readonly retryCtx: RetryContext;

  constructor(
    private readonly plan: FinalizePlan,
    opts: { concurrency: number },
    private readonly deps: FinalizeDeps,
  ) {
    this.limit = createLimiter(opts.concurrency);
    this.retryCtx = { clock: deps.clock, policy: deps.retry, random: deps.random, signal: deps.signal, onRetry: ({ error }) => deps.onEvent?.({ kind: 'progress', message: `retrying after ${msg(error)}` }) };
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private read<T>(fn: () => Promise<T>): Promise<T> {
    return readRetrying(this.retryCtx, fn);
  }

  private cluster(arn: string) {
    const c = this.plan.clusters.find((x) => x.arn === arn);
    if (!c) throw new PodidError('PLAN_INVALID', `the finalize plan names cluster ${arn} but does not list it`);
    return c;
  }

  private async mutate(send: () => Promise<void>, readBack: () => Promise<true | undefined>): Promise<number> {
    let attempts = 0;
    await withRetry(this.retryCtx, async () => {
      attempts++;
      this.mutatingCalls++;
      await send();
      return true as const;
    }, { readBack });
    return attempts;
  }

  private async report(r: FinalizeStepReport): Promise<void> {
    this.steps.push(r);
    await this.journal?.append({ record: 'step', at: this.now(), stepId: r.id, action: r.kind, target: r.target, status: r.status, message: r.message, result: null });
    this.deps.onEvent?.({ kind: 'step', report: r });
  }

  async readPrevious(): Promise<FinalizePrevious> {
    const previous: FinalizePrevious = { serviceAccounts: [], roles: [], oidcProviders: [] };
    await Promise.all([
      ...this.plan.serviceAccounts.filter((s) => s.action === 'finalize').map((s) => this.limit(async () => {
        const sa = await this.read(() => this.deps.ports.kube(s.context).getServiceAccount(s.namespace, s.name));
        if (sa === null) return;
        const annotations = Object.fromEntries(IRSA_ANNOTATIONS.filter((k) => sa.annotations[k] !== undefined).map((k) => [k, sa.annotations[k] as string]));
        previous.serviceAccounts.push({ cluster: s.cluster, context: s.context, namespace: s.namespace, name: s.name, uid: sa.uid, annotations });
      })),
      ...this.plan.trust.map((t) => this.limit(async () => {
        const role = await this.read(() => this.deps.ports.iam.getRole(t.roleArn));
        previous.roles.push({ roleArn: t.roleArn, trustPolicy: role?.document ?? null });
      })),
      // The provider exactly as it is (URL, client IDs, thumbprints, tags): what rollback creates again.
      ...this.deletions().map((p) => this.limit(async () => {
        const record = await this.read(() => this.deps.ports.iam.getOidcProvider(p.providerArn));
        if (record !== null) previous.oidcProviders!.push({ cluster: p.cluster, ...record });
      })),
    ]);
    previous.oidcProviders!.sort((a, b) => a.arn.localeCompare(b.arn));
    previous.serviceAccounts.sort((a, b) => `${a.cluster}/${a.namespace}/${a.name}`.localeCompare(`${b.cluster}/${b.namespace}/${b.name}`));
    previous.roles.sort((a, b) => a.roleArn.localeCompare(b.roleArn));
    return previous;
  }

  /** null when every running pod of the SA is verified on Pod Identity now; otherwise why not. */
  private async verify(s: FinalizeSa): Promise<{ outcome: FinalizeOutcome; reason: string } | null> {
    const kube = this.deps.ports.kube(s.context);
    const c = this.cluster(s.cluster);
    const sa = await this.read(() => kube.getServiceAccount(s.namespace, s.name));
    if (sa === null) return { outcome: 'drifted', reason: 'the ServiceAccount no longer exists' };
    if (sa.uid !== s.uid) return { outcome: 'drifted', reason: 'the ServiceAccount was re-created since the plan (its uid differs)' };
    const annotated = sa.annotations[ROLE_ARN_ANNOTATION];
    if (annotated !== undefined && annotated !== s.annotations[ROLE_ARN_ANNOTATION]) return { outcome: 'drifted', reason: `its ${ROLE_ARN_ANNOTATION} is now ${annotated}` };
    const pods = (await this.read(() => kube.listPods(s.namespace, s.name))).filter(active);
    const irsa = pods.filter((p) => p.identity !== 'pod-identity');
    if (irsa.length > 0) return { outcome: 'refused', reason: `${irsa.length} running pod(s) still use ${irsa.some((p) => p.identity === 'irsa') ? 'IRSA' : 'no'} credentials (${irsa.map((p) => p.name).sort().join(', ')}): restart their workloads (kubectl rollout restart), then finalize` };
    const eks = this.deps.ports.eks(c.region);
    const [associations, role, agentPods, nodes] = await Promise.all([
      this.read(() => eks.findAssociations(c.name, s.namespace, s.name)),
      this.read(() => this.deps.ports.iam.getRole(s.roleArn)),
      this.read(() => kube.listAgentPods()),
      this.read(() => kube.listNodes()),
    ]);
    const parsed = parseClusterArn(s.cluster);
    const result = verifyServiceAccount({
      cluster: { arn: s.cluster, account: parsed.ok ? parsed.arn.account : '', partition: parsed.ok ? parsed.arn.partition : 'aws' },
      namespace: s.namespace,
      serviceAccount: s.name,
      roleArn: associations.find((a) => a.roleArn === s.roleArn)?.roleArn ?? s.roleArn,
      targetRoleArn: associations.find((a) => a.roleArn === s.roleArn)?.targetRoleArn ?? null,
      associations,
      trust: role?.document ?? null,
      pods,
      otherPods: [],
      agentPods,
      nodes,
    });
    return result.ok ? null : { outcome: 'refused', reason: `not verified on Pod Identity: ${result.problems.join('; ')}` };
  }

  async run(startedAt: string): Promise<FinalizeResult> {
    const previous = await this.readPrevious();
    this.journal = await this.deps.openJournal(previous);
    const outcomes = new Map<string, { outcome: FinalizeOutcome; reason: string }>();
    for (const s of this.plan.serviceAccounts) if (s.action === 'refused') outcomes.set(saKey(s), { outcome: 'refused', reason: s.reason });

    const planned = this.plan.serviceAccounts.filter((s) => s.action === 'finalize');
    await Promise.all(planned.map((s) => this.limit(async () => {
      if (this.deps.signal.aborted) return void outcomes.set(saKey(s), { outcome: 'skipped', reason: 'not started: finalize was interrupted' });
      try {
        const why = await this.verify(s);
        if (why) outcomes.set(saKey(s), why);
      } catch (err) {
        outcomes.set(saKey(s), { outcome: 'failed', reason: `verification could not run: ${msg(err)}` });
      }
    })));
    const verified = planned.filter((s) => !outcomes.has(saKey(s)));

    // One trust update per role, for its verified ServiceAccounts only.
    const trustStatus = new Map<string, { status: StepStatus; message: string }>();
    await Promise.all(this.plan.trust.map((t) => this.limit(async () => {
      const mine = verified.filter((s) => s.roleArn === t.roleArn);
      const r = await this.removeTrust(t.roleArn, t.before, mine);
      trustStatus.set(t.roleArn, r);
    })));

    // Then the annotations of every verified SA whose role's trust is done.
    await Promise.all(verified.map((s) => this.limit(async () => {
      const t = trustStatus.get(s.roleArn);
      if (t && t.status !== 'done' && t.status !== 'already-done') {
        outcomes.set(saKey(s), { outcome: t.status === 'drifted' ? 'drifted' : t.status === 'skipped' ? 'skipped' : 'failed', reason: `the trust policy of ${s.roleArn} was not updated (${t.message}); its annotations were left in place` });
        return;
      }
      const r = await this.removeAnnotations(s);
      outcomes.set(saKey(s), r.status === 'done' || r.status === 'already-done'
        ? { outcome: 'finalized', reason: `IRSA removed: ${r.message}${t ? `; ${t.message}` : ''}` }
        : { outcome: r.status === 'drifted' ? 'drifted' : r.status === 'skipped' ? 'skipped' : 'failed', reason: r.message });
    })));

    // Last, once IRSA is removed from everything this run finalized: the OIDC providers nothing refers to any more.
    const providers: FinalizeProviderReport[] = [];
    for (const p of this.plan.oidcProviders ?? []) providers.push(p.action === 'delete' ? await this.deleteProvider(p, previous) : providerReport(p));

    const sas: FinalizeSaReport[] = this.plan.serviceAccounts.map((s) => ({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.name, roleArn: s.roleArn, ...(outcomes.get(saKey(s)) ?? { outcome: 'skipped' as const, reason: 'not reached' }), warnings: s.warnings }));
    for (const r of sas) await this.journal.append({ record: 'outcome', at: this.now(), cluster: r.cluster, namespace: r.namespace, serviceAccount: r.serviceAccount, outcome: r.outcome, reason: r.reason });
    const count = (o: FinalizeOutcome) => sas.filter((s) => s.outcome === o).length;
    const summary = { finalized: count('finalized'), refused: count('refused'), drifted: count('drifted'), failed: count('failed'), skipped: count('skipped'), oidcProvidersDeleted: providers.filter((p) => p.outcome === 'deleted').length, mutatingCalls: this.mutatingCalls };
    const providerFailed = providers.some((p) => p.outcome === 'failed');
    const providerRefused = providers.some((p) => p.outcome === 'refused');
    const status = this.deps.signal.aborted ? 'interrupted' : summary.failed > 0 || providerFailed ? 'partial' : summary.refused + summary.drifted > 0 || providerRefused ? 'refused' : 'succeeded';
    const exitCode = status === 'interrupted' ? 130 : status === 'partial' ? 5 : status === 'refused' ? 4 : 0;
    const finishedAt = this.now();
    await this.journal.append({ record: 'finished', at: finishedAt, status, exitCode, summary });
    return { kind: FINALIZE_RESULT_KIND, schemaVersion: 1, runId: this.deps.runId, journal: this.journal.path, startedAt, finishedAt, status, exitCode, clusters: this.plan.clusters.map((c) => c.arn), steps: this.steps, serviceAccounts: sas, oidcProviders: providers, summary };
  }

  /** The providers the plan deletes (decided nothing refers to them, and confirmed). */
  private deletions(): FinalizeProvider[] {
    return (this.plan.oidcProviders ?? []).filter((p) => p.action === 'delete');
  }

  /**
   * Deletes one OIDC provider, deciding again first over a fresh listing of every role of its
   * account (the trust policies as this run left them): someone may have made a role trust it
   * since the review. Never on an incomplete listing, never after a failed step of this run.
   * Journaled (the provider's URL, client IDs, thumbprints and tags) before the call.
   */
  private async deleteProvider(p: FinalizeProvider, previous: FinalizePrevious): Promise<FinalizeProviderReport> {
    const id = `oidc-provider:${p.providerArn}`;
    const report = (outcome: FinalizeProviderOutcome, reason: string, trusted: { trustedBy: string[]; trustedByCount: number } = { trustedBy: [], trustedByCount: 0 }): FinalizeProviderReport => ({ cluster: p.cluster, providerArn: p.providerArn, outcome, reason, ...trusted });
    const out = await (async (): Promise<{ status: StepStatus; message: string; attempts: number; report: FinalizeProviderReport }> => {
      const skip = (message: string) => ({ status: 'skipped' as const, message, attempts: 0, report: report('skipped', message) });
      if (this.deps.signal.aborted) return skip('not started: finalize was interrupted');
      const failed = this.steps.filter((s) => s.status === 'failed');
      if (failed.length > 0) return skip(`not deleted: ${failed.length} step(s) of this run failed (${failed.map((s) => s.target).join(', ')}); run podid finalize again`);
      try {
        const iam = this.deps.ports.iam;
        const record = await this.read(() => iam.getOidcProvider(p.providerArn));
        if (record === null) return { status: 'already-done', message: 'the provider is already gone', attempts: 0, report: report('already-gone', 'the provider is already gone') };
        const partition = p.providerArn.split(':')[1] ?? 'aws';
        let roles;
        try {
          roles = await listAllRoles(iam, partition, (fn) => this.read(fn));
        } catch (err) {
          const message = `not deleted: ${msg(err)}; podid deletes a provider only after reading the trust policy of every role of its account`;
          return { status: 'failed', message, attempts: 0, report: report('refused', message) };
        }
        const account = p.providerArn.split(':')[4] ?? '';
        const decision = decideDeletion(providerTrustedBy(p.providerArn, roles), account);
        if (decision.action !== 'delete') {
          return { status: 'drifted', message: `not deleted, changed since the review: ${decision.reason}`, attempts: 0, report: report('refused', decision.reason, decision) };
        }
        const journaled = previous.oidcProviders?.find((x) => x.arn === p.providerArn) ?? { cluster: p.cluster, ...record };
        await this.journal?.append({ record: 'intent', at: this.now(), stepId: id, action: 'delete-oidc-provider', target: p.providerArn, request: { provider: { ...journaled, ...record, cluster: p.cluster } } });
        const attempts = await this.mutate(() => iam.deleteOidcProvider(p.providerArn), async () => ((await iam.getOidcProvider(p.providerArn)) === null ? true : undefined));
        const message = `deleted: ${decision.reason}; IRSA no longer works for any ServiceAccount of ${this.cluster(p.cluster).name} (podid rollback creates it again)`;
        return { status: 'done', message, attempts, report: report('deleted', message) };
      } catch (err) {
        return { status: 'failed', message: msg(err), attempts: 0, report: report('failed', msg(err)) };
      }
    })();
    await this.report({ id, kind: 'delete-oidc-provider', target: p.providerArn, status: out.status, message: out.message, attempts: out.attempts });
    return out.report;
  }

  private async removeTrust(roleArn: string, planned: JsonObject, sas: readonly FinalizeSa[]): Promise<{ status: StepStatus; message: string }> {
    const id = `trust:${roleArn}`;
    const out = await (async (): Promise<{ status: StepStatus; message: string; attempts: number }> => {
      if (sas.length === 0) return { status: 'skipped', message: 'none of its ServiceAccounts is verified on Pod Identity', attempts: 0 };
      if (this.deps.signal.aborted) return { status: 'skipped', message: 'not started: finalize was interrupted', attempts: 0 };
      try {
        const iam = this.deps.ports.iam;
        const current = await this.read(() => iam.getRole(roleArn));
        if (current === null) return { status: 'drifted', message: `role ${roleArn} no longer exists`, attempts: 0 };
        const wanted = trustEditFor(planned, sas);
        if (canonicalJson(current.document) === canonicalJson(wanted)) return { status: 'already-done', message: `the OIDC grant of ${sas.map((s) => `${s.namespace}/${s.name}`).join(', ')} is already gone`, attempts: 0 };
        if (canonicalJson(current.document) !== canonicalJson(planned)) {
          return { status: 'drifted', message: `the trust policy of ${roleArn} changed since the plan was made; run podid finalize --dry-run again and review it`, attempts: 0 };
        }
        await this.journal?.append({ record: 'intent', at: this.now(), stepId: id, action: 'remove-oidc-trust', target: roleArn, request: { before: current.document, after: wanted } });
        const attempts = await this.mutate(() => iam.updateAssumeRolePolicy(roleArn, wanted), async () => {
          const r = await iam.getRole(roleArn);
          return r !== null && canonicalJson(r.document) === canonicalJson(wanted) ? true : undefined;
        });
        return { status: 'done', message: `removed the OIDC grant of ${sas.map((s) => `${s.namespace}/${s.name}`).join(', ')} from ${roleArn}`, attempts };
      } catch (err) {
        return { status: 'failed', message: msg(err), attempts: 0 };
      }
    })();
    await this.report({ id, kind: 'remove-oidc-trust', target: roleArn, ...out });
    return out;
  }

  private async removeAnnotations(s: FinalizeSa): Promise<{ status: StepStatus; message: string }> {
    const id = `sa:${saKey(s)}`;
    const target = `ServiceAccount ${s.namespace}/${s.name} on ${this.cluster(s.cluster).name}`;
    const out = await (async (): Promise<{ status: StepStatus; message: string; attempts: number }> => {
      if (this.deps.signal.aborted) return { status: 'skipped', message: 'not started: finalize was interrupted', attempts: 0 };
      try {
        const kube = this.deps.ports.kube(s.context);
        const sa = await this.read(() => kube.getServiceAccount(s.namespace, s.name));
        if (sa === null) return { status: 'drifted', message: 'the ServiceAccount no longer exists', attempts: 0 };
        const present = IRSA_ANNOTATIONS.filter((k) => sa.annotations[k] !== undefined);
        if (present.length === 0) return { status: 'already-done', message: 'no IRSA annotation is left', attempts: 0 };
        const patch = Object.fromEntries(present.map((k) => [k, null]));
        await this.journal?.append({ record: 'intent', at: this.now(), stepId: id, action: 'remove-irsa-annotations', target, request: { cluster: s.cluster, namespace: s.namespace, name: s.name, removed: present } });
        const attempts = await this.mutate(() => kube.patchServiceAccountAnnotations(s.namespace, s.name, patch), async () => {
          const now = await kube.getServiceAccount(s.namespace, s.name);
          return now !== null && present.every((k) => now.annotations[k] === undefined) ? true : undefined;
        });
        return { status: 'done', message: `removed ${present.join(', ')}`, attempts };
      } catch (err) {
        return { status: 'failed', message: msg(err), attempts: 0 };
      }
    })();
    await this.report({ id, kind: 'remove-irsa-annotations', target, ...out });
    return out;
  }
}
