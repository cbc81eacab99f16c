/**
 * `analyzeManifests`: the offline scan. Parsed Kubernetes manifests (from a GitOps repository,
 * `helm template` or `kustomize build` output) in, an Inventory with `source: 'manifests'` out.
 *
 * With no AWS or cluster access podid can only say what the files say: which ServiceAccounts
 * carry `eks.amazonaws.com/role-arn` (and where), whether the ARN is usable, which workloads of
 * the same inputs run under them, and what in their pod templates would defeat Pod Identity
 * (a Windows nodeSelector, IRSA variables wired by hand). Everything the APIs would tell is
 * reported as unknown (`trust.*: unknown`, `role.state: unreadable`, no association, no pods).
 * An object that is an unrendered template, or that Kubernetes would refuse (a name or an IRSA
 * annotation that is not a string, annotations that are not a mapping; the adapter reports a List
 * whose items are not a list), is an input finding and skipped: never a guessed report.
 * Pure and deterministic: the clock is passed in and every list is sorted.
 */
import { summariseInventory } from './summary.js';
import { AUDIENCE_ANNOTATION, DEFAULT_AUDIENCE, ROLE_ARN_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from '../annotations.js';
import { parseRoleArn } from '../arn.js';
import type { Finding, Inventory, RoleRef, ServiceAccountReport, WorkloadReport } from './inventory.js';
import { INVENTORY_SCHEMA_VERSION } from './inventory.js';
import { serviceAccountVerdict } from './analyze-verdict.js';
import { arnFinding, finding, sortFindings } from './findings.js';
import { compareStrings } from '../text.js';
import { requiredAffinityPinsWindows } from './analyze-workloads.js';
import { isJsonObject } from '../json.js';
import { DEFAULT_TRUST_POLICY_LIMIT } from '../policy/serialize.js';

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
  /** The object's text as written, from its first key (on line `line`) to its end. */
  readonly source: string;
  /** 1-based line of the entry at `path` in the object (a map entry's key line), or of its nearest present ancestor. */
  readonly lineOf: (path: ManifestPath) => number;
  /** The text of the value at `path` as written; undefined when absent or empty. */
  readonly sourceOf: (path: ManifestPath) => string | undefined;
  /**
   * 1-based line of the first unquoted `{{ ... }}`, which YAML parses as a nested flow mapping:
   * valid YAML that only an unrendered template writes. Null when there is none.
   */
  readonly bareTemplateLine: number | null;
}

/** A file, or one document of it, podid could not turn into objects. */
export interface ManifestProblem {
  readonly type: 'problem';
  /**
   * `parse-error`: not valid YAML/JSON; `duplicate-key`: valid but for a key written twice in
   * one mapping; `unrendered-template`: a template; `not-text`: binary or
   * an encoding podid cannot tell; `empty`: a path argument (stdin, a file, a directory) that
   * holds no Kubernetes object at all (`line` 0).
   */
  readonly problem: 'parse-error' | 'duplicate-key' | 'unrendered-template' | 'not-text' | 'empty';
  readonly file: string;
  readonly line: number;
  readonly template: string | null;
  /** One line: the parser's message, or what was found. */
  readonly detail: string;
  /**
   * An unrendered template, a document with a duplicate key or one that does not parse: the
   * lines that set `eks.amazonaws.com/role-arn` (IRSA whatever it renders to, whichever key a
   * tool keeps). A duplicate-key document's objects are read too (the last key wins): its lines
   * that one of them reports as an annotated ServiceAccount are not reported again.
   */
  readonly irsaLines?: readonly number[];
  /** Who each of those lines belongs to, for the message; `(name not rendered) of an unrendered template` when absent. */
  readonly irsaSubject?: readonly string[];
}

/**
 * Lines of a kustomize source (a kustomization's commonAnnotations or inline patch, a JSON 6902
 * patch file) that add `eks.amazonaws.com/role-arn` once built: IRSA, though no ServiceAccount
 * the scan reads carries it (adapters/kustomize-irsa.ts).
 */
