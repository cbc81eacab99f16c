/**
 * What every changing command shares on the command line: where journals live, and the
 * confirmation before a change (a question on a terminal; `--yes` otherwise, and required
 * without a terminal, so CI never hangs on a prompt).
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.js';
import { homeOf, pathIn, type CliContext } from './context.js';

/** $XDG_STATE_HOME/podid/runs, else ~/.local/state/podid/runs (XDG Base Directory spec: a relative XDG_STATE_HOME is ignored). */
export function defaultJournalDir(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const state = env['XDG_STATE_HOME'] && env['XDG_STATE_HOME'].startsWith('/') ? env['XDG_STATE_HOME'] : join(home, '.local', 'state');
  return join(state, 'podid', 'runs');
}

/**
 * true when the change may go ahead: `--yes`, or 'yes' typed on the terminal. Without a terminal
 * and without `--yes`: a usage error naming the command, before anything changed.
 */
export async function confirmChange(opts: { yes?: boolean | undefined; command: string; question: string; hint: string }, ctx: CliContext): Promise<boolean> {
  if (opts.yes) return true;
  if (!ctx.stdin.isTTY || !ctx.stderr.isTTY) {
    throw new UsageError('CONFIRMATION_REQUIRED', `${opts.command} changes IAM, EKS and Kubernetes, and there is no terminal to confirm on`, opts.hint);
  }
  return ask(opts.question, ctx);
}

/** One question on the terminal; only 'yes' accepts. */
export async function ask(question: string, ctx: Pick<CliContext, 'stdin' | 'stderr'>): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    const answer = await rl.question(`\n${question} Only 'yes' will be accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/** The journal directory of a run: --journal-dir (relative to the run's working directory), else the default. */
export function journalDirOf(flag: string | undefined, ctx: CliContext): string {
  return pathIn(ctx, flag ?? defaultJournalDir(ctx.env, homeOf(ctx)));
}
