/** Small worlds and state readers shared by the apply end-to-end tests. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '../../src/core/apply/result.js';
import { parseJournal, type JournalRecord } from '../../src/core/apply/journal.js';
import { runPodid, type RunResult as Proc, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';

export const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/APPLYTEST0000000000000000000001';
const HOST = ISSUER.replace('https://', '');

function irsaTrust(subs: string[]): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${HOST}:sub`]: subs.map((s) => `system:serviceaccount:${s}`), [`${HOST}:aud`]: 'sts.amazonaws.com' } },
      },
    ],
  };
}

const sa = (ns: string, name: string, role: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/${role}` } } });
const deploy = (ns: string, name: string, saName: string, replicas: number, nodeSelector?: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    // Pods that exit at once when asked to: rollouts here take no grace period.
    template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: saName, terminationGracePeriodSeconds: 0, ...(nodeSelector ? { nodeSelector } : {}), containers: [{ name: 'app', image: `example/${name}:1` }] } },
  },
});
const daemonSet = (ns: string, name: string, saName: string) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: ns },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: saName, terminationGracePeriodSeconds: 0, nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'app', image: `example/${name}:1` }] } },
  },
});

export interface WorldOptions {
  faults?: object[];
  /** A Deployment whose pods can never be scheduled (its rollout is stuck). */
  stuck?: boolean;
  /** Two node groups and a DaemonSet on every node (for the agent check). */
  twoNodegroups?: boolean;
  withAddon?: boolean;
  /** No eks-pod-identity-agent add-on (apply with --install-agent). */
  noAgent?: boolean;
  /** Time new pods take to become ready. */
  rolloutDelayMs?: number;
}

/**
 * One cluster: shop/cart and shop/orders share role `shop` (one trust update for both), the
 * vpc-cni add-on runs with IRSA role `cni`; Deployments cart (2) and orders (1).
 * Uninterrupted, a full apply makes 7 mutating calls.
 */
