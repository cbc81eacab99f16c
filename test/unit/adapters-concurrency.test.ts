import { describe, expect, it } from 'vitest';
import { createLimiter, mapLimit } from '../../src/core/concurrency.js';

/** A task that stays in flight until released, recording the peak parallelism. */
function gate() {
  let inFlight = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  const task = <T>(value: T) => async () => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((r) => waiting.push(r));
    inFlight -= 1;
    return value;
  };
  const releaseAll = async () => {
    while (waiting.length > 0 || inFlight > 0) {
      waiting.splice(0).forEach((r) => r());
      await new Promise((r) => setImmediate(r));
    }
  };
  return { task, releaseAll, peak: () => peak };
}

describe('createLimiter', () => {
  it('never runs more than `limit` tasks at once and keeps results', async () => {
    const g = gate();
    const limit = createLimiter(3);
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7].map((v) => limit(g.task(v))));
    await new Promise((r) => setImmediate(r));
    expect(g.peak()).toBe(3);
    await g.releaseAll();
    expect(await all).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(g.peak()).toBe(3);
  });

  it('frees the slot of a failed or synchronously throwing task', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limit((() => { throw new Error('sync'); }) as () => Promise<never>)).rejects.toThrow('sync');
    expect(await limit(async () => 'next')).toBe('next');
  });

  it('rejects a bad limit', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
    expect(() => createLimiter(1.5)).toThrow(RangeError);
  });
});

describe('mapLimit', () => {
  it('maps in input order with bounded parallelism', async () => {
    const g = gate();
    const out = mapLimit([10, 20, 30, 40, 50], 2, (v, i) => g.task(v + i)());
    await new Promise((r) => setImmediate(r));
    expect(g.peak()).toBe(2);
    await g.releaseAll();
    expect(await out).toEqual([10, 21, 32, 43, 54]);
  });

  it('stops starting items after the first failure', async () => {
    const started: number[] = [];
    await expect(
      mapLimit([1, 2, 3, 4, 5], 1, async (v) => {
        started.push(v);
        if (v === 2) throw new Error('fail at 2');
        return v;
      }),
    ).rejects.toThrow('fail at 2');
    expect(started).toEqual([1, 2]);
  });

  it('handles an empty list', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
