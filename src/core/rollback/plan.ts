/**
 * What `podid rollback` undoes, read from the journal of the run it rolls back (pure). Only what
 * the run may have sent counts: a step with an `intent` record (journaled just before the call).
 * A step the run found already done was some earlier run's work, and is that run's to undo.
 *
 * - apply: the associations it created (never others), each add-on's previous associations and
 *   IRSA role, the agent add-on it installed, the restartedAt annotation of every workload it
 *   restarted, and each trust policy it wrote.
 * - finalize: each trust policy it wrote, the IRSA annotations it removed, and each OIDC provider
 *   it deleted (--delete-oidc-provider), created again with its URL, client IDs, thumbprints and tags.
 */
import { parseClusterArn } from '../arn.js';
import { commandOf, type FinalizeRunRecord, type IntentRecord, type JournalRecord, type RunRecord, type StepRecord } from '../apply/journal.js';
import type { AddonRecord, AssociationRecord, OidcProviderRecord, RestartableKind } from '../apply/ports.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { canonicalJson } from '../plan/fingerprint.js';

export interface RollbackCluster {
  arn: string;
  name: string;
  region: string;
  account: string;
  partition: string;
  /** null when the run had no kubeconfig context for it. */
  context: string | null;
}

export interface AssociationUndo {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  /** Association ids the run journaled as created by it. */
  createdIds: string[];
  /** Association ids that existed before the run: never deleted. */
  preexistingIds: string[];
  /** The earlier run of podid that created them, when this run found them in place and adopted them. */
  adoptedFrom?: string;
}

export interface AddonUndo {
  cluster: string;
  addonName: string;
  /** The add-on as it was before the run. */
  previous: AddonRecord;
  /** The associations it owned then (restored). */
  previousOwned: { serviceAccount: string; roleArn: string }[];
  /** What the run asked for. */
  written: { serviceAccount: string; roleArn: string }[];
  /** The add-on's namespace, as far as the journal knows it (the associations it owned or got). */
  namespace: string | null;
  /** The earlier podid run whose update this run found in place (its associations as that run wrote them). */
  adoptedFrom?: string;
}

export interface WorkloadUndo {
  cluster: string;
  kind: RestartableKind;
  namespace: string;
  name: string;
  /** The workload's uid before the run (null: unknown). */
  uid: string | null;
  previousRestartedAt: string | null;
  writtenRestartedAt: string;
  serviceAccounts: string[];
  /** Restarted by an earlier podid run whose restart this run found in place. */
  adoptedFrom?: string;
}

export interface TrustUndo {
  roleArn: string;
  /** The document before the run, exactly as GetRole returned it. */
  previous: JsonObject;
  /** The document the run wrote. */
  written: JsonObject;
  /** Written by an earlier podid run; this run found it in place. */
  adoptedFrom?: string;
}

export interface ServiceAccountUndo {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  /** The annotations finalize removed, with their values. */
  annotations: Record<string, string>;
}

/** An OIDC provider finalize deleted: created again exactly as it was journaled. */
export interface OidcProviderUndo extends OidcProviderRecord {
  /** The cluster whose issuer it is for. */
  cluster: string;
}

/** A ServiceAccount whose pods must be back on IRSA after the rollback of an apply. */
export interface RollbackSubject {
  cluster: string;
  namespace: string | null;
  serviceAccount: string;
  roleArn: string;
  /** The add-on that owned its association (the namespace is the add-on's). */
  addon: string | null;
  /** The association existed before the run (only its workloads were restarted). */
  preexisting: boolean;
  /**
   * Associations of this ServiceAccount that existed when the run started although the plan
   * meant to create one (someone else made them after the plan): never podid's to delete.
   */
  keptAssociationIds?: string[];
}

export interface RollbackPlan {
  target: { runId: string; command: 'apply' | 'finalize'; journal: string; startedAt: string; status: string };
  clusters: RollbackCluster[];
  associations: AssociationUndo[];
  addons: AddonUndo[];
  /** Agent add-ons the run installed: removed when no association is left on the cluster. */
  agents: { cluster: string; addonName: string }[];
  workloads: WorkloadUndo[];
  trust: TrustUndo[];
  serviceAccounts: ServiceAccountUndo[];
  /** OIDC providers a finalize run deleted. */
  oidcProviders: OidcProviderUndo[];
  subjects: RollbackSubject[];
  /**
   * Earlier apply runs whose changes this run found in place and adopted (a re-run of the same
   * plan): what of theirs this run's plan covers is undone with it (lineage.ts).
   */
  adoptedFrom?: string[];
}

