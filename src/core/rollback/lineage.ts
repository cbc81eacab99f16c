/**
 * Which run a rollback may undo, given every run in the journal directory (pure).
 *
 * - A run a successful rollback already undid is not rolled back again (ALREADY_ROLLED_BACK):
 *   what it created is gone, and what is there now (a later run's association, trust or
 *   restart) is not its to undo.
 * - Runs are undone newest first: a run is refused (ROLLBACK_SUPERSEDED) while a later apply or
 *   finalize run, not rolled back, changed the same association, trust policy, workload, add-on,
 *   ServiceAccount or OIDC provider; the message names that run.
 * - Lineage: a re-run of a plan finds what an earlier run of it did already in place (steps
 *   `already-done`, no intent journaled). Its rollback plan takes those changes from the earlier
 *   run's journal (plan.ts: `adoptedFrom`), so rolling back the re-run undoes them too; an earlier
 *   run whose every change the re-run covers is rolled back with it (the rollback journals it as
 *   `alsoRollsBack`). A succeeded earlier run is taken over only by a re-run of the same plan
 *   (`resumes`): another plan's run that found its work in place did not change it.
 */
import { UsageError } from '../errors.js';
import type { JournalRecord, RunSummary } from '../apply/journal.js';
import { canonicalJson } from '../plan/fingerprint.js';
import { planRollback, type EarlierPlan, type RollbackPlan } from './plan.js';

export interface JournaledRun {
  summary: RunSummary;
  records: readonly JournalRecord[];
}

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** What a rollback plan undoes, as `key -> words`: the same key in two runs is the same thing. */
export function touched(p: RollbackPlan): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of p.associations) out.set(`assoc ${a.cluster} ${a.namespace}/${a.serviceAccount}`, `the association of ${a.namespace}/${a.serviceAccount} on ${clusterName(a.cluster)}`);
  for (const t of p.trust) out.set(`trust ${t.roleArn}`, `the trust policy of ${t.roleArn}`);
  for (const w of p.workloads) out.set(`workload ${w.cluster} ${w.kind}/${w.namespace}/${w.name}`, `${w.kind}/${w.namespace}/${w.name} on ${clusterName(w.cluster)}`);
  for (const a of p.addons) out.set(`addon ${a.cluster} ${a.addonName}`, `add-on ${a.addonName} on ${clusterName(a.cluster)}`);
  for (const a of p.agents) out.set(`agent ${a.cluster} ${a.addonName}`, `the installation of ${a.addonName} on ${clusterName(a.cluster)}`);
  for (const s of p.serviceAccounts) {
    out.set(`sa ${s.cluster} ${s.namespace}/${s.name}`, `ServiceAccount ${s.namespace}/${s.name} on ${clusterName(s.cluster)}`);
    // A finalize took IRSA away from it: from then on its pods depend on its association.
    if (p.target.command === 'finalize') out.set(`assoc ${s.cluster} ${s.namespace}/${s.name}`, `the association of ${s.namespace}/${s.name} on ${clusterName(s.cluster)}`);
  }
  for (const o of p.oidcProviders) out.set(`oidc ${o.arn}`, `OIDC provider ${o.arn}`);
  return out;
}

/**
 * The plan document a run's journal holds (apply runs), as canonical JSON: made once per journal
 * (a plan of thousands of ServiceAccounts is megabytes, and every run is compared with every
 * earlier one).
 */
const canonicalPlans = new WeakMap<readonly JournalRecord[], string | undefined>();
const planOfRun = (r: JournaledRun): string | undefined => {
  if (canonicalPlans.has(r.records)) return canonicalPlans.get(r.records);
  const first = r.records[0] as { record?: string; plan?: unknown } | undefined;
  const canonical = first?.record === 'run' && first.plan !== undefined ? canonicalJson(first.plan) : undefined;
  canonicalPlans.set(r.records, canonical);
  return canonical;
};

/**
 * Whether `later` may take over what `earlier` did (found in place): when it finishes it (the
 * earlier run did not succeed: interrupted, killed, partial, refused; run again, with the same
 * plan or a new one), or when it is a re-run of the very same plan. A run of another plan that
 * found a succeeded run's work in place (a plan made before that run, covering the same
 * ServiceAccounts) did not change it: its rollback restores what was there before it, which is
 * that work, and the earlier run stays its own to roll back.
 */
function resumes(later: JournaledRun, earlier: JournaledRun): boolean {
  if (earlier.summary.status !== 'succeeded') return true;
  const a = planOfRun(earlier);
  return a !== undefined && a === planOfRun(later);
}

const order = (a: RunSummary, b: RunSummary) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

export interface RollbackDecision {
  plan: RollbackPlan;
  /** Earlier runs every change of which this rollback undoes (journaled as alsoRollsBack). */
  alsoRollsBack: string[];
}

/**
 * The rollback plan of `target` with its lineage, or a one-line refusal (exit 2, nothing changed):
 * already rolled back, or a later run not rolled back changed the same things.
 */
