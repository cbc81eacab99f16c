/** `podid rollback`: the review (what will be undone) and the result, for people and machines. Pure. */
import { isEmptyRollback, type RollbackPlan } from '../core/rollback/plan.js';
import type { RollbackResult, RollbackStepReport } from '../core/rollback/result.js';
import { trustDiff } from './diff.js';
import { plural } from './common.js';
import { plainPalette, type Palette } from './palette.js';

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');


/** The review printed before anything changes (and all that --dry-run prints). */
export function renderRollbackPlan(plan: RollbackPlan, opts: { palette?: Palette } = {}): string {
  const p = opts.palette ?? plainPalette;
  const t = plan.target;
  const lines = [p.bold(`Rollback of ${t.command} run ${t.runId} (${t.status}, started ${t.startedAt})`), `  journal  ${t.journal}`, ''];
  if (isEmptyRollback(plan)) {
    lines.push('Nothing to undo: the run made no change (no intent was journaled).');
    return `${lines.join('\n')}\n`;
  }
  lines.push('Each step first re-reads its target: what is already as before is left alone, and what someone changed since the run is refused, not overwritten.', '');
  for (const o of plan.oidcProviders) {
    lines.push(`  ${p.green('+')} OIDC provider ${o.arn} of ${clusterName(o.cluster)}: create it again (client IDs ${o.clientIds.join(', ') || 'none'}; ${plural(o.thumbprints.length, 'thumbprint')}; tags ${o.tags.map((t) => `${t.key}=${clean(t.value)}`).join(', ') || 'none'}), so IRSA works again`);
  }
  // In the order the rollback does it: a finalize's trust policies come back before its annotations.
  const trustLines = () => {
    for (const tr of plan.trust) {
      lines.push(`  ${p.yellow('~')} trust policy of ${tr.roleArn}: back to the document journaled before the run${from(tr)}${plan.target.command === 'apply' ? ' (after its ServiceAccounts are verified on IRSA)' : ''}`);
      lines.push(...trustDiff(tr.written, tr.previous, { palette: p }));
    }
  };
  const from = (x: { adoptedFrom?: string }) => (x.adoptedFrom !== undefined ? `, from ${x.adoptedFrom}` : '');
  if (t.command === 'finalize') trustLines();
  for (const s of plan.serviceAccounts) {
    lines.push(`  ${p.green('+')} ServiceAccount ${s.namespace}/${s.name} on ${clusterName(s.cluster)}: restore ${Object.entries(s.annotations).map(([k, v]) => `${k}=${clean(v)}`).join(', ')}`);
  }
  if ((plan.adoptedFrom ?? []).length > 0) {
    lines.push(`  Also undone: what this run found in place from the earlier run${plan.adoptedFrom!.length === 1 ? '' : 's'} of its plan ${plan.adoptedFrom!.join(', ')} (marked "from RUN").`, '');
  }
  for (const a of plan.associations) {
    lines.push(`  ${p.red('-')} association ${a.namespace}/${a.serviceAccount} -> ${a.roleArn} on ${clusterName(a.cluster)}${a.createdIds.length > 0 ? ` (${a.createdIds.join(', ')}${from(a)}; only this id: an association with another id is kept)` : ' (created by the run; its answer was not journaled)'}`);
  }
  const kept = (cluster: string, namespace: string | null, sas: readonly string[]) => plan.subjects.filter((s) => s.cluster === cluster && s.namespace === namespace && sas.includes(s.serviceAccount) && (s.keptAssociationIds ?? []).length > 0);
  for (const s of plan.subjects.filter((x) => (x.keptAssociationIds ?? []).length > 0)) {
    lines.push(`  ${p.yellow('!')} association ${s.keptAssociationIds!.join(', ')} of ${s.namespace ?? '?'}/${s.serviceAccount} on ${clusterName(s.cluster)} existed before the run and is not podid's: kept, so ${s.serviceAccount} stays on Pod Identity (drifted, exit 4) while it exists; its workloads are not restarted`);
  }
  for (const a of plan.addons) {
    lines.push(`  ${p.yellow('~')} add-on ${a.addonName} on ${clusterName(a.cluster)}: associations ${a.written.map((w) => `${w.serviceAccount} -> ${w.roleArn}`).join(', ')} => ${a.previousOwned.length === 0 ? 'none' : a.previousOwned.map((w) => `${w.serviceAccount} -> ${w.roleArn}`).join(', ')}; IRSA role ${a.previous.serviceAccountRoleArn ?? 'none'}${from(a)}`);
  }
  for (const w of plan.workloads) {
    const k = kept(w.cluster, w.namespace, w.serviceAccounts);
    if (k.length > 0) {
      lines.push(`  ${p.yellow('!')} ${w.kind}/${w.namespace}/${w.name} on ${clusterName(w.cluster)}: not restarted while association ${k.flatMap((x) => x.keptAssociationIds ?? []).join(', ')} is kept (a restart would not bring back IRSA)`);
      continue;
    }
    lines.push(`  ${p.yellow('~')} restart ${w.kind}/${w.namespace}/${w.name} on ${clusterName(w.cluster)}: restartedAt ${w.writtenRestartedAt} => ${w.previousRestartedAt ?? 'none'} (its pods come back with IRSA)${from(w)}, awaited as kubectl rollout status`);
  }
  if (plan.target.command === 'apply' && plan.subjects.length > 0) {
    lines.push(`  ${p.dim('=')} verify back on IRSA: ${plan.subjects.map((s) => `${s.namespace ?? '?'}/${s.serviceAccount}`).join(', ')}`);
  }
  if (t.command !== 'finalize') trustLines();
  for (const a of plan.agents) lines.push(`  ${p.red('-')} add-on ${a.addonName} on ${clusterName(a.cluster)}, installed by the run (only if no association is left)`);
  return `${lines.join('\n')}\n`;
}

