import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import type { ClusterReport } from '../../src/core/scan/inventory.js';
import type { FindingCode } from '../../src/core/scan/findings.js';
import { ASSOCIATION_QUOTA, checkVersions } from '../../src/core/scan/readiness.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import { ACCOUNT, NODE_ROLE, agentAddon, baseFleet, pod, prod, roleArn } from './analyze-snapshot.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const clusterReport = (s: FleetSnapshot): ClusterReport => {
  const c = analyzeFleet(s, { now: NOW }).clusters[0];
  if (c === undefined) throw new Error('no cluster');
  return c;
};

describe('checkVersions', () => {
  const cases: [string, string, ReturnType<typeof checkVersions>['kind']][] = [
    ['1.23', 'eks.20', 'too-old'],
    ['1.24', 'eks.12', 'platform-too-old'],
    ['1.24', 'eks.13', 'ok'],
    ['1.25', 'eks.9', 'platform-too-old'],
    ['1.25', 'eks.10', 'ok'],
    ['1.26', 'eks.8', 'platform-too-old'],
    ['1.26', 'eks.9', 'ok'],
    ['1.27', 'eks.7', 'platform-too-old'],
    ['1.27', 'eks.8', 'ok'],
    ['1.28', 'eks.3', 'platform-too-old'],
    ['1.28', 'eks.4', 'ok'],
    // Not in the user guide's table: every platform version supports Pod Identity.
    ['1.29', 'eks.0', 'ok'],
    ['1.29', 'eks.1', 'ok'],
    ['1.30', 'eks.1', 'ok'],
    ['1.31', 'eks.3', 'ok'],
    ['1.32', 'eks.1', 'ok'],
    ['1.33', 'whatever', 'ok'],
    ['1.28', 'eks.10', 'ok'],
    ['1.28', 'weird', 'unknown'],
    ['1.29', 'weird', 'ok'],
    ['latest', 'eks.1', 'unknown'],
  ];
  it.each(cases)('%s %s -> %s', (version, platform, kind) => {
    expect(checkVersions(version, platform).kind).toBe(kind);
  });
});

interface Case {
  name: string;
  mutate: (s: FleetSnapshot) => void;
  codes: FindingCode[];
  readiness: ClusterReport['readiness'];
}

