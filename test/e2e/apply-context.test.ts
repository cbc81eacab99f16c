/**
 * `migrate --apply --plan` and `rollback --apply` with a kubeconfig whose context for a cluster
 * points at ANOTHER API server (here, a second sandbox's): refused before the lock, the journal
 * and any change, with the scan's check and code (CONTEXT_ENDPOINT_MISMATCH, exit 2, one line).
 * Without it, apply wrote the trust policies, then reported the other cluster's ServiceAccounts
 * as "changed since the plan was made" (drifted, exit 4).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, sandboxCalls } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, result, smallWorld } from './apply-helpers.js';

interface Config {
  clusters: { name: string; cluster: { server: string } }[];
}

const MISMATCH = /^podid: context "arn:aws:eks:us-east-1:111122223333:cluster\/prod" talks to (\S+), but EKS cluster prod in us-east-1 has endpoint (\S+); (applying the plan|rolling back) would mix two clusters — point the context at the cluster \(aws eks update-kubeconfig --name prod --region us-east-1\), or .*nothing was changed\n$/;

describe('a kubeconfig context pointing at another cluster', () => {
  it('is refused by migrate --apply --plan and rollback --apply before any change (exit 2, one line, no journal, no call to the other server)', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    const other = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const planFile = join(dir, 'plan.json');
      const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(planned.code, planned.stderr).toBe(0);

      // The same kubeconfig, but prod's server is the other sandbox's prod.
      const config = parse(readFileSync(sb.clientEnv.KUBECONFIG!, 'utf8')) as Config;
      const otherServer = (parse(readFileSync(other.clientEnv.KUBECONFIG!, 'utf8')) as Config).clusters[0]!.cluster.server;
      const ownServer = config.clusters[0]!.cluster.server;
      expect(otherServer).not.toBe(ownServer);
      config.clusters[0]!.cluster.server = otherServer;
      const wrong = join(dir, 'wrong.kubeconfig');
      writeFileSync(wrong, stringify(config));

      // The scan refuses it ...
      const scanned = await podid(['scan'], { env: { ...sb.clientEnv, KUBECONFIG: wrong }, timeoutMs: 60_000 });
      expect(scanned.code, scanned.stderr).toBe(2);
      expect(scanned.stderr).toContain(`talks to ${otherServer}, but EKS cluster prod in us-east-1 has endpoint ${ownServer}; scanning would mix two clusters`);

      // ... and so does applying the saved plan, before anything is written.
      await clearSandboxCalls(sb);
      await clearSandboxCalls(other);
      const refused = await podid(['migrate', '--apply', '--plan', planFile, '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'], { env: { ...sb.clientEnv, KUBECONFIG: wrong }, timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(2);
      const m = MISMATCH.exec(refused.stderr);
      expect(m, refused.stderr).not.toBeNull();
      expect([m![1], m![2], m![3]]).toEqual([otherServer, ownServer, 'applying the plan']);
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(await sandboxCalls(other)).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual([]);

      // Applied with the right kubeconfig, then rolled back with the wrong one: refused alike.
      const applied = await podid(['migrate', '--apply', '--plan', planFile, '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json'], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(applied.code, applied.stderr).toBe(0);
      const runId = result(applied).runId!;
      const journals = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
      await clearSandboxCalls(sb);
      const rollback = await podid(['rollback', runId, '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'], { env: { ...sb.clientEnv, KUBECONFIG: wrong }, timeoutMs: 60_000 });
      expect(rollback.code, rollback.stderr).toBe(2);
      expect(MISMATCH.exec(rollback.stderr)?.[3], rollback.stderr).toBe('rolling back');
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(await sandboxCalls(other)).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual(journals);

      // finalize --apply scans first: the scan's own check refuses it, before any change.
      const finalize = await podid(['finalize', '--apply', '--yes', '--journal-dir', dir], { env: { ...sb.clientEnv, KUBECONFIG: wrong }, timeoutMs: 60_000 });
      expect(finalize.code, finalize.stderr).toBe(2);
      expect(finalize.stderr).toContain('scanning would mix two clusters');
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(await sandboxCalls(other)).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual(journals);
    } finally {
      await other.stop();
      await sb.stop();
    }
  });
});
