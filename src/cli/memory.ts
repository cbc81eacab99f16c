/**
 * A full garbage collection between a run's phases. A fleet scan reads hundreds of MB of list
 * pages, then analyses and plans (hundreds of MB more allocated, mostly short-lived): V8 grows
 * its heap to a multiple of what was live at its last full collection and seldom collects fully
 * in between, so the process's peak resident memory is mostly garbage. Collecting where a phase
 * ends, when little is live (measured on the bench fleet: 45 MB after the reading, 56 MB after
 * the analysis), keeps the peak nearer what the run holds: `migrate --dry-run` over the bench
 * fleet without associations 255-271 MB without these collections, 220-234 MB with them, at no
 * CPU cost measurable beyond the noise (bench/RESULTS.md).
 *
 * Node gives a process its `gc` function only with --expose-gc, which a CLI's users do not pass:
 * the flag is set at run time and a fresh context's `gc` taken, the way Node's own tests and
 * jest (--logHeapUsage) do, then the flag is set back so no other context gets it. Where that
 * is refused, nothing is collected (only memory is at stake, never a result).
 */
import { setFlagsFromString } from 'node:v8';
import type { AppEvent } from '../app/events.js';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

function collector(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    setFlagsFromString('--no-expose-gc');
    return typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

/**
 * Below this many Kubernetes objects a run's garbage is a few MB: a full collection would cost
 * more than it returns (and a process running many small runs, a test runner, would pay it each time).
 */
const LARGE_RUN_OBJECTS = 20_000;
/** A run's objects per service account it analysed (the bench fleet: 10 pods, 2 workloads each). */
export const OBJECTS_PER_SERVICE_ACCOUNT = 13;

/** Collects garbage now (a full collection) after a phase that read or made `objects` objects, when the run is large and the runtime allows it. */
export function releaseMemory(objects: number): void {
  if (objects < LARGE_RUN_OBJECTS) return;
  if (gc === undefined) gc = collector();
  gc?.();
}

/** At the events that end a phase (the reading, the analysis), collects what the phase left behind. */
export function releaseMemoryAt(e: AppEvent): void {
  if (e.type === 'analysing') releaseMemory(e.objects);
  else if (e.type === 'planning') releaseMemory(e.serviceAccounts * OBJECTS_PER_SERVICE_ACCOUNT);
}
