/**
 * `podid scan -o json`: the documented Inventory document (docs/output.md), keys in schema
 * order, two-space indent, trailing newline, so output diffs cleanly between runs.
 */
import type { Inventory } from '../core/scan/inventory.js';
import { toInventoryDocument } from './inventory-schema.js';

export function renderJson(inv: Inventory): string {
  return `${JSON.stringify(toInventoryDocument(inv), null, 2)}\n`;
}
