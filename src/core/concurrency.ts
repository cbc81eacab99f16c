/**
 * Bounded parallelism. A fleet scan fans out to hundreds of EKS, IAM and Kubernetes calls; firing
 * them all at once trips API throttling and file-descriptor limits, so every fan-out goes
 * through one limiter. Kept dependency-free (no p-limit) because it is this small.
 */

export const DEFAULT_CONCURRENCY = 8;

/** Runs `task`s with at most `limit` in flight; calls queue in order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(limit: number = DEFAULT_CONCURRENCY): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    active -= 1;
    const next = queue.shift();
    if (next) next();
  };
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = (): void => {
        active += 1;
        // A task that throws synchronously must still release its slot.
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(release);
      };
      if (active < limit) run();
      else queue.push(run);
    });
}

/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping input order. On the
 * first failure no further items are started, and the promise rejects with that failure.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
