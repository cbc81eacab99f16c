/**
 * The CI gate: `.podid.yaml` allowlist entries applied to an Inventory, then `--fail-on`
 * evaluated over it (docs/ci.md). Both are pure; the clock is passed in.
 *
 * The allowlist waives findings for the gate, it does not change the facts: a covered finding
 * stays in the report, marked `suppressed`. Verdicts follow one rule (documented in docs/ci.md):
 * an allowlist never unblocks (`blocked` stays `blocked`, because the planner must still not
 * migrate a Fargate or Windows workload someone chose to keep on IRSA), while
 * `ready-with-warnings` becomes `ready` when every warning is waived, and an expired entry's
 * ALLOWLIST_EXPIRED warning can turn `ready` into `ready-with-warnings`.
 */
import picomatch from 'picomatch';
import type { AllowlistEntry } from './config.js';
import type { AddonReport, ClusterReport, Finding, Inventory, ServiceAccountReport, Verdict } from './scan/inventory.js';
import { addonVerdict, serviceAccountVerdict } from './scan/analyze-verdict.js';
import { finding, sortFindings } from './scan/findings.js';
import { summariseInventory } from './scan/summary.js';
import { compareStrings } from './text.js';

export type FailOn = 'irsa' | 'blocked' | 'warnings' | 'never';

export interface GateResult {
  readonly failed: boolean;
  /** One line per thing that failed the gate, in report order. */
  readonly reasons: string[];
  /**
   * What matched, by the report object (a service account, add-on or cluster report, or an input
   * finding, of the inventory the gate was evaluated on) with why, without its label: so that a
   * per-item report (JUnit) fails exactly the items the gate failed on.
   */
  readonly matched: ReadonlyMap<object, readonly string[]>;
}

/** What an entry is matched against; a selector the entry sets never matches an absent (null) value. */
interface Subject {
  readonly clusterArn: string | null;
  readonly clusterName: string | null;
  readonly namespace: string | null;
  readonly serviceAccount: string | null;
  readonly file: string | null;
}

/**
 * The codes an allowlist never waives: two report on the allowlist itself, and an empty input
 * is about the run, not a file: no entry may turn "scanned nothing" into a pass.
 */
const GATE_CODES = new Set(['ALLOWLIST_EXPIRED', 'ALLOWLIST_EXEMPT', 'MANIFEST_INPUT_EMPTY']);

interface CompiledEntry {
  readonly entry: AllowlistEntry;
  readonly label: string;
  readonly matches: (s: Subject) => boolean;
  readonly covers: (f: Finding) => boolean;
}

function compile(entry: AllowlistEntry): CompiledEntry {
  const glob = (pattern: string | undefined) => (pattern === undefined ? null : picomatch(pattern, { dot: true }));
  const cluster = glob(entry.cluster);
  const namespace = glob(entry.namespace);
  const serviceAccount = glob(entry.serviceAccount);
  const file = glob(entry.file);
  const test = (m: ((s: string) => boolean) | null, ...values: (string | null)[]) =>
    m === null || values.some((v) => v !== null && v !== '' && m(v));
  const codes = entry.codes === undefined ? null : new Set(entry.codes);
  return {
    entry,
    label: describeEntry(entry),
    matches: (s) =>
      test(cluster, s.clusterArn, s.clusterName) && test(namespace, s.namespace) && test(serviceAccount, s.serviceAccount) && test(file, s.file === null ? null : s.file.replace(/\\/g, '/')),
    covers: (f) => !GATE_CODES.has(f.code) && (codes === null || codes.has(f.code)),
  };
}

function describeEntry(e: AllowlistEntry): string {
  const selectors = (['cluster', 'namespace', 'serviceAccount', 'file'] as const).filter((k) => e[k] !== undefined).map((k) => `${k}: ${e[k]}`);
  if (e.codes !== undefined) selectors.push(`codes: ${e.codes.join(', ')}`);
  return `${e.config} allowlist[${e.index}]${selectors.length === 0 ? '' : ` {${selectors.join('; ')}}`}`;
}

