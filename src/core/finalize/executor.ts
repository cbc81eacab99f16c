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
import { compareStrings, plural } from '../text.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import { errorText as msg, Execution, isActivePod as active, type ExecutorDeps, type StepOutcome } from '../apply/execution.js';
import type { FinalizePrevious } from '../apply/journal.js';
import type { StepStatus } from '../apply/result.js';
import { verifyServiceAccount } from '../apply/verify.js';
import { IRSA_ANNOTATIONS, stalePodsRefusal, trustEditFor, type FinalizePlan, type FinalizeSa } from './plan.js';
import { decideDeletion, listAllRoles, providerTrustedBy, type FinalizeProvider } from './provider.js';
import {
  FINALIZE_RESULT_KIND, type FinalizeOutcome, type FinalizeProviderOutcome, type FinalizeProviderReport, type FinalizeResult, type FinalizeSaReport, type FinalizeStepReport,
} from './result.js';

export type FinalizeEvent = { kind: 'step'; report: FinalizeStepReport };

export type FinalizeDeps = ExecutorDeps<FinalizePrevious, FinalizeEvent>;

const saKey = (s: FinalizeSa) => `${s.cluster}/${s.namespace}/${s.name}`;

/** A provider the plan does not delete, as the result reports it. */
const providerReport = (p: FinalizeProvider): FinalizeProviderReport => ({ cluster: p.cluster, providerArn: p.providerArn, outcome: p.action === 'delete' ? 'skipped' : p.action, reason: p.reason, trustedBy: p.trustedBy, trustedByCount: p.trustedByCount });

export class FinalizeExecutor extends Execution<FinalizePrevious, FinalizeEvent> {
  private readonly steps: FinalizeStepReport[] = [];
  private readonly limit;

  constructor(
    private readonly plan: FinalizePlan,
    opts: { concurrency: number },
    deps: FinalizeDeps,
  ) {
    super(deps);
    this.limit = createLimiter(opts.concurrency);
  }

  private cluster(arn: string) {
    const c = this.plan.clusters.find((x) => x.arn === arn);
    if (!c) throw new PodidError('PLAN_INVALID', `the finalize plan names cluster ${arn} but does not list it`);
    return c;
  }

  /**
   * Runs one step: skipped with `skip` when given (a reason known before it starts), after an
   * interruption, failed on an error; journaled and reported either way.
   */
  private async step(id: string, kind: FinalizeStepReport['kind'], target: string, run: () => Promise<StepOutcome>, skip?: string): Promise<StepOutcome> {
    const out = skip !== undefined ? { status: 'skipped' as const, message: skip } : await this.guarded('not started: finalize was interrupted', run);
    const report: FinalizeStepReport = { id, kind, target, status: out.status, message: out.message, attempts: out.attempts ?? 0 };
    this.steps.push(report);
    await this.recordStep({ stepId: id, action: kind, target, status: out.status, message: out.message, result: null, attempts: out.attempts ?? 0 });
    this.emit({ kind: 'step', report });
    return out;
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
    previous.serviceAccounts.sort((a, b) => compareStrings(`${a.cluster}/${a.namespace}/${a.name}`, `${b.cluster}/${b.namespace}/${b.name}`));
    previous.roles.sort((a, b) => compareStrings(a.roleArn, b.roleArn));
    previous.oidcProviders!.sort((a, b) => compareStrings(a.arn, b.arn));
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
    if (irsa.length > 0) return { outcome: 'refused', reason: stalePodsRefusal(irsa) };
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
    const journal = await this.openJournal(previous);
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
    for (const r of sas) await this.recordOutcome(r);
    const count = (o: FinalizeOutcome) => sas.filter((s) => s.outcome === o).length;
    const summary = { finalized: count('finalized'), refused: count('refused'), drifted: count('drifted'), failed: count('failed'), skipped: count('skipped'), oidcProvidersDeleted: providers.filter((p) => p.outcome === 'deleted').length, mutatingCalls: this.mutatingCalls };
    const failed = summary.failed > 0 || providers.some((p) => p.outcome === 'failed');
    const refused = summary.refused + summary.drifted > 0 || providers.some((p) => p.outcome === 'refused');
    const header = await this.finish(journal, startedAt, this.plan.clusters.map((c) => c.arn), failed, refused, summary);
    return { kind: FINALIZE_RESULT_KIND, schemaVersion: 1, ...header, steps: this.steps, serviceAccounts: sas, oidcProviders: providers, summary };
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
    let result: FinalizeProviderReport | null = null;
    const report = (outcome: FinalizeProviderOutcome, reason: string, trusted: { trustedBy: string[]; trustedByCount: number } = { trustedBy: [], trustedByCount: 0 }) => {
      result = { cluster: p.cluster, providerArn: p.providerArn, outcome, reason, ...trusted };
    };
    const failedSteps = this.steps.filter((s) => s.status === 'failed');
    const skip = !this.deps.signal.aborted && failedSteps.length > 0 ? `not deleted: ${plural(failedSteps.length, 'step')} of this run failed (${failedSteps.map((s) => s.target).join(', ')}); run podid finalize again` : undefined;
    const out = await this.step(id, 'delete-oidc-provider', p.providerArn, async (): Promise<StepOutcome> => {
      const iam = this.deps.ports.iam;
      const record = await this.read(() => iam.getOidcProvider(p.providerArn));
      if (record === null) {
        report('already-gone', 'the provider is already gone');
        return { status: 'already-done', message: 'the provider is already gone' };
      }
      const partition = p.providerArn.split(':')[1] ?? 'aws';
      let roles;
      try {
        roles = await listAllRoles(iam, partition, (fn) => this.read(fn));
      } catch (err) {
        const message = `not deleted: ${msg(err)}; podid deletes a provider only after reading the trust policy of every role of its account`;
        report('refused', message);
        return { status: 'failed', message };
      }
      const account = p.providerArn.split(':')[4] ?? '';
      const decision = decideDeletion(providerTrustedBy(p.providerArn, roles), account);
      if (decision.action !== 'delete') {
        report('refused', decision.reason, decision);
        return { status: 'drifted', message: `not deleted, changed since the review: ${decision.reason}` };
      }
      const journaled = previous.oidcProviders?.find((x) => x.arn === p.providerArn) ?? { cluster: p.cluster, ...record };
      await this.intent(id, 'delete-oidc-provider', p.providerArn, { provider: { ...journaled, ...record, cluster: p.cluster } });
      const sent = await this.mutate(
        async () => {
          await iam.deleteOidcProvider(p.providerArn);
          return true as const;
        },
        { readBack: async () => ((await iam.getOidcProvider(p.providerArn)) === null ? (true as const) : undefined) },
      );
      const message = `deleted: ${decision.reason}; IRSA no longer works for any ServiceAccount of ${this.cluster(p.cluster).name} (podid rollback creates it again)`;
      report('deleted', message);
      return { status: 'done', message, attempts: sent.attempts };
    }, skip);
    // Not reached (skipped), or failed on an error before it said more.
    return result ?? { cluster: p.cluster, providerArn: p.providerArn, outcome: out.status === 'skipped' ? 'skipped' : 'failed', reason: out.message, trustedBy: [], trustedByCount: 0 };
  }

