import { describe, expect, it } from 'vitest';
import { finding } from '../../src/core/scan/findings.js';
import type { Finding, Inventory } from '../../src/core/scan/inventory.js';
import { escapeCell, escapeInline, renderMarkdown, verdictMarker } from '../../src/render/markdown.js';
import { inputsInventory, liveInventory, manifestsInventory } from './fixtures/inventory.js';

/** Cells of a Markdown table row, honouring `\|` escapes. */
function cells(row: string): string[] {
  return row.replace(/^\|\s?|\s?\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

describe('renderMarkdown', () => {
  const md = renderMarkdown(liveInventory);
  const lines = md.split('\n');

  it('starts with a title and the summary sentence', () => {
    expect(lines[0]).toBe('## podid scan: IRSA to Pod Identity readiness');
    expect(lines[2]).toBe('7 service accounts in 2 clusters: 2 ready, 1 ready-with-warnings, 2 blocked, 1 partial, 1 migrated; 2 add-on migrations; findings: 5 errors, 2 warnings, 2 info.');
    expect(renderMarkdown(liveInventory, { title: 'Fleet *scan*' }).split('\n')[0]).toBe('## Fleet \\*scan\\*');
  });

  it('counts service accounts by verdict', () => {
    const start = lines.indexOf('| Verdict | Service accounts |');
    expect(lines.slice(start, start + 7)).toEqual([
      '| Verdict | Service accounts |',
      '| --- | ---: |',
      '| ready | 2 |',
      '| ready-with-warnings | 1 |',
      '| **blocked** | 2 |',
      '| **partial** | 1 |',
      '| migrated | 1 |',
    ]);
  });

  it('has a table per cluster whose rows all have four cells, pipes in text escaped', () => {
    expect(md).toContain('### prod (`arn:aws:eks:us-east-1:111122223333:cluster/prod`)');
    expect(md).toContain('### staging (`arn:aws:eks:eu-west-1:111122223333:cluster/staging`)');
    const saRows = lines.filter((l) => /^\| (shop|kube-system|batch)\//.test(l));
    expect(saRows).toHaveLength(7);
    for (const row of saRows) expect(cells(row)).toHaveLength(4);
    expect(cells(saRows[2]!)).toEqual([
      'shop/payments', 'arn:aws:iam::444455556666:role/payments-irsa', '**blocked**',
      '`ROLE_UNREADABLE` cannot read role arn:aws:iam::444455556666:role/payments-irsa: role is in account 444455556666; podid reads IAM as account 111122223333',
    ]);
  });

  it('escapes a pipe inside a cell so the row keeps its four cells', () => {
    const sa = liveInventory.serviceAccounts[0]!;
    const piped: Inventory = {
      ...liveInventory,
      serviceAccounts: [{ ...sa, findings: [{ ...finding('SA_NO_PODS', { workloads: 0 }), message: 'a | b' }] }],
    };
    const row = renderMarkdown(piped).split('\n').find((l) => l.startsWith('| shop/cart |'))!;
    expect(cells(row)).toEqual(['shop/cart', 'cart', 'ready', '`SA_NO_PODS` a \\| b']);
  });

  it('shows the finding that is not allowlisted as the top one', () => {
    const row = lines.find((l) => l.startsWith('| batch/reports |'))!;
    expect(cells(row)[3]).toBe('`CLUSTER_BLOCKED` cluster staging is blocked: AGENT\\_NOT\\_READY');
  });

  it('lists every finding in a collapsed details block, escaped', () => {
    const open = lines.indexOf('<details>');
    expect(lines[open + 1]).toBe('<summary>All findings (9)</summary>');
    expect(lines[open + 2]).toBe('');
    const items = lines.slice(open).filter((l) => l.startsWith('- '));
    expect(items).toHaveLength(9);
    const fargate = items.find((l) => l.includes('WORKLOAD_ON_FARGATE'))!;
    expect(fargate).toContain('fp-batch \\| Pod Identity is &lt;not&gt; supported there &amp; "never"');
    expect(fargate).toContain('_Allowlisted until 2026-12-31: Fargate batch stays on IRSA_');
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
  });

  it('caps the findings list and says how many were left out', () => {
    const capped = renderMarkdown(liveInventory, { maxFindingsChars: 300 });
    const items = capped.split('\n').filter((l) => l.startsWith('- '));
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThan(9);
    expect(capped).toContain(`${9 - items.length} more not shown here`);
  });

  it('stays under GitHub\'s 65,536-character comment limit for a large fleet: the service-account tables are capped too', () => {
    // 3,000 IRSA service accounts rendered 480 KB: a PR comment GitHub refuses (422, body too long).
    const [one] = manifestsInventory.serviceAccounts;
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...one!, name: `service-account-${i}`, namespace: `namespace-${i % 10}` }));
    const inv: Inventory = { ...manifestsInventory, serviceAccounts: many };
    const out = renderMarkdown(inv);
    expect(out.length).toBeLessThan(65_536);
    const rows = out.split('\n').filter((l) => l.startsWith('| namespace-'));
    expect(rows.length).toBeGreaterThan(0);
    expect(out).toContain(`${3000 - rows.length} more service accounts not shown here`);
    // Small reports are unchanged: every row is there.
    expect(renderMarkdown(liveInventory)).not.toContain('not shown here');
  });

  it("stays under GitHub's comment limit for a fleet of many clusters: cluster sections share the tables' budget", () => {
    // 200 clusters of 10 service accounts rendered 77 KB: every cluster kept its heading, summary
    // line, table header and 'not shown' line once the rows' budget was spent.
    const [c0] = liveInventory.clusters;
    const [sa0] = liveInventory.serviceAccounts;
    const clusters = Array.from({ length: 200 }, (_, i) => ({ ...c0!, arn: `${c0!.arn}-${i}`, name: `${c0!.name}-${i}` }));
    const serviceAccounts = clusters.flatMap((c) => Array.from({ length: 10 }, (_, j) => ({ ...sa0!, cluster: c.arn, name: `sa-${j}` })));
    const out = renderMarkdown({ ...liveInventory, clusters, serviceAccounts, addons: [] });
    expect(out.length).toBeLessThan(65_536);
    const shown = out.split('\n').filter((l) => l.startsWith('### ')).length;
    expect(shown).toBeGreaterThan(0);
    expect(out).toContain(`${200 - shown} more clusters not shown here`);
  });

  it('renders a manifests scan with file and line, and a clean scan without findings', () => {
    const m = renderMarkdown(manifestsInventory);
    expect(m).toContain('### Manifests');
    expect(m).toContain('- error `ARN_BAD_ACCOUNT` gitops/worker (apps/worker/all in one.yaml:9): the account ID 11112222333 is not 12 digits');
    const clean: Inventory = { ...manifestsInventory, serviceAccounts: [manifestsInventory.serviceAccounts[0]!] };
    expect(renderMarkdown(clean)).toContain('No findings.');
    expect(renderMarkdown(clean)).not.toContain('<details>');
  });

  it('uses no emoji', () => {
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });
});


