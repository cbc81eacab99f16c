/**
 * What every changing command shares on the command line: where journals live, and the
 * confirmation before a change (a question on a terminal; `--yes` otherwise, and required
 * without a terminal, so CI never hangs on a prompt).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../core/errors.js';

/** $XDG_STATE_HOME/podid/runs, else ~/.local/state/podid/runs (XDG Base Directory spec: a relative XDG_STATE_HOME is ignored). */
export function defaultJournalDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const state = env['XDG_STATE_HOME'] && env['XDG_STATE_HOME'].startsWith('/') ? env['XDG_STATE_HOME'] : join(home, '.local', 'state');
  return join(state, 'podid', 'runs');
}

/**
 * true when the change may go ahead: `--yes`, or 'yes' typed on the terminal. Without a terminal
 * and without `--yes`: a usage error naming the command, before anything changed.
 */
export async function confirmChange(opts: { yes?: boolean | undefined; command: string; question: string; hint: string }): Promise<boolean> {
  if (opts.yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('CONFIRMATION_REQUIRED', `${opts.command} changes IAM, EKS and Kubernetes, and there is no terminal to confirm on`, opts.hint);
  }
  return ask(opts.question);
}

/** One question on the terminal; only 'yes' accepts. */
export async function ask(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\n${question} Only 'yes' will be accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
