/**
 * The sandbox's credential model: which role a pod would really obtain, by which mechanism, or
 * why it would fail. Served as `GET /_sandbox/credentials?cluster=&namespace=&pod=` (contract:
 * docs/sandbox.md, "Credential probe"). It reads the pod, its node and the agent's pods from the
 * cluster's Kubernetes store through standard object fields, and evaluates trust policies with an
 * IAM simulator independent of podid's own evaluator (iam-simulator.ts), with the request context
 * each mechanism really sends:
 *
 * - IRSA: STS AssumeRoleWithWebIdentity from the cluster's IAM OIDC provider, with the projected
 *   token's `<issuer>:sub` (system:serviceaccount:NS:SA) and `<issuer>:aud`.
 * - Pod Identity: the agent on the pod's node calls EKS Auth AssumeRoleForPodIdentity with the
 *   node role (which needs eks-auth:AssumeRoleForPodIdentity); EKS then assumes the association's
 *   role as pods.eks.amazonaws.com (sts:AssumeRole + sts:TagSession) with aws:SourceAccount and the
 *   six session tags as aws:RequestTag/* (unless the association disables them). No aws:SourceArn
 *   is sent: no AWS page documents its value, so a condition on it fails here. With a target role,
 *   the source role's session then assumes the target with sts:ExternalId = the association's
 *   externalId (EKS user guide, "Access AWS Resources using EKS Pod Identity Target IAM Roles").
 *
 * Trust policies are read as IAM propagates them (`iamPropagationMs`), not as GetRole shows them.
 */
import type { ClusterState, RoleState, SandboxState } from './state.js';
import { awsManagedPolicy } from './aws/managed-policies.js';
import { loadSimulator, type Decision, type EvalRequest, type Simulator } from './iam-simulator.js';
import type { JsonObject } from './world-types.js';

export type Mechanism = 'pod-identity' | 'irsa';
export type FailureReason =
  | 'no-identity' | 'fargate' | 'windows' | 'no-agent' | 'node-role-denied'
  | 'role-not-found' | 'trust-denied' | 'target-trust-denied' | 'association-not-found';

export interface Evaluation {
  roleArn: string;
  decision: Decision;
  request: { principal: string; action: string; context: Record<string, string | string[]> };
}

export interface CredentialAnswer {
  cluster: string;
  namespace: string;
  pod: string;
  serviceAccount: string;
  ok: boolean;
  mechanism: Mechanism | null;
  roleArn: string | null;
  targetRoleArn: string | null;
  effectiveRoleArn: string | null;
  reason: FailureReason | null;
  message: string;
  evaluation: Evaluation[];
}

export interface ProbeReply {
  status: number;
  body: CredentialAnswer | { error: string };
}

const AGENT = 'eks-pod-identity-agent';
const COMPUTE_TYPE = 'eks.amazonaws.com/compute-type';
const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/** `GET /_sandbox/credentials`: 200 with the answer, 404 for an unknown cluster or pod, 400 for missing parameters. */
export async function probeCredentials(state: SandboxState, query: URLSearchParams): Promise<ProbeReply> {
  const clusterName = query.get('cluster') ?? '';
  const namespace = query.get('namespace') ?? '';
  const podName = query.get('pod') ?? '';
  if (!clusterName || !namespace || !podName) {
    return { status: 400, body: { error: 'cluster, namespace and pod are required: GET /_sandbox/credentials?cluster=NAME&namespace=NS&pod=POD' } };
  }
  const region = query.get('region');
  const cluster = state.clusters.find((c) => c.name === clusterName && (!region || c.region === region));
  if (!cluster) return { status: 404, body: { error: `no cluster named ${clusterName} in the world` } };
  const pod = cluster.kube.getObject('pods', namespace, podName);
  if (!pod) return { status: 404, body: { error: `no pod ${namespace}/${podName} in cluster ${clusterName}` } };
  let sim: Simulator;
  try {
    sim = await loadSimulator();
  } catch (err) {
    // Only when the simulator is not installed (it could be made an optional dependency).
    return { status: 501, body: { error: `the credential probe needs @cloud-copilot/iam-simulate and @cloud-copilot/iam-policy (AGPL-3.0-or-later, development dependencies of podid, not shipped with it), which did not load: ${err instanceof Error ? err.message : String(err)}; install them beside podid (npm install --no-save @cloud-copilot/iam-simulate @cloud-copilot/iam-policy) or run podid from a clone after npm ci` } };
  }
  return { status: 200, body: new Probe(state, cluster, pod, sim).run() };
}

