/**
 * A narrowed scan (-n, --service-account) judges fewer service accounts, never a different
 * cluster: the Pod Identity Agent runs in kube-system whatever the scope, so prod stays ready
 * and its in-scope service accounts keep the verdicts a full scan gives them. The built CLI
 * in-process (helpers/podid.ts) against the sandbox on the demo world, over HTTP.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';

let sb: SandboxEndpoint;

beforeAll(async () => {
  sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
});
afterAll(async () => {
  await sb?.stop();
});

async function scan(...args: string[]): Promise<Inventory> {
  const r = await podid(['scan', '--all-contexts', ...args, '-o', 'json'], { env: sb.clientEnv });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Inventory;
}

const prodReport = (inv: Inventory) => inv.clusters.find((c) => c.arn === PROD)!;
const prodVerdicts = (inv: Inventory) =>
  Object.fromEntries(inv.serviceAccounts.filter((s) => s.cluster === PROD).map((s) => [`${s.namespace}/${s.name}`, s.verdict]));

describe('a scoped scan keeps cluster readiness', () => {
  it('-n shop: prod is ready, with the agent on all 3 Linux nodes', async () => {
    const inv = await scan('-n', 'shop');
    const prod = prodReport(inv);
    expect(prod.findings.map((f) => f.code)).not.toContain('AGENT_NOT_READY');
    expect(prod.readiness).toBe('ready');
    expect(prod.agent).toMatchObject({ source: 'addon', nodesReady: 3, nodesTotal: 3 });
    expect(prodVerdicts(inv)).toEqual({ 'shop/cart': 'ready', 'shop/checkout': 'migrated', 'shop/orders': 'ready' });
  });

  it('--service-account shop/cart: prod is ready and cart is ready', async () => {
    const inv = await scan('--service-account', 'shop/cart');
    const prod = prodReport(inv);
    expect(prod.readiness).toBe('ready');
    expect(prod.agent).toMatchObject({ nodesReady: 3, nodesTotal: 3 });
    expect(prodVerdicts(inv)).toEqual({ 'shop/cart': 'ready' });
    // The whole cluster's associations still count towards the quota (checkout's).
    expect(prod.associations.count).toBe(1);
  });

  it('a scoped scan reports prod exactly as a full scan does', async () => {
    const [full, scoped] = await Promise.all([scan(), scan('-n', 'shop')]);
    expect(prodReport(scoped)).toEqual(prodReport(full));
  });

  it('migrate --dry-run --service-account shop/cart plans cart\'s trust, association and restart', async () => {
    const r = await podid(['migrate', '--dry-run', '--context', PROD, '--service-account', 'shop/cart', '-o', 'json'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as MigrationPlan;
    expect(plan.blocked).toEqual([]);
    expect(plan.steps.map((s) => s.kind)).toEqual(['update-trust', 'create-association', 'restart-batch']);
    const [trust, assoc, restart] = plan.steps;
    expect(trust).toMatchObject({ kind: 'update-trust', roleArn: 'arn:aws:iam::111122223333:role/cart', clusters: [PROD] });
    expect(assoc).toMatchObject({ kind: 'create-association', cluster: PROD, namespace: 'shop', serviceAccount: 'cart', roleArn: 'arn:aws:iam::111122223333:role/cart', targetRoleArn: null });
    expect(restart).toMatchObject({ kind: 'restart-batch', cluster: PROD, workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'cart', serviceAccounts: ['cart'] }] });
  });
});

describe('a selection that names nothing is a typo, never "no findings" (exit 2, as migrate and finalize)', () => {
  it.each([
    [['-n', 'typo', '--fail-on', 'irsa'], '-n typo: no namespace typo (not even its default ServiceAccount) in the 2 scanned clusters'],
    [['--service-account', 'shop/typo', '--fail-on', 'irsa'], '--service-account shop/typo: no ServiceAccount shop/typo in the 2 scanned clusters'],
    [['--service-account', 'shop/typo'], '--service-account shop/typo: no ServiceAccount shop/typo in the 2 scanned clusters'],
    [['-n', 'typo', '-o', 'json'], '-n typo: no namespace typo'],
    [['-n', 'shop', '--service-account', 'payments/ledger'], '-n shop --service-account payments/ledger: no ServiceAccount in the 2 scanned clusters matches them all'],
  ])('scan %j: one line, exit 2, nothing on stdout', async (args, message) => {
    const r = await podid(['scan', '--all-contexts', ...args], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`podid: ${message}`);
    expect(r.stderr).toContain('kubectl get serviceaccounts -A lists them');
  });

  it('a namespace that exists but has no IRSA passes the gate: "no IRSA left" is the truth there', async () => {
    const r = await podid(['scan', '--context', PROD, '-n', 'default', '--fail-on', 'irsa'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 service accounts in 1 cluster; no findings');
  });
});

describe('a scoped scan reports only the add-ons in scope', () => {
  it('--service-account shop/checkout: no vpc-cni add-on, so --fail-on irsa passes', async () => {
    const inv = await scan('--service-account', 'shop/checkout');
    expect(inv.addons).toEqual([]);
    const r = await podid(['scan', '--service-account', 'shop/checkout', '--fail-on', 'irsa'], { env: sb.clientEnv });
    expect(r.stdout + r.stderr).not.toContain('vpc-cni');
    expect(r.code, r.stderr).toBe(0);
  });

  it('-n default lists no add-on; -n kube-system and --service-account kube-system/aws-node list vpc-cni', async () => {
    const [nope, kubeSystem, awsNode, full] = await Promise.all([
      scan('-n', 'default'),
      scan('-n', 'kube-system'),
      scan('--service-account', 'kube-system/aws-node'),
      scan(),
    ]);
    expect(nope.addons).toEqual([]);
    expect(nope.summary.addons).toBe(0);
    const vpcCni = full.addons.find((a) => a.cluster === PROD && a.name === 'vpc-cni');
    expect(vpcCni).toBeDefined();
    expect(kubeSystem.addons.filter((a) => a.cluster === PROD)).toEqual([vpcCni]);
    expect(awsNode.addons.filter((a) => a.cluster === PROD)).toEqual([vpcCni]);
  });
});

describe('a cluster that does not exist', () => {
  it.each([
    [['--cluster', 'nope'], /EKS cluster "nope" does not exist in us-east-1/],
    [['--context', PROD, '--region', 'eu-west-1'], /EKS cluster "prod" does not exist in eu-west-1/],
  ])('podid scan %j is a usage error (exit 2) on one line naming context, cluster and region', async (args, expected) => {
    const r = await podid(['scan', ...args], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('podid:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(lines[0]).toMatch(/context "/);
    expect(lines[0]).toContain('check --cluster/--region or the kubeconfig context');
    expect(r.stderr).not.toContain('No cluster found');
  });
});
