/**
 * The `podid scan -o json|yaml` document from an Inventory without zod at run time: the
 * inventory's JSON Schema (inventory-json-schema.ts, generated from the zod schema in
 * inventory-schema.ts) gives each object's keys in the documented order, and the projection
 * keeps exactly those (as parsing through the zod schema does; a unit test compares the two on
 * real inventories). It does not validate: the TypeScript types (checked against the schema at
 * compile time) and the tests do. Loading zod costs a scan about 0.15 s and 13 MB.
 */
import type { Inventory } from '../core/scan/inventory.js';
import { INVENTORY_DOCUMENT_SCHEMA, type JsonSchema } from './inventory-json-schema.js';

/** `value` as `schema` describes it: object keys in the schema's order, keys it does not name left out. */
export function project(value: unknown, schema: JsonSchema, root: JsonSchema = schema): unknown {
  return projector(schema, root)(value);
}

type Projector = (value: unknown) => unknown;

/**
 * Each schema node compiled once into a function (per root: a `$ref` resolves against it): a
 * fleet's document projects about a million values, and walking the schema for each (its
 * properties' entries, a `$ref`'s regular expression, an `anyOf`'s search) cost more than
 * stringifying the result.
 */
const compiled = new WeakMap<JsonSchema, WeakMap<JsonSchema, Projector>>();

function projector(schema: JsonSchema, root: JsonSchema): Projector {
  let byRoot = compiled.get(root);
  if (byRoot === undefined) compiled.set(root, (byRoot = new WeakMap()));
  const known = byRoot.get(schema);
  if (known !== undefined) return known;
  // Placed before compiling what it refers to, so a recursive schema resolves to itself.
  let inner: Projector = identity;
  const self: Projector = (value) => inner(value);
  byRoot.set(schema, self);
  inner = compile(schema, root);
  return self;
}

const identity: Projector = (value) => value;

function compile(schema: JsonSchema, root: JsonSchema): Projector {
  if (schema.$ref !== undefined) {
    const target = resolveRef(root, schema.$ref);
    let resolved: Projector | undefined;
    return (value) => (resolved ??= projector(target, root))(value);
  }
  if (schema.anyOf !== undefined) {
    const branch = schema.anyOf.find((b) => b.type !== 'null');
    if (branch === undefined) return identity;
    const next = projector(branch, root);
    return (value) => (value === null ? null : next(value));
  }
  if (schema.type === 'array' && schema.items !== undefined) {
    const item = projector(schema.items, root);
    return (value) => (Array.isArray(value) ? value.map(item) : value);
  }
  if (schema.type === 'object' && schema.properties !== undefined) {
    const keys = Object.keys(schema.properties);
    const subs = keys.map((k) => projector(schema.properties![k]!, root));
    return (value) => {
      if (typeof value !== 'object' || value === null) return value;
      const out: Record<string, unknown> = {};
      const from = value as Record<string, unknown>;
      for (let i = 0; i < keys.length; i++) {
        const v = from[keys[i]!];
        if (v !== undefined) out[keys[i]!] = subs[i]!(v);
      }
      return out;
    };
  }
  return identity;
}

function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const found = m === null ? undefined : root.$defs?.[m[1]!];
  if (found === undefined) throw new Error(`unresolvable $ref ${ref} in the inventory schema`);
  return found;
}

const properties = INVENTORY_DOCUMENT_SCHEMA.properties!;

/** The whole document (the YAML renderer's input). */
export function inventoryDocument(inv: Inventory): Record<string, unknown> {
  return project(inv, INVENTORY_DOCUMENT_SCHEMA) as Record<string, unknown>;
}

/**
 * The same document in parts, for writing it piece by piece (json-chunks.ts): the top level
 * with its three long lists empty, and each list's elements projected one at a time as they are
 * iterated.
 */
export function inventoryDocumentParts(inv: Inventory): { shell: Record<string, unknown>; lists: Record<'clusters' | 'serviceAccounts' | 'addons', Iterable<unknown>> } {
  const shell = project({ ...inv, clusters: [], serviceAccounts: [], addons: [] }, INVENTORY_DOCUMENT_SCHEMA) as Record<string, unknown>;
  const each = function* (items: readonly unknown[], list: JsonSchema | undefined): Generator<unknown> {
    const schema = list?.items;
    if (schema === undefined) throw new Error('the inventory schema lists no element schema');
    for (const item of items) yield project(item, schema, INVENTORY_DOCUMENT_SCHEMA);
  };
  return {
    shell,
    lists: {
      clusters: each(inv.clusters, properties['clusters']),
      serviceAccounts: each(inv.serviceAccounts, properties['serviceAccounts']),
      addons: each(inv.addons, properties['addons']),
    },
  };
}