export interface ManifestIrsaSource {
  readonly type: 'irsa-source';
  readonly file: string;
  readonly line: number;
  /** What adds it, for the message (`cart of a kustomize patch`). */
  readonly subject: string;
}

export type ManifestDoc = ManifestObject | ManifestProblem | ManifestIrsaSource;

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
  /** What pins it to Windows: the nodeSelector, or the required node affinity. */
  readonly windowsWhy: string;
  readonly handWired: readonly HandWired[];
}

// ---- small readers over untyped YAML ----------------------------------------------------------

function get(value: unknown, path: ManifestPath): unknown {
  let cur = value;
  for (const key of path) {
    if (typeof key === 'number') cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = isJsonObject(cur) ? cur[key] : undefined;
  }
  return cur;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const at = (obj: ManifestObject, line: number) => `${obj.file}:${line}`;
const located = (f: Finding, file: string, line: number): Finding => ({ ...f, location: { file, line } });
const compare = compareStrings;

/**
 * An annotation value as Kubernetes reads it: a string, or empty for `key:` with no value.
 * Anything else was refused by `skipReason` before this is asked; it is never stringified.
 */
function annotationValue(v: unknown): string | undefined {
  if (v === null) return '';
  return typeof v === 'string' ? v : undefined;
}

// ---- objects podid will not report on ---------------------------------------------------------

const TEMPLATE_RE = /\{\{.*\}\}/s;
/**
 * The body of a template action only a Helm chart writes: its built-in objects and its own
 * functions. Go templates of other tools (Vault agent annotations, Prometheus rules) use none.
 */
const HELM_ACTION_RE = /(?:^|[\s(|$])\.(?:Values|Release|Chart|Capabilities|Files|Template)\b|^-?\s*(?:include|tpl|toYaml|required)\s/;

/** Why an object is skipped instead of reported: it is a template, or Kubernetes would refuse it. */
type Skip = { readonly problem: 'unrendered-template'; readonly line: number } | { readonly problem: 'parse-error'; readonly line: number; readonly detail: string };

/** A string field podid reads (or, `mapping`, a mapping it reads in): where it is and what to call it in a message. */
interface Field {
  readonly path: ManifestPath;
  readonly what: string;
  readonly mapping?: true;
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v} (${String(v)})`;
}

/** A field that must be a string, or absent. YAML reads an unquoted `{{ x }}` as a mapping: its source tells. */
function fieldSkip(obj: ManifestObject, label: string, { path, what, mapping }: Field): Skip | null {
  const v = get(obj.value, path);
  if (v === undefined || v === null) return null;
  if (mapping === true) {
    if (isJsonObject(v)) return null;
  } else if (typeof v === 'string') {
    return TEMPLATE_RE.test(v) ? { problem: 'unrendered-template', line: obj.lineOf(path) } : null;
  }
  const line = obj.lineOf(path);
  if (obj.sourceOf(path)?.includes('{{') === true) return { problem: 'unrendered-template', line };
  // `annotations:` written as a list (`- key: value`) is refused by kubectl as a whole object.
  if (mapping === true) return { problem: 'parse-error', line, detail: `${label}: ${what} is ${describeValue(v)}, not a mapping, so Kubernetes refuses the object` };
  return { problem: 'parse-error', line, detail: `${label}: ${what} is ${describeValue(v)}, not a string, so Kubernetes refuses the object (quote the value)` };
}

/** Line of the first Helm template action in the object's text (comments aside), quoted or not. */
function helmActionLine(obj: ManifestObject): number | null {
  const lines = obj.source.split('\n');
  for (const [i, text] of lines.entries()) {
    if (text.trimStart().startsWith('#')) continue;
    for (const m of text.matchAll(/\{\{(.*?)\}\}/g)) if (HELM_ACTION_RE.test(m[1] ?? '')) return obj.line + i;
  }
  return null;
}

/**
 * Template syntax in the fields podid reads, anywhere unquoted, or Helm's anywhere: the object
 * is a template, reported at its first such line. Otherwise, a field that is not a string.
 */
function skipReason(obj: ManifestObject, label: string, fields: readonly Field[]): Skip | null {
  const found = fields.map((f) => fieldSkip(obj, label, f)).filter((x): x is Skip => x !== null);
  const templateLines = [...found.filter((x) => x.problem === 'unrendered-template').map((x) => x.line), obj.bareTemplateLine, helmActionLine(obj)]
    .filter((x): x is number => x !== null);
  if (templateLines.length > 0) return { problem: 'unrendered-template', line: Math.min(...templateLines) };
  return found[0] ?? null;
}

/** `ServiceAccount api`; a templated name as written, so the finding shows what to render. */
function objectLabel(obj: ManifestObject, kind: string): string {
  const name = get(obj.value, ['metadata', 'name']);
  const written = typeof name === 'string' ? name : obj.sourceOf(['metadata', 'name'])?.replace(/\s+/g, ' ').trim();
  return `${kind} ${written === undefined || written === '' ? '(unnamed)' : truncate(written, 80)}`;
}

const truncate = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 3)}...`);

const METADATA_FIELDS: readonly Field[] = [
  { path: ['metadata', 'name'], what: 'metadata.name' },
  { path: ['metadata', 'namespace'], what: 'metadata.namespace' },
];

/** Mappings a ServiceAccount's annotations are read from: written otherwise, kubectl refuses the object. */
const SERVICE_ACCOUNT_MAPPINGS: readonly Field[] = [
  { path: ['metadata'], what: 'metadata', mapping: true },
  { path: ['metadata', 'annotations'], what: 'metadata.annotations', mapping: true },
];

/** A line that sets the IRSA annotation, as a key (also as a list item: `- eks.amazonaws.com/role-arn: ...`). */
const ROLE_ARN_KEY_LINE = /^\s*(?:-\s+)?["']?eks\.amazonaws\.com\/role-arn["']?\s*:/;

const SERVICE_ACCOUNT_FIELDS: readonly Field[] = [
  // The mappings first: a skip reports the first field it finds wrong, and these hide the rest.
  ...SERVICE_ACCOUNT_MAPPINGS,
  ...METADATA_FIELDS,
  ...[ROLE_ARN_ANNOTATION, AUDIENCE_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION]
    .map((key) => ({ path: ['metadata', 'annotations', key], what: `annotation ${key}` })),
];

function workloadFields(spec: ManifestPath): Field[] {
  return [...METADATA_FIELDS, ...['serviceAccountName', 'serviceAccount'].map((key) => ({ path: [...spec, key], what: [...spec, key].join('.') }))];
}

// ---- workloads --------------------------------------------------------------------------------

function isWindows(obj: ManifestObject, spec: ManifestPath): { line: number; why: string } | null {
  const selector = get(obj.value, [...spec, 'nodeSelector']);
  for (const key of ['kubernetes.io/os', 'beta.kubernetes.io/os']) {
    const os = str(get(selector, [key]));
    if (os?.toLowerCase() === 'windows') return { line: obj.lineOf([...spec, 'nodeSelector', key]), why: `nodeSelector ${key}=windows` };
  }
  // Required node affinity where every term pins the OS to Windows only (as a live scan judges it).
  const termsPath = [...spec, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'];
  return requiredAffinityPinsWindows(get(obj.value, termsPath)) ? { line: obj.lineOf(termsPath), why: 'required node affinity kubernetes.io/os In (windows)' } : null;
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

function readWorkload(obj: ManifestObject, kind: WorkloadKind, label: string): Workload | Skip {
  const spec = POD_SPEC_PATHS[kind];
  const skip = skipReason(obj, label, workloadFields(spec));
  if (skip !== null) return skip;
  const name = str(get(obj.value, ['metadata', 'name'])) ?? '';
  const namespace = str(get(obj.value, ['metadata', 'namespace'])) ?? 'default';
  // serviceAccount is the deprecated alias; with neither, pods run as `default`.
  const serviceAccount = str(get(obj.value, [...spec, 'serviceAccountName'])) ?? str(get(obj.value, [...spec, 'serviceAccount'])) ?? 'default';
  const windows = isWindows(obj, spec);
  return { obj, kind, namespace, name, serviceAccount, windowsLine: windows?.line ?? null, windowsWhy: windows?.why ?? '', handWired: handWiredContainers(obj, spec) };
}

// ---- service accounts -------------------------------------------------------------------------

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
    out.push(located(finding('WORKLOAD_ON_WINDOWS', { workload: label, why: `${w.windowsWhy} at ${at(w.obj, w.windowsLine)}` }), w.obj.file, w.windowsLine));
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
  if (name === 'default') findings.push(here(finding('SA_DEFAULT_ANNOTATED', { namespace })));
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
  const where = p.line > 0 ? `${p.file}:${p.line}` : p.file;
  const f = p.problem === 'unrendered-template'
    ? finding('MANIFEST_UNRENDERED_TEMPLATE', { at: where, what: p.detail })
    : finding(PROBLEM_CODES[p.problem], { at: where, detail: p.detail });
  // An empty input has no line to point at (and may be a directory): its message names it.
  return p.line > 0 ? located(f, p.file, p.line) : f;
}

const PROBLEM_CODES = {
  'parse-error': 'MANIFEST_PARSE_ERROR',
  'duplicate-key': 'MANIFEST_DUPLICATE_KEY',
  'not-text': 'MANIFEST_NOT_TEXT',
  empty: 'MANIFEST_INPUT_EMPTY',
} as const;

/**
 * An IRSA annotation inside an unrendered template (IRSA whatever the template renders to), in
 * a document that does not parse, or under a key a duplicate drops. `subject` says which.
 */
function templatedIrsaFinding(file: string, line: number, template: string | null, subject: string): Finding {
  return located(finding('IRSA_ANNOTATION', { serviceAccount: subject, at: `${file}:${line}`, template }), file, line);
}


export function analyzeManifests(docs: readonly ManifestDoc[], opts: AnalyzeManifestsOptions): Inventory {
  const cluster = opts.cluster ?? '';
  const limit = opts.trustPolicyLimit ?? DEFAULT_TRUST_POLICY_LIMIT;
  const namespaces = new Set(opts.namespaces ?? []);
  const wanted = new Set(opts.serviceAccounts ?? []);
  const inScope = (ns: string, name: string) => (namespaces.size === 0 || namespaces.has(ns)) && (wanted.size === 0 || wanted.has(`${ns}/${name}`));

  const inputFindings: Finding[] = [];
  const templatedFiles = new Set<string>();
  const irsaInTemplates = new Set<string>();
  const templatedIrsa = (file: string, line: number, template: string | null, what: string) => {
    const key = `${file}:${line}`;
    if (irsaInTemplates.has(key)) return;
    irsaInTemplates.add(key);
    inputFindings.push(templatedIrsaFinding(file, line, template, what));
  };
  const skipped = (obj: ManifestObject, label: string, skip: Skip) => {
    if (skip.problem === 'parse-error') {
      inputFindings.push(problemFinding({ type: 'problem', problem: 'parse-error', file: obj.file, line: skip.line, template: obj.template, detail: skip.detail }));
      return;
    }
    // One finding per file: a chart's templates directory would otherwise report every object.
    if (templatedFiles.has(obj.file)) return;
    templatedFiles.add(obj.file);
    inputFindings.push(problemFinding({ type: 'problem', problem: 'unrendered-template', file: obj.file, line: skip.line, template: obj.template, detail: label }));
  };

  const workloads: Workload[] = [];
  const serviceAccounts: { obj: ManifestObject; raw: string; namespace: string; name: string }[] = [];
  // A duplicate-key document's role-arn lines wait until its objects are read: only those no
  // annotated ServiceAccount reports (written under a key kubectl drops) become input findings.
  const duplicateKeyIrsa: { file: string; line: number; template: string | null; subject: string }[] = [];
  for (const doc of docs) {
    if (doc.type === 'irsa-source') {
      templatedIrsa(doc.file, doc.line, null, doc.subject);
      continue;
    }
    if (doc.type === 'problem') {
      if (doc.problem === 'unrendered-template') templatedFiles.add(doc.file);
      inputFindings.push(problemFinding(doc));
      for (const [i, line] of (doc.irsaLines ?? []).entries()) {
        const subject = doc.irsaSubject?.[i] ?? '(name not rendered) of an unrendered template';
        if (doc.problem === 'duplicate-key') duplicateKeyIrsa.push({ file: doc.file, line, template: doc.template, subject });
        else templatedIrsa(doc.file, line, doc.template, subject);
      }
      continue;
    }
    const kind = str(doc.value['kind']) ?? '';
    const label = objectLabel(doc, kind);
    if (isWorkloadKind(kind)) {
      const w = readWorkload(doc, kind, label);
      if ('problem' in w) skipped(doc, label, w);
      else workloads.push(w);
    } else if (kind === 'ServiceAccount') {
      const skip = skipReason(doc, label, SERVICE_ACCOUNT_FIELDS);
      // A templated ServiceAccount may render to an annotated one: reported even without the annotation.
      if (skip?.problem === 'unrendered-template') {
        skipped(doc, label, skip);
        if (get(doc.value, ['metadata', 'annotations', ROLE_ARN_ANNOTATION]) !== undefined) {
          templatedIrsa(doc.file, doc.lineOf(['metadata', 'annotations', ROLE_ARN_ANNOTATION]), doc.template, `${label.replace(/^ServiceAccount /, '')} of an unrendered template`);
        }
        continue;
      }
      const annotation = get(doc.value, ['metadata', 'annotations', ROLE_ARN_ANNOTATION]);
      if (annotation === undefined) {
        // metadata or annotations that are not a mapping (`annotations:` written as a list):
        // kubectl refuses the object, and a role-arn written in them is IRSA all the same.
        const shape = skipReason(doc, label, SERVICE_ACCOUNT_MAPPINGS);
        if (shape !== null) {
          skipped(doc, label, shape);
          const subject = `${label.replace(/^ServiceAccount /, '')} of an object Kubernetes refuses`;
          for (const [i, text] of doc.source.split('\n').entries()) if (ROLE_ARN_KEY_LINE.test(text)) templatedIrsa(doc.file, doc.line + i, doc.template, subject);
        }
        continue;
      }
      const name = str(get(doc.value, ['metadata', 'name'])) ?? '';
      const raw = annotationValue(annotation);
      if (skip !== null) skipped(doc, label, skip);
      else if (name === '') skipped(doc, label, { problem: 'parse-error', line: doc.lineOf(['metadata', 'name']), detail: `${label}: no metadata.name, so Kubernetes refuses the object` });
      else if (raw !== undefined) serviceAccounts.push({ obj: doc, raw, namespace: str(get(doc.value, ['metadata', 'namespace'])) ?? 'default', name });
    }
  }

  const annotationAt = new Set(serviceAccounts.map((sa) => `${sa.obj.file}:${sa.obj.lineOf(['metadata', 'annotations', ROLE_ARN_ANNOTATION])}`));
  for (const d of duplicateKeyIrsa) if (!annotationAt.has(`${d.file}:${d.line}`)) templatedIrsa(d.file, d.line, d.template, d.subject);

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
