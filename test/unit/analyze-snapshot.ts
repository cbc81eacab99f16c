/**
 * A small FleetSnapshot builder for the analysis tests, shaped like the sandbox worlds: one
 * healthy cluster `prod` (Kubernetes 1.29 eks.8, agent add-on ACTIVE on both Linux nodes, node
 * role allowed), with `shop/cart` annotated for role `cart`, whose trust policy grants exactly
 * that service account, and a Deployment `cart` with two IRSA pods. Tests clone and mutate it.
 */
import type { JsonObject } from '../../src/core/json.js';
import type {
  AddonSnapshot, ClusterSnapshot, FleetSnapshot, PodIdentityEnv, PodObject, RoleSnapshot, WorkloadKind, WorkloadObject,
} from '../../src/core/scan/snapshot.js';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
export const ISSUER_HOST = ISSUER.slice('https://'.length);
export const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`;
export const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
export const NODE_ROLE = `arn:aws:iam::${ACCOUNT}:role/eks-node`;
export const roleArn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;

/** The IRSA statement eksctl/Terraform write: StringEquals on sub and aud. */
export function irsaStatement(subjects: string | string[], opts: { operator?: string; issuerHost?: string; provider?: string; aud?: boolean } = {}): JsonObject {
  const host = opts.issuerHost ?? ISSUER_HOST;
  const cond: JsonObject = { [`${host}:sub`]: subjects };
  if (opts.aud !== false) cond[`${host}:aud`] = 'sts.amazonaws.com';
  return {
    Effect: 'Allow',
    Principal: { Federated: opts.provider ?? PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { [opts.operator ?? 'StringEquals']: cond },
  };
}

export function podIdentityStatementJson(clusterArns: string[] | null, account = ACCOUNT): JsonObject {
  const s: JsonObject = { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
  if (clusterArns !== null) s['Condition'] = { StringEquals: { 'aws:SourceAccount': account, 'aws:RequestTag/eks-cluster-arn': clusterArns } };
  return s;
}

export function policy(...statements: JsonObject[]): JsonObject {
  return { Version: '2012-10-17', Statement: statements };
}

export function foundRole(arn: string, trustPolicy: JsonObject | null): RoleSnapshot {
  return { arn, state: 'found', trustPolicy, error: null };
}

export function workload(kind: WorkloadKind, ns: string, name: string, sa: string, over: Partial<WorkloadObject> = {}): WorkloadObject {
  return {
    kind, namespace: ns, name, uid: `${kind}-${name}`, resourceVersion: '1', serviceAccount: sa,
    templateLabels: { app: name }, nodeSelector: {}, replicas: 1, owner: null, active: false, ...over,
  };
}

export function pod(ns: string, name: string, sa: string, identity: PodIdentityEnv, over: Partial<PodObject> = {}): PodObject {
  return { namespace: ns, name, serviceAccount: sa, nodeName: 'ip-10-0-0-1', phase: 'Running', owner: null, identity, labels: {}, ...over };
}

/** A Deployment, its ReplicaSet, and one pod per entry of `identities`. */
export function deployment(c: ClusterSnapshot, ns: string, name: string, sa: string, identities: PodIdentityEnv[], over: { node?: string; labels?: Record<string, string>; nodeSelector?: Record<string, string> } = {}): void {
  const labels = over.labels ?? { app: name };
  const rs = `${name}-7d9f8`;
  c.kube.workloads.push(workload('Deployment', ns, name, sa, { templateLabels: labels, nodeSelector: over.nodeSelector ?? {}, replicas: identities.length }));
  c.kube.workloads.push(workload('ReplicaSet', ns, rs, sa, { templateLabels: labels, owner: { kind: 'Deployment', name } }));
  identities.forEach((identity, i) =>
    c.kube.pods.push(pod(ns, `${rs}-${i}`, sa, identity, { owner: { kind: 'ReplicaSet', name: rs }, labels, nodeName: over.node ?? 'ip-10-0-0-1' })),
  );
}

export function agentAddon(status = 'ACTIVE'): AddonSnapshot {
  return { name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1', status, arn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/prod/eks-pod-identity-agent/x`, serviceAccountRoleArn: null, podIdentityAssociations: [], podIdentityConfiguration: null };
}

export function baseCluster(name = 'prod', region = 'us-east-1'): ClusterSnapshot {
  const arn = `arn:aws:eks:${region}:${ACCOUNT}:cluster/${name}`;
  const c: ClusterSnapshot = {
    context: arn, name, arn, account: ACCOUNT, region, partition: 'aws', version: '1.29', platformVersion: 'eks.8', status: 'ACTIVE',
    endpoint: `https://${name}.gr7.${region}.eks.amazonaws.com`, oidcIssuer: ISSUER, autoMode: false,
    addons: [agentAddon()],
    nodegroups: [{ name: 'ng-linux', nodeRole: NODE_ROLE, amiType: 'AL2023_x86_64_STANDARD', status: 'ACTIVE' }],
    fargateProfiles: [],
    associations: [],
    kube: {
      serviceAccounts: [],
      workloads: [workload('DaemonSet', 'kube-system', 'eks-pod-identity-agent', 'eks-pod-identity-agent')],
      pods: ['ip-10-0-0-1', 'ip-10-0-0-2'].map((node, i) =>
        pod('kube-system', `eks-pod-identity-agent-${i}`, 'eks-pod-identity-agent', 'none', { nodeName: node, owner: { kind: 'DaemonSet', name: 'eks-pod-identity-agent' } }),
      ),
      nodes: [
        { name: 'ip-10-0-0-1', os: 'linux', computeType: 'ec2', nodegroup: 'ng-linux' },
        { name: 'ip-10-0-0-2', os: 'linux', computeType: 'ec2', nodegroup: 'ng-linux' },
      ],
    },
  };
  return c;
}

/** The standard world: prod with shop/cart on IRSA, ready to migrate. */
export function baseFleet(): FleetSnapshot {
  const c = baseCluster();
  c.kube.serviceAccounts.push({ namespace: 'shop', name: 'cart', uid: 'sa-cart', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('cart') } });
  deployment(c, 'shop', 'cart', 'cart', ['irsa', 'irsa']);
  return {
    caller: { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci` },
    trustPolicyLimit: 2048,
    clusters: [c],
    roles: { [roleArn('cart')]: foundRole(roleArn('cart'), policy(irsaStatement('system:serviceaccount:shop:cart'))) },
    nodeRoles: { [NODE_ROLE]: { arn: NODE_ROLE, allowsAssumeRoleForPodIdentity: true, detail: 'AmazonEKSWorkerNodePolicy' } },
  };
}

export function prod(s: FleetSnapshot): ClusterSnapshot {
  const c = s.clusters.find((x) => x.name === 'prod');
  if (c === undefined) throw new Error('no prod cluster');
  return c;
}
