/**
 * Shared pieces of the scan renderers: grouping by cluster, short labels for roles and
 * workloads, truncation, the summary sentence, the allowlist suppression a finding may carry,
 * and the findings about the inputs rather than any cluster.
 */
import stringWidth from 'string-width';
import { plural } from '../core/text.js';
import {
  VERDICTS, type AddonReport, type ClusterReport, type Finding, type Inventory, type ServiceAccountReport, type Severity,
  type WorkloadReport,
} from '../core/scan/inventory.js';

/** Set by the CI gate when an allowlist entry in `.podid.yaml` covers the finding. */
export type Suppression = NonNullable<Finding['suppressed']>;

export function suppressionOf(finding: Finding): Suppression | null {
  const s = finding.suppressed;
  return s && typeof s.reason === 'string' && typeof s.expires === 'string' ? s : null;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/** Findings most severe first, keeping the scan's order within a severity. */
/**
 * Findings a cluster passes to each of its service accounts and add-ons (docs/findings.md): the
 * scan table and the plan review show each once per cluster, not once per row.
 */
export const CLUSTER_CARRIED_CODES: ReadonlySet<string> = new Set(['CLUSTER_BLOCKED', 'CLUSTER_HAS_WARNINGS']);

export function bySeverity<F extends Finding>(findings: readonly F[]): F[] {
  return findings.map((f, i) => [f, i] as const)
    .sort(([a, i], [b, j]) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || i - j)
    .map(([f]) => f);
}

/** The finding that best explains a verdict: the most severe one not waived by the allowlist. */
export function topFinding(findings: readonly Finding[]): Finding | null {
  const sorted = bySeverity(findings);
  return sorted.find((f) => suppressionOf(f) === null) ?? sorted[0] ?? null;
}

export interface ClusterGroup {
  /** The cluster ARN the service accounts name (in manifests mode, whatever the scan put there). */
  readonly key: string;
  /** Null when the scan has no cluster report for the key (manifests mode). */
  readonly cluster: ClusterReport | null;
  readonly serviceAccounts: readonly ServiceAccountReport[];
  readonly addons: readonly AddonReport[];
}

/** Clusters in the scan's order, then any cluster keys only service accounts or add-ons name. */
export function groupByCluster(inv: Inventory): ClusterGroup[] {
  // A cluster a fleet run could not scan has no ARN to key on ('') and nothing under it.
  const groups: ClusterGroup[] = inv.clusters.map((c) =>
    c.scanned === false
      ? { key: c.arn, cluster: c, serviceAccounts: [], addons: [] }
      : { key: c.arn, cluster: c, serviceAccounts: inv.serviceAccounts.filter((sa) => sa.cluster === c.arn), addons: inv.addons.filter((a) => a.cluster === c.arn) },
  );
  const keys = new Set(inv.clusters.filter((c) => c.scanned !== false).map((c) => c.arn));
  for (const item of [...inv.serviceAccounts, ...inv.addons]) {
    if (keys.has(item.cluster)) continue;
    keys.add(item.cluster);
    groups.push({ key: item.cluster, cluster: null, serviceAccounts: inv.serviceAccounts.filter((sa) => sa.cluster === item.cluster), addons: inv.addons.filter((a) => a.cluster === item.cluster) });
  }
  return groups;
}

/** What a user calls the cluster: its name when known, else the key (possibly empty offline). */
export function clusterLabel(group: ClusterGroup): string {
  if (group.cluster) return group.cluster.name;
  return group.key === '' ? '(no cluster)' : group.key;
}

export function saLabel(sa: { namespace: string; name: string }): string {
  return `${sa.namespace}/${sa.name}`;
}

/**
 * The role as a reader wants it: its name when it lives in the cluster's account, the full ARN
 * when it does not (the account is the point), the annotation verbatim when it is not an ARN.
 */
export function roleLabel(sa: ServiceAccountReport): string {
  const { role } = sa;
  if (role.state === 'invalid' || role.name === null || role.crossAccount) return role.arn === '' ? sa.roleArn : role.arn;
  return role.name;
}

/** kubectl's short names, for workload lists in every renderer. */
export const KIND_ABBREVIATION: Readonly<Record<WorkloadReport['kind'] | 'Pod', string>> = {
  Deployment: 'deploy',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Job: 'job',
  CronJob: 'cronjob',
  ReplicaSet: 'rs',
  Pod: 'pod',
};

export function workloadLabel(w: WorkloadReport): string {
  return `${KIND_ABBREVIATION[w.kind]}/${w.name}`;
}

/**
 * `deploy/cart, sts/orders`: whole entries while they fit in `maxChars`, then `+N more`, so a
 * long list never ends in half a name.
 */
export function workloadsLabel(sa: ServiceAccountReport, maxChars = Number.POSITIVE_INFINITY): string {
  const labels = [...(sa.addon ? [`addon/${sa.addon}`] : []), ...sa.workloads.map(workloadLabel)];
  if (labels.length === 0) return '-';
  const all = labels.join(', ');
  if (all.length <= maxChars) return all;
  if (labels.length === 1) return truncateEnd(all, maxChars);
  for (let shown = labels.length - 1; shown >= 1; shown--) {
    const text = `${labels.slice(0, shown).join(', ')}, +${labels.length - shown} more`;
    if (text.length <= maxChars) return text;
  }
  return `${truncateEnd(labels[0] ?? '', Math.max(1, maxChars - 10))}, +${labels.length - 1} more`;
}

export function podsLabel(pods: ServiceAccountReport['pods']): string {
  const base = `${pods.irsa} irsa / ${pods.podIdentity} pi`;
  return pods.none > 0 ? `${base} / ${pods.none} none` : base;
}

export function locationLabel(loc: { file: string; line: number } | undefined): string {
  if (!loc) return '-';
  return loc.line > 0 ? `${loc.file}:${loc.line}` : loc.file;
}

/**
 * The `file:line` to print beside a finding's message, or null: when it has no location, or
 * when the message already names it (the manifest findings about inputs start with it,
 * IRSA_ANNOTATION ends with it), so a reader does not see it twice.
 */
export function findingWhere(f: Finding): string | null {
  if (!f.location) return null;
  const where = locationLabel(f.location);
  return mentions(f.message, where) ? null : where;
}

/** `text` contains `where` not followed by a digit: `a.yaml:1` is not named by `a.yaml:12`. */
function mentions(text: string, where: string): boolean {
  for (let i = text.indexOf(where); i !== -1; i = text.indexOf(where, i + 1)) {
    if (!/\d/.test(text.charAt(i + where.length))) return true;
  }
  return false;
}

/** The findings about the scan's inputs (manifests, `.podid.yaml`), most severe first. */
export function inputFindings(inv: Inventory): Finding[] {
  return bySeverity(inv.inputFindings ?? []);
}

const ELLIPSIS = '...';

/** Cut to `max` characters, marking the cut. */
export function truncateEnd(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= ELLIPSIS.length) return fit(graphemes(s), max);
  return fit(graphemes(s), max - ELLIPSIS.length) + ELLIPSIS;
}

