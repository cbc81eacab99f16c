/** render/json-chunks.ts: the chunks of a streamed document are JSON.stringify(document, null, 2), byte for byte. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonChunks } from '../../src/render/json-chunks.js';

describe('jsonChunks', () => {
  it('equals JSON.stringify(document, null, 2) for any object and any choice of streamed lists', () => {
    const key = fc.constantFrom('a', 'b', 'list', 'steps', 'é', 'q"k', '0', '__proto__x');
    const value = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined)), { maxLength: 150 }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), fc.array(key, { maxLength: 3 }), (doc, pick: string[]) => {
        const streamed: Record<string, unknown[]> = {};
        const shell: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(doc)) {
          if (pick.includes(k) && Array.isArray(v)) {
            streamed[k] = v;
            shell[k] = [];
          } else shell[k] = v;
        }
        expect([...jsonChunks(shell, streamed)].join('')).toBe(JSON.stringify(doc, null, 2));
      }),
      { numRuns: 400 },
    );
  });

  it('builds each streamed element only when it is written, in batches', () => {
    const made: number[] = [];
    const items = (function* () {
      for (let i = 0; i < 200; i++) {
        made.push(i);
        yield { i };
      }
    })();
    const chunks = jsonChunks({ head: 1, items: [] }, { items });
    const first = chunks.next();
    expect(first.value).toContain('"head": 1');
    expect(made.length).toBeLessThanOrEqual(64);
    const rest = [...chunks];
    expect([first.value, ...rest].join('')).toBe(JSON.stringify({ head: 1, items: Array.from({ length: 200 }, (_, i) => ({ i })) }, null, 2));
  });
});
