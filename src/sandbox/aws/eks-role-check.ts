/**
 * The role checks EKS makes when a Pod Identity association is created or re-pointed (directly
 * or through an add-on's `podIdentityAssociations`): the role exists in the cluster's account
 * (EKS passes it with iam:PassRole, which works only within one account: EKS user guide, "Access
 * AWS Resources using EKS Pod Identity Target IAM Roles"), and its trust policy lets
 * `pods.eks.amazonaws.com` call sts:AssumeRole and sts:TagSession (EKS user guide, "Create IAM
 * role with trust policy required by EKS Pod Identity"). The error texts are the ones EKS
 * answers with (InvalidParameterException; "Trust policy of the role provided is invalid" is
 * reported in hashicorp/terraform-provider-aws#41483 for a role trusting only an OIDC provider).
 *
 * The check is structural, as EKS's must be: conditions cannot be evaluated without a pod, so a
 * statement scoped by session tags passes here and is judged at credential time. It reads the
 * trust policy as IAM has propagated it (`iamPropagationMs`), so a role whose trust was just
 * changed can still be refused, as on AWS.
 */
import type { SandboxState } from '../state.js';
import type { JsonObject } from '../world-types.js';
import { invalidParameter, type EksErrorFields } from './eks-wire.js';

const SERVICE = 'pods.eks.amazonaws.com';
const NEEDED = ['sts:AssumeRole', 'sts:TagSession'];

export function checkPodIdentityRole(state: SandboxState, clusterAccount: string, roleArn: string, fields: EksErrorFields): void {
  const role = state.roleByArn(roleArn);
  if (!role || role.account !== clusterAccount) throw invalidParameter('Role provided in the request does not exist', fields);
  if (!admitsPodIdentity(state.propagatedTrust(role))) throw invalidParameter('Trust policy of the role provided is invalid', fields);
}

/** Whether Allow statements naming pods.eks.amazonaws.com (or every principal) cover both actions. */
export function admitsPodIdentity(doc: JsonObject): boolean {
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const covered = new Set<string>();
  for (const st of statements) {
    if (typeof st !== 'object' || st === null) continue;
    const s = st as JsonObject;
    if (s.Effect !== 'Allow' || !namesService(s.Principal)) continue;
    for (const action of NEEDED) {
      if (s.Action !== undefined && list(s.Action).some((p) => glob(p, action))) covered.add(action);
      if (s.NotAction !== undefined && !list(s.NotAction).some((p) => glob(p, action))) covered.add(action);
    }
  }
  return NEEDED.every((a) => covered.has(a));
}

function namesService(principal: unknown): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const p = principal as JsonObject;
  return list(p.Service).includes(SERVICE) || list(p.AWS).includes('*');
}

function list(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** IAM action patterns: case-insensitive, `*` and `?` wildcards. */
function glob(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(action);
}
