import { existsSync, readFileSync } from 'node:fs';
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { MigrationPlan, UpdateTrustStep } from '../../src/core/plan/model.js';
import { unifiedDiff } from '../../src/render/diff.js';
import { chalkPalette, plainPalette } from '../../src/render/palette.js';
import { renderPlan, renderPlanJson } from '../../src/render/plan.js';
import { checkPlanIntegrity } from '../../src/core/plan/validate.js';
import { CART_ADDED_STATEMENT, emptyPlan, fullPlan, samePlacesPlan } from './fixtures/plan.js';

const ANSI = /\u001b\[[0-9;]*m/;
const plain = { palette: plainPalette };
const colour = { palette: chalkPalette(new Chalk({ level: 1 })) };

/** The golden review of the full plan (every step kind, who can assume each role, blocked and manual items). */
const FULL_FILE = new URL('./__snapshots__/plan-review.txt', import.meta.url);
const FULL = existsSync(FULL_FILE) ? readFileSync(FULL_FILE, 'utf8') : '';

const EMPTY = `podid migration plan, created 2025-06-01T12:00:00.000Z by podid 0.4.0
  caller     arn:aws:sts::111122223333:assumed-role/platform-admin/alice (account 111122223333)
  clusters   prod (arn:aws:eks:us-east-1:111122223333:cluster/prod, context prod-admin)
             staging (arn:aws:eks:eu-west-1:111122223333:cluster/staging)
  options    install-agent yes, restart yes, at most 2 rollouts at a time per cluster, trust policy limit 2048

No changes. Everything selected already uses EKS Pod Identity.
`;

function trustStep(plan: MigrationPlan, roleName: string): UpdateTrustStep {
  const step = plan.steps.find((s): s is UpdateTrustStep => s.kind === 'update-trust' && s.roleName === roleName);
  if (!step) throw new Error(`no trust step for ${roleName}`);
  return step;
}

/** The lines of one role's diff in the plain review: from its first `@@` line to its `unchanged:` or length line. */
function diffOf(text: string, roleName: string): string[] {
  const lines = text.split('\n');
  const role = lines.findIndex((l) => l.startsWith(`  ~ role ${roleName} `));
  const start = lines.findIndex((l, i) => i > role && l.startsWith('      @@ '));
  const end = lines.findIndex((l, i) => i > start && /^\s+(length |unchanged: )/.test(l));
  return lines.slice(start, end).map((l) => l.slice(6));
}

/** The "who can assume this role" block of one role in the plain review. */
function accessOf(text: string, roleName: string): string[] {
  const lines = text.split('\n');
  const role = lines.findIndex((l) => l.startsWith(`  ~ role ${roleName} `));
  const start = role + 1;
  const end = lines.findIndex((l, i) => i > start && l.startsWith('      @@ '));
  return lines.slice(start, end).map((l) => l.slice(6));
}

describe('renderPlan', () => {
  it('renders every step kind, who can assume each role, blocked and manual items exactly', async () => {
    await expect(renderPlan(fullPlan(), plain)).toMatchFileSnapshot(FULL_FILE.pathname);
  });

  it('says "No changes." for a plan without steps', () => {
    expect(renderPlan(emptyPlan(), plain)).toBe(EMPTY);
  });

  it('never says everything uses Pod Identity while workloads are left to restart or recreate by hand', () => {
    const plan = emptyPlan();
    plan.manual = [{ cluster: plan.clusters[0]!.arn, kind: 'Pod', namespace: 'tools', name: 'toolbox', serviceAccount: 'debug-tools', advice: 'delete and recreate the Pod after the association exists' }];
    plan.summary = { ...plan.summary, manual: 1 };
    const text = renderPlan(plan, plain);
    expect(text).toContain('Manual: podid will not restart these\n  ? pod/toolbox in tools on prod (service account debug-tools)\n');
    expect(text.endsWith('\nNo changes. Not everything selected uses EKS Pod Identity yet: 1 workload to restart or recreate yourself (see Manual above).\n')).toBe(true);
    expect(text).not.toContain('already uses EKS Pod Identity');
  });

  it('lists blocked items and says why nothing changes when everything is blocked', () => {
    const plan = { ...emptyPlan(), blocked: fullPlan().blocked, summary: { ...emptyPlan().summary, blocked: 2 } };
    const text = renderPlan(plan, plain);
    expect(text).toContain('  ! add-on aws-ebs-csi-driver on prod\n      error ADDON_VERSION_UNSUPPORTED');
    expect(text.endsWith('No changes. 2 blocked: resolve them and plan again.\n')).toBe(true);
    expect(text).not.toContain('Plan:');
  });

  it('tells clusters of the same name apart by region, and account when the region is shared too', () => {
    const text = renderPlan(samePlacesPlan(), plain);
    expect(text).toContain(
      '  + association  prod (eu-west-1)                shop/cart -> role/cart\n' +
        '  + association  prod (us-east-1, 111122223333)  shop/cart -> role/cart\n' +
        '  + association  prod (us-east-1, 444455556666)  shop/cart -> role/cart\n',
    );
    // A unique name stays short.
    expect(renderPlan(fullPlan(), plain)).toContain('  + association  prod     shop/cart -> role/cart\n');
  });

  it('leaves restarts to the user with --no-restart', () => {
    const base = fullPlan();
    const plan = { ...base, options: { ...base.options, restart: false }, steps: base.steps.filter((s) => s.kind !== 'restart-batch') };
    const text = renderPlan(plan, plain);
    expect(text).toContain('restart no (--no-restart)');
    expect(text).toContain('Restarts (rollout restart, in batches)\n  none (--no-restart): restart the workloads');
    expect(text).not.toContain('batch 1:');
  });

  it('colours only with a colour palette', () => {
    const coloured = renderPlan(fullPlan(), colour);
    expect(coloured).toMatch(ANSI);
    expect(renderPlan(fullPlan(), plain)).not.toMatch(ANSI);
    // Same text once the colour is gone.
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(FULL);
    // Added lines green (32), context dim (2), removed red (31).
    expect(coloured).toContain('\u001b[32m+      "Sid": "PodidPodIdentity",\u001b[39m');
    expect(coloured).toContain('      \u001b[2m   ]\u001b[22m');
    expect(coloured).toContain('\u001b[31m-          "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:us-east-1:111122223333:cluster/prod",\u001b[39m');
  });

  it('shows exactly the added statement as + lines, nothing removed', () => {
    const lines = diffOf(renderPlan(fullPlan(), plain), 'cart');
    expect(lines.filter((l) => l.startsWith('-'))).toEqual([]);
    const added = lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1));
    expect(JSON.parse(added.join('\n'))).toEqual(CART_ADDED_STATEMENT);
    // The previous statement's new trailing comma is syntax, shown as context.
    expect(lines).toContain('     },');
  });

  it('shows an extended statement as its one changed value', () => {
    const lines = diffOf(renderPlan(fullPlan(), plain), 'orders');
    expect(lines.filter((l) => /^[+-]/.test(l))).toEqual([
      '-          "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:us-east-1:111122223333:cluster/prod",',
      '+          "aws:RequestTag/eks-cluster-arn": [',
      '+            "arn:aws:eks:us-east-1:111122223333:cluster/prod",',
      '+            "arn:aws:eks:eu-west-1:111122223333:cluster/staging"',
      '+          ],',
    ]);
  });

  it('shows who can assume each role before and after, the new subjects marked', () => {
    const text = renderPlan(fullPlan(), plain);
    expect(accessOf(text, 'cart')).toEqual([
      'who can assume this role:',
      '  before  IRSA via prod: shop/cart',
      '          IRSA via staging: shop/cart',
      '  after   IRSA via prod: shop/cart',
      '          IRSA via staging: shop/cart',
      '        + Pod Identity on staging, prod: shop/cart',
      '  new: 2 service accounts, each the Pod Identity twin of a service account the IRSA trust admits (checked: nobody else)',
    ]);
    expect(accessOf(text, 'orders')).toEqual([
      'who can assume this role:',
      '  before  IRSA via staging: shop/orders',
      '          Pod Identity on prod: shop/orders',
      '  after   IRSA via staging: shop/orders',
      '        + Pod Identity on prod, staging: shop/orders',
      '  new: 1 service account, each the Pod Identity twin of a service account the IRSA trust admits (checked: nobody else)',
    ]);
  });

  it('says which statements stay unchanged, so the OIDC statements are seen to be kept', () => {
    const text = renderPlan(fullPlan(), plain);
    expect(text).toContain('      unchanged: 2 statements (0: IRSA via prod; 1: IRSA via staging)\n');
    expect(text).toContain('      unchanged: 1 statement (0: IRSA via staging)\n');
  });

  it('prints the trust policies as canonical two-space JSON, keeping key order', () => {
    const plan = fullPlan();
    const step = trustStep(plan, 'cart');
    const text = renderPlan({ ...plan, steps: [step] }, { palette: plainPalette, diffContext: 1000 });
    const after = diffOf(text, 'cart').slice(1).filter((l) => !l.startsWith('-')).map((l) => l.slice(1)).join('\n');
    expect(after).toBe(JSON.stringify(step.after, null, 2));
  });

  it('marks a trust policy close to the limit', () => {
    const plan = fullPlan();
    const step = { ...trustStep(plan, 'cart'), lengthAfter: 1900 };
    const text = renderPlan({ ...plan, steps: [step] }, colour);
    expect(text).toContain('\u001b[33mlength 785 -> 1900 of 2048 (IAM, without whitespace)\u001b[39m');
  });

  it('keeps control characters from the outside world out of the terminal', () => {
    const plan = fullPlan();
    const step = { ...trustStep(plan, 'cart'), roleName: 'cart\u001b[2J\nrm' };
    const text = renderPlan({ ...plan, steps: [step] }, plain);
    expect(text).not.toMatch(/\u001b/);
    expect(text).toContain('  ~ role cart?[2J rm (arn:aws:iam::111122223333:role/cart)');
  });

  it('is deterministic and does not change the plan', () => {
    const plan = fullPlan();
    const copy = structuredClone(plan);
    expect(renderPlan(plan, plain)).toBe(renderPlan(plan, plain));
    expect(plan).toEqual(copy);
  });
});

