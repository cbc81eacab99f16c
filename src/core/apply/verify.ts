/**
 * Verification: can the ServiceAccount's new pods really obtain their role through Pod Identity?
 * Not just "the env is there": every new pod carries the Pod Identity env and not the IRSA env,
 * an eks-pod-identity-agent pod is running and ready on the pod's node (the SDK in the pod asks
 * the agent on its own node, at 169.254.170.23), the association exists for the role, and podid's
 * own trust evaluator admits the request EKS makes for this cluster/namespace/SA (AssumeRole and
 * TagSession with the session tags) under the role's current trust policy. Pure.
 */
import { parsePolicy, podIdentityAdmits } from '../policy/index.js';
import type { JsonObject } from '../json.js';
import type { AssociationRecord, NodeState, PodState } from './ports.js';
import { compareStrings } from '../text.js';

export interface VerifyInput {
  cluster: { arn: string; account: string; partition: string };
  namespace: string;
  serviceAccount: string;
  /** The role the association must name (for cross-account: the source role). */
  roleArn: string;
  targetRoleArn: string | null;
  /** Associations found for namespace/serviceAccount. */
  associations: readonly AssociationRecord[];
  /** The association role's trust policy as read now; null when unreadable or missing. */
  trust: JsonObject | null;
  /** The new pods: those of the workloads podid restarted (or found already moved); each must be on Pod Identity. */
  pods: readonly PodState[];
  /** The SA's other pods (bare Pods, Jobs, workloads podid did not restart): reported when still on IRSA. */
  otherPods: readonly PodState[];
  agentPods: readonly PodState[];
  nodes: readonly NodeState[];
}

export interface VerifyResult {
  ok: boolean;
  /** One sentence per problem. */
  problems: string[];
  /** Pods checked (new, running). */
  verifiedPods: string[];
  /** Other running pods still not on Pod Identity (a workload podid did not restart). */
  stalePods: string[];
  associationId: string | null;
}

const active = (p: PodState) => !p.terminating && (p.phase === 'Running' || p.phase === 'Pending');

export function verifyServiceAccount(input: VerifyInput): VerifyResult {
  const problems: string[] = [];
  const assoc = input.associations.find((a) => a.roleArn === input.roleArn && (a.targetRoleArn ?? null) === input.targetRoleArn);
  if (assoc === undefined) {
    const other = input.associations[0];
    problems.push(
      other === undefined
        ? `no pod identity association exists for ${input.namespace}/${input.serviceAccount}`
        : `the association ${other.associationId} names ${other.roleArn}, not ${input.roleArn}`,
    );
  } else if (assoc.disableSessionTags) {
    problems.push(`association ${assoc.associationId} has session tags disabled, so a trust scoped by session tags denies it`);
  }

  if (input.trust === null) {
    problems.push(`the trust policy of ${input.roleArn} could not be read`);
  } else {
    try {
      if (!podIdentityAdmits(parsePolicy(input.trust), input.cluster.account, { cluster: input.cluster.arn, namespace: input.namespace, serviceAccount: input.serviceAccount })) {
        problems.push(`the trust policy of ${input.roleArn} does not admit pods.eks.amazonaws.com (sts:AssumeRole and sts:TagSession) with the session tags EKS sends for ${input.namespace}/${input.serviceAccount} on this cluster`);
      }
    } catch (err) {
      problems.push(`the trust policy of ${input.roleArn} cannot be evaluated: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const fresh = input.pods.filter(active);
  const stalePods = input.otherPods.filter((p) => active(p) && p.identity !== 'pod-identity').map((p) => p.name).sort();
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const agentReadyOn = new Set(input.agentPods.filter((p) => p.ready && p.phase === 'Running' && !p.terminating && p.nodeName !== null).map((p) => p.nodeName as string));
  const verifiedPods: string[] = [];
  for (const p of [...fresh].sort((a, b) => compareStrings(a.name, b.name))) {
    if (p.identity !== 'pod-identity') {
      problems.push(`pod ${p.name} has ${p.identity === 'irsa' ? 'the IRSA env (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)' : 'no AWS credential env'}, not the Pod Identity env`);
      continue;
    }
    if (p.nodeName === null) {
      problems.push(`pod ${p.name} is not scheduled on a node${p.waitingReason ? ` (${p.waitingReason})` : ''}`);
      continue;
    }
    const node = nodes.get(p.nodeName);
    // EKS Auto Mode runs the agent as part of the node, not as a pod.
    if (node?.computeType !== 'auto' && !agentReadyOn.has(p.nodeName)) {
      problems.push(`no running and ready eks-pod-identity-agent pod on node ${p.nodeName}${node?.nodegroup ? ` (node group ${node.nodegroup})` : ''}, which runs pod ${p.name}`);
      continue;
    }
    verifiedPods.push(p.name);
  }
  return { ok: problems.length === 0, problems, verifiedPods, stalePods, associationId: assoc?.associationId ?? null };
}
