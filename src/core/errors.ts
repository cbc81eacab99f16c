/**
 * One error family for podid. Every error a user can cause carries a stable code, a one-line
 * message saying what went wrong and where, a hint saying how to fix it, and an exit code from
 * the single map below (documented in README.md).
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  gateFailed: 3,
  refused: 4,
  partial: 5,
  interrupted: 130,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

export class PodidError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exit: ExitCodeName;

  constructor(code: string, message: string, opts: { hint?: string; exit?: ExitCodeName; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PodidError';
    this.code = code;
    this.hint = opts.hint;
    this.exit = opts.exit ?? 'unexpected';
  }
}

/** Bad flags, a bad file, a bad value: exit 2. */
export class UsageError extends PodidError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, hint === undefined ? { exit: 'usage' } : { exit: 'usage', hint });
    this.name = 'UsageError';
  }
}

/** Drift, conflict, stale plan: podid declines to act, exit 4. */
export class RefusedError extends PodidError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, hint === undefined ? { exit: 'refused' } : { exit: 'refused', hint });
    this.name = 'RefusedError';
  }
}

/** One line for the user: `podid: <message> (<hint>)`. */
export function formatError(err: unknown): string {
  if (err instanceof PodidError) {
    return err.hint ? `${err.message} — ${err.hint}` : err.message;
  }
  if (err instanceof Error) return `unexpected error: ${err.message}`;
  return `unexpected error: ${String(err)}`;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof PodidError) return ExitCode[err.exit];
  return ExitCode.unexpected;
}
