/**
 * A run that ends on a thrown error exits at once, but only once what it already wrote to stdout
 * has been handed to the OS (main() in cli/main.ts): a reader slower than podid (a pipe that is
 * full when the error comes) still gets every byte. The binary against a generated world large
 * enough that `migrate --apply`'s review overflows a pipe's buffer, then stops on the
 * confirmation it cannot ask for (CONFIRMATION_REQUIRED, exit 2).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateWorld } from '../../bench/generate-world.mjs';
import { ExitCode } from '../../src/core/errors.js';
import { BIN, ROOT, runPodid, type SandboxEndpoint } from '../helpers/cli.js';
import { sandboxServer } from '../helpers/sandbox.js';

let sb: SandboxEndpoint & { stop: () => Promise<unknown> };

beforeAll(async () => {
  sb = await sandboxServer(generateWorld({ seed: 3, clusters: 1, serviceAccounts: 400, pods: 400, roles: 40, nodesPerCluster: 4 }));
}, 90_000);

afterAll(async () => {
  await sb?.stop();
});

/**
 * Runs the binary with stdout on a pipe (a FIFO, 64 KiB of buffer) nobody reads until podid has
 * written its error line on stderr, and a moment more: a podid that exits at once then has
 * left the rest of its output unwritten; one that waits for stdout to be flushed gets it read.
 */
function runSlowReader(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'podid-flush-'));
  const [fifo, errors] = [join(dir, 'stdout'), join(dir, 'stderr')];
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = [
    `mkfifo '${fifo}'`,
    // The error file exists before the wait below looks at it (the job opens it only once the fifo has a reader).
    `: > '${errors}'`,
    `${command} > '${fifo}' 2> '${errors}' & pid=$!`,
    `exec 3< '${fifo}'`,
    `until grep -q '^podid:' '${errors}' || ! kill -0 $pid 2>/dev/null; do sleep 0.05; done`,
    'sleep 0.5',
    'cat <&3',
    'wait $pid; code=$?',
    `cat '${errors}' >&2`,
    'exit $code',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
    child.on('error', reject);
  });
}

it('an error after a long output on a slow pipe: every byte of the output, then the error line and its exit code', async () => {
  const r = await runSlowReader(['migrate', '--apply', '--no-color'], sb.clientEnv);
  expect(r.code).toBe(ExitCode.usage);
  expect(r.stderr).toBe('podid: podid migrate --apply changes IAM, EKS and Kubernetes, and there is no terminal to confirm on — review the plan (podid migrate --dry-run), then pass --yes\n');
  // The review, whole: the same text the dry run prints (read by a fast reader).
  const dry = await runPodid(['migrate', '--dry-run', '--no-color'], { env: sb.clientEnv, timeoutMs: 60_000 });
  expect(dry.code, dry.stderr).toBe(ExitCode.ok);
  expect(dry.stdout.length).toBeGreaterThan(128 * 1024);
  expect(r.stdout.length).toBe(dry.stdout.length);
  const undated = (text: string) => text.replace(/created \S+/, 'created (time)');
  expect(undated(r.stdout)).toBe(undated(dry.stdout));
}, 120_000);
