/**
 * Bad or unusual input: one line, the documented exit code, and the conventions users know
 * (AWS_REGION as the default region). The built CLI in-process (helpers/podid.ts) against the
 * sandbox over HTTP; --profile through the binary, whose stderr must show no SDK warning.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, runPodid, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const dir = mkdtempSync(join(tmpdir(), 'podid-input-'));
let sb: SandboxEndpoint;

beforeAll(async () => {
  sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
});
afterAll(async () => {
  await sb?.stop();
});

describe('input handling', () => {
  it('a context that names neither cluster nor region works with --cluster and AWS_REGION', async () => {
    const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as {
      clusters: { name: string; cluster: object }[]; users: { name: string; user: object }[];
      contexts: { name: string; context: { cluster: string; user: string } }[]; 'current-context': string;
    };
    const prod = kc.clusters.find((c) => c.name === PROD)!;
    const plain = {
      apiVersion: 'v1', kind: 'Config', 'current-context': 'plain',
      clusters: [{ name: 'plain', cluster: prod.cluster }],
      users: [{ name: 'plain', user: kc.users.find((u) => u.name === PROD)!.user }],
      contexts: [{ name: 'plain', context: { cluster: 'plain', user: 'plain' } }],
    };
    const file = join(dir, 'plain.kubeconfig');
    writeFileSync(file, stringify(plain));
    const r = await podid(['scan', '--kubeconfig', file, '--cluster', 'prod', '-o', 'json'], { env: { ...sb.clientEnv, AWS_REGION: 'us-east-1' } });
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as Inventory).clusters.map((c) => c.arn)).toEqual([PROD]);
    const noRegion = await podid(['scan', '--kubeconfig', file, '--cluster', 'prod'], { env: { ...sb.clientEnv, AWS_REGION: '', AWS_DEFAULT_REGION: '' } });
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toContain('--region');
  });

  it('a kubeconfig that is not YAML is one line, exit 2', async () => {
    const file = join(dir, 'bad.kubeconfig');
    writeFileSync(file, 'garbage: [\n');
    const r = await podid(['scan', '--kubeconfig', file], { env: sb.clientEnv });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(file);
  });

  it('--manifests cannot be mixed with cluster targets; -n takes namespace names', async () => {
    const mixed = await podid(['scan', '--manifests', '-', '--context', PROD], { input: '' });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--context');
    const badNs = await podid(['scan', '-n', 'Bad NS'], { env: sb.clientEnv });
    expect(badNs.code).toBe(2);
    expect(badNs.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('--profile', () => {
  it('(the binary) uses the named profile over environment keys with nothing on stderr, and names a profile that gives no credentials', async () => {
    const config = join(dir, 'aws-config');
    writeFileSync(config, '[profile sbx]\naws_access_key_id = AKIDSANDBOXEXAMPLE\naws_secret_access_key = sandbox\nregion = us-east-1\n');
    const env = { ...sb.clientEnv, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') };
    const ok = await runPodid(['scan', '--profile', 'sbx', '-o', 'json'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe(''); // no "multiple credential sources" warning
    const bad = await podid(['scan', '--profile', 'nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--profile nope');
  });
});
