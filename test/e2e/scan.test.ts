/**
 * `podid scan` end to end against the sandbox on the demo world (served over HTTP from the test
 * process), through unmodified AWS SDK and Kubernetes clients, the built CLI in-process
 * (helpers/podid.ts): the fleet scan every test reads, the output formats and scoping flags. The
 * binary's scans (exit codes, stdin, stdout, profiles) are in gate, stdout, cli-input, cli-polish
 * and fleet.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InventorySchema } from '../../src/render/inventory-schema.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { clearSandboxCalls, ROOT, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const STAGING = 'arn:aws:eks:us-east-1:111122223333:cluster/staging';

let sb: SandboxEndpoint;
let json: Inventory;

beforeAll(async () => {
  sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  await clearSandboxCalls(sb);
  const r = await podid(['scan', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  json = JSON.parse(r.stdout) as Inventory;
});
afterAll(async () => {
  await sb?.stop();
});

describe('podid scan --all-contexts -o json against the demo world', () => {
  it('prints JSON that matches the documented schema exactly', () => {
    expect(json.schemaVersion).toBe(1);
    expect(InventorySchema.parse(json)).toEqual(json);
  });

  it('gives every service account the verdict its world implies', () => {
    const verdicts = Object.fromEntries(json.serviceAccounts.map((s) => [`${s.cluster === PROD ? 'prod' : 'staging'}:${s.namespace}/${s.name}`, s.verdict]));
    expect(verdicts).toEqual({
      'prod:analytics/reports': 'ready',
      'prod:batch/etl': 'blocked', // Fargate
      'prod:data/exporter': 'ready-with-warnings', // cross-account role
      'prod:kube-system/aws-node': 'ready', // vpc-cni add-on
      'prod:kube-system/efs-csi-controller-sa': 'ready',
      'prod:kube-system/efs-csi-node-sa': 'ready',
      'prod:logging/log-shipper': 'ready',
      'prod:payments/ledger': 'ready-with-warnings', // its Pod Identity statement pins the namespace only (TRUST_POD_IDENTITY_BROAD)
      'prod:platform/external-dns': 'ready', // shared by both clusters
      'prod:shop/cart': 'ready',
      'prod:shop/checkout': 'migrated',
      'prod:shop/orders': 'ready',
      'prod:tools/debug-tools': 'ready',
      'prod:windows/win-reporter': 'blocked', // Windows nodes
      'staging:legacy/legacy-sync': 'blocked', // staging is below the platform minimum
      'staging:platform/external-dns': 'blocked',
      'staging:shop/cart': 'blocked',
      'staging:shop/search': 'blocked',
    });
    const codes = (ns: string, name: string, cluster = PROD) =>
      json.serviceAccounts.find((s) => s.cluster === cluster && s.namespace === ns && s.name === name)!.findings.map((f) => f.code);
    expect(codes('batch', 'etl')).toContain('WORKLOAD_ON_FARGATE');
    expect(codes('windows', 'win-reporter')).toContain('WORKLOAD_ON_WINDOWS');
    // The webhook injected its Windows token path (C:\var\run\...) into this nodeSelector'd pod: not wired by hand.
    expect(codes('windows', 'win-reporter')).not.toContain('POD_CUSTOM_TOKEN_FILE');
    expect(codes('data', 'exporter')).toContain('ROLE_CROSS_ACCOUNT');
    expect(codes('kube-system', 'efs-csi-node-sa')).toContain('TRUST_IRSA_WILDCARD');
    expect(codes('legacy', 'legacy-sync', STAGING)).toContain('ARN_WHITESPACE');
    const staging = json.clusters.find((c) => c.arn === STAGING)!;
    expect(staging.readiness).toBe('blocked');
    expect(staging.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['CLUSTER_PLATFORM_VERSION_UNSUPPORTED', 'NODE_ROLE_MISSING_PERMISSION', 'AGENT_MISSING']));
    expect(json.addons).toEqual([expect.objectContaining({ cluster: PROD, name: 'vpc-cni', supportsPodIdentity: true })]);
  });

  it('made no mutating call, and one list per Kubernetes kind per cluster', async () => {
    const calls = await sandboxCalls(sb);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
    for (const cluster of ['prod', 'staging']) {
      const lists = calls.filter((c) => c.service === `k8s:${cluster}` && c.operation.startsWith('list:')).map((c) => c.operation).sort();
      expect(lists).toEqual(['list:cronjobs', 'list:daemonsets', 'list:deployments', 'list:jobs', 'list:nodes', 'list:pods', 'list:replicasets', 'list:serviceaccounts', 'list:statefulsets']);
      // No per-namespace or per-object Kubernetes reads.
      expect(calls.filter((c) => c.service === `k8s:${cluster}` && !c.operation.startsWith('list:'))).toEqual([]);
    }
    // external-dns is shared by both clusters but read once; every same-account role once.
    const getRoles = calls.filter((c) => c.operation === 'GetRole').length;
    const sameAccountRoles = new Set(json.serviceAccounts.filter((s) => s.role.account === '111122223333').map((s) => s.role.arn));
    expect(getRoles).toBe(sameAccountRoles.size);
  });
});

describe('podid scan output formats', () => {
  it('table by default, grouped by cluster, with a summary line', async () => {
    const r = await podid(['scan', '--all-contexts'], { env: sb.clientEnv });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`prod  ${PROD}`);
    expect(r.stdout).toMatch(/18 service accounts in 2 clusters: 9 ready, 2 ready-with-warnings, 6 blocked, 1 migrated/);
    expect(r.stdout).not.toMatch(/\u001b\[/); // NO_COLOR
  });

  it('yaml is the same document as json', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'yaml'], { env: sb.clientEnv });
    const doc = parse(r.stdout) as Inventory;
    expect({ ...doc, generatedAt: '' }).toEqual({ ...json, generatedAt: '' });
  });

  it('sarif 2.1.0 with a rule per finding code and a result per finding', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'sarif'], { env: sb.clientEnv });
    const sarif = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; level: string }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    const ruleIds = run.tool.driver.rules.map((x) => x.id);
    expect(new Set(ruleIds).size).toBe(ruleIds.length);
    for (const res of run.results) expect(ruleIds).toContain(res.ruleId);
    expect(run.results.filter((x) => x.level === 'error').length).toBeGreaterThan(0);
  });

  it('junit with one failing testcase per blocked service account', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'junit'], { env: sb.clientEnv });
    expect(r.stdout.startsWith('<?xml')).toBe(true);
    expect(r.stdout).toContain('name="shop/cart"');
    const failures = r.stdout.match(/<testcase [^>]*name="[a-z-]+\/[a-z-]+"[^>]*>\s*<failure/g) ?? [];
    expect(failures.length).toBe(6);
  });

  it('markdown for PR comments', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'markdown'], { env: sb.clientEnv });
    expect(r.stdout).toMatch(/^#/);
    expect(r.stdout).toContain('| ');
  });
});

describe('podid scan targets and scoping', () => {
  it('scans the current context by default, and -n / --service-account narrow it', async () => {
    const all = JSON.parse((await podid(['scan', '-o', 'json'], { env: sb.clientEnv })).stdout) as Inventory;
    expect(all.clusters.map((c) => c.arn)).toEqual([PROD]);
    const ns = JSON.parse((await podid(['scan', '-n', 'shop', '-o', 'json'], { env: sb.clientEnv })).stdout) as Inventory;
    expect(ns.serviceAccounts.map((s) => s.name).sort()).toEqual(['cart', 'checkout', 'orders']);
    const one = JSON.parse((await podid(['scan', '--context', STAGING, '--service-account', 'shop/search', '-o', 'json'], { env: sb.clientEnv })).stdout) as Inventory;
    expect(one.serviceAccounts.map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/search']);
  });

  it('refuses a context whose server is not the endpoint DescribeCluster reports (exit 2)', async () => {
    const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as { clusters: { name: string; cluster: { server: string } }[] };
    const prod = kc.clusters.find((c) => c.name === PROD)!;
    prod.cluster.server = prod.cluster.server.replace('/prod', '/staging');
    const file = `${sb.kubeconfig}.mixed`;
    writeFileSync(file, JSON.stringify(kc));
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD], { env: sb.clientEnv });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(PROD);
  });

  it('an unknown context is a usage error listing the known ones', async () => {
    const r = await podid(['scan', '--context', 'nope'], { env: sb.clientEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope');
    expect(r.stderr).toContain(PROD);
  });

  it('bad flag values are usage errors', async () => {
    expect((await podid(['scan', '--service-account', 'cart'], { env: sb.clientEnv })).code).toBe(2);
    expect((await podid(['scan', '--trust-policy-limit', 'big'], { env: sb.clientEnv })).code).toBe(2);
    expect((await podid(['scan', '-o', 'xml'], { env: sb.clientEnv })).code).toBe(2);
  });
});