export function smallWorld(o: WorldOptions = {}): object {
  const objects: object[] = [
    sa('shop', 'cart', 'shop'),
    sa('shop', 'orders', 'shop'),
    deploy('shop', 'cart', 'cart', 2),
    deploy('shop', 'orders', 'orders', 1),
  ];
  const roles: object[] = [{ name: 'shop', assumeRolePolicyDocument: irsaTrust(['shop:cart', 'shop:orders']) }];
  if (o.withAddon !== false) {
    objects.push(sa('kube-system', 'aws-node', 'cni'));
    roles.push({ name: 'cni', assumeRolePolicyDocument: irsaTrust(['kube-system:aws-node']) });
  }
  if (o.stuck) {
    objects.push(sa('batch', 'loader', 'loader'), deploy('batch', 'loader', 'loader', 1, { 'example.com/pool': 'gpu' }));
    roles.push({ name: 'loader', assumeRolePolicyDocument: irsaTrust(['batch:loader']) });
  }
  if (o.twoNodegroups) {
    objects.push(sa('logging', 'shipper', 'shipper'), daemonSet('logging', 'shipper', 'shipper'));
    roles.push({ name: 'shipper', assumeRolePolicyDocument: irsaTrust(['logging:shipper']) });
  }
  return {
    account: ACCOUNT,
    region: 'us-east-1',
    latencyMs: 0,
    rolloutDelayMs: o.rolloutDelayMs ?? 0,
    associationPropagationMs: 0,
    clusters: [
      {
        name: 'prod',
        version: '1.30',
        platformVersion: 'eks.9',
        oidcIssuer: ISSUER,
        addons: [
          ...(o.noAgent ? [] : [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }]),
          ...(o.withAddon !== false
            ? [{ name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/cni`, podIdentityConfiguration: [{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }] }]
            : []),
        ],
        nodegroups: [
          { name: 'ng-a', nodeRole: `arn:aws:iam::${ACCOUNT}:role/node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 2 },
          ...(o.twoNodegroups ? [{ name: 'ng-b', nodeRole: `arn:aws:iam::${ACCOUNT}:role/node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 1 }] : []),
        ],
        objects,
      },
    ],
    iam: {
      roles: [...roles, { name: 'node', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] }, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'] }],
      openIdConnectProviders: [{ url: ISSUER, clientIds: ['sts.amazonaws.com'] }],
    },
    ...(o.faults ? { faults: o.faults } : {}),
  };
}

export function journalDir(): string {
  return mkdtempSync(join(tmpdir(), 'podid-journal-'));
}

const APPLY = ['migrate', '--apply', '--yes', '--all-contexts', '--propagation-wait', '0', '--rollout-timeout', '20s'];

/** `podid migrate --apply --yes --all-contexts ...` against the sandbox, in-process (helpers/podid.ts). */
export function apply(sb: SandboxEndpoint, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Proc> {
  return podid([...APPLY, ...args], { env: { ...sb.clientEnv, ...opts.env }, timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** The same through the built binary, a process of its own: for what only a process shows (exit codes, signals, the kill-after-k hook). */
export function applyBinary(sb: SandboxEndpoint, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Proc> {
  return runPodid([...APPLY, ...args], { env: { ...sb.clientEnv, ...opts.env }, timeoutMs: opts.timeoutMs ?? 60_000 });
}

export function result(p: Proc): RunResult {
  try {
    return JSON.parse(p.stdout) as RunResult;
  } catch {
    throw new Error(`not a run result (exit ${p.code}):\nstdout: ${p.stdout}\nstderr: ${p.stderr}`);
  }
}

export function readJournal(path: string): JournalRecord[] {
  return parseJournal(readFileSync(path, 'utf8'));
}

interface WorldState {
  clusters: {
    name: string;
    podIdentityAssociations: { associationId: string; namespace: string; serviceAccount: string; roleArn: string; ownerArn: string | null }[];
    addons: { name: string; serviceAccountRoleArn: string | null }[];
    objects: { kind: string; metadata: { name: string; namespace?: string; ownerReferences?: { kind: string; name: string }[]; annotations?: Record<string, string> }; spec?: Record<string, unknown> }[];
  }[];
  iam: { roles: { name: string; arn: string; assumeRolePolicyDocument: { Statement: Record<string, unknown>[] } }[] };
}

export async function state(sb: SandboxEndpoint): Promise<WorldState> {
  return (await (await fetch(`${sb.endpoint}/_sandbox/state`)).json()) as WorldState;
}

/** Which credentials a pod's env gives it, as the webhook injected them. */
export function podIdentity(pod: { spec?: Record<string, unknown> }): 'pod-identity' | 'irsa' | 'none' {
  const containers = (pod.spec?.['containers'] as { env?: { name: string }[] }[] | undefined) ?? [];
  const names = new Set(containers.flatMap((c) => (c.env ?? []).map((e) => e.name)));
  if (names.has('AWS_CONTAINER_CREDENTIALS_FULL_URI')) return 'pod-identity';
  return names.has('AWS_ROLE_ARN') ? 'irsa' : 'none';
}

/** The end state that matters, without ids, timestamps or generated names. */
export async function essentialState(sb: SandboxEndpoint): Promise<object> {
  const s = await state(sb);
  const c = s.clusters[0]!;
  return {
    trust: Object.fromEntries(s.iam.roles.map((r) => [r.name, r.assumeRolePolicyDocument])),
    associations: c.podIdentityAssociations.map((a) => `${a.namespace}/${a.serviceAccount} -> ${a.roleArn}${a.ownerArn ? ' (add-on)' : ''}`).sort(),
    addons: c.addons.map((a) => `${a.name}:${a.serviceAccountRoleArn ?? ''}`).sort(),
    pods: c.objects
      .filter((o) => o.kind === 'Pod' && o.metadata.namespace !== 'kube-system')
      .map((p) => `${p.metadata.namespace}/${(p.metadata.ownerReferences?.[0]?.name ?? p.metadata.name).replace(/-[a-z0-9]{8,10}$/, '')}:${podIdentity(p)}`)
      .sort(),
  };
}