  private removeTrust(roleArn: string, planned: JsonObject, sas: readonly FinalizeSa[]): Promise<StepOutcome> {
    const id = `trust:${roleArn}`;
    const skip = sas.length === 0 ? 'none of its ServiceAccounts is verified on Pod Identity' : undefined;
    return this.step(id, 'remove-oidc-trust', roleArn, async () => {
      const iam = this.deps.ports.iam;
      const current = await this.read(() => iam.getRole(roleArn));
      if (current === null) return { status: 'drifted', message: `role ${roleArn} no longer exists` };
      const wanted = trustEditFor(planned, sas);
      if (canonicalJson(current.document) === canonicalJson(wanted)) return { status: 'already-done', message: `the OIDC grant of ${sas.map((s) => `${s.namespace}/${s.name}`).join(', ')} is already gone` };
      if (canonicalJson(current.document) !== canonicalJson(planned)) {
        return { status: 'drifted', message: `the trust policy of ${roleArn} changed since the plan was made; run podid finalize --dry-run again and review it` };
      }
      await this.intent(id, 'remove-oidc-trust', roleArn, { before: current.document, after: wanted });
      const sent = await this.writeTrust(roleArn, wanted);
      return { status: 'done', message: `removed the OIDC grant of ${sas.map((s) => `${s.namespace}/${s.name}`).join(', ')} from ${roleArn}`, attempts: sent.attempts };
    }, skip);
  }

  private removeAnnotations(s: FinalizeSa): Promise<StepOutcome> {
    const id = `sa:${saKey(s)}`;
    const target = `ServiceAccount ${s.namespace}/${s.name} on ${this.cluster(s.cluster).name}`;
    return this.step(id, 'remove-irsa-annotations', target, async () => {
      const kube = this.deps.ports.kube(s.context);
      const sa = await this.read(() => kube.getServiceAccount(s.namespace, s.name));
      if (sa === null) return { status: 'drifted', message: 'the ServiceAccount no longer exists' };
      const present = IRSA_ANNOTATIONS.filter((k) => sa.annotations[k] !== undefined);
      if (present.length === 0) return { status: 'already-done', message: 'no IRSA annotation is left' };
      await this.intent(id, 'remove-irsa-annotations', target, { cluster: s.cluster, namespace: s.namespace, name: s.name, removed: present });
      const sent = await this.patchAnnotations(kube, s.namespace, s.name, Object.fromEntries(present.map((k) => [k, null])));
      return { status: 'done', message: `removed ${present.join(', ')}`, attempts: sent.attempts };
    });
  }
}
