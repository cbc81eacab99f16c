/**
 * `analyzeManifests`: the offline scan. Parsed Kubernetes manifests (from a GitOps repository,
 * `helm template` or `kustomize build` output) in, an Inventory with `source: 'manifests'` out.
 *
 * With no AWS or cluster access podid can only say what the files say: which ServiceAccounts
 * carry `eks.amazonaws.com/role-arn` (and where), whether the ARN is usable, which workloads of
 * the same inputs run under them, and what in their pod templates would defeat Pod Identity
 * (a Windows nodeSelector, IRSA variables wired by hand). Everything the APIs would tell is
 * reported as unknown (`trust.*: unknown`, `role.state: unreadable`, no association, no pods).
 * Pure and deterministic: the clock is passed in and every list is sorted.
 */
import { AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from '../annotations.js';
import { parseRoleArn } from '../arn.js';
import type { ArnIssue } from '../arn.js';
import type { Finding, Inventory, InventorySummary, RoleRef, ServiceAccountReport, Severity, WorkloadReport } from './inventory.js';
import { INVENTORY_SCHEMA_VERSION, VERDICTS } from './inventory.js';
import { serviceAccountVerdict } from './analyze-verdict.js';
import { finding, isFindingCode, sortFindings } from './findings.js';

/** A path into a manifest object: map keys and sequence indices. */
export type ManifestPath = readonly (string | number)[];

/** One Kubernetes object read from a manifest (a List's items are objects of their own). */
export interface ManifestObject {
  readonly type: 'object';
  /** The path as given on the command line (joined with the directory walk), `<stdin>` for `-`. */
  readonly file: string;
  /** 1-based line where the object starts. */
  readonly line: number;
  /** The chart template `helm template` named in its `# Source:` comment, if any. */
  readonly template: string | null;
  readonly value: Readonly<Record<string, unknown>>;
  /** 1-based line of the entry at `path` in the object (a map entry's key line), or of its nearest present ancestor. */
  readonly lineOf: (path: ManifestPath) => number;
}

/** A file, or one document of it, podid could not turn into objects. */
export interface ManifestProblem {
  readonly type: 'problem';
  readonly problem: 'parse-error' | 'unrendered-template';
  readonly file: string;
  readonly line: number;
  readonly template: string | null;
  /** One line: the parser's message, or what was found. */
  readonly detail: string;
}

export type ManifestDoc = ManifestObject | ManifestProblem;

export interface AnalyzeManifestsOptions {
  now: Date;
  toolVersion?: string;
  /** Only these namespaces (exact names); all when absent or empty. */
  namespaces?: readonly string[];
  /** Only these `NAMESPACE/NAME` service accounts; all when absent or empty. */
  serviceAccounts?: readonly string[];
  /** The cluster ARN (or name) to report the service accounts under; `''` (none) by default. */
  cluster?: string;
  trustPolicyLimit?: number;
}

const DEFAULT_TRUST_POLICY_LIMIT = 2048;
const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
const HAND_WIRED_VARIABLES = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'] as const;

type WorkloadKind = WorkloadReport['kind'];

/** Where each kind keeps the pod spec podid inspects. */
const POD_SPEC_PATHS: Readonly<Record<WorkloadKind, ManifestPath>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const isWorkloadKind = (kind: string): kind is WorkloadKind => Object.hasOwn(POD_SPEC_PATHS, kind);

interface HandWired {
  readonly container: string;
  readonly variables: readonly string[];
  /** The literal AWS_ROLE_ARN value, when the spec writes one. */
  readonly roleArn: string | null;
  readonly line: number;
}

interface Workload {
  readonly obj: ManifestObject;
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
  /** Line of the Windows node selection, when the pod template asks for Windows nodes. */
  readonly windowsLine: number | null;
  readonly handWired: readonly HandWired[];
}

// ---- small readers over untyped YAML ----------------------------------------------------------

function get(value: unknown, path: ManifestPath): unknown {
  let cur = value;
  for (const key of path) {
    if (typeof key === 'number') cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const records = (v: unknown): Record<string, unknown>[] =>
  Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
const at = (obj: ManifestObject, line: number) => `${obj.file}:${line}`;
const located = (f: Finding, file: string, line: number): Finding => ({ ...f, location: { file, line } });
const TEMPLATE_RE = /\{\{.*\}\}/s;
const isTemplated = (...values: (string | undefined)[]) => values.some((v) => v !== undefined && TEMPLATE_RE.test(v));
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** An annotation value as Kubernetes would see it: strings as written, anything else stringified (null as empty). */
function annotationValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

// ---- workloads --------------------------------------------------------------------------------

function isWindows(obj: ManifestObject, spec: ManifestPath): number | null {
  const selector = get(obj.value, [...spec, 'nodeSelector']);
  for (const key of ['kubernetes.io/os', 'beta.kubernetes.io/os']) {
    const os = str(get(selector, [key]));
    if (os?.toLowerCase() === 'windows') return obj.lineOf([...spec, 'nodeSelector', key]);
  }
  // Required node affinity where every term pins the OS to Windows only.
  const termsPath = [...spec, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'];
  const terms = records(get(obj.value, termsPath));
  const windowsOnly = (term: Record<string, unknown>) =>
    records(term['matchExpressions']).some((e) => {
      const values = e['values'];
      return e['key'] === 'kubernetes.io/os' && e['operator'] === 'In' && Array.isArray(values) && values.length > 0 && values.every((x) => String(x).toLowerCase() === 'windows');
    });
  return terms.length > 0 && terms.every(windowsOnly) ? obj.lineOf(termsPath) : null;
}

function handWiredContainers(obj: ManifestObject, spec: ManifestPath): HandWired[] {
  const out: HandWired[] = [];
  for (const list of ['initContainers', 'containers'] as const) {
    const containers = get(obj.value, [...spec, list]);
    if (!Array.isArray(containers)) continue;
    containers.forEach((c: unknown, i) => {
      const env = get(c, ['env']);
      if (!Array.isArray(env)) return;
      const hits = env.map((e: unknown, j) => ({ e, j })).filter(({ e }) => (HAND_WIRED_VARIABLES as readonly unknown[]).includes(get(e, ['name'])));
      const first = hits[0];
      if (first === undefined) return;
      const role = hits.find(({ e }) => get(e, ['name']) === 'AWS_ROLE_ARN');
      out.push({
        container: str(get(c, ['name'])) ?? `${list}[${i}]`,
        variables: [...new Set(hits.map(({ e }) => String(get(e, ['name']))))],
        roleArn: role === undefined ? null : (str(get(role.e, ['value'])) ?? null),
        line: obj.lineOf([...spec, list, i, 'env', first.j]),
      });
    });
  }
  return out;
}

function readWorkload(obj: ManifestObject, kind: WorkloadKind): Workload | 'templated' {
  const spec = POD_SPEC_PATHS[kind];
  const name = str(get(obj.value, ['metadata', 'name'])) ?? '';
  const namespace = str(get(obj.value, ['metadata', 'namespace'])) ?? 'default';
  // serviceAccount is the deprecated alias; with neither, pods run as `default`.
  const serviceAccount = str(get(obj.value, [...spec, 'serviceAccountName'])) ?? str(get(obj.value, [...spec, 'serviceAccount'])) ?? 'default';
  if (isTemplated(name, namespace, serviceAccount)) return 'templated';
  return { obj, kind, namespace, name, serviceAccount, windowsLine: isWindows(obj, spec), handWired: handWiredContainers(obj, spec) };
}

// ---- service accounts -------------------------------------------------------------------------

function arnFinding(issue: ArnIssue): Finding {
  if (!isFindingCode(issue.code)) throw new Error(`parseRoleArn returned ${issue.code}, which is not in the findings catalogue`);
  return finding(issue.code, { message: issue.message }, issue.hint);
}

/** The role as far as the file tells: parsed strictly; never read from IAM, hence `unreadable`. */
function roleOf(raw: string | null): { role: RoleRef; findings: Finding[] } {
  if (raw === null) return { role: { arn: '', account: null, name: null, path: null, state: 'invalid', crossAccount: false }, findings: [] };
  const parsed = parseRoleArn(raw);
  if (!parsed.ok) {
    const arn = raw.trim() === '' ? raw : raw.trim();
    return { role: { arn, account: null, name: null, path: null, state: 'invalid', crossAccount: false }, findings: parsed.issues.map(arnFinding) };
  }
  const { arn } = parsed;
  return { role: { arn: arn.arn, account: arn.account, name: arn.name, path: arn.path, state: 'unreadable', crossAccount: false }, findings: parsed.findings.map(arnFinding) };
}

function workloadFindings(w: Workload): Finding[] {
  const label = `${w.kind} ${w.namespace}/${w.name}`;
  const out: Finding[] = [];
  if (w.windowsLine !== null) {
    out.push(located(finding('WORKLOAD_ON_WINDOWS', { workload: label, why: `nodeSelector kubernetes.io/os=windows at ${at(w.obj, w.windowsLine)}` }), w.obj.file, w.windowsLine));
  }
  for (const h of w.handWired) {
    out.push(located(finding('IRSA_HAND_WIRED', { workload: label, container: h.container, variables: h.variables, at: at(w.obj, h.line) }), w.obj.file, h.line));
  }
  return out;
}

function workloadReports(workloads: readonly Workload[]): WorkloadReport[] {
  const byKey = new Map<string, WorkloadReport>();
  for (const w of workloads) {
    const key = `${w.kind}/${w.name}`;
    const prev = byKey.get(key);
    const windows = w.windowsLine !== null || (prev?.runsOn.includes('windows') ?? false);
    // The same workload in two files (overlays of one base) is one workload with the union of placements.
    byKey.set(key, { kind: w.kind, namespace: w.namespace, name: w.name, pods: { irsa: 0, podIdentity: 0, none: 0 }, runsOn: windows ? ['windows'] : [] });
  }
  return [...byKey.values()].sort((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name));
}

interface Draft {
  readonly report: Omit<ServiceAccountReport, 'verdict'>;
}

function draftReport(cluster: string, limit: number, namespace: string, name: string, roleArn: string, role: RoleRef, annotations: ServiceAccountReport['annotations'], location: { file: string; line: number }, findings: Finding[], workloads: readonly Workload[]): Draft {
  return {
    report: {
      cluster,
      namespace,
      name,
      roleArn,
      role,
      annotations,
      trust: { irsa: 'unknown', irsaStatements: [], podIdentity: 'unknown', length: null, lengthAfter: null, limit },
      association: { state: 'none', associationId: null, roleArn: null, ownerArn: null },
      workloads: workloadReports(workloads),
      pods: { irsa: 0, podIdentity: 0, none: 0 },
      addon: null,
      findings: [...findings, ...workloads.flatMap(workloadFindings)],
      location,
    },
  };
}

function annotatedServiceAccount(obj: ManifestObject, raw: string, namespace: string, name: string, workloads: readonly Workload[], cluster: string, limit: number): Draft {
  const annPath = (key: string) => ['metadata', 'annotations', key];
  const ann = (key: string) => annotationValue(get(obj.value, annPath(key))) ?? null;
  const line = obj.lineOf(annPath(ROLE_ARN_ANNOTATION));
  const here = (f: Finding, l = line) => located(f, obj.file, l);
  const { role, findings: arnFindings } = roleOf(raw);
  const findings: Finding[] = [
    here(finding('IRSA_ANNOTATION', { serviceAccount: `${namespace}/${name}`, at: at(obj, line), template: obj.template })),
    ...arnFindings.map((f) => here(f)),
  ];
  const audience = ann(AUDIENCE_ANNOTATION);
  const stsRegionalEndpoints = ann(STS_REGIONAL_ENDPOINTS_ANNOTATION);
  const tokenExpiration = ann(TOKEN_EXPIRATION_ANNOTATION);
  if (audience !== null && audience !== DEFAULT_AUDIENCE) findings.push(here(finding('ANNOTATION_AUDIENCE', { audience }), obj.lineOf(annPath(AUDIENCE_ANNOTATION))));
  if (stsRegionalEndpoints !== null) findings.push(here(finding('ANNOTATION_STS_REGIONAL_ENDPOINTS', { value: stsRegionalEndpoints }), obj.lineOf(annPath(STS_REGIONAL_ENDPOINTS_ANNOTATION))));
  if (tokenExpiration !== null) findings.push(here(finding('ANNOTATION_TOKEN_EXPIRATION', { value: tokenExpiration }), obj.lineOf(annPath(TOKEN_EXPIRATION_ANNOTATION))));
  return draftReport(cluster, limit, namespace, name, raw, role, { audience, stsRegionalEndpoints, tokenExpiration }, { file: obj.file, line }, findings, workloads);
}

/**
 * A service account no input annotates, whose pods wire IRSA by hand: reported so the hand-wired
 * variables are not missed; its role is the literal AWS_ROLE_ARN, when the spec writes one.
 */
function handWiredServiceAccount(namespace: string, name: string, workloads: readonly Workload[], cluster: string, limit: number): Draft {
  const first = workloads.flatMap((w) => w.handWired.map((h) => ({ w, h })))[0];
  const roleArn = workloads.flatMap((w) => w.handWired).find((h) => h.roleArn !== null)?.roleArn ?? null;
  const location = first === undefined ? { file: '', line: 0 } : { file: first.w.obj.file, line: first.h.line };
  const { role, findings } = roleOf(roleArn);
  return draftReport(cluster, limit, namespace, name, roleArn ?? '', role, { audience: null, stsRegionalEndpoints: null, tokenExpiration: null }, location, findings.map((f) => located(f, location.file, location.line)), workloads);
}

// ---- the inventory ----------------------------------------------------------------------------

function problemFinding(p: ManifestProblem): Finding {
  const where = `${p.file}:${p.line}`;
  const f = p.problem === 'parse-error'
    ? finding('MANIFEST_PARSE_ERROR', { at: where, detail: p.detail })
    : finding('MANIFEST_UNRENDERED_TEMPLATE', { at: where, what: p.detail });
  return located(f, p.file, p.line);
}

export function summariseInventory(inv: Pick<Inventory, 'clusters' | 'serviceAccounts' | 'addons' | 'inputFindings'>): InventorySummary {
  const byVerdict = Object.fromEntries(VERDICTS.map((v) => [v, inv.serviceAccounts.filter((s) => s.verdict === v).length])) as InventorySummary['byVerdict'];
  const all = [...inv.clusters, ...inv.serviceAccounts, ...inv.addons].flatMap((x) => x.findings).concat(inv.inputFindings ?? []);
  const count = (s: Severity) => all.filter((f) => f.severity === s).length;
  return {
    clusters: inv.clusters.length,
    serviceAccounts: inv.serviceAccounts.length,
    addons: inv.addons.length,
    byVerdict,
    findings: { error: count('error'), warning: count('warning'), info: count('info') },
  };
}

export function analyzeManifests(docs: readonly ManifestDoc[], opts: AnalyzeManifestsOptions): Inventory {
  const cluster = opts.cluster ?? '';
  const limit = opts.trustPolicyLimit ?? DEFAULT_TRUST_POLICY_LIMIT;
  const namespaces = new Set(opts.namespaces ?? []);
  const wanted = new Set(opts.serviceAccounts ?? []);
  const inScope = (ns: string, name: string) => (namespaces.size === 0 || namespaces.has(ns)) && (wanted.size === 0 || wanted.has(`${ns}/${name}`));

  const inputFindings: Finding[] = [];
  const templatedFiles = new Set<string>();
  const templated = (obj: ManifestObject, what: string) => {
    // One finding per file: a chart's templates directory would otherwise report every object.
    if (templatedFiles.has(obj.file)) return;
    templatedFiles.add(obj.file);
    inputFindings.push(problemFinding({ type: 'problem', problem: 'unrendered-template', file: obj.file, line: obj.line, template: obj.template, detail: what }));
  };

  const workloads: Workload[] = [];
  const serviceAccounts: { obj: ManifestObject; raw: string; namespace: string; name: string }[] = [];
  for (const doc of docs) {
    if (doc.type === 'problem') {
      if (doc.problem === 'unrendered-template') templatedFiles.add(doc.file);
      inputFindings.push(problemFinding(doc));
      continue;
    }
    const kind = str(doc.value['kind']) ?? '';
    const label = `${kind} ${str(get(doc.value, ['metadata', 'name'])) ?? '(unnamed)'}`;
    if (isWorkloadKind(kind)) {
      const w = readWorkload(doc, kind);
      if (w === 'templated') templated(doc, label);
      else workloads.push(w);
    } else if (kind === 'ServiceAccount') {
      const raw = annotationValue(get(doc.value, ['metadata', 'annotations', ROLE_ARN_ANNOTATION]));
      if (raw === undefined) continue;
      const name = str(get(doc.value, ['metadata', 'name'])) ?? '';
      const namespace = str(get(doc.value, ['metadata', 'namespace'])) ?? 'default';
      if (isTemplated(raw, name, namespace)) templated(doc, label);
      else serviceAccounts.push({ obj: doc, raw, namespace, name });
    }
  }

  const usersOf = (ns: string, name: string) => workloads.filter((w) => w.namespace === ns && w.serviceAccount === name);
  const drafts: Draft[] = [];
  const annotated = new Set<string>();
  for (const sa of serviceAccounts) {
    annotated.add(`${sa.namespace}/${sa.name}`);
    if (inScope(sa.namespace, sa.name)) drafts.push(annotatedServiceAccount(sa.obj, sa.raw, sa.namespace, sa.name, usersOf(sa.namespace, sa.name), cluster, limit));
  }
  const handWiredKeys = [...new Set(workloads.filter((w) => w.handWired.length > 0).map((w) => `${w.namespace}/${w.serviceAccount}`))];
  for (const key of handWiredKeys) {
    const [namespace = '', name = ''] = key.split('/');
    if (!annotated.has(key) && inScope(namespace, name)) drafts.push(handWiredServiceAccount(namespace, name, usersOf(namespace, name), cluster, limit));
  }

  const reports: ServiceAccountReport[] = drafts.map(({ report }) => {
    const findings = sortFindings(report.findings);
    return { ...report, findings, verdict: serviceAccountVerdict({ ...report, findings }) };
  });
  reports.sort((a, b) => compare(a.cluster, b.cluster) || compare(a.namespace, b.namespace) || compare(a.name, b.name)
    || compare(a.location?.file ?? '', b.location?.file ?? '') || (a.location?.line ?? 0) - (b.location?.line ?? 0));

  const body = { clusters: [], serviceAccounts: reports, addons: [], ...(inputFindings.length > 0 ? { inputFindings: sortFindings(inputFindings) } : {}) };
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    generatedAt: opts.now.toISOString(),
    ...(opts.toolVersion === undefined ? {} : { toolVersion: opts.toolVersion }),
    source: 'manifests',
    caller: null,
    trustPolicyLimit: limit,
    ...body,
    summary: summariseInventory(body),
  };
}
