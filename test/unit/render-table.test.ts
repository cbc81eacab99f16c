import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { Inventory, ServiceAccountReport } from '../../src/core/scan/inventory.js';
import { findingWhere, summarySentence, truncateEnd, truncateMiddle, workloadsLabel } from '../../src/render/common.js';
import { chalkPalette, plainPalette, type Palette } from '../../src/render/palette.js';
import { renderTable } from '../../src/render/table.js';
import { inputsInventory, liveInventory, manifestsInventory } from './fixtures/inventory.js';

const ANSI = /\u001b\[[0-9;]*m/;

const LIVE_TABLE = `prod  arn:aws:eks:us-east-1:111122223333:cluster/prod
  Kubernetes 1.29 eks.8, agent add-on v1.3.4-eksbuild.1 ACTIVE on 3/3 nodes, associations 2/1000: ready

  NAMESPACE/NAME        ROLE                                          WORKLOADS                         PODS           VERDICT
  shop/cart             cart                                          deploy/cart                       3 irsa / 0 pi  ready
  shop/orders           orders                                        sts/orders, deploy/orders-worker  3 irsa / 0 pi  ready-with-warnings
    warn  TRUST_IRSA_WILDCARD  The trust policy grants system:serviceaccount:shop:* through StringLike.
          fix: Narrow the sub condition to system:serviceaccount:shop:orders before or after the move.
    info  ANNOTATION_TOKEN_EXPIRATION  eks.amazonaws.com/token-expiration is set; Pod Identity ignores it.
  shop/payments         arn:aws:iam::444455556666:role/payments-irsa  deploy/payments                   3 irsa / 0 pi  blocked
    error ROLE_UNREADABLE  Role arn:aws:iam::444455556666:role/payments-irsa is in another account and GetRole was denied.
          fix: Scan with credentials that can read the role, or allowlist the SA in .podid.yaml.
  shop/search           search                                        deploy/search                     1 irsa / 2 pi  partial
    warn  PODS_STILL_ON_IRSA  1 of 3 running pods still use IRSA credentials.
          fix: Restart deploy/search: kubectl -n shop rollout restart deploy/search
  shop/legacy           legacy                                        cronjob/legacy-report, +4 more    0 irsa / 4 pi  migrated
  kube-system/aws-node  vpc-cni-irsa                                  addon/vpc-cni, ds/aws-node        3 irsa / 0 pi  ready
    info  ADDON_SERVICE_ACCOUNT  Managed by the vpc-cni add-on.

  add-on migrations (UpdateAddon)
  ADDON    VERSION             SERVICE ACCOUNT  ROLE          POD IDENTITY  VERDICT
  vpc-cni  v1.18.3-eksbuild.1  aws-node         vpc-cni-irsa  supported     ready

staging  arn:aws:eks:eu-west-1:111122223333:cluster/staging
  Kubernetes 1.27 eks.12, agent not installed, associations 0/1000: blocked
  error AGENT_NOT_INSTALLED  The eks-pod-identity-agent add-on is not installed and Auto Mode is off.
        fix: Install it: aws eks create-addon --cluster-name staging --addon-name eks-pod-identity-agent

  NAMESPACE/NAME  ROLE     WORKLOADS        PODS                    VERDICT
  batch/reports   reports  cronjob/reports  1 irsa / 0 pi / 1 none  blocked
    error AGENT_NOT_INSTALLED  The cluster has no Pod Identity agent.
          fix: Install the eks-pod-identity-agent add-on.
    error WORKLOAD_ON_FARGATE  cronjob/reports runs on Fargate profile fp-batch | Pod Identity is <not> supported there & "never" will be?.
          allowlisted until 2026-12-31: Fargate batch stays on IRSA

  add-on migrations (UpdateAddon)
  ADDON               VERSION             SERVICE ACCOUNT  ROLE     POD IDENTITY  VERDICT
  aws-ebs-csi-driver  v1.20.0-eksbuild.1  -                ebs-csi  unsupported   blocked
    error ADDON_VERSION_NO_POD_IDENTITY  aws-ebs-csi-driver v1.20.0-eksbuild.1 does not support Pod Identity.
          fix: Update the add-on to a version that lists a podIdentityConfiguration.

7 service accounts in 2 clusters: 2 ready, 1 ready-with-warnings, 2 blocked, 1 partial, 1 migrated; 2 add-on migrations; findings: 5 errors, 2 warnings, 2 info
`;

const MANIFESTS_TABLE = `manifests

  NAMESPACE/NAME  ROLE    WORKLOADS   LOCATION                         VERDICT
  gitops/api      api     deploy/api  apps/api/service-account.yaml:4  ready
  gitops/worker   worker  -           apps/worker/all in one.yaml:7    blocked
    error ARN_WHITESPACE  The role ARN has trailing whitespace. (apps/worker/all in one.yaml:9)
          fix: Remove the space after the ARN.

2 service accounts in manifests: 1 ready, 1 blocked; findings: 1 error
`;

const INPUTS_TABLE = `manifests

  NAMESPACE/NAME  ROLE    WORKLOADS   LOCATION                         VERDICT
  gitops/api      api     deploy/api  apps/api/service-account.yaml:4  ready
  gitops/worker   worker  -           apps/worker/all in one.yaml:7    blocked
    error ARN_WHITESPACE  The role ARN has trailing whitespace. (apps/worker/all in one.yaml:9)
          fix: Remove the space after the ARN.

inputs
  error MANIFEST_PARSE_ERROR  broken/bad.yaml:6: Flow sequence in block collection must be sufficiently indented and end with a ]; podid could not look for IRSA annotations in it
        fix: fix the YAML (kubectl apply --dry-run=client -f FILE shows the same error), or leave the file out of --manifests
  error MANIFEST_PARSE_ERROR  vendor/x.yaml:2: Unexpected scalar at node end; podid could not look for IRSA annotations in it
        allowlisted until 2026-06-30: vendored upstream manifests
  warn  MANIFEST_UNRENDERED_TEMPLATE  charts/app/templates/sa.yaml:4: ServiceAccount {{ include "app.sa" . }} contains unrendered template syntax ({{ }}); podid cannot tell what it renders to
        fix: scan the rendered output instead: helm template RELEASE CHART | podid scan --manifests -
  warn  ALLOWLIST_EXPIRED  .podid.yaml allowlist[1] ("migrating in Q3") was valid until 2024-09-30 and no longer applies
        fix: migrate what the entry covered, or extend its expires date in .podid.yaml after review

2 service accounts in manifests: 1 ready, 1 blocked; findings: 3 errors, 2 warnings
`;

/** Marks each colour so a test can see what was painted, without ANSI. */
const tagPalette: Palette = {
  red: (s) => `<red>${s}</red>`,
  yellow: (s) => `<yellow>${s}</yellow>`,
  green: (s) => `<green>${s}</green>`,
  cyan: (s) => `<cyan>${s}</cyan>`,
  dim: (s) => `<dim>${s}</dim>`,
  bold: (s) => `<bold>${s}</bold>`,
};
const untag = (s: string) => s.replace(/<\/?(red|yellow|green|cyan|dim|bold)>/g, '');

describe('renderTable', () => {
  it('groups by cluster, aligns columns, lists findings and add-ons, ends with the summary', () => {
    expect(renderTable(liveInventory)).toBe(LIVE_TABLE);
  });

  it('shows file:line instead of pod counts for a manifests scan', () => {
    expect(renderTable(manifestsInventory)).toBe(MANIFESTS_TABLE);
  });

  it('lists the findings about the inputs in a section after the clusters, file:line shown once', () => {
    expect(renderTable(inputsInventory)).toBe(INPUTS_TABLE);
  });

  it('shows a located input finding whose message does not name the file with its file:line', () => {
    const f = { code: 'MANIFEST_PARSE_ERROR', severity: 'error' as const, message: 'cannot be read', fix: 'fix it', location: { file: 'a.yaml', line: 3 } };
    const inv: Inventory = { ...manifestsInventory, serviceAccounts: [], inputFindings: [f] };
    expect(renderTable(inv)).toBe([
      'inputs',
      '  error MANIFEST_PARSE_ERROR  cannot be read (a.yaml:3)',
      '        fix: fix it',
      '',
      summarySentence(inv),
      '',
    ].join('\n'));
  });

  it('paints input findings like any other: severity coloured, allowlisted ones dimmed', () => {
    const painted = renderTable(inputsInventory, { palette: tagPalette });
    expect(untag(painted)).toBe(INPUTS_TABLE);
    expect(painted).toContain('\n<bold>inputs</bold>\n');
    expect(painted).toContain('  <red>error</red> <bold>MANIFEST_PARSE_ERROR</bold>  broken/bad.yaml:6:');
    expect(painted).toContain('  <dim>error MANIFEST_PARSE_ERROR  vendor/x.yaml:2:');
  });

  it('has no trailing spaces on any line', () => {
    for (const line of renderTable(liveInventory).split('\n')) expect(line).toBe(line.trimEnd());
  });

  it('colours verdicts and severities from the palette without moving any column', () => {
    const painted = renderTable(liveInventory, { palette: tagPalette });
    expect(untag(painted)).toBe(LIVE_TABLE);
    expect(painted).toContain('<red>blocked</red>');
    expect(painted).toContain('<green>ready</green>');
    expect(painted).toContain('<yellow>ready-with-warnings</yellow>');
    expect(painted).toContain('<cyan>partial</cyan>');
    expect(painted).toContain('<dim>migrated</dim>');
    expect(painted).toContain('<red>error</red> <bold>ROLE_UNREADABLE</bold>');
    expect(painted).toContain('<yellow>warn </yellow> <bold>TRUST_IRSA_WILDCARD</bold>');
  });

  it('writes no ANSI codes through a chalk palette at level 0, and does at level 3', () => {
    expect(renderTable(liveInventory, { palette: chalkPalette(new Chalk({ level: 0 })) })).toBe(LIVE_TABLE);
    expect(renderTable(liveInventory, { palette: plainPalette })).not.toMatch(ANSI);
    expect(renderTable(liveInventory, { palette: chalkPalette(new Chalk({ level: 3 })) })).toMatch(ANSI);
  });

  it('shows a finding every service account of a blocked cluster carries once, at the cluster', () => {
    const carried = { code: 'CLUSTER_BLOCKED' as const, severity: 'error' as const, message: 'cluster staging is blocked: AGENT_NOT_ACTIVE', fix: 'fix the cluster findings first' };
    const staging = liveInventory.serviceAccounts.find((x) => x.cluster.endsWith('/staging'))!;
    const many = Array.from({ length: 5 }, (_, i) => ({ ...staging, name: `job-${i}`, findings: [carried, ...staging.findings] }));
    const inv: Inventory = { ...liveInventory, serviceAccounts: [...liveInventory.serviceAccounts.filter((x) => x !== staging), ...many] };
    const out = renderTable(inv);
    expect(out.split('\n').filter((l) => l.includes('CLUSTER_BLOCKED'))).toEqual([
      '  error CLUSTER_BLOCKED  cluster staging is blocked: AGENT_NOT_ACTIVE (carried to each of the 5 service accounts below)',
    ]);
    // Each row keeps its own findings and its verdict.
    expect(out.split('\n').filter((l) => l.includes('WORKLOAD_ON_FARGATE'))).toHaveLength(5);
  });

  it('says so when a cluster has no IRSA service accounts', () => {
    const empty: Inventory = {
      ...liveInventory,
      serviceAccounts: [],
      addons: [],
      summary: { ...liveInventory.summary, serviceAccounts: 0, addons: 0, byVerdict: { ready: 0, 'ready-with-warnings': 0, blocked: 0, partial: 0, migrated: 0 } },
    };
    const out = renderTable(empty);
    expect(out.match(/no service accounts with an IRSA role annotation/g)).toHaveLength(2);
    expect(out).toContain('0 service accounts in 2 clusters; findings:');
  });

  it('keeps one line per row when names carry newlines, and caps a long cross-account ARN in the middle', () => {
    const base = liveInventory.serviceAccounts[2]!;
    const longArn = `arn:aws:iam::444455556666:role/${'team/'.repeat(12)}payments-irsa`;
    const odd: ServiceAccountReport = { ...base, name: 'pay\nments', role: { ...base.role, arn: longArn } };
    const inv: Inventory = { ...liveInventory, clusters: [liveInventory.clusters[0]!], serviceAccounts: [odd], addons: [] };
    const row = renderTable(inv).split('\n').find((l) => l.includes('shop/pay'));
    expect(row).toBeDefined();
    expect(row).toContain('shop/pay ments');
    expect(row).toContain('arn:aws:iam::444455556666:role/...');
    expect(row).toContain('...');
    expect(row).toContain('payments-irsa');
    expect(row).not.toContain(longArn);
  });
});

describe('table helpers', () => {
  it('truncates at the end or in the middle to exactly the limit', () => {
    expect(truncateEnd('abcdefghij', 10)).toBe('abcdefghij');
    expect(truncateEnd('abcdefghijk', 10)).toBe('abcdefg...');
    expect(truncateMiddle('arn:aws:iam::444455556666:role/very-long-name', 20)).toBe('arn:aws:i...ong-name');
    expect(truncateMiddle('arn:aws:iam::444455556666:role/very-long-name', 20)).toHaveLength(20);
  });

  it('lists whole workloads while they fit, then counts the rest', () => {
    const sa = liveInventory.serviceAccounts[4]!;
    expect(workloadsLabel(sa)).toBe('cronjob/legacy-report, job/legacy-backfill, rs/legacy-canary, pod/legacy-debug, deploy/legacy-api');
    expect(workloadsLabel(sa, 60)).toBe('cronjob/legacy-report, job/legacy-backfill, +3 more');
    expect(workloadsLabel(sa, 10)).toMatch(/, \+4 more$/);
    expect(workloadsLabel({ ...sa, workloads: [] })).toBe('-');
  });

  it('prints a finding\'s file:line unless its message already names that very line', () => {
    const at = (message: string) => findingWhere({ code: 'X', severity: 'warning', message, fix: '', location: { file: 'a.yaml', line: 1 } });
    expect(at('a.yaml:1: cannot be read')).toBeNull();
    expect(at('ServiceAccount x uses IRSA at a.yaml:1')).toBeNull();
    expect(at('ServiceAccount x uses IRSA at a.yaml:12')).toBe('a.yaml:1');
    expect(at('no location named')).toBe('a.yaml:1');
    expect(findingWhere({ code: 'X', severity: 'warning', message: 'm', fix: '' })).toBeNull();
  });

  it('pluralises the summary and leaves out zero counts', () => {
    const one: Inventory = {
      ...manifestsInventory,
      serviceAccounts: manifestsInventory.serviceAccounts.slice(0, 1),
      summary: { clusters: 0, serviceAccounts: 1, addons: 0, byVerdict: { ready: 1, 'ready-with-warnings': 0, blocked: 0, partial: 0, migrated: 0 }, findings: { error: 0, warning: 0, info: 0 } },
    };
    expect(summarySentence(one)).toBe('1 service account in manifests: 1 ready; no findings');
  });
});
