/**
 * The sandbox's IAM policy evaluator: a thin adapter over @cloud-copilot/iam-simulate, a
 * maintained IAM simulator with every condition operator. It is deliberately NOT podid's own
 * evaluator (src/core/policy), so a bug there cannot hide behind the same bug here: the credential
 * probe is the end-to-end oracle for podid's trust changes (issue 8). Nothing in src/sandbox may
 * import src/core/policy (test/unit/sandbox-independence.test.ts checks it).
 *
 * Loaded lazily (the simulator and its IAM data are several MB), only when the credential probe
 * first runs.
 *
 * Why `runUnsafeSimulation`: the validated `runSimulation` drops context keys that IAM's action
 * tables do not list for the action, which includes every OIDC provider key (`<issuer>:sub`,
 * `<issuer>:aud`), so it denies every IRSA trust. The unsafe entry point evaluates the context as
 * given; it needs its policies pre-validated (`createValidatedPolicy`), which also gives the
 * resource policy the name the engine reports.
 */
import type { JsonObject } from './world-types.js';

export type Decision = 'Allow' | 'ImplicitDeny' | 'ExplicitDeny';

export interface EvalRequest {
  /** Who asks: a service principal, an OIDC provider ARN, or an assumed-role session ARN. */
  principal: string;
  action: string;
  /** The resource ARN (the role for sts:*, the cluster for eks-auth:*) and its account. */
  resource: string;
  resourceAccount: string;
  context: Record<string, string | string[]>;
}

export interface Simulator {
  /**
   * Evaluate a request against a role's trust policy (the resource policy) and, when given, the
   * caller's identity policies (cross-account role chaining needs both, as in IAM).
   */
  evaluate(req: EvalRequest, opts: { trustPolicy?: JsonObject; identityPolicies?: { name: string; document: JsonObject }[] }): Decision;
}

let loading: Promise<Simulator> | undefined;

export function loadSimulator(): Promise<Simulator> {
  loading ??= (async () => {
    const [{ runUnsafeSimulation }, { createValidatedPolicy, validateTrustPolicy, validateIdentityPolicy }] = await Promise.all([
      import('@cloud-copilot/iam-simulate'),
      import('@cloud-copilot/iam-policy'),
    ]);
    return {
      evaluate(req, opts) {
        const result = runUnsafeSimulation({
          request: {
            principal: req.principal,
            action: req.action,
            resource: { resource: req.resource, accountId: req.resourceAccount },
            contextVariables: req.context,
          },
          identityPolicies: (opts.identityPolicies ?? []).map((p) => ({
            name: p.name,
            policy: createValidatedPolicy(p.document, validateIdentityPolicy, { name: p.name }),
          })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(opts.trustPolicy ? { resourcePolicy: createValidatedPolicy(opts.trustPolicy, validateTrustPolicy, { name: 'AssumeRolePolicyDocument' }) } : {}),
        }, {});
        return result === 'Allowed' ? 'Allow' : result === 'ExplicitlyDenied' ? 'ExplicitDeny' : 'ImplicitDeny';
      },
    };
  })();
  // A failed load (package missing) is not cached, so installing it does not need a restart.
  loading.catch(() => { loading = undefined; });
  return loading;
}