/** `arn:aws:eks:region:account:cluster/NAME` -> NAME; null for anything else (manifests mode: ''). */
function clusterNameOf(arn: string, clusters: readonly ClusterReport[]): string | null {
  const known = clusters.find((c) => c.arn === arn);
  if (known !== undefined) return known.name;
  const m = /:cluster\/([^/]+)$/.exec(arn);
  return m?.[1] ?? (arn === '' ? null : arn);
}

const today = (now: Date) => now.toISOString().slice(0, 10);
const unsuppressed = (findings: readonly Finding[]) => findings.filter((f) => f.suppressed === undefined);

/** Marks each finding with the suppression of the first active entry that covers it. */
function suppress(findings: readonly Finding[], subject: Subject, active: readonly CompiledEntry[]): Finding[] {
  return findings.map((f) => {
    if (f.suppressed !== undefined) return f;
    const by = active.find((e) => e.matches(subject) && e.covers(f));
    return by === undefined ? f : { ...f, suppressed: { reason: by.entry.reason, expires: by.entry.expires } };
  });
}

/** Whether an (expired) entry would have waived anything of this subject. */
const wouldCover = (e: CompiledEntry, subject: Subject, findings: readonly Finding[]) =>
  e.matches(subject) && (e.entry.codes === undefined || findings.some((f) => e.covers(f)));

/**
 * A carried CLUSTER_BLOCKED / CLUSTER_HAS_WARNINGS is waived with the cluster findings it
 * stands for: once all of them are, it takes the suppression that expires first.
 */
function suppressCarried(findings: readonly Finding[], cluster: ClusterReport | undefined): Finding[] {
  if (cluster === undefined) return [...findings];
  return findings.map((f) => {
    const severity = f.code === 'CLUSTER_BLOCKED' ? 'error' : f.code === 'CLUSTER_HAS_WARNINGS' ? 'warning' : null;
    if (severity === null || f.suppressed !== undefined) return f;
    const carried = cluster.findings.filter((c) => c.severity === severity);
    if (carried.length === 0 || carried.some((c) => c.suppressed === undefined)) return f;
    const first = [...carried].sort((a, b) => compareStrings(a.suppressed!.expires, b.suppressed!.expires))[0]!;
    return { ...f, suppressed: { reason: `cluster findings allowlisted: ${first.suppressed!.reason}`, expires: first.suppressed!.expires } };
  });
}

/** ALLOWLIST_EXPIRED, its fix naming the config file the entry is in. */
const expiredFinding = (e: CompiledEntry): Finding =>
  finding('ALLOWLIST_EXPIRED', { entry: e.label, expires: e.entry.expires, reason: e.entry.reason }, `migrate what the entry covered, or extend its expires date in ${e.entry.config} after review`);

function keepBlocked(before: Verdict, after: Verdict): Verdict {
  return before === 'blocked' ? 'blocked' : after;
}

/**
 * Applies the unexpired entries of `allowlist` (expiry is inclusive: an entry expiring today
 * still applies; days are UTC). Expired entries add ALLOWLIST_EXPIRED to what they would have
 * covered, or to `inputFindings` when that is nothing. An entry without `codes` also adds an
 * ALLOWLIST_EXEMPT note to each service account and add-on it matches, which exempts them from
 * `--fail-on irsa` and shows why in every output format.
 */
