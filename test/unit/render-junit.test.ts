import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { evaluateGate, type FailOn } from '../../src/core/gate.js';
import { renderJunit } from '../../src/render/junit.js';
import { escapeAttr, escapeText } from '../../src/render/xml.js';
import { inputsInventory, liveInventory, manifestsInventory, PROD, STAGING } from './fixtures/inventory.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

/**
 * A strict little parser for the XML subset a JUnit report uses (declaration, elements,
 * attributes, text): it throws on anything not well-formed, which is what the tests check.
 */
function parseXml(xml: string): XmlElement {
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(xml)) throw new Error('control character XML 1.0 cannot carry');
  let rest = xml.replace(/^<\?xml [^?]*\?>\n/, '');
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/;
  while (rest.length > 0) {
    const top = stack[stack.length - 1]!;
    if (rest.startsWith('<')) {
      const m = tag.exec(rest);
      if (!m) throw new Error(`bad tag at: ${rest.slice(0, 40)}`);
      const [whole, close, name, attrText, selfClose] = m;
      rest = rest.slice(whole.length);
      if (close) {
        if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
        stack.pop();
        continue;
      }
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const el: XmlElement = { name: name!, attrs, children: [], text: '' };
      top.children.push(el);
      if (!selfClose) stack.push(el);
    } else {
      const end = rest.indexOf('<');
      const raw = end < 0 ? rest : rest.slice(0, end);
      if (/&(?!(#\d+|#x[0-9a-f]+|\w+);)/i.test(raw) || raw.includes('>')) throw new Error(`unescaped text: ${raw}`);
      top.text += decode(raw);
      rest = end < 0 ? '' : rest.slice(end);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  const elements = root.children;
  if (elements.length !== 1 || root.text.trim() !== '') throw new Error('not exactly one root element');
  return elements[0]!;
}

describe('renderJunit', () => {
  const doc = parseXml(renderJunit(liveInventory));
  const suites = doc.children;
  const cases = (suite: XmlElement) => suite.children.filter((c) => c.name === 'testcase');

  it('is well-formed, one testsuite per cluster, with consistent counts', () => {
    expect(doc.name).toBe('testsuites');
    expect(suites.map((s) => s.attrs['name'])).toEqual([PROD, STAGING]);
    let tests = 0;
    let failures = 0;
    for (const s of suites) {
      const cs = cases(s);
      const failed = cs.filter((c) => c.children.some((x) => x.name === 'failure')).length;
      expect(s.attrs['tests']).toBe(String(cs.length));
      expect(s.attrs['failures']).toBe(String(failed));
      tests += cs.length;
      failures += failed;
    }
    expect(doc.attrs['tests']).toBe(String(tests));
    expect(doc.attrs['failures']).toBe(String(failures));
  });

  it('has a testcase per SA named namespace/name under its cluster, plus cluster readiness and add-ons', () => {
    const prod = cases(suites[0]!);
    expect(prod.map((c) => c.attrs['name'])).toEqual([
      'cluster readiness', 'shop/cart', 'shop/orders', 'shop/payments', 'shop/search', 'shop/legacy', 'kube-system/aws-node', 'addon/vpc-cni',
    ]);
    for (const c of prod) expect(c.attrs['classname']).toBe(PROD);
  });

  it('fails blocked service accounts with the first error as message and type; others pass', () => {
    const byName = new Map([...suites.flatMap(cases)].map((c) => [c.attrs['name'], c]));
    const failure = (n: string) => byName.get(n)!.children.find((x) => x.name === 'failure');
    expect(failure('shop/payments')?.attrs).toEqual({
      message: 'cannot read role arn:aws:iam::444455556666:role/payments-irsa: role is in account 444455556666; podid reads IAM as account 111122223333',
      type: 'ROLE_UNREADABLE',
    });
    expect(failure('shop/payments')?.text).toContain('fix: allow iam:GetRole on the role');
    for (const n of ['shop/cart', 'shop/orders', 'shop/search', 'shop/legacy', 'kube-system/aws-node']) expect(failure(n)).toBeUndefined();
    expect(byName.get('shop/orders')!.children.find((x) => x.name === 'system-out')?.text).toContain('warning ANNOTATION_AUDIENCE');
    expect(failure('addon/aws-ebs-csi-driver')?.attrs['type']).toBe('ADDON_VERSION_UNSUPPORTED');
    expect(failure('cluster readiness')?.attrs['type']).toBe('AGENT_NOT_READY');
  });

  it('escapes markup and replaces control characters, keeping the text readable', () => {
    const reports = cases(suites[1]!).find((c) => c.attrs['name'] === 'batch/reports')!;
    const text = reports.children[0]!.text;
    expect(text).toContain('fp-batch | Pod Identity is <not> supported there & "never"');
    expect(text).toContain('allowlisted until 2026-12-31: Fargate batch stays on IRSA');
  });

  it('passes a blocked SA whose every error is allowlisted', () => {
    const sa = liveInventory.serviceAccounts[6]!;
    const waived: Inventory = {
      ...liveInventory,
      serviceAccounts: [{ ...sa, findings: [sa.findings[1]!] }],
    };
    const tc = parseXml(renderJunit(waived)).children[1]!.children.find((c) => c.attrs['name'] === 'batch/reports')!;
    expect(tc.children.map((c) => c.name)).toEqual(['system-out']);
  });

  it('names a cluster a fleet run could not scan by its context, one suite each (not "(no cluster)" / "manifests")', () => {
    const base = liveInventory.clusters[0]!;
    const unscanned = (context: string) => ({ ...base, arn: '', name: context, context, scanned: false as const, readiness: 'blocked' as const,
      findings: [{ code: 'CLUSTER_UNREACHABLE' as never, severity: 'error' as const, message: `${context} unreachable`, fix: 'f' }] });
    const inv: Inventory = { ...liveInventory, clusters: [...liveInventory.clusters, unscanned('dead-a'), unscanned('dead-b')] };
    const doc = parseXml(renderJunit(inv));
    const suites = doc.children.slice(-2);
    expect(suites.map((s) => s.attrs['name'])).toEqual(['context dead-a', 'context dead-b']);
    expect(suites.map((s) => s.children[0]!.attrs['classname'])).toEqual(['context dead-a', 'context dead-b']);
    expect(suites.map((s) => s.attrs['failures'])).toEqual(['1', '1']);
  });

  it('puts a manifests scan in one suite', () => {
    const m = parseXml(renderJunit(manifestsInventory));
    expect(m.children.map((s) => s.attrs['name'])).toEqual(['manifests']);
    expect(m.attrs['failures']).toBe('1');
    expect(m.children[0]!.children[1]!.children[0]!.text).toContain('at apps/worker/all in one.yaml:9');
  });
});

describe('renderJunit under --fail-on: the testcases that fail are the ones the gate failed on', () => {
  const failedCases = (xml: string) => parseXml(xml).children.flatMap((s) => s.children)
    .filter((c) => c.children.some((x) => x.name === 'failure'))
    .map((c) => `${c.attrs['classname']} ${c.attrs['name']}`);

  it('--fail-on irsa: every service account still on IRSA fails (a ready one too), so the CI test report is red when the job is', () => {
    // Before, a ready or ready-with-warnings IRSA SA passed: exit 3, yet GitLab/Jenkins showed no failing test.
    const gate = evaluateGate(liveInventory, 'irsa');
    const xml = renderJunit(liveInventory, { gate: { failOn: 'irsa', matched: gate.matched } });
    expect(failedCases(xml)).toContain(`${PROD} shop/cart`);
    const doc = parseXml(xml);
    expect(doc.attrs['failures']).toBe(String(gate.matched.size));
    const cart = doc.children[0]!.children.find((c) => c.attrs['name'] === 'shop/cart')!;
    expect(cart.children[0]!.attrs).toMatchObject({ type: 'FAIL_ON_IRSA', message: '--fail-on irsa: still on IRSA (ready)' });
  });

  it('under every gate, the failing testcases are the subjects the gate matched: the counts agree with the exit code', () => {
    for (const failOn of ['irsa', 'blocked', 'warnings'] as FailOn[]) {
      for (const inv of [liveInventory, inputsInventory]) {
        const gate = evaluateGate(inv, failOn);
        const doc = parseXml(renderJunit(inv, { gate: { failOn, matched: gate.matched } }));
        expect(doc.attrs['failures']).toBe(String(gate.matched.size));
        expect(gate.failed).toBe(gate.matched.size > 0);
      }
    }
  });

  it('--fail-on never (or no gate) keeps the verdict rule: blocked fails', () => {
    const never = evaluateGate(liveInventory, 'never');
    expect(renderJunit(liveInventory, { gate: { failOn: 'never', matched: never.matched } })).toBe(renderJunit(liveInventory));
  });
});

describe('renderJunit: findings about the inputs', () => {
  const doc = parseXml(renderJunit(inputsInventory));
  const inputs = doc.children.find((s) => s.attrs['name'] === 'inputs')!;
  const failureOf = (tc: XmlElement) => tc.children.find((x) => x.name === 'failure');

  it('adds a last suite, inputs, with a testcase per finding and counts that add up', () => {
    expect(doc.children.map((s) => s.attrs['name'])).toEqual(['manifests', 'inputs']);
    expect(inputs.children.map((c) => [c.attrs['classname'], c.attrs['name']])).toEqual([
      ['inputs', 'MANIFEST_PARSE_ERROR broken/bad.yaml:6'],
      ['inputs', 'MANIFEST_PARSE_ERROR vendor/x.yaml:2'],
      ['inputs', 'MANIFEST_UNRENDERED_TEMPLATE charts/app/templates/sa.yaml:4'],
      ['inputs', 'ALLOWLIST_EXPIRED .podid.yaml allowlist[1] ("migrating in Q3") was valid until 2024-09-30 and no longer applies'],
    ]);
    expect(inputs.attrs).toMatchObject({ tests: '4', failures: '1', errors: '0' });
    expect(doc.attrs).toMatchObject({ tests: '6', failures: '2' });
  });

  it('fails only the error no allowlist entry covers; the rest pass with the finding in system-out', () => {
    const [parse, vendored, template, expired] = inputs.children;
    expect(failureOf(parse!)?.attrs).toEqual({ message: inputsInventory.inputFindings![0]!.message, type: 'MANIFEST_PARSE_ERROR' });
    expect(failureOf(parse!)?.text).toContain('fix: fix the YAML');
    for (const tc of [vendored!, template!, expired!]) {
      expect(failureOf(tc)).toBeUndefined();
      expect(tc.children.map((c) => c.name)).toEqual(['system-out']);
    }
    expect(vendored!.children[0]!.text).toContain('allowlisted until 2026-06-30: vendored upstream manifests');
    expect(template!.children[0]!.text).toContain('warning MANIFEST_UNRENDERED_TEMPLATE: charts/app/templates/sa.yaml:4:');
  });

  it('writes no inputs suite when there are no input findings', () => {
    expect(parseXml(renderJunit(manifestsInventory)).children.map((s) => s.attrs['name'])).toEqual(['manifests']);
  });
});

describe('XML escaping', () => {
  it('escapes the five specials and keeps newlines in attributes', () => {
    expect(escapeText('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(escapeAttr(`"it's"\n\tx`)).toBe('&quot;it&apos;s&quot;&#10;&#9;x');
  });

  it('never emits a character XML 1.0 forbids', () => {
    const nasty = 'a\u0000b\u0007c\u001bd\uFFFEe\uD800f\u{1F600}g';
    const out = escapeText(nasty);
    expect(out).toBe('a\\u0000b\\u0007c\\u001Bd\\uFFFEe\uFFFDf\u{1F600}g');
    expect(() => parseXml(`<x a="${escapeAttr(nasty)}">${out}</x>`)).not.toThrow();
  });

  it('the checker rejects what it should', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>x & y</a>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
  });
});
