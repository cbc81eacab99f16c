/**
 * Fleet runs degrade, never abort (issue 10): over a kubeconfig holding the demo world's two
 * clusters, a cluster whose API server is a closed loopback port and a context that is not EKS,
 * `podid scan --all-contexts` reports both healthy clusters in full, says what happened to the
 * other two (one finding each, naming the context, the call and the fix), prints one line per
 * skipped cluster on stderr, and exits 5 (partial). The same failures alone exit with the
 * documented code in one line. The built CLI in-process (helpers/podid.ts) against the sandbox
 * over HTTP; the unreachable cluster alone through the binary (a process exits at once on an
 * error, whatever is still in flight).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, runPodid, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { unusedPort } from '../helpers/ports.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const STAGING_NAME = 'staging';
const STAGING = `arn:aws:eks:us-east-1:111122223333:cluster/${STAGING_NAME}`;
const DEAD = 'arn:aws:eks:us-east-1:111122223333:cluster/dead';
const KIND = 'kind-local';
/** A context naming an EKS cluster that does not exist (deleted since the kubeconfig was written). */
const GONE = 'arn:aws:eks:us-east-1:111122223333:cluster/gone';


let sb: SandboxEndpoint;
let env: NodeJS.ProcessEnv;
let deadServer: string;

beforeAll(async () => {
  const world = parse(readFileSync(join(ROOT, 'examples/world.yaml'), 'utf8')) as { clusters: object[] };
  deadServer = `http://127.0.0.1:${await unusedPort()}`;
  world.clusters.push({ name: 'dead', version: '1.29', platformVersion: 'eks.8', apiServerUrl: deadServer });
  sb = await sandboxServer(world);
  // A second kubeconfig file with a context that is not EKS (a kind cluster), merged as kubectl does.
  const dir = mkdtempSync(join(tmpdir(), 'podid-fleet-'));
  const kind = join(dir, 'kind.yaml');
  writeFileSync(kind, `apiVersion: v1
kind: Config
clusters:
  - name: kind-local
    cluster: { server: 'https://127.0.0.1:6443' }
  - name: ${GONE}
    cluster: { server: 'https://127.0.0.1:6444' }
users:
  - name: kind-local
    user: { token: local }
contexts:
  - name: ${KIND}
    context: { cluster: kind-local, user: kind-local }
  - name: ${GONE}
    context: { cluster: ${GONE}, user: kind-local }
`);
  env = { ...sb.clientEnv, KUBECONFIG: [sb.kubeconfig, kind].join(delimiter) };
}, 60_000);

afterAll(async () => {
  await sb?.stop();
});

