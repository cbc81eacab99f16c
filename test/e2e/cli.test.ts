import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runPodid, startSandboxProcess } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('podid binary', () => {
  it('prints its version and help, exit 0', async () => {
    const v = await runPodid(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await runPodid(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('sandbox');
  });

  it('refuses an unknown option with exit 2 and one clear line', async () => {
    const r = await runPodid(['--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^podid: error: unknown option '--frobnicate'/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('reports a missing world file in one line with exit 2', async () => {
    const r = await runPodid(['sandbox', '--world', 'does/not/exist.yaml']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('does/not/exist.yaml');
  });

  it('reports an invalid world with the path of the bad field, exit 2', async () => {
    const r = await runPodid(['sandbox', '--world', '-'], { input: '' });
    expect(r.code).toBe(2);
  });

  it('rejects a bad --port', async () => {
    const r = await runPodid(['sandbox', '--world', 'examples/world.yaml', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port http');
  });
});

describe('podid sandbox (subprocess)', () => {
  it('prints a ready line, serves state and calls, and stops on SIGTERM with exit 0', async () => {
    const sb = await startSandboxProcess(['--world', 'examples/world.yaml']);
    try {
      expect(sb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const state = (await (await fetch(`${sb.endpoint}/_sandbox/state`)).json()) as { clusters: { name: string; endpoint: string }[] };
      expect(state.clusters.map((c) => c.name)).toEqual(['prod', 'staging']);
      expect(state.clusters[0]!.endpoint).toBe(`${sb.endpoint}/k8s/111122223333/us-east-1/prod`);
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
      expect(exit.code).toBe(0);
    }
  });
});
