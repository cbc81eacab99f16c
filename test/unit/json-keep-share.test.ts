/**
 * json-keep.ts shareKept: values at shared paths are parsed once per distinct byte string and
 * shared, frozen, by every item that repeats them; the result always equals the unshared parse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileKeep, JsonKeepError, parseKept, shareKept, type Keep, type KeepPlan } from '../../src/adapters/json-keep.js';

const ITEM: Keep = { metadata: { name: true, labels: true }, spec: { containers: { name: true, env: { name: true, value: true } } } };

function listPlan(): KeepPlan {
  const base = compileKeep({ items: ITEM }) as KeepPlan;
  const children = base.children.map((c) => shareKept(c!, [['metadata', 'labels'], ['spec', 'containers']]));
  return { ...base, children, byName: new Map(base.names.map((n, i) => [n, children[i]!])) };
}

interface Item {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { containers?: { name: string; env?: { name: string; value?: string }[] }[] };
}

const pod = (name: string, app: string, role = 'r1'): Item => ({
  metadata: { name, labels: { app, 'pod-template-hash': 'h' } },
  spec: { containers: [{ name: 'app', env: [{ name: 'AWS_ROLE_ARN', value: `arn:aws:iam::111122223333:role/${role}` }] }] },
});

const parse = (items: unknown[], plan: KeepPlan | Keep = listPlan()) => parseKept(Buffer.from(JSON.stringify({ items })), plan) as { items: Item[] };

describe('shareKept', () => {
  it('gives neighbours with the same bytes the same frozen value, and differing ones their own', () => {
    const { items } = parse([pod('a-1', 'a'), pod('a-2', 'a'), pod('b-1', 'b', 'r2'), pod('b-2', 'b', 'r2'), pod('a-3', 'a')]);
    expect(items.map((i) => i.metadata.name)).toEqual(['a-1', 'a-2', 'b-1', 'b-2', 'a-3']);
    expect(items[1]!.metadata.labels).toBe(items[0]!.metadata.labels);
    expect(items[1]!.spec.containers).toBe(items[0]!.spec.containers);
    expect(items[2]!.spec.containers).not.toBe(items[1]!.spec.containers);
    expect(items[2]!.spec.containers![0]!.env![0]!.value).toBe('arn:aws:iam::111122223333:role/r2');
    expect(items[3]!.spec.containers).toBe(items[2]!.spec.containers);
    // Shared values are read-only, all the way down.
    expect(Object.isFrozen(items[0]!.spec.containers)).toBe(true);
    expect(Object.isFrozen(items[0]!.spec.containers![0]!.env![0])).toBe(true);
    expect(() => {
      'use strict';
      (items[0]!.metadata.labels as Record<string, string>)['x'] = 'y';
    }).toThrow(TypeError);
    // The item objects themselves are not shared.
    expect(Object.isFrozen(items[0]!.metadata)).toBe(false);
    expect(items).toStrictEqual(parse([pod('a-1', 'a'), pod('a-2', 'a'), pod('b-1', 'b', 'r2'), pod('b-2', 'b', 'r2'), pod('a-3', 'a')], { items: ITEM }).items);
  });

  it('compares bytes, not meaning: the same value written differently is parsed again (and still right)', () => {
    const text = '{"items":[{"metadata":{"labels":{"a":"1"}}},{"metadata":{"labels":{ "a":"1"}}},{"metadata":{"labels":{"a":"2"}}}]}';
    const { items } = parseKept(Buffer.from(text), listPlan()) as { items: Item[] };
    expect(items.map((i) => i.metadata.labels)).toStrictEqual([{ a: '1' }, { a: '1' }, { a: '2' }]);
    expect(items[1]!.metadata.labels).not.toBe(items[0]!.metadata.labels);
  });

  it('is not fooled by a value of the same length whose bytes differ, nor by a page buffer reused', () => {
    const plan = listPlan();
    const page = Buffer.from(JSON.stringify({ items: [pod('a-1', 'aa')] }));
    const first = (parseKept(page, plan) as { items: Item[] }).items[0]!;
    // The same buffer rewritten in place with another app of the same length (as the page slots are reused).
    page.write(page.toString('latin1').replace('"app":"aa"', '"app":"bb"'), 'latin1');
    const second = (parseKept(page, plan) as { items: Item[] }).items[0]!;
    expect(first.metadata.labels).toStrictEqual({ app: 'aa', 'pod-template-hash': 'h' });
    expect(second.metadata.labels).toStrictEqual({ app: 'bb', 'pod-template-hash': 'h' });
  });

  it('still checks a shared value: a broken one fails, a repeat of a good one is no excuse', () => {
    expect(() => parseKept(Buffer.from('{"items":[{"metadata":{"labels":{"a":"1"}}},{"metadata":{"labels":{"a":"1"]}}]}'), listPlan())).toThrow(JsonKeepError);
    expect(() => parseKept(Buffer.from('{"items":[{"metadata":{"labels":{"a":tru}}}]}'), listPlan())).toThrow(JsonKeepError);
  });

  it('takes a repeat by its bytes without stepping through it again, never past where the value ends', () => {
    // A number goes on past the last one's bytes ("1" then "12"): numbers and literals are stepped as before.
    const nums = parseKept(Buffer.from('{"items":[{"metadata":{"labels":1}},{"metadata":{"labels":12}},{"metadata":{"labels":true}}]}'), listPlan()) as { items: Item[] };
    expect(nums.items.map((i) => i.metadata.labels)).toStrictEqual([1, 12, true]);
    // A string or an object ends where its own bytes say: what follows the repeat is still checked.
    expect(() => parseKept(Buffer.from('{"items":[{"metadata":{"labels":{"a":"1"}}},{"metadata":{"labels":{"a":"1"}x}}]}'), listPlan())).toThrow(JsonKeepError);
    expect(() => parseKept(Buffer.from('{"items":[{"metadata":{"labels":"ab"}},{"metadata":{"labels":"ab'), listPlan())).toThrow(JsonKeepError);
    const strs = parseKept(Buffer.from('{"items":[{"metadata":{"labels":"ab"}},{"metadata":{"labels":"ab"}},{"metadata":{"labels":"abc"}}]}'), listPlan()) as { items: Item[] };
    expect(strs.items.map((i) => i.metadata.labels)).toStrictEqual(['ab', 'ab', 'abc']);
    // A page shorter than the last value's bytes is no match (and no read past its end).
    expect(() => parseKept(Buffer.from('{"items":[{"metadata":{"labels":{"a":"1"}}},{"metadata":{"labels":{"a"'), listPlan())).toThrow(JsonKeepError);
  });

  it('refuses paths that are not kept, or that go inside a value kept whole', () => {
    const plan = compileKeep(ITEM) as KeepPlan;
    expect(() => shareKept(plan, [['metadata', 'uid']])).toThrow(/uid is not kept/);
    expect(() => shareKept(plan, [['metadata', 'labels', 'app']])).toThrow(/kept whole/);
  });

  it('equals the unshared parse on generated lists with repeated values', () => {
    const value = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.dictionary(fc.constantFrom('a', 'b', 'name', 'value'), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 }));
    const item = fc.record({ metadata: fc.record({ name: fc.string(), labels: fc.oneof(value, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })) }), spec: fc.record({ containers: fc.oneof(value, fc.array(fc.record({ name: fc.string(), env: fc.array(fc.record({ name: fc.string(), value: fc.string() }), { maxLength: 3 }) }), { maxLength: 2 })) }) });
    // Lists drawn from a few distinct items, so that neighbours repeat.
    const list = fc.array(item, { minLength: 1, maxLength: 4 }).chain((pool) => fc.array(fc.constantFrom(...pool), { maxLength: 12 }));
    fc.assert(
      fc.property(list, (items) => {
        expect(parse(items)).toStrictEqual(parse(items, { items: ITEM }));
      }),
      { numRuns: 300 },
    );
  });
});
