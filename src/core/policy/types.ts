/**
 * The trust-policy model. A statement keeps the exact JSON it was parsed from (`raw`): podid
 * writes policies back to IAM, and every statement it did not edit must come back byte for byte
 * (same keys, order and string-vs-array shapes) so diffs stay honest and other tools (Terraform,
 * eksctl, CloudFormation) see no drift they did not cause. The other fields are a normalised,
 * read-only view of `raw` for analysis; edits produce a new raw value and re-parse it.
 */
import { PodidError } from '../errors.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export type Effect = 'Allow' | 'Deny';

export const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

export interface PrincipalSet {
  /** True for the string form `"Principal": "*"` (everyone, every principal type). */
  readonly wildcard: boolean;
  /** Values per type, string form normalised to a one-element list; empty when absent. */
  readonly ids: Readonly<Record<PrincipalType, readonly string[]>>;
}

export interface ActionSet {
  /** True when the statement uses `NotAction`. */
  readonly negated: boolean;
  readonly values: readonly string[];
}

/** One `Condition.<operator>.<key>` entry, values normalised to strings. */
export interface ConditionEntry {
  readonly operator: string;
  /** As written; IAM compares condition keys case-insensitively. */
  readonly key: string;
  readonly values: readonly string[];
}

export interface Statement {
  /** `undefined` when absent; `''` is kept as written. */
  readonly sid: string | undefined;
  readonly effect: Effect;
  readonly principal: PrincipalSet | undefined;
  readonly notPrincipal: PrincipalSet | undefined;
  readonly action: ActionSet;
  /** Flattened in document order. Empty when there is no `Condition` (or it is `{}`). */
  readonly conditions: readonly ConditionEntry[];
  /** The statement exactly as parsed; serialisation writes this back. */
  readonly raw: Readonly<JsonObject>;
}

export interface TrustPolicy {
  readonly version: string | undefined;
  readonly statements: readonly Statement[];
  /** Whether `Statement` was a single object; kept when there is still exactly one statement. */
  readonly statementForm: 'object' | 'array';
  /** The whole document as parsed (top-level key order, `Id`, ...). */
  readonly raw: Readonly<JsonObject>;
}

/** A trust policy document that is not valid; `path` points at the bad element. */
export class PolicyParseError extends PodidError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('POLICY_INVALID', path === '' ? `invalid trust policy: ${problem}` : `invalid trust policy at ${path}: ${problem}`, {
      hint: 'fix the trust policy document (IAM would reject it as well)',
      exit: 'usage',
    });
    this.name = 'PolicyParseError';
    this.path = path;
  }
}

/** A policy edit was asked for with inputs that cannot be right (e.g. a cluster of another account). */
export class PolicyEditError extends PodidError {
  constructor(message: string, hint?: string) {
    super('POLICY_EDIT_INVALID', message, hint === undefined ? { exit: 'usage' } : { exit: 'usage', hint });
    this.name = 'PolicyEditError';
  }
}