describe('renderMarkdown: findings about the inputs', () => {
  it('lists them in an Inputs section before the collapsed list of the other findings (golden/markdown-inputs.md)', async () => {
    await expect(renderMarkdown(inputsInventory)).toMatchFileSnapshot('golden/markdown-inputs.md');
  });

  it('gives a located finding whose message does not name the file its file:line, and says nothing of "No findings"', () => {
    const f: Finding = { ...finding('MANIFEST_PARSE_ERROR', { at: 'a_b.yaml', detail: 'x' }), message: 'cannot be read', fix: 'fix it', location: { file: 'a_b.yaml', line: 3 } };
    const clean: Inventory = { ...manifestsInventory, serviceAccounts: [manifestsInventory.serviceAccounts[0]!], inputFindings: [f] };
    const out = renderMarkdown(clean);
    expect(out.trimEnd().split('\n').slice(-3)).toEqual(['### Inputs', '', '- error `MANIFEST_PARSE_ERROR` (a\\_b.yaml:3): cannot be read Fix: fix it']);
    expect(out).not.toContain('No findings.');
    expect(out).not.toContain('<details>');
  });

  it('counts the inputs against the same character cap as the findings list, inputs first', () => {
    const first = renderMarkdown(inputsInventory).split('\n').find((l) => l.startsWith('- error `MANIFEST_PARSE_ERROR` broken'))!;
    const capped = renderMarkdown(inputsInventory, { maxFindingsChars: first.length + 1 });
    const items = capped.split('\n').filter((l) => l.startsWith('- '));
    expect(items).toEqual([first]);
    expect(capped).toContain('### Inputs\n\n' + first + '\n\n3 more not shown here;');
    expect(capped).toContain('<summary>Other findings (1)</summary>\n\n1 more not shown here;');
  });
});

describe('markdown escaping', () => {
  it('keeps cell text from breaking the table or injecting markup', () => {
    expect(escapeCell('a|b')).toBe('a\\|b');
    expect(escapeCell('*x* _y_ `z` [l](u) <b>')).toBe('\\*x\\* \\_y\\_ \\`z\\` \\[l\\]\\(u\\) &lt;b&gt;');
    expect(escapeCell('line\nbreak')).toBe('line break');
  });

  it('shows a control character as \\uXXXX text and keeps &, < and > entities (the escaper JUnit uses)', () => {
    // The escaper's \uXXXX text, its backslash then escaped for Markdown.
    expect(escapeInline('bell\u0007 & <x>')).toBe('bell\\\\u0007 &amp; &lt;x&gt;');
  });

  it('marks only verdicts that need action', () => {
    expect(verdictMarker('blocked')).toBe('**blocked**');
    expect(verdictMarker('ready')).toBe('ready');
  });
});
