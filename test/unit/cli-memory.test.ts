import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { releaseMemory } from '../../src/cli/memory.js';

it('collects for a large run and leaves no gc function behind (the flag is set back)', () => {
  const before = process.memoryUsage().heapUsed;
  // Garbage the collection must be able to reclaim: about 50 MB of short arrays, dropped.
  let junk: number[][] | null = Array.from({ length: 400_000 }, (_, i) => [i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7]);
  expect(junk.length).toBe(400_000);
  junk = null;
  releaseMemory(1_000_000);
  expect(process.memoryUsage().heapUsed).toBeLessThan(before + 20 * 1024 * 1024);
  expect(runInNewContext('typeof gc')).toBe('undefined');
  expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
});

it('does nothing for a small run', () => {
  expect(() => releaseMemory(10)).not.toThrow();
  expect(runInNewContext('typeof gc')).toBe('undefined');
});
