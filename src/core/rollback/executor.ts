/**
 * The executor of `podid rollback --apply`: undoes exactly what one run did, in the order that
 * keeps every pod able to get credentials throughout.
 *
 *   (finalize runs) the OIDC providers it deleted created again, then trust policies back, then the
 *   IRSA annotations back; each ServiceAccount verified back on IRSA's configuration.
 *   (apply runs) the run's associations deleted and each add-on's previous associations and IRSA
 *   role restored -> --propagation-wait -> the workloads the run restarted get their previous
 *   restartedAt back (their pod template is exactly what it was; new pods come up with IRSA) and
 *   are awaited as `kubectl rollout status` does -> each ServiceAccount verified back on IRSA ->
 *   only then each trust policy back to its journaled document (pods still on Pod Identity keep
 *   working until they are gone) -> an agent add-on the run installed is removed when no
 *   association is left on its cluster.
 *
 * Every step re-reads its target first: what is already as before counts as done (so a rollback
 * can simply be run again after an interruption), and a trust policy that is neither what the
 * run wrote nor what it was before has been changed by someone else: it is refused with the
 * three documents, never overwritten. Mutations are journaled (intent before, step after) and
 * retried like apply's (core/apply/retry.ts).
 */
import { oidcProviderArn, parseRoleArn, type Partition } from '../arn.js';
import { createLimiter } from '../concurrency.js';
import { compareStrings, plural } from '../text.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { parsePolicy } from '../policy/index.js';
import { analyzeTrust } from '../trust.js';
import { AUDIENCE_ANNOTATION, DEFAULT_AUDIENCE, ROLE_ARN_ANNOTATION } from '../annotations.js';
import { addonBusy, associationIdOf, errorText, Execution, isActivePod as active, ownedBy, requestToken, restartStamp, rolloutFailure, succeeded as ok, type ExecutorDeps, type StepOutcome } from '../apply/execution.js';
import type { OidcProviderRecord, PodState } from '../apply/ports.js';
import type { StepStatus } from '../apply/result.js';
import { waitForRollout } from '../apply/rollout.js';
import type { AddonUndo, AssociationUndo, OidcProviderUndo, RollbackCluster, RollbackPlan, RollbackSubject, ServiceAccountUndo, TrustUndo, WorkloadUndo } from './plan.js';
import { countUndone, ROLLBACK_RESULT_KIND, ROLLBACK_RESULT_SCHEMA_VERSION, type RollbackOutcome, type RollbackResult, type RollbackSaReport, type RollbackStepKind, type RollbackStepReport } from './result.js';

export interface RollbackOptions {
  propagationWaitMs: number;
  maxConcurrentRollouts: number;
  rolloutTimeoutMs: number;
  concurrency: number;
  pollMs: number;
  settleTimeoutMs: number;
}

export type RollbackEvent = { kind: 'step'; report: RollbackStepReport } | { kind: 'outcome'; sa: RollbackSaReport };

/** A rollback journals no previous state of its own: the journal of the run it undoes holds it. */
export type RollbackDeps = ExecutorDeps<void, RollbackEvent>;

interface Outcome extends StepOutcome {
  mutated?: boolean;
  conflict?: RollbackStepReport['conflict'];
  result?: JsonObject | null;
}

