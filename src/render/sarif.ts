/**
 * `podid scan -o sarif`: SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps). One
 * rule per finding code, one result per finding. Manifests-mode findings point at the file and
 * line; live findings name the Kubernetes object as a logical location
 * (`<cluster-arn>/<namespace>/<name>`) and, since GitHub refuses a result without an artifact
 * location, a physical one that names it too (`eks/<account>/<region>/<cluster>/...`). Findings about the inputs (`inputFindings`: manifests
 * that do not parse or are templates, stale allowlist entries) point at their file when they
 * have one, under the logical location `inputs/<file>`. Allowlisted findings carry an external
 * suppression, so viewers show them as dismissed rather than dropping them.
 */
import type { Invocation, Location, Log, ReportingConfiguration, ReportingDescriptor, Result, Run, ToolComponent } from 'sarif';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { FINDINGS, isFindingCode } from '../core/scan/findings.js';
import type { Finding, Inventory, Severity } from '../core/scan/inventory.js';
import { groupByCluster, suppressionOf } from './common.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  /** podid's version (tool.driver.version); default: the inventory's toolVersion. */
  readonly toolVersion?: string;
  /** Where users read about podid (tool.driver.informationUri). */
  readonly informationUri?: string;
  /**
   * Where podid ran and the root of the repository around it: manifest paths (relative to `cwd`)
   * are then written relative to `root`, which is how code scanning resolves them. Without it,
   * paths are written as given.
   */
  readonly base?: SourceBase;
}

export interface SourceBase {
  readonly cwd: string;
  readonly root: string;
}

/** The levels podid uses (SARIF's `none` is never one: every finding has a severity). */
type SarifLevel = Exclude<Result.level, 'none'>;

/** SARIF's types (@types/sarif, from the OASIS 2.1.0 schema) make every property optional; these are the ones podid always writes. */
type Filled<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
export type SarifRule = Filled<ReportingDescriptor, 'shortDescription' | 'help'> & { defaultConfiguration: Omit<ReportingConfiguration, 'level'> & { level: SarifLevel } };
export type SarifLocation = Filled<Location, 'logicalLocations'>;
export type SarifResult = Omit<Filled<Result, 'ruleId' | 'ruleIndex' | 'level' | 'message' | 'partialFingerprints'>, 'locations'> & { locations: SarifLocation[] };
export type SarifRun = Omit<Run, 'tool' | 'invocations' | 'results'> & { tool: { driver: Omit<ToolComponent, 'rules'> & { rules: SarifRule[] } }; invocations: Invocation[]; results: SarifResult[] };
export type SarifLog = Omit<Log, 'runs'> & { $schema: string; runs: [SarifRun] };

const LEVEL: Readonly<Record<Severity, SarifLevel>> = { error: 'error', warning: 'warning', info: 'note' };
const LEVEL_RANK: Readonly<Record<SarifLevel, number>> = { error: 0, warning: 1, note: 2 };

/** The subject a finding is about: its name for humans and its logical location. */
interface Subject {
  /** Prefixes the message; empty for input findings, whose message names its file itself. */
  readonly label: string;
  readonly name: string;
  readonly fullyQualifiedName: string;
  readonly location: { file: string; line: number } | undefined;
  /** What tells this result from others of the same code; default: the fully qualified name. */
  readonly fingerprint?: string;
}

/** The logical location of a finding about the inputs: the file, or podid's inputs as a whole. */
function inputSubject(f: Finding): Subject {
  if (f.location) {
    const where = `${f.location.file}:${f.location.line}`;
    return { label: '', name: f.location.file, fullyQualifiedName: `inputs/${f.location.file}`, location: undefined, fingerprint: `inputs/${where}` };
  }
  // Unlocated (an expired allowlist entry): its message names the entry, which is what stays stable.
  return { label: '', name: 'inputs', fullyQualifiedName: 'inputs', location: undefined, fingerprint: `inputs/${f.message}` };
}

