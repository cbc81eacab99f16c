/**
 * A workload pinned to Windows by a required node affinity rather than a nodeSelector, with no
 * pod yet (scaled to zero here; Pending while a Windows node group scales up from zero looks the
 * same): the pods it will run can only land on Windows, where Pod Identity does not work. A live
 * scan blocks it as `scan --manifests` does, and the plan gives it no association. The built
 * CLI in-process (helpers/podid.ts) against the sandbox on the demo world, so edited.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { replicas?: number; template: { spec: Record<string, unknown> } };
}

let sb: SandboxEndpoint;

beforeAll(async () => {
  const world = parse(readFileSync(join(ROOT, 'examples/world.yaml'), 'utf8')) as { clusters: { objects: Obj[] }[] };
  const deploy = world.clusters[0]!.objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'win-reporter')!;
  deploy.spec.replicas = 0;
  delete deploy.spec.template.spec['nodeSelector'];
  deploy.spec.template.spec['affinity'] = {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['windows'] }] }] } },
  };
  sb = await sandboxServer(world);
});
afterAll(async () => {
  await sb?.stop();
});

describe('a Windows node affinity, no pod running', () => {
  it('scan: blocked with WORKLOAD_ON_WINDOWS, naming the affinity', async () => {
    const r = await podid(['scan', '--all-contexts', '-n', 'windows', '-o', 'json'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    const [sa] = (JSON.parse(r.stdout) as Inventory).serviceAccounts;
    expect(sa).toMatchObject({ namespace: 'windows', name: 'win-reporter', verdict: 'blocked' });
    const windows = sa!.findings.find((f) => f.code === 'WORKLOAD_ON_WINDOWS');
    expect(windows?.message).toContain('required node affinity kubernetes.io/os In (windows)');
  });

  it('migrate --dry-run: no trust change and no association, the service account is blocked', async () => {
    const r = await podid(['migrate', '--dry-run', '--all-contexts', '-n', 'windows', '-o', 'json'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as MigrationPlan;
    expect(plan.steps).toEqual([]);
    expect(JSON.stringify(plan.blocked)).toContain('WORKLOAD_ON_WINDOWS');
  });
});