/** The provider as journaled: same URL, client IDs, thumbprints (when any were journaled) and tags, in any order. */
function sameProvider(a: OidcProviderRecord, b: OidcProviderRecord): boolean {
  const set = (l: readonly string[]) => JSON.stringify([...new Set(l)].sort());
  const url = (u: string) => u.replace(/^https:\/\//i, '').replace(/\/+$/, '').toLowerCase();
  return url(a.url) === url(b.url)
    && set(a.clientIds) === set(b.clientIds)
    && (b.thumbprints.length === 0 || set(a.thumbprints.map((t) => t.toLowerCase())) === set(b.thumbprints.map((t) => t.toLowerCase())))
    && set(a.tags.map((t) => `${t.key}=${t.value}`)) === set(b.tags.map((t) => `${t.key}=${t.value}`));
}

interface Outcome {
  status: StepStatus;
  message: string;
  attempts?: number;
  mutated?: boolean;
  conflict?: RollbackStepReport['conflict'];
  result?: JsonObject | null;
}

/** An association the run found in place (not created by podid) that keeps a ServiceAccount on Pod Identity. */
function keptMessage(k: { associationId: string; roleArn: string }, c: RollbackCluster): string {
  return `association ${k.associationId} -> ${k.roleArn} existed before the run and is not podid's, so it is kept and new pods get Pod Identity through it; to go back to IRSA, delete it (aws eks delete-pod-identity-association --cluster-name ${c.name} --region ${c.region} --association-id ${k.associationId}) and restart the workloads`;
}

export class RollbackExecutor extends Execution<void, RollbackEvent> {
  private readonly reports: RollbackStepReport[] = [];
  private readonly limit;
  private readonly clusters: Map<string, RollbackCluster>;
  private readonly issuers = new Map<string, Promise<string | null>>();
  private readonly workloadStatus = new Map<string, StepStatus>();
  /** `<cluster>/<add-on>/<sa>` -> namespace, learnt from the associations an add-on owned when the rollback read it. */
  private readonly addonNamespaces = new Map<string, string>();

  constructor(
    private readonly plan: RollbackPlan,
    private readonly opts: RollbackOptions,
    deps: RollbackDeps,
  ) {
    super(deps);
    this.limit = createLimiter(opts.concurrency);
    this.clusters = new Map(plan.clusters.map((c) => [c.arn, c] as const));
  }

  private cluster(arn: string): RollbackCluster {
    const c = this.clusters.get(arn);
    if (!c) throw new PodidError('JOURNAL_INVALID', `the journal names cluster ${arn} but does not list it`);
    return c;
  }

  private eks(arn: string) {
    return this.deps.ports.eks(this.cluster(arn).region);
  }

  private kube(arn: string) {
    const c = this.cluster(arn);
    if (c.context === null) throw new PodidError('JOURNAL_INVALID', `the run reached cluster ${c.name} without a kubeconfig context, so podid cannot reach its Kubernetes API`, { hint: 'roll back from a kubeconfig that has the context the run used' });
    return this.deps.ports.kube(c.context);
  }

  /** Runs one step: skipped after an interruption, failed on an error, journaled and reported either way. */
  private async step(id: string, kind: RollbackStepKind, target: string, run: () => Promise<Outcome>): Promise<Outcome> {
    const guarded: Outcome = await this.guarded('not started: the rollback was interrupted', run);
    // A step that failed after sending a call may have changed its target (a deletion, say): the
    // propagation wait before the restarts counts it as a change.
    const out: Outcome = guarded.mutated === undefined && (guarded.attempts ?? 0) > 0 ? { ...guarded, mutated: true } : guarded;
    const report: RollbackStepReport = { id, kind, target, status: out.status, message: out.message, attempts: out.attempts ?? 0, ...(out.conflict ? { conflict: out.conflict } : {}) };
    this.reports.push(report);
    await this.recordStep({ stepId: id, action: kind, target, status: out.status, message: out.message, result: out.result ?? (out.conflict ? (out.conflict as unknown as JsonObject) : null), attempts: out.attempts ?? 0 });
    this.emit({ kind: 'step', report });
    return out;
  }

  async run(startedAt: string): Promise<RollbackResult> {
    const journal = await this.openJournal();
    const p = this.plan;

    // Finalize runs: the OIDC provider first (IRSA needs it, and the grants name it), then the OIDC
    // grants (so the annotation never points at a role that refuses it), then the annotations.
    if (p.target.command === 'finalize') {
      await Promise.all((p.oidcProviders ?? []).map((o) => this.limit(() => this.restoreProvider(o))));
      await Promise.all(p.trust.map((t) => this.limit(() => this.restoreTrust(t, null))));
      await Promise.all(p.serviceAccounts.map((s) => this.limit(() => this.restoreServiceAccount(s))));
    }

    // Apply runs: associations and add-ons first, so that restarted pods come up with IRSA.
    const mutated = await Promise.all([...p.associations.map((a) => this.limit(() => this.deleteAssociations(a))), ...p.addons.map((a) => this.limit(() => this.restoreAddon(a)))]);
    if (p.workloads.length > 0 && mutated.some((m) => m.mutated) && this.opts.propagationWaitMs > 0 && !this.deps.signal.aborted) {
      this.progress(`waiting ${Math.ceil(this.opts.propagationWaitMs / 1000)}s for the association deletions to propagate before restarting`);
      await this.deps.clock.sleep(this.opts.propagationWaitMs, this.deps.signal);
    }
    const rollouts = createLimiter(this.opts.maxConcurrentRollouts);
    await Promise.all(p.workloads.map((w) => rollouts(() => this.restoreWorkload(w))));

    const sas: RollbackSaReport[] = [];
    for (const s of p.subjects) sas.push(await this.judge(s));
    if (p.target.command === 'finalize') for (const s of p.serviceAccounts) sas.push(await this.judgeFinalized(s));

    // Trust last: only for roles whose ServiceAccounts are all back on IRSA.
    if (p.target.command === 'apply') {
      await Promise.all(p.trust.map((t) => this.limit(() => this.restoreTrust(t, this.trustBlocker(t, sas)))));
      for (const a of p.agents) await this.limit(() => this.removeAgent(a.cluster, a.addonName));
    }

    const count = (o: RollbackOutcome) => sas.filter((s) => s.outcome === o).length;
    const refusedSteps = this.reports.filter((r) => r.status === 'drifted').length;
    const failedSteps = this.reports.filter((r) => r.status === 'failed').length;
    const summary = { restored: count('restored'), needsRestart: count('needs-restart'), drifted: count('drifted'), failed: count('failed'), skipped: count('skipped'), refusedSteps, undone: countUndone(this.reports), mutatingCalls: this.mutatingCalls };
    // A trust policy left as the run wrote it, waiting for pods to be restarted (needs-restart), is
    // work left: the rollback ends partial (exit 5), so that running it again once they are
    // restarted finishes it, instead of the run counting as rolled back with its trust edit in place.
    const trustLeft = summary.drifted === 0 && refusedSteps === 0 && this.reports.some((r) => r.kind === 'restore-trust' && r.status === 'skipped');
    const { runId, ...header } = await this.finish(journal, startedAt, p.clusters.map((c) => c.arn), summary.failed > 0 || failedSteps > 0 || trustLeft, summary.drifted > 0 || refusedSteps > 0, summary);
    return {
      kind: ROLLBACK_RESULT_KIND,
      schemaVersion: ROLLBACK_RESULT_SCHEMA_VERSION,
      runId,
      rollbackOf: p.target.runId,
      ...header,
      steps: this.reports,
      serviceAccounts: sas,
      summary,
    };
  }

  // ---------------------------------------------------------------- trust

  /** Why a role's trust must not be restored yet (a ServiceAccount of the role not back on IRSA), or null. */
  private trustBlocker(t: TrustUndo, sas: readonly RollbackSaReport[]): string | null {
    const subjects = this.plan.subjects.filter((s) => s.roleArn === t.roleArn);
    for (const s of subjects) {
      const r = sas.find((x) => x.cluster === s.cluster && x.serviceAccount === s.serviceAccount && (s.namespace === null || x.namespace === s.namespace));
      if (r && r.outcome !== 'restored') return `not restored while ${r.namespace}/${r.serviceAccount} is ${r.outcome} (its pods may still need the Pod Identity statement): ${r.reason}`;
    }
    return null;
  }

  private restoreTrust(t: TrustUndo, blocker: string | null): Promise<Outcome> {
    return this.step(`trust:${t.roleArn}`, 'restore-trust', t.roleArn, async () => {
      if (blocker !== null) return { status: 'skipped', message: blocker };
      const iam = this.deps.ports.iam;
      const current = await this.read(() => iam.getRole(t.roleArn));
      if (current === null) return { status: 'drifted', message: `role ${t.roleArn} no longer exists` };
      const now = canonicalJson(current.document);
      if (now === canonicalJson(t.previous)) return { status: 'already-done', message: 'the trust policy is already the one journaled before the run' };
      if (now !== canonicalJson(t.written)) {
        return {
          status: 'drifted',
          message: 'refused: the trust policy was changed after the run (it is neither what the run wrote nor what it was before); podid does not overwrite someone else\'s change. Merge the difference by hand, then run podid rollback again',
          conflict: { previous: t.previous, written: t.written, current: current.document },
        };
      }
      await this.intent(`trust:${t.roleArn}`, 'restore-trust', t.roleArn, { before: current.document, after: t.previous });
      const sent = await this.writeTrust(t.roleArn, t.previous);
      return { status: 'done', message: 'restored the trust policy journaled before the run', attempts: sent.attempts, mutated: true, result: { written: t.previous } };
    });
  }

  // ---------------------------------------------------------------- finalize: annotations

  private restoreServiceAccount(s: ServiceAccountUndo): Promise<Outcome> {
    const target = `ServiceAccount ${s.namespace}/${s.name} on ${this.cluster(s.cluster).name}`;
    return this.step(`sa:${s.cluster}/${s.namespace}/${s.name}`, 'restore-service-account', target, async () => {
      const kube = this.kube(s.cluster);
      const sa = await this.read(() => kube.getServiceAccount(s.namespace, s.name));
      if (sa === null) return { status: 'drifted', message: 'the ServiceAccount no longer exists' };
      if (sa.uid !== s.uid) return { status: 'drifted', message: 'the ServiceAccount was re-created since finalize (its uid differs)' };
      const patch: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.annotations)) {
        const cur = sa.annotations[k];
        if (cur === v) continue;
        if (cur !== undefined) return { status: 'drifted', message: `refused: ${k} is now ${JSON.stringify(cur)}, set by someone else after finalize (it was ${JSON.stringify(v)})` };
        patch[k] = v;
      }
      if (Object.keys(patch).length === 0) return { status: 'already-done', message: 'the IRSA annotations are already back' };
      await this.intent(`sa:${s.cluster}/${s.namespace}/${s.name}`, 'restore-service-account', target, { cluster: s.cluster, namespace: s.namespace, name: s.name, annotations: patch });
      const sent = await this.patchAnnotations(kube, s.namespace, s.name, patch);
      return { status: 'done', message: `restored ${Object.keys(patch).join(', ')}`, attempts: sent.attempts, mutated: true, result: { annotations: patch } };
    });
  }

  // ---------------------------------------------------------------- finalize: OIDC providers

  /** CreateOpenIDConnectProvider with the URL, client IDs, thumbprints and tags journaled before finalize deleted it. */
  private restoreProvider(o: OidcProviderUndo): Promise<Outcome> {
    const id = `oidc-provider:${o.arn}`;
    return this.step(id, 'restore-oidc-provider', o.arn, async () => {
      const iam = this.deps.ports.iam;
      const current = await this.read(() => iam.getOidcProvider(o.arn));
      if (current !== null) {
        if (sameProvider(current, o)) return { status: 'already-done', message: 'the OIDC provider exists again, as journaled' };
        return { status: 'drifted', message: `refused: the OIDC provider was created again since finalize with other settings (client IDs ${current.clientIds.join(', ') || 'none'}; thumbprints ${current.thumbprints.join(', ') || 'none'}; tags ${current.tags.map((t) => `${t.key}=${t.value}`).join(', ') || 'none'}), not what was journaled; podid leaves it as it is` };
      }
      await this.intent(id, 'restore-oidc-provider', o.arn, { provider: o as unknown as JsonObject });
      const record: OidcProviderRecord = { arn: o.arn, url: o.url, clientIds: o.clientIds, thumbprints: o.thumbprints, tags: o.tags };
      const sent = await this.mutate(async () => {
        await iam.createOidcProvider(record);
        return true;
      }, { readBack: async () => ((await iam.getOidcProvider(o.arn)) !== null ? true : undefined), inUseIsDone: true });
      return { status: 'done', message: `created the OIDC provider again: ${o.url}, client IDs ${o.clientIds.join(', ') || 'none'}, ${plural(o.thumbprints.length, 'thumbprint')}, ${plural(o.tags.length, 'tag')}, as journaled`, attempts: sent.attempts, mutated: true, result: { provider: o as unknown as JsonObject } };
    });
  }

  /**
   * A ServiceAccount finalize stripped, after its rollback: its steps (annotations, its role's
   * trust, its cluster's provider) done, then verified live: the journaled annotations in place,
   * the role's trust admits the cluster's OIDC provider for it (podid's evaluator), and the
   * provider exists with the audience among its client IDs. Its pods keep Pod Identity while its
   * association exists (Pod Identity wins over IRSA), so no pod is judged.
   */
  private async judgeFinalized(s: ServiceAccountUndo): Promise<RollbackSaReport> {
    const base = { cluster: s.cluster, namespace: s.namespace, serviceAccount: s.name, addon: null, pods: { irsa: [] as string[], podIdentity: [] as string[] } };
    const report = await (async (): Promise<RollbackSaReport> => {
      const done = (outcome: RollbackOutcome, reason: string): RollbackSaReport => ({ ...base, outcome, reason });
      const roleArn = s.annotations[ROLE_ARN_ANNOTATION] ?? null;
      const providers = (this.plan.oidcProviders ?? []).filter((o) => o.cluster === s.cluster).map((o) => `oidc-provider:${o.arn}`);
      const mine = this.reports.filter((r) => r.id === `sa:${s.cluster}/${s.namespace}/${s.name}` || (roleArn !== null && r.id === `trust:${roleArn}`) || providers.includes(r.id));
      for (const st of ['drifted', 'failed', 'skipped'] as const) {
        const bad = mine.find((r) => r.status === st);
        if (bad) return done(st, `${bad.kind} ${bad.target}: ${bad.message}`);
      }
      try {
        const c = this.cluster(s.cluster);
        const problems: string[] = [];
        const sa = await this.read(() => this.kube(s.cluster).getServiceAccount(s.namespace, s.name));
        if (sa === null) problems.push(`ServiceAccount ${s.namespace}/${s.name} does not exist`);
        for (const [k, v] of Object.entries(s.annotations)) if (sa !== null && sa.annotations[k] !== v) problems.push(`${k} is ${sa.annotations[k] === undefined ? 'absent' : JSON.stringify(sa.annotations[k])}, not ${JSON.stringify(v)}`);
        let providerArn = '';
        if (roleArn !== null) {
          const issuer = await this.issuer(s.cluster);
          const parsed = parseRoleArn(roleArn);
          const role = await this.read(() => this.deps.ports.iam.getRole(roleArn)).catch(() => null);
          const audience = s.annotations[AUDIENCE_ANNOTATION] ?? DEFAULT_AUDIENCE;
          if (issuer === null) problems.push(`cluster ${c.name} has no OIDC issuer, so IRSA cannot work`);
          else {
            providerArn = oidcProviderArn(c.partition as Partition, parsed.ok ? parsed.arn.account : c.account, issuer);
            if (role === null) problems.push(`role ${roleArn} cannot be read`);
            else {
              const analysis = analyzeTrust(parsePolicy(role.document), { partition: c.partition, clusterAccount: c.account, clusterArn: c.arn, oidcIssuer: issuer, namespace: s.namespace, serviceAccount: s.name, ...(s.annotations[AUDIENCE_ANNOTATION] ? { audience } : {}) });
              if (!analysis.grantsIrsa) problems.push(`the trust policy of ${roleArn} does not admit ${providerArn} for ${s.namespace}/${s.name}`);
            }
            const provider = await this.read(() => this.deps.ports.iam.getOidcProvider(providerArn));
            if (provider === null) problems.push(`the IAM OIDC provider ${providerArn} does not exist, so IRSA fails for every ServiceAccount of ${c.name} (a later finalize deleted it? roll that run back first)`);
            else if (!provider.clientIds.includes(audience)) problems.push(`the OIDC provider ${providerArn} lacks the client ID ${audience}`);
          }
        }
        if (problems.length > 0) return done('failed', `verification: ${problems.join('; ')}`);
        return done('restored', `verified: ${ROLE_ARN_ANNOTATION} is back${roleArn !== null ? `, the trust policy of ${roleArn} admits ${providerArn} for it and the provider exists` : ''}; its pods keep Pod Identity while its association exists`);
      } catch (err) {
        return done('failed', `verification could not run: ${errorText(err)}`);
      }
    })();
    await this.recordOutcome(report);
    this.emit({ kind: 'outcome', sa: report });
    return report;
  }

  // ---------------------------------------------------------------- associations

  private deleteAssociations(a: AssociationUndo): Promise<Outcome> {
    const c = this.cluster(a.cluster);
    const target = `${a.namespace}/${a.serviceAccount} on ${c.name}`;
    const id = `assoc:${a.cluster}/${a.namespace}/${a.serviceAccount}`;
    return this.step(id, 'delete-association', target, async () => {
      const eks = this.eks(a.cluster);
      const found = await this.read(() => eks.findAssociations(c.name, a.namespace, a.serviceAccount));
      // The run's: the ids its journal records as created. Only a run killed before it could
      // journal the answer falls back to one that did not exist before the run and names the
      // role the run asked for. An association with another id is someone else's (or a later
      // run's): never deleted.
      const known = a.createdIds.length > 0;
      const ours = found.filter((x) => !a.preexistingIds.includes(x.associationId) && x.ownerArn === null && (known ? a.createdIds.includes(x.associationId) : x.roleArn === a.roleArn && (x.targetRoleArn ?? null) === a.targetRoleArn));
      const others = found.filter((x) => !ours.includes(x) && !a.preexistingIds.includes(x.associationId));
      if (ours.length === 0) {
        if (known && others.length > 0) {
          const o = others[0]!;
          return {
            status: 'drifted',
            message: `refused: the run created association ${a.createdIds.join(', ')}, which is gone; association ${others.map((x) => `${x.associationId} -> ${x.roleArn}`).join(', ')} was created since by someone else or a later run and is kept, so new pods keep Pod Identity. If it should go: aws eks delete-pod-identity-association --cluster-name ${c.name} --region ${c.region} --association-id ${o.associationId}, then restart the workloads`,
          };
        }
        return { status: 'already-done', message: others.length > 0 ? `no association of the run is left (association ${others.map((o) => o.associationId).join(', ')} was created by someone else and is kept)` : 'no association of the run is left' };
      }
      let attempts = 0;
      for (const x of ours) {
        await this.intent(id, 'delete-association', target, { associationId: x.associationId, roleArn: x.roleArn });
        const sent = await this.mutate(async () => {
          try {
            await eks.deleteAssociation(c.name, x.associationId);
          } catch (err) {
            // Gone already (a retried delete whose first answer was lost): that is the goal.
            if ((err as { kind?: string }).kind === 'not-found') return true;
            throw err;
          }
          return true;
        }, { readBack: async () => ((await eks.describeAssociation(c.name, x.associationId)) === null ? true : undefined) });
        attempts += sent.attempts;
      }
      return { status: 'done', message: `deleted association ${ours.map((x) => `${x.associationId} -> ${x.roleArn}`).join(', ')}`, attempts, mutated: true, result: { deleted: ours as unknown as JsonObject } };
    });
  }

  // ---------------------------------------------------------------- add-ons

  /** null when ACTIVE (or no longer installed); otherwise why not. */
  private addonSettled(cluster: string, addonName: string): Promise<string | null> {
    return this.waitAddonActive(this.eks(cluster), this.cluster(cluster).name, addonName, { settleTimeoutMs: this.opts.settleTimeoutMs, pollMs: this.opts.pollMs, goneIsSettled: true });
  }

  private async ownedNow(cluster: string, arns: readonly string[]): Promise<{ serviceAccount: string; roleArn: string; namespace: string }[]> {
    const c = this.cluster(cluster);
    const out: { serviceAccount: string; roleArn: string; namespace: string }[] = [];
    for (const arn of arns) {
      const a = await this.read(() => this.eks(cluster).describeAssociation(c.name, associationIdOf(arn)));
      if (a !== null) out.push({ serviceAccount: a.serviceAccount, roleArn: a.roleArn, namespace: a.namespace });
    }
    return out.sort((x, y) => compareStrings(x.serviceAccount, y.serviceAccount));
  }

  private restoreAddon(a: AddonUndo): Promise<Outcome> {
    const c = this.cluster(a.cluster);
    const target = `${a.addonName} on ${c.name}`;
    const id = `addon:${a.cluster}/${a.addonName}`;
    const key = (l: readonly { serviceAccount: string; roleArn: string }[]) => canonicalJson([...l].map((x) => ({ serviceAccount: x.serviceAccount, roleArn: x.roleArn })).sort((x, y) => compareStrings(x.serviceAccount, y.serviceAccount)));
    return this.step(id, 'restore-addon', target, async () => {
      const eks = this.eks(a.cluster);
      const current = await this.read(() => eks.describeAddon(c.name, a.addonName));
      if (current === null) return { status: 'drifted', message: `add-on ${a.addonName} is no longer installed on ${c.name}` };
      const owned = await this.ownedNow(a.cluster, current.podIdentityAssociations);
      for (const o of owned) this.addonNamespaces.set(`${a.cluster}/${a.addonName}/${o.serviceAccount}`, o.namespace);
      const roleBack = (current.serviceAccountRoleArn ?? null) === (a.previous.serviceAccountRoleArn ?? null);
      if (key(owned) === key(a.previousOwned) && roleBack) return { status: 'already-done', message: `add-on ${a.addonName} already has its previous associations and IRSA role` };
      if (key(owned) !== key(a.written) && key(owned) !== key(a.previousOwned)) {
        return { status: 'drifted', message: `refused: add-on ${a.addonName} now owns ${owned.map((o) => `${o.serviceAccount} -> ${o.roleArn}`).join(', ') || 'no associations'}, which is neither what the run set nor what it had before; change it by hand (aws eks update-addon)` };
      }
      if (addonBusy(current)) {
        const why = await this.addonSettled(a.cluster, a.addonName);
        if (why !== null) return { status: 'failed', message: why };
      }
      const request = {
        addonName: a.addonName,
        podIdentityAssociations: a.previousOwned,
        ...(roleBack ? {} : { serviceAccountRoleArn: a.previous.serviceAccountRoleArn ?? '' }),
        clientRequestToken: requestToken(this.deps.runId, id),
      };
      await this.intent(id, 'restore-addon', target, request as unknown as JsonObject);
      const sent = await this.mutate(async () => {
        await eks.updateAddon(c.name, request);
        return true;
      }, {
        readBack: async () => {
          const now = await eks.describeAddon(c.name, a.addonName);
          return now !== null && key(await this.ownedNow(a.cluster, now.podIdentityAssociations)) === key(a.previousOwned) ? true : undefined;
        },
      });
      const why = await this.addonSettled(a.cluster, a.addonName);
      if (why !== null) return { status: 'failed', message: why, attempts: sent.attempts, mutated: true };
      return { status: 'done', message: `restored add-on ${a.addonName}: ${a.previousOwned.length === 0 ? 'no Pod Identity associations' : a.previousOwned.map((o) => `${o.serviceAccount} -> ${o.roleArn}`).join(', ')}, IRSA role ${a.previous.serviceAccountRoleArn ?? 'none'}`, attempts: sent.attempts, mutated: true };
    });
  }

  private removeAgent(cluster: string, addonName: string): Promise<Outcome> {
    const c = this.cluster(cluster);
    return this.step(`agent:${cluster}`, 'delete-addon', `${addonName} on ${c.name}`, async () => {
      const eks = this.eks(cluster);
      const addon = await this.read(() => eks.describeAddon(c.name, addonName));
      if (addon === null) return { status: 'already-done', message: `${addonName} is not installed` };
      const left = await this.read(() => eks.listAssociationIds(c.name));
      if (left.length > 0) return { status: 'skipped', message: `kept: the run installed it, but ${plural(left.length, 'pod identity association')} on ${c.name} still ${left.length === 1 ? 'relies' : 'rely'} on an agent` };
      await this.intent(`agent:${cluster}`, 'delete-addon', `${addonName} on ${c.name}`, { addonName });
      const sent = await this.mutate(async () => {
        await eks.deleteAddon(c.name, addonName);
        return true;
      }, { readBack: async () => ((await eks.describeAddon(c.name, addonName)) === null ? true : undefined), inUseIsDone: true });
      return { status: 'done', message: `removed ${addonName}, which the run had installed`, attempts: sent.attempts, mutated: true };
    });
  }

  // ---------------------------------------------------------------- workloads

  private async restoreWorkload(w: WorkloadUndo): Promise<Outcome> {
    const target = `${w.kind}/${w.namespace}/${w.name}`;
    const id = `restart:${w.cluster}#${target}`;
    const out = await this.step(id, 'restore-restart', `${target} on ${this.cluster(w.cluster).name}`, async () => {
      const kube = this.kube(w.cluster);
      const read = () => this.read(() => kube.getWorkload(w.kind, w.namespace, w.name));
      const wait = () => waitForRollout({ read, clock: this.deps.clock, timeoutMs: this.opts.rolloutTimeoutMs, pollMs: this.opts.pollMs, signal: this.deps.signal });
      const before = await read();
      if (before === null) return { status: 'drifted', message: 'the workload no longer exists' };
      // Check first, then act: a restart cannot bring back IRSA while an association that is not
      // podid's to delete is kept for one of its ServiceAccounts.
      const kept = await this.keptAssociation(w);
      if (kept !== null) return { status: 'drifted', message: `not restarted: ${kept}` };
      const onPodIdentity = (pods: PodState[]) => pods.filter((p) => active(p) && p.identity === 'pod-identity');
      // A rollout under way (an interrupted rollback, or someone else's): let it finish first.
      if (onPodIdentity(await this.podsOf(kube, w)).length > 0) {
        const settled = await wait();
        if (settled.state === 'interrupted') return { status: 'skipped', message: settled.message };
      }
      const stillPi = onPodIdentity(await this.podsOf(kube, w));
      if (stillPi.length === 0) return { status: 'already-done', message: 'no pod of it runs with Pod Identity credentials; not restarted' };
      const current = await read();
      if (current === null) return { status: 'drifted', message: 'the workload no longer exists' };
      // Exactly the template it had before the run when the run's annotation is still there;
      // otherwise (restarted since by someone) a fresh restart, as kubectl rollout restart does.
      const value = current.restartedAt === w.writtenRestartedAt ? w.previousRestartedAt : restartStamp(this.deps.clock.now());
      await this.intent(id, 'restore-restart', target, { restartedAt: value, runRestartedAt: w.writtenRestartedAt });
      const sent = await this.mutate(async () => {
        await kube.setRestartedAt(w.kind, w.namespace, w.name, value);
        return true;
      }, { readBack: async () => ((await kube.getWorkload(w.kind, w.namespace, w.name))?.restartedAt === value ? true : undefined), refresh: async () => { await read(); } });
      const outcome = await wait();
      if (outcome.state === 'done') {
        return { status: 'done', message: `${value === w.previousRestartedAt ? `restartedAt back to ${value === null ? 'none' : value}` : `restarted (restartedAt ${value})`}; ${outcome.message}`, attempts: sent.attempts, mutated: true, result: { restartedAt: value } };
      }
      if (outcome.state === 'interrupted') return { status: 'skipped', message: outcome.message, attempts: sent.attempts };
      return { status: 'failed', message: rolloutFailure(outcome), attempts: sent.attempts, mutated: true };
    });
    this.workloadStatus.set(`${w.cluster}/${target}`, out.status);
    return out;
  }

  /** Why restarting w cannot bring its pods back to IRSA (a kept association of one of its ServiceAccounts), or null. */
  private async keptAssociation(w: WorkloadUndo): Promise<string | null> {
    const c = this.cluster(w.cluster);
    for (const s of this.plan.subjects) {
      if (s.cluster !== w.cluster || s.namespace !== w.namespace || !w.serviceAccounts.includes(s.serviceAccount) || (s.keptAssociationIds ?? []).length === 0) continue;
      const found = await this.read(() => this.eks(w.cluster).findAssociations(c.name, w.namespace, s.serviceAccount));
      const k = found.find((a) => (s.keptAssociationIds ?? []).includes(a.associationId));
      if (k) return keptMessage(k, c);
    }
    return null;
  }

  // ---------------------------------------------------------------- verification, in reverse

  private issuer(cluster: string): Promise<string | null> {
    let p = this.issuers.get(cluster);
    if (!p) {
      p = this.read(() => this.eks(cluster).clusterIssuer(this.cluster(cluster).name));
      this.issuers.set(cluster, p);
    }
    return p;
  }

  private async judge(s: RollbackSubject): Promise<RollbackSaReport> {
    const report = await this.judgeInner(s);
    await this.recordOutcome(report);
    this.emit({ kind: 'outcome', sa: report });
    return report;
  }

  private async judgeInner(s: RollbackSubject): Promise<RollbackSaReport> {
    const base = { cluster: s.cluster, namespace: s.namespace ?? '', serviceAccount: s.serviceAccount, addon: s.addon, pods: { irsa: [] as string[], podIdentity: [] as string[] } };
    const done = (outcome: RollbackOutcome, reason: string, pods = base.pods): RollbackSaReport => ({ ...base, outcome, reason, pods });
    const c = this.cluster(s.cluster);
    // The steps this SA depends on.
    const mine = this.reports.filter((r) =>
      (r.kind === 'delete-association' && r.id === `assoc:${s.cluster}/${s.namespace}/${s.serviceAccount}`) ||
      (r.kind === 'restore-addon' && s.addon !== null && r.id === `addon:${s.cluster}/${s.addon}`) ||
      (r.kind === 'restore-restart' && this.plan.workloads.some((w) => w.cluster === s.cluster && w.namespace === s.namespace && w.serviceAccounts.includes(s.serviceAccount) && r.id === `restart:${w.cluster}#${w.kind}/${w.namespace}/${w.name}`)),
    );
    for (const st of ['drifted', 'failed', 'skipped'] as const) {
      const bad = mine.find((r) => r.status === st);
      if (bad) return done(st, `${bad.kind} ${bad.target}: ${bad.message}`);
    }
    const namespace = s.namespace ?? (s.addon !== null ? this.addonNamespaces.get(`${s.cluster}/${s.addon}/${s.serviceAccount}`) ?? null : null);
    base.namespace = namespace ?? '';
    if (namespace === null) return done('failed', `podid could not tell the namespace of add-on ${s.addon ?? ''}'s service account ${s.serviceAccount}`);
    const ns = namespace;
    try {
      const problems: string[] = [];
      const eks = this.eks(s.cluster);
      const kube = this.kube(s.cluster);
      const assocUndo = this.plan.associations.find((a) => a.cluster === s.cluster && a.namespace === ns && a.serviceAccount === s.serviceAccount);
      const found = await this.read(() => eks.findAssociations(c.name, ns, s.serviceAccount));
      // Someone else's association (it existed when the run started; the run adopted it or was
      // refused by it): kept, so this ServiceAccount cannot go back to IRSA by podid's hand.
      const kept = found.filter((a) => (s.keptAssociationIds ?? []).includes(a.associationId));
      if (kept.length > 0) {
        const k = kept[0]!;
        return done('drifted', keptMessage(k, c));
      }
      const leftover = found.filter((a) => !(assocUndo?.preexistingIds ?? []).includes(a.associationId) && !s.preexisting);
      if (leftover.length > 0) problems.push(`association ${leftover.map((a) => `${a.associationId} -> ${a.roleArn}`).join(', ')} still exists, so new pods get Pod Identity`);
      const sa = await this.read(() => kube.getServiceAccount(ns, s.serviceAccount));
      const roleArn = sa?.annotations[ROLE_ARN_ANNOTATION] ?? null;
      if (sa === null) problems.push(`ServiceAccount ${ns}/${s.serviceAccount} does not exist`);
      else if (roleArn === null) problems.push(`ServiceAccount ${ns}/${s.serviceAccount} has no ${ROLE_ARN_ANNOTATION} annotation, so new pods get no IRSA credentials`);
      if (roleArn !== null) {
        const issuer = await this.issuer(s.cluster);
        const role = await this.read(() => this.deps.ports.iam.getRole(roleArn)).catch(() => null);
        if (issuer === null) problems.push(`cluster ${c.name} has no OIDC issuer, so IRSA cannot work`);
        else if (role === null) problems.push(`role ${roleArn} cannot be read`);
        else {
          const analysis = analyzeTrust(parsePolicy(role.document), { partition: c.partition, clusterAccount: c.account, clusterArn: c.arn, oidcIssuer: issuer, namespace: ns, serviceAccount: s.serviceAccount, ...(sa?.annotations[AUDIENCE_ANNOTATION] ? { audience: sa.annotations[AUDIENCE_ANNOTATION] } : {}) });
          if (!analysis.grantsIrsa) problems.push(`the trust policy of ${roleArn} does not admit ${oidcProviderArn(c.partition, c.account, issuer)} for ${ns}/${s.serviceAccount} (sts:AssumeRoleWithWebIdentity)`);
        }
      }
      const pods = (await this.read(() => kube.listPods(ns, s.serviceAccount))).filter(active);
      const restarted = this.plan.workloads.filter((w) => w.cluster === s.cluster && w.namespace === ns && w.serviceAccounts.includes(s.serviceAccount) && ok(this.workloadStatus.get(`${w.cluster}/${w.kind}/${w.namespace}/${w.name}`) ?? 'skipped'));
      const irsa: string[] = [];
      const stale: string[] = [];
      for (const p of pods.sort((a, b) => compareStrings(a.name, b.name))) {
        const mustBeNew = restarted.some((w) => ownedBy(p, w.kind, w.name));
        if (p.identity === 'irsa') irsa.push(p.name);
        else if (p.identity === 'pod-identity') {
          if (mustBeNew) problems.push(`pod ${p.name} came up with the Pod Identity env, not the IRSA env`);
          else stale.push(p.name);
        } else if (mustBeNew) problems.push(`pod ${p.name} has no AWS credential env`);
      }
      const podsReport = { irsa, podIdentity: stale };
      if (problems.length > 0) return done('failed', `verification: ${problems.join('; ')}`, podsReport);
      if (stale.length > 0) {
        return done('needs-restart', s.addon !== null ? `back on IRSA; EKS restarts the add-on's pods, ${stale.length} still run with Pod Identity (${stale.join(', ')})` : `back on IRSA, but ${plural(stale.length, 'pod')} podid did not restart still ${stale.length === 1 ? 'runs' : 'run'} with Pod Identity (${stale.join(', ')}): restart them`, podsReport);
      }
      return done('restored', `verified: no association of the run left, ${roleArn ?? ''} trusts the cluster's OIDC provider for it, ${irsa.length > 0 ? `${plural(irsa.length, 'pod')} on IRSA` : 'no running pods (new pods get IRSA)'}`, podsReport);
    } catch (err) {
      return done('failed', `verification could not run: ${errorText(err)}`);
    }
  }
}
