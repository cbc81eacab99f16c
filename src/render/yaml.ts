/** `podid scan -o yaml`: the same document as `-o json`, as YAML. */
import { stringify } from 'yaml';
import type { Inventory } from '../core/scan/inventory.js';
import { inventoryDocument } from './inventory-projection.js';

export function renderYaml(inv: Inventory): string {
  return stringify(inventoryDocument(inv), {
    indent: 2,
    // No folding: long messages and ARNs stay on one line, greppable and diff-stable.
    lineWidth: 0,
    // Repeated values are written out in full, never as anchors a reader has to chase.
    aliasDuplicateObjects: false,
  });
}

/**
 * A JSON document (as podid renders it) as YAML, with the same settings. For `-o yaml` of the
 * commands that render JSON first; imported lazily (cli/output.ts) through this module rather
 * than `import('yaml')`, whose bundled CommonJS chunk exposes only a default export.
 */
export function jsonAsYaml(json: string): string {
  return stringify(JSON.parse(json), { indent: 2, lineWidth: 0, aliasDuplicateObjects: false });
}
