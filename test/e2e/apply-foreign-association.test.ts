/**
 * An association created by someone else (eksctl, the console, another tool) between
 * `migrate --dry-run --out` and `migrate --apply --plan`, for a ServiceAccount the plan migrates:
 *
 * - to the plan's role (with the trust it needs): apply adopts it (`already-done`, naming it),
 *   migrates the rest, and rollback never deletes it;
 * - to another role: apply refuses that ServiceAccount's role as drifted (exit 4) with one line
 *   naming the association and both ways out, and writes nothing for that role, not even the
 *   trust statement (the association step would be refused, so the statement would admit a
 *   ServiceAccount podid is not migrating); the association is neither replaced nor deleted, by
 *   apply or by rollback.
 *
 * The sandbox runs in the test process; podid runs in-process (helpers/podid.ts).
 */
import { join } from 'node:path';
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { podid } from '../helpers/podid.js';
import { sandboxServer, SANDBOX_CREDENTIALS } from '../helpers/sandbox.js';
import type { SandboxEndpoint } from '../helpers/cli.js';
import { ACCOUNT, journalDir, result, smallWorld, state } from './apply-helpers.js';

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

function clients(sb: SandboxEndpoint) {
  const config = { region: 'us-east-1', endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS };
  return { iam: new IAMClient(config), eks: new EKSClient(config) };
}

async function plan(sb: SandboxEndpoint, dir: string): Promise<{ file: string; doc: { steps: { kind: string; roleArn?: string; after?: object }[] } }> {
  const file = join(dir, 'plan.json');
  const r = await podid(['migrate', '--dry-run', '--all-contexts', '--out', file, '-o', 'json'], { env: sb.clientEnv });
  expect(r.code, r.stderr).toBe(0);
  return { file, doc: JSON.parse(r.stdout) as { steps: { kind: string; roleArn?: string; after?: object }[] } };
}

function applyPlan(sb: SandboxEndpoint, dir: string, file: string) {
  return podid(['migrate', '--apply', '--yes', '--plan', file, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
}

function rollback(sb: SandboxEndpoint, dir: string) {
  return podid(['rollback', '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json'], { env: sb.clientEnv, timeoutMs: 60_000 });
}

const associations = async (sb: SandboxEndpoint) => (await state(sb)).clusters[0]!.podIdentityAssociations.map((a) => `${a.namespace}/${a.serviceAccount} -> ${a.roleArn} ${a.associationId}`).sort();

describe('an association created by someone else between plan and apply', () => {
  it('for another role: the SA role is refused as drifted (exit 4), one line naming the association and the fix; nothing of the role written; rollback keeps it', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const { file } = await plan(sb, dir);
      const before = (await state(sb)).iam.roles.find((r) => r.name === 'shop')!.assumeRolePolicyDocument;
      // Someone gives shop/cart role `node` through Pod Identity (its trust first, as EKS requires).
      const { iam, eks } = clients(sb);
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'node', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] }) }));
      const made = await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('node') }));
      const id = made.association!.associationId!;

      const r = await applyPlan(sb, dir, file);
      expect(r.code, r.stderr).toBe(4);
      const res = result(r);
      expect(Object.fromEntries(res.serviceAccounts.map((s) => [s.serviceAccount, s.outcome]))).toEqual({ cart: 'drifted', orders: 'drifted' });
      const trust = res.steps.find((s) => s.kind === 'update-trust')!;
      expect(trust.status).toBe('drifted');
      // One line: the association, its role, and both ways out.
      expect(trust.message).not.toContain('\n');
      expect(trust.message).toContain(`an association made since the plan, ${id}, gives shop/cart another role (${role('node')}) than the plan's ${role('shop')}`);
      expect(trust.message).toContain(`aws eks delete-pod-identity-association --cluster-name prod --region us-east-1 --association-id ${id}`);
      expect(trust.message).toContain('make a new plan');
      expect(r.stderr).toContain(`! update-trust drifted  ${role('shop')}: an association made since the plan, ${id}`);
      // Nothing of role shop changed: its trust, no association of podid's, no restart.
      const s = await state(sb);
      expect(s.iam.roles.find((x) => x.name === 'shop')!.assumeRolePolicyDocument).toEqual(before);
      expect(await associations(sb)).toEqual([`shop/cart -> ${role('node')} ${id}`]);
      expect(res.summary.mutatingCalls).toBe(0);

      const rb = await rollback(sb, dir);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      expect(await associations(sb)).toEqual([`shop/cart -> ${role('node')} ${id}`]);
    } finally {
      await sb.stop();
    }
  }, 90_000);

  it('for the planned role: adopted (already-done, named); the others migrate (exit 0); rollback deletes only the association podid created', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const { file, doc } = await plan(sb, dir);
      // Someone applies the same change by hand: the planned trust, then shop/cart -> shop.
      const after = doc.steps.find((s) => s.kind === 'update-trust' && s.roleArn === role('shop'))!.after!;
      const { iam, eks } = clients(sb);
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'shop', PolicyDocument: JSON.stringify(after) }));
      const made = await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('shop') }));
      const id = made.association!.associationId!;

      const r = await applyPlan(sb, dir, file);
      expect(r.code, r.stderr).toBe(0);
      const res = result(r);
      expect(Object.fromEntries(res.serviceAccounts.map((s) => [s.serviceAccount, s.outcome]))).toEqual({ cart: 'migrated', orders: 'migrated' });
      const cart = res.steps.find((s) => s.kind === 'create-association' && s.target.startsWith('shop/cart '))!;
      expect(cart.status).toBe('already-done');
      expect(cart.message).toBe(`association ${id} already names ${role('shop')}; podid did not create it in this run, so rolling this run back (podid rollback) deletes it only if an earlier podid run journaled creating it`);
      const created = (await associations(sb)).find((a) => a.startsWith('shop/orders '))!;

      // The review says it: the adopted association is kept and cart is not restarted (a restart would not bring back IRSA).
      const review = await podid(['rollback', '--dry-run', '--journal-dir', dir], { env: sb.clientEnv });
      expect(review.stdout).toContain(`! Deployment/shop/cart on prod: not restarted while association ${id} is kept`);
      const rb = await rollback(sb, dir);
      // Checked before acting: cart is not restarted, only refused.
      const restart = (JSON.parse(rb.stdout) as { steps: { kind: string; target: string; status: string; message: string; attempts: number }[] }).steps.find((s) => s.kind === 'restore-restart' && s.target.startsWith('Deployment/shop/cart'))!;
      expect(restart).toMatchObject({ status: 'drifted', attempts: 0 });
      expect(restart.message).toMatch(/^not restarted: association /);
      // The adopted association stays; only the one this run created is deleted.
      const left = await associations(sb);
      expect(left).toEqual([`shop/cart -> ${role('shop')} ${id}`]);
      expect(left).not.toContain(created);
      const doc2 = JSON.parse(rb.stdout) as { serviceAccounts: { serviceAccount: string; outcome: string; reason: string }[] };
      const cartOutcome = doc2.serviceAccounts.find((s) => s.serviceAccount === 'cart')!;
      expect(cartOutcome.outcome).toBe('drifted');
      expect(cartOutcome.reason).toContain(`association ${id} -> ${role('shop')} existed before the run and is not podid's`);
      expect(rb.code, rb.stdout + rb.stderr).toBe(4);
      expect(doc2.serviceAccounts.find((s) => s.serviceAccount === 'orders')!.outcome).toBe('restored');
    } finally {
      await sb.stop();
    }
  }, 90_000);
});
