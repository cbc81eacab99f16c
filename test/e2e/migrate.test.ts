/**
 * `podid migrate --dry-run` end to end against the sandbox on the demo world, over HTTP: the
 * plan is shown, saved, exported to Terraform, and nothing is changed; the selection and option
 * flags; all through the built CLI in-process (helpers/podid.ts). The binary's migrate runs are
 * the demo's (cli-polish.test.ts) and apply.test.ts's.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationPlan, UpdateTrustStep } from '../../src/core/plan/model.js';
import { parsePlanDocument } from '../../src/core/plan/validate.js';
import { clearSandboxCalls, ROOT, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
let sb: SandboxEndpoint;
const dir = mkdtempSync(join(tmpdir(), 'podid-migrate-'));

beforeAll(async () => {
  sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
});
afterAll(async () => {
  await sb?.stop();
});

describe('podid migrate --dry-run --out --emit terraform on the demo world', () => {
  let stdout = '';
  let code: number | null = null;
  const planFile = join(dir, 'plan.json');
  const tfFile = join(dir, 'plan.tf');

  beforeAll(async () => {
    await clearSandboxCalls(sb);
    const r = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile, '--emit', 'terraform', tfFile], { env: sb.clientEnv });
    stdout = r.stdout;
    code = r.code;
  });

  it('exits 0 and makes no mutating call', async () => {
    expect(code).toBe(0);
    const calls = await sandboxCalls(sb);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });

  it('prints a reviewable plan: trust diffs, associations, add-ons, restarts, blocked, summary', () => {
    expect(stdout).toContain('~ role cart (arn:aws:iam::111122223333:role/cart)');
    expect(stdout).toMatch(/^\s+\+\s+"Service": "pods.eks.amazonaws.com"$/m);
    expect(stdout).toMatch(/^\s+\+\s+"aws:RequestTag\/eks-cluster-arn": "arn:aws:eks:us-east-1:111122223333:cluster\/prod",$/m);
    expect(stdout).toMatch(/^\s+\+\s+"aws:RequestTag\/kubernetes-service-account": "cart"$/m);
    expect(stdout).not.toContain('aws:SourceArn');
    // Who can assume the role, before and after: the Pod Identity twin of the IRSA subject, nothing more.
    expect(stdout).toContain('      who can assume this role:\n        before  IRSA via prod: shop/cart\n        after   IRSA via prod: shop/cart\n              + Pod Identity on prod: shop/cart\n');
    expect(stdout).toContain('      unchanged: 1 statement (0: IRSA via prod)\n');
    // Nothing in the existing trust statements is removed.
    expect(stdout).not.toMatch(/^\s+-\s+"/m);
    expect(stdout).toContain('+ association  prod  shop/cart -> role/cart');
    expect(stdout).toContain('~ add-on vpc-cni on prod');
    expect(stdout).toMatch(/batch 1: .*deploy\/external-dns/);
    expect(stdout).toContain('! service account batch/etl on prod');
    expect(stdout).toContain('Plan: 8 roles to update, 9 associations to create, 1 add-on to update, 7 workloads to restart, 7 blocked');
    // The already-migrated and the already dual-trusted roles need no trust change.
    expect(stdout).not.toContain('~ role checkout ');
    expect(stdout).not.toContain('~ role ledger ');
  });

  it('saves a plan document that validates and equals `-o json`', async () => {
    const saved = parsePlanDocument(readFileSync(planFile, 'utf8'), planFile);
    expect(saved.kind).toBe('podid-migration-plan');
    const r = await podid(['migrate', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as MigrationPlan;
    expect({ ...printed, createdAt: '' }).toEqual({ ...saved, createdAt: '' });
    const trust = saved.steps.find((s): s is UpdateTrustStep => s.kind === 'update-trust' && s.roleName === 'external-dns')!;
    // Shared role: staging is blocked, so only prod is admitted; both OIDC statements stay.
    expect(trust.clusters).toEqual([PROD]);
    expect((trust.after['Statement'] as unknown[]).slice(0, 2)).toEqual(trust.before['Statement']);
  });

  it('writes Terraform that parses as HCL', async () => {
    const hcl = (await parseHcl('plan.tf', readFileSync(tfFile, 'utf8'))) as { resource?: Record<string, Record<string, unknown>>; data?: Record<string, Record<string, unknown>> };
    expect(Object.keys(hcl.resource?.['aws_eks_pod_identity_association'] ?? {})).toHaveLength(9);
    expect(Object.keys(hcl.data?.['aws_iam_policy_document'] ?? {})).toHaveLength(8);
  });
});

describe('podid migrate selection and options', () => {
  it('--role narrows the plan to one role', async () => {
    const r = await podid(['migrate', '--all-contexts', '--role', 'arn:aws:iam::111122223333:role/cart', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(r.stdout) as MigrationPlan;
    expect(plan.steps.map((s) => s.kind)).toEqual(['update-trust', 'create-association', 'restart-batch']);
  });

  it('--no-restart plans no restarts', async () => {
    const r = await podid(['migrate', '--context', PROD, '--no-restart', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(r.stdout) as MigrationPlan;
    expect(plan.steps.some((s) => s.kind === 'restart-batch')).toBe(false);
    expect(plan.options.restart).toBe(false);
  });

  it('--max-concurrent-rollouts sets the batch size', async () => {
    const r = await podid(['migrate', '--context', PROD, '--max-concurrent-rollouts', '1', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(r.stdout) as MigrationPlan;
    const batches = plan.steps.filter((s) => s.kind === 'restart-batch');
    expect(batches.length).toBe(7);
    for (const b of batches) expect(b.kind === 'restart-batch' && b.workloads.length).toBe(1);
  });

  it('bad options are usage errors (exit 2), one line each', async () => {
    for (const args of [['--emit', 'pulumi', 'x'], ['--role', 'cart'], ['--max-concurrent-rollouts', '0'], ['--cross-account-source-role', 'nope']]) {
      const r = await podid(['migrate', ...args], { env: sb.clientEnv });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('a flag that only --apply reads is refused on a dry run (exit 2) instead of being ignored', async () => {
    for (const args of [['--verify-probe', 'amazon/aws-cli'], ['--rollout-timeout', '10m'], ['--dry-run', '--journal-dir', '/tmp/x']]) {
      const r = await podid(['migrate', ...args], { env: sb.clientEnv });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^podid: ${args.at(-2)} takes effect only with --apply`));
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
