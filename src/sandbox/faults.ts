/**
 * Fault injection and caller permissions: the world's `faults` and `caller.allow` decide, per
 * call, whether the sandbox answers normally.
 */
import type { FaultKind, FaultSpec } from './world-types.js';
import { wildcardMatch } from '../core/text.js';

/** Where a call goes, for faults that name a cluster or a namespace. */
export interface FaultScope {
  /** The cluster whose Kubernetes API is called (or that an EKS call names in its path). */
  cluster?: string;
  /** The namespace of a Kubernetes request path. */
  namespace?: string;
}

/** A fault to inject: `before` fails the call unapplied; `after-commit` applies it, then fails the answer. */
export interface FaultHit {
  error: FaultKind;
  when: 'before' | 'after-commit';
}

/**
 * The fault to inject for this call (counting it), or undefined. `target` is `iam:GetRole` or
 * `k8s:patch:deployments`; a fault's target may use `*` (`k8s:*:deployments`). A fault naming a
 * cluster or namespace matches only calls in that scope. Only matching calls count toward `after`.
 */
export function nextFault(faults: (FaultSpec & { seen: number })[], target: string, scope: FaultScope = {}): FaultHit | undefined {
  for (const f of faults) {
    if (!wildcardMatch(f.target, target, { ignoreCase: true })) continue;
    if (f.cluster !== undefined && f.cluster !== scope.cluster) continue;
    if (f.namespace !== undefined && f.namespace !== scope.namespace) continue;
    f.seen += 1;
    if (f.seen > f.after && f.seen <= f.after + f.times) return { error: f.error, when: f.when ?? 'before' };
  }
  return undefined;
}

/** IAM-style action matching: `eks:Describe*` matches `eks:DescribeCluster`; case-insensitive. */
export function actionAllowed(allow: readonly string[], action: string): boolean {
  return allow.some((pattern) => wildcardMatch(pattern, action, { ignoreCase: true }));
}
