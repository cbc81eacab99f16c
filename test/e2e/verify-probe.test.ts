/**
 * `podid migrate --apply --verify-probe IMAGE` end to end: the built CLI in-process
 * (helpers/podid.ts) against the sandbox (over HTTP), which runs the probe pod's `aws sts get-caller-identity` through its credential model.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { ACCOUNT, apply, journalDir, readJournal, result, smallWorld, state } from './apply-helpers.js';

describe('--verify-probe', () => {
  let sb: SandboxEndpoint | undefined;
  afterAll(async () => {
    await sb?.stop();
  });

  it('runs a get-caller-identity pod under each SA, records the role it obtained, and deletes the pod', async () => {
    sb = await sandboxServer(smallWorld({ withAddon: false }));
    const dir = journalDir();
    const r = await apply(sb, ['-o', 'json', '--journal-dir', dir, '--verify-probe', 'amazon/aws-cli']);
    expect(r.code, r.stderr).toBe(0);
    const res = result(r);
    expect(res.serviceAccounts.map((s) => [s.serviceAccount, s.outcome])).toEqual([['cart', 'migrated'], ['orders', 'migrated']]);
    for (const sa of res.serviceAccounts) {
      expect(sa.probe?.ok).toBe(true);
      expect(sa.probe?.pod).toMatch(new RegExp(`^podid-verify-${sa.serviceAccount}-[0-9a-f]{5}$`));
      expect(sa.probe?.arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/shop/eks-prod-podid-verify-${sa.serviceAccount}-`));
      expect(sa.reason).toContain(`obtained arn:aws:sts::${ACCOUNT}:assumed-role/shop/`);
    }
    const journal = readJournal(res.journal!);
    const probes = journal.filter((x) => x.record === 'step' && x.action === 'verify-probe');
    expect(probes.map((x) => x.record === 'step' && x.status)).toEqual(['done', 'done']);
    const run = journal[0];
    expect(run?.record === 'run' && (run.command ?? 'apply') === 'apply' && 'planSource' in run && run.options.verifyProbe).toBe('amazon/aws-cli');
    const s = await state(sb);
    expect(s.clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.name.startsWith('podid-verify-'))).toEqual([]);
  });

  it('fails the SA when the probe pod obtains no credentials (its node is in no node group EKS knows)', async () => {
    await sb?.stop();
    sb = await sandboxServer(smallWorld({ withAddon: false }));
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv });
    expect(planned.code, planned.stderr).toBe(0);
    // After the plan, the nodes are relabelled out of node group ng-a: everything podid checks
    // statically (association, trust, agent on the node) still holds, but the agent's node role is
    // unknown, so EKS Auth gives the pods no credentials. Only the probe can see that.
    const base = `${sb.endpoint}/k8s/${ACCOUNT}/us-east-1/prod`;
    const headers = { authorization: 'Bearer sandbox-token-prod' };
    const nodes = (await (await fetch(`${base}/api/v1/nodes`, { headers })).json()) as { items: { metadata: { name: string } }[] };
    for (const n of nodes.items) {
      const patched = await fetch(`${base}/api/v1/nodes/${n.metadata.name}`, {
        method: 'PATCH',
        headers: { ...headers, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { 'eks.amazonaws.com/nodegroup': 'self-managed' } } }),
      });
      expect(patched.status).toBe(200);
    }
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir, '--verify-probe', 'amazon/aws-cli'], { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    const res = result(r);
    for (const sa of res.serviceAccounts) {
      expect(sa.outcome, sa.reason).toBe("failed");
      expect(sa.probe, sa.reason).toBeDefined();
      expect(sa.probe?.ok).toBe(false);
      expect(sa.reason).toMatch(/^verification probe: probe pod podid-verify-\w+-[0-9a-f]{5} failed \(exit code 255\): Error when retrieving credentials from container-role: .*node group/);
    }
    const s = await state(sb);
    expect(s.clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.name.startsWith('podid-verify-'))).toEqual([]);
  });
});
