/**
 * Where stdout goes is the process's business, so these run the built binary as a subprocess:
 * a reader that closes the pipe early (`podid scan | head`) ends the output quietly and the
 * command keeps its exit code; stdout that cannot be written (a full disk, /dev/full) is one line
 * and exit 2 (the other commands' full disk in-process, on a stdout that fails as /dev/full does).
 * The input is an offline manifest of many IRSA ServiceAccounts, large enough to outgrow a pipe's
 * buffer (64 KiB on Linux) in every format.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

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
  const fullDisk = /^podid: stdout: cannot write \(ENOSPC[^\n]*\) — check where stdout goes[^\n]*\n$/;

  it.skipIf(!existsSync('/dev/full'))('a full device (the binary, scan -o json on /dev/full): one line naming stdout and the reason, exit 2 (WRITE_FAILED)', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, 'scan', '--manifests', manifest, '-o', 'json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', fd, 'pipe'] });
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.stderr).toMatch(fullDisk);
      expect(r.code).toBe(2);
    } finally {
      closeSync(fd);
    }
  });

  // The same in-process, on a stdout that fails every write as /dev/full does (the binary's
  // stdout on a file or device fails its write with the error, and emits it, as this one does).
  it('a full device (in-process: scan -o table, --help, --version): one line naming stdout and the reason, exit 2 (WRITE_FAILED)', async () => {
    for (const args of [['scan', '--manifests', manifest, '-o', 'table'], ['--help'], ['--version']]) {
      const full = new Writable({
        write(_chunk, _encoding, done) {
          done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
        },
      });
      const r = await podid(args, { stdout: full });
      expect(r.stderr, args.join(' ')).toMatch(fullDisk);
      expect(r.code, args.join(' ')).toBe(2);
      // None of these has --out: the hint does not offer it.
      expect(r.stderr, args.join(' ')).toContain('redirect it to a file with space');
      expect(r.stderr, args.join(' ')).not.toContain('--out');
    }
  });

  it('migrate, which has --out, offers it', async () => {
    const sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
    try {
      const full = new Writable({
        write(_chunk, _encoding, done) {
          done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
        },
      });
      const r = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { stdout: full, env: sb.clientEnv, timeoutMs: 60_000 });
      expect(r.stderr).toMatch(fullDisk);
      expect(r.stderr).toContain('or write to a file with --out');
      expect(r.code).toBe(2);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});
