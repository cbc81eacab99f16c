import { describe, expect, it } from 'vitest';
import { finding, FINDINGS, type FindingCode } from '../../src/core/scan/findings.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { buildSarif, describeCode, fileUri, renderSarif, SARIF_SCHEMA_URI } from '../../src/render/sarif.js';
import { inputsInventory, liveInventory, manifestsInventory, PROD, STAGING } from './fixtures/inventory.js';

const TOOL = { toolVersion: '1.2.3', informationUri: 'https://example.com/podid' };

function allFindings(inv: Inventory) {
  return [...inv.clusters, ...inv.serviceAccounts, ...inv.addons].flatMap((x) => x.findings);
}

describe('SARIF', () => {
  it('has the 2.1.0 envelope and the driver fields code-scanning UIs require', () => {
    const log = JSON.parse(renderSarif(liveInventory, TOOL));
    expect(log.$schema).toBe(SARIF_SCHEMA_URI);
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0].tool.driver).toEqual(expect.objectContaining({ name: 'podid', version: '1.2.3', informationUri: 'https://example.com/podid' }));
  });

  it('falls back to the inventory\'s toolVersion', () => {
    expect(buildSarif(liveInventory, { informationUri: TOOL.informationUri }).runs[0].tool.driver.version).toBe('0.1.0');
  });

  it('declares one rule per finding code, each with a description, help and level', () => {
    const { rules, } = buildSarif(liveInventory, TOOL).runs[0].tool.driver;
    const codes = [...new Set(allFindings(liveInventory).map((f) => f.code))];
    expect(rules.map((r) => r.id).sort()).toEqual(codes.sort());
    for (const r of rules) {
      expect(r.shortDescription.text).not.toBe('');
      expect(r.help.text).not.toBe('');
      expect(['error', 'warning', 'note']).toContain(r.defaultConfiguration.level);
    }
    // A catalogue code: the catalogue's title and default fix, not the code name or one result's fix.
    expect(rules.find((r) => r.id === 'ROLE_UNREADABLE')).toEqual({
      id: 'ROLE_UNREADABLE',
      shortDescription: { text: 'Role cannot be read' },
      help: { text: FINDINGS.ROLE_UNREADABLE.fix },
      defaultConfiguration: { level: 'error' },
    });
    expect(FINDINGS.ROLE_UNREADABLE.fix).toBe('allow iam:GetRole on the role for the identity running podid');
  });

  it('names a code outside the catalogue (an inventory written by another podid version) by its code and the result\'s fix', () => {
    const foreign = { code: 'AGENT_NOT_INSTALLED' as FindingCode, severity: 'error' as const, message: 'no agent', fix: 'Install it: aws eks create-addon' };
    const inv: Inventory = { ...liveInventory, clusters: [{ ...liveInventory.clusters[1]!, findings: [foreign] }] };
    const { rules } = buildSarif(inv, TOOL).runs[0].tool.driver;
    expect(rules.find((r) => r.id === 'AGENT_NOT_INSTALLED')).toMatchObject({
      shortDescription: { text: 'Agent not installed' },
      help: { text: 'Install it: aws eks create-addon' },
    });
  });

  it('titles every catalogue rule with the catalogue title (e.g. SA_NO_PODS is "No pods")', () => {
    const inv: Inventory = {
      ...liveInventory,
      clusters: [],
      addons: [],
      inputFindings: [],
      serviceAccounts: [{ ...liveInventory.serviceAccounts[0]!, findings: [{ code: 'SA_NO_PODS', severity: 'info', message: 'no pod uses it', fix: 'a subject-specific fix' }] }],
    };
    const { rules } = buildSarif(inv, TOOL).runs[0].tool.driver;
    expect(rules).toEqual([{ id: 'SA_NO_PODS', shortDescription: { text: 'No pods' }, help: { text: FINDINGS.SA_NO_PODS.fix }, defaultConfiguration: { level: 'note' } }]);
  });

  it('has one result per finding, levels mapped, ruleIndex pointing at its rule', () => {
    const run = buildSarif(liveInventory, TOOL).runs[0];
    expect(run.results).toHaveLength(allFindings(liveInventory).length);
    for (const r of run.results) {
      expect(run.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
      expect(r.message.text).not.toBe('');
    }
    const levelOf = (code: string) => run.results.find((r) => r.ruleId === code)?.level;
    expect(levelOf('ROLE_UNREADABLE')).toBe('error');
    expect(levelOf('ANNOTATION_AUDIENCE')).toBe('warning');
    expect(levelOf('ANNOTATION_TOKEN_EXPIRATION')).toBe('note');
  });

  it('names live objects as logical locations: cluster ARN / namespace / name', () => {
    const run = buildSarif(liveInventory, TOOL).runs[0];
    const payments = run.results.find((r) => r.ruleId === 'ROLE_UNREADABLE')!;
    expect(payments.message.text).toBe(`shop/payments (prod): ${liveInventory.serviceAccounts[2]!.findings[0]!.message}`);
    expect(payments.locations).toEqual([{
      logicalLocations: [{ name: 'shop/payments', fullyQualifiedName: `${PROD}/shop/payments`, kind: 'resource' }],
      physicalLocation: { artifactLocation: { uri: 'eks/111122223333/us-east-1/prod/shop/payments' }, region: { startLine: 1 } },
    }]);
    const cluster = run.results.find((r) => r.ruleId === 'AGENT_NOT_READY')!;
    expect(cluster.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe(STAGING);
    const addon = run.results.find((r) => r.ruleId === 'ADDON_VERSION_UNSUPPORTED')!;
    expect(addon.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe(`${STAGING}/addon/aws-ebs-csi-driver`);
  });

  it('gives every result a physical location, as GitHub code scanning requires (it rejects the whole file otherwise)', () => {
    // upload-sarif: "locationFromSarifResult: expected artifact location" for a logical-only location.
    for (const inv of [liveInventory, manifestsInventory, inputsInventory]) {
      for (const r of buildSarif(inv, TOOL).runs[0].results) {
        expect(r.locations).toHaveLength(1);
        const uri = r.locations[0]!.physicalLocation?.artifactLocation?.uri;
        expect(typeof uri).toBe('string');
        // A relative reference that names no scheme (an ARN's colons would read as `arn:` one).
        expect(uri).toMatch(/^[A-Za-z0-9._~%!$&'()*+,;=@/-]+$/);
        expect(uri).not.toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:/);
        expect(r.locations[0]!.physicalLocation?.region?.startLine).toBeGreaterThanOrEqual(1);
      }
    }
    const run = buildSarif(liveInventory, TOOL).runs[0];
    const uriOf = (code: string) => run.results.find((r) => r.ruleId === code)!.locations[0]!.physicalLocation!.artifactLocation!.uri;
    // Live objects have no file: a stable path naming the object, under eks/ACCOUNT/REGION/CLUSTER.
    expect(uriOf('ROLE_UNREADABLE')).toBe('eks/111122223333/us-east-1/prod/shop/payments');
    expect(uriOf('AGENT_NOT_READY')).toBe('eks/111122223333/eu-west-1/staging');
    expect(uriOf('ADDON_VERSION_UNSUPPORTED')).toBe('eks/111122223333/eu-west-1/staging/addon/aws-ebs-csi-driver');
  });

  it('fingerprints the same ServiceAccount in two files (two overlays) as two results, not one', () => {
    const first = manifestsInventory.serviceAccounts[1];
    expect(first!.findings).not.toEqual([]);
    const other = { ...first!, location: { file: 'overlays/staging/sa.yaml', line: 3 }, findings: first!.findings.map((f) => (f.location ? { ...f, location: { file: 'overlays/staging/sa.yaml', line: 3 } } : f)) };
    const inv: Inventory = { ...manifestsInventory, serviceAccounts: [first!, other] };
    const prints = buildSarif(inv, TOOL).runs[0].results.map((r) => r.partialFingerprints['podidFinding/v1']);
    expect(new Set(prints).size).toBe(prints.length);
  });

  it('points manifests findings at file and line, the finding\'s own location first', () => {
    const [result] = buildSarif(manifestsInventory, TOOL).runs[0].results;
    expect(result!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'apps/worker/all%20in%20one.yaml' },
      region: { startLine: 9 },
    });
  });

  it('marks allowlisted findings as externally suppressed with the reason', () => {
    const results = buildSarif(liveInventory, TOOL).runs[0].results;
    const suppressed = results.filter((r) => r.suppressions);
    expect(suppressed.map((r) => r.ruleId)).toEqual(['WORKLOAD_ON_FARGATE']);
    expect(suppressed[0]!.suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'Fargate batch stays on IRSA (allowlisted until 2026-12-31)' }]);
  });

  it('fingerprints each result stably and uniquely', () => {
    const a = buildSarif(liveInventory, TOOL).runs[0].results.map((r) => r.partialFingerprints['podidFinding/v1']);
    const b = buildSarif(liveInventory, TOOL).runs[0].results.map((r) => r.partialFingerprints['podidFinding/v1']);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
  });

  it('writes an empty results list when nothing was found', () => {
    const clean: Inventory = { ...liveInventory, clusters: [], serviceAccounts: [], addons: [] };
    const run = buildSarif(clean, TOOL).runs[0];
    expect(run.results).toEqual([]);
    expect(run.tool.driver.rules).toEqual([]);
  });
});

