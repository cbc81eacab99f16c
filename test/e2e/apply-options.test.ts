/**
 * Options that a saved plan carries and the command line may override, and the flag parsing the
 * changing commands share with scan. The built CLI in-process against small sandboxes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, readJournal, result, smallWorld } from './apply-helpers.js';

/** Plans with --max-concurrent-rollouts 2, applies with `applyArgs`, returns the limit the run journaled. */
async function journaledRolloutLimit(applyArgs: string[]): Promise<number> {
  const sb = await sandboxServer(smallWorld());
  try {
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--max-concurrent-rollouts', '2', '--out', planFile], { env: sb.clientEnv });
    expect(planned.code, planned.stderr).toBe(0);
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '-o', 'json', '--journal-dir', dir, ...applyArgs], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    const run = readJournal(result(r).journal!)[0] as { options?: { maxConcurrentRollouts?: number } };
    return run.options!.maxConcurrentRollouts!;
  } finally {
    await sb.stop();
  }
}

describe('--max-concurrent-rollouts with --plan', () => {
  it("keeps the plan's limit when the flag is not given, and takes the flag's when it is, even at its default value (5)", async () => {
    expect(await journaledRolloutLimit([])).toBe(2);
    expect(await journaledRolloutLimit(['--max-concurrent-rollouts', '5'])).toBe(5);
  });
});

describe('-o yaml', () => {
  it("is the run result's JSON document in YAML, with every command's settings (no folded lines, no aliases)", async () => {
    const sb = await sandboxServer(smallWorld());
    try {
      const dir = journalDir();
      const r = await podid(['migrate', '--apply', '--yes', '--all-contexts', '--propagation-wait', '0', '-o', 'yaml', '--journal-dir', dir], { env: sb.clientEnv });
      expect(r.code, r.stderr).toBe(0);
      const doc = parse(r.stdout) as { journal: string };
      // An outcome's reason runs past 80 columns: on one line, never folded (lineWidth 0).
      expect(r.stdout).toMatch(/^ +reason: "verified: [^\n]{80,}"$/m);
      expect(r.stdout).not.toMatch(/(^|\s)[&*]a\d+\b/m);
      expect(r.stdout).toContain(`journal: ${doc.journal}\n`);
    } finally {
      await sb.stop();
    }
  });
});

describe('--request-timeout', () => {
  it.each([['scan'], ['migrate', '--dry-run'], ['finalize', '--dry-run'], ['rollback', '--dry-run']])('%s reads it as scan does: a bare number is seconds, a wrong value is one usage line', async (...command) => {
    const dir = journalDir();
    const env = { KUBECONFIG: join(dir, 'none'), XDG_STATE_HOME: dir };
    // It fails later (no kubeconfig; no run to roll back), never on the flag.
    const bare = await podid([...command, '--request-timeout', '10', ...(command[0] === 'rollback' ? ['--journal-dir', dir] : [])], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).not.toContain('--request-timeout');
    const bad = await podid([...command, '--request-timeout', '10 seconds'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('podid: --request-timeout 10 seconds: expected a duration such as 30s, 1m or 500ms (0 for none) — for example --request-timeout 10s\n');
  });
});

describe('--journal-dir that cannot be created', () => {
  // Node's recursive mkdir retries for ever under /proc (every mkdir there answers ENOENT): a hang.
  it.runIf(process.platform === 'linux')('under /proc is one line and exit 2 at once, nothing changed', async () => {
    const sb = await sandboxServer(smallWorld());
    try {
      const r = await podid(['migrate', '--apply', '--yes', '--all-contexts', '--propagation-wait', '0', '--journal-dir', '/proc/podid-audit/runs'], { env: sb.clientEnv, timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^podid: --journal-dir \/proc\/podid-audit\/runs(\/locks)?: cannot create the directory \(ENOENT\) — pass a writable --journal-dir$/m);
      const calls = (await (await fetch(`${sb.endpoint}/_sandbox/calls`)).json()) as { target?: string; action?: string }[];
      expect(JSON.stringify(calls)).not.toMatch(/UpdateAssumeRolePolicy|CreatePodIdentityAssociation/);
    } finally {
      await sb.stop();
    }
  }, 30_000);
});
