/**
 * What every changing command shares on the command line: where journals live, and the
 * confirmation before a change (a question on a terminal; `--yes` otherwise, and required
 * without a terminal, so CI never hangs on a prompt).
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { PodidError, UsageError } from '../core/errors.js';
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

/**
 * One question on the terminal; only 'yes' accepts. The input ending (Ctrl-D) is no answer: a
 * decline. Ctrl-C (readline reads it from the raw terminal; a SIGINT or SIGTERM sent to the
 * process alike) is an interruption: CONFIRMATION_INTERRUPTED, exit 130, nothing changed.
 */
export async function ask(question: string, ctx: Pick<CliContext, 'stdin' | 'stderr'>): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const saved = signals.map((s) => [s, process.listeners(s)] as const);
  try {
    const answer = await new Promise<string | 'eof' | 'interrupt'>((resolve) => {
      const interrupt = () => resolve('interrupt');
      rl.on('SIGINT', interrupt);
      for (const s of signals) {
        process.removeAllListeners(s);
        process.on(s, interrupt);
      }
      rl.on('close', () => resolve('eof'));
      // Node rejects a pending question when the interface closes (Ctrl-D): 'close' says which.
      rl.question(`\n${question} Only 'yes' will be accepted: `).then((a) => resolve(a), () => resolve('eof'));
    });
    if (answer === 'eof' || answer === 'interrupt') ctx.stderr.write('\n');
    if (answer === 'interrupt') throw new PodidError('CONFIRMATION_INTERRUPTED', 'interrupted at the confirmation question; nothing was changed', { hint: 'run the command again when ready' });
    return answer !== 'eof' && answer.trim() === 'yes';
  } finally {
    rl.close();
    for (const [s, listeners] of saved) {
      process.removeAllListeners(s);
      for (const l of listeners) process.on(s, l as () => void);
    }
  }
}

/** The journal directory of a run: --journal-dir (relative to the run's working directory), else the default. */
export function journalDirOf(flag: string | undefined, ctx: CliContext): string {
  return pathIn(ctx, flag ?? defaultJournalDir(ctx.env, homeOf(ctx)));
}
