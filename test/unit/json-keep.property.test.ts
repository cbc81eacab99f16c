/**
 * json-keep.ts as properties (fast-check): on generated JSON documents and generated `Keep`
 * trees, parseKept(bytes, keep) equals prune(JSON.parse(text), keep); keeping everything equals
 * JSON.parse (escapes, UTF-8, numbers, `__proto__`); a truncated or garbled document fails with
 * a JsonKeepError whatever is kept.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileKeep, JsonKeepError, mapKept, parseKept, type Keep, type KeepPlan } from '../../src/adapters/json-keep.js';

/** The reference semantics: what `keep` keeps of an already parsed value. */
function prune(value: unknown, keep: Keep): unknown {
  if (keep === true) return value;
  if (Array.isArray(value)) return value.map((v) => prune(v, keep));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!Object.hasOwn(keep, k)) continue;
    if (k === '__proto__') Object.defineProperty(out, k, { value: prune(v, keep[k]!), writable: true, enumerable: true, configurable: true });
    else out[k] = prune(v, keep[k]!);
  }
  return out;
}

/**
 * A canonical text of a parsed value: property order, -0, and every object's prototype (the
 * matchers' equality reads an own `constructor` property as the type, which JSON may hold).
 */
function canon(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _k, v: unknown) {
    if (Object.is(v, -0)) return { '-0': true };
    if (typeof v === 'object' && v !== null) {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== Array.prototype) return { 'unexpected prototype': String(proto) };
    }
    return v;
  });
}

// Keys from a small alphabet so that keep trees and documents share keys often; with escapes,
// non-ASCII and the keys JavaScript objects treat specially.
const key = fc.constantFrom('a', 'b', 'metadata', 'items', 'name', 'é', 'k\\"q', '__proto__', 'constructor', '0', '');
const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('a"b', 'back\\slash', 'tab\tnew\nline', '\u2028', '😀', '}]{[', ''),
);
const { value: jsonValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
}));
const keepTree = fc
  .letrec((tie) => ({
    keep: fc.oneof({ depthSize: 'small' }, fc.constant(true as const), tie('object')),
    object: fc.dictionary(key, tie('keep'), { maxKeys: 4 }),
  }))
  .keep.map((k) => k as Keep);
const document = fc.tuple(jsonValue, fc.constantFrom(undefined, 2, '\t')).map(([v, indent]) => JSON.stringify(v, null, indent));

describe('parseKept', () => {
  it('equals prune(JSON.parse(text), keep) on generated documents and keep trees', () => {
    fc.assert(
      fc.property(document, keepTree, (text, keep) => {
        const expected = canon(prune(JSON.parse(text), keep));
        expect(canon(parseKept(Buffer.from(text, 'utf8'), keep))).toBe(expected);
        // A compiled plan gives the same.
        expect(canon(parseKept(Buffer.from(text, 'utf8'), compileKeep(keep)))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('a mapped plan maps each kept object as parsed: equals mapping the pruned objects', () => {
    const map = (o: Record<string, unknown>) => ({ mapped: canon(o) });
    /** The reference: each object that a `keep` object applies to, mapped after pruning. */
    const mapPruned = (value: unknown, keep: Keep): unknown =>
      Array.isArray(value) ? value.map((v) => mapPruned(v, keep)) : typeof value === 'object' && value !== null && keep !== true ? map(prune(value, keep) as Record<string, unknown>) : prune(value, keep);
    fc.assert(
      fc.property(document, keepTree.filter((k): k is Exclude<Keep, true> => k !== true), (text, keep) => {
        const plan = mapKept(compileKeep(keep) as KeepPlan, map);
        expect(canon(parseKept(Buffer.from(text, 'utf8'), plan))).toBe(canon(mapPruned(JSON.parse(text), keep)));
      }),
      { numRuns: 300 },
    );
  });

  it('keeping everything equals JSON.parse', () => {
    fc.assert(
      fc.property(fc.oneof(document, fc.json()), (text) => {
        expect(canon(parseKept(Buffer.from(text, 'utf8'), true))).toBe(canon(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('fails on every strict prefix of an object or array document, whatever is kept', () => {
    const container = fc.oneof(fc.array(jsonValue, { minLength: 1, maxLength: 4 }), fc.dictionary(key, jsonValue, { minKeys: 1, maxKeys: 4 }));
    fc.assert(
      fc.property(container, keepTree, fc.nat(), (value, keep, cut) => {
        const bytes = Buffer.from(JSON.stringify(value), 'utf8');
        const prefix = bytes.subarray(0, cut % bytes.length);
        expect(() => parseKept(prefix, keep)).toThrow(JsonKeepError);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['a mismatched bracket in a skipped value', '{"skip":{"a":[1}],"k":1}'],
    ['an unterminated string in a skipped value', '{"skip":"abc'],
    ['trailing data', '{"k":1} {}'],
    ['a bad literal in a kept value', '{"k":tru}'],
    ['a bad number in a kept value', '{"k":01}'],
    ['a missing colon', '{"k" 1}'],
    ['a raw control character in a kept string', '{"k":"a\u0001b"}'],
    ['an empty document', ''],
  ])('fails on %s', (_what, text) => {
    expect(() => parseKept(Buffer.from(text), { k: true })).toThrow(JsonKeepError);
  });

  it('builds only what is kept: a list page of pods', () => {
    const page = {
      kind: 'PodList',
      metadata: { resourceVersion: '9', continue: 'tok' },
      items: [
        { metadata: { name: 'p', namespace: 'n', managedFields: [{ manager: 'x' }] }, spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'A', value: 'v' }] }], volumes: [{}] }, status: { phase: 'Running', conditions: [] } },
      ],
    };
    const keep: Keep = { metadata: { continue: true }, items: { metadata: { name: true, namespace: true }, spec: { containers: { name: true, env: true } }, status: { phase: true } } };
    expect(parseKept(Buffer.from(JSON.stringify(page)), keep)).toStrictEqual({
      metadata: { continue: 'tok' },
      items: [{ metadata: { name: 'p', namespace: 'n' }, spec: { containers: [{ name: 'c', env: [{ name: 'A', value: 'v' }] }] }, status: { phase: 'Running' } }],
    });
  });

  it('keeps __proto__ as an own property, as JSON.parse does, without touching the prototype', () => {
    const keep = JSON.parse('{"__proto__":true,"a":true}') as Keep;
    const out = parseKept(Buffer.from('{"__proto__":{"polluted":true},"a":1}'), keep) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(canon(out)).toBe(canon(JSON.parse('{"__proto__":{"polluted":true},"a":1}')));
  });

  it('returns equal strings for repeated values (one copy kept) and distinct ones for distinct values', () => {
    const items = parseKept(Buffer.from(JSON.stringify({ items: [{ ns: 'team-1' }, { ns: 'team-1' }, { ns: 'team-2' }] })), { items: { ns: true } }) as { items: { ns: string }[] };
    expect(items.items.map((i) => i.ns)).toEqual(['team-1', 'team-1', 'team-2']);
  });
});
