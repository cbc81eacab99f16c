import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { finding } from '../../src/core/scan/findings.js';
import type { Finding, Inventory, ServiceAccountReport } from '../../src/core/scan/inventory.js';
import { findingWhere, summarySentence, truncateEnd, truncateMiddle, workloadsLabel } from '../../src/render/common.js';
import { chalkPalette, plainPalette, type Palette } from '../../src/render/palette.js';
import { alignColumns } from '../../src/render/columns.js';
import { renderTable } from '../../src/render/table.js';
import stringWidth from 'string-width';
import { inputsInventory, liveInventory, manifestsInventory } from './fixtures/inventory.js';

const ANSI = /\u001b\[[0-9;]*m/;




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
  it('groups by cluster, aligns columns, lists findings and add-ons, ends with the summary (golden/table-live.txt)', async () => {
    await expect(renderTable(liveInventory)).toMatchFileSnapshot('golden/table-live.txt');
  });

  it('shows file:line instead of pod counts for a manifests scan (golden/table-manifests.txt)', async () => {
    await expect(renderTable(manifestsInventory)).toMatchFileSnapshot('golden/table-manifests.txt');
  });

  it('lists the findings about the inputs in a section after the clusters, file:line shown once (golden/table-inputs.txt)', async () => {
    await expect(renderTable(inputsInventory)).toMatchFileSnapshot('golden/table-inputs.txt');
  });

  it('shows a located input finding whose message does not name the file with its file:line', () => {
    const f: Finding = { ...finding('MANIFEST_PARSE_ERROR', { at: 'a.yaml', detail: 'x' }), message: 'cannot be read', fix: 'fix it', location: { file: 'a.yaml', line: 3 } };
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
    expect(untag(painted)).toBe(renderTable(inputsInventory));
    expect(painted).toContain('\n<bold>inputs</bold>\n');
    expect(painted).toContain('  <red>error</red> <bold>MANIFEST_PARSE_ERROR</bold>  broken/bad.yaml:6:');
    expect(painted).toContain('  <dim>error MANIFEST_PARSE_ERROR  vendor/x.yaml:2:');
  });

  it('has no trailing spaces on any line', () => {
    for (const line of renderTable(liveInventory).split('\n')) expect(line).toBe(line.trimEnd());
  });

  it('colours verdicts and severities from the palette without moving any column', () => {
    const painted = renderTable(liveInventory, { palette: tagPalette });
    expect(untag(painted)).toBe(renderTable(liveInventory));
    expect(painted).toContain('<red>blocked</red>');
    expect(painted).toContain('<green>ready</green>');
    expect(painted).toContain('<yellow>ready-with-warnings</yellow>');
    expect(painted).toContain('<cyan>partial</cyan>');
    expect(painted).toContain('<dim>migrated</dim>');
    expect(painted).toContain('<red>error</red> <bold>ROLE_UNREADABLE</bold>');
    expect(painted).toContain('<yellow>warn </yellow> <bold>ANNOTATION_AUDIENCE</bold>');
  });

  it('writes no ANSI codes through a chalk palette at level 0, and does at level 3', () => {
    expect(renderTable(liveInventory, { palette: chalkPalette(new Chalk({ level: 0 })) })).toBe(renderTable(liveInventory));
    expect(renderTable(liveInventory, { palette: plainPalette })).not.toMatch(ANSI);
    expect(renderTable(liveInventory, { palette: chalkPalette(new Chalk({ level: 3 })) })).toMatch(ANSI);
  });

  it('shows a finding every service account of a blocked cluster carries once, at the cluster', () => {
    const carried = { code: 'CLUSTER_BLOCKED' as const, severity: 'error' as const, message: 'cluster staging is blocked: AGENT_NOT_ACTIVE', fix: 'fix the cluster findings first' };
    const staging = liveInventory.serviceAccounts.find((x) => x.cluster.endsWith('/staging'))!;
    const many = Array.from({ length: 5 }, (_, i) => ({ ...staging, name: `job-${i}`, findings: [carried, ...staging.findings.filter((f) => f.code !== 'CLUSTER_BLOCKED')] }));
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

  it('aligns columns by display width: CJK characters and emoji take two columns, combining marks none', () => {
    const lines = alignColumns([
      ['本番クラスタ', 'ready'],
      ['prod', 'ready'],
      ['🚀👍🏽', 'ready'],
      ['cafe\u0301', 'ready'],
    ]);
    // Every second column starts at the same terminal column: after the widest label (12 columns) and the gap.
    expect(lines.map((l) => stringWidth(l.slice(0, l.lastIndexOf('ready'))))).toEqual([14, 14, 14, 14]);
    expect(lines[1]).toBe('prod          ready');
  });

  it('truncates wide labels by display width without splitting a character', () => {
    const wide = 'クラスタ-本番-東京-リージョン';
    const cut = truncateMiddle(wide, 12);
    expect(stringWidth(cut)).toBeLessThanOrEqual(12);
    expect(cut).toBe('クラ...ョン');
    expect(truncateEnd('👍🏽👍🏽👍🏽👍🏽👍🏽', 7)).toBe('👍🏽👍🏽...');
  });

  it('lists whole workloads while they fit, then counts the rest', () => {
    const sa = liveInventory.serviceAccounts[4]!;
    expect(workloadsLabel(sa)).toBe('cronjob/legacy-report, job/legacy-backfill, rs/legacy-canary, pod/legacy-debug, deploy/legacy-api');
    expect(workloadsLabel(sa, 60)).toBe('cronjob/legacy-report, job/legacy-backfill, +3 more');
    expect(workloadsLabel(sa, 10)).toMatch(/, \+4 more$/);
    expect(workloadsLabel({ ...sa, workloads: [] })).toBe('-');
  });

  it('prints a finding\'s file:line unless its message already names that very line', () => {
    const at = (message: string) => findingWhere({ ...finding('ANNOTATION_AUDIENCE', { audience: 'x' }), message, location: { file: 'a.yaml', line: 1 } });
    expect(at('a.yaml:1: cannot be read')).toBeNull();
    expect(at('ServiceAccount x uses IRSA at a.yaml:1')).toBeNull();
    expect(at('ServiceAccount x uses IRSA at a.yaml:12')).toBe('a.yaml:1');
    expect(at('no location named')).toBe('a.yaml:1');
    expect(findingWhere({ ...finding('ANNOTATION_AUDIENCE', { audience: 'x' }), message: 'm' })).toBeNull();
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
