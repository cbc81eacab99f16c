/**
 * Retries for apply's calls. Throttling and 5xx are retried with capped exponential backoff and
 * full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"; the SDKs' standard retry
 * mode does the same), honouring a server's Retry-After. A Kubernetes 409 is retried after the
 * caller's fresh read. A lost response (reset, timeout) is never simply re-sent: the caller's
 * `readBack` decides whether the change committed (done) or not (send again).
 */
import { ApplyCallError, failureKind, type Clock } from './ports.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 10_000 };

export interface RetryContext {
  clock: Clock;
  policy: RetryPolicy;
  /** [0, 1); Math.random in production, fixed in tests. */
  random: () => number;
  signal?: AbortSignal;
  /** Told about each retry (for progress and the journal). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))], at least Retry-After when given. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined ? Math.min(Math.max(retryAfterMs, jittered), policy.maxDelayMs) : jittered;
}

/**
 * For a mutating call: `send` makes the change; `readBack` (optional) re-reads the target after
 * an answer was lost or the change was refused as a duplicate, and returns a value when the
 * change is in place (done), or undefined when it is not (send again). `refresh` runs before a
 * retry after a conflict. Reads are passed without readBack: a lost read is simply re-read.
 */
export async function withRetry<T>(
  ctx: RetryContext,
  send: () => Promise<T>,
  opts: { readBack?: () => Promise<T | undefined>; refresh?: () => Promise<void>; inUseIsDone?: boolean } = {},
): Promise<{ value: T; attempts: number; readBack: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await send(), attempts: attempt, readBack: false };
    } catch (err) {
      const kind = failureKind(err);
      if (kind === 'lost' || (kind === 'in-use' && opts.inUseIsDone)) {
        if (opts.readBack) {
          const found = await readBackRetrying(ctx, opts.readBack);
          if (found !== undefined) return { value: found, attempts: attempt, readBack: true };
          if (kind === 'in-use') throw err;
        }
      } else if (kind === 'conflict') {
        if (opts.refresh) await opts.refresh();
      } else if (kind !== 'throttled' && kind !== 'server') {
        throw err;
      }
      if (attempt >= ctx.policy.maxAttempts || ctx.signal?.aborted) throw err;
      const delayMs = backoffDelay(attempt, ctx.policy, ctx.random, err instanceof ApplyCallError ? err.retryAfterMs : undefined);
      ctx.onRetry?.({ attempt, delayMs, error: err });
      await ctx.clock.sleep(delayMs, ctx.signal);
    }
  }
}

/** A read, retried on throttling, 5xx and lost answers. */
export async function readRetrying<T>(ctx: RetryContext, read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      const kind = failureKind(err);
      if (!(kind === 'throttled' || kind === 'server' || kind === 'lost') || attempt >= ctx.policy.maxAttempts) throw err;
      const delayMs = backoffDelay(attempt, ctx.policy, ctx.random, err instanceof ApplyCallError ? err.retryAfterMs : undefined);
      ctx.onRetry?.({ attempt, delayMs, error: err });
      await ctx.clock.sleep(delayMs, ctx.signal);
    }
  }
}

async function readBackRetrying<T>(ctx: RetryContext, readBack: () => Promise<T | undefined>): Promise<T | undefined> {
  return readRetrying(ctx, readBack);
}