export function applyAllowlist(inv: Inventory, allowlist: readonly AllowlistEntry[], now: Date): Inventory {
  if (allowlist.length === 0) return inv;
  const day = today(now);
  const compiled = allowlist.map(compile);
  const active = compiled.filter((e) => e.entry.expires >= day);
  const expired = compiled.filter((e) => e.entry.expires < day);
  const expiredUsed = new Set<CompiledEntry>();

  const clusters = inv.clusters.map((c): ClusterReport => {
    // Cluster findings are waived only by entries about the cluster as a whole.
    const clusterWide = active.filter((e) => e.entry.namespace === undefined && e.entry.serviceAccount === undefined && e.entry.file === undefined);
    const findings = sortFindings(suppress(c.findings, { clusterArn: c.arn, clusterName: c.name, namespace: null, serviceAccount: null, file: null }, clusterWide));
    const live = unsuppressed(findings);
    const after = live.some((f) => f.severity === 'error') ? 'blocked' : live.some((f) => f.severity === 'warning') ? 'ready-with-warnings' : 'ready';
    return { ...c, findings, readiness: c.readiness === 'blocked' ? 'blocked' : after };
  });
  const clusterByArn = new Map(clusters.map((c) => [c.arn, c]));

  const review = (subject: Subject, own: readonly Finding[], cluster: ClusterReport | undefined): Finding[] => {
    let findings = suppressCarried(suppress(own, subject, active), cluster);
    const extra: Finding[] = [];
    const exempt = active.find((e) => e.entry.codes === undefined && e.matches(subject));
    if (exempt !== undefined) {
      const suppressed = { reason: exempt.entry.reason, expires: exempt.entry.expires };
      extra.push({ ...finding('ALLOWLIST_EXEMPT', { entry: exempt.label, expires: exempt.entry.expires, reason: exempt.entry.reason }), suppressed });
    }
    for (const e of expired) {
      if (!wouldCover(e, subject, own)) continue;
      expiredUsed.add(e);
      extra.push(expiredFinding(e));
    }
    findings = sortFindings([...findings, ...extra]);
    return findings;
  };

  const serviceAccounts = inv.serviceAccounts.map((sa): ServiceAccountReport => {
    const subject: Subject = { clusterArn: sa.cluster, clusterName: clusterNameOf(sa.cluster, inv.clusters), namespace: sa.namespace, serviceAccount: sa.name, file: sa.location?.file ?? null };
    const findings = review(subject, sa.findings, clusterByArn.get(sa.cluster));
    return { ...sa, findings, verdict: keepBlocked(sa.verdict, serviceAccountVerdict({ ...sa, findings: unsuppressed(findings) })) };
  });

  const addons = inv.addons.map((a): AddonReport => {
    const subject: Subject = { clusterArn: a.cluster, clusterName: clusterNameOf(a.cluster, inv.clusters), namespace: null, serviceAccount: a.serviceAccount, file: null };
    const findings = review(subject, a.findings, clusterByArn.get(a.cluster));
    // ADDON_MIGRATED is how an add-on report says it has associations of its own.
    const associations = findings.some((f) => f.code === 'ADDON_MIGRATED') ? 1 : 0;
    return { ...a, findings, verdict: keepBlocked(a.verdict, addonVerdict(unsuppressed(findings), associations)) };
  });

  const inputFindings = (inv.inputFindings ?? []).map((f) => {
    const subject: Subject = { clusterArn: null, clusterName: null, namespace: null, serviceAccount: null, file: f.location?.file ?? null };
    return suppress([f], subject, active)[0]!;
  });
  for (const e of expired) {
    if (expiredUsed.has(e)) continue;
    // Nothing left it would cover: still say so, or a stale entry would linger unnoticed.
    inputFindings.push(expiredFinding(e));
  }

  const body = { clusters, serviceAccounts, addons, ...(inputFindings.length > 0 ? { inputFindings: sortFindings(inputFindings) } : {}) };
  return { ...inv, ...body, summary: summariseInventory(body) };
}

// ---- --fail-on --------------------------------------------------------------------------------

const isExempt = (findings: readonly Finding[]) => findings.some((f) => f.code === 'ALLOWLIST_EXEMPT');
const live = (f: Finding) => f.suppressed === undefined;

function saLabel(sa: ServiceAccountReport, inv: Inventory): string {
  const where = sa.location !== undefined ? ` (${sa.location.file}:${sa.location.line})` : sa.cluster === '' ? '' : ` in ${clusterNameOf(sa.cluster, inv.clusters) ?? sa.cluster}`;
  return `${sa.namespace}/${sa.name}${where}`;
}

const addonLabel = (a: AddonReport, inv: Inventory) => `add-on ${a.name} in ${clusterNameOf(a.cluster, inv.clusters) ?? a.cluster}`;
const inputLabel = (f: Finding) => (f.location === undefined ? 'input' : f.location.line > 0 ? `${f.location.file}:${f.location.line}` : f.location.file);