describe('SARIF: findings about the inputs', () => {
  const run = buildSarif(inputsInventory, TOOL).runs[0];
  const inputs = inputsInventory.inputFindings!;

  it('adds one result per input finding after the others, with the message as written', () => {
    expect(run.results).toHaveLength(allFindings(inputsInventory).length + inputs.length);
    const tail = run.results.slice(-inputs.length);
    expect(tail.map((r) => [r.ruleId, r.level, r.message.text])).toEqual(inputs.map((f) => [f.code, f.severity === 'error' ? 'error' : 'warning', f.message]));
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
  });

  it('points located ones at their file and line, and names the file as the logical location', () => {
    const parse = run.results.find((r) => r.ruleId === 'MANIFEST_PARSE_ERROR')!;
    expect(parse.locations).toEqual([{
      logicalLocations: [{ name: 'broken/bad.yaml', fullyQualifiedName: 'inputs/broken/bad.yaml', kind: 'resource' }],
      physicalLocation: { artifactLocation: { uri: 'broken/bad.yaml' }, region: { startLine: 6 } },
    }]);
    const expired = run.results.find((r) => r.ruleId === 'ALLOWLIST_EXPIRED')!;
    expect(expired.locations).toEqual([{
      logicalLocations: [{ name: 'inputs', fullyQualifiedName: 'inputs', kind: 'resource' }],
      physicalLocation: { artifactLocation: { uri: 'podid/inputs' }, region: { startLine: 1 } },
    }]);
  });

  it('keeps rule ids unique when a code appears on a service account and in the inputs', () => {
    const worker = inputsInventory.serviceAccounts[1]!;
    const expiredOnSa = finding('ALLOWLIST_EXPIRED', { entry: 'allowlist[0]', expires: '2024-01-01', reason: 'r' });
    const inv: Inventory = { ...inputsInventory, serviceAccounts: [{ ...worker, findings: [...worker.findings, expiredOnSa] }] };
    const r = buildSarif(inv, TOOL).runs[0];
    const ids = r.tool.driver.rules.map((x) => x.id);
    expect(ids).toEqual(['ARN_BAD_ACCOUNT', 'ALLOWLIST_EXPIRED', 'MANIFEST_PARSE_ERROR', 'MANIFEST_UNRENDERED_TEMPLATE']);
    expect(r.results.filter((x) => x.ruleId === 'ALLOWLIST_EXPIRED').map((x) => x.ruleIndex)).toEqual([1, 1]);
  });

  it('suppresses allowlisted input findings and fingerprints every result uniquely', () => {
    expect(run.results.filter((r) => r.suppressions).map((r) => r.message.text)).toEqual([inputs[1]!.message]);
    const prints = run.results.map((r) => r.partialFingerprints['podidFinding/v1']);
    expect(new Set(prints).size).toBe(prints.length);
    expect(prints).toContain('MANIFEST_PARSE_ERROR:inputs/broken/bad.yaml:6');
  });
});

