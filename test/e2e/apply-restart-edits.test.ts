/**
 * A saved plan whose restart batch was edited by hand (a workload added, or listed under another
 * ServiceAccount, with the step's id and fingerprint still valid): podid restarts a workload only
 * for a ServiceAccount the plan migrates, and only when the workload really runs as it.
 *
 * - refused when the plan is loaded: a workload naming no ServiceAccount (exit 2, one line, no
 *   mutating call);
 * - refused at the batch, live: a workload whose pod template runs as another ServiceAccount than
 *   the plan lists (drifted, exit 4, no workload patched).
 *
 * The binary runs against the sandbox (a process of its own).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, runPodid, sandboxCalls } from '../helpers/cli.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, result, smallWorld } from './apply-helpers.js';

type Workload = { kind: string; namespace: string; name: string; serviceAccounts: string[] };
type Plan = { steps: { kind: string; workloads?: Workload[] }[] };

async function savedPlan(env: NodeJS.ProcessEnv, dir: string, edit: (workloads: Workload[]) => void): Promise<string> {
  const planned = await runPodid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env });
  expect(planned.code, planned.stderr).toBe(0);
  const plan = JSON.parse(planned.stdout) as Plan;
  const batch = plan.steps.find((s) => s.kind === 'restart-batch')!;
  edit(batch.workloads!);
  const file = join(dir, 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

const applyPlan = (env: NodeJS.ProcessEnv, dir: string, file: string, more: string[] = []) =>
  runPodid(['migrate', '--apply', '--yes', '--plan', file, '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s', ...more], { env, timeoutMs: 60_000 });

describe('a restart batch edited by hand', () => {
  it('a workload added with no ServiceAccount is refused when the plan is loaded: exit 2, one line, nothing changed', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const file = await savedPlan(sb.clientEnv, dir, (w) => w.push({ kind: 'Deployment', namespace: 'kube-system', name: 'coredns', serviceAccounts: [] }));
      await clearSandboxCalls(sb);
      const r = await applyPlan(sb.clientEnv, dir, file);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^podid: [^\n]*: steps\[\d+\]: restart-batch "restart:arn:aws:eks:us-east-1:111122223333:cluster\/prod\/1": workloads\[2\] Deployment\/kube-system\/coredns names no ServiceAccount; podid restarts a workload only for a ServiceAccount the plan migrates — pass a plan written by podid migrate --dry-run --out FILE, unedited\n$/);
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    } finally {
      await sb.stop();
    }
  });

  it('a workload listed under a ServiceAccount it does not run as is refused at its batch (drifted, exit 4), and not restarted', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      // Deployment shop/orders runs as shop/orders; the edit says shop/cart, which the plan migrates.
      const file = await savedPlan(sb.clientEnv, dir, (w) => {
        for (const x of w) if (x.name === 'orders') x.serviceAccounts = ['cart'];
      });
      await clearSandboxCalls(sb);
      const r = await applyPlan(sb.clientEnv, dir, file, ['-o', 'json']);
      expect(r.code, r.stderr).toBe(4);
      const run = result(r);
      const batch = run.steps.find((s) => s.kind === 'restart')!;
      expect(batch.status).toBe('drifted');
      expect(batch.message).toBe('Deployment/shop/orders runs as ServiceAccount shop/orders, not shop/cart as the plan says; make a new plan and review it');
      expect(run.serviceAccounts.find((s) => s.serviceAccount === 'cart')?.outcome).toBe('drifted');
      // No workload was patched (the restart is a PATCH of the Deployment).
      const calls = (await sandboxCalls(sb)).filter((c) => c.mutating);
      expect(calls.some((c) => c.operation === 'CreatePodIdentityAssociation')).toBe(true);
      expect(calls.filter((c) => c.service.startsWith('k8s:'))).toEqual([]);
    } finally {
      await sb.stop();
    }
  });
});