/**
 * Where an input IRSA_ANNOTATION was written: its subject ends with ` of <where>` (core/scan/
 * manifests.ts: `... of an unrendered template`, `... of a kustomize patch`, `... of a document
 * with a duplicate key`), so a new kind of input needs no case here.
 */
function irsaInputWhere(message: string): string {
  // Whatever kind of object it was (an item, a List), the gate names the family.
  if (message.includes(' Kubernetes refuses ')) return 'an object Kubernetes refuses';
  return / of ((?:an?|the) [^()]*?) uses IRSA \(/.exec(message)?.[1] ?? 'an input';
}

/**
 * `irsa`: a service account (or add-on) not `migrated` and not exempted by an allowlist entry
 * without codes. `blocked`: a `blocked` service account or add-on with an error no entry waives.
 * `warnings`: any error or warning no entry waives, anywhere (clusters and inputs included).
 * `never`: never. An unwaived error about the inputs (a manifest that cannot be parsed) fails
 * every gate but `never`: the scan is incomplete, so a pass would mean nothing.
 */
export function evaluateGate(inv: Inventory, failOn: FailOn): GateResult {
  const matched = new Map<object, string[]>();
  if (failOn === 'never') return { failed: false, reasons: [], matched };
  const reasons: string[] = [];
  const match = (subject: object, label: string, why: string) => {
    reasons.push(`${label}: ${why}`);
    const list = matched.get(subject);
    if (list === undefined) matched.set(subject, [why]);
    else list.push(why);
  };
  const inputErrors = (inv.inputFindings ?? []).filter((f) => live(f) && f.severity === 'error');

  if (failOn === 'irsa') {
    for (const sa of inv.serviceAccounts) {
      if (sa.verdict !== 'migrated' && !isExempt(sa.findings)) match(sa, saLabel(sa, inv), `still on IRSA (${sa.verdict})`);
    }
    for (const a of inv.addons) {
      // An add-on's service account usually has its own row; the add-on is counted once.
      const counted = inv.serviceAccounts.some((sa) => sa.cluster === a.cluster && sa.addon === a.name);
      if (!counted && a.verdict !== 'migrated' && !isExempt(a.findings)) match(a, addonLabel(a, inv), `still on IRSA (${a.verdict})`);
    }
    // An IRSA annotation in an unrendered template is IRSA whatever the template renders to; in
    // a document with a duplicate key, whichever key a tool keeps.
    for (const f of inv.inputFindings ?? []) {
      if (live(f) && f.code === 'IRSA_ANNOTATION') match(f, inputLabel(f), `IRSA annotation in ${irsaInputWhere(f.message)}`);
    }
  } else if (failOn === 'blocked') {
    const blockedBy = (findings: readonly Finding[]) => [...new Set(findings.filter((f) => live(f) && f.severity === 'error').map((f) => f.code))];
    for (const sa of inv.serviceAccounts) {
      const codes = blockedBy(sa.findings);
      if (sa.verdict === 'blocked' && codes.length > 0) match(sa, saLabel(sa, inv), `blocked (${codes.join(', ')})`);
    }
    for (const a of inv.addons) {
      const codes = blockedBy(a.findings);
      if (a.verdict === 'blocked' && codes.length > 0) match(a, addonLabel(a, inv), `blocked (${codes.join(', ')})`);
    }
  } else {
    const report = (subject: object, label: string, findings: readonly Finding[]) => {
      for (const f of findings) if (live(f) && f.severity !== 'info') match(subject, label, `${f.severity} ${f.code}`);
    };
    for (const c of inv.clusters) report(c, `cluster ${c.name}`, c.findings);
    for (const sa of inv.serviceAccounts) report(sa, saLabel(sa, inv), sa.findings);
    for (const a of inv.addons) report(a, addonLabel(a, inv), a.findings);
    for (const f of inv.inputFindings ?? []) if (live(f) && f.severity === 'warning') match(f, inputLabel(f), `warning ${f.code}`);
  }
  for (const f of inputErrors) match(f, inputLabel(f), `error ${f.code} (the scan is incomplete)`);
  return { failed: reasons.length > 0, reasons, matched };
}
