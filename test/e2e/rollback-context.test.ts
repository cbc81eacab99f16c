/**
 * `podid rollback --apply` from a kubeconfig that lacks a context the run used: refused before
 * the lock, the journal and any change (CONTEXT_UNKNOWN, exit 2, one line), as `migrate --apply
 * --plan` refuses a plan's; found only at the first Kubernetes call, it would have failed the
 * rollback halfway (associations deleted, workloads left on Pod Identity).
 *
 * The binary runs against the sandbox (a process of its own).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, runPodid, sandboxCalls } from '../helpers/cli.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { applyBinary, journalDir, result, smallWorld } from './apply-helpers.js';

describe('rollback from a kubeconfig without the run\'s context', () => {
  it('is refused before any change (exit 2, one line, no journal); with the run\'s kubeconfig it rolls back', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const applied = await applyBinary(sb, ['--journal-dir', dir, '-o', 'json']);
      expect(applied.code, applied.stderr).toBe(0);
      const runId = result(applied).runId!;

      // The same cluster, under another context name (another machine's kubeconfig).
      const config = parse(readFileSync(sb.clientEnv.KUBECONFIG!, 'utf8')) as { 'current-context': string; contexts: { name: string }[] };
      config.contexts[0]!.name = 'prod-laptop';
      config['current-context'] = 'prod-laptop';
      const other = join(dir, 'other.kubeconfig');
      writeFileSync(other, stringify(config));
      const journals = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

      await clearSandboxCalls(sb);
      const refused = await runPodid(['rollback', runId, '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'], { env: { ...sb.clientEnv, KUBECONFIG: other }, timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`^podid: the run's cluster prod names kubeconfig context "arn:aws:eks:us-east-1:111122223333:cluster/prod", which is not in the kubeconfig — roll back with the kubeconfig run ${runId} used \\(--kubeconfig, KUBECONFIG\\), or add that context to this one; nothing was changed\\n$`));
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(readdirSync(dir).filter((f) => f.endsWith('.jsonl'))).toEqual(journals);

      const rolledBack = await runPodid(['rollback', runId, '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s'], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(rolledBack.code, rolledBack.stderr).toBe(0);
    } finally {
      await sb.stop();
    }
  });
});
