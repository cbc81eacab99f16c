/**
 * The collector end to end over the real SDK clients and the real Kubernetes client, against the
 * sandbox running examples/world.yaml: what it reads, and how it reads it (call counts).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { kubeconfigFromString, resolveTargets } from '../../src/adapters/kubeconfig.js';
import { createScanPorts } from '../../src/adapters/scan-ports.js';
import { UsageError } from '../../src/core/errors.js';
import { collectFleet } from '../../src/core/scan/collect.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { clearSandboxCalls, sandboxCalls } from '../helpers/cli.js';
import { SANDBOX_CREDENTIALS, sandboxFrom } from '../helpers/sandbox.js';

const WORLD = readFileSync(new URL('../../examples/world.yaml', import.meta.url), 'utf8');
const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const STAGING = 'arn:aws:eks:us-east-1:111122223333:cluster/staging';
const KINDS = ['serviceaccounts', 'pods', 'nodes', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function scan(sb: Sandbox, kubeconfigText = sb.kubeconfig(), opts: { namespaces?: string[]; listRolesThreshold?: number } = {}): Promise<FleetSnapshot> {
  const kubeconfig = await kubeconfigFromString(kubeconfigText);
  const targets = resolveTargets(kubeconfig, { allContexts: true });
  const ports = await createScanPorts({
    aws: { endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1', requestTimeoutMs: 5_000 },
    kubeconfig,
    kube: { pageSize: 5, requestTimeoutMs: 5_000 },
  });
  return collectFleet(targets, ports, { trustPolicyLimit: 2048, ...opts });
}

describe('collectFleet against the sandbox (examples/world.yaml)', () => {
  it('reads both clusters, read-only, one list per Kubernetes kind per cluster, shared roles once', async () => {
    // The world's pre-existing association (shop/checkout) has propagated before its pods were
    // made, even with associationPropagationMs > 0 in examples/world.yaml.
    sandbox = await sandboxFrom(WORLD);
    const snap = await scan(sandbox);

    expect(snap.caller.account).toBe('111122223333');
    expect(snap.clusters.map((c) => c.arn).sort()).toEqual([PROD, STAGING]);
    const prod = snap.clusters.find((c) => c.arn === PROD)!;
    const staging = snap.clusters.find((c) => c.arn === STAGING)!;

    expect(prod).toMatchObject({ context: PROD, name: 'prod', account: '111122223333', region: 'us-east-1', partition: 'aws', version: '1.30', platformVersion: 'eks.9' });
    expect(prod.endpoint).toBe(`${sandbox.endpoint}/k8s/111122223333/us-east-1/prod`);
    expect(prod.oidcIssuer).toMatch(/^https:\/\/oidc\.eks\.us-east-1\.amazonaws\.com\/id\//);
    expect(staging).toMatchObject({ version: '1.28', platformVersion: 'eks.3' });

    // Add-ons: only the IRSA one has its Pod Identity configuration read.
    const vpcCni = prod.addons.find((a) => a.name === 'vpc-cni')!;
    expect(vpcCni.serviceAccountRoleArn).toBe('arn:aws:iam::111122223333:role/prod-vpc-cni');
    expect(vpcCni.podIdentityConfiguration).toEqual([{ serviceAccount: 'aws-node', recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'] }]);
    expect(prod.addons.find((a) => a.name === 'coredns')?.podIdentityConfiguration).toBeNull();

    expect(prod.nodegroups.map((n) => n.name).sort()).toEqual(['ng-linux', 'ng-windows']);
    expect(prod.fargateProfiles).toEqual([{ name: 'fp-batch', selectors: [{ namespace: 'batch', labels: {} }] }]);
    expect(prod.associations).toEqual([
      expect.objectContaining({ namespace: 'shop', serviceAccount: 'checkout', roleArn: 'arn:aws:iam::111122223333:role/checkout', ownerArn: null }),
    ]);

    // Kubernetes objects, slimmed.
    const cart = prod.kube.serviceAccounts.find((s) => s.namespace === 'shop' && s.name === 'cart')!;
    expect(cart.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/cart' });
    expect(cart.uid).not.toBe('');
    const kinds = new Set(prod.kube.workloads.map((w) => w.kind));
    expect([...kinds].sort()).toEqual(['CronJob', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet']);
    expect(prod.kube.workloads.find((w) => w.kind === 'Deployment' && w.name === 'cart')).toMatchObject({ serviceAccount: 'cart', replicas: 3, templateLabels: { app: 'cart' } });
    const cartPods = prod.kube.pods.filter((p) => p.namespace === 'shop' && p.serviceAccount === 'cart');
    expect(cartPods).toHaveLength(3);
    expect(cartPods.every((p) => p.identity === 'irsa')).toBe(true);
    const checkoutPods = prod.kube.pods.filter((p) => p.namespace === 'shop' && p.serviceAccount === 'checkout');
    expect(checkoutPods.length).toBeGreaterThan(0);
    expect(checkoutPods.every((p) => p.identity === 'pod-identity')).toBe(true);
    expect(prod.kube.pods.find((p) => p.name === 'toolbox')).toMatchObject({ owner: null, serviceAccount: 'debug-tools' });
    expect(prod.kube.nodes.some((n) => n.os === 'windows' && n.nodegroup === 'ng-windows' && n.computeType === 'ec2')).toBe(true);
    expect(staging.kube.workloads.some((w) => w.kind === 'Job' && w.name === 'legacy-sync-backfill')).toBe(true);

    // IAM: roles keyed by normalised ARN (the trailing space of legacy-sync is trimmed).
    expect(snap.roles['arn:aws:iam::111122223333:role/external-dns']?.state).toBe('found');
    expect(snap.roles['arn:aws:iam::111122223333:role/legacy-sync']?.state).toBe('found');
    expect(snap.roles['arn:aws:iam::444455556666:role/data-lake-writer']?.state).toBe('unreadable');
    expect(snap.roles['arn:aws:iam::111122223333:role/cart']?.trustPolicy).toMatchObject({ Version: '2012-10-17' });
    expect(snap.nodeRoles['arn:aws:iam::111122223333:role/prod-eks-node']).toMatchObject({ allowsAssumeRoleForPodIdentity: true });

    const log = await sandboxCalls(sandbox);
    expect(log.filter((c) => c.mutating)).toEqual([]);
    for (const cluster of ['prod', 'staging']) {
      for (const kind of KINDS) {
        // pageSize 5 splits big lists into pages (exactly-one is asserted below with the default page size).
        const lists = log.filter((c) => c.service === `k8s:${cluster}` && c.operation === `list:${kind}`);
        expect(lists.length, `${cluster} list:${kind}`).toBeGreaterThanOrEqual(1);
      }
      expect(log.filter((c) => c.service === `k8s:${cluster}` && !c.operation.startsWith('list:'))).toEqual([]);
    }
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'GetRole')).toHaveLength(Object.keys(snap.roles).length - 1 /* cross-account: not called */);
    // Node roles: prod's and staging's share AmazonEC2ContainerRegistryReadOnly; each policy document is read once.
    expect(snap.nodeRoles['arn:aws:iam::111122223333:role/staging-eks-node']).toMatchObject({ allowsAssumeRoleForPodIdentity: false });
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'GetPolicy')).toHaveLength(4);
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'GetPolicyVersion')).toHaveLength(4);
    expect(log.filter((c) => c.service === 'sts' && c.operation === 'GetCallerIdentity')).toHaveLength(1);
  });

  it('makes exactly one list call per kind per cluster when a page holds everything', async () => {
    sandbox = await sandboxFrom(WORLD);
    const kubeconfig = await kubeconfigFromString(sandbox.kubeconfig());
    const ports = await createScanPorts({
      aws: { endpoint: sandbox.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1' },
      kubeconfig,
    });
    await collectFleet(resolveTargets(kubeconfig, { allContexts: true }), ports, { trustPolicyLimit: 2048 });
    const log = await sandboxCalls(sandbox);
    for (const cluster of ['prod', 'staging']) {
      for (const kind of KINDS) {
        expect(log.filter((c) => c.service === `k8s:${cluster}` && c.operation === `list:${kind}`), `${cluster} ${kind}`).toHaveLength(1);
      }
    }
    // external-dns is annotated in both clusters: GetRole once for the run.
    // (GetRole calls are logged without their role name, so compare the total with distinct roles.)
    const getRoles = log.filter((c) => c.service === 'iam' && c.operation === 'GetRole').length;
    const state = (await (await fetch(`${sandbox.endpoint}/_sandbox/state`)).json()) as { clusters: { objects: { kind: string; metadata: { annotations?: Record<string, string> } }[] }[] };
    const annotated = new Set<string>();
    for (const c of state.clusters) {
      for (const o of c.objects) {
        const v = o.kind === 'ServiceAccount' ? o.metadata.annotations?.['eks.amazonaws.com/role-arn'] : undefined;
        if (v !== undefined && v.trim().split(':')[4] === '111122223333') annotated.add(v.trim());
      }
    }
    expect(annotated.has('arn:aws:iam::111122223333:role/external-dns')).toBe(true);
    expect(getRoles).toBe(annotated.size);
  });

  it('reads many roles with GetAccountAuthorizationDetails and reports exactly what GetRole does, permissions boundaries included', async () => {
    const world = parse(WORLD) as { iam: { roles: { name: string; permissionsBoundary?: string }[] } };
    // external-dns: a role a service account of the world is annotated with.
    world.iam.roles.find((r) => r.name === 'external-dns')!.permissionsBoundary = 'arn:aws:iam::111122223333:policy/team-boundary';
    sandbox = await sandboxFrom(world);
    const byGetRole = await scan(sandbox);
    await fetch(`${sandbox.endpoint}/_sandbox/calls`, { method: 'DELETE' });
    const byListing = await scan(sandbox, sandbox.kubeconfig(), { listRolesThreshold: 0 });
    expect(byListing.roles).toEqual(byGetRole.roles);
    expect(Object.values(byListing.roles).some((r) => r.permissionsBoundary === 'arn:aws:iam::111122223333:policy/team-boundary')).toBe(true);
    expect(byListing.boundariesUnknown).toBeUndefined();
    const log = await sandboxCalls(sandbox);
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'GetAccountAuthorizationDetails')).toHaveLength(1);
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'ListRoles')).toHaveLength(0);
    // GetRole only for the referenced roles IAM does not have (the listing cannot vouch for them).
    const missing = Object.values(byGetRole.roles).filter((r) => r.state === 'missing').length;
    expect(log.filter((c) => c.service === 'iam' && c.operation === 'GetRole')).toHaveLength(missing);
  });

  it('with GetAccountAuthorizationDetails denied, lists roles with ListRoles and counts the roles whose boundary is unknown', async () => {
    const world = parse(WORLD) as Record<string, unknown>;
    world['caller'] = { arn: 'arn:aws:iam::111122223333:user/ci', allow: ['sts:*', 'eks:Describe*', 'eks:List*', 'iam:GetRole', 'iam:ListRoles', 'iam:List*Policies', 'iam:GetPolicy*', 'iam:GetRolePolicy'] };
    sandbox = await sandboxFrom(world);
    const byGetRole = await scan(sandbox);
    const byListRoles = await scan(sandbox, sandbox.kubeconfig(), { listRolesThreshold: 0 });
    const withoutBoundary = (roles: typeof byGetRole.roles) => Object.fromEntries(Object.entries(roles).map(([k, { permissionsBoundary: _b, ...r }]) => [k, r]));
    expect(withoutBoundary(byListRoles.roles)).toEqual(withoutBoundary(byGetRole.roles));
    const listed = Object.values(byListRoles.roles).filter((r) => r.state === 'found' && r.permissionsBoundary === undefined);
    expect(listed.length).toBeGreaterThan(0);
    expect(byListRoles.boundariesUnknown).toEqual({ roles: listed.length, reason: expect.stringContaining('iam:GetAccountAuthorizationDetails') });
  });

  it('pages through lists with limit/continue and returns every object', async () => {
    sandbox = await sandboxFrom(WORLD);
    const small = await scan(sandbox);
    const state = (await (await fetch(`${sandbox.endpoint}/_sandbox/state`)).json()) as { clusters: { name: string; objects: { kind: string }[] }[] };
    const prodState = state.clusters.find((c) => c.name === 'prod')!;
    const prod = small.clusters.find((c) => c.name === 'prod')!;
    expect(prod.kube.pods).toHaveLength(prodState.objects.filter((o) => o.kind === 'Pod').length);
    expect(prod.kube.serviceAccounts).toHaveLength(prodState.objects.filter((o) => o.kind === 'ServiceAccount').length);
    const log = await sandboxCalls(sandbox);
    expect(log.filter((c) => c.service === 'k8s:prod' && c.operation === 'list:pods').length).toBeGreaterThan(1);
  });

  it('scopes to namespaces after listing, without per-namespace calls', async () => {
    sandbox = await sandboxFrom(WORLD);
    const snap = await scan(sandbox, sandbox.kubeconfig(), { namespaces: ['shop'] });
    for (const c of snap.clusters) {
      expect(c.kube.serviceAccounts.every((s) => s.namespace === 'shop')).toBe(true);
      // Out of scope, only the Pod Identity Agent's pods stay: readiness counts the nodes they cover.
      const agentPod = (p: { namespace: string; owner: { kind: string; name: string } | null }) =>
        p.namespace === 'kube-system' && p.owner?.kind === 'DaemonSet' && p.owner.name === 'eks-pod-identity-agent';
      expect(c.kube.pods.every((p) => p.namespace === 'shop' || agentPod(p))).toBe(true);
      expect(c.kube.nodes.length).toBeGreaterThan(0);
    }
    // prod runs the agent on each of its 3 Linux nodes; staging has none.
    const prod = snap.clusters.find((c) => c.arn === PROD)!;
    expect(prod.kube.pods.filter((p) => p.namespace === 'kube-system' && p.owner?.name === 'eks-pod-identity-agent' && p.phase === 'Running')).toHaveLength(3);
    expect(prod.kube.pods.some((p) => p.namespace === 'kube-system' && p.owner?.name !== 'eks-pod-identity-agent')).toBe(false);
    expect(snap.roles['arn:aws:iam::111122223333:role/external-dns']).toBeUndefined();
    expect(snap.roles['arn:aws:iam::111122223333:role/cart']).toBeDefined();
  });

  it('does not scan a context whose server is not the cluster endpoint: a finding in a fleet run, exit 2 alone', async () => {
    sandbox = await sandboxFrom(WORLD);
    const config = parse(sandbox.kubeconfig()) as { clusters: { name: string; cluster: { server: string } }[] };
    const staging = config.clusters.find((c) => c.name === STAGING)!;
    // Staging's context now talks to prod's API server.
    staging.cluster.server = `${sandbox.endpoint}/k8s/111122223333/us-east-1/prod`;
    const snap = await scan(sandbox, stringify(config));
    expect(snap.clusters.map((c) => c.context)).not.toContain(STAGING);
    expect(snap.unscanned).toEqual([expect.objectContaining({ context: STAGING, error: expect.objectContaining({ code: 'CONTEXT_ENDPOINT_MISMATCH', message: expect.stringContaining(STAGING) }) })]);
    const kubeconfig = await kubeconfigFromString(stringify(config));
    const ports = await createScanPorts({ aws: { endpoint: sandbox.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1' }, kubeconfig });
    await clearSandboxCalls(sandbox);
    const err = await collectFleet(resolveTargets(kubeconfig, { contexts: [STAGING] }), ports, { trustPolicyLimit: 2048 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CONTEXT_ENDPOINT_MISMATCH');
    // Refused before anything of Kubernetes is read through the wrong server.
    const log = await sandboxCalls(sandbox);
    expect(log.filter((c) => c.service.startsWith('k8s:'))).toEqual([]);
  });

  // The throttled calls are mostly waiting out the retry back-off: each on its own sandbox, at once.
  // (The hung requests below run alone: their 300 ms timeouts must not meet a busy event loop.)
  it.concurrent('retries a throttled iam:GetRole and still succeeds', async ({ expect }) => {
    const world = parse(WORLD) as Record<string, unknown>;
    world['faults'] = [{ target: 'iam:GetRole', error: 'throttle', after: 0, times: 2 }];
    const sb = await sandboxFrom(world);
    try {
      const snap = await scan(sb);
      expect(snap.roles['arn:aws:iam::111122223333:role/external-dns']?.state).toBe('found');
      const throttled = (await sandboxCalls(sb)).filter((c) => c.operation === 'GetRole' && c.status !== 200);
      expect(throttled).toHaveLength(2);
      expect(Object.values(snap.roles).filter((r) => r.state === 'found').length).toBeGreaterThan(10);
    } finally {
      await sb.close();
    }
  });

  it.concurrent('retries a throttled Kubernetes list (429) and still succeeds', async ({ expect }) => {
    const world = parse(WORLD) as Record<string, unknown>;
    world['faults'] = [{ target: 'k8s:list:pods', error: 'throttle', after: 0, times: 1 }];
    const sb = await sandboxFrom(world);
    try {
      const snap = await scan(sb);
      expect(snap.clusters.every((c) => c.kube.pods.length > 0)).toBe(true);
      expect((await sandboxCalls(sb)).filter((c) => c.operation === 'list:pods' && c.status === 429)).toHaveLength(1);
    } finally {
      await sb.close();
    }
  });

  it('a hung IAM request times out and is retried; the scan still succeeds', async () => {
    const world = parse(WORLD) as Record<string, unknown>;
    world['faults'] = [{ target: 'iam:GetRole', error: 'timeout', after: 0, times: 1 }];
    const sb = await sandboxFrom(world);
    try {
      const kubeconfig = await kubeconfigFromString(sb.kubeconfig());
      const ports = await createScanPorts({
        aws: { endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1', requestTimeoutMs: 300 },
        kubeconfig,
      });
      const snap = await collectFleet(resolveTargets(kubeconfig, { allContexts: true }), ports, { trustPolicyLimit: 2048 });
      expect(Object.values(snap.roles).filter((r) => r.state === 'found').length).toBeGreaterThan(10);
      expect((await sandboxCalls(sb)).filter((c) => c.operation === 'GetRole' && c.status === 0)).toHaveLength(1);
    } finally {
      await sb.close();
    }
  });

  it('a hung Kubernetes list times out and is retried', async () => {
    const world = parse(WORLD) as Record<string, unknown>;
    world['faults'] = [{ target: 'k8s:list:serviceaccounts', error: 'timeout', after: 0, times: 1 }];
    const sb = await sandboxFrom(world);
    try {
      const kubeconfig = await kubeconfigFromString(sb.kubeconfig());
      const ports = await createScanPorts({
        aws: { endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1' },
        kubeconfig,
        kube: { requestTimeoutMs: 300, sleep: async () => undefined },
      });
      const snap = await collectFleet(resolveTargets(kubeconfig, { allContexts: true }), ports, { trustPolicyLimit: 2048 });
      expect(snap.clusters.every((c) => c.kube.serviceAccounts.length > 0)).toBe(true);
      expect((await sandboxCalls(sb)).filter((c) => c.operation === 'list:serviceaccounts' && c.status === 0)).toHaveLength(1);
    } finally {
      await sb.close();
    }
  });

  it('honours AWS_ENDPOINT_URL when no endpoint is passed', async () => {
    sandbox = await sandboxFrom(WORLD);
    const saved = process.env['AWS_ENDPOINT_URL'];
    process.env['AWS_ENDPOINT_URL'] = sandbox.endpoint;
    try {
      const kubeconfig = await kubeconfigFromString(sandbox.kubeconfig());
      const ports = await createScanPorts({ aws: { credentials: SANDBOX_CREDENTIALS, region: 'us-east-1' }, kubeconfig });
      expect(await ports.sts.getCallerIdentity()).toEqual({ account: '111122223333', arn: expect.stringContaining('111122223333') });
      expect(await ports.eks('us-east-1').listClusters()).toEqual(expect.arrayContaining(['prod', 'staging']));
    } finally {
      if (saved === undefined) delete process.env['AWS_ENDPOINT_URL'];
      else process.env['AWS_ENDPOINT_URL'] = saved;
    }
  });
});