/** Cut the middle out, for ARNs and paths whose both ends carry meaning (account, name). */
export function truncateMiddle(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= ELLIPSIS.length + 2) return truncateEnd(s, max);
  const keep = max - ELLIPSIS.length;
  const parts = graphemes(s);
  const head = fit(parts, Math.ceil(keep / 2));
  const tail = fit([...parts].reverse(), keep - displayWidth(head), true);
  return head + ELLIPSIS + tail;
}

/**
 * The columns a text takes on a terminal (string-width): East Asian wide characters and emoji
 * take two, combining marks and zero-width characters none. Labels come from kubeconfig context
 * names, file paths and messages, which can be anything.
 */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

const SEGMENTER = new Intl.Segmenter();

/** User-perceived characters, so a cut never splits an emoji or a base from its combining mark. */
function graphemes(s: string): string[] {
  return Array.from(SEGMENTER.segment(s), (g) => g.segment);
}

/** The longest run of `parts` (reversed ones when `fromEnd`) that fits in `max` columns. */
function fit(parts: readonly string[], max: number, fromEnd = false): string {
  const taken: string[] = [];
  let width = 0;
  for (const g of parts) {
    const w = displayWidth(g);
    if (width + w > max) break;
    taken.push(g);
    width += w;
  }
  return (fromEnd ? taken.reverse() : taken).join('');
}

/** One line: control characters and newlines from the outside world must not break the layout. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export { plural };

/**
 * `18 service accounts in 2 clusters: 6 ready, 3 ready-with-warnings, 7 blocked, 1 partial,
 * 1 migrated; 2 add-ons; findings: 9 errors, 4 warnings, 3 info`. Zero counts are left out.
 */
export function summarySentence(inv: Inventory): string {
  const s = inv.summary;
  const where = inv.source === 'manifests' && inv.clusters.length === 0 ? 'in manifests' : `in ${plural(s.clusters, 'cluster')}`;
  const verdicts = VERDICTS.filter((v) => s.byVerdict[v] > 0).map((v) => `${s.byVerdict[v]} ${v}`);
  let line = `${plural(s.serviceAccounts, 'service account')} ${where}`;
  if (verdicts.length > 0) line += `: ${verdicts.join(', ')}`;
  if (s.addons > 0) line += `; ${plural(s.addons, 'add-on migration')}`;
  const findings = [
    s.findings.error > 0 ? plural(s.findings.error, 'error') : null,
    s.findings.warning > 0 ? plural(s.findings.warning, 'warning') : null,
    s.findings.info > 0 ? `${s.findings.info} info` : null,
  ].filter((x): x is string => x !== null);
  line += findings.length > 0 ? `; findings: ${findings.join(', ')}` : '; no findings';
  return line;
}
