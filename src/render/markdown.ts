/**
 * `podid scan -o markdown`: for pull-request comments and `$GITHUB_STEP_SUMMARY`. A title and
 * the summary sentence, counts by verdict, one table per cluster (service account, role,
 * verdict, the finding that explains it), the findings about the inputs (manifests,
 * `.podid.yaml`) in a section of their own, then every other finding inside a collapsed
 * <details>.
 * Text from the outside world is escaped so it cannot break a table or inject markup.
 */
import { VERDICTS, type Finding, type Inventory, type Verdict } from '../core/scan/inventory.js';
import {
  bySeverity, clusterLabel, findingWhere, groupByCluster, inputFindings, oneLine, roleLabel, saLabel, summarySentence, suppressionOf,
  topFinding, truncateEnd, truncateMiddle, type ClusterGroup,
} from './common.js';
import { escapeText } from './xml.js';

export interface MarkdownOptions {
  /** First line, a level-2 heading. */
  readonly title?: string;
  /**
   * Cap on the characters of the findings list, because GitHub rejects comments over 65,536
   * characters; what does not fit is counted and left to the JSON or SARIF report.
   */
  readonly maxFindingsChars?: number;
  /**
   * Cap on the characters of the cluster sections (heading, summary, service-account and add-on
   * tables), all clusters together, for the same reason: a fleet of thousands of IRSA service
   * accounts, or of hundreds of clusters, would otherwise write a comment GitHub refuses. Rows
   * that do not fit are counted under their table, clusters after the last section.
   */
  readonly maxTableChars?: number;
}

const DEFAULT_TITLE = 'podid scan: IRSA to Pod Identity readiness';
const DEFAULT_MAX_FINDINGS_CHARS = 40_000;
const DEFAULT_MAX_TABLE_CHARS = 16_000;
const MAX_TOP_FINDING = 140;
const MAX_ROLE = 80;

/**
 * The verdict's own name (the word in the JSON, so it can be searched for), in bold when a
 * person has to act before or after the move. No emoji: it reads the same in every font.
 */
export function verdictMarker(v: Verdict): string {
  return v === 'blocked' || v === 'partial' ? `**${v}**` : v;
}

/** Backslash-escape Markdown punctuation (`|` included) and neutralise HTML, on one line, for a table cell. */
export function escapeCell(s: string): string {
  return escapeInline(oneLine(s));
}

