/**
 * DescribePodIdentityAssociation is one call per association, and a cluster may hold 1,000 of
 * them: the collector describes only those the analysis reads (an in-scope annotated service
 * account's, a reported add-on's) and counts the rest from the list alone. Real SDK clients
 * against the in-process sandbox on examples/world.yaml, with many unrelated associations.
 */
import { readFileSync } from 'node:fs';
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeconfigFromString, resolveTargets } from '../../src/adapters/kubeconfig.js';
import { createScanPorts } from '../../src/adapters/scan-ports.js';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import { collectFleet } from '../../src/core/scan/collect.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { addonArn } from '../../src/sandbox/state.js';
import { sandboxCalls, type CallRecord as Call } from '../helpers/cli.js';
import { SANDBOX_CREDENTIALS, awsConfig, sandboxFrom } from '../helpers/sandbox.js';

const WORLD = readFileSync(new URL('../../examples/world.yaml', import.meta.url), 'utf8');
const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const role = (name: string) => `arn:aws:iam::111122223333:role/${name}`;
/** Associations for service accounts no scan reports on (no such ServiceAccount exists). */
const UNRELATED = 60;

/**
 * The demo world plus a vpc-cni association owned by the add-on (as UpdateAddon leaves it) and
 * the unrelated associations (in the world file: no pod of theirs exists, so nothing depends on
 * when they were made).
 */
function world(): object {
  const w = parse(WORLD) as { clusters: { name: string; podIdentityAssociations?: object[] }[]; iam: { roles: { name: string }[] } };
  // EKS checks that an association's role exists and admits Pod Identity.
  const podTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] };
  for (let i = 0; i < UNRELATED; i++) w.iam.roles.push({ name: `unrelated-${i}`, assumeRolePolicyDocument: podTrust } as { name: string });
  // ledger's trust admits Pod Identity beside IRSA (as a migration leaves it), so its association can be made.
  const ledger = w.iam.roles.find((r) => r.name === 'ledger') as unknown as { assumeRolePolicyDocument: { Statement: object[] } };
  ledger.assumeRolePolicyDocument.Statement.push(podTrust.Statement[0]!);
  const prod = w.clusters.find((c) => c.name === 'prod')!;
  prod.podIdentityAssociations = [
    ...(prod.podIdentityAssociations ?? []),
    { namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: role('prod-vpc-cni'), ownerArn: addonArn(PROD, 'vpc-cni') },
    ...Array.from({ length: UNRELATED }, (_, i) => ({ namespace: `team-${i % 7}`, serviceAccount: `svc-${i}`, roleArn: role(`unrelated-${i}`) })),
  ];
  return w;
}

/** An association made while the sandbox runs, through EKS: ledger's pods started before it. */
async function populate(sb: Sandbox): Promise<void> {
  const eks = new EKSClient(awsConfig(sb));
  try {
    // payments/ledger is annotated: its association is one the analysis reads.
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'payments', serviceAccount: 'ledger', roleArn: role('ledger') }));
  } finally {
    eks.destroy();
  }
  await fetch(`${sb.endpoint}/_sandbox/calls`, { method: 'DELETE' });
}

async function scan(sb: Sandbox, opts: { namespaces?: string[]; serviceAccounts?: string[] } = {}): Promise<{ snap: FleetSnapshot; log: Call[] }> {
  await fetch(`${sb.endpoint}/_sandbox/calls`, { method: 'DELETE' });
  const kubeconfig = await kubeconfigFromString(sb.kubeconfig());
  const ports = await createScanPorts({
    aws: { endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS, region: 'us-east-1', requestTimeoutMs: 5_000 },
    kubeconfig,
  });
  const snap = await collectFleet(resolveTargets(kubeconfig, { allContexts: true }), ports, { trustPolicyLimit: 2048, ...opts });
  const log = await sandboxCalls(sb);
  return { snap, log };
}

const describes = (log: readonly Call[]) => log.filter((c) => c.operation === 'DescribePodIdentityAssociation');
const described = (snap: FleetSnapshot) =>
  snap.clusters.flatMap((c) => c.associations.filter((a) => a.roleArn !== null).map((a) => `${c.name}:${a.namespace}/${a.serviceAccount}`)).sort();

describe('collectFleet describes only the associations the analysis reads', () => {
  // Scans only read: one sandbox serves every test.
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await sandboxFrom(world());
    await populate(sandbox);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('a full scan: the annotated service accounts\' and the IRSA add-on\'s, not the unrelated ones', async () => {
    const { snap, log } = await scan(sandbox);

    const prod = snap.clusters.find((c) => c.arn === PROD)!;
    // Every association is listed (the quota counts them) ...
    expect(prod.associations).toHaveLength(UNRELATED + 3);
    // ... but only the relevant ones are described, each once.
    expect(described(snap)).toEqual(['prod:kube-system/aws-node', 'prod:payments/ledger', 'prod:shop/checkout']);
    expect(describes(log)).toHaveLength(3);
    expect(prod.associations.find((a) => a.serviceAccount === 'checkout')).toMatchObject({ roleArn: role('checkout'), targetRoleArn: null, ownerArn: null });
    const unrelated = prod.associations.find((a) => a.serviceAccount === 'svc-0')!;
    expect(unrelated).toMatchObject({ namespace: 'team-0', roleArn: null, targetRoleArn: null, ownerArn: null });
    expect(unrelated.associationId).not.toBe('');
    // Undescribed associations' roles are never read.
    expect(Object.keys(snap.roles).filter((r) => r.includes('unrelated-'))).toEqual([]);
    expect(log.filter((c) => c.mutating)).toEqual([]);

    // The analysis still counts them all, and judges the described ones as before.
    const inventory = analyzeFleet(snap, { now: new Date('2026-11-27T12:00:00Z') });
    expect(inventory.clusters.find((c) => c.arn === PROD)!.associations.count).toBe(UNRELATED + 3);
    const verdict = (ns: string, name: string) => inventory.serviceAccounts.find((s) => s.cluster === PROD && s.namespace === ns && s.name === name);
    expect(verdict('payments', 'ledger')!.association).toMatchObject({ state: 'same-role', roleArn: role('ledger') });
    expect(verdict('shop', 'checkout')!.verdict).toBe('migrated');
    expect(inventory.addons.find((a) => a.cluster === PROD && a.name === 'vpc-cni')!.verdict).toBe('migrated');
  });

  it('a scoped scan: the in-scope annotated service accounts\' and the add-on\'s only', async () => {
    const shop = await scan(sandbox, { namespaces: ['shop'] });
    // payments/ledger is out of scope; the add-on is reported whatever the scope.
    expect(described(shop.snap)).toEqual(['prod:kube-system/aws-node', 'prod:shop/checkout']);
    expect(describes(shop.log)).toHaveLength(2);
    expect(shop.snap.clusters.find((c) => c.arn === PROD)!.associations).toHaveLength(UNRELATED + 3);

    const cart = await scan(sandbox, { serviceAccounts: ['shop/cart'] });
    // shop/cart has no association yet: only the add-on's is described.
    expect(described(cart.snap)).toEqual(['prod:kube-system/aws-node']);
    expect(describes(cart.log)).toHaveLength(1);
  });
});