describe('analyzeFleet: cluster readiness', () => {
  const cases: Case[] = [
    { name: 'a healthy cluster', mutate: () => {}, codes: [], readiness: 'ready' },
    { name: 'Kubernetes 1.23', mutate: (s) => (prod(s).version = '1.23'), codes: ['CLUSTER_VERSION_UNSUPPORTED'], readiness: 'blocked' },
    { name: '1.28 eks.3', mutate: (s) => Object.assign(prod(s), { version: '1.28', platformVersion: 'eks.3' }), codes: ['CLUSTER_PLATFORM_VERSION_UNSUPPORTED'], readiness: 'blocked' },
    { name: 'an unrecognised platform version of a listed Kubernetes version', mutate: (s) => Object.assign(prod(s), { version: '1.28', platformVersion: 'custom' }), codes: ['CLUSTER_VERSION_UNKNOWN'], readiness: 'ready-with-warnings' },
    { name: 'any platform version of a Kubernetes version the user guide does not list', mutate: (s) => Object.assign(prod(s), { version: '1.29', platformVersion: 'eks.0' }), codes: [], readiness: 'ready' },
    { name: 'a cluster being updated', mutate: (s) => (prod(s).status = 'UPDATING'), codes: ['CLUSTER_NOT_ACTIVE'], readiness: 'ready-with-warnings' },
    {
      name: 'a China region',
      mutate: (s) => Object.assign(prod(s), { region: 'cn-north-1', partition: 'aws-cn', arn: `arn:aws-cn:eks:cn-north-1:${ACCOUNT}:cluster/prod` }),
      codes: ['CLUSTER_REGION_UNSUPPORTED'],
      readiness: 'blocked',
    },
    { name: 'no OIDC issuer', mutate: (s) => (prod(s).oidcIssuer = null), codes: ['CLUSTER_NO_OIDC_ISSUER'], readiness: 'ready' },
    { name: 'no agent add-on', mutate: (s) => (prod(s).addons = []), codes: ['AGENT_MISSING'], readiness: 'ready-with-warnings' },
    {
      name: 'Auto Mode with only Auto Mode nodes',
      mutate: (s) => {
        const c = prod(s);
        Object.assign(c, { addons: [], autoMode: true, nodegroups: [] });
        c.kube.nodes = [{ name: 'i-auto', os: 'linux', computeType: 'auto', nodegroup: null }];
        c.kube.pods = [];
      },
      codes: [],
      readiness: 'ready',
    },
    {
      name: 'Auto Mode plus managed nodes without the add-on',
      mutate: (s) => {
        const c = prod(s);
        Object.assign(c, { addons: [], autoMode: true });
        c.kube.nodes.push({ name: 'i-auto', os: 'linux', computeType: 'auto', nodegroup: null });
      },
      codes: ['AGENT_MISSING'],
      readiness: 'ready-with-warnings',
    },
    { name: 'a degraded agent add-on', mutate: (s) => (prod(s).addons = [agentAddon('DEGRADED')]), codes: ['AGENT_NOT_ACTIVE'], readiness: 'blocked' },
    {
      name: 'an agent pod missing on one node',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.filter((p) => p.name !== 'eks-pod-identity-agent-1');
      },
      codes: ['AGENT_NOT_READY'],
      readiness: 'blocked',
    },
    {
      name: 'an agent pod not running',
      mutate: (s) => {
        const p = prod(s).kube.pods.find((x) => x.name === 'eks-pod-identity-agent-0');
        if (p) p.phase = 'Pending';
      },
      codes: ['AGENT_NOT_READY'],
      readiness: 'blocked',
    },
    {
      name: 'pods already on Pod Identity with no agent add-on',
      mutate: (s) => {
        const c = prod(s);
        c.addons = [];
        c.kube.pods = c.kube.pods.filter((p) => p.owner?.kind !== 'DaemonSet');
        c.kube.pods.push(pod('shop', 'cart-0', 'cart', 'pod-identity', { nodeName: 'ip-10-0-0-1' }), pod('shop', 'cart-1', 'cart', 'pod-identity', { phase: 'Succeeded' }));
      },
      codes: ['AGENT_MISSING', 'POD_IDENTITY_PODS_WITHOUT_AGENT'],
      readiness: 'ready-with-warnings',
    },
    {
      name: 'a pod on Pod Identity on the one node the agent is missing from',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.filter((p) => p.name !== 'eks-pod-identity-agent-1');
        const stranded = c.kube.nodes[1]?.name ?? 'none';
        c.kube.pods.push(pod('shop', 'cart-0', 'cart', 'pod-identity', { nodeName: stranded }), pod('shop', 'cart-1', 'cart', 'pod-identity', { nodeName: stranded, terminating: true }));
      },
      codes: ['AGENT_NOT_READY', 'POD_IDENTITY_PODS_WITHOUT_AGENT'],
      readiness: 'blocked',
    },
    {
      name: 'pods on Pod Identity where the agent runs, and IRSA pods where it does not',
      mutate: (s) => {
        const c = prod(s);
        c.kube.pods = c.kube.pods.filter((p) => p.name !== 'eks-pod-identity-agent-1');
        c.kube.pods.push(pod('shop', 'cart-0', 'cart', 'pod-identity', { nodeName: c.kube.nodes[0]?.name ?? 'none' }), pod('shop', 'cart-1', 'cart', 'irsa', { nodeName: c.kube.nodes[1]?.name ?? 'none' }));
      },
      codes: ['AGENT_NOT_READY'],
      readiness: 'blocked',
    },
    {
      name: 'Fargate and Windows nodes need no agent',
      mutate: (s) => {
        prod(s).kube.nodes.push(
          { name: 'fargate-ip-1', os: 'linux', computeType: 'fargate', nodegroup: null },
          { name: 'win-1', os: 'windows', computeType: 'ec2', nodegroup: 'ng-win' },
        );
      },
      codes: [],
      readiness: 'ready',
    },
    {
      name: 'a node role without the permission',
      mutate: (s) => (s.nodeRoles[NODE_ROLE] = { arn: NODE_ROLE, allowsAssumeRoleForPodIdentity: false, detail: 'no policy grants it' }),
      codes: ['NODE_ROLE_MISSING_PERMISSION'],
      readiness: 'blocked',
    },
    {
      name: 'a node role that could not be read',
      mutate: (s) => (s.nodeRoles[NODE_ROLE] = { arn: NODE_ROLE, allowsAssumeRoleForPodIdentity: null, detail: 'AccessDenied on iam:ListAttachedRolePolicies' }),
      codes: ['NODE_ROLE_UNCHECKED'],
      readiness: 'ready-with-warnings',
    },
    { name: 'a node role the scan did not check', mutate: (s) => (s.nodeRoles = {}), codes: ['NODE_ROLE_UNCHECKED'], readiness: 'ready-with-warnings' },
    {
      name: 'a Windows node group role is not checked',
      mutate: (s) => prod(s).nodegroups.push({ name: 'ng-win', nodeRole: roleArn('win-node'), amiType: 'WINDOWS_CORE_2022_x86_64', status: 'ACTIVE' }),
      codes: [],
      readiness: 'ready',
    },
    {
      name: 'the association quota would be exceeded',
      mutate: (s) => {
        const c = prod(s);
        c.associations = Array.from({ length: ASSOCIATION_QUOTA }, (_, i) => ({
          associationId: `a-${i}`, associationArn: `x/${i}`, namespace: 'ns', serviceAccount: `sa-${i}`, roleArn: roleArn('r'), targetRoleArn: null, ownerArn: null,
        }));
      },
      codes: ['ASSOCIATION_QUOTA_EXCEEDED'],
      readiness: 'ready-with-warnings',
    },
  ];

  it.each(cases)('$name -> $readiness', (c) => {
    const s = baseFleet();
    c.mutate(s);
    const r = clusterReport(s);
    expect(r.findings.map((f) => f.code).sort()).toEqual([...c.codes].sort());
    expect(r.readiness).toBe(c.readiness);
  });

  it('does not count the quota against service accounts that already have an association', () => {
    const s = baseFleet();
    const c = prod(s);
    c.associations = Array.from({ length: ASSOCIATION_QUOTA }, (_, i) => ({
      associationId: `a-${i}`, associationArn: `x/${i}`, namespace: i === 0 ? 'shop' : 'ns', serviceAccount: i === 0 ? 'cart' : `sa-${i}`, roleArn: roleArn('cart'), targetRoleArn: null, ownerArn: null,
    }));
    expect(clusterReport(s).findings).toEqual([]);
    expect(clusterReport(s).associations).toEqual({ count: ASSOCIATION_QUOTA, quota: ASSOCIATION_QUOTA });
  });

  it('reports the agent and names the nodes it is missing on', () => {
    const s = baseFleet();
    prod(s).kube.nodes.push({ name: 'ip-10-0-0-3', os: 'linux', computeType: 'ec2', nodegroup: 'ng-linux' });
    const r = clusterReport(s);
    expect(r.agent).toEqual({ source: 'addon', addonVersion: 'v1.3.4-eksbuild.1', addonStatus: 'ACTIVE', nodesReady: 2, nodesTotal: 3 });
    expect(r.findings[0]?.message).toContain('ip-10-0-0-3');
  });

  it('names the nodes without an agent and the running Pod Identity pods on them, never a terminating or finished one', () => {
    const s = baseFleet();
    const c = prod(s);
    c.kube.pods = c.kube.pods.filter((p) => p.name !== 'eks-pod-identity-agent-1');
    c.kube.pods.push(
      pod('shop', 'cart-0', 'cart', 'pod-identity', { nodeName: 'ip-10-0-0-2' }),
      pod('shop', 'cart-1', 'cart', 'pod-identity', { nodeName: 'ip-10-0-0-2', terminating: true }),
      pod('shop', 'cart-2', 'cart', 'pod-identity', { nodeName: 'ip-10-0-0-2', phase: 'Succeeded' }),
      pod('shop', 'cart-3', 'cart', 'pod-identity', { nodeName: 'ip-10-0-0-1' }),
    );
    const f = clusterReport(s).findings.find((x) => x.code === 'POD_IDENTITY_PODS_WITHOUT_AGENT');
    expect(f?.severity).toBe('warning');
    expect(f?.message).toBe(
      '1 running pod has Pod Identity credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI) on 1 node where no eks-pod-identity-agent runs (ip-10-0-0-2): their AWS SDKs get no credentials there (shop/cart-0)',
    );
  });

  it('counts Auto Mode nodes as covered by the built-in agent', () => {
    const s = baseFleet();
    const c = prod(s);
    Object.assign(c, { addons: [], autoMode: true });
    c.kube.nodes = [{ name: 'i-auto-1', os: 'linux', computeType: 'auto', nodegroup: null }];
    expect(clusterReport(s).agent).toEqual({ source: 'auto-mode', addonVersion: null, addonStatus: null, nodesReady: 1, nodesTotal: 1 });
  });

  it('ignores agent pods of another DaemonSet or namespace', () => {
    const s = baseFleet();
    const c = prod(s);
    c.kube.pods = [
      pod('default', 'eks-pod-identity-agent-0', 'x', 'none', { nodeName: 'ip-10-0-0-1', owner: { kind: 'DaemonSet', name: 'eks-pod-identity-agent' } }),
      pod('kube-system', 'impostor', 'x', 'none', { nodeName: 'ip-10-0-0-2', owner: { kind: 'DaemonSet', name: 'something-else' } }),
    ];
    expect(clusterReport(s).agent.nodesReady).toBe(0);
  });

  it('lists a node role once with all its node groups', () => {
    const s = baseFleet();
    prod(s).nodegroups.push({ name: 'ng-b', nodeRole: NODE_ROLE, amiType: 'AL2023_ARM_64_STANDARD', status: 'ACTIVE' });
    s.nodeRoles[NODE_ROLE] = { arn: NODE_ROLE, allowsAssumeRoleForPodIdentity: false, detail: '' };
    const f = clusterReport(s).findings;
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('ng-b, ng-linux');
  });

  it('lists errors before warnings before infos', () => {
    const s = baseFleet();
    Object.assign(prod(s), { oidcIssuer: null, status: 'UPDATING', version: '1.23' });
    expect(clusterReport(s).findings.map((f) => f.severity)).toEqual(['error', 'warning', 'info']);
  });
});