describe('renderPlanJson', () => {
  it('is the plan document as two-space JSON that round-trips', () => {
    const plan = fullPlan();
    const text = renderPlanJson(plan);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "kind": "podid-migration-plan",\n  "schemaVersion": 2,');
    expect(JSON.parse(text)).toEqual(plan);
    // The hand-built fixture is a plan podid could have made: it passes the same checks apply runs.
    expect(() => checkPlanIntegrity(plan)).not.toThrow();
  });
});

describe('unifiedDiff', () => {
  const p = { palette: plainPalette };

  it('is empty for equal texts and for texts differing only in trailing commas', () => {
    expect(unifiedDiff('{\n  "a": 1\n}', '{\n  "a": 1\n}', p)).toEqual([]);
    expect(unifiedDiff('[\n  1\n]', '[\n  1,\n]', p)).toEqual([]);
  });

  it('keeps indentation significant', () => {
    expect(unifiedDiff('a\n b', 'a\nb', p)).toEqual(['@@ -1,2 +1,2 @@', ' a', '- b', '+b']);
  });

  it('splits distant changes into hunks with GNU line numbers', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n');
    const after = ['1', 'x', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n');
    expect(unifiedDiff(before, after, { ...p, context: 1 })).toEqual(['@@ -1,2 +1,3 @@', ' 1', '+x', ' 2', '@@ -9,2 +10,1 @@', ' 9', '-10']);
  });

  it('numbers an insertion into an empty text from line 0', () => {
    expect(unifiedDiff('', 'a\nb\n', p)).toEqual(['@@ -0,0 +1,2 @@', '+a', '+b']);
  });
});
