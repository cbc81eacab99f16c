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
  if (schema.$ref !== undefined) return project(value, resolveRef(root, schema.$ref), root);
  if (schema.anyOf !== undefined) {
    if (value === null) return null;
    const branch = schema.anyOf.find((b) => b.type !== 'null');
    return branch === undefined ? value : project(value, branch, root);
  }
  if (schema.type === 'array' && schema.items !== undefined && Array.isArray(value)) return value.map((v) => project(v, schema.items!, root));
  if (schema.type === 'object' && schema.properties !== undefined && typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const from = value as Record<string, unknown>;
    for (const [key, sub] of Object.entries(schema.properties)) {
      const v = from[key];
      if (v !== undefined) out[key] = project(v, sub, root);
    }
    return out;
  }
  return value;
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