class Probe {
  private readonly evaluation: Evaluation[] = [];
  private readonly answer: CredentialAnswer;
  private readonly spec: JsonObject;

  constructor(
    private readonly state: SandboxState,
    private readonly cluster: ClusterState,
    private readonly pod: JsonObject,
    private readonly sim: Simulator,
  ) {
    const meta = obj(pod.metadata);
    this.spec = obj(pod.spec);
    this.answer = {
      cluster: cluster.name,
      namespace: String(meta.namespace ?? 'default'),
      pod: String(meta.name ?? ''),
      serviceAccount: String(this.spec.serviceAccountName ?? this.spec.serviceAccount ?? 'default'),
      ok: false,
      mechanism: null,
      roleArn: null,
      targetRoleArn: null,
      effectiveRoleArn: null,
      reason: null,
      message: '',
      evaluation: this.evaluation,
    };
  }

  run(): CredentialAnswer {
    const env = this.env();
    const node = typeof this.spec.nodeName === 'string' ? this.cluster.kube.getObject('nodes', '', this.spec.nodeName) : undefined;
    const nodeLabels = strMap(obj(node?.metadata).labels);
    const fargate = nodeLabels[COMPUTE_TYPE] === 'fargate' || this.spec.schedulerName === 'fargate-scheduler';
    const windows = nodeLabels['kubernetes.io/os'] === 'windows' || strMap(this.spec.nodeSelector)['kubernetes.io/os'] === 'windows';
    const { namespace, serviceAccount } = this.answer;

    // The AWS SDKs' default chain tries web identity before the container provider.
    if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) return this.irsa(env.AWS_ROLE_ARN);
    if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
      this.answer.mechanism = 'pod-identity';
      if (fargate) return this.fail('fargate', `pod ${this.podRef()} runs on Fargate, where EKS Pod Identity is not available (use IRSA there)`);
      if (windows) return this.fail('windows', `pod ${this.podRef()} runs on a Windows node, where EKS Pod Identity is not available (use IRSA there)`);
      return this.podIdentity(node, nodeLabels);
    }
    const association = this.state.visibleAssociation(this.cluster, namespace, serviceAccount);
    if (association && fargate) {
      return this.fail('fargate', `service account ${namespace}/${serviceAccount} has a Pod Identity association, but pod ${this.podRef()} runs on Fargate, where EKS Pod Identity is not available`);
    }
    if (association && windows) {
      return this.fail('windows', `service account ${namespace}/${serviceAccount} has a Pod Identity association, but pod ${this.podRef()} runs on a Windows node, where EKS Pod Identity is not available`);
    }
    if (association) {
      return this.fail('no-identity', `pod ${this.podRef()} has no AWS credential variables: it was created before the association for ${namespace}/${serviceAccount} existed (or before the agent add-on); restart it to pick the association up`);
    }
    return this.fail('no-identity', `pod ${this.podRef()} has no AWS credential variables: service account ${namespace}/${serviceAccount} has no Pod Identity association and no eks.amazonaws.com/role-arn annotation the IRSA webhook applied`);
  }

  private irsa(roleArn: string): CredentialAnswer {
    this.answer.mechanism = 'irsa';
    this.answer.roleArn = roleArn;
    const role = this.state.roleByArn(roleArn);
    if (!role) return this.fail('role-not-found', `AWS_ROLE_ARN names ${roleArn}, which does not exist: AssumeRoleWithWebIdentity would be denied`);
    const issuer = this.cluster.oidcIssuer;
    if (!issuer) return this.fail('trust-denied', `cluster ${this.cluster.name} has no OIDC issuer, so its pods have no web identity token`);
    const issuerKey = issuer.replace(/^https:\/\//, '');
    const providerArn = `arn:${this.cluster.partition}:iam::${role.account}:oidc-provider/${issuerKey}`;
    const audience = this.tokenAudience();
    const { namespace, serviceAccount } = this.answer;
    const request: EvalRequest = {
      principal: providerArn,
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: role.arn,
      resourceAccount: role.account,
      context: {
        [`${issuerKey}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${issuerKey}:aud`]: audience,
        'aws:FederatedProvider': providerArn,
      },
    };
    // STS checks the provider before the trust policy (InvalidIdentityToken otherwise).
    const provider = this.state.oidcProviders.find((p) => p.account === role.account && p.url.replace(/\/$/, '') === issuer.replace(/\/$/, ''));
    if (!provider) {
      this.record(role, request, 'ImplicitDeny');
      return this.fail('trust-denied', `account ${role.account} has no IAM OIDC provider for ${issuer}: AssumeRoleWithWebIdentity fails with InvalidIdentityToken`);
    }
    if (!provider.clientIds.includes(audience)) {
      this.record(role, request, 'ImplicitDeny');
      return this.fail('trust-denied', `the pod's token audience ${audience} is not a client ID of the OIDC provider ${providerArn} (${provider.clientIds.join(', ') || 'none'}): AssumeRoleWithWebIdentity fails with InvalidIdentityToken`);
    }
    const decision = this.evaluate(role, request);
    if (decision !== 'Allow') {
      return this.fail('trust-denied', `the trust policy of ${role.arn} ${denies(decision)} sts:AssumeRoleWithWebIdentity for system:serviceaccount:${namespace}:${serviceAccount} from ${providerArn}`);
    }
    return this.succeed(role.arn, `pod ${this.podRef()} obtains ${role.arn} through IRSA`);
  }

  private podIdentity(node: JsonObject | undefined, nodeLabels: Record<string, string>): CredentialAnswer {
    const { namespace, serviceAccount } = this.answer;
    const nodeName = typeof this.spec.nodeName === 'string' ? this.spec.nodeName : '';
    if (!node) return this.fail('no-agent', `pod ${this.podRef()} is not on a node, so no Pod Identity agent can answer it`);
    // EKS Auto Mode runs the agent inside every Auto Mode node, with the node role EKS manages.
    const autoNode = nodeLabels[COMPUTE_TYPE] === 'auto' || (this.cluster.autoMode && this.cluster.nodegroups.length === 0);
    if (!autoNode) {
      if (!this.agentReadyOn(nodeName)) {
        return this.fail('no-agent', `no running and ready ${AGENT} pod on node ${nodeName}: the pod's requests to 169.254.170.23 go unanswered (install the eks-pod-identity-agent add-on, or wait for its pod on this node)`);
      }
      const denied = this.nodeRoleDenied(node, nodeName, nodeLabels);
      if (denied) return this.fail('node-role-denied', denied);
    }

    const association = this.state.visibleAssociation(this.cluster, namespace, serviceAccount);
    if (!association) {
      return this.fail('association-not-found', `EKS Auth finds no Pod Identity association for ${namespace}/${serviceAccount} in cluster ${this.cluster.name}: AssumeRoleForPodIdentity fails`);
    }
    this.answer.roleArn = association.roleArn;
    this.answer.targetRoleArn = association.targetRoleArn;
    const role = this.state.roleByArn(association.roleArn);
    if (!role) return this.fail('role-not-found', `the association's role ${association.roleArn} does not exist`);

    const tags = association.disableSessionTags ? {} : this.sessionTags();
    const context: Record<string, string | string[]> = { 'aws:SourceAccount': this.cluster.account };
    for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
    if (!association.disableSessionTags) context['aws:TagKeys'] = Object.keys(tags);
    // With session tags off, EKS passes no tags, so it needs no sts:TagSession.
    const actions = association.disableSessionTags ? ['sts:AssumeRole'] : ['sts:AssumeRole', 'sts:TagSession'];
    for (const action of actions) {
      const decision = this.evaluate(role, { principal: POD_IDENTITY_PRINCIPAL, action, resource: role.arn, resourceAccount: role.account, context });
      if (decision !== 'Allow') {
        const hint = association.disableSessionTags ? ' (the association disables session tags, so conditions on aws:RequestTag/* cannot match)' : '';
        return this.fail('trust-denied', `the trust policy of ${role.arn} ${denies(decision)} ${action} by ${POD_IDENTITY_PRINCIPAL} for ${namespace}/${serviceAccount} in cluster ${this.cluster.name}${hint}`);
      }
    }
    if (!association.targetRoleArn) {
      return this.succeed(role.arn, `pod ${this.podRef()} obtains ${role.arn} through EKS Pod Identity`);
    }

    const target = this.state.roleByArn(association.targetRoleArn);
    if (!target) return this.fail('role-not-found', `the association's target role ${association.targetRoleArn} does not exist`);
    const session = `eks-${this.cluster.name}-${this.answer.pod}`.slice(0, 64);
    const chained: Record<string, string | string[]> = {
      'aws:PrincipalArn': role.arn,
      'aws:PrincipalAccount': role.account,
      'aws:PrincipalType': 'AssumedRole',
      ...(association.externalId ? { 'sts:ExternalId': association.externalId } : {}),
    };
    for (const [k, v] of Object.entries(tags)) chained[`aws:RequestTag/${k}`] = v;
    if (!association.disableSessionTags) chained['aws:TagKeys'] = Object.keys(tags);
    for (const action of actions) {
      const decision = this.evaluate(target, {
        principal: `arn:${this.cluster.partition}:sts::${role.account}:assumed-role/${role.name}/${session}`,
        action,
        resource: target.arn,
        resourceAccount: target.account,
        context: chained,
      }, identityPolicies(this.state, role));
      if (decision !== 'Allow') {
        return this.fail('target-trust-denied', `${role.arn} cannot ${action} into the target role ${target.arn}: ${denies(decision)} by the target's trust policy (which must admit the source role with sts:ExternalId ${association.externalId ?? '(none)'})${target.account === role.account ? '' : ' or the source role\'s permissions policy'}`);
      }
    }
    return this.succeed(target.arn, `pod ${this.podRef()} obtains ${target.arn} through EKS Pod Identity, chained from ${role.arn}`);
  }

  /** A running, ready, not-terminating pod of the agent DaemonSet on `nodeName`. */
  private agentReadyOn(nodeName: string): boolean {
    return this.cluster.kube.listObjects('pods', 'kube-system').some((p) => {
      const meta = obj(p.metadata);
      const owned = objs(meta.ownerReferences).some((r) => r.kind === 'DaemonSet' && r.name === AGENT);
      const status = obj(p.status);
      const ready = objs(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
      return owned && obj(p.spec).nodeName === nodeName && status.phase === 'Running' && ready && meta.deletionTimestamp == null;
    });
  }

  /** Why the node's role may not call eks-auth:AssumeRoleForPodIdentity, or undefined when it may. */
  private nodeRoleDenied(node: JsonObject, nodeName: string, nodeLabels: Record<string, string>): string | undefined {
    const groupName = nodeLabels['eks.amazonaws.com/nodegroup'];
    const group = this.cluster.nodegroups.find((g) => g.name === groupName);
    if (!group) return `node ${nodeName} belongs to no node group of cluster ${this.cluster.name}, so its role (which needs eks-auth:AssumeRoleForPodIdentity) is unknown`;
    const role = this.state.roleByArn(group.nodeRole);
    if (!role) return `the node role ${group.nodeRole} of node group ${group.name} does not exist, so the agent cannot call EKS Auth`;
    // The agent calls EKS Auth with the instance's credentials: a session of the node role named by the instance id.
    const instanceId = /\/(i-[0-9a-f]+)$/.exec(String(obj(node.spec).providerID ?? ''))?.[1] ?? nodeName;
    const decision = this.evaluate(role, {
      principal: `arn:${this.cluster.partition}:sts::${role.account}:assumed-role/${role.name}/${instanceId}`,
      action: 'eks-auth:AssumeRoleForPodIdentity',
      resource: this.cluster.arn,
      resourceAccount: this.cluster.account,
      context: {},
    }, identityPolicies(this.state, role), false);
    if (decision === 'Allow') return undefined;
    return `the node role ${role.arn} of node group ${group.name} ${denies(decision)} eks-auth:AssumeRoleForPodIdentity on ${this.cluster.arn} (attach AmazonEKSWorkerNodePolicy, which grants it)`;
  }

  /** The six tags EKS Pod Identity adds to the session (EKS user guide, "Enable or disable session tags"). */
  private sessionTags(): Record<string, string> {
    const meta = obj(this.pod.metadata);
    return {
      'eks-cluster-arn': this.cluster.arn,
      'eks-cluster-name': this.cluster.name,
      'kubernetes-namespace': this.answer.namespace,
      'kubernetes-service-account': this.answer.serviceAccount,
      'kubernetes-pod-name': this.answer.pod,
      'kubernetes-pod-uid': String(meta.uid ?? ''),
    };
  }

  /** The audience of the pod's projected IRSA token (the webhook copies the SA's annotation there). */
  private tokenAudience(): string {
    for (const v of objs(this.spec.volumes)) {
      for (const s of objs(obj(v.projected).sources)) {
        const token = obj(s.serviceAccountToken);
        if (v.name === 'aws-iam-token' && typeof token.audience === 'string') return token.audience;
      }
    }
    return 'sts.amazonaws.com';
  }

  /** The AWS variables of the pod's first container that has any (the webhook sets them on all it mutates). */
  private env(): Record<string, string> {
    for (const c of [...objs(this.spec.containers), ...objs(this.spec.initContainers)]) {
      const vars: Record<string, string> = {};
      for (const e of objs(c.env)) if (typeof e.name === 'string' && typeof e.value === 'string') vars[e.name] = e.value;
      if (vars.AWS_ROLE_ARN || vars.AWS_CONTAINER_CREDENTIALS_FULL_URI) return vars;
    }
    return {};
  }

  private evaluate(role: RoleState, req: EvalRequest, identity?: { name: string; document: JsonObject }[], withTrust = true): Decision {
    let decision: Decision;
    try {
      decision = this.sim.evaluate(req, {
        ...(withTrust ? { trustPolicy: this.state.propagatedTrust(role) } : {}),
        ...(identity ? { identityPolicies: identity } : {}),
      });
    } catch {
      // A document IAM would not have stored; IAM would not grant anything through it.
      decision = 'ImplicitDeny';
    }
    this.record(role, req, decision);
    return decision;
  }

  private record(role: RoleState, req: EvalRequest, decision: Decision): void {
    this.evaluation.push({ roleArn: role.arn, decision, request: { principal: req.principal, action: req.action, context: req.context } });
  }

  private podRef(): string {
    return `${this.answer.namespace}/${this.answer.pod}`;
  }

  private fail(reason: FailureReason, message: string): CredentialAnswer {
    return { ...this.answer, ok: false, reason, message, effectiveRoleArn: null };
  }

  private succeed(effective: string, message: string): CredentialAnswer {
    return { ...this.answer, ok: true, reason: null, message, effectiveRoleArn: effective };
  }
}

/** A role's permissions policies: attached AWS-managed and customer-managed ones, and inline ones. */
function identityPolicies(state: SandboxState, role: RoleState): { name: string; document: JsonObject }[] {
  const out: { name: string; document: JsonObject }[] = [];
  for (const arn of role.attachedPolicies) {
    const doc = awsManagedPolicy(arn)?.document ?? state.policies.find((p) => p.arn === arn)?.document;
    if (doc) out.push({ name: arn, document: doc });
  }
  for (const [name, document] of Object.entries(role.inlinePolicies)) out.push({ name, document });
  return out;
}

function denies(d: Decision): string {
  return d === 'ExplicitDeny' ? 'explicitly denies' : 'does not allow';
}

function obj(v: unknown): JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
}

function objs(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter((x): x is JsonObject => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];
}

function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v))) if (typeof val === 'string') out[k] = val;
  return out;
}
