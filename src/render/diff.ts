/**
 * Coloured unified line diffs for the plan review (trust policies before -> after).
 *
 * Lines are compared ignoring a trailing comma (and trailing whitespace): it is JSON syntax,
 * not policy content. Appending a statement to `Statement` turns the previous last
 * statement's `}` into `},`, and a plain line diff would show that as a removed and an added
 * line, so the reviewer would see a "change" to a statement podid does not touch. Such lines are
 * shown as context, in their new form, and only real content changes get `+` or `-`.
 */
import { diffArrays } from 'diff';
import type { JsonObject } from '../core/json.js';
import { parsePolicy, serializePolicy } from '../core/policy/index.js';
import type { Palette } from './palette.js';

export interface DiffOptions {
  readonly palette: Palette;
  /** Unchanged lines shown around each change (unified diff's -U). */
  readonly context?: number;
}

type LineKind = ' ' | '+' | '-';

interface DiffLine {
  readonly kind: LineKind;
  readonly text: string;
  /** 1-based line numbers in the old and new text (the one a line does not exist in is unused). */
  readonly oldNo: number;
  readonly newNo: number;
}

const DEFAULT_CONTEXT = 3;

/** Structural equality of two lines of pretty-printed JSON. */
export function sameJsonLine(a: string, b: string): boolean {
  return normalise(a) === normalise(b);
}

function normalise(line: string): string {
  // Indentation is kept: it places a line in the structure. Ignoring it would let a new
  // statement's `],` pair with the document's closing `]` and scramble the hunk.
  const trimmed = line.trimEnd();
  return trimmed.endsWith(',') ? trimmed.slice(0, -1) : trimmed;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffLines(before: string, after: string): DiffLine[] {
  const changes = diffArrays(splitLines(before), splitLines(after), { comparator: sameJsonLine });
  const out: DiffLine[] = [];
  let oldNo = 1;
  let newNo = 1;
  for (const change of changes) {
    for (const text of change.value) {
      if (change.added) {
        out.push({ kind: '+', text, oldNo, newNo });
        newNo++;
      } else if (change.removed) {
        out.push({ kind: '-', text, oldNo, newNo });
        oldNo++;
      } else {
        // diffArrays reports a common run with the new side's values: the document as it will be.
        out.push({ kind: ' ', text, oldNo, newNo });
        oldNo++;
        newNo++;
      }
    }
  }
  return out;
}

/** Index ranges [start, end) of the lines to show: each change plus `context` lines either side, merged. */
function hunkRanges(lines: readonly DiffLine[], context: number): [number, number][] {
  const ranges: [number, number][] = [];
  lines.forEach((line, i) => {
    if (line.kind === ' ') return;
    const start = Math.max(0, i - context);
    const end = Math.min(lines.length, i + context + 1);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else ranges.push([start, end]);
  });
  return ranges;
}

function hunkHeader(hunk: readonly DiffLine[]): string {
  const first = hunk[0];
  const oldCount = hunk.filter((l) => l.kind !== '+').length;
  const newCount = hunk.filter((l) => l.kind !== '-').length;
  // GNU diff convention: an empty side is numbered by the line before it.
  const oldStart = first === undefined ? 0 : oldCount === 0 ? first.oldNo - 1 : first.oldNo;
  const newStart = first === undefined ? 0 : newCount === 0 ? first.newNo - 1 : first.newNo;
  return `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`;
}

/**
 * The changes from `before` to `after` as unified-diff lines (no `---`/`+++` file header: the
 * caller names what is compared): `@@` hunk headers in cyan, added lines green, removed red,
 * context dim. No lines when the texts are equal up to JSON syntax.
 */
export function unifiedDiff(before: string, after: string, opts: DiffOptions): string[] {
  const p = opts.palette;
  const lines = diffLines(before, after);
  const out: string[] = [];
  for (const [start, end] of hunkRanges(lines, Math.max(0, opts.context ?? DEFAULT_CONTEXT))) {
    const hunk = lines.slice(start, end);
    out.push(p.cyan(hunkHeader(hunk)));
    for (const line of hunk) {
      const text = `${line.kind}${line.text}`;
      out.push(line.kind === '+' ? p.green(text) : line.kind === '-' ? p.red(text) : p.dim(text));
    }
  }
  return out;
}

/** Canonical two-space JSON; a document that is not a valid policy is still shown as it is. */
function canonicalPolicy(doc: JsonObject): string {
  try {
    return serializePolicy(parsePolicy(doc));
  } catch {
    return JSON.stringify(doc, null, 2);
  }
}

/** The unified diff of two trust policies, each in its canonical form, every line indented. */
export function trustDiff(before: JsonObject, after: JsonObject, opts: DiffOptions & { readonly indent?: string }): string[] {
  const indent = opts.indent ?? '      ';
  return unifiedDiff(canonicalPolicy(before), canonicalPolicy(after), opts).map((l) => `${indent}${l}`);
}
