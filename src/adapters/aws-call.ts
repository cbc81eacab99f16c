/**
 * How every AWS adapter makes a call: its failure mapped to a podid error naming the action
 * (`mapAwsError` for reads, apply's `ApplyCallError` for the executor's calls), and a list walked
 * to its last page with the SDK's own paginator (`paginateListRoles`, ...), whose pages go
 * through the same client, so its retry strategy and timeouts apply to every page.
 */

/** A call wrapper: runs `run`, and throws `map(err, action)` when it fails. */
export function callMapped(map: (err: unknown, action: string) => Error): <T>(action: string, run: () => Promise<T>) => Promise<T> {
  return async (action, run) => {
    try {
      return await run();
    } catch (err) {
      throw map(err, action);
    }
  };
}

/** Every item of every page a paginator yields, in order. */
export async function allItems<P, T>(pages: AsyncIterable<P>, items: (page: P) => readonly T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}