describe('a fleet scan with a dead cluster and a non-EKS context', () => {
  let run: Awaited<ReturnType<typeof runPodid>>;
  let inv: Inventory;

  beforeAll(async () => {
    run = await podid(['scan', '--all-contexts', '-o', 'json'], { env, timeoutMs: 60_000 });
    inv = JSON.parse(run.stdout) as Inventory;
  }, 90_000);

  it('exits 5 (partial) and still prints the whole report', () => {
    expect(run.code, run.stderr).toBe(5);
    expect(inv.clusters.map((c) => c.context).sort()).toEqual([DEAD, GONE, KIND, PROD, STAGING].sort());
  });

  it('scans every healthy cluster in full', async () => {
    const healthy = await podid(['scan', '--context', PROD, '--context', STAGING, '-o', 'json'], { env, timeoutMs: 60_000 });
    expect(healthy.code, healthy.stderr).toBe(0);
    const alone = JSON.parse(healthy.stdout) as Inventory;
    const scanned = inv.clusters.filter((c) => c.scanned !== false);
    expect(scanned.map((c) => c.name).sort()).toEqual(['prod', STAGING_NAME]);
    expect(inv.summary.serviceAccounts).toBe(alone.summary.serviceAccounts);
    // The same service accounts, verdicts and findings as a scan of the healthy clusters alone.
    const strip = (i: Inventory) => i.serviceAccounts.map((s) => [s.cluster, s.namespace, s.name, s.verdict, s.findings.map((f) => f.code)]);
    expect(strip(inv)).toEqual(strip(alone));
    expect(scanned).toEqual(alone.clusters);
    expect(inv.serviceAccounts.some((s) => s.cluster === PROD)).toBe(true);
  });

  it('says what happened to the dead cluster: the context, the call, the fix', () => {
    const dead = inv.clusters.find((c) => c.context === DEAD)!;
    expect(dead).toMatchObject({ scanned: false, readiness: 'blocked', name: 'dead', region: 'us-east-1', endpoint: deadServer });
    expect(dead.findings).toHaveLength(1);
    const [f] = dead.findings;
    expect(f!.code).toBe('CLUSTER_UNREACHABLE');
    expect(f!.severity).toBe('error');
    expect(f!.message).toContain(`context ${DEAD} was not scanned`);
    expect(f!.message).toMatch(/cannot reach the Kubernetes API .* at http:\/\/127\.0\.0\.1:\d+ \(list [a-z]+\)/);
    expect(f!.fix).toMatch(/network|VPN|private endpoint/);
  });

  it('says what happened to the non-EKS context', () => {
    const kind = inv.clusters.find((c) => c.context === KIND)!;
    expect(kind).toMatchObject({ scanned: false, readiness: 'blocked', name: KIND, endpoint: 'https://127.0.0.1:6443' });
    expect(kind.findings.map((f) => f.code)).toEqual(['NOT_AN_EKS_CONTEXT']);
    expect(kind.findings[0]!.message).toContain(`context ${KIND} was not scanned: cannot tell which EKS cluster`);
    expect(kind.findings[0]!.fix).toContain('--cluster NAME --region REGION');
  });

  it('says what happened to the context whose cluster is gone', () => {
    const gone = inv.clusters.find((c) => c.context === GONE)!;
    expect(gone).toMatchObject({ scanned: false, name: 'gone', region: 'us-east-1' });
    expect(gone.findings.map((f) => [f.code, f.message])).toEqual([['CLUSTER_NOT_FOUND', `context ${GONE} was not scanned: context "${GONE}": EKS cluster "gone" does not exist in us-east-1`]]);
  });

  it('prints one line per skipped cluster and one summary line on stderr, no stack trace', () => {
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((l) => l.match(/^podid: .*\((\w+)\); scanning the other clusters$/)?.[1]).sort()).toEqual(['CLUSTER_NOT_FOUND', 'CONTEXT_CLUSTER_UNKNOWN', 'KUBE_UNREACHABLE']);
    expect(lines.find((l) => l.includes('KUBE_UNREACHABLE'))).toContain(`context "${DEAD}"`);
    expect(lines.find((l) => l.includes('CONTEXT_CLUSTER_UNKNOWN'))).toContain(`context "${KIND}"`);
    expect(lines[3]).toBe(`podid: partial result: 3 of 5 clusters could not be scanned (${DEAD}, ${GONE}, ${KIND}); their findings say why`);
    expect(run.stderr).not.toMatch(/\n\s+at |TypeError/);
  });

  it('shows them in the table as not scanned; --fail-on still applies (a gate that matches exits 3)', async () => {
    const table = await podid(['scan', '--all-contexts', '--fail-on', 'warnings'], { env, timeoutMs: 60_000 });
    expect(table.code).toBe(3);
    expect(table.stdout).toContain(`dead  context ${DEAD}\n  not scanned: blocked\n  error CLUSTER_UNREACHABLE  context ${DEAD} was not scanned: cannot reach the Kubernetes API`);
    expect(table.stdout).toContain(`${KIND}  context ${KIND}\n  not scanned: blocked\n  error NOT_AN_EKS_CONTEXT`);
    expect(table.stderr).toContain('cluster dead: error CLUSTER_UNREACHABLE');
  }, 90_000);

  it('migrate --dry-run plans the healthy clusters and exits 5', async () => {
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env, timeoutMs: 60_000 });
    expect(planned.code, planned.stderr).toBe(5);
    const plan = JSON.parse(planned.stdout) as MigrationPlan;
    expect(plan.options.selection.contexts.sort()).toEqual([PROD, STAGING].sort());
    expect(planned.stderr).toContain('podid: partial result: 3 of 5 clusters could not be scanned');
  }, 90_000);
});

