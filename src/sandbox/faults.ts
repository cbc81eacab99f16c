/**
 * Fault injection and caller permissions: the world's `faults` and `caller.allow` decide, per
 * call, whether the sandbox answers normally.
 */
import type { FaultKind, FaultSpec } from './world-types.js';
import { wildcardMatch } from '../core/text.js';

/** The fault to inject for this call (counting it), or undefined. `target` is `iam:GetRole` or `k8s:patch:deployments`. */
export function nextFault(faults: (FaultSpec & { seen: number })[], target: string): FaultKind | undefined {
  for (const f of faults) {
    if (f.target.toLowerCase() !== target.toLowerCase()) continue;
    f.seen += 1;
    if (f.seen > f.after && f.seen <= f.after + f.times) return f.error;
  }
  return undefined;
}

/** IAM-style action matching: `eks:Describe*` matches `eks:DescribeCluster`; case-insensitive. */
export function actionAllowed(allow: readonly string[], action: string): boolean {
  return allow.some((pattern) => wildcardMatch(pattern, action, { ignoreCase: true }));
}
