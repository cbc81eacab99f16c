/**
 * A fleet run degrades, never aborts (issue 10): a cluster whose EKS or Kubernetes calls fail
 * past the retries becomes a cluster-level finding and the other clusters are scanned; a role
 * IAM throttles becomes ROLE_UNREADABLE; a run over one context still fails with the error.
 * collectFleet and analyzeFleet in-process, over in-memory ports (the end-to-end proof against
 * the sandbox is test/e2e/fleet.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf, PodidError, type ErrorCode } from '../../src/core/errors.js';
import type { EksPort, IamPort, KubePort, ScanPorts } from '../../src/core/ports.js';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import { collectFleet } from '../../src/core/scan/collect.js';
import type { ScanEvent } from '../../src/core/scan/events.js';
import type { RoleSnapshot } from '../../src/core/scan/snapshot.js';

const ACCOUNT = '111122223333';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;

interface Faults {
  /** Cluster name -> the EKS error its DescribeCluster gives. */
  eks?: Record<string, ErrorCode>;
  /** Context -> the Kubernetes error its pod list gives. */
  kube?: Record<string, ErrorCode>;
  /** IAM GetRole fails with this. */
  getRole?: ErrorCode;
}

function ports(faults: Faults = {}): ScanPorts {
  const fail = (code: ErrorCode, what: string) => Promise.reject(new PodidError(code, `${what} failed (${code})`, { hint: `fix ${code}` }));
  const eks: EksPort = {
    listClusters: async () => [],
    describeCluster: (name) =>
      faults.eks?.[name] !== undefined
        ? fail(faults.eks[name]!, 'eks:DescribeCluster')
        : Promise.resolve({ name, arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`, version: '1.30', platformVersion: 'eks.9', status: 'ACTIVE', endpoint: `https://${name}.example.com`, oidcIssuer: null, autoMode: false }),
    listAddons: async () => [],
    describeAddon: () => Promise.reject(new Error('unexpected')),
    describeAddonConfiguration: async () => null,
    listNodegroups: async () => [],
    describeNodegroup: () => Promise.reject(new Error('unexpected')),
    listFargateProfiles: async () => [],
    describeFargateProfile: () => Promise.reject(new Error('unexpected')),
    listPodIdentityAssociations: async () => [],
    describePodIdentityAssociation: () => Promise.reject(new Error('unexpected')),
  };
  const iam: IamPort = {
    getRole: (arn) => (faults.getRole ? fail(faults.getRole, 'iam:GetRole') : Promise.resolve({ arn, state: 'found', trustPolicy: { Version: '2012-10-17', Statement: [] }, error: null } satisfies RoleSnapshot)),
    listRoles: async () => [],
    listRoleDetails: async () => [],
    listAttachedRolePolicies: async () => [],
    listRolePolicies: async () => [],
    getRolePolicy: async () => ({}),
    getPolicyDocument: async () => ({}),
  };
  const kube = (context: string): KubePort => ({
    context,
    listServiceAccounts: async () => [{ namespace: 'shop', name: 'cart', uid: 'u', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': ROLE } }],
    listPods: () => (faults.kube?.[context] !== undefined ? fail(faults.kube[context]!, 'list pods') : Promise.resolve([])),
    listDeployments: async () => [],
    listReplicaSets: async () => [],
    listStatefulSets: async () => [],
    listDaemonSets: async () => [],
    listJobs: async () => [],
    listCronJobs: async () => [],
    listNodes: async () => [],
  });
  return { sts: { getCallerIdentity: async () => ({ account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci` }) }, iam, eks: () => eks, kube };
}

const target = (name: string) => ({ context: `ctx-${name}`, server: `https://${name}.example.com`, clusterName: name, region: 'us-east-1' });
const FLEET = [target('a'), target('b'), target('c')];
const now = new Date('2026-12-04T00:00:00Z');

describe('a fleet run with one cluster failing', () => {
  it.each([
    ['EKS throttled past the retries', 'CLUSTER_THROTTLED', { eks: { b: 'AWS_THROTTLED' } }],
    ['EKS denied', 'CLUSTER_ACCESS_DENIED', { eks: { b: 'AWS_ACCESS_DENIED' } }],
    ['EKS unreachable', 'CLUSTER_UNREACHABLE', { eks: { b: 'AWS_UNREACHABLE' } }],
    ['the cluster is gone', 'CLUSTER_NOT_FOUND', { eks: { b: 'CLUSTER_NOT_FOUND' } }],
    ['Kubernetes forbidden', 'CLUSTER_ACCESS_DENIED', { kube: { 'ctx-b': 'KUBE_FORBIDDEN' } }],
    ['Kubernetes throttled past the retries', 'CLUSTER_THROTTLED', { kube: { 'ctx-b': 'KUBE_THROTTLED' } }],
    ['Kubernetes unreachable', 'CLUSTER_UNREACHABLE', { kube: { 'ctx-b': 'KUBE_UNREACHABLE' } }],
    ['Kubernetes failing otherwise', 'CLUSTER_SCAN_FAILED', { kube: { 'ctx-b': 'KUBE_ERROR' } }],
  ] as const)('%s: the others are scanned, the cluster is one %s finding naming the context, the call and the fix', async (_what, code, faults) => {
    const events: ScanEvent[] = [];
    const snap = await collectFleet(FLEET, ports(faults as Faults), { trustPolicyLimit: 2048, onEvent: (e) => events.push(e) });
    expect(snap.clusters.map((c) => c.name)).toEqual(['a', 'c']);
    expect(snap.unscanned).toHaveLength(1);
    const inv = analyzeFleet(snap, { now });
    expect(inv.serviceAccounts.map((s) => s.cluster)).toEqual([`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/a`, `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/c`]);
    const b = inv.clusters.find((c) => c.context === 'ctx-b')!;
    expect(b).toMatchObject({ scanned: false, readiness: 'blocked', name: 'b', region: 'us-east-1', endpoint: 'https://b.example.com' });
    expect(b.findings).toEqual([{ code, severity: 'error', message: expect.stringMatching(/^context ctx-b was not scanned: .* failed \(/), fix: expect.stringMatching(/^fix /) }]);
    expect(events.filter((e) => e.type === 'cluster-failed')).toEqual([expect.objectContaining({ context: 'ctx-b' })]);
  });

  it('a context whose server is not its cluster endpoint is one CLUSTER_ENDPOINT_MISMATCH finding', async () => {
    const snap = await collectFleet([target('a'), { ...target('b'), server: 'https://a.example.com' }], ports(), { trustPolicyLimit: 2048 });
    const b = analyzeFleet(snap, { now }).clusters.find((c) => c.context === 'ctx-b')!;
    expect(b.findings.map((f) => f.code)).toEqual(['CLUSTER_ENDPOINT_MISMATCH']);
    expect(b.findings[0]!.message).toContain('talks to https://a.example.com, but EKS cluster b');
  });

  it('a bug (not a PodidError) still stops the run', async () => {
    const p = ports();
    p.kube = () => ({ ...ports().kube('x'), listPods: () => Promise.reject(new TypeError('boom')) });
    await expect(collectFleet(FLEET, p, { trustPolicyLimit: 2048 })).rejects.toBeInstanceOf(TypeError);
  });

  it('one context alone fails with its error (exit 6), not a finding', async () => {
    const err = await collectFleet([target('b')], ports({ eks: { b: 'AWS_THROTTLED' } }), { trustPolicyLimit: 2048 }).catch((e: unknown) => e);
    expect((err as PodidError).code).toBe('AWS_THROTTLED');
    expect(exitCodeOf(err)).toBe(ExitCode.environment);
  });

  it('the caller is identified while the clusters are described, and nothing is listed before the answer', async () => {
    const p = ports();
    const order: string[] = [];
    let answer!: () => void;
    p.sts = { getCallerIdentity: () => new Promise((resolve) => (answer = () => resolve({ account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci` }))) };
    const eks = p.eks('us-east-1');
    p.eks = () => ({ ...eks, describeCluster: (name) => (order.push(`describe ${name}`), eks.describeCluster(name)) });
    const kube = p.kube;
    p.kube = (context) => ({ ...kube(context), listServiceAccounts: (each) => (order.push(`list ${context}`), kube(context).listServiceAccounts(each)) });
    const run = collectFleet(FLEET, p, { trustPolicyLimit: 2048 });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['describe a', 'describe b', 'describe c']);
    answer();
    const snap = await run;
    expect(order.slice(3).sort()).toEqual(['list ctx-a', 'list ctx-b', 'list ctx-c']);
    expect(snap.caller.account).toBe(ACCOUNT);
  });

  it.each([
    ['a fleet', FLEET],
    ['one context', [target('b')]],
  ])('in %s, an STS failure fails the run with its own error, even when a cluster failed first', async (_what, targets) => {
    const p = ports({ eks: { b: 'AWS_UNREACHABLE' } });
    const events: ScanEvent[] = [];
    p.sts = { getCallerIdentity: () => new Promise((_, reject) => setTimeout(() => reject(new PodidError('AWS_CREDENTIALS_INVALID', 'sts:GetCallerIdentity failed (AWS_CREDENTIALS_INVALID)')), 10)) };
    const err = await collectFleet(targets, p, { trustPolicyLimit: 2048, onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect((err as PodidError).code).toBe('AWS_CREDENTIALS_INVALID');
    expect(events.filter((e) => e.type === 'cluster-failed' || e.type === 'cluster-reading')).toEqual([]);
  });

  it('contexts the caller could not resolve are reported beside the scanned ones', async () => {
    const unresolved = [{ context: 'kind', clusterName: null, region: null, server: 'https://127.0.0.1:6443', error: { code: 'CONTEXT_CLUSTER_UNKNOWN' as const, message: 'not EKS', hint: 'pass --cluster' } }];
    const snap = await collectFleet([target('a')], ports(), { trustPolicyLimit: 2048, unresolved });
    const inv = analyzeFleet(snap, { now });
    expect(inv.clusters.map((c) => [c.context, c.scanned ?? true])).toEqual([['ctx-a', true], ['kind', false]]);
    expect(inv.clusters[1]!.findings).toEqual([{ code: 'NOT_AN_EKS_CONTEXT', severity: 'error', message: 'context kind was not scanned: not EKS', fix: 'pass --cluster' }]);
  });
});

describe('IAM failing on one role', () => {
  it.each(['AWS_THROTTLED', 'AWS_UNREACHABLE', 'AWS_ERROR'] as const)('%s on GetRole makes the role unreadable (ROLE_UNREADABLE), not the run', async (code) => {
    const snap = await collectFleet([target('a')], ports({ getRole: code }), { trustPolicyLimit: 2048 });
    expect(snap.roles[ROLE]).toMatchObject({ state: 'unreadable', error: `iam:GetRole failed (${code})` });
    const inv = analyzeFleet(snap, { now });
    expect(inv.serviceAccounts[0]!.findings.map((f) => f.code)).toContain('ROLE_UNREADABLE');
  });
});