/** An earlier apply run's rollback plan: what a later run may have found in place and adopted. */
export interface EarlierPlan {
  runId: string;
  plan: RollbackPlan;
}

/**
 * The clusters whose Kubernetes API the rollback uses: where it restores workloads or
 * ServiceAccount annotations, and where it verifies ServiceAccounts (their pods and annotations).
 */
export function kubeClusters(p: RollbackPlan): RollbackCluster[] {
  const used = new Set([...p.workloads, ...p.subjects, ...p.serviceAccounts].map((x) => x.cluster));
  return p.clusters.filter((c) => used.has(c.arn));
}

export function isEmptyRollback(p: RollbackPlan): boolean {
  return p.associations.length + p.addons.length + p.agents.length + p.workloads.length + p.trust.length + p.serviceAccounts.length + p.oidcProviders.length === 0;
}

function clusterFromArn(arn: string, context: string | null): RollbackCluster {
  const parsed = parseClusterArn(arn);
  if (!parsed.ok) return { arn, name: arn.slice(arn.lastIndexOf('/') + 1), region: arn.split(':')[3] ?? '', account: arn.split(':')[4] ?? '', partition: arn.split(':')[1] ?? 'aws', context };
  return { arn, name: parsed.arn.name, region: parsed.arn.region, account: parsed.arn.account, partition: parsed.arn.partition, context };
}