describe('SARIF helpers', () => {
  it('turns a code into a sentence', () => {
    expect(describeCode('TRUST_POLICY_TOO_LARGE')).toBe('Trust policy too large');
    expect(describeCode('X')).toBe('X');
  });

  it('makes artifact URIs: relative stays relative, absolute becomes file://, unsafe characters encoded', () => {
    expect(fileUri('./k8s/sa.yaml')).toBe('k8s/sa.yaml');
    expect(fileUri('k8s\\prod\\sa #1.yaml')).toBe('k8s/prod/sa%20%231.yaml');
    expect(fileUri('/repo/k8s/sa.yaml')).toBe('file:///repo/k8s/sa.yaml');
    expect(fileUri('C:\\repo\\sa.yaml')).toBe('file:///C:/repo/sa.yaml');
  });

  it('makes a path relative to the repository root when it knows it (GitHub resolves relative URIs against the root)', () => {
    const base = { cwd: '/w/repo/k8s', root: '/w/repo' };
    // podid run in a subdirectory (working-directory: k8s): relative to the root, not to where podid ran.
    expect(fileUri('sa.yaml', base)).toBe('k8s/sa.yaml');
    expect(fileUri('../apps/a b.yaml', base)).toBe('apps/a%20b.yaml');
    // An absolute path in the checkout: relative, so the runner's workspace does not leak.
    expect(fileUri('/w/repo/k8s/sa.yaml', base)).toBe('k8s/sa.yaml');
    // Outside the repository: as before.
    expect(fileUri('/tmp/rendered.yaml', base)).toBe('file:///tmp/rendered.yaml');
    expect(fileUri('<stdin>', base)).toBe('%3Cstdin%3E');
    const run = buildSarif(manifestsInventory, { ...TOOL, base: { cwd: '/w/repo/deploy', root: '/w/repo' } }).runs[0];
    expect(run.results[0]!.locations[0]!.physicalLocation!.artifactLocation!.uri).toBe('deploy/apps/worker/all%20in%20one.yaml');
  });
});
