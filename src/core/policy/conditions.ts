/**
 * IAM condition semantics, as documented in the IAM JSON policy reference ("Condition
 * operators", "Single-valued vs. multivalued context keys"):
 * - StringEquals compares exactly: a `*` is a literal character and never a wildcard.
 * - StringLike globs: `*` matches any run (also empty), `?` exactly one character.
 * - The *IgnoreCase variants compare case-insensitively; everything else is case-sensitive.
 * - ArnEquals and ArnLike both compare each of the six colon-separated ARN fields on its own,
 *   each field may use `*` and `?` (the reference documents one behaviour for both). A bare
 *   `*` matches any ARN.
 * - Negated operators (StringNotEquals, StringNotLike, ArnNotEquals, ArnNotLike) hold when the
 *   value matches none of the policy values, and also when the key is absent from the request.
 * - `...IfExists` holds when the key is absent; otherwise it behaves like the base operator.
 * - `ForAnyValue:` holds when at least one request value satisfies the operator (false on an
 *   empty or absent key); `ForAllValues:` when every request value does (true when absent).
 * - Null: `"true"` holds when the key is absent, `"false"` when it is present.
 * Policy variables (`${aws:username}`) cannot be resolved here: such a comparison is
 * `undefined` (not provable). The escapes `${*}`, `${?}` and `${$}` are literal characters.
 */
import { PodidError } from '../errors.js';

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

export interface ParsedOperator {
  readonly base: string;
  readonly set: SetQualifier | undefined;
  readonly ifExists: boolean;
  readonly negated: boolean;
}

const NEGATED_TO_POSITIVE: Readonly<Record<string, string>> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};
const POSITIVE = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'Bool']);

export function parseOperator(operator: string): ParsedOperator {
  return operatorOf(operator).op;
}

/** A parsed operator with the positive base its evaluation compares with (undefined: not evaluable). */
interface OperatorInfo {
  readonly op: ParsedOperator;
  readonly positiveBase: string | undefined;
}

function parseOperatorUncached(operator: string): OperatorInfo {
  let rest = operator;
  let set: SetQualifier | undefined;
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      set = q;
      rest = rest.slice(q.length + 1);
    }
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  const negated = Object.hasOwn(NEGATED_TO_POSITIVE, base);
  const positive = negated ? NEGATED_TO_POSITIVE[base] : base;
  return { op: { base, set, ifExists, negated }, positiveBase: positive !== undefined && POSITIVE.has(positive) ? positive : undefined };
}

/**
 * Operators parsed once each: a policy names a handful (StringEquals, StringLike, ...) and a
 * fleet scan evaluates them millions of times. The result is shared read-only. Bounded.
 */
const OPERATORS_LIMIT = 1_000;
const operators = new Map<string, OperatorInfo>();

function operatorOf(operator: string): OperatorInfo {
  let op = operators.get(operator);
  if (op === undefined) {
    if (operators.size >= OPERATORS_LIMIT) operators.clear();
    op = parseOperatorUncached(operator);
    operators.set(operator, op);
  }
  return op;
}

/** True for operators podid can evaluate (string, ARN, Bool and Null families). */
export function isEvaluableOperator(operator: string): boolean {
  const { base } = parseOperator(operator);
  return base === 'Null' || POSITIVE.has(base) || Object.hasOwn(NEGATED_TO_POSITIVE, base);
}

type Token = { readonly kind: 'char'; readonly c: string } | { readonly kind: 'any' } | { readonly kind: 'one' };

/** Tokenises a policy value; undefined when it holds a policy variable that cannot be resolved. */
function tokenize(pattern: string, glob: boolean): Token[] | undefined {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '$' && pattern[i + 1] === '{') {
      const end = pattern.indexOf('}', i + 2);
      if (end === -1) {
        tokens.push({ kind: 'char', c });
        continue;
      }
      const inner = pattern.slice(i + 2, end);
      if (inner === '*' || inner === '?' || inner === '$') {
        tokens.push({ kind: 'char', c: inner });
        i = end;
        continue;
      }
      return undefined;
    }
    if (glob && c === '*') tokens.push({ kind: 'any' });
    else if (glob && c === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'char', c });
  }
  return tokens;
}

