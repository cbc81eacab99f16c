/** `podid runs` and `podid runs show`: the journal directory for people and machines. Pure. */
import type { JournalRecord, RunSummary } from '../core/apply/journal.js';
import { alignColumns } from './columns.js';
import { plainPalette, type Palette } from './palette.js';
import { compareStrings } from '../core/text.js';

export const RUNS_KIND = 'podid-runs';
export const RUN_DETAIL_KIND = 'podid-run';
export const RUNS_SCHEMA_VERSION = 1;

const clusterName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

/**
 * ServiceAccounts per outcome. A run that changed something without a ServiceAccount outcome (a
 * finalize that only deleted an OIDC provider, an apply that only installed the agent) says so
 * rather than showing a bare "-" next to its changes.
 */
export function outcomesText(outcomes: Record<string, number>, changes = 0, status?: string): string {
  const entries = Object.entries(outcomes).sort(([a], [b]) => compareStrings(a, b));
  if (entries.length > 0) return entries.map(([k, v]) => `${v} ${k}`).join(', ');
  const counted = `${changes} ${changes === 1 ? 'change' : 'changes'}`;
  // A run killed before its end journaled no outcome: its changes were to its ServiceAccounts'
  // trust, associations and workloads as much as to anything else.
  if (changes > 0 && status === 'unfinished') return `not recorded (${counted})`;
  return changes > 0 ? `none (${counted} to other resources)` : '-';
}

/** The status, and which rollback undid the run (a rollback that did not succeed is said to have been tried, with its status). */
function statusText(r: RunSummary, all: readonly RunSummary[] = []): string {
  const base = r.status === 'unfinished' ? 'unfinished (killed, or still running)' : r.status;
  if (r.rolledBackBy.length > 0) {
    const statusOf = (id: string) => all.find((x) => x.runId === id)?.status;
    const done = [...r.rolledBackBy].reverse().find((id) => statusOf(id) === 'succeeded');
    const last = r.rolledBackBy.at(-1)!;
    if (all.length === 0 || done === last) return `${base}; rolled back by ${last}`;
    const tried = `rollback ${last} ${statusOf(last) ?? 'unknown'}`;
    return done !== undefined ? `${base}; rolled back by ${done}; ${tried}` : `${base}; ${tried}, not rolled back`;
  }
  if (r.rollbackOf) return `${base}; undoes ${[r.rollbackOf, ...(r.alsoRollsBack ?? [])].join(' and ')}`;
  return base;
}

export function renderRuns(runs: readonly RunSummary[], opts: { palette?: Palette; dir: string; dirMissing?: boolean }): string {
  const palette = opts.palette ?? plainPalette;
  // A directory that does not exist may be a mistyped --journal-dir: say so rather than "no runs" alone.
  if (runs.length === 0 && opts.dirMissing === true) return `No runs: ${opts.dir} does not exist (runs are journaled there, or in the --journal-dir they were given).\n`;
  if (runs.length === 0) return `No runs in ${opts.dir}.\n`;
  const rows = [
    ['RUN', 'COMMAND', 'STARTED', 'CLUSTERS', 'SERVICE ACCOUNTS', 'STATUS'].map((text) => ({ text, paint: palette.bold })),
    ...runs.map((r) => [
      r.runId,
      r.command,
      r.startedAt.replace(/\.\d{3}Z$/, 'Z'),
      r.clusters.map(clusterName).join(','),
      outcomesText(r.outcomes, r.changes, r.status),
      { text: statusText(r, runs), paint: r.status === 'succeeded' ? palette.green : r.status === 'partial' || r.status === 'unfinished' ? palette.red : r.status === 'refused' ? palette.yellow : undefined },
    ]),
  ];
  return `${alignColumns(rows).join('\n')}\n`;
}

export function renderRunsJson(runs: readonly RunSummary[], dir: string): string {
  return `${JSON.stringify({ kind: RUNS_KIND, schemaVersion: RUNS_SCHEMA_VERSION, journalDir: dir, runs }, null, 2)}\n`;
}

export function renderRunDetail(summary: RunSummary, records: readonly JournalRecord[], opts: { palette?: Palette; runs?: readonly RunSummary[] } = {}): string {
  const palette = opts.palette ?? plainPalette;
  const lines = [
    `${palette.bold(`${summary.command} run ${summary.runId}`)}: ${statusText(summary, opts.runs)}${summary.exitCode !== null ? ` (exit ${summary.exitCode})` : ''}`,
    `  journal   ${summary.journal}`,
    `  started   ${summary.startedAt}`,
    `  finished  ${summary.finishedAt ?? '-'}`,
    `  clusters  ${summary.clusters.join(', ')}`,
    `  changes   ${summary.changes}`,
    `  outcomes  ${outcomesText(summary.outcomes, summary.changes, summary.status)}`,
  ];
  const steps = records.filter((r) => r.record === 'step');
  if (steps.length > 0) {
    lines.push('', 'Steps');
    const mark: Record<string, string> = { done: '+', 'already-done': '=', drifted: '!', failed: 'x', skipped: '-' };
    for (const s of steps) if (s.record === 'step') lines.push(`  ${mark[s.status] ?? '?'} ${s.action} ${s.status}  ${clean(s.target)}: ${clean(s.message)}`);
  }
  const outcomes = records.filter((r) => r.record === 'outcome');
  if (outcomes.length > 0) {
    lines.push('', 'Service accounts');
    for (const o of outcomes) if (o.record === 'outcome') lines.push(`  ${o.outcome.padEnd(13)} ${clusterName(o.cluster).padEnd(10)} ${clean(`${o.namespace}/${o.serviceAccount}`)}\n      ${clean(o.reason)}`);
  }
  if (summary.command !== 'rollback' && summary.rolledBackBy.length === 0) lines.push('', `Undo it: podid rollback ${summary.runId} --dry-run, then --apply.`);
  return `${lines.join('\n')}\n`;
}

export function renderRunDetailJson(summary: RunSummary, records: readonly JournalRecord[]): string {
  return `${JSON.stringify({ kind: RUN_DETAIL_KIND, schemaVersion: RUNS_SCHEMA_VERSION, run: summary, records }, null, 2)}\n`;
}
