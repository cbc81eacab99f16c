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
