/**
 * `JSON.stringify(value, null, 2)`, written in pieces: the elements of the top-level arrays named
 * in `streamed` are stringified a few at a time (and may come from an iterable that builds each
 * one only when it is written), so a fleet's 25 MB inventory never exists as one string, nor as
 * one document, at the same time as the data it was made from. The concatenated chunks are
 * byte for byte `JSON.stringify(document, null, 2)` (test/unit/render-json-chunks.test.ts), but
 * for the key a `toJSON` method is called with (an element's index within its batch, a shell
 * value's ''): nothing podid renders has one.
 *
 * Re-indenting a nested value's own `JSON.stringify(v, null, 2)` by its depth is exact because
 * JSON text holds no raw newline outside its structure (strings escape them).
 */

/** Elements stringified per chunk: fewer, larger writes. */
const BATCH = 64;

/**
 * `elements` as they appear inside a top-level array of `JSON.stringify(doc, null, 2)`, each
 * after `[` (the first of the array) or `,`, then a newline and four spaces: one stringify of the batch
 * inside an object's array (so at that depth, undefined elements as null), without its frame.
 */
function elementsText(elements: readonly unknown[], first: boolean): string {
  const text = JSON.stringify({ a: elements }, null, 2);
  return (first ? '[' : ',') + text.slice(FRAME_HEAD.length - 5, text.length - FRAME_TAIL.length);
}
const FRAME_HEAD = '{\n  "a": [\n    ';
const FRAME_TAIL = '\n  ]\n}';

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
      let batch: unknown[] = [];
      for (const element of streamed[key]!) {
        batch.push(element);
        count++;
        if (batch.length === BATCH) {
          yield pending + elementsText(batch, count === BATCH);
          pending = '';
          batch = [];
        }
      }
      if (batch.length > 0) pending += elementsText(batch, count === batch.length);
      pending += count === 0 ? '[]' : '\n  ]';
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
