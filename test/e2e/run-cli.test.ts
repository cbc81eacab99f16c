/**
 * `runCli(argv, ctx)` (src/cli/main.ts), the built CLI's in-process entry, against a context of
 * the test's own: relative paths resolve against ctx.cwd (and are named as given), podid's own
 * variables come from ctx.env, and output goes to ctx.stdout and ctx.stderr only, never to the
 * process's streams. The in-process end-to-end tests (helpers/podid.ts) stand on this.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT } from '../helpers/cli.js';

type Cli = typeof import('../../src/cli/main.js');
const API_SA = readFileSync(join(ROOT, 'test/fixtures/manifests/repo/apps/api/service-account.yaml'), 'utf8');

/** Runs the built CLI with a context of its own; returns its exit code and what it wrote. */
async function run(args: string[], ctx: { env?: Record<string, string | undefined>; cwd: string; input?: string }) {
  const { runCli } = (await import(pathToFileURL(join(ROOT, 'dist/podid.js')).href)) as Cli;
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk: Buffer, _e, done) => (add(chunk.toString()), done()) });
  const code = await runCli(args, {
    env: ctx.env ?? {},
    cwd: ctx.cwd,
    stdin: Readable.from(ctx.input === undefined ? [] : [Buffer.from(ctx.input)]),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  });
  return { code, stdout, stderr };
}

describe('runCli against its own context', () => {
  let dir: string;
  let processWrites: string[];
  const restore: (() => void)[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'podid-run-cli-'));
    processWrites = [];
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write;
      stream.write = ((chunk: unknown) => (processWrites.push(String(chunk)), true)) as typeof stream.write;
      restore.push(() => (stream.write = write));
    }
  });
  afterEach(() => {
    for (const undo of restore.splice(0)) undo();
  });

  it('reads --manifests, --config and .podid.yaml relative to ctx.cwd, and names the files as given', async () => {
    expect(dir).not.toBe(process.cwd());
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s', 'sa.yaml'), API_SA);
    writeFileSync(join(dir, '.podid.yaml'), 'version: 1\nallowlist:\n  - namespace: shop\n    reason: old\n    expires: 2020-01-01\n');
    const r = await run(['scan', '--manifests', 'k8s', '-o', 'json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts.map((s) => s.location?.file)).toEqual(['k8s/sa.yaml']);
    expect(inv.serviceAccounts[0]!.findings.find((f) => f.code === 'ALLOWLIST_EXPIRED')?.message).toMatch(/^\.podid\.yaml allowlist\[0\]/);
    const missing = await run(['scan', '--manifests', 'k8s', '--config', 'nope.yaml'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('podid: --config nope.yaml: no such file or directory — pass an existing file to --config, or leave it out to use .podid.yaml when present\n');
    expect(processWrites).toEqual([]);
  });

  it('reads the world relative to ctx.cwd, finds a relative --kubeconfig-out there and refuses to replace it, writing nothing', async () => {
    writeFileSync(join(dir, 'kubeconfig'), 'mine\n');
    writeFileSync(join(dir, 'world.yaml'), readFileSync(join(ROOT, 'examples/world.yaml')));
    const r = await run(['sandbox', '--world', 'world.yaml', '--kubeconfig-out', 'kubeconfig', '--env-out', 'env', '--quiet'], { cwd: dir });
    expect(r.code).toBe(2);
    // The sandbox names its files by absolute path (its ready line and env file carry them).
    expect(r.stderr).toBe(`podid: --kubeconfig-out ${join(dir, 'kubeconfig')}: the file already exists — pass --force to replace it, or choose another path\n`);
    expect(existsSync(join(dir, 'env'))).toBe(false);
    expect(existsSync(join(ROOT, 'kubeconfig'))).toBe(false);
    expect(processWrites).toEqual([]);
  });

  it('reads KUBECONFIG from ctx.env, not from the process', async () => {
    writeFileSync(join(dir, 'empty-kubeconfig'), '');
    expect(process.env['KUBECONFIG']).not.toBe('empty-kubeconfig');
    const r = await run(['scan'], { cwd: dir, env: { KUBECONFIG: 'empty-kubeconfig' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^podid: the kubeconfig empty-kubeconfig is empty: no clusters, users or contexts/);
    expect(processWrites).toEqual([]);
  });

  it('help, version, a usage error and a gate on ctx.stdin go to ctx.stdout and ctx.stderr, with their exit codes', async () => {
    const help = await run(['scan', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: podid scan /);
    const version = await run(['--version'], { cwd: dir });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const bad = await run(['scan', '--frobnicate'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("podid: error: unknown option '--frobnicate' (run with --help for usage)\n");
    const stdin = await run(['scan', '--manifests', '-', '--fail-on', 'irsa'], { cwd: dir, input: API_SA });
    expect(stdin.code).toBe(3);
    expect(stdin.stderr).toContain('gate failed (--fail-on irsa)');
    expect(processWrites).toEqual([]);
  });
});