export function planRollback(journal: string, records: readonly JournalRecord[], earlier: readonly EarlierPlan[] = []): RollbackPlan {
  const run = records[0];
  if (run === undefined || run.record !== 'run') throw new PodidError('JOURNAL_INVALID', `${journal}: the first record is not a run record`);
  const command = commandOf(run);
  if (command === 'rollback') {
    throw new PodidError('ROLLBACK_OF_ROLLBACK', `run ${run.runId} is itself a rollback; podid does not roll back a rollback`, { hint: 'apply the migration again (podid migrate --apply), or finalize it', exit: 'usage' });
  }
  const finished = records.find((r) => r.record === 'finished');
  const intents = records.filter((r): r is IntentRecord => r.record === 'intent');
  const steps = records.filter((r): r is StepRecord => r.record === 'step');
  const intentOf = (stepId: string) => intents.filter((i) => i.stepId === stepId);
  // A change of an earlier run is taken over (adopted) only where this run found it in place and
  // said so (already-done), never where this run refused its step (drifted: the plan was stale,
  // the world moved on, perhaps by a later finalize) or never reached it.
  const statusOf = (stepId: string) => steps.filter((st) => st.stepId === stepId).at(-1)?.status;
  const foundInPlace = (stepId: string) => statusOf(stepId) === 'already-done';
  const base = { runId: run.runId, journal, startedAt: run.startedAt, status: finished?.status ?? 'unfinished' };
  if (command === 'finalize') return planFinalizeRollback(run as FinalizeRunRecord, { ...base, command }, intents);
  const apply = run as RunRecord;
  const plan = apply.plan;
  const out = emptyRollbackPlan(
    { ...base, command: 'apply' },
    plan.clusters.map((c) => ({ ...clusterFromArn(c.arn, c.context), name: c.name, region: c.region, account: c.account })),
  );
  // ServiceAccounts whose association the run never asked for (refused as drifted, skipped, or
  // not reached): nothing of theirs was changed unless their role's trust or a workload was.
  const untouched: { cluster: string; namespace: string; serviceAccount: string; roles: string[] }[] = [];
  for (const s of plan.steps) {
    const sent = intentOf(s.id).length > 0;
    if (s.kind === 'create-association') {
      const prev = apply.previous.associations.find((a) => a.cluster === s.cluster && a.namespace === s.namespace && a.serviceAccount === s.serviceAccount);
      const preexistingIds = (prev?.existing ?? []).map((a) => a.associationId);
      out.subjects.push({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount, roleArn: s.annotationRoleArn ?? s.roleArn, addon: null, preexisting: false, ...(preexistingIds.length > 0 ? { keptAssociationIds: preexistingIds } : {}) });
      const adopted = sent || !foundInPlace(s.id) ? undefined : adoptedAssociation(earlier, s.cluster, s.namespace, s.serviceAccount, preexistingIds);
      if (adopted !== undefined) {
        // Found in place, created by an earlier podid run of this plan: this run's to undo too.
        const kept = preexistingIds.filter((id) => !adopted.ids.includes(id));
        const subject = out.subjects.at(-1)!;
        if (kept.length > 0) subject.keptAssociationIds = kept;
        else delete subject.keptAssociationIds;
        out.associations.push({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount, roleArn: s.roleArn, targetRoleArn: s.targetRoleArn, createdIds: adopted.ids, preexistingIds: kept, adoptedFrom: adopted.runId });
        adopt(out, adopted.runId);
        continue;
      }
      if (!sent) {
        untouched.push({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount, roles: [s.roleArn, s.targetRoleArn ?? s.roleArn] });
        continue;
      }
      const createdIds = steps
        .filter((st) => st.stepId === s.id && st.status === 'done' && st.result !== null)
        .map((st) => ((st.result as { association?: AssociationRecord }).association?.associationId ?? ''))
        .filter((id) => id !== '' && !preexistingIds.includes(id));
      out.associations.push({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount, roleArn: s.roleArn, targetRoleArn: s.targetRoleArn, createdIds, preexistingIds });
    } else if (s.kind === 'update-addon') {
      const prev = apply.previous.addons.find((a) => a.cluster === s.cluster && a.addonName === s.addonName);
      const resultAssocs = steps.flatMap((st) => (st.stepId === s.id && st.result !== null ? ((st.result as { associations?: AssociationRecord[] }).associations ?? []) : []));
      const namespace = prev?.ownedAssociations[0]?.namespace ?? resultAssocs[0]?.namespace ?? null;
      for (const a of s.podIdentityAssociations) out.subjects.push({ cluster: s.cluster, namespace, serviceAccount: a.serviceAccount, roleArn: a.roleArn, addon: s.addonName, preexisting: false });
      if (!sent) {
        // Found with the associations an earlier podid run asked for (a run of this plan, or of
        // another that asked the same update: this run would have made it too): back to what the
        // add-on had before that run. The rollback restores it only if it still owns exactly those.
        const pair = (a: { serviceAccount: string; roleArn: string }) => `${a.serviceAccount}\u0000${a.roleArn}`;
        const inPlace = new Set((prev?.ownedAssociations ?? []).map(pair));
        const before = earlier
          .map((e) => ({ runId: e.runId, a: e.plan.addons.find((x) => x.cluster === s.cluster && x.addonName === s.addonName) }))
          .find((x) => x.a !== undefined);
        if (foundInPlace(s.id) && before?.a && before.a.written.every((w) => inPlace.has(pair(w))) && !out.addons.some((x) => x.cluster === s.cluster && x.addonName === s.addonName)) {
          out.addons.push({ ...before.a, adoptedFrom: before.runId });
          adopt(out, before.runId);
        }
        continue;
      }
      if (!prev?.addon) continue;
      out.addons.push({
        cluster: s.cluster,
        addonName: s.addonName,
        previous: prev.addon,
        previousOwned: prev.ownedAssociations.map((a) => ({ serviceAccount: a.serviceAccount, roleArn: a.roleArn })),
        written: s.podIdentityAssociations.map((a) => ({ serviceAccount: a.serviceAccount, roleArn: a.roleArn })),
        namespace,
      });
    } else if (s.kind === 'install-agent') {
      const prev = apply.previous.addons.find((a) => a.cluster === s.cluster && a.addonName === s.addonName);
      // An agent found installed is not adopted from an earlier run: every plan made before the
      // agent was there installs it, so the run that found it may be another team's, and the
      // installing run's own rollback removes it (once no association is left). The run's own
      // install counts when it was done, or created and failed to become healthy, or its outcome
      // is unknown (the run stopped after the intent); not when it failed without creating
      // anything (CreateAddon refused): an agent there now is someone else's.
      const last = steps.filter((st) => st.stepId === s.id).at(-1);
      const created = last === undefined || last.status === 'done' || (last.result !== null && last.result['created'] === true);
      if (sent && prev !== undefined && prev.addon === null && created) out.agents.push({ cluster: s.cluster, addonName: s.addonName });
    } else if (s.kind === 'update-trust') {
      const intent = intentOf(s.id)[0];
      const prev = apply.previous.roles.find((r) => r.roleArn === s.roleArn);
      if (!intent && prev && prev.trustPolicy !== null) {
        // Found already written: by an earlier podid run when it is exactly what that run wrote.
        const found = prev.trustPolicy;
        const e = earlier.find((x) => x.plan.trust.some((t) => t.roleArn === s.roleArn && canonicalJson(t.written) === canonicalJson(found)));
        const t = e?.plan.trust.find((x) => x.roleArn === s.roleArn);
        if (foundInPlace(s.id) && e && t && !out.trust.some((x) => x.roleArn === s.roleArn)) {
          out.trust.push({ ...t, adoptedFrom: e.runId });
          adopt(out, e.runId);
        }
        continue;
      }
      if (!intent || !prev || prev.trustPolicy === null) continue;
      out.trust.push({ roleArn: s.roleArn, previous: prev.trustPolicy, written: (intent.request['after'] as JsonObject | undefined) ?? s.after });
    } else if (s.kind === 'restart-batch') {
      for (const w of s.workloads) {
        const id = `${s.id}#${w.kind}/${w.namespace}/${w.name}`;
        const intent = intentOf(id).at(-1);
        const prev = apply.previous.workloads.find((x) => x.cluster === s.cluster && x.kind === w.kind && x.namespace === w.namespace && x.name === w.name);
        for (const sa of w.serviceAccounts) {
          if (!out.subjects.some((x) => x.cluster === s.cluster && x.namespace === w.namespace && x.serviceAccount === sa)) {
            out.subjects.push({ cluster: s.cluster, namespace: w.namespace, serviceAccount: sa, roleArn: '', addon: null, preexisting: true });
          }
        }
        const before = earlier.map((e) => ({ runId: e.runId, w: e.plan.workloads.find((x) => x.cluster === s.cluster && x.kind === w.kind && x.namespace === w.namespace && x.name === w.name) })).find((x) => x.w !== undefined);
        if (!intent) {
          // The batch looked at it and found its pods on Pod Identity already (a unit without an intent in a batch done or already-done).
          const batch = statusOf(s.id);
          if ((batch === 'done' || batch === 'already-done') && before?.w && !out.workloads.some((x) => x.cluster === s.cluster && x.kind === w.kind && x.namespace === w.namespace && x.name === w.name)) {
            out.workloads.push({ ...before.w, adoptedFrom: before.runId });
            adopt(out, before.runId);
          }
          continue;
        }
        // This run restarted it for ServiceAccounts whose association it did not create: apply
        // restarts only once the association is there, so a podid run before it created it (a run
        // interrupted before its restarts, then a new plan that had only the restarts left). The
        // restart alone cannot bring IRSA back while that association stays: take it over too.
        for (const sa of w.serviceAccounts) {
          const subject = out.subjects.find((x) => x.cluster === s.cluster && x.namespace === w.namespace && x.serviceAccount === sa);
          if (subject === undefined || !subject.preexisting || out.associations.some((a) => a.cluster === s.cluster && a.namespace === w.namespace && a.serviceAccount === sa)) continue;
          const from = adoptedAssociation(earlier, s.cluster, w.namespace, sa);
          if (from === undefined) continue;
          out.associations.push({ ...from.undo, createdIds: from.ids, preexistingIds: [], adoptedFrom: from.runId });
          subject.preexisting = false;
          subject.roleArn = from.undo.targetRoleArn ?? from.undo.roleArn;
          adopt(out, from.runId);
        }
        const previousRestartedAt = prev?.restartedAt ?? ((intent.request['previousRestartedAt'] as string | null | undefined) ?? null);
        // Restarted before by an earlier podid run of this plan: back to what it had before that run.
        const chained = before?.w !== undefined && before.w.writtenRestartedAt === previousRestartedAt;
        if (chained) adopt(out, before.runId);
        out.workloads.push({
          cluster: s.cluster,
          kind: w.kind,
          namespace: w.namespace,
          name: w.name,
          uid: prev?.uid ?? null,
          previousRestartedAt: chained ? before.w!.previousRestartedAt : previousRestartedAt,
          writtenRestartedAt: String(intent.request['restartedAt'] ?? ''),
          serviceAccounts: [...w.serviceAccounts],
        });
      }
    }
  }
  // A ServiceAccount only restarted (its association existed before) keeps its association: it
  // has nothing to return to IRSA for unless the run touched it. Nor has an add-on's, unless the
  // run updated the add-on.
  out.subjects = out.subjects.filter((x) =>
    x.addon !== null
      ? out.addons.some((a) => a.cluster === x.cluster && a.addonName === x.addon)
      : !x.preexisting || out.workloads.some((w) => w.cluster === x.cluster && w.namespace === x.namespace && w.serviceAccounts.includes(x.serviceAccount)));
  // A ServiceAccount the run changed nothing for is not the rollback's to verify: judging it
  // against a trust someone else changed would fail it on every rollback, forever.
  out.subjects = out.subjects.filter((x) => {
    const u = untouched.find((y) => y.cluster === x.cluster && y.namespace === x.namespace && y.serviceAccount === x.serviceAccount);
    if (u === undefined || x.addon !== null) return true;
    return out.trust.some((t) => u.roles.includes(t.roleArn)) || out.workloads.some((w) => w.cluster === x.cluster && w.namespace === x.namespace && w.serviceAccounts.includes(x.serviceAccount));
  });
  return out;
}

