/**
 * What a live scan reports while it works. The collector emits these; the application layer
 * passes them on; the CLI decides how (if at all) to show them (a spinner line on a terminal).
 * Typed, so a front end other than the CLI (or a test) can follow a scan without parsing text.
 */
import type { ErrorCode } from '../errors.js';

export type ScanEvent =
  /** The contexts about to be scanned, in order. */
  | { readonly type: 'scan-started'; readonly contexts: readonly string[] }
  /** A context that reaches a cluster another selected context already reaches: scanned once. */
  | { readonly type: 'context-duplicate'; readonly context: string; readonly sameAs: string }
  | { readonly type: 'cluster-describing'; readonly context: string; readonly cluster: string }
  | { readonly type: 'cluster-reading'; readonly context: string; readonly cluster: string }
  | { readonly type: 'cluster-read'; readonly context: string; readonly cluster: string; readonly serviceAccounts: number; readonly pods: number }
  /** A fleet run could not scan this context; it becomes a cluster-level finding, the others go on. */
  | { readonly type: 'cluster-failed'; readonly context: string; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'iam-reading' }
  /** Some roles were read with ListRoles (no permissions boundaries): how many, and why. */
  | { readonly type: 'iam-boundaries-unknown'; readonly roles: number; readonly reason: string };

export type ScanEventSink = (event: ScanEvent) => void;
