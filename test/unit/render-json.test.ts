import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { INVENTORY_JSON_SCHEMA, InventorySchema, toInventoryDocument } from '../../src/render/inventory-schema.js';
import { INVENTORY_DOCUMENT_SCHEMA } from '../../src/render/inventory-json-schema.js';
import { inventoryDocument } from '../../src/render/inventory-projection.js';
import { renderJson } from '../../src/render/json.js';
import { renderYaml } from '../../src/render/yaml.js';
import { liveInventory, manifestsInventory } from './fixtures/inventory.js';

const DOCS = new URL('../../docs/output.md', import.meta.url);

describe('renderJson', () => {
  for (const [name, inv] of [['live', liveInventory], ['manifests', manifestsInventory]] as const) {
    it(`${name}: validates against the documented schema and loses nothing`, () => {
      const doc: unknown = JSON.parse(renderJson(inv));
      const result = InventorySchema.safeParse(doc);
      expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
      // Parsing strips unknown keys, so equality also proves the output has none.
      expect(result.data).toEqual(doc);
      expect(doc).toEqual(JSON.parse(JSON.stringify(inv)));
    });
  }

  it('writes keys in the documented order whatever order the inventory was built in', () => {
    const shuffled = Object.fromEntries(Object.entries(liveInventory).reverse()) as typeof liveInventory;
    const out = renderJson(shuffled);
    expect(out).toBe(renderJson(liveInventory));
    expect(Object.keys(JSON.parse(out))).toEqual([
      'schemaVersion', 'generatedAt', 'toolVersion', 'source', 'caller', 'trustPolicyLimit', 'clusters', 'serviceAccounts', 'addons', 'summary',
    ]);
    expect(Object.keys(JSON.parse(out).serviceAccounts[0])).toEqual([
      'cluster', 'namespace', 'name', 'roleArn', 'role', 'annotations', 'trust', 'association', 'workloads', 'pods', 'addon', 'verdict', 'findings',
    ]);
  });

  it('uses two-space indent and ends with one newline', () => {
    const out = renderJson(liveInventory);
    expect(out.startsWith('{\n  "schemaVersion": 1,\n')).toBe(true);
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.endsWith('\n\n')).toBe(false);
  });

  it('carries an allowlist suppression on the finding it covers', () => {
    const doc = JSON.parse(renderJson(liveInventory));
    const reports = doc.serviceAccounts.find((s: { name: string }) => s.name === 'reports');
    expect(reports.findings[1]).toEqual(expect.objectContaining({
      code: 'WORKLOAD_ON_FARGATE',
      suppressed: { reason: 'Fargate batch stays on IRSA', expires: '2026-12-31' },
    }));
    expect(reports.findings[0]).not.toHaveProperty('suppressed');
  });

  it('refuses a document that breaks the schema', () => {
    const doc = JSON.parse(renderJson(liveInventory));
    doc.serviceAccounts[0].verdict = 'fine';
    expect(InventorySchema.safeParse(doc).success).toBe(false);
    delete doc.serviceAccounts[0].verdict;
    expect(InventorySchema.safeParse(doc).success).toBe(false);
  });
});

describe('renderYaml', () => {
  it('is the same document as the JSON', () => {
    for (const inv of [liveInventory, manifestsInventory]) {
      expect(parseYaml(renderYaml(inv))).toEqual(JSON.parse(renderJson(inv)));
    }
  });

  it('keeps long strings on one line and quotes what YAML would misread', () => {
    const out = renderYaml(liveInventory);
    expect(out).toContain('account: "111122223333"');
    expect(out).toContain('version: "1.29"');
    const longMessage = liveInventory.serviceAccounts[2]!.findings[0]!.message;
    expect(out.split('\n').some((l) => l.includes(longMessage))).toBe(true);
    expect(out).not.toMatch(/[&*]\w+\s*$/m);
  });
});

describe('INVENTORY_JSON_SCHEMA', () => {
  it('is a closed draft 2020-12 schema requiring the issue\'s fields', () => {
    const s = INVENTORY_JSON_SCHEMA as Record<string, any>;
    expect(s['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s['required']).toEqual(expect.arrayContaining(['schemaVersion', 'clusters', 'serviceAccounts', 'summary']));
    const sa = s['$defs']['ServiceAccount'];
    expect(sa.required).toEqual(expect.arrayContaining(['cluster', 'namespace', 'name', 'roleArn', 'verdict', 'findings']));
    expect(s['$defs']['Finding'].required).toEqual(['code', 'severity', 'message', 'fix']);
    expect(s['$defs']['Verdict'].enum).toEqual(['ready', 'ready-with-warnings', 'blocked', 'partial', 'migrated']);
  });

  it('is what the renderer projects through (src/render/inventory-json-schema.ts, written by npm run gen:schema)', () => {
    expect(INVENTORY_DOCUMENT_SCHEMA).toEqual(INVENTORY_JSON_SCHEMA);
  });

  it('projects an inventory as parsing it through the zod schema does: same keys, same order, nothing else', () => {
    for (const inv of [liveInventory, manifestsInventory]) {
      const extra = { ...inv, planning: { x: 1 }, serviceAccounts: inv.serviceAccounts.map((s) => ({ ...s, internal: true })) };
      const projected = inventoryDocument(extra);
      expect(JSON.stringify(projected)).toBe(JSON.stringify(toInventoryDocument(extra)));
      // And the piece-by-piece JSON writer (each list element projected on its own).
      expect(renderJson(extra)).toBe(`${JSON.stringify(toInventoryDocument(extra), null, 2)}\n`);
    }
  });

  it('is published verbatim in docs/output.md', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const m = /<!-- BEGIN inventory-schema -->\n```json\n([\s\S]*?)```\n<!-- END inventory-schema -->/.exec(docs);
    expect(m, 'docs/output.md must hold the schema between the BEGIN/END inventory-schema markers').not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual(INVENTORY_JSON_SCHEMA);
  });
});
