/**
 * docs/runbook.md runs as written: every `sh` block, in order, in one bash session (set -euo
 * pipefail), with `podid` on PATH: the built binary, a process per command
 * (helpers/podid-on-path.ts); `podid sandbox` is one the runbook starts in the background and
 * stops with kill; a trap stops it if a command fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runProcess, type RunResult } from '../helpers/cli.js';
import { podidOnPath } from '../helpers/podid-on-path.js';

const RUNBOOK = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');

function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

function runScript(script: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProcess('bash', ['-c', script], { what: 'the runbook', cwd: ROOT, env, timeoutMs: 170_000 });
}

describe('docs/runbook.md', () => {
  it('walks scan, dry-run, apply by namespace, verify, finalize and rollback', () => {
    const blocks = shellBlocks(RUNBOOK).join('\n');
    for (const step of ['podid scan', 'podid migrate --dry-run', 'podid migrate --apply --plan', '-n payments', 'podid runs', 'podid finalize --apply', '--delete-oidc-provider --yes', 'podid rollback --apply']) {
      expect(blocks).toContain(step);
    }
  });

  it('every command in it runs against the sandbox as written', async () => {
    const onPath = await podidOnPath();
    const script = [
      'set -euo pipefail',
      // If a command fails, stop the sandbox the runbook started.
      'trap \'if [ -n "${SANDBOX_PID:-}" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; fi\' EXIT',
      ...shellBlocks(RUNBOOK),
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${onPath.bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    delete env['XDG_STATE_HOME'];
    delete env['KUBECONFIG'];
    const r = await runScript(script, env).finally(() => onPath.close());
    expect(r.code, `stdout:\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(r.stdout).toContain('Result: 2 migrated, 0 need a restart, 0 drifted, 0 failed, 0 skipped');
    expect(r.stdout).toContain('Result: 3 finalized, 0 refused');
    expect(r.stdout).toContain('Nothing to finalize');
    // The OIDC provider: nothing trusts it after finalize; deleted, then created again by the first rollback.
    expect(r.stdout).toMatch(/- prod arn:aws:iam::111122223333:oidc-provider\/oidc.eks.us-east-1.amazonaws.com\/id\/RUNBOOKPROD0000000000000000000001: delete, no role of account 111122223333 refers to it any more/);
    expect(r.stdout).toMatch(/deleted\s+prod\s+arn:aws:iam::111122223333:oidc-provider\//);
    expect(r.stdout).toContain('Back as before: 1 OIDC provider created again.');
    // The finalize rollback counts the three ServiceAccounts it verified back on IRSA.
    expect(r.stdout).toContain('Result: 3 restored, 0 need a restart, 0 drifted, 0 failed');
    expect(r.stdout).toContain('Result: 2 restored, 0 need a restart, 0 drifted, 0 failed');
    expect(r.stdout).toMatch(/warning: managed by Helm \(release ledger\)/);
  }, 180_000);
});
