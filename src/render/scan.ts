/** One entry point for `podid scan -o FORMAT`, so the command file maps a flag to a string. */
import type { Inventory } from '../core/scan/inventory.js';
import { renderJson } from './json.js';
import { renderJunit, type JunitOptions } from './junit.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import { plainPalette, type Palette } from './palette.js';
import { renderSarif, type SarifOptions } from './sarif.js';
import { renderTable } from './table.js';
import { renderYaml } from './yaml.js';

export const SCAN_FORMATS = ['table', 'json', 'yaml', 'sarif', 'junit', 'markdown'] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

export interface ScanRenderOptions {
  /** Only the table is coloured; every other format is for machines or Markdown. */
  readonly palette?: Palette;
  readonly sarif: SarifOptions;
  readonly markdown?: MarkdownOptions;
  readonly junit?: JunitOptions;
}

export function renderScan(inv: Inventory, format: ScanFormat, opts: ScanRenderOptions): string {
  switch (format) {
    case 'table':
      return renderTable(inv, { palette: opts.palette ?? plainPalette });
    case 'json':
      return renderJson(inv);
    case 'yaml':
      return renderYaml(inv);
    case 'sarif':
      return renderSarif(inv, opts.sarif);
    case 'junit':
      return renderJunit(inv, opts.junit);
    case 'markdown':
      return renderMarkdown(inv, opts.markdown);
  }
}
