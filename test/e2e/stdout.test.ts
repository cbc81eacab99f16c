/**
 * Where stdout goes is the process's business, so these run the built binary as a subprocess:
 * a reader that closes the pipe early (`podid scan | head`) ends the output quietly and the
 * command keeps its exit code; stdout that cannot be written (a full disk) is one line and exit 2.
 * The input is an offline manifest of many IRSA ServiceAccounts, large enough to outgrow a pipe's
 * buffer (64 KiB on Linux) in every format.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';

let dir: string;
let manifest: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'podid-stdout-'));
  manifest = join(dir, 'sas.yaml');
  const docs = Array.from({ length: 400 }, (_, i) =>
    [
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata:',
      `  name: svc-${i}`,
      `  namespace: team-${i % 20}`,
      '  annotations:',
      `    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/role-${i}`,
    ].join('\n'),
  );
  writeFileSync(manifest, `${docs.join('\n---\n')}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  firstBytes: string;
}

/** Runs podid with stdout on a pipe this test closes after the first chunk, as `| head -c` does. */
function runThenCloseStdout(args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstBytes = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', (d: Buffer) => {
      firstBytes = d.toString().slice(0, 40);
      child.stdout.destroy();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`podid ${args.join(' ')} did not finish within 60 s; stderr: ${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, firstBytes });
    });
  });
}

describe('a reader that closes stdout early (podid ... | head)', () => {
  for (const format of ['json', 'table']) {
    it(`scan -o ${format}: stops writing, prints nothing on stderr, exits 0`, async () => {
      const r = await runThenCloseStdout(['scan', '--manifests', manifest, '-o', format]);
      expect(r.firstBytes.length).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    });
  }

  it('keeps the gate\'s own exit code: --fail-on irsa still exits 3, with its summary on stderr', async () => {
    const r = await runThenCloseStdout(['scan', '--manifests', manifest, '-o', 'json', '--fail-on', 'irsa']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^podid: gate failed \(--fail-on irsa\): 400 findings matched/);
    expect(r.stderr).not.toMatch(/EPIPE|at .*\.js:\d+/);
  });
});

describe('stdout that cannot be written', () => {
  it.skipIf(!existsSync('/dev/full'))('a full device (scan output, --help, --version): one line naming stdout and the reason, exit 2 (WRITE_FAILED)', async () => {
    const runs = [['scan', '--manifests', manifest, '-o', 'json'], ['scan', '--manifests', manifest, '-o', 'table'], ['--help'], ['--version']];
    for (const args of runs) {
      const fd = openSync('/dev/full', 'w');
      try {
        const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', fd, 'pipe'] });
          let stderr = '';
          child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stderr }));
        });
        expect(r.stderr, args.join(' ')).toMatch(/^podid: stdout: cannot write \(ENOSPC[^\n]*\) — check where stdout goes[^\n]*\n$/);
        expect(r.code, args.join(' ')).toBe(2);
      } finally {
        closeSync(fd);
      }
    }
  });
});
