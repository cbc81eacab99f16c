/**
 * `podid rollback` across several runs of the same ServiceAccounts, against the sandbox:
 * - a run already rolled back is not rolled back again (it would undo a later run's work);
 * - a run is refused while a later run, not rolled back, changed the same things (newest first);
 * - an association whose id is not the one the run journaled is never deleted;
 * - a re-run of a plan that adopted what an earlier run of it created rolls back both, once.
 */
import { join } from 'node:path';
import { CreatePodIdentityAssociationCommand, DeletePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer, SANDBOX_CREDENTIALS } from '../helpers/sandbox.js';
import { ACCOUNT, apply, essentialState, journalDir, result, smallWorld, state } from './apply-helpers.js';

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const associations = async (sb: SandboxEndpoint) => (await state(sb)).clusters[0]!.podIdentityAssociations.map((a) => `${a.namespace}/${a.serviceAccount} -> ${a.roleArn} ${a.associationId}`).sort();

function rollback(sb: SandboxEndpoint, dir: string, args: string[]) {
  return podid(['rollback', ...args, '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'], { env: sb.clientEnv, timeoutMs: 60_000 });
}

async function migrate(sb: SandboxEndpoint, dir: string, args: string[] = []): Promise<string> {
  const r = await apply(sb, ['-o', 'json', '--journal-dir', dir, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return result(r).runId!;
}

describe('podid rollback of a run whose ServiceAccounts a later run migrated again', () => {
  it('a run already rolled back is refused (exit 2, nothing changed): the later run keeps its associations', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const a = await migrate(sb, dir);
      const rbA = await rollback(sb, dir, [a, '--apply', '--yes']);
      expect(rbA.code, rbA.stdout + rbA.stderr).toBe(0);
      const b = await migrate(sb, dir);
      const after = await essentialState(sb);
      const assocB = await associations(sb);
      expect(assocB).toHaveLength(2);
      const rbAId = (await runsJson(dir)).find((r) => r.runId === a)!.rolledBackBy[0]!;
      await clearSandboxCalls(sb);
      for (const mode of [['--dry-run'], ['--apply', '--yes']]) {
        const again = await rollback(sb, dir, [a, ...mode]);
        expect(again.code, again.stdout + again.stderr).toBe(2);
        expect(again.stdout).toBe('');
        expect(again.stderr).toBe(`podid: run ${a} was already rolled back by ${rbAId} (succeeded); nothing of it is left to undo, and what is in place now is not its to remove — what is in place now is the later apply run ${b}'s: podid rollback ${b} --dry-run\n`);
      }
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(await associations(sb)).toEqual(assocB);
      expect(await essentialState(sb)).toEqual(after);
      const list = await podid(['runs', '--journal-dir', dir]);
      expect(list.stdout).toMatch(new RegExp(`${b}\\s+apply .* succeeded\\n`));
      // B is the one to roll back, and it is.
      const rbB = await rollback(sb, dir, ['--apply', '--yes']);
      expect(rbB.code, rbB.stdout + rbB.stderr).toBe(0);
      expect(await associations(sb)).toEqual([]);
    } finally {
      await sb.stop();
    }
  }, 90_000);

  it('a run is refused while a later run, not rolled back, changed the same trust policy (naming it); newest first, both roll back', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const before = await essentialState(sb);
      const dir = journalDir();
      // A migrates shop/cart; B then shop/orders, adding it to the same role's Pod Identity statement.
      const a = await migrate(sb, dir, ['--service-account', 'shop/cart']);
      const b = await migrate(sb, dir);
      const dry = await rollback(sb, dir, [a, "--dry-run"]);
      expect(dry.code).toBe(2);
      expect(dry.stderr).toMatch(new RegExp(`^podid: run ${a} cannot be rolled back: the later apply run ${b} \\(started .*\\) changed the trust policy of ${role('shop')} again and has not been rolled back; nothing was changed — runs are undone newest first: podid rollback ${b} --dry-run\\n$`));
      await clearSandboxCalls(sb);
      const refused = await rollback(sb, dir, [a, '--apply', '--yes']);
      expect(refused.code).toBe(2);
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      // Newest first: B (the default), then A; the world is back as before.
      const review = await rollback(sb, dir, ['--dry-run']);
      expect(review.stdout).toContain(`Rollback of apply run ${b}`);
      const rbB = await rollback(sb, dir, ['--apply', '--yes']);
      expect(rbB.code, rbB.stdout + rbB.stderr).toBe(0);
      expect(await associations(sb)).toEqual([expect.stringMatching(/^shop\/cart /)]);
      const rbA = await rollback(sb, dir, ['--apply', '--yes']);
      expect(rbA.code, rbA.stdout + rbA.stderr).toBe(0);
      expect(rbA.stdout).toContain(`Rollback of apply run ${a}`);
      expect(await essentialState(sb)).toEqual(before);
      const none = await rollback(sb, dir, ['--dry-run']);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no apply or finalize run left to roll back');
    } finally {
      await sb.stop();
    }
  }, 90_000);

  it('deletes only the association id the run journaled: one created since for the same role is drifted (exit 4), kept, with the command to run', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const a = await migrate(sb, dir);
      const eks = new EKSClient({ region: 'us-east-1', endpoint: sb.endpoint, credentials: SANDBOX_CREDENTIALS });
      const mine = (await state(sb)).clusters[0]!.podIdentityAssociations.find((x) => x.serviceAccount === 'cart')!;
      await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: mine.associationId }));
      const made = await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', roleArn: role('shop') }));
      const other = made.association!.associationId!;
      const rb = await rollback(sb, dir, [a, '--apply', '--yes', '-o', 'json']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(4);
      const doc = JSON.parse(rb.stdout) as { steps: { kind: string; target: string; status: string; message: string }[] };
      const step = doc.steps.find((s) => s.kind === 'delete-association' && s.target.startsWith('shop/cart '))!;
      expect(step.status).toBe('drifted');
      expect(step.message).toContain(`the run created association ${mine.associationId}, which is gone; association ${other} -> ${role('shop')} was created since`);
      expect(step.message).toContain(`aws eks delete-pod-identity-association --cluster-name prod --region us-east-1 --association-id ${other}`);
      expect(await associations(sb)).toEqual([`shop/cart -> ${role('shop')} ${other}`]);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});

