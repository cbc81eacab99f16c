import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRoleArn } from '../../src/core/arn.js';
import type { ArnIssueCode } from '../../src/core/arn.js';
import { FINDINGS, FINDING_CODES, finding, isFindingCode, sortFindings, worstSeverity } from '../../src/core/scan/findings.js';
import { VERDICTS } from '../../src/core/scan/inventory.js';

const DOC = readFileSync(new URL('../../docs/findings.md', import.meta.url), 'utf8');

/** `| \`CODE\` | severity | meaning | fix |` rows of every table in docs/findings.md. */
function documentedCodes(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of DOC.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (error|warning|info) \|/gm)) {
    const [, code, severity] = m;
    if (code !== undefined && severity !== undefined) rows.set(code, severity);
  }
  return rows;
}

describe('findings catalogue', () => {
  it('documents every code in docs/findings.md with its severity', () => {
    const documented = documentedCodes();
    for (const code of FINDING_CODES) expect(documented.get(code), code).toBe(FINDINGS[code].severity);
  });

  it('documents no code the catalogue does not have', () => {
    const unknown = [...documentedCodes().keys()].filter((c) => !isFindingCode(c));
    expect(unknown).toEqual([]);
  });

  it('documents each code once', () => {
    const rows = [...DOC.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.length).toBe(new Set(rows).size);
  });

  it('documents every verdict', () => {
    for (const v of VERDICTS) expect(DOC).toContain(`**\`${v}\`**`);
  });

  it('gives every code a title and a fix, keyed by its own code', () => {
    for (const code of FINDING_CODES) {
      expect(FINDINGS[code].code).toBe(code);
      expect(FINDINGS[code].title.length, code).toBeGreaterThan(3);
      expect(FINDINGS[code].fix.length, code).toBeGreaterThan(10);
    }
  });

  it("covers every role-ARN issue parseRoleArn reports, with the parser's severity", () => {
    // A Record over the union makes this list fail to compile when arn.ts adds a code.
    const roleCodes: Record<Exclude<ArnIssueCode, 'ARN_NOT_A_CLUSTER'>, string> = {
      ARN_WHITESPACE: ' arn:aws:iam::111122223333:role/x',
      ARN_NOT_AN_ARN: 'x',
      ARN_MALFORMED: 'arn:aws:iam',
      ARN_NOT_A_ROLE: 'arn:aws:iam::111122223333:user/x',
      ARN_BAD_ACCOUNT: 'arn:aws:iam::1:role/x',
      ARN_BAD_NAME: 'arn:aws:iam::111122223333:role/x$',
      ARN_PARTITION_MISMATCH: 'arn:aws-cn:iam::111122223333:role/x',
      ARN_HAS_PATH: 'arn:aws:iam::111122223333:role/p/x',
    };
    for (const [code, raw] of Object.entries(roleCodes)) {
      const r = parseRoleArn(raw, { region: 'us-east-1' });
      const issue = (r.ok ? r.findings : r.issues).find((i) => i.code === code);
      expect(issue, code).toBeDefined();
      expect(isFindingCode(code), code).toBe(true);
      if (isFindingCode(code)) expect(FINDINGS[code].severity, code).toBe(issue?.severity);
    }
  });
});

describe('finding()', () => {
  it('builds the message from the arguments and takes severity and fix from the catalogue', () => {
    expect(finding('CLUSTER_VERSION_UNSUPPORTED', { version: '1.22' })).toEqual({
      code: 'CLUSTER_VERSION_UNSUPPORTED',
      severity: 'error',
      message: 'Kubernetes 1.22 is below 1.24, the first version EKS Pod Identity supports',
      fix: FINDINGS.CLUSTER_VERSION_UNSUPPORTED.fix,
    });
  });

  it('lets a caller give a more specific fix', () => {
    expect(finding('ARN_NOT_A_ROLE', { message: 'm' }, 'use the role').fix).toBe('use the role');
  });

  it('shortens long lists in messages', () => {
    const f = finding('AGENT_NOT_READY', { ready: 0, total: 7, missing: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
    expect(f.message).toBe('the eks-pod-identity-agent runs on 0 of 7 Linux nodes; none on a, b, c, d, e and 2 more');
  });
});

describe('sortFindings / worstSeverity', () => {
  const info = finding('SA_NO_PODS', { workloads: 0 });
  const warn = finding('ARN_WHITESPACE', { message: 'w' });
  const err1 = finding('ROLE_NOT_FOUND', { role: 'r', detail: null });
  const err2 = finding('ASSOCIATION_CONFLICT', { id: 'a', associated: 'x', annotated: 'y' });

  it('orders by severity and keeps the order within one', () => {
    expect(sortFindings([info, err1, warn, err2]).map((f) => f.code)).toEqual(['ROLE_NOT_FOUND', 'ASSOCIATION_CONFLICT', 'ARN_WHITESPACE', 'SA_NO_PODS']);
  });

  it('finds the worst severity', () => {
    expect(worstSeverity([])).toBeNull();
    expect(worstSeverity([info])).toBe('info');
    expect(worstSeverity([info, warn])).toBe('warning');
    expect(worstSeverity([warn, err1, info])).toBe('error');
  });
});
