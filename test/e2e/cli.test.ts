/**
 * The binary itself: version, help, a usage error's exit code, and `podid sandbox` serving and
 * stopping on SIGTERM, its temporary directory removed (processes); the sandbox's bad inputs through the built CLI in-process
 * (helpers/podid.ts).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, runPodid, startSandboxProcess } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('the podid binary', () => {
  it('prints its version and help, exit 0', async () => {
    const v = await runPodid(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await runPodid(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('sandbox');
  });

  it('refuses an unknown option with exit 2, an error line and the usage hint, no stack trace', async () => {
    const r = await runPodid(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^podid: error: unknown option '--frobnicate'/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });
});

describe('podid help COMMAND', () => {
  it('an unknown command is said in one line naming it and the commands, exit 2, as podid nope says it', async () => {
    for (const args of [['help', 'nope'], ['--debug', 'help', 'nope']]) {
      const r = await podid(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe("podid: error: unknown command 'nope' (commands: version, sandbox, scan, migrate, runs, finalize, rollback, help; run podid --help for usage)\n");
    }
    const direct = await podid(['nope']);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toBe("podid: error: unknown command 'nope' (commands: version, sandbox, scan, migrate, runs, finalize, rollback, help; run podid --help for usage)\n");
    // Every usage error from the flags is one line too.
    for (const args of [['scan', '--bogus'], ['scan', '-o', 'xml']]) {
      const r = await podid(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^podid: error: .* \(run with --help for usage\)$/), '']);
    }
  });

  it('a known command (or help itself) still prints its help on stdout, exit 0', async () => {
    const scan = await podid(['help', 'scan']);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toMatch(/^Usage: podid scan \[options\]/);
    const help = await podid(['help', 'help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: podid \[options\] \[command\]/);
  });
});

describe('podid sandbox: bad input', () => {
  it('reports a missing world file in one line with exit 2', async () => {
    const r = await podid(['sandbox', '--world', 'does/not/exist.yaml']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('does/not/exist.yaml');
  });

  it('reports an empty world on stdin in one line, exit 2', async () => {
    const r = await podid(['sandbox', '--world', '-'], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^podid: <stdin>: the world file is empty .*\n$/);
  });

  it('reports an invalid world with the path of the bad field, exit 2', async () => {
    const r = await podid(['sandbox', '--world', '-'], { input: 'account: "1"\nregion: us-east-1\nclusters: []\n' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('<stdin>: account: expected a 12-digit account ID (got "1")');
  });

  it('rejects a bad --port with exit 2, naming the value', async () => {
    const r = await podid(['sandbox', '--world', 'examples/world.yaml', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port http');
  });
});

describe('podid sandbox (subprocess)', () => {
  it('prints a ready line, serves state and calls, and stops on SIGTERM with exit 0, removing its temporary directory', async () => {
    // The demo world, with staging's API server named by apiServerUrl (as a real endpoint would be).
    const world = parse(readFileSync(join(ROOT, 'examples/world.yaml'), 'utf8')) as { clusters: { name: string; apiServerUrl?: string }[] };
    world.clusters.find((c) => c.name === 'staging')!.apiServerUrl = 'https://staging.example.test/k8s';
    const worldFile = join(mkdtempSync(join(tmpdir(), 'podid-cli-world-')), 'world.json');
    writeFileSync(worldFile, JSON.stringify(world));
    const sb = await startSandboxProcess(['--world', worldFile]);
    // Without --kubeconfig-out and --env-out, both go to a temporary directory of its own.
    const tmp = dirname(sb.kubeconfig);
    expect(dirname(sb.env)).toBe(tmp);
    try {
      expect(sb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const state = (await (await fetch(`${sb.endpoint}/_sandbox/state`)).json()) as { clusters: { name: string; endpoint: string }[] };
      expect(state.clusters.map((c) => c.name)).toEqual(['prod', 'staging']);
      expect(state.clusters[0]!.endpoint).toBe(`${sb.endpoint}/k8s/111122223333/us-east-1/prod`);
      // The banner gives each cluster's API server as the kubeconfig does, and where it is served.
      const banner = sb.stderr();
      expect(banner).toContain(`cluster arn:aws:eks:us-east-1:111122223333:cluster/prod  Kubernetes 1.30 (eks.9)  api ${sb.endpoint}/k8s/111122223333/us-east-1/prod\n`);
      expect(banner).toContain(`api https://staging.example.test/k8s (the world's apiServerUrl; served here at ${sb.endpoint}/k8s/111122223333/us-east-1/staging)`);
      const kubeconfig = readFileSync(sb.kubeconfig, 'utf8');
      expect(kubeconfig).toContain('arn:aws:eks:us-east-1:111122223333:cluster/prod');
      const env = readFileSync(sb.env, 'utf8');
      expect(env).toContain(`AWS_ENDPOINT_URL=${sb.endpoint}`);
      expect(env).toContain(`KUBECONFIG=${sb.kubeconfig}`);
      const unsigned = await fetch(`${sb.endpoint}/clusters`, { headers: { 'x-amz-date': '20261127T000000Z' } });
      expect(unsigned.status).toBe(403);
      const calls = (await (await fetch(`${sb.endpoint}/_sandbox/calls`)).json()) as { operation: string; status: number }[];
      expect(calls).toEqual([{ service: 'unknown', operation: 'unsigned', mutating: false, status: 403 }]);
    } finally {
      const exit = await sb.stop();
      expect(exit, JSON.stringify(exit)).toEqual({ code: 0, signal: null });
    }
    expect(existsSync(tmp)).toBe(false);
  });
});