/** Iterative glob match with single-star backtracking (linear-ish, no regex injection). */
function matchTokens(tokens: readonly Token[], text: string): boolean {
  let t = 0;
  let s = 0;
  let starT = -1;
  let starS = 0;
  while (s < text.length) {
    const tok = tokens[t];
    if (tok !== undefined && (tok.kind === 'one' || (tok.kind === 'char' && tok.c === text[s]))) {
      t++;
      s++;
    } else if (tok !== undefined && tok.kind === 'any') {
      starT = t++;
      starS = s;
    } else if (starT !== -1) {
      t = starT + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'any') t++;
  return t === tokens.length;
}

/** Glob or exact match of one policy value against one request value; undefined if unresolvable. */
export function matchPattern(pattern: string, actual: string, opts: { glob: boolean; ignoreCase?: boolean }): boolean | undefined {
  return matchValue(pattern, actual, opts.glob, opts.ignoreCase === true);
}

function matchValue(pattern: string, actual: string, glob: boolean, ignoreCase: boolean): boolean | undefined {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const a = ignoreCase ? actual.toLowerCase() : actual;
  // No policy variable and nothing to expand: every token is a literal character, so the match
  // is string equality (most values: each role's exact `sub`, ARNs, audiences).
  if (isLiteral(p, glob)) return p === a;
  const tokens = tokensOf(p, glob);
  return tokens === undefined ? undefined : matchTokens(tokens, a);
}

/** A pattern tokenize would turn into literal characters only (no `${`, and no `*`/`?` when globbing). */
function isLiteral(pattern: string, glob: boolean): boolean {
  return !pattern.includes('$') && !(glob && (pattern.includes('*') || pattern.includes('?')));
}

/**
 * tokenize, memoised: a fleet scan matches the same few policy values (each role's `sub` and
 * ARN patterns) against thousands of requests. Bounded: cleared when it grows past the limit.
 */
const TOKENS_LIMIT = 10_000;
const tokenCache = [new Map<string, Token[] | undefined>(), new Map<string, Token[] | undefined>()] as const;

function tokensOf(pattern: string, glob: boolean): Token[] | undefined {
  const cache = tokenCache[glob ? 1 : 0];
  if (cache.has(pattern)) return cache.get(pattern);
  if (cache.size >= TOKENS_LIMIT) cache.clear();
  const tokens = tokenize(pattern, glob);
  cache.set(pattern, tokens);
  return tokens;
}

function splitArnFields(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function matchArn(pattern: string, actual: string): boolean | undefined {
  // A value made only of `*` is not split into fields: IAM treats `"ArnLike": {"k": "*"}` as
  // "any ARN" (the documented way to require that an ARN key is present), so it matches any value.
  if (/^\*+$/.test(pattern)) return true;
  const p = splitArnFields(pattern);
  const a = splitArnFields(actual);
  if (p === undefined || a === undefined) return false;
  let result: boolean | undefined = true;
  for (let i = 0; i < 6; i++) {
    const m = matchValue(p[i] ?? '', a[i] ?? '', true, false);
    if (m === false) return false;
    if (m === undefined) result = undefined;
  }
  return result;
}

function matchPositive(base: string, pattern: string, actual: string): boolean | undefined {
  switch (base) {
    case 'StringEquals':
      return matchValue(pattern, actual, false, false);
    case 'StringEqualsIgnoreCase':
      return matchValue(pattern, actual, false, true);
    case 'StringLike':
      return matchValue(pattern, actual, true, false);
    case 'ArnEquals':
    case 'ArnLike':
      return matchArn(pattern, actual);
    case 'Bool':
      return pattern.toLowerCase() === actual.toLowerCase();
    default:
      return undefined;
  }
}

/** Three-valued NOT (undefined = cannot tell). */
function not3(v: boolean | undefined): boolean | undefined {
  return v === undefined ? undefined : !v;
}

/** What the request carries for a key: a value, several values, or nothing (absent). */
export type RequestValue = string | readonly string[] | undefined;

/**
 * Evaluates one condition entry. Returns undefined when the operator is outside the string,
 * ARN, Bool and Null families, or a policy variable is involved: "cannot prove either way".
 */
export function evaluateCondition(operator: string, policyValues: string | readonly string[], actual: RequestValue): boolean | undefined {
  // The three-valued logic of some3/every3 over the patterns and the request values, in loops
  // that allocate nothing (this runs for every condition of every statement of every request).
  const { op, positiveBase } = operatorOf(operator);
  const absent = actual === undefined || (typeof actual !== 'string' && actual.length === 0);

  if (op.base === 'Null') {
    if (op.set !== undefined || op.ifExists) return undefined;
    if (typeof policyValues === 'string') return nullHolds(policyValues, absent);
    for (const p of policyValues) if (nullHolds(p, absent)) return true;
    return false;
  }
  if (positiveBase === undefined) return undefined;

  if (absent) {
    if (op.ifExists || op.set === 'ForAllValues') return true;
    if (op.set === 'ForAnyValue') return false;
    return op.negated;
  }
  // One request value: ForAllValues, ForAnyValue and the single-valued form all come to whether it satisfies.
  if (typeof actual === 'string') return satisfies(positiveBase, op.negated, policyValues, actual);
  const values = actual as readonly string[];
  let unknown = false;
  if (op.set === 'ForAllValues') {
    for (const v of values) {
      const r = satisfies(positiveBase, op.negated, policyValues, v);
      if (r === false) return false;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  }
  if (op.set === 'ForAnyValue') {
    for (const v of values) {
      const r = satisfies(positiveBase, op.negated, policyValues, v);
      if (r === true) return true;
      if (r === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  }
  // A single-valued operator: positive holds if any request value matches, negated if none does.
  let matched: boolean | undefined = false;
  for (const v of values) {
    const r = matchesAny(positiveBase, policyValues, v);
    if (r === true) {
      matched = true;
      break;
    }
    if (r === undefined) unknown = true;
  }
  if (matched !== true && unknown) matched = undefined;
  return op.negated ? not3(matched) : matched;
}

function nullHolds(p: string, absent: boolean): boolean {
  const v = p.toLowerCase();
  return v === 'true' ? absent : v === 'false' ? !absent : false;
}

/** Some policy value matches the request value (three-valued). */
function matchesAny(positiveBase: string, patterns: string | readonly string[], v: string): boolean | undefined {
  if (typeof patterns === 'string') return matchPositive(positiveBase, patterns, v);
  let unknown = false;
  for (const p of patterns) {
    const r = matchPositive(positiveBase, p, v);
    if (r === true) return true;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

function satisfies(positiveBase: string, negated: boolean, patterns: string | readonly string[], v: string): boolean | undefined {
  const m = matchesAny(positiveBase, patterns, v);
  return negated ? not3(m) : m;
}

/**
 * The string/ARN/Bool/Null condition check for callers that need a plain answer: a comparison
 * that involves an unresolvable policy variable counts as not matching (not provable).
 * Throws for operators outside those families (numeric, date, IP, binary).
 */
export function matchesStringCondition(operator: string, policyValues: string | readonly string[], actual: RequestValue): boolean {
  if (!isEvaluableOperator(operator)) {
    throw new PodidError('POLICY_UNSUPPORTED_OPERATOR', `condition operator ${operator} is not a string, ARN, Bool or Null operator`);
  }
  return evaluateCondition(operator, policyValues, actual) ?? false;
}

/** IAM action names are case-insensitive and may use `*` and `?` (e.g. `sts:*`, `sts:Assume*`). */
export function actionMatches(pattern: string, action: string): boolean {
  return matchPattern(pattern, action, { glob: true, ignoreCase: true }) === true;
}

/** True when the value contains a glob character that StringLike/ArnLike would expand. */
export function hasWildcard(value: string): boolean {
  return /[*?]/.test(value.replace(/\$\{[*?$]\}/g, ''));
}
