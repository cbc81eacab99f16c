/**
 * Structural comparison. Tools re-serialise trust policies (Terraform sorts and reverses
 * actions, eksctl sorts keys, IAM may turn a one-element list into a string), so podid never
 * compares policy text. Two statements are equal when they mean the same thing written the
 * same way: value lists are compared as sets (a one-element list equals its string), key order
 * is ignored, action names and condition keys compare case-insensitively (IAM treats them so),
 * values (principals, condition values) case-sensitively.
 */
import type { PrincipalSet, Statement, TrustPolicy } from './types.js';
import { PRINCIPAL_TYPES } from './types.js';
import { compareStrings } from '../text.js';

function sortedSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

function canonicalPrincipal(p: PrincipalSet | undefined): unknown {
  if (p === undefined) return null;
  if (p.wildcard) return '*';
  const out: Record<string, string[]> = {};
  for (const type of PRINCIPAL_TYPES) {
    if (p.ids[type].length > 0) out[type] = sortedSet(p.ids[type]);
  }
  return out;
}

function canonicalConditions(s: Statement): unknown {
  // Entries for the same operator and (case-folded) key merge, as IAM does with duplicate keys
  // differing only in case.
  const merged = new Map<string, string[]>();
  for (const c of s.conditions) {
    const id = `${c.operator}\u0000${c.key.toLowerCase()}`;
    merged.set(id, [...(merged.get(id) ?? []), ...c.values]);
  }
  return [...merged.entries()].map(([id, values]) => [id, sortedSet(values)]).sort(([a], [b]) => compareStrings(String(a), String(b)));
}

/** A stable string capturing a statement's meaning; equal fingerprints = equal statements. */
export function statementFingerprint(s: Statement, opts: { ignoreSid?: boolean } = {}): string {
  return JSON.stringify({
    sid: opts.ignoreSid ? null : s.sid || null,
    effect: s.effect,
    principal: canonicalPrincipal(s.principal),
    notPrincipal: canonicalPrincipal(s.notPrincipal),
    action: { negated: s.action.negated, values: sortedSet(s.action.values.map((a) => a.toLowerCase())) },
    conditions: canonicalConditions(s),
  });
}

/** Structural equality; a missing and an empty `Sid` are the same. `ignoreSid` compares only meaning. */
export function statementsEqual(a: Statement, b: Statement, opts: { ignoreSid?: boolean } = {}): boolean {
  return statementFingerprint(a, opts) === statementFingerprint(b, opts);
}

/** Same version and the same statements, in any order. */
export function policiesEqual(a: TrustPolicy, b: TrustPolicy, opts: { ignoreSid?: boolean } = {}): boolean {
  if (a.version !== b.version || a.statements.length !== b.statements.length) return false;
  const left = a.statements.map((s) => statementFingerprint(s, opts)).sort();
  const right = b.statements.map((s) => statementFingerprint(s, opts)).sort();
  return left.every((f, i) => f === right[i]);
}