/** A rollback plan of `target` over `clusters` that undoes nothing yet. */
function emptyRollbackPlan(target: RollbackPlan['target'], clusters: RollbackPlan['clusters']): RollbackPlan {
  return { target, clusters, associations: [], addons: [], agents: [], workloads: [], trust: [], serviceAccounts: [], oidcProviders: [], subjects: [], adoptedFrom: [] };
}

function adopt(out: RollbackPlan, runId: string): void {
  out.adoptedFrom ??= [];
  if (!out.adoptedFrom.includes(runId)) out.adoptedFrom.push(runId);
}

/**
 * The association ids an earlier run journaled as created (newest earlier run first): those this
 * run found in place, or, without `found`, all of them.
 */
function adoptedAssociation(earlier: readonly EarlierPlan[], cluster: string, namespace: string, serviceAccount: string, found?: readonly string[]): { runId: string; ids: string[]; undo: AssociationUndo } | undefined {
  for (const e of earlier) {
    const undo = e.plan.associations.find((x) => x.cluster === cluster && x.namespace === namespace && x.serviceAccount === serviceAccount);
    const ids = (undo?.createdIds ?? []).filter((id) => found === undefined || found.includes(id));
    if (undo !== undefined && ids.length > 0) return { runId: e.runId, ids, undo };
  }
  return undefined;
}

