/** Test helpers for the sandbox Kubernetes API servers: a small world and a direct request driver. */
import { SandboxState, type Clock } from '../../src/sandbox/state.js';
import type { ClusterSpec, JsonObject, World } from '../../src/sandbox/world-types.js';
import { createKubeCluster, isStream, type KubeCluster } from '../../src/sandbox/kube/index.js';

export const ACCOUNT = '111122223333';
export const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';

export class FakeClock implements Clock {
  constructor(public t = Date.parse('2025-01-01T00:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function cluster(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: 'prod',
    account: ACCOUNT,
    region: 'us-east-1',
    version: '1.29',
    platformVersion: 'eks.8',
    oidcIssuer: ISSUER,
    autoMode: false,
    status: 'ACTIVE',
    addons: [],
    nodegroups: [{ name: 'ng-linux', nodeRole: `arn:aws:iam::${ACCOUNT}:role/eks-node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 3 }],
    fargateProfiles: [],
    podIdentityAssociations: [],
    objects: [],
    ...overrides,
  };
}

export function world(clusters: ClusterSpec[], overrides: Partial<World> = {}): World {
  return {
    account: ACCOUNT,
    region: 'us-east-1',
    partition: 'aws',
    latencyMs: 0,
    rolloutDelayMs: 0,
    associationPropagationMs: 0,
    clusters,
    iam: { trustPolicyLimit: 2048, roles: [], policies: [], openIdConnectProviders: [] },
    caller: null,
    faults: [],
    ...overrides,
  };
}

export const AGENT_ADDON = { name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1', status: 'ACTIVE' as const, serviceAccountRoleArn: null, podIdentityConfiguration: null };

export function serviceAccount(namespace: string, name: string, roleArn?: string): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace, ...(roleArn ? { annotations: { 'eks.amazonaws.com/role-arn': roleArn } } : {}) },
  };
}

export function deployment(namespace: string, name: string, sa: string, replicas = 2): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: sa, containers: [{ name: 'app', image: `example/${name}:1.0` }] } },
    },
  };
}

export interface Harness {
  state: SandboxState;
  clock: FakeClock;
  kube: KubeCluster;
  call(method: string, path: string, opts?: { query?: Record<string, string>; body?: unknown; contentType?: string }): { status: number; body: JsonObject };
}

export function harness(w: World, clock = new FakeClock()): Harness {
  const kubes: KubeCluster[] = [];
  const state = new SandboxState(w, clock, (s, c, spec) => {
    const k = createKubeCluster(s, c, spec);
    kubes.push(k);
    return k;
  });
  const kube = kubes[0];
  if (!kube) throw new Error('world has no cluster');
  return {
    state,
    clock,
    kube,
    call(method, path, opts = {}) {
      const routed = kube.route({
        method,
        path,
        query: new URLSearchParams(opts.query ?? {}),
        headers: opts.contentType ? { 'content-type': opts.contentType } : {},
        body: Buffer.from(opts.body === undefined ? '' : JSON.stringify(opts.body)),
      });
      const reply = routed.run();
      if (isStream(reply)) throw new Error('harness.call does not follow watches; start the stream from kube.route(...).run()');
      return { status: reply.status, body: JSON.parse(String(reply.body)) as JsonObject };
    },
  };
}

export function items(body: JsonObject): JsonObject[] {
  return (body.items as JsonObject[]) ?? [];
}

export function envOf(pod: JsonObject, container = 0): Record<string, string> {
  const c = ((pod.spec as JsonObject).containers as JsonObject[])[container] as JsonObject;
  return Object.fromEntries(((c.env as JsonObject[]) ?? []).map((e) => [String(e.name), String(e.value)]));
}