describe('podid rollback after a resumed apply (a re-run of the same plan)', () => {
  it('rolls back the re-run and what it adopted from the failed first run: back on IRSA, exit 0, once (no loop)', async () => {
    const sb = await sandboxServer({ ...smallWorld({ withAddon: false }), associationPropagationMs: 1000 });
    try {
      const before = await essentialState(sb);
      const dir = journalDir();
      const file = join(dir, 'shop.json');
      const dry = await podid(['migrate', '--dry-run', '--all-contexts', '--out', file], { env: sb.clientEnv });
      expect(dry.code, dry.stderr).toBe(0);
      const run = () => podid(['migrate', '--apply', '--yes', '--plan', file, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
      const r1 = await run();
      expect(r1.code, r1.stderr).toBe(5);
      await new Promise((resolve) => setTimeout(resolve, 1200)); // the associations propagate
      const r2 = await run();
      expect(r2.code, r2.stdout).toBe(0);
      const id1 = result(r1).runId!;
      const id2 = result(r2).runId!;
      const created = (await state(sb)).clusters[0]!.podIdentityAssociations.map((a) => a.associationId);

      const review = await rollback(sb, dir, ['--dry-run']);
      expect(review.code).toBe(0);
      expect(review.stdout).toContain(`Rollback of apply run ${id2}`);
      expect(review.stdout).toContain(`from ${id1}`);
      for (const id of created) expect(review.stdout).toContain(id);
      expect(review.stdout).not.toContain("not podid's");

      const rb = await rollback(sb, dir, ['--apply', '--yes', '-o', 'json']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      const doc = JSON.parse(rb.stdout) as { serviceAccounts: { serviceAccount: string; outcome: string }[] };
      expect(doc.serviceAccounts.map((s) => `${s.serviceAccount}:${s.outcome}`).sort()).toEqual(['cart:restored', 'orders:restored']);
      expect(await essentialState(sb)).toEqual(before);

      const runs = await runsJson(dir);
      const rollbackId = runs.find((r) => r.command === 'rollback')!.runId;
      expect(runs.find((r) => r.runId === id1)!.rolledBackBy).toEqual([rollbackId]);
      const list = await podid(['runs', '--journal-dir', dir]);
      expect(list.stdout).toContain(`succeeded; undoes ${id2} and ${id1}`);
      // Nothing left: no second rollback, no restart.
      await clearSandboxCalls(sb);
      const again = await rollback(sb, dir, ['--apply', '--yes']);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('no apply or finalize run left to roll back');
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    } finally {
      await sb.stop();
    }
  }, 120_000);
});

async function runsJson(dir: string): Promise<{ runId: string; command: string; rolledBackBy: string[] }[]> {
  return (JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { runId: string; command: string; rolledBackBy: string[] }[] }).runs;
}
