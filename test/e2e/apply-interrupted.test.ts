/**
 * `podid migrate --apply` interrupted, as a process of its own (the built binary): SIGKILLed after
 * its k-th mutating call (the test-only kill-after-k hook), stopped by SIGINT, and stopped (Ctrl-C)
 * or left without input (Ctrl-D) at its confirmation question on a terminal. Each run again
 * (in-process, helpers/podid.ts) finishes the job. The sandbox runs in the test process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, sandboxCalls } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { FastForwardClock, sandboxServer } from '../helpers/sandbox.js';
import { apply, applyBinary, essentialState, journalDir, readJournal, result, smallWorld } from './apply-helpers.js';

describe('a run killed after its k-th mutating call (the binary, SIGKILLed)', () => {
  it('converges, when run again, to the end state of an uninterrupted run, for every k', async () => {
    const reference = await sandboxServer(smallWorld());
    let expected: object;
    let mutations: number;
    try {
      const r = await apply(reference, ['-o', 'json', '--journal-dir', journalDir()]);
      expect(r.code, r.stderr).toBe(0);
      mutations = (await sandboxCalls(reference)).filter((c) => c.mutating).length;
      expect(mutations).toBe(7);
      expected = await essentialState(reference);
    } finally {
      await reference.stop();
    }
    const round = async (k: number) => {
      const sb = await sandboxServer(smallWorld());
      try {
        const dir = journalDir();
        // One call at a time, so "after the k-th" is exact.
        const killed = await applyBinary(sb, ['-o', 'json', '--journal-dir', dir, '--concurrency', '1', '--max-concurrent-rollouts', '1'], { env: { PODID_TEST_KILL_AFTER_MUTATIONS: String(k) } });
        expect(killed.signal, `k=${k}: ${killed.stderr}`).toBe('SIGKILL');
        expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toHaveLength(k);
        // Run again (the dead run's lock is stale and taken over).
        const again = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
        expect(again.code, `k=${k}: ${again.stderr}`).toBe(0);
        expect(await essentialState(sb), `k=${k}`).toEqual(expected);
        // Nothing was done twice.
        expect((await sandboxCalls(sb)).filter((c) => c.mutating).length, `k=${k}`).toBeLessThanOrEqual(mutations);
      } finally {
        await sb.stop();
      }
    };
    // Three rounds at a time, the next starting as soon as one ends: each is mostly waiting for
    // the killed process to start.
    const ks = Array.from({ length: mutations }, (_, i) => i + 1);
    const next = async (): Promise<void> => {
      const k = ks.shift();
      if (k === undefined) return;
      await round(k);
      return next();
    };
    await Promise.all([next(), next(), next()]);
  }, 240_000);
});

describe('SIGINT, and SIGTERM (a CI job cancelled, a pod stopped) alike (the binary)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: finishes the calls in flight, journals, exits 130; a second run (SIGINT) or a rollback (SIGTERM) finishes the job', async (sig) => {
    // New pods take a minute to become ready: the interrupt lands while the restarts roll out
    // however slow the machine. Once the run has exited, the sandbox's time runs 1000 times
    // faster, so the second run waits out the rollouts under way in moments.
    const clock = new FastForwardClock();
    const sb = await sandboxServer(smallWorld({ withAddon: false, rolloutDelayMs: 60_000 }), clock);
    try {
      const dir = journalDir();
      const child = spawn(process.execPath, [BIN, 'migrate', '--apply', '--yes', '--all-contexts', '--propagation-wait', '0', '--journal-dir', dir, '-o', 'json'], {
        cwd: ROOT, env: { ...process.env, ...sb.clientEnv, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const code = await new Promise<number | null>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          // Interrupt while the restarts roll out.
          if (stderr.includes('create-association done') && !child.killed) child.kill(sig);
        });
        child.on('close', (c) => resolve(c));
      });
      expect(code, stderr).toBe(130);
      expect(stderr).toContain('Interrupted: finishing the calls in flight');
      const res = JSON.parse(stdout) as ReturnType<typeof result>;
      expect(res.status).toBe('interrupted');
      const records = readJournal(res.journal!);
      expect(records.at(-1)).toMatchObject({ record: 'finished', status: 'interrupted', exitCode: 130 });
      clock.fastForward(1000);
      if (sig === 'SIGINT') {
        const again = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
        expect(again.code, again.stderr).toBe(0);
        expect(result(again).serviceAccounts.map((s) => s.outcome)).toEqual(['migrated', 'migrated']);
      } else {
        // Or undone: the interrupted run's journal is enough to roll back from.
        const back = await podid(['rollback', '--apply', '--yes', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
        expect(back.code, back.stderr).toBe(0);
        const end = await essentialState(sb) as { trust: Record<string, { Statement: unknown[] }>; associations: string[]; pods: string[] };
        expect(end.associations).toEqual([]);
        expect(end.trust['shop']!.Statement).toHaveLength(1);
        expect(new Set(end.pods.map((p) => p.split(':')[1]))).toEqual(new Set(['irsa']));
      }
    } finally {
      await sb.stop();
    }
  });
});

const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs podid on a pseudo-terminal (util-linux `script`): once it has asked its question, sends
 * `keys` as typed at the terminal (\x03 is Ctrl-C, \x04 Ctrl-D). Resolves with everything the
 * terminal showed and the exit code.
 */
function keysAtQuestion(args: string[], env: NodeJS.ProcessEnv, keys: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let sent = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`podid did not end in time:\n${output}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!sent && output.includes("Only 'yes' will be accepted:")) {
        sent = true;
        child.stdin.write(keys);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// Needs util-linux `script` for a pseudo-terminal: shown as skipped where it is missing.
describe.skipIf(!HAS_SCRIPT)('at the confirmation question, on a terminal (the binary)', () => {
  it('Ctrl-C: one line, exit 130, nothing changed and no journal; Ctrl-D: declined, exit 0', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const planFile = join(dir, 'plan.json');
      const dry = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv });
      expect(dry.code, dry.stderr).toBe(0);
      const args = ['migrate', '--apply', '--plan', planFile, '--journal-dir', dir, '--propagation-wait', '0'];

      const interrupted = await keysAtQuestion(args, sb.clientEnv, '\x03');
      expect(interrupted.code, interrupted.output).toBe(130);
      expect(interrupted.output).toContain('podid: interrupted at the confirmation question; nothing was changed');
      expect(interrupted.output).not.toContain('unexpected error');

      const ended = await keysAtQuestion(args, sb.clientEnv, '\x04');
      expect(ended.code, ended.output).toBe(0);
      expect(ended.output).toContain('Apply cancelled; nothing was changed.');
      expect(ended.output).not.toContain('unexpected error');

      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      // No journal, no lock: only the plan is in the directory.
      expect(readdirSync(dir)).toEqual(['plan.json']);
      expect(existsSync(join(dir, 'locks'))).toBe(false);

      // The same plan, confirmed, still applies.
      const confirmed = await keysAtQuestion(args, sb.clientEnv, 'yes\r');
      expect(confirmed.code, confirmed.output).toBe(0);
    } finally {
      await sb.stop();
    }
  });
});