function planFinalizeRollback(run: FinalizeRunRecord, target: RollbackPlan['target'], intents: readonly IntentRecord[]): RollbackPlan {
  const out = emptyRollbackPlan(
    target,
    run.clusters.map((arn) => clusterFromArn(arn, run.contexts[arn] ?? null)),
  );
  for (const i of intents) {
    if (i.action === 'remove-oidc-trust') {
      const prev = run.previous.roles.find((r) => r.roleArn === i.target);
      if (!prev || prev.trustPolicy === null || out.trust.some((t) => t.roleArn === i.target)) continue;
      out.trust.push({ roleArn: i.target, previous: prev.trustPolicy, written: i.request['after'] as JsonObject });
    } else if (i.action === 'remove-irsa-annotations') {
      const cluster = String(i.request['cluster'] ?? '');
      const namespace = String(i.request['namespace'] ?? '');
      const name = String(i.request['name'] ?? '');
      const prev = run.previous.serviceAccounts.find((s) => s.cluster === cluster && s.namespace === namespace && s.name === name);
      if (!prev || out.serviceAccounts.some((s) => s.cluster === cluster && s.namespace === namespace && s.name === name)) continue;
      out.serviceAccounts.push({ cluster, namespace, name, uid: prev.uid, annotations: prev.annotations });
    } else if (i.action === 'delete-oidc-provider') {
      // The intent carries the provider as read just before the deletion; the run record has it as read before the run.
      const req = (i.request['provider'] ?? null) as Partial<OidcProviderUndo> | null;
      const prev = run.previous.oidcProviders?.find((x) => x.arn === i.target);
      const p = req !== null && typeof req.url === 'string' ? req : prev;
      if (!p || typeof p.url !== 'string' || out.oidcProviders.some((x) => x.arn === i.target)) continue;
      out.oidcProviders.push({
        arn: i.target,
        cluster: String(p.cluster ?? prev?.cluster ?? ''),
        url: p.url,
        clientIds: [...(p.clientIds ?? [])],
        thumbprints: [...(p.thumbprints ?? [])],
        tags: (p.tags ?? []).map((t) => ({ key: t.key, value: t.value })),
      });
    }
  }
  return out;
}