const MARK: Record<string, string> = { done: '+', 'already-done': '=', drifted: '!', failed: 'x', skipped: '-' };

export function rollbackStepLine(s: RollbackStepReport, palette: Palette = plainPalette): string {
  const colour = s.status === 'failed' ? palette.red : s.status === 'drifted' ? palette.yellow : s.status === 'done' ? palette.green : palette.dim;
  return `${colour(`${MARK[s.status] ?? '?'} ${s.kind} ${s.status}`)}  ${clean(s.target)}: ${clean(s.message)}`;
}

/** The three-way difference of a refused trust policy: what the run wrote -> now, and before the run -> now. */
export function conflictLines(c: NonNullable<RollbackStepReport['conflict']>, palette: Palette): string[] {
  return [
    '      changed after the run (what the run wrote -> what it is now):',
    ...trustDiff(c.written, c.current, { palette, indent: '        ' }),
    '      a rollback would have written (what it is now -> the document before the run):',
    ...trustDiff(c.current, c.previous, { palette, indent: '        ' }),
  ];
}

export function renderRollbackResult(r: RollbackResult, opts: { palette?: Palette } = {}): string {
  const palette = opts.palette ?? plainPalette;
  const lines = [`podid rollback run ${r.runId ?? ''} of ${r.rollbackOf}: ${r.status} (exit ${r.exitCode})`];
  if (r.journal) lines.push(`  journal  ${r.journal}`);
  lines.push('', 'Steps');
  for (const s of r.steps) {
    lines.push(`  ${rollbackStepLine(s, palette)}`);
    if (s.conflict) lines.push(...conflictLines(s.conflict, palette));
  }
  if (r.serviceAccounts.length > 0) {
    lines.push('', 'Service accounts');
    for (const sa of r.serviceAccounts) {
      const colour = sa.outcome === 'restored' ? palette.green : sa.outcome === 'failed' ? palette.red : sa.outcome === 'drifted' ? palette.yellow : palette.dim;
      lines.push(`  ${colour(sa.outcome.padEnd(13))} ${clusterName(sa.cluster).padEnd(10)} ${clean(`${sa.namespace}/${sa.serviceAccount}${sa.addon ? ` (add-on ${sa.addon})` : ''}`)}\n      ${clean(sa.reason)}`);
    }
  }
  const s = r.summary;
  const u = s.undone;
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const undone = u
    ? [
      u.oidcProviders > 0 ? `${n(u.oidcProviders, 'OIDC provider', 'OIDC providers')} created again` : '',
      u.trustPolicies > 0 ? `${n(u.trustPolicies, 'trust policy', 'trust policies')} restored` : '',
      u.annotations > 0 ? `IRSA annotations of ${n(u.annotations, 'ServiceAccount', 'ServiceAccounts')} restored` : '',
      u.associations > 0 ? `associations of ${n(u.associations, 'ServiceAccount', 'ServiceAccounts')} removed` : '',
      u.addons > 0 ? `${n(u.addons, 'add-on', 'add-ons')} restored` : '',
      u.workloads > 0 ? `${n(u.workloads, 'workload', 'workloads')} restarted back` : '',
      u.agents > 0 ? `${n(u.agents, 'agent add-on', 'agent add-ons')} removed` : '',
    ].filter((x) => x !== '')
    : [];
  // Only a rollback that finished puts the world back as before; one that stopped or left
  // something (interrupted, partial, refused) says what it undid so far.
  if (undone.length > 0) lines.push('', `${r.status === 'succeeded' ? 'Back as before' : 'Undone so far'}: ${undone.join(', ')}.`);
  lines.push('', `Result: ${s.restored} restored, ${s.needsRestart} need a restart, ${s.drifted} drifted, ${s.failed} failed, ${s.skipped} skipped; ${plural(s.refusedSteps, 'step')} refused; ${plural(s.mutatingCalls, 'mutating call')}`);
  if (s.refusedSteps > 0 || s.drifted > 0) lines.push('Refused: something the run changed was changed again by someone else since. podid left it as it is; reconcile it by hand, then run podid rollback again.');
  if (s.failed > 0 || r.status === 'interrupted') lines.push('Run podid rollback again to finish: it resumes, never repeats what is done.');
  return `${lines.join('\n')}\n`;
}

export function renderRollbackResultJson(r: RollbackResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
