/**
 * `podid scan -o junit`: JUnit XML for CI test reporters. One <testsuite> per cluster, with a
 * testcase for the cluster's own readiness, one per IRSA service account
 * (`classname="<cluster>" name="<namespace>/<name>"`) and one per add-on migration. A blocked
 * verdict is a <failure> (type = the first error's code) unless every error is allowlisted;
 * everything else passes, with its findings in <system-out> so reporters still show warnings.
 * Findings about the inputs (`inputFindings`) get a last suite, `inputs`, one testcase each.
 */
import type { FailOn } from '../core/gate.js';
import type { Finding, Inventory } from '../core/scan/inventory.js';
import {
  bySeverity, findingWhere, groupByCluster, inputFindings, locationLabel, oneLine, suppressionOf, truncateEnd, type ClusterGroup,
} from './common.js';
import { attrs, escapeText } from './xml.js';

interface TestCase {
  /** The report object (service account, add-on, cluster, input finding) the gate matches by. */
  readonly subject: object;
  readonly classname: string;
  readonly name: string;
  readonly blocked: boolean;
  readonly findings: readonly Finding[];
}

const INPUTS = 'inputs';

export interface JunitOptions {
  /**
   * The `--fail-on` gate evaluated on this inventory (core/gate.ts evaluateGate's `matched`).
   * Under any gate but `never`, a testcase fails exactly when the gate matched its subject, so the
   * CI test report is red when (and only when) the job failed on it.
   */
  readonly gate?: { readonly failOn: FailOn; readonly matched: ReadonlyMap<object, readonly string[]> };
}

export function renderJunit(inv: Inventory, opts: JunitOptions = {}): string {
  const gate = opts.gate !== undefined && opts.gate.failOn !== 'never' ? opts.gate : undefined;
  const isFailure = (tc: TestCase) => (gate === undefined ? isBlockedFailure(tc) : gate.matched.has(tc.subject));
  const suites = groupByCluster(inv).map((g) => ({ name: suiteName(inv, g), cases: testCases(g) }));
  const inputs = inputCases(inv);
  if (inputs.length > 0) suites.push({ name: INPUTS, cases: inputs });
  const tests = suites.reduce((n, s) => n + s.cases.length, 0);
  const failures = suites.reduce((n, s) => n + s.cases.filter(isFailure).length, 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${attrs({ name: 'podid scan', tests, failures, errors: 0 })}>`);
  for (const { name, cases } of suites) {
    const suiteAttrs = {
      name,
      tests: cases.length,
      failures: cases.filter(isFailure).length,
      errors: 0,
      skipped: 0,
      timestamp: inv.generatedAt,
    };
    if (cases.length === 0) {
      out.push(`  <testsuite${attrs(suiteAttrs)}/>`);
      continue;
    }
    out.push(`  <testsuite${attrs(suiteAttrs)}>`);
    for (const tc of cases) out.push(...testCaseXml(tc, isFailure(tc), gate === undefined ? undefined : { failOn: gate.failOn, why: gate.matched.get(tc.subject) ?? [] }));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/**
 * A cluster a fleet run could not scan has no ARN (key ''): it is named by its context, as in
 * SARIF, so that two of them are two suites rather than one "(no cluster)" with a "manifests"
 * classname in a live scan.
 */
function unscannedName(group: ClusterGroup): string | null {
  const c = group.cluster;
  return c !== null && c.scanned === false ? `context ${c.context ?? c.name}` : null;
}

function suiteName(inv: Inventory, group: ClusterGroup): string {
  if (group.key !== '') return group.key;
  return unscannedName(group) ?? (inv.source === 'manifests' ? 'manifests' : '(no cluster)');
}

function testCases(group: ClusterGroup): TestCase[] {
  const classname = group.key !== '' ? group.key : unscannedName(group) ?? 'manifests';
  const cases: TestCase[] = [];
  if (group.cluster) {
    cases.push({ subject: group.cluster, classname, name: 'cluster readiness', blocked: group.cluster.readiness === 'blocked', findings: group.cluster.findings });
  }
  for (const sa of group.serviceAccounts) {
    cases.push({ subject: sa, classname, name: `${sa.namespace}/${sa.name}`, blocked: sa.verdict === 'blocked', findings: sa.findings });
  }
  for (const a of group.addons) {
    cases.push({ subject: a, classname, name: `addon/${a.name}`, blocked: a.verdict === 'blocked', findings: a.findings });
  }
  return cases;
}

/**
 * One testcase per finding about the inputs (a manifest podid could not read, a template, a
 * stale allowlist entry): an error fails it, as it fails every `--fail-on` gate, unless the
 * allowlist covers it; anything else passes with the finding in <system-out>.
 */
function inputCases(inv: Inventory): TestCase[] {
  return inputFindings(inv).map((f) => ({
    subject: f,
    classname: INPUTS,
    // The file and line tell two findings of one code apart; an unlocated one names its subject in the message.
    name: `${f.code} ${f.location ? locationLabel(f.location) : truncateEnd(oneLine(f.message), MAX_NAME)}`,
    blocked: f.severity === 'error',
    findings: [f],
  }));
}

const MAX_NAME = 120;

function activeErrors(tc: TestCase): Finding[] {
  return tc.findings.filter((f) => f.severity === 'error' && suppressionOf(f) === null);
}

/**
 * Blocked with an error nobody waived. A blocked verdict whose errors are all allowlisted
 * passes: that is what the allowlist is for. Blocked with no error findings at all is still a
 * failure (the verdict is the scan's judgement), reported under the type BLOCKED.
 */
function isBlockedFailure(tc: TestCase): boolean {
  if (!tc.blocked) return false;
  const errors = tc.findings.filter((f) => f.severity === 'error');
  return errors.length === 0 || activeErrors(tc).length > 0;
}

function findingText(f: Finding): string {
  const lines = [`${f.severity} ${f.code}: ${oneLine(f.message)}`];
  const at = findingWhere(f);
  if (at !== null) lines.push(`  at ${at}`);
  if (f.fix.trim() !== '') lines.push(`  fix: ${oneLine(f.fix)}`);
  const s = suppressionOf(f);
  if (s) lines.push(`  allowlisted until ${s.expires}: ${oneLine(s.reason)}`);
  return lines.join('\n');
}

function testCaseXml(tc: TestCase, failed: boolean, gate: { failOn: FailOn; why: readonly string[] } | undefined): string[] {
  const open = `    <testcase${attrs({ classname: tc.classname, name: tc.name })}`;
  const sorted = bySeverity(tc.findings);
  if (failed) {
    const first = activeErrors(tc)[0];
    const failure = gate !== undefined
      ? attrs({ message: `--fail-on ${gate.failOn}: ${gate.why.join('; ')}`, type: first ? first.code : `FAIL_ON_${gate.failOn.toUpperCase()}` })
      : attrs({ message: first ? oneLine(first.message) : 'blocked', type: first ? first.code : 'BLOCKED' });
    const body = sorted.map(findingText).join('\n');
    return [`${open}>`, `      <failure${failure}>${escapeText(body)}</failure>`, '    </testcase>'];
  }
  if (sorted.length === 0) return [`${open}/>`];
  return [`${open}>`, `      <system-out>${escapeText(sorted.map(findingText).join('\n'))}</system-out>`, '    </testcase>'];
}
