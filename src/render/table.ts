/**
 * `podid scan` default output: one block per cluster (readiness header, its findings, the IRSA
 * service accounts as aligned rows with their findings beneath, then its add-on migrations),
 * then the findings about the inputs (manifests, `.podid.yaml`), and a closing summary
 * sentence. Pure: the palette decides whether anything is coloured.
 */
import type { AddonReport, ClusterReport, Finding, Inventory, ServiceAccountReport } from '../core/scan/inventory.js';
import { alignColumns, type CellInput } from './columns.js';
import {
  CLUSTER_CARRIED_CODES, bySeverity, clusterLabel, findingWhere, groupByCluster, inputFindings, locationLabel, oneLine, plural, podsLabel, roleLabel, saLabel,
  summarySentence, suppressionOf, truncateMiddle, workloadsLabel, type ClusterGroup,
} from './common.js';
import { paintSeverity, paintVerdict, plainPalette, SEVERITY_LABEL, type Palette } from './palette.js';

export interface TableOptions {
  readonly palette?: Palette;
}

// Column caps: wide enough for real names, narrow enough that one long ARN cannot push the
// verdict off an ordinary terminal. ARNs and paths lose their middle, lists their tail.
const MAX_SA = 50;
const MAX_ROLE = 64;
const MAX_WORKLOADS = 48;
const MAX_LOCATION = 60;

const INDENT = '  ';
const FINDING_INDENT = '    ';

export function renderTable(inv: Inventory, opts: TableOptions = {}): string {
  const p = opts.palette ?? plainPalette;
  const lines: string[] = [];
  for (const group of groupByCluster(inv)) {
    if (lines.length > 0) lines.push('');
    lines.push(...clusterBlock(inv, group, p));
  }
  const inputs = inputFindings(inv);
  if (inputs.length > 0) {
    // About the files podid read (or the allowlist), not any cluster: a section of its own.
    if (lines.length > 0) lines.push('');
    lines.push(p.bold('inputs'), ...findingLines(inputs, INDENT, p));
  }
  if (lines.length > 0) lines.push('');
  lines.push(p.bold(summarySentence(inv)));
  return `${lines.join('\n')}\n`;
}

function clusterBlock(inv: Inventory, group: ClusterGroup, p: Palette): string[] {
  const lines: string[] = [];
  const c = group.cluster;
  // The cluster's verdict, carried to each of its service accounts and add-ons, is shown once here.
  const carried = c ? carriedOnce(group) : [];
  if (c) {
    lines.push(c.scanned === false ? `${p.bold(c.name)}  ${p.dim(`context ${c.context ?? ''}`)}` : `${p.bold(c.name)}  ${p.dim(c.arn)}`);
    lines.push(INDENT + clusterFacts(c, p));
    lines.push(...findingLines([...c.findings, ...carried], INDENT, p));
  } else {
    lines.push(p.bold(inv.source === 'manifests' ? `manifests${group.key === '' ? '' : ` (${group.key})`}` : clusterLabel(group)));
  }

  lines.push('');
  if (group.serviceAccounts.length === 0) {
    lines.push(INDENT + p.dim('no service accounts with an IRSA role annotation'));
  } else {
    lines.push(...serviceAccountRows(inv, group.serviceAccounts, p, c !== null));
  }

  if (group.addons.length > 0) {
    lines.push('', INDENT + p.bold('add-on migrations (UpdateAddon)'));
    lines.push(...addonRows(group.addons, c, p));
  }
  return lines;
}

const isCarried = (f: Finding) => CLUSTER_CARRIED_CODES.has(f.code);

/**
 * Each distinct carried finding of the group once, saying how many rows below carry it: on a
 * blocked cluster of 200 service accounts the same line 200 times would bury everything else.
 */
function carriedOnce(group: ClusterGroup): Finding[] {
  const byKey = new Map<string, { finding: Finding; sas: number; addons: number }>();
  const count = (findings: readonly Finding[], kind: 'sas' | 'addons') => {
    for (const f of findings.filter(isCarried)) {
      const key = `${f.code}\u0000${f.message}\u0000${f.suppressed?.reason ?? ''}`;
      const seen = byKey.get(key) ?? { finding: f, sas: 0, addons: 0 };
      seen[kind] += 1;
      byKey.set(key, seen);
    }
  };
  for (const sa of group.serviceAccounts) count(sa.findings, 'sas');
  for (const a of group.addons) count(a.findings, 'addons');
  return [...byKey.values()].map(({ finding, sas, addons }) => {
    const what = [sas > 0 ? plural(sas, 'service account') : '', addons > 0 ? plural(addons, 'add-on') : ''].filter((x) => x !== '').join(' and ');
    return { ...finding, message: `${finding.message} (carried to ${sas + addons === 1 ? 'the' : 'each of the'} ${what} below)` };
  });
}

