/** `podid finalize`: the review (what IRSA will be removed, per ServiceAccount and role) and the result. Pure. */
import type { FinalizeResult, FinalizeStepReport } from '../core/finalize/result.js';
import type { FinalizePlan } from '../core/finalize/plan.js';
import { plainPalette, type Palette } from './palette.js';
import { trustDiff } from './diff.js';
import { plural } from './common.js';

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

/** The --delete-oidc-provider part of the review: each cluster's provider, deleted or kept and why. */
export function providerLines(plan: FinalizePlan, p: Palette): string[] {
  const providers = plan.oidcProviders ?? [];
  if (providers.length === 0) return [];
  const lines = ['', p.bold('OIDC providers (--delete-oidc-provider)')];
  for (const o of providers) {
    const who = `${clusterName(o.cluster)} ${o.providerArn}`;
    if (o.action === 'delete') {
      const r = o.provider;
      lines.push(`  ${p.red('-')} ${who}: delete, ${clean(o.reason)}`);
      if (r) lines.push(`      client IDs ${r.clientIds.join(', ') || 'none'}; ${plural(r.thumbprints.length, 'thumbprint')}; tags ${r.tags.map((t) => `${t.key}=${clean(t.value)}`).join(', ') || 'none'} (journaled: podid rollback creates it again)`);
      lines.push(`      ${p.yellow('warning:')} IRSA stops working for every ServiceAccount of ${clusterName(o.cluster)}, in every namespace (IAM: "any attempt to assume a role that references a deleted provider fails"). Asked separately; with --yes the flag itself is the consent.`);
    } else if (o.action === 'absent') {
      lines.push(`  ${p.dim('=')} ${who}: ${clean(o.reason)}`);
    } else {
      lines.push(`  ${p.yellow('!')} ${who}: ${clean(o.reason)}`);
    }
  }
  return lines;
}

export function renderFinalizePlan(plan: FinalizePlan, opts: { palette?: Palette } = {}): string {
  const p = opts.palette ?? plainPalette;
  const hint = (plan.oidcProviders ?? []).length === 0 && plan.clusters.length > 0 ? [p.dim('Once no role trusts a cluster\'s OIDC provider any more, --delete-oidc-provider also deletes it (docs/rollback.md).')] : [];
  if (plan.serviceAccounts.length === 0) {
    const rest = [...providerLines(plan, p), ...hint];
    return `Nothing to finalize: no ServiceAccount in scope carries an IRSA annotation.\n${rest.length > 0 ? `${rest.join('\n')}\n` : ''}`;
  }
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
  lines.push(...providerLines(plan, p));
  const n = plan.serviceAccounts.filter((s) => s.action === 'finalize').length;
  const deleting = (plan.oidcProviders ?? []).filter((o) => o.action === 'delete').length;
  lines.push('', `${plural(n, 'ServiceAccount')} to finalize, ${plan.serviceAccounts.length - n} refused, ${plural(plan.trust.length, 'trust policy', 'trust policies')} to update${(plan.oidcProviders ?? []).length > 0 ? `, ${plural(deleting, 'OIDC provider')} to delete` : ''}. Every pod is verified again, live, before anything changes; podid rollback undoes it.`);
  lines.push(...hint);
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
  if (r.serviceAccounts.length > 0) lines.push('', 'Service accounts');
  for (const sa of r.serviceAccounts) {
    const colour = sa.outcome === 'finalized' ? palette.green : sa.outcome === 'failed' ? palette.red : palette.yellow;
    lines.push(`  ${colour(sa.outcome.padEnd(10))} ${clusterName(sa.cluster).padEnd(10)} ${clean(`${sa.namespace}/${sa.serviceAccount}`)}\n      ${clean(sa.reason)}`);
    for (const w of sa.warnings) lines.push(`      warning: ${clean(w)}`);
  }
  if ((r.oidcProviders ?? []).length > 0) {
    lines.push('', 'OIDC providers');
    for (const o of r.oidcProviders) {
      const colour = o.outcome === 'deleted' || o.outcome === 'already-gone' ? palette.green : o.outcome === 'failed' ? palette.red : palette.yellow;
      lines.push(`  ${colour(o.outcome.padEnd(12))} ${clusterName(o.cluster).padEnd(10)} ${o.providerArn}\n      ${clean(o.reason)}`);
    }
  }
  const s = r.summary;
  lines.push('', `Result: ${s.finalized} finalized, ${s.refused} refused, ${s.drifted} drifted, ${s.failed} failed, ${s.skipped} skipped${(r.oidcProviders ?? []).length > 0 ? `, ${plural(s.oidcProvidersDeleted ?? 0, 'OIDC provider')} deleted` : ''}; ${plural(s.mutatingCalls, 'mutating call')}`);
  if (r.runId) lines.push(`Undo it: podid rollback ${r.runId} --dry-run, then --apply.`);
  return `${lines.join('\n')}\n`;
}