describe('migrate --dry-run over clusters it could not scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podid-fleet-plan-'));

  it('with no cluster scanned says so, names them and why, never "already uses EKS Pod Identity"; exit 5', async () => {
    const r = await podid(['migrate', '--dry-run', '--context', KIND, '--context', DEAD], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stdout).not.toContain('already uses EKS Pod Identity');
    expect(r.stdout).toContain('  clusters   none: 2 clusters could not be scanned (see Not scanned)\n');
    expect(r.stdout).toContain(`Not scanned: not in this plan\n  ! dead (context ${DEAD})\n      error CLUSTER_UNREACHABLE  context ${DEAD} was not scanned: cannot reach the Kubernetes API`);
    expect(r.stdout).toContain(`  ! context ${KIND}\n      error NOT_AN_EKS_CONTEXT  context ${KIND} was not scanned`);
    expect(r.stdout).toMatch(/\nNo plan: none of the 2 selected clusters could be scanned \(see Not scanned\), so nothing was judged\.\n$/);
    expect(r.stderr).toContain(`podid: partial result: 2 of 2 clusters could not be scanned (${DEAD}, ${KIND})`);
  }, 90_000);

  it('a selection that matches nothing on the scanned clusters may be on the others: counted right, exit 5, not a usage error', async () => {
    const some = await podid(['migrate', '--dry-run', '--context', PROD, '--context', DEAD, '-n', 'nowhere'], { env, timeoutMs: 60_000 });
    expect(some.code, some.stderr).toBe(5);
    expect(some.stderr).toContain(`podid: -n nowhere: no IRSA service account or add-on in namespace nowhere in cluster prod; it may be on the cluster that could not be scanned (${DEAD})\n`);
    expect(some.stderr).not.toContain('SELECTION_EMPTY');
    expect(some.stdout).not.toContain('already uses EKS Pod Identity');
    expect(some.stdout).toContain('No changes on the 1 scanned cluster. 1 cluster not scanned (see Not scanned): this plan does not cover it; plan again once it can be read.\n');

    const none = await podid(['migrate', '--dry-run', '--context', KIND, '--context', DEAD, '--service-account', 'shop/cart'], { env, timeoutMs: 60_000 });
    expect(none.code, none.stderr).toBe(5);
    expect(none.stderr).toContain(`podid: --service-account shop/cart: no IRSA service account shop/cart in the 0 scanned clusters; it may be on the 2 clusters that could not be scanned (${DEAD}, ${KIND})\n`);

    // Every cluster scanned: still the usage error.
    const all = await podid(['migrate', '--dry-run', '--context', PROD, '--context', STAGING, '-n', 'nowhere'], { env, timeoutMs: 60_000 });
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('-n nowhere: no IRSA service account or add-on in namespace nowhere in the 2 scanned clusters');
  }, 180_000);

  it('finalize: a selection that names nothing on the scanned clusters may be on the others: exit 5 with a note, not a usage error', async () => {
    const dry = await podid(['finalize', '--dry-run', '--context', PROD, '--context', DEAD, '-n', 'nowhere'], { env, timeoutMs: 60_000 });
    expect(dry.code, dry.stderr).toBe(5);
    expect(dry.stderr).toContain(`podid: -n nowhere: no namespace nowhere (not even its default ServiceAccount) in cluster prod; it may be on the cluster that could not be scanned (${DEAD})\n`);
    expect(dry.stderr).toContain('podid: partial result: 1 of 2 clusters could not be scanned');
    expect(dry.stderr).not.toContain('SELECTION_EMPTY');

    // --apply with nothing to finalize on the scanned clusters: partial too, never "done" (0).
    const applied = await podid(['finalize', '--apply', '--yes', '--context', KIND, '--context', DEAD, '--service-account', 'shop/cart', '-o', 'json'], { env, timeoutMs: 60_000 });
    expect(applied.code, applied.stderr).toBe(5);
    expect(applied.stderr).toContain(`podid: --service-account shop/cart: no ServiceAccount shop/cart in the 0 scanned clusters; it may be on the 2 clusters that could not be scanned (${DEAD}, ${KIND})\n`);
    expect((JSON.parse(applied.stdout) as { exitCode: number }).exitCode).toBe(5);

    // Every cluster scanned: still the usage error.
    const all = await podid(['finalize', '--dry-run', '--context', PROD, '--context', STAGING, '-n', 'nowhere'], { env, timeoutMs: 60_000 });
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('-n nowhere: no namespace nowhere (not even its default ServiceAccount) in the 2 scanned clusters');
  }, 180_000);

  it('scan: a selection that names nothing on the scanned clusters may be on the others: a note, exit 5 (3 when the gate matches), not a usage error', async () => {
    const some = await podid(['scan', '--context', PROD, '--context', DEAD, '-n', 'nowhere', '--fail-on', 'irsa'], { env, timeoutMs: 60_000 });
    expect(some.code, some.stderr).toBe(5);
    expect(some.stderr).toContain(`podid: -n nowhere: no namespace nowhere (not even its default ServiceAccount) in cluster prod; it may be on the cluster that could not be scanned (${DEAD})\n`);
    expect(some.stderr).toContain('podid: partial result: 1 of 2 clusters could not be scanned');

    // Every cluster scanned: the usage error, with or without --fail-on.
    for (const gate of [[], ['--fail-on', 'irsa']]) {
      const all = await podid(['scan', '--context', PROD, '--context', STAGING, '-n', 'nowhere', ...gate], { env, timeoutMs: 60_000 });
      expect(all.code, all.stderr).toBe(2);
      expect(all.stdout).toBe('');
      expect(all.stderr).toContain('-n nowhere: no namespace nowhere (not even its default ServiceAccount) in the 2 scanned clusters');
    }
  }, 180_000);

  it('the saved plan and its review record the clusters not scanned; --apply --plan accepts it and says it is partial', async () => {
    const planFile = join(dir, 'partial.json');
    const r = await podid(['migrate', '--dry-run', '--all-contexts', '--role', 'arn:aws:iam::111122223333:role/cart', '--out', planFile], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as MigrationPlan;
    expect(plan.unscanned.map((u) => [u.context, u.name, u.reasons.map((f) => f.code)])).toEqual([
      [DEAD, 'dead', ['CLUSTER_UNREACHABLE']],
      [GONE, 'gone', ['CLUSTER_NOT_FOUND']],
      [KIND, KIND, ['NOT_AN_EKS_CONTEXT']],
    ]);
    expect(plan.unscanned[0]!.reasons[0]!.message).toContain(`context ${DEAD} was not scanned: cannot reach the Kubernetes API`);
    expect(plan.clusters.map((c) => c.name).sort()).toEqual(['prod', STAGING_NAME]);
    expect(r.stdout).toContain(`Not scanned: not in this plan\n  ! dead (context ${DEAD})\n`);
    expect(r.stdout).toContain(`  ! gone (context ${GONE})\n      error CLUSTER_NOT_FOUND`);
    expect(r.stdout).toContain('\nNot scanned: 3 clusters (see above): this plan does not cover them; plan again once they can be read.\n');
    const json = await podid(['migrate', '--dry-run', '--all-contexts', '--role', 'arn:aws:iam::111122223333:role/cart', '-o', 'json'], { env, timeoutMs: 60_000 });
    expect((JSON.parse(json.stdout) as MigrationPlan).unscanned).toEqual(plan.unscanned);

    // The demo world's webhook sees a new association after 1 s: wait longer before restarting.
    const applied = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '2s', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', join(dir, 'runs')], { env, timeoutMs: 90_000 });
    expect(applied.stderr).toContain(`podid: the plan was made from a partial scan: 3 of 5 clusters could not be scanned (${DEAD}, ${GONE}, ${KIND}); it changes nothing on them\n`);
    expect(applied.stderr).not.toMatch(/PLAN_INVALID|\n\s+at /);
    expect(JSON.parse(applied.stdout)).toMatchObject({ status: 'succeeded' });
    // The run did all it was asked; the clusters it could not cover make it partial, as a plan-and-apply of the fleet is.
    expect(applied.code, applied.stderr).toBe(5);
  }, 240_000);
});