function clusterFacts(c: ClusterReport, p: Palette): string {
  if (c.scanned === false) return `not scanned: ${paintVerdict(p, c.readiness)}`;
  const facts = [
    `Kubernetes ${c.version} ${c.platformVersion}${c.autoMode ? ' Auto Mode' : ''}`,
    agentFact(c),
    `associations ${c.associations.count}/${c.associations.quota}`,
  ];
  return `${facts.join(', ')}: ${paintVerdict(p, c.readiness)}`;
}

function agentFact(c: ClusterReport): string {
  const a = c.agent;
  if (a.source === 'auto-mode') return 'agent built in (Auto Mode)';
  if (a.source === 'none') return 'agent not installed';
  const what = ['agent add-on', a.addonVersion, a.addonStatus].filter((x): x is string => x !== null && x !== '').join(' ');
  return `${what} on ${a.nodesReady}/${a.nodesTotal} nodes`;
}

function serviceAccountRows(inv: Inventory, sas: readonly ServiceAccountReport[], p: Palette, carriedShown: boolean): string[] {
  const offline = inv.source === 'manifests';
  const header: CellInput[] = ['NAMESPACE/NAME', 'ROLE', 'WORKLOADS', offline ? 'LOCATION' : 'PODS', 'VERDICT'].map((text) => ({ text, paint: p.dim }));
  const rows: CellInput[][] = [header, ...sas.map((sa): CellInput[] => [
    truncateMiddle(oneLine(saLabel(sa)), MAX_SA),
    truncateMiddle(oneLine(roleLabel(sa)), MAX_ROLE),
    oneLine(workloadsLabel(sa, MAX_WORKLOADS)),
    offline ? truncateMiddle(oneLine(locationLabel(sa.location)), MAX_LOCATION) : podsLabel(sa.pods),
    { text: sa.verdict, paint: (s) => paintVerdict(p, sa.verdict, s) },
  ])];
  const aligned = alignColumns(rows, { indent: INDENT });
  const out: string[] = [aligned[0] ?? ''];
  sas.forEach((sa, i) => {
    out.push(aligned[i + 1] ?? '');
    out.push(...findingLines(carriedShown ? sa.findings.filter((f) => !isCarried(f)) : sa.findings, FINDING_INDENT, p));
  });
  return out;
}

function addonRows(addons: readonly AddonReport[], cluster: ClusterReport | null, p: Palette): string[] {
  const header: CellInput[] = ['ADDON', 'VERSION', 'SERVICE ACCOUNT', 'ROLE', 'POD IDENTITY', 'VERDICT'].map((text) => ({ text, paint: p.dim }));
  const rows: CellInput[][] = [header, ...addons.map((a): CellInput[] => [
    oneLine(a.name),
    oneLine(a.version),
    oneLine(a.serviceAccount ?? '-'),
    truncateMiddle(oneLine(addonRoleLabel(a.serviceAccountRoleArn, cluster)), MAX_ROLE),
    a.supportsPodIdentity ? 'supported' : 'unsupported',
    { text: a.verdict, paint: (s) => paintVerdict(p, a.verdict, s) },
  ])];
  const aligned = alignColumns(rows, { indent: INDENT });
  const out: string[] = [aligned[0] ?? ''];
  addons.forEach((a, i) => {
    out.push(aligned[i + 1] ?? '');
    out.push(...findingLines(cluster !== null ? a.findings.filter((f) => !isCarried(f)) : a.findings, FINDING_INDENT, p));
  });
  return out;
}

const ROLE_ARN = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;

/** Same rule as service accounts: the name in the cluster's own account, the ARN otherwise. */
function addonRoleLabel(arn: string, cluster: ClusterReport | null): string {
  const m = ROLE_ARN.exec(arn);
  return m && cluster && m[1] === cluster.account && m[2] ? m[2] : arn;
}

/**
 * `error CODE  message`, the fix beneath for errors and warnings (info rarely needs action).
 * An allowlisted finding says so and is dimmed: it no longer counts against the gate.
 */
function findingLines(findings: readonly Finding[], indent: string, p: Palette): string[] {
  const out: string[] = [];
  const labelWidth = Math.max(...Object.values(SEVERITY_LABEL).map((l) => l.length));
  for (const f of bySeverity(findings)) {
    const label = SEVERITY_LABEL[f.severity].padEnd(labelWidth);
    const suppressed = suppressionOf(f);
    const at = findingWhere(f);
    const where = at === null ? '' : ` (${oneLine(at)})`;
    if (suppressed) {
      out.push(`${indent}${p.dim(`${label} ${f.code}  ${oneLine(f.message)}${where}`)}`);
      out.push(`${indent}${' '.repeat(labelWidth + 1)}${p.dim(`allowlisted until ${oneLine(suppressed.expires)}: ${oneLine(suppressed.reason)}`)}`);
      continue;
    }
    out.push(`${indent}${paintSeverity(p, f.severity, label)} ${p.bold(f.code)}  ${oneLine(f.message)}${where}`);
    if (f.severity !== 'info' && f.fix.trim() !== '') {
      out.push(`${indent}${' '.repeat(labelWidth + 1)}${p.dim(`fix: ${oneLine(f.fix)}`)}`);
    }
  }
  return out;
}
