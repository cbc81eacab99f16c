/**
 * `.podid.yaml`: the CI gate's allowlist (docs/ci.md). Parsed and validated here (pure); read
 * from disk by adapters/config-file.ts. Validated strictly, with one-line
 * errors that name the file and the entry, because a typo in an allowlist must not silently
 * allow nothing (or everything): `.podid.yaml: allowlist[2].expires: expected a date YYYY-MM-DD`.
 */
import { parseDocument } from 'yaml';
import picomatch from 'picomatch';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { isJsonObject } from './json.js';
import { isFindingCode } from './scan/findings.js';

export { EMPTY_CONFIG, type AllowlistEntry, type PodidConfig } from './config-defaults.js';
import type { AllowlistEntry, PodidConfig } from './config-defaults.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date: 2025-02-30 is refused, not rolled over to March. */
export function isIsoDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (m === null) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** A glob picomatch accepts strictly: an unclosed `[` or `{` is a typo, not a literal to match. */
function globProblem(pattern: string): string | null {
  try {
    picomatch(pattern, { dot: true, strictBrackets: true });
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^Missing closing: "(.)".*$/, 'unclosed $1 (write \\$1 to match it literally)');
  }
}

const glob = z
  .string({ error: 'expected a glob (a string)' })
  .min(1, { error: 'expected a non-empty glob' })
  .superRefine((pattern, ctx) => {
    const problem = pattern === '' ? null : globProblem(pattern);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `invalid glob ${JSON.stringify(pattern)}: ${problem}` });
  });

const EntrySchema = z.strictObject({
  cluster: glob.optional(),
  namespace: glob.optional(),
  serviceAccount: glob.optional(),
  file: glob.optional(),
  codes: z
    .array(
      z.string({ error: 'expected a finding code (a string)' }).refine(isFindingCode, {
        error: (iss) => `unknown finding code ${JSON.stringify(iss.input)} (docs/findings.md lists them)`,
      }),
      { error: 'expected a list of finding codes' },
    )
    .min(1, { error: 'expected at least one code (leave codes out to cover every finding)' })
    .optional(),
  reason: z.string({ error: 'expected a reason (a string)' }).refine((s) => s.trim() !== '', { error: 'expected a non-empty reason' }),
  expires: z.string({ error: 'expected a date YYYY-MM-DD' }).refine(isIsoDate, { error: 'expected a date YYYY-MM-DD' }),
});

const ConfigSchema = z.strictObject({
  version: z.literal(1, { error: 'expected 1 (the only config version)' }),
  allowlist: z.array(EntrySchema, { error: 'expected a list of entries' }).optional(),
});

function pathLabel(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const key of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[key] : undefined;
  return cur;
}

function issueLine(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${pathLabel([...issue.path, k])}: unknown key`).join('; ');
  }
  const where = pathLabel(issue.path);
  // A missing required key is reported as such, whatever the field's own message says.
  const message = valueAt(raw, issue.path) === undefined ? 'required' : issue.message;
  return where === '' ? message : `${where}: ${message}`;
}

/** Parses and validates the text of a config file; `name` is how messages refer to it. Pure. */
export function parseConfig(text: string, name: string): PodidConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const line = error.linePos?.[0].line;
    const detail = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new UsageError('CONFIG_INVALID', `${name}${line === undefined ? '' : `:${line}`}: ${detail}`, 'fix the YAML (docs/ci.md describes the file)');
  }
  const raw: unknown = doc.toJS();
  if (!isJsonObject(raw)) {
    throw new UsageError('CONFIG_INVALID', `${name}: expected a mapping with version: 1 and an allowlist`, 'see docs/ci.md');
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more ${rest.length === 1 ? 'problem' : 'problems'})`;
    throw new UsageError('CONFIG_INVALID', `${name}: ${first === undefined ? 'invalid' : issueLine(first, raw)}${more}`, 'see docs/ci.md for the format');
  }
  const allowlist = (parsed.data.allowlist ?? []).map((e, index): AllowlistEntry => ({
    index,
    ...(e.cluster === undefined ? {} : { cluster: e.cluster }),
    ...(e.namespace === undefined ? {} : { namespace: e.namespace }),
    ...(e.serviceAccount === undefined ? {} : { serviceAccount: e.serviceAccount }),
    ...(e.file === undefined ? {} : { file: e.file }),
    ...(e.codes === undefined ? {} : { codes: e.codes }),
    reason: e.reason.trim(),
    expires: e.expires,
    config: name,
  }));
  return { version: 1, allowlist, path: name };
}
