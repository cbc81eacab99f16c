/**
 * `JSON.stringify(value, null, 2)`, written in pieces: the elements of the top-level arrays named
 * in `streamed` are stringified a few at a time (and may come from an iterable that builds each
 * one only when it is written), so a fleet's 25 MB inventory never exists as one string, nor as
 * one document, at the same time as the data it was made from. The concatenated chunks are
 * byte for byte `JSON.stringify(document, null, 2)` (test/unit/render-json-chunks.test.ts).
 *
 * Re-indenting a nested value's own `JSON.stringify(v, null, 2)` by its depth is exact because
 * JSON text holds no raw newline outside its structure (strings escape them).
 */

/** Elements stringified per chunk: fewer, larger writes. */
const BATCH = 64;

/**
 * The chunks of `JSON.stringify(shell, null, 2)` where each key in `streamed` holds an iterable
 * of the array's elements instead (its position in `shell`, if any, gives its place; a key
 * absent from `shell` is appended at the end, like a property added last).
 */
export function* jsonChunks(shell: Record<string, unknown>, streamed: Readonly<Record<string, Iterable<unknown>>> = {}): Generator<string> {
  const keys = Object.keys(shell);
  for (const k of Object.keys(streamed)) if (!keys.includes(k)) keys.push(k);
  let first = true;
  let pending = '{';
  for (const key of keys) {
    if (Object.hasOwn(streamed, key)) {
      pending += `${first ? '' : ','}\n  ${JSON.stringify(key)}: `;
      first = false;
      let count = 0;
      let batch = '';
      for (const element of streamed[key]!) {
        // As JSON.stringify writes array elements: undefined, functions and symbols become null.
        const text = JSON.stringify(element, null, 2) as string | undefined;
        batch += `${count === 0 ? '[' : ','}\n    ${text === undefined ? 'null' : text.replace(/\n/g, '\n    ')}`;
        count++;
        if (count % BATCH === 0) {
          yield pending + batch;
          pending = '';
          batch = '';
        }
      }
      pending += count === 0 ? '[]' : `${batch}\n  ]`;
      continue;
    }
    const value = shell[key];
    const text = JSON.stringify(value, null, 2) as string | undefined;
    // As JSON.stringify does for object members: undefined, functions and symbols are left out.
    if (text === undefined) continue;
    pending += `${first ? '' : ','}\n  ${JSON.stringify(key)}: ${text.replace(/\n/g, '\n  ')}`;
    first = false;
  }
  yield `${pending}${first ? '}' : '\n}'}`;
}