/** The SARIF log (types from @types/sarif, the OASIS SARIF 2.1.0 schema's). */
export function buildSarif(inv: Inventory, opts: SarifOptions): SarifLog {
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const results: SarifResult[] = [];

  const add = (f: Finding, subject: Subject): void => {
    const level = LEVEL[f.severity];
    let index = ruleIndex.get(f.code);
    if (index === undefined) {
      index = rules.length;
      ruleIndex.set(f.code, index);
      rules.push({ id: f.code, ...ruleText(f), defaultConfiguration: { level } });
    } else {
      const rule = rules[index];
      // A code normally has one severity; if not, the rule advertises the most severe.
      if (rule && LEVEL_RANK[level] < LEVEL_RANK[rule.defaultConfiguration.level]) rule.defaultConfiguration.level = level;
    }
    const where = f.location ?? subject.location;
    const location: SarifLocation = {
      logicalLocations: [{ name: subject.name, fullyQualifiedName: subject.fullyQualifiedName, kind: 'resource' }],
    };
    // GitHub code scanning rejects the whole file when one result has no artifact location
    // ("locationFromSarifResult: expected artifact location"), so a finding with no file (a live
    // object, an unlocated input finding) points at a stable path that names its subject.
    const uri = where ? fileUri(where.file, opts.base) : null;
    location.physicalLocation = where && uri !== null
      ? { artifactLocation: { uri }, region: { startLine: Math.max(1, where.line) } }
      : { artifactLocation: { uri: subjectUri(subject.fullyQualifiedName) }, region: { startLine: 1 } };
    const result: SarifResult = {
      ruleId: f.code,
      ruleIndex: index,
      level,
      message: { text: subject.label === '' ? f.message : `${subject.label}: ${f.message}` },
      locations: [location],
      // Stable across runs, so code-scanning UIs track a finding rather than reopening it.
      // The file is part of it: the same ServiceAccount in two overlays is two results, not one
      // alert GitHub would merge (the line is not: an edit above it must not reopen the alert).
      partialFingerprints: { 'podidFinding/v1': `${f.code}:${subject.fingerprint ?? subject.fullyQualifiedName}${subject.fingerprint === undefined && uri !== null ? `@${uri}` : ''}` },
    };
    const suppressed = suppressionOf(f);
    if (suppressed) {
      result.suppressions = [{ kind: 'external', status: 'accepted', justification: `${suppressed.reason} (allowlisted until ${suppressed.expires})` }];
    }
    results.push(result);
  };

  for (const group of groupByCluster(inv)) {
    const prefix = group.key === '' ? '' : `${group.key}/`;
    const clusterName = group.cluster?.name ?? (group.key === '' ? null : group.key);
    if (group.cluster) {
      const c = group.cluster;
      for (const f of c.findings) add(f, { label: `cluster ${c.name}`, name: c.name, fullyQualifiedName: c.scanned === false ? `context/${c.context ?? c.name}` : c.arn, location: undefined });
    }
    for (const sa of group.serviceAccounts) {
      const name = `${sa.namespace}/${sa.name}`;
      const label = clusterName ? `${name} (${clusterName})` : name;
      for (const f of sa.findings) add(f, { label, name, fullyQualifiedName: prefix + name, location: sa.location });
    }
    for (const a of group.addons) {
      const name = `addon/${a.name}`;
      const label = clusterName ? `add-on ${a.name} (${clusterName})` : `add-on ${a.name}`;
      for (const f of a.findings) add(f, { label, name, fullyQualifiedName: prefix + name, location: undefined });
    }
  }
  // Findings about the inputs share the rules (one per code) with everything above.
  for (const f of inv.inputFindings ?? []) add(f, inputSubject(f));

  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [{
      tool: { driver: { name: 'podid', version: opts.toolVersion ?? inv.toolVersion ?? 'unknown', ...(opts.informationUri ? { informationUri: opts.informationUri } : {}), rules } },
      invocations: [{ executionSuccessful: true, endTimeUtc: inv.generatedAt }],
      results,
      properties: { source: inv.source, schemaVersion: inv.schemaVersion },
    }],
  };
}

export function renderSarif(inv: Inventory, opts: SarifOptions): string {
  return `${JSON.stringify(buildSarif(inv, opts), null, 2)}\n`;
}

/**
 * A rule describes the code, not one result: the catalogue's title and default fix (a result's
 * own fix may be more specific to its subject). A code outside the catalogue (an inventory from
 * another podid version) falls back to its name and the first result's fix.
 */
function ruleText(f: Finding): Pick<SarifRule, 'shortDescription' | 'help'> {
  if (isFindingCode(f.code)) {
    const spec = FINDINGS[f.code];
    return { shortDescription: { text: spec.title }, help: { text: spec.fix } };
  }
  return { shortDescription: { text: describeCode(f.code) }, help: { text: f.fix } };
}

/** `TRUST_POLICY_TOO_LARGE` -> `Trust policy too large`: the rule text of a code outside the catalogue. */
export function describeCode(code: string): string {
  const words = code.toLowerCase().split('_').filter((w) => w !== '');
  const text = words.join(' ');
  return text === '' ? code : text[0]!.toUpperCase() + text.slice(1);
}

/**
 * The artifact URI of a finding that has no file: its fully qualified name as a relative path, a
 * cluster ARN read as `eks/ACCOUNT/REGION/CLUSTER` (an ARN's colons would make it a URI with an
 * `arn:` scheme), anything else under `podid/`. Stable across runs, never a file in the repository.
 */
export function subjectUri(fullyQualifiedName: string): string {
  const encode = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const arn = /^arn:[^:/]+:eks:([^:/]*):([^:/]*):cluster\/([^/]+)(\/.*)?$/.exec(fullyQualifiedName);
  if (arn) return `eks/${encode(arn[2]!)}/${encode(arn[1]!)}/${encode(arn[3]!)}${encode(arn[4] ?? '')}`;
  return `podid/${encode(fullyQualifiedName)}`;
}

/** What manifests mode names stdin (adapters/manifests.ts STDIN_NAME): no file to resolve. */
const STDIN_NAME = '<stdin>';

/**
 * A SARIF artifact URI for a manifest path: with `base`, a path inside the repository is made
 * relative to its root; relative paths stay relative (resolved against the repository root by
 * code-scanning UIs), absolute ones become file:// URIs; separators are `/`
 * and characters that are not allowed in a URI are percent-encoded.
 */
export function fileUri(file: string, base?: SourceBase): string {
  if (base !== undefined && file !== STDIN_NAME && !/^[A-Za-z]:[\\/]/.test(file)) {
    const rel = relative(base.root, resolve(base.cwd, file));
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) file = rel;
  }
  let path = file.replace(/\\/g, '/');
  const encode = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const drive = /^([A-Za-z]):\//.exec(path);
  if (drive) return `file:///${drive[1]}:/${encode(path.slice(3))}`;
  if (path.startsWith('/')) return `file://${encode(path)}`;
  while (path.startsWith('./')) path = path.slice(2);
  return encode(path);
}