/** Inline text outside tables: HTML escaped as XML text is (render/xml.ts), then Markdown specials backslash-escaped. */
export function escapeInline(s: string): string {
  return escapeText(s).replace(/([\\`*_{}[\]()#+!~|])/g, '\\$1');
}

export function renderMarkdown(inv: Inventory, opts: MarkdownOptions = {}): string {
  const out: string[] = [];
  out.push(`## ${escapeInline(opts.title ?? DEFAULT_TITLE)}`, '');
  out.push(`${escapeInline(summarySentence(inv))}.`, '');
  out.push(...verdictTable(inv), '');
  const groups = groupByCluster(inv);
  const tableBudget = { left: opts.maxTableChars ?? DEFAULT_MAX_TABLE_CHARS };
  // The sections themselves (heading, summary, table header) are charged too: a fleet of a few
  // hundred clusters is past GitHub's limit on its headings alone. Clusters past the budget are
  // counted; their findings still count in the details below.
  let clustersLeft = 0;
  for (const group of groups) {
    if (tableBudget.left <= 0) {
      clustersLeft++;
      continue;
    }
    const before = tableBudget.left;
    const section = clusterSection(inv, group, tableBudget);
    const size = section.reduce((n, line) => n + line.length + 1, 1);
    tableBudget.left -= Math.max(0, size - (before - tableBudget.left));
    out.push(...section, '');
  }
  if (clustersLeft > 0) out.push(notShownRows(clustersLeft, 'clusters'), '');
  const budget = { left: opts.maxFindingsChars ?? DEFAULT_MAX_FINDINGS_CHARS };
  const inputs = inputsSection(inv, budget);
  out.push(...inputs, '');
  out.push(...findingsDetails(groups, budget, inputs.length > 0));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

function verdictTable(inv: Inventory): string[] {
  const rows = VERDICTS.map((v) => `| ${verdictMarker(v)} | ${inv.summary.byVerdict[v]} |`);
  return ['| Verdict | Service accounts |', '| --- | ---: |', ...rows];
}

function clusterSection(inv: Inventory, group: ClusterGroup, budget: Budget): string[] {
  const c = group.cluster;
  const heading = c ? `### ${escapeInline(c.name)} (\`${(c.scanned === false ? `context ${c.context ?? ''}` : c.arn).replace(/`/g, '')}\`)` : `### ${escapeInline(inv.source === 'manifests' ? 'Manifests' : clusterLabel(group))}`;
  const out = [heading, ''];
  if (c?.scanned === false) {
    out.push(`Not scanned; readiness ${verdictMarker(c.readiness)}.`, '');
    const top = topFinding(c.findings);
    if (top) out.push(`Cluster: ${findingCell(top)}`, '');
    return out;
  }
  if (c) {
    out.push(`Kubernetes ${escapeInline(c.version)}, ${escapeInline(c.platformVersion)}; readiness ${verdictMarker(c.readiness)}; `
      + `associations ${c.associations.count}/${c.associations.quota}.`, '');
    const top = topFinding(c.findings);
    if (top) out.push(`Cluster: ${findingCell(top)}`, '');
  }
  if (group.serviceAccounts.length === 0) {
    out.push('No service accounts with an IRSA role annotation.');
  } else {
    out.push('| Service account | Role | Verdict | Top finding |', '| --- | --- | --- | --- |');
    const rows = group.serviceAccounts.map((sa) => {
      const top = topFinding(sa.findings);
      return `| ${escapeCell(saLabel(sa))} | ${escapeCell(truncateMiddle(roleLabel(sa), MAX_ROLE))} | ${verdictMarker(sa.verdict)} | ${top ? findingCell(top) : ''} |`;
    });
    const { kept, left } = fit(rows, budget);
    out.push(...kept);
    if (left > 0) out.push('', notShownRows(left, 'service accounts'));
  }
  if (group.addons.length > 0) {
    out.push('', '| Add-on (UpdateAddon) | Version | Pod Identity | Verdict | Top finding |', '| --- | --- | --- | --- | --- |');
    const rows = group.addons.map((a) => {
      const top = topFinding(a.findings);
      return `| ${escapeCell(a.name)} | ${escapeCell(a.version)} | ${a.supportsPodIdentity ? 'supported' : 'unsupported'} | ${verdictMarker(a.verdict)} | ${top ? findingCell(top) : ''} |`;
    });
    const { kept, left } = fit(rows, budget);
    out.push(...kept);
    if (left > 0) out.push('', notShownRows(left, 'add-on migrations'));
  }
  return out;
}

function findingCell(f: Finding): string {
  const waived = suppressionOf(f) ? ' (allowlisted)' : '';
  return `\`${f.code}\` ${escapeCell(truncateEnd(oneLine(f.message), MAX_TOP_FINDING))}${waived}`;
}

/** `- error \`CODE\` subject (file:line): message Fix: ...`; an input finding has no subject. */
function findingItem(subject: string, f: Finding): string {
  const s = suppressionOf(f);
  const at = findingWhere(f);
  const where = at === null ? '' : ` (${escapeInline(oneLine(at))})`;
  const about = `${subject === '' ? '' : ` ${subject}`}${where}`;
  let line = `- ${f.severity} \`${f.code}\`${about}${about === '' ? '' : ':'} ${escapeInline(oneLine(f.message))}`;
  if (f.fix.trim() !== '') line += ` Fix: ${escapeInline(oneLine(f.fix))}`;
  if (s) line += ` _Allowlisted until ${escapeInline(s.expires)}: ${escapeInline(oneLine(s.reason))}_`;
  return line;
}

/** What is left of the characters the finding lists may use; shared so the two lists never exceed it together. */
interface Budget {
  left: number;
}

/** The leading items that fit in the budget (taken from it), and how many did not. */
function fit(items: readonly string[], budget: Budget): { kept: string[]; left: number } {
  const kept: string[] = [];
  for (const item of items) {
    if (item.length + 1 > budget.left) break;
    kept.push(item);
    budget.left -= item.length + 1;
  }
  return { kept, left: items.length - kept.length };
}

const notShownRows = (n: number, what: string) => `${n} more ${what} not shown here; run \`podid scan -o json\` for all of them (the verdict counts above include them).`;
const notShown = (n: number) => `${n} more not shown here; run \`podid scan -o json\` or \`-o sarif\` for all of them.`;

/**
 * Findings about the inputs (unparseable manifests, unrendered templates, stale allowlist
 * entries) in the open, before the collapsed list: an input error fails every CI gate.
 */
function inputsSection(inv: Inventory, budget: Budget): string[] {
  const findings = inputFindings(inv);
  if (findings.length === 0) return [];
  const { kept, left } = fit(findings.map((f) => findingItem('', f)), budget);
  return ['### Inputs', '', ...kept, ...(left > 0 ? ['', notShown(left)] : [])];
}

function findingsDetails(groups: readonly ClusterGroup[], budget: Budget, hasInputs: boolean): string[] {
  const items: string[] = [];
  for (const group of groups) {
    const where = group.cluster ? ` in ${escapeInline(group.cluster.name)}` : '';
    if (group.cluster) for (const f of bySeverity(group.cluster.findings)) items.push(findingItem(`cluster${where}`, f));
    for (const sa of group.serviceAccounts) {
      for (const f of bySeverity(sa.findings)) items.push(findingItem(`${escapeInline(saLabel(sa))}${where}`, f));
    }
    for (const a of group.addons) {
      for (const f of bySeverity(a.findings)) items.push(findingItem(`add-on ${escapeInline(a.name)}${where}`, f));
    }
  }
  // With input findings listed above, "No findings." would contradict them.
  if (items.length === 0) return hasInputs ? [] : ['No findings.'];
  const { kept, left } = fit(items, budget);
  const tail = left > 0 ? ['', notShown(left)] : [];
  const what = hasInputs ? 'Other findings' : 'All findings';
  return ['<details>', `<summary>${what} (${items.length})</summary>`, '', ...kept, ...tail, '', '</details>'];
}
