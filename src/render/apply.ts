/** The run result of `podid migrate --apply`, for people (text) and machines (JSON). Pure. */
import type { RunResult, ServiceAccountReport, StepReport } from '../core/apply/result.js';
import { plainPalette, type Palette } from './palette.js';
import { plural } from './common.js';

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
/** One line, no control characters: text from clusters and IAM cannot move the cursor. */
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

export function renderRunResultJson(result: RunResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

const MARK: Record<string, string> = { done: '+', 'already-done': '=', drifted: '!', failed: 'x', skipped: '-' };

export function stepLine(s: StepReport, palette: Palette = plainPalette): string {
  const colour = s.status === 'failed' ? palette.red : s.status === 'drifted' ? palette.yellow : s.status === 'done' ? palette.green : palette.dim;
  return `${colour(`${MARK[s.status] ?? '?'} ${s.kind} ${s.status}`)}  ${clean(s.target)}: ${clean(s.message)}`;
}

function saLine(sa: ServiceAccountReport, palette: Palette): string {
  const colour = sa.outcome === 'migrated' ? palette.green : sa.outcome === 'failed' ? palette.red : sa.outcome === 'drifted' ? palette.yellow : palette.dim;
  const who = sa.via === 'addon' ? `${sa.namespace || '?'}/${sa.serviceAccount} (add-on ${sa.addon ?? ''})` : `${sa.namespace}/${sa.serviceAccount}`;
  return `  ${colour(sa.outcome.padEnd(13))} ${clusterName(sa.cluster).padEnd(10)} ${clean(who)}\n      ${clean(sa.reason)}`;
}

export function renderRunResult(result: RunResult, opts: { palette?: Palette } = {}): string {
  const palette = opts.palette ?? plainPalette;
  const lines: string[] = [];
  if (result.status === 'no-changes') {
    lines.push('No changes. Every ServiceAccount in scope is migrated, blocked, or left to you (see podid scan).');
    return `${lines.join('\n')}\n`;
  }
  lines.push(`podid apply run ${result.runId ?? ''}: ${result.status} (exit ${result.exitCode})`);
  if (result.journal) lines.push(`  journal  ${result.journal}`);
  lines.push('', 'Steps');
  for (const s of result.steps) lines.push(`  ${stepLine(s, palette)}`);
  lines.push('', 'Service accounts');
  for (const sa of result.serviceAccounts) lines.push(saLine(sa, palette));
  const s = result.summary;
  lines.push(
    '',
    `Result: ${s.migrated} migrated, ${s.needsRestart} need a restart, ${s.drifted} drifted, ${s.failed} failed, ${s.skipped} skipped; ${plural(s.mutatingCalls, 'mutating call')}${result.blocked ? `; ${result.blocked} blocked in the plan` : ''}`,
  );
  if (s.drifted > 0) lines.push('Drifted: what the plan was made from has changed. Make a new plan (podid migrate --dry-run), review it, and apply that.');
  if (s.failed > 0) lines.push('Failed: see the reasons above. Fix them and run podid migrate --apply again: it resumes, never repeats what is done.');
  if (result.status === 'interrupted') lines.push('Interrupted: run podid migrate --apply again to finish; it resumes from the current state.');
  return `${lines.join('\n')}\n`;
}
