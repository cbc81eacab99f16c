import { describe, expect, it } from 'vitest';
import type { AllowlistEntry } from '../../src/core/config.js';
import { applyAllowlist, evaluateGate } from '../../src/core/gate.js';
import { addonVerdict, serviceAccountVerdict } from '../../src/core/scan/analyze-verdict.js';
import { finding } from '../../src/core/scan/findings.js';
import type { AddonReport, ClusterReport, Finding, Inventory, ServiceAccountReport } from '../../src/core/scan/inventory.js';
import { INVENTORY_SCHEMA_VERSION } from '../../src/core/scan/inventory.js';
import { analyzeManifests } from '../../src/core/scan/manifests.js';
import { summariseInventory } from '../../src/core/scan/summary.js';
import { parseManifests } from '../../src/adapters/manifests.js';
import { InventorySchema } from '../../src/render/inventory-schema.js';

const ACCOUNT = '111122223333';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const STAGING = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/staging`;
const NOW = new Date('2025-01-15T23:59:00Z');

function cluster(arn: string, name: string, findings: Finding[]): ClusterReport {
  return {
    arn, name, account: ACCOUNT, region: arn.split(':')[3]!, context: arn, version: '1.29', platformVersion: 'eks.8', endpoint: 'https://x', oidcIssuer: null, autoMode: false,
    agent: { source: 'addon', addonVersion: 'v1', addonStatus: 'ACTIVE', nodesReady: 1, nodesTotal: 1 }, associations: { count: 0, quota: 1000 },
    readiness: findings.some((f) => f.severity === 'error') ? 'blocked' : findings.length > 0 ? 'ready-with-warnings' : 'ready', findings,
  };
}

function sa(clusterArn: string, namespace: string, name: string, findings: Finding[], migrated = false): ServiceAccountReport {
  const base: Omit<ServiceAccountReport, 'verdict'> = {
    cluster: clusterArn, namespace, name, roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    role: { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, account: ACCOUNT, name, path: '/', state: 'found', crossAccount: false },
    annotations: { audience: null, stsRegionalEndpoints: null, tokenExpiration: null },
    trust: { irsa: 'exact', irsaStatements: [0], podIdentity: migrated ? 'admits-cluster' : 'none', length: 1, lengthAfter: 2, limit: 2048 },
    association: migrated ? { state: 'same-role', associationId: 'a-1', roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`, ownerArn: null } : { state: 'none', associationId: null, roleArn: null, ownerArn: null },
    workloads: [], pods: migrated ? { irsa: 0, podIdentity: 1, none: 0 } : { irsa: 1, podIdentity: 0, none: 0 }, addon: null, findings,
  };
  return { ...base, verdict: serviceAccountVerdict(base) };
}

