/**
 * `podid scan -o json`: the documented Inventory document (docs/output.md), keys in schema
 * order, two-space indent, trailing newline, so output diffs cleanly between runs.
 */
import type { Inventory } from '../core/scan/inventory.js';
import { inventoryDocumentParts } from './inventory-projection.js';
import { jsonChunks } from './json-chunks.js';

export function renderJson(inv: Inventory): string {
  return [...renderJsonChunks(inv)].join('');
}

/** renderJson's text in pieces, each service account's part made as it is written (a fleet's inventory is tens of MB). */
export function* renderJsonChunks(inv: Inventory): Generator<string> {
  const { shell, lists } = inventoryDocumentParts(inv);
  yield* jsonChunks(shell, lists);
  yield '\n';
}
