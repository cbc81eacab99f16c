/** `podid finalize`: the review (what IRSA will be removed, per ServiceAccount and role) and the result. Pure. */
import type { FinalizeResult, FinalizeStepReport } from '../core/finalize/result.js';
import type { FinalizePlan } from '../core/finalize/plan.js';
import { plainPalette, type Palette } from './palette.js';
import { trustDiff } from './diff.js';

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

export function renderFinalizePlan(plan: FinalizePlan, opts: { palette?: Palette } = {}): string {
  const p = opts.palette ?? plainPalette;
  if (plan.serviceAccounts.length === 0) return 'Nothing to finalize: no ServiceAccount in scope carries an IRSA annotation.\n';
  const lines = [p.bold('Finalize: remove IRSA from ServiceAccounts that run on Pod Identity'), ''];
  for (const s of plan.serviceAccounts) {
    const who = `${clusterName(s.cluster)} ${s.namespace}/${s.name}`;
    if (s.action === 'finalize') lines.push(`  ${p.green('-')} ${who}: remove ${Object.keys(s.annotations).join(', ')} (${clean(s.reason)})`);
    else lines.push(`  ${p.yellow('!')} ${who}: refused, ${clean(s.reason)}`);
    for (const w of s.warnings) lines.push(`      ${p.yellow('warning:')} ${clean(w)}`);
  }
  for (const t of plan.trust) {
    lines.push('', `  ${p.yellow('~')} trust policy of ${t.roleArn}: remove the OIDC grant of ${t.serviceAccounts.join(', ')} (other providers', clusters' and ServiceAccounts' grants stay)`);
    lines.push(...trustDiff(t.before, t.after, { palette: p }));
  }
  const n = plan.serviceAccounts.filter((s) => s.action === 'finalize').length;
  lines.push('', `${n} ServiceAccount(s) to finalize, ${plan.serviceAccounts.length - n} refused, ${plan.trust.length} trust polic${plan.trust.length === 1 ? 'y' : 'ies'} to update. Every pod is verified again, live, before anything changes; podid rollback undoes it.`);
  return `${lines.join('\n')}\n`;
}

const MARK: Record<string, string> = { done: '+', 'already-done': '=', drifted: '!', failed: 'x', skipped: '-' };

export function finalizeStepLine(s: FinalizeStepReport, palette: Palette = plainPalette): string {
  const colour = s.status === 'failed' ? palette.red : s.status === 'drifted' ? palette.yellow : s.status === 'done' ? palette.green : palette.dim;
  return `${colour(`${MARK[s.status] ?? '?'} ${s.kind} ${s.status}`)}  ${clean(s.target)}: ${clean(s.message)}`;
}

export function renderFinalizeResult(r: FinalizeResult, opts: { palette?: Palette } = {}): string {
  const palette = opts.palette ?? plainPalette;
  const lines = [`podid finalize run ${r.runId ?? ''}: ${r.status} (exit ${r.exitCode})`];
  if (r.journal) lines.push(`  journal  ${r.journal}`);
  if (r.steps.length > 0) {
    lines.push('', 'Steps');
    for (const s of r.steps) lines.push(`  ${finalizeStepLine(s, palette)}`);
  }
  lines.push('', 'Service accounts');
  for (const sa of r.serviceAccounts) {
    const colour = sa.outcome === 'finalized' ? palette.green : sa.outcome === 'failed' ? palette.red : palette.yellow;
    lines.push(`  ${colour(sa.outcome.padEnd(10))} ${clusterName(sa.cluster).padEnd(10)} ${clean(`${sa.namespace}/${sa.serviceAccount}`)}\n      ${clean(sa.reason)}`);
    for (const w of sa.warnings) lines.push(`      warning: ${clean(w)}`);
  }
  const s = r.summary;
  lines.push('', `Result: ${s.finalized} finalized, ${s.refused} refused, ${s.drifted} drifted, ${s.failed} failed, ${s.skipped} skipped; ${s.mutatingCalls} mutating calls`);
  if (r.runId) lines.push(`Undo it: podid rollback ${r.runId} --dry-run, then --apply.`);
  return `${lines.join('\n')}\n`;
}