function addon(clusterArn: string, name: string, serviceAccount: string, findings: Finding[]): AddonReport {
  return { cluster: clusterArn, name, version: 'v1', serviceAccountRoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`, serviceAccount, supportsPodIdentity: false, verdict: addonVerdict(findings, 0), findings };
}

const agentMissing = finding('AGENT_MISSING', { nodes: 1, autoMode: false });
const carriedWarnings = finding('CLUSTER_HAS_WARNINGS', { cluster: 'staging', codes: ['AGENT_MISSING'] });
const fargate = finding('WORKLOAD_ON_FARGATE', { workload: 'CronJob batch/reports', why: 'Fargate profile fp' });
const audience = finding('ANNOTATION_AUDIENCE', { audience: 'custom' });

function inventory(): Inventory {
  const body = {
    clusters: [cluster(PROD, 'prod', []), cluster(STAGING, 'staging', [agentMissing])],
    serviceAccounts: [
      sa(PROD, 'shop', 'cart', []),
      sa(PROD, 'shop', 'legacy', [finding('ASSOCIATION_EXISTS', { id: 'a-1', role: 'r' })], true),
      sa(PROD, 'shop', 'orders', [audience]),
      sa(STAGING, 'batch', 'reports', [fargate, carriedWarnings]),
    ],
    addons: [addon(STAGING, 'aws-ebs-csi-driver', 'ebs-csi-controller-sa', [finding('ADDON_VERSION_UNSUPPORTED', { addon: 'aws-ebs-csi-driver', version: 'v1' }), carriedWarnings])],
  };
  return { schemaVersion: INVENTORY_SCHEMA_VERSION, generatedAt: NOW.toISOString(), source: 'live', caller: null, trustPolicyLimit: 2048, ...body, summary: summariseInventory(body) };
}

const entry = (over: Partial<AllowlistEntry>, index = 0): AllowlistEntry => ({ index, reason: 'accepted risk', expires: '2025-12-31', config: '.podid.yaml', ...over });
const saOf = (inv: Inventory, name: string) => inv.serviceAccounts.find((s) => s.name === name)!;

describe('evaluateGate without an allowlist', () => {
  const inv = inventory();

  it('never: never fails', () => {
    expect(evaluateGate(inv, 'never')).toEqual({ failed: false, reasons: [], matched: new Map() });
  });

  it('irsa: fails for every service account and add-on not migrated', () => {
    expect(evaluateGate(inv, 'irsa')).toMatchObject({
      failed: true,
      reasons: [
        'shop/cart in prod: still on IRSA (ready)',
        'shop/orders in prod: still on IRSA (ready-with-warnings)',
        'batch/reports in staging: still on IRSA (blocked)',
        'add-on aws-ebs-csi-driver in staging: still on IRSA (blocked)',
      ],
    });
  });

  it('says which report objects matched, with why, so per-item reports agree with the gate', () => {
    const { matched, reasons } = evaluateGate(inv, 'irsa');
    expect([...matched.values()].flat()).toHaveLength(reasons.length);
    const cart = inv.serviceAccounts.find((sa) => sa.name === 'cart')!;
    expect(matched.get(cart)).toEqual(['still on IRSA (ready)']);
    const warned = evaluateGate(inv, 'warnings');
    expect([...warned.matched.values()].flat()).toHaveLength(warned.reasons.length);
  });

  it('blocked: fails for blocked service accounts and add-ons, naming the errors', () => {
    expect(evaluateGate(inv, 'blocked').reasons).toEqual([
      'batch/reports in staging: blocked (WORKLOAD_ON_FARGATE)',
      'add-on aws-ebs-csi-driver in staging: blocked (ADDON_VERSION_UNSUPPORTED)',
    ]);
  });

  it('warnings: fails for every error and warning, cluster findings included', () => {
    expect(evaluateGate(inv, 'warnings').reasons).toEqual([
      'cluster staging: warning AGENT_MISSING',
      'shop/orders in prod: warning ANNOTATION_AUDIENCE',
      'batch/reports in staging: error WORKLOAD_ON_FARGATE',
      'batch/reports in staging: warning CLUSTER_HAS_WARNINGS',
      'add-on aws-ebs-csi-driver in staging: error ADDON_VERSION_UNSUPPORTED',
      'add-on aws-ebs-csi-driver in staging: warning CLUSTER_HAS_WARNINGS',
    ]);
  });

  it('passes a fully migrated fleet on irsa', () => {
    const migrated = { ...inv, serviceAccounts: [saOf(inv, 'legacy')], addons: [] };
    expect(evaluateGate(migrated, 'irsa').failed).toBe(false);
  });
});

describe('applyAllowlist', () => {
  it('suppresses the listed codes of matching service accounts; a blocked verdict stays blocked', () => {
    const out = applyAllowlist(inventory(), [entry({ cluster: 'staging', namespace: 'batch', serviceAccount: 'rep*', codes: ['WORKLOAD_ON_FARGATE'], reason: 'Fargate batch stays on IRSA' })], NOW);
    const reports = saOf(out, 'reports');
    expect(reports.findings.find((f) => f.code === 'WORKLOAD_ON_FARGATE')?.suppressed).toEqual({ reason: 'Fargate batch stays on IRSA', expires: '2025-12-31' });
    expect(reports.verdict).toBe('blocked');
    expect(evaluateGate(out, 'blocked').reasons).toEqual(['add-on aws-ebs-csi-driver in staging: blocked (ADDON_VERSION_UNSUPPORTED)']);
    // Not exempted from the irsa gate: the entry lists codes.
    expect(evaluateGate(out, 'irsa').reasons).toContain('batch/reports in staging: still on IRSA (blocked)');
    expect(() => InventorySchema.parse(out)).not.toThrow();
  });

  it('leaves findings of other service accounts and codes alone', () => {
    const out = applyAllowlist(inventory(), [entry({ namespace: 'batch', codes: ['ANNOTATION_AUDIENCE'] })], NOW);
    expect(saOf(out, 'orders').findings[0]!.suppressed).toBeUndefined();
    expect(saOf(out, 'reports').findings.every((f) => f.suppressed === undefined)).toBe(true);
  });

  it('turns ready-with-warnings into ready when every warning is waived, and recounts the summary', () => {
    const before = inventory();
    const out = applyAllowlist(before, [entry({ serviceAccount: 'orders', codes: ['ANNOTATION_AUDIENCE'] })], NOW);
    expect(saOf(out, 'orders').verdict).toBe('ready');
    expect(out.summary.byVerdict.ready).toBe(before.summary.byVerdict.ready + 1);
    expect(out.summary.byVerdict['ready-with-warnings']).toBe(before.summary.byVerdict['ready-with-warnings'] - 1);
    // Allowlisted findings are still counted (docs/output.md).
    expect(out.summary.findings).toEqual(before.summary.findings);
    expect(evaluateGate(out, 'warnings').reasons).not.toContain('shop/orders in prod: warning ANNOTATION_AUDIENCE');
  });

  it('exempts whole service accounts and add-ons (and the cluster) with an entry without codes', () => {
    const out = applyAllowlist(inventory(), [entry({ cluster: 'arn:aws:eks:*:111122223333:cluster/stag*', reason: 'staging stays on IRSA' })], NOW);
    const staging = out.clusters.find((c) => c.name === 'staging')!;
    expect(staging.findings[0]!.suppressed?.reason).toBe('staging stays on IRSA');
    expect(staging.readiness).toBe('ready');
    const reports = saOf(out, 'reports');
    expect(reports.findings.map((f) => [f.code, f.suppressed !== undefined])).toEqual([
      ['WORKLOAD_ON_FARGATE', true],
      ['CLUSTER_HAS_WARNINGS', true],
      ['ALLOWLIST_EXEMPT', true],
    ]);
    expect(reports.findings[2]!.message).toBe('.podid.yaml allowlist[0] {cluster: arn:aws:eks:*:111122223333:cluster/stag*} exempts this from the CI gate until 2025-12-31: staging stays on IRSA');
    expect(evaluateGate(out, 'irsa').reasons).toEqual(['shop/cart in prod: still on IRSA (ready)', 'shop/orders in prod: still on IRSA (ready-with-warnings)']);
    expect(evaluateGate(out, 'blocked').failed).toBe(false);
    expect(evaluateGate(out, 'warnings').reasons).toEqual(['shop/orders in prod: warning ANNOTATION_AUDIENCE']);
  });

  it('waives a carried cluster finding once every cluster finding it stands for is waived', () => {
    const out = applyAllowlist(inventory(), [entry({ cluster: 'staging', codes: ['AGENT_MISSING'], reason: 'agent rollout next week', expires: '2025-02-01' })], NOW);
    const carried = saOf(out, 'reports').findings.find((f) => f.code === 'CLUSTER_HAS_WARNINGS');
    expect(carried?.suppressed).toEqual({ reason: 'cluster findings allowlisted: agent rollout next week', expires: '2025-02-01' });
    expect(out.addons[0]!.findings.find((f) => f.code === 'CLUSTER_HAS_WARNINGS')?.suppressed).toBeDefined();
  });

  it('does not apply service-account entries to cluster findings', () => {
    const out = applyAllowlist(inventory(), [entry({ cluster: 'staging', namespace: '*' })], NOW);
    expect(out.clusters[1]!.findings[0]!.suppressed).toBeUndefined();
    expect(saOf(out, 'reports').findings.find((f) => f.code === 'WORKLOAD_ON_FARGATE')?.suppressed).toBeDefined();
  });

  it('applies an entry through its expiry day (UTC) and reports it once expired', () => {
    const onTheDay = applyAllowlist(inventory(), [entry({ serviceAccount: 'orders', codes: ['ANNOTATION_AUDIENCE'], expires: '2025-01-15' })], NOW);
    expect(saOf(onTheDay, 'orders').findings[0]!.suppressed).toBeDefined();

    const expired = applyAllowlist(inventory(), [entry({ serviceAccount: 'orders', codes: ['ANNOTATION_AUDIENCE'], expires: '2025-01-14', reason: 'temporary' }, 3)], NOW);
    const orders = saOf(expired, 'orders');
    expect(orders.findings.every((f) => f.suppressed === undefined)).toBe(true);
    expect(orders.findings.map((f) => f.code)).toEqual(['ANNOTATION_AUDIENCE', 'ALLOWLIST_EXPIRED']);
    expect(orders.findings[1]!.message).toBe('.podid.yaml allowlist[3] {serviceAccount: orders; codes: ANNOTATION_AUDIENCE} ("temporary") was valid until 2025-01-14 and no longer applies');
    expect(orders.verdict).toBe('ready-with-warnings');
    expect(expired.inputFindings).toBeUndefined();
    expect(evaluateGate(expired, 'warnings').reasons).toContain('shop/orders in prod: warning ALLOWLIST_EXPIRED');
  });

  it('lets an expired ALLOWLIST_EXPIRED warning turn ready into ready-with-warnings', () => {
    const out = applyAllowlist(inventory(), [entry({ serviceAccount: 'cart', expires: '2024-12-31' })], NOW);
    expect(saOf(out, 'cart').verdict).toBe('ready-with-warnings');
    expect(out.summary.findings.warning).toBe(inventory().summary.findings.warning + 1);
  });

  it('reports an expired entry that covers nothing among the input findings', () => {
    const out = applyAllowlist(inventory(), [entry({ namespace: 'gone', expires: '2024-06-30' })], NOW);
    expect(out.inputFindings?.map((f) => f.code)).toEqual(['ALLOWLIST_EXPIRED']);
    expect(out.serviceAccounts.flatMap((s) => s.findings).some((f) => f.code === 'ALLOWLIST_EXPIRED')).toBe(false);
    expect(() => InventorySchema.parse(out)).not.toThrow();
  });

  it('returns the inventory unchanged for an empty allowlist', () => {
    const inv = inventory();
    expect(applyAllowlist(inv, [], NOW)).toBe(inv);
  });
});

describe('the gate over a manifests scan', () => {
  const text = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api\n';
  const broken = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a: b\n';
  const inv = analyzeManifests([...parseManifests(text, 'apps/api.yaml'), ...parseManifests(broken, 'legacy/broken.yaml')], { now: NOW });

  it('fails every gate but never on a manifest it could not parse: the scan is incomplete', () => {
    const onlyBroken = { ...inv, serviceAccounts: [] };
    expect(evaluateGate(onlyBroken, 'irsa').reasons).toEqual(['legacy/broken.yaml:4: error MANIFEST_PARSE_ERROR (the scan is incomplete)']);
    expect(evaluateGate(onlyBroken, 'blocked').failed).toBe(true);
    expect(evaluateGate(onlyBroken, 'never').failed).toBe(false);
  });

  it('matches file globs, against service accounts and input findings', () => {
    const out = applyAllowlist(inv, [entry({ file: 'legacy/**', codes: ['MANIFEST_PARSE_ERROR'] }), entry({ file: 'apps/*.yaml' }, 1)], NOW);
    expect(out.inputFindings?.[0]?.suppressed).toBeDefined();
    expect(saOf(out, 'api').findings.map((f) => f.code)).toEqual(['IRSA_ANNOTATION', 'ALLOWLIST_EXEMPT']);
    expect(evaluateGate(out, 'irsa').failed).toBe(false);
    expect(evaluateGate(out, 'warnings').failed).toBe(false);
  });

  it('reports IRSA annotations with their location on the irsa gate', () => {
    expect(evaluateGate(inv, 'irsa').reasons[0]).toBe('shop/api (apps/api.yaml:7): still on IRSA (ready-with-warnings)');
  });
});