describe('migrate --dry-run on a blocked cluster', () => {
  it('shows a cluster-level finding once per cluster, not once per service account', async () => {
    const r = await podid(['migrate', '--dry-run', '--context', STAGING], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const blockedSection = r.stdout.slice(r.stdout.indexOf('Blocked: not in this plan'));
    expect(blockedSection.match(/error CLUSTER_BLOCKED/g)).toHaveLength(1);
    expect(blockedSection.match(/error AGENT_REQUIRED/g)).toHaveLength(1);
    expect(blockedSection).toContain('  ! cluster staging: for each of the 4 service accounts below\n      error CLUSTER_BLOCKED  cluster staging is blocked:');
    expect(blockedSection).toContain("  ! service account shop/cart on staging (role/staging-cart)\n      the cluster's findings above\n");
    // The saved plan keeps every item's reasons as they are.
    const json = await podid(['migrate', '--dry-run', '--context', STAGING, '-o', 'json'], { env, timeoutMs: 60_000 });
    const plan = JSON.parse(json.stdout) as MigrationPlan;
    expect(plan.blocked).toHaveLength(4);
    for (const b of plan.blocked) expect(b.reasons.map((f) => f.code)).toEqual(['CLUSTER_BLOCKED', 'AGENT_REQUIRED']);
  }, 90_000);
});

describe('a partial fleet run through the binary', () => {
  let slow: SandboxEndpoint;

  beforeAll(async () => {
    // prod: its ServiceAccount list is refused (the connection dropped, every retry), so prod is
    // given up at once; its pod list, sent alongside, is held open and never answered.
    const world = parse(readFileSync(join(ROOT, 'examples/world.yaml'), 'utf8')) as Record<string, unknown>;
    world['faults'] = [
      { target: 'k8s:list:serviceaccounts', error: 'reset', after: 0, times: 1000, cluster: 'prod' },
      { target: 'k8s:list:pods', error: 'timeout', after: 0, times: 1000, cluster: 'prod' },
    ];
    slow = await sandboxServer(world);
  }, 60_000);

  afterAll(async () => {
    await slow?.stop();
  });

  it('exits 5 once its result is written, without waiting for the request it abandoned', async () => {
    // The held pod list would end only at the 10-minute --request-timeout: the process exiting at
    // all (runPodid fails it after 60 s) shows it did not wait for it.
    const r = await runPodid(['scan', '--context', PROD, '--context', STAGING, '--request-timeout', '10m', '-o', 'json'], { env: slow.clientEnv, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.clusters.filter((c) => c.scanned !== false).map((c) => c.name)).toEqual([STAGING_NAME]);
    expect(r.stderr).toContain('podid: partial result: 1 of 2 clusters could not be scanned');
    // The sandbox was still holding prod's pod list when the process went.
    const calls = await sandboxCalls(slow);
    expect(calls).toContainEqual(expect.objectContaining({ service: 'k8s:prod', operation: 'list:pods', status: 0 }));
  }, 90_000);
});

describe('clusters whose AWS calls are denied', () => {
  it('each has its own stderr line naming its context', async () => {
    const world = parse(readFileSync(join(ROOT, 'examples/world.yaml'), 'utf8')) as Record<string, unknown>;
    // Everything but eks:DescribeCluster: both clusters are denied the same call.
    world['caller'] = { arn: 'arn:aws:iam::111122223333:user/ci', allow: ['sts:*', 'iam:*', 'eks:List*', 'eks:DescribeAddon*', 'eks:DescribeNodegroup', 'eks:DescribeFargateProfile', 'eks:DescribePodIdentityAssociation'] };
    const denied = await sandboxServer(world);
    try {
      const r = await podid(['scan', '--context', PROD, '--context', STAGING, '-o', 'json'], { env: denied.clientEnv, timeoutMs: 60_000 });
      const lines = r.stderr.trim().split('\n').filter((l) => l.endsWith('scanning the other clusters'));
      expect(lines, r.stderr).toHaveLength(2);
      expect(lines.find((l) => l.includes(`"${PROD}"`)), r.stderr).toContain('eks:DescribeCluster');
      expect(lines.find((l) => l.includes(`"${STAGING}"`)), r.stderr).toContain('eks:DescribeCluster');
    } finally {
      await denied.stop();
    }
  }, 90_000);
});

describe('one cluster alone: the documented code in one line', () => {
  const oneLine = (r: { stderr: string }) => {
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^podid: /);
    expect(r.stderr).not.toMatch(/\n\s+at |TypeError|unexpected error/);
    return lines[0]!;
  };

  it('an unreachable API server (the binary) exits 6 (environment) in one line', async () => {
    const r = await runPodid(['scan', '--context', DEAD, '--request-timeout', '2s'], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(6);
    expect(oneLine(r)).toContain(`cannot reach the Kubernetes API of context "${DEAD}"`);
  }, 90_000);

  it('a context that is not EKS exits 2 (usage) with the fix', async () => {
    const r = await podid(['scan', '--context', KIND], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toContain('pass --cluster NAME --region REGION');
  });

  it('an AWS endpoint nothing listens on exits 6 and names the endpoint', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const r = await podid(['scan', '--context', PROD], { env: { ...env, AWS_ENDPOINT_URL: url }, timeoutMs: 60_000 });
    expect(r.code).toBe(6);
    expect(oneLine(r)).toContain(`cannot reach ${url} for sts:GetCallerIdentity`);
  }, 90_000);

  it('an AWS endpoint that is not a URL exits 6 in one line, no TypeError', async () => {
    const r = await podid(['scan', '--context', PROD], { env: { ...env, AWS_ENDPOINT_URL: 'not a url' }, timeoutMs: 60_000 });
    expect(r.code).toBe(6);
    // The variable and the value the user set, not the SDK's default endpoint.
    expect(oneLine(r)).toContain('AWS_ENDPOINT_URL is not a valid URL: "not a url"');
    expect(r.stderr).not.toContain('amazonaws.com)');
  }, 90_000);

  it('a service\'s own endpoint variable that is not a URL is the one named', async () => {
    const r = await podid(['scan', '--context', PROD], { env: { ...env, AWS_ENDPOINT_URL_EKS: 'eks at home' }, timeoutMs: 60_000 });
    expect(r.code).toBe(6);
    expect(oneLine(r)).toContain('AWS_ENDPOINT_URL_EKS is not a valid URL: "eks at home"');
  }, 90_000);

  it('a bad --request-timeout is a usage error', async () => {
    const r = await podid(['scan', '--request-timeout', 'soon'], { env });
    expect(r.code).toBe(2);
    expect(oneLine(r)).toContain('--request-timeout soon: expected a duration');
  });
});

describe('a context whose kubeconfig cluster entry cannot be used', () => {
  // staging's entry sets a CA together with insecure-skip-tls-verify, which kubectl refuses for
  // that context alone; prod's entry is untouched.
  let broken: NodeJS.ProcessEnv;
  beforeAll(() => {
    const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
    const staging = kc.clusters.find((c) => c.name === STAGING)!;
    staging.cluster['certificate-authority-data'] = Buffer.from('not a CA').toString('base64');
    const dir = mkdtempSync(join(tmpdir(), 'podid-fleet-entry-'));
    writeFileSync(join(dir, 'config'), JSON.stringify(kc));
    broken = { ...sb.clientEnv, KUBECONFIG: join(dir, 'config') };
  });

  it('in a fleet run is one KUBECONFIG_ENTRY_INVALID finding naming the entry and the fix; the other cluster is scanned; exit 5', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'json'], { env: broken, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.clusters.filter((c) => c.scanned !== false).map((c) => c.context)).toEqual([PROD]);
    expect(inv.serviceAccounts.length).toBeGreaterThan(0);
    expect(inv.serviceAccounts.every((s) => s.cluster === PROD)).toBe(true);
    const staging = inv.clusters.find((c) => c.context === STAGING)!;
    expect(staging).toMatchObject({ scanned: false, readiness: 'blocked' });
    expect(staging.findings).toEqual([
      {
        code: 'KUBECONFIG_ENTRY_INVALID',
        severity: 'error',
        message: `context ${STAGING} was not scanned: kubeconfig cluster "${STAGING}" sets both insecure-skip-tls-verify and certificate-authority-data: specifying a root certificates file with the insecure flag is not allowed`,
        fix: 'remove insecure-skip-tls-verify to verify the server with the CA, or remove the CA',
      },
    ]);
    expect(r.stderr).toContain('(KUBECONFIG_INVALID); scanning the other clusters');
    expect(r.stderr).not.toMatch(/\n\s+at |TypeError/);
  }, 90_000);

  it('alone is a usage error (exit 2) in one line', async () => {
    const r = await podid(['scan', '--context', STAGING], { env: broken, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`kubeconfig cluster "${STAGING}" sets both insecure-skip-tls-verify and certificate-authority-data`)]);
  }, 90_000);
});
