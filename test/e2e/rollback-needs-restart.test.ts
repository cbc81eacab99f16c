/**
 * A rollback that leaves a trust policy as the run wrote it, because pods the run did not restart
 * still run with Pod Identity (someone restarted them after a `--no-restart` apply), is not done:
 * it ends partial (exit 5), and running it again once they are restarted restores the trust
 * policy. Before, it ended `succeeded`: the run counted as rolled back (ALREADY_ROLLED_BACK)
 * with its trust edit left in place for good.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { ACCOUNT, apply, journalDir, smallWorld, state } from './apply-helpers.js';

const ROLE = `arn:aws:iam::${ACCOUNT}:role/shop`;

/** `kubectl rollout restart deployment/NAME -n shop`, then waits until every pod of it is new and running. */
async function rolloutRestart(sb: SandboxEndpoint, name: string): Promise<void> {
  const base = `${sb.endpoint}/k8s/${ACCOUNT}/us-east-1/prod`;
  const before = new Set((await state(sb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.name.startsWith(`${name}-`)).map((o) => o.metadata.name));
  const res = await fetch(`${base}/apis/apps/v1/namespaces/shop/deployments/${name}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json', authorization: 'Bearer sandbox-token-prod' },
    body: JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } }),
  });
  expect(res.status).toBe(200);
  for (let i = 0; i < 200; i++) {
    const pods = (await state(sb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.name.startsWith(`${name}-`));
    if (pods.length > 0 && pods.every((p) => !before.has(p.metadata.name) && (p as { status?: { phase?: string } }).status?.phase === 'Running')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`deployment ${name} did not roll out`);
}

async function trustMentionsPodIdentity(sb: SandboxEndpoint): Promise<boolean> {
  const role = (await state(sb)).iam.roles.find((r) => r.arn === ROLE)!;
  return JSON.stringify(role.assumeRolePolicyDocument).includes('pods.eks.amazonaws.com');
}

describe('a rollback waiting on pods someone else restarted', () => {
  let sb: SandboxEndpoint;
  beforeAll(async () => {
    sb = await sandboxServer(smallWorld({ withAddon: false }));
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('ends partial with the trust policy left, and finishes when run again after the restart', async () => {
    const dir = journalDir();
    const applied = await apply(sb, ['--no-restart', '--journal-dir', dir]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await trustMentionsPodIdentity(sb)).toBe(true);
    // Someone restarts cart by hand: its new pods get Pod Identity.
    await rolloutRestart(sb, 'cart');
    const args = ['rollback', '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'];
    const first = await podid(args, { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(first.code, first.stdout + first.stderr).toBe(5);
    expect(first.stdout).toMatch(/needs-restart +prod +shop\/cart/);
    expect(first.stdout).toMatch(/restore-trust skipped +arn:aws:iam::111122223333:role\/shop: not restored while shop\/cart is needs-restart/);
    expect(await trustMentionsPodIdentity(sb)).toBe(true);
    // Restarted again (now without the association): the same rollback finishes.
    await rolloutRestart(sb, 'cart');
    const second = await podid(args, { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(await trustMentionsPodIdentity(sb)).toBe(false);
    const again = await podid(args, { env: sb.clientEnv, timeoutMs: 60_000 });
    // Done: nothing of the run is left to roll back.
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no apply or finalize run left');
  });
});
