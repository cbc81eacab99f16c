/**
 * Aligned text columns for the terminal. Widths are the plain text's display width (wide CJK
 * characters and emoji take two columns), colour is applied after padding, so ANSI codes never
 * skew the alignment. The last column is not padded, so lines carry no trailing spaces.
 */
import { displayWidth } from './common.js';
import type { Paint } from './palette.js';

export interface Cell {
  readonly text: string;
  readonly paint?: Paint | undefined;
}

export type CellInput = string | Cell;

function cell(c: CellInput): Cell {
  return typeof c === 'string' ? { text: c } : c;
}

export function alignColumns(rows: readonly (readonly CellInput[])[], opts: { indent?: string; gap?: number } = {}): string[] {
  const indent = opts.indent ?? '';
  const gap = ' '.repeat(opts.gap ?? 2);
  const cells = rows.map((r) => r.map(cell));
  const textWidths = cells.map((row) => row.map((c) => displayWidth(c.text)));
  const widths: number[] = [];
  for (const row of textWidths) {
    row.forEach((w, i) => {
      widths[i] = Math.max(widths[i] ?? 0, w);
    });
  }
  return cells.map((row, r) => {
    const parts = row.map((c, i) => {
      const painted = c.paint ? c.paint(c.text) : c.text;
      const isLast = i === row.length - 1;
      return isLast ? painted : painted + ' '.repeat((widths[i] ?? 0) - (textWidths[r]?.[i] ?? 0));
    });
    return indent + parts.join(gap);
  });
}
