/**
 * The CI gate end to end: `podid scan --manifests` (offline) and live scans with `--fail-on`
 * and a `.podid.yaml` allowlist, through the built binary.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ExitCode } from '../../src/core/errors.js';
import { ROOT, runPodid, startSandboxProcess, type SandboxProcess } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test/fixtures/manifests');
const dir = mkdtempSync(join(tmpdir(), 'podid-gate-'));
const API_SA = readFileSync(join(FIXTURES, 'repo/apps/api/service-account.yaml'), 'utf8');

describe('podid scan --manifests', () => {
  it('finds IRSA annotations in a directory tree with file and line, offline', async () => {
    const r = await runPodid(['scan', '--manifests', join(FIXTURES, 'repo/apps'), '-o', 'json'], { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', KUBECONFIG: '/nonexistent' } });
    expect(r.code).toBe(0);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.source).toBe('manifests');
    const api = inv.serviceAccounts.find((s) => s.namespace === 'shop' && s.name === 'api')!;
    expect(api.location).toEqual({ file: expect.stringMatching(/apps\/api\/service-account\.yaml$/), line: 8 });
    expect(api.findings.map((f) => f.code)).toContain('IRSA_ANNOTATION');
  });

  it('reads multi-document YAML from stdin', async () => {
    const r = await runPodid(['scan', '--manifests', '-', '-o', 'json'], { input: API_SA });
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts.map((s) => [s.name, s.location?.file, s.location?.line])).toEqual([['api', '<stdin>', 8]]);
    expect(inv.serviceAccounts[0]!.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/api']);
  });

  it('--fail-on irsa exits 3 and says why on stderr; never exits 0', async () => {
    const fail = await runPodid(['scan', '--manifests', '-', '--fail-on', 'irsa'], { input: API_SA });
    expect(fail.code).toBe(ExitCode.gateFailed);
    expect(fail.stderr).toContain('gate failed (--fail-on irsa)');
    expect(fail.stderr).toContain('shop/api');
    const pass = await runPodid(['scan', '--manifests', '-', '--fail-on', 'never'], { input: API_SA });
    expect(pass.code).toBe(0);
  });

  it('an allowlist entry with a reason exempts a service account until it expires', async () => {
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, 'version: 1\nallowlist:\n  - namespace: shop\n    serviceAccount: api\n    reason: vendor chart, tracked in PLAT-123\n    expires: 2999-01-01\n');
    const exempt = await runPodid(['scan', '--manifests', '-', '--fail-on', 'irsa', '--config', ok], { input: API_SA });
    expect(exempt.code).toBe(0);
    const expired = join(dir, 'expired.yaml');
    writeFileSync(expired, 'version: 1\nallowlist:\n  - namespace: shop\n    serviceAccount: api\n    reason: vendor chart\n    expires: 2020-01-01\n');
    const r = await runPodid(['scan', '--manifests', '-', '--fail-on', 'irsa', '--config', expired, '-o', 'json'], { input: API_SA });
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts[0]!.findings.map((f) => f.code)).toContain('ALLOWLIST_EXPIRED');
  });

  it('an invalid .podid.yaml or a missing path is a one-line usage error', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nallowlist:\n  - namespace: shop\n    reason: x\n    expires: tomorrow\n');
    const r = await runPodid(['scan', '--manifests', '-', '--config', bad], { input: API_SA });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/allowlist\[0\]\.expires/);
    const missing = await runPodid(['scan', '--manifests', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('SARIF carries the file and line of each annotation', async () => {
    const r = await runPodid(['scan', '--manifests', '-', '-o', 'sarif'], { input: API_SA });
    const sarif = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; locations: { physicalLocation?: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    const res = sarif.runs[0]!.results.find((x) => x.ruleId === 'IRSA_ANNOTATION')!;
    expect(res.locations[0]!.physicalLocation?.region.startLine).toBe(8);
  });
});

describe('podid scan --fail-on against a live fleet', () => {
  let sb: SandboxProcess;
  beforeAll(async () => {
    sb = await startSandboxProcess(['--world', 'examples/world.yaml', '--quiet']);
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('blocked fails (exit 3) while prod has Fargate and Windows workloads', async () => {
    const r = await runPodid(['scan', '--context', 'arn:aws:eks:us-east-1:111122223333:cluster/prod', '--fail-on', 'blocked'], { env: sb.clientEnv });
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stderr).toMatch(/batch\/etl/);
    expect(r.stdout).toContain('service accounts'); // the report is still printed
  });

  it('allow-listing the errors that block lets the blocked gate pass', async () => {
    const cfg = join(dir, 'fleet.yaml');
    writeFileSync(cfg, [
      'version: 1',
      'allowlist:',
      '  - cluster: "*prod"',
      '    namespace: batch',
      '    codes: [WORKLOAD_ON_FARGATE]',
      '    reason: Fargate stays on IRSA',
      '    expires: 2999-12-31',
      '  - cluster: "*prod"',
      '    namespace: windows',
      '    codes: [WORKLOAD_ON_WINDOWS]',
      '    reason: Windows stays on IRSA',
      '    expires: 2999-12-31',
    ].join('\n'));
    const r = await runPodid(['scan', '--context', 'arn:aws:eks:us-east-1:111122223333:cluster/prod', '--fail-on', 'blocked', '--config', cfg], { env: sb.clientEnv });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