export function decideRollback(target: JournaledRun, runs: readonly JournaledRun[]): RollbackDecision {
  const succeeded = new Set(runs.filter((r) => r.summary.command === 'rollback' && r.summary.status === 'succeeded').map((r) => r.summary.runId));
  const undoneBy = (r: RunSummary) => r.rolledBackBy.filter((id) => succeeded.has(id));
  const t = target.summary;
  // Apply and finalize runs not undone, oldest first, each planned with the lineage of those before it.
  const live = runs.filter((r) => r.summary.command !== 'rollback' && undoneBy(r.summary).length === 0 && r.summary.runId !== t.runId).sort((a, b) => order(a.summary, b.summary));
  // What a later run may have adopted: the live runs and the target itself.
  const pool = [...live, target].sort((a, b) => order(a.summary, b.summary));
  const by = undoneBy(t);
  if (by.length > 0) {
    const newest = live.filter((x) => order(x.summary, t) > 0).at(-1);
    throw new UsageError(
      'ALREADY_ROLLED_BACK',
      `run ${t.runId} was already rolled back by ${by.at(-1)!} (succeeded); nothing of it is left to undo, and what is in place now is not its to remove`,
      newest !== undefined ? `what is in place now is the later ${newest.summary.command} run ${newest.summary.runId}'s: podid rollback ${newest.summary.runId} --dry-run` : 'list the runs with podid runs',
    );
  }
  const planned = new Map<string, RollbackPlan>();
  const planOf = (r: JournaledRun): RollbackPlan => {
    let p = planned.get(r.summary.runId);
    if (p === undefined) {
      const earlier: EarlierPlan[] = r.summary.command === 'apply'
        ? pool.filter((x) => x.summary.command === 'apply' && order(x.summary, r.summary) < 0 && resumes(r, x) && !finishedBetween(x, r)).reverse().map((x) => ({ runId: x.summary.runId, plan: planOf(x) }))
        : [];
      p = planRollback(r.summary.journal, r.records, earlier);
      planned.set(r.summary.runId, p);
    }
    return p;
  };
  // An unfinished run that a succeeded run of another plan took over in between (it finished it)
  // is that run's work now: `r`, which found it in place, did not change it either.
  const finishedBetween = (x: JournaledRun, r: JournaledRun): boolean =>
    pool.some((y) => y.summary.command === 'apply' && order(x.summary, y.summary) < 0 && order(y.summary, r.summary) < 0 && !resumes(r, y) && (planOf(y).adoptedFrom ?? []).includes(x.summary.runId));
  const plan = planOf(target);
  const mine = touched(plan);
  for (const later of live.filter((x) => order(x.summary, t) > 0).reverse()) {
    const theirs = touched(planOf(later));
    const shared = [...mine.entries()].filter(([k]) => theirs.has(k)).map(([, words]) => words);
    if (shared.length > 0) {
      throw new UsageError(
        'ROLLBACK_SUPERSEDED',
        `run ${t.runId} cannot be rolled back: the later ${later.summary.command} run ${later.summary.runId} (started ${later.summary.startedAt}) ${later.summary.command === 'finalize' ? 'built on' : 'changed'} ${shared.slice(0, 3).join(', ')}${shared.length > 3 ? ` and ${shared.length - 3} more` : ''}${later.summary.command === 'finalize' ? '' : ' again'} and has not been rolled back; nothing was changed`,
        `runs are undone newest first: podid rollback ${later.summary.runId} --dry-run`,
      );
    }
  }
  // What the rollback takes over from earlier runs (a re-run's lineage) must not have been built on
  // since by a run in between that stays: a finalize after the earlier apply removed IRSA, so
  // undoing that apply's associations now would leave its pods with no credentials at all.
  const adopted = live.filter((x) => (plan.adoptedFrom ?? []).includes(x.summary.runId));
  const earliest = adopted.map((x) => x.summary).sort(order)[0];
  if (earliest !== undefined) {
    for (const mid of live.filter((x) => order(x.summary, earliest) > 0 && order(x.summary, t) < 0 && !adopted.includes(x))) {
      const theirs = touched(planOf(mid));
      const shared = [...mine.entries()].filter(([k]) => theirs.has(k)).map(([, words]) => words);
      // A run of the same lineage (every change of it is undone here too) is not in the way.
      if (shared.length === 0 || [...theirs.keys()].every((k) => mine.has(k))) continue;
      throw new UsageError(
        'ROLLBACK_SUPERSEDED',
        `run ${t.runId} cannot be rolled back: it would undo what the earlier run ${earliest.runId} did (found in place by this run), but the later ${mid.summary.command} run ${mid.summary.runId} (started ${mid.summary.startedAt}) built on ${shared.slice(0, 3).join(', ')}${shared.length > 3 ? ` and ${shared.length - 3} more` : ''} and has not been rolled back; nothing was changed`,
        `runs are undone newest first: podid rollback ${mid.summary.runId} --dry-run`,
      );
    }
  }
  const alsoRollsBack = (plan.adoptedFrom ?? []).filter((id) => {
    const e = live.find((x) => x.summary.runId === id);
    return e !== undefined && [...touched(planOf(e)).keys()].every((k) => mine.has(k));
  });
  return { plan, alsoRollsBack };
}
