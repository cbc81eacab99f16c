/**
 * `podid migrate --apply` end to end against the sandbox over HTTP, with the real SDK and
 * Kubernetes clients: the built CLI in-process (helpers/podid.ts), and the binary where only a
 * process shows it (no terminal to confirm on) and for the demo world's full migration. Stale
 * plans, faults, lost answers, rollouts and verification, --install-agent, safety rails: small
 * worlds (no latency, no rollout delay) keep them fast. The demo world's migration: what it
 * migrates, the state it leaves, the credentials every new pod obtains, the journal, and a second
 * apply that changes nothing. The sandboxes run in the test process. Interrupted runs (SIGKILL,
 * SIGINT) are in apply-interrupted.test.ts.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearSandboxCalls, ROOT, runPodid, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { ACCOUNT, apply, applyBinary, journalDir, podIdentity, readJournal, result, smallWorld, state } from './apply-helpers.js';

/**
 * The demo world's full migration, through the binary. It is mostly waiting (the propagation
 * wait, the demo world's rollouts), so it starts first and runs while the small-world tests
 * below do; its describe (last) awaits it.
 */
async function migrateDemoWorld() {
  const sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  const dir = journalDir();
  // The demo world's webhook sees a new association after 1 s: wait that long before restarting.
  const r = await applyBinary(sb, ['-o', 'json', '--journal-dir', dir, '--propagation-wait', '1s', '--rollout-timeout', '2m'], { timeoutMs: 240_000 }).catch(async (err: unknown) => {
    await sb.stop();
    throw err;
  });
  return { sb, dir, r };
}
let demoWorld: ReturnType<typeof migrateDemoWorld>;
beforeAll(() => {
  demoWorld = migrateDemoWorld();
  demoWorld.catch(() => undefined);
});
afterAll(async () => {
  await (await demoWorld?.catch(() => undefined))?.sb.stop();
});

describe('a stale plan', () => {
  let sb: SandboxEndpoint;
  afterAll(async () => {
    await sb?.stop();
  });

  it('is refused for the drifted role only; the rest proceeds; exit 4', async () => {
    sb = await sandboxServer(smallWorld());
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv });
    expect(planned.code, planned.stderr).toBe(0);
    // Someone edits role `shop` after the plan was made.
    const edited = { Version: '2012-10-17', Statement: [{ Sid: 'EditedByHand', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sb.endpoint, credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'shop', PolicyDocument: JSON.stringify(edited) }));

    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(4);
    const res = result(r);
    const outcome = Object.fromEntries(res.serviceAccounts.map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]));
    expect(outcome).toEqual({ 'shop/cart': 'drifted', 'shop/orders': 'drifted', 'kube-system/aws-node': 'migrated' });
    expect(res.steps.find((s) => s.kind === 'update-trust' && s.target.endsWith(':role/shop'))?.message).toContain('changed since the plan was made');
    const s = await state(sb);
    // Untouched: the edited policy stands, no association, no restart for the drifted role.
    expect(s.iam.roles.find((x) => x.name === 'shop')!.assumeRolePolicyDocument).toEqual(edited);
    expect(s.clusters[0]!.podIdentityAssociations.map((a) => a.serviceAccount)).toEqual(['aws-node']);
    expect(s.clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop').every((p) => podIdentity(p) === 'irsa')).toBe(true);
  });
});

describe('faults on every kind of mutating call', () => {
  let sb: SandboxEndpoint;
  afterAll(async () => {
    await sb?.stop();
  });

  it('throttling, 5xx, resets and timeouts are retried or read back; state and journal agree', async () => {
    sb = await sandboxServer(
      smallWorld({
        faults: [
          { target: 'iam:UpdateAssumeRolePolicy', error: 'throttle', after: 0, times: 2 },
          // Each fault counts only the calls that reach it (the throttle above answers the first two).
          { target: 'iam:UpdateAssumeRolePolicy', error: 'server-error', after: 0, times: 1 },
          { target: 'eks:CreatePodIdentityAssociation', error: 'server-error', after: 0, times: 1 },
          { target: 'eks:CreatePodIdentityAssociation', error: 'reset', after: 1, times: 1 },
          { target: 'eks:UpdateAddon', error: 'reset', after: 0, times: 1 },
          { target: 'k8s:patch:deployments', error: 'timeout', after: 0, times: 1 },
          { target: 'k8s:patch:deployments', error: 'throttle', after: 1, times: 1 },
        ],
      }),
    );
    const dir = journalDir();
    const r = await apply(sb, ['-o', 'json', '--journal-dir', dir, '--request-timeout', '1s']);
    expect(r.code, r.stderr).toBe(0);
    const res = result(r);
    expect(res.serviceAccounts.map((s) => s.outcome)).toEqual(['migrated', 'migrated', 'migrated']);
    const s = await state(sb);
    const assocs = s.clusters[0]!.podIdentityAssociations;
    // No duplicate association, no duplicate statement.
    expect(assocs.map((a) => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual(['kube-system/aws-node', 'shop/cart', 'shop/orders']);
    const shop = s.iam.roles.find((x) => x.name === 'shop')!;
    expect(shop.assumeRolePolicyDocument.Statement.filter((st) => JSON.stringify(st['Principal']).includes('pods.eks.amazonaws.com'))).toHaveLength(1);
    // The journal says what the state shows.
    const records = readJournal(res.journal!);
    for (const rec of records) {
      if (rec.record !== 'step' || rec.status !== 'done') continue;
      if (rec.action === 'create-association') {
        const a = (rec.result as { association: { associationId: string } }).association;
        expect(assocs.some((x) => x.associationId === a.associationId)).toBe(true);
      } else if (rec.action === 'update-trust') {
        const role = s.iam.roles.find((x) => rec.target === x.arn)!;
        expect(role.assumeRolePolicyDocument).toEqual((rec.result as { written: unknown }).written);
      } else if (rec.action === 'restart' && rec.stepId.includes('#')) {
        const [kind, ns, name] = rec.target.split('/');
        const w = s.clusters[0]!.objects.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name)!;
        const template = (w.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
        expect(template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe((rec.result as { restartedAt: string }).restartedAt);
      }
    }
    const calls = await sandboxCalls(sb);
    // IAM answers throttling with HTTP 400 (Throttling), as IAM does.
    expect(calls.filter((c) => c.operation === 'UpdateAssumeRolePolicy').map((c) => c.status)).toEqual([400, 400, 500, 200, 200]);
  });
});

describe('answers lost after the change committed', () => {
  it('are resolved by reading back, never by blind re-creation or a second restart', async () => {
    const sb = await sandboxServer(
      smallWorld({
        faults: [
          { target: 'iam:UpdateAssumeRolePolicy', error: 'reset', when: 'after-commit', after: 0, times: 1 },
          { target: 'eks:CreatePodIdentityAssociation', error: 'reset', when: 'after-commit', after: 0, times: 1 },
          { target: 'eks:UpdateAddon', error: 'timeout', when: 'after-commit', after: 0, times: 1 },
          { target: 'k8s:patch:deployments', error: 'reset', when: 'after-commit', after: 0, times: 1 },
        ],
      }),
    );
    try {
      const r = await apply(sb, ['-o', 'json', '--journal-dir', journalDir(), '--request-timeout', '1s']);
      expect(r.code, r.stderr).toBe(0);
      const res = result(r);
      expect(res.serviceAccounts.map((s) => s.outcome)).toEqual(['migrated', 'migrated', 'migrated']);
      expect(res.steps.filter((s) => s.message.includes('reading back after a lost answer')).map((s) => s.kind).sort()).toEqual(['create-association', 'update-addon', 'update-trust']);
      const calls = (await sandboxCalls(sb)).filter((c) => c.mutating);
      // Each change was sent once: the lost answers were read back, not re-sent.
      expect(calls.filter((c) => c.operation === 'CreatePodIdentityAssociation')).toHaveLength(2);
      expect(calls.filter((c) => c.operation === 'UpdateAddon')).toHaveLength(1);
      expect(calls.filter((c) => c.operation === 'patch:deployments')).toHaveLength(2);
      const s = await state(sb);
      expect(s.clusters[0]!.podIdentityAssociations.map((a) => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual(['kube-system/aws-node', 'shop/cart', 'shop/orders']);
    } finally {
      await sb.stop();
    }
  });
});

describe('rollouts and verification', () => {
  let sb: SandboxEndpoint;
  afterAll(async () => {
    await sb?.stop();
  });

  it('reports a stuck rollout as failed with the workload condition; exit 5; the others migrate', async () => {
    sb = await sandboxServer(smallWorld({ stuck: true, withAddon: false }));
    const r = await apply(sb, ['-o', 'json', '--journal-dir', journalDir(), '--rollout-timeout', '1s']);
    expect(r.code, r.stderr).toBe(5);
    const res = result(r);
    const loader = res.serviceAccounts.find((s) => s.serviceAccount === 'loader')!;
    expect(loader.outcome).toBe('failed');
    expect(loader.reason).toMatch(/rollout stuck: no progress for 1s/);
    expect(loader.reason).toContain('Available=False (MinimumReplicasUnavailable');
    expect(loader.reason).toContain('Unschedulable');
    expect(res.serviceAccounts.filter((s) => s.serviceAccount !== 'loader').map((s) => s.outcome)).toEqual(['migrated', 'migrated']);
    expect(r.stdout).toContain('"status": "partial"');
  });

  it('catches the agent missing on one node group after the plan was made', async () => {
    await sb?.stop();
    sb = await sandboxServer(smallWorld({ twoNodegroups: true, withAddon: false }));
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv });
    expect(planned.code, planned.stderr).toBe(0);
    // Then someone confines the agent to node group ng-a (a nodeSelector in its configuration).
    const base = `${sb.endpoint}/k8s/${ACCOUNT}/us-east-1/prod`;
    const patched = await fetch(`${base}/apis/apps/v1/namespaces/kube-system/daemonsets/eks-pod-identity-agent`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json', authorization: 'Bearer sandbox-token-prod' },
      body: JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'eks.amazonaws.com/nodegroup': 'ng-a' } } } } }),
    });
    expect(patched.status).toBe(200);
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(5);
    const res = result(r);
    const shipper = res.serviceAccounts.find((s) => s.serviceAccount === 'shipper')!;
    expect(shipper.outcome).toBe('failed');
    expect(shipper.reason).toMatch(/verification: no running and ready eks-pod-identity-agent pod on node \S+ \(node group ng-b\), which runs pod shipper-/);
    // The Deployments' pods landed on ng-a nodes only where the agent runs... or not: each pod is judged on its own node.
    for (const sa of res.serviceAccounts.filter((s) => s.serviceAccount !== 'shipper')) {
      if (sa.outcome === 'failed') expect(sa.reason).toContain('(node group ng-b)');
      else expect(sa.outcome).toBe('migrated');
    }
  });
});

describe('--install-agent', () => {
  it('installs the agent first, waits for it on every node, then migrates', async () => {
    const sb = await sandboxServer(smallWorld({ noAgent: true, withAddon: false }));
    try {
      const r = await apply(sb, ['-o', 'json', '--journal-dir', journalDir(), '--install-agent']);
      expect(r.code, r.stderr).toBe(0);
      const res = result(r);
      expect(res.steps[0]).toMatchObject({ kind: 'install-agent', status: 'done' });
      expect(res.serviceAccounts.map((s) => s.outcome)).toEqual(['migrated', 'migrated']);
      const calls = (await sandboxCalls(sb)).filter((c) => c.mutating).map((c) => c.operation);
      expect(calls[0]).toBe('CreateAddon');
      expect((await state(sb)).clusters[0]!.addons.map((a) => a.name)).toContain('eks-pod-identity-agent');
    } finally {
      await sb.stop();
    }
  });
});

describe('safety rails', () => {
  let sb: SandboxEndpoint;
  beforeAll(async () => {
    sb = await sandboxServer(smallWorld({ withAddon: false }));
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('without a terminal (the binary, stdin and stderr piped), --yes is required: exit 2, nothing changed', async () => {
    await clearSandboxCalls(sb);
    const r = await runPodid(['migrate', '--apply', '--all-contexts'], { env: sb.clientEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^podid: .*no terminal to confirm on — review the plan .*then pass --yes\n$/m);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  it('refuses while another live apply holds the cluster lock (exit 4)', async () => {
    const dir = journalDir();
    const { acquireLocks } = await import('../../src/adapters/journal-fs.js');
    const held = acquireLocks(dir, [`arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`], 'other-run', () => new Date().toISOString());
    try {
      const r = await apply(sb, ['--journal-dir', dir]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/another podid run holds the lock of arn:aws:eks:us-east-1:111122223333:cluster\/prod \(run other-run, pid \d+/);
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    } finally {
      held.release();
    }
  });

  it('refuses a hand-edited plan before changing anything', async () => {
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(planned.stdout) as { steps: { kind: string; after?: { Statement: { Principal: unknown }[] } }[] };
    const trust = plan.steps.find((s) => s.kind === 'update-trust')!;
    trust.after!.Statement.at(-1)!.Principal = '*';
    writeFileSync(planFile, JSON.stringify(plan));
    await clearSandboxCalls(sb);
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--journal-dir', dir], { env: sb.clientEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/after is not podid's (dual-trust )?change of before/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  // Each edit of a saved plan is refused when the plan is loaded: exit 2, one line naming the
  // step, no stack, no mutating call. The first one used to pass the checks (the trust step's
  // id still named role shop, so the association's dependency was met) and was only stopped
  // later by the fingerprint of the other role's trust; with a role whose trust equals shop's, it
  // wrote shop's Pod Identity statement onto that role.
  type Step = { id: string; kind: string; roleArn?: string; roleName?: string; namespace?: string; serviceAccount?: string; after?: { Statement: Record<string, unknown>[] }; dependsOn: string[] };
  const edits: [string, (steps: Step[]) => Step[], RegExp][] = [
    ['a trust step moved to another role', (steps) => steps.map((s) => (s.kind === 'update-trust' ? { ...s, roleArn: `arn:aws:iam::${ACCOUNT}:role/node`, roleName: 'node' } : s)), /its id must be "trust:arn:aws:iam::111122223333:role\/node"/],
    ['a trust step renamed', (steps) => steps.map((s) => (s.kind === 'update-trust' ? { ...s, roleName: 'node' } : s)), /roleName "node" is not the name in roleArn \(shop\)/],
    ['an association moved to another namespace', (steps) => steps.map((s) => (s.kind === 'create-association' && s.serviceAccount === 'cart' ? { ...s, namespace: 'kube-system' } : s)), /its id must be "assoc:.*\/kube-system\/cart"/],
    ['an association step added', (steps) => [...steps, { ...steps.find((s) => s.kind === 'create-association')!, id: `assoc:arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod/shop/evil`, serviceAccount: 'evil' }], /neither adds nor already admits shop\/evil/],
    ['the Pod Identity condition dropped', (steps) => steps.map((s) => (s.kind === 'update-trust' ? { ...s, after: { ...s.after!, Statement: s.after!.Statement.map((st, i, all) => (i === all.length - 1 ? { ...st, Condition: undefined } : st)) } } : s)), /after is not podid's change of before/],
  ];
  it('refuses a plan whose cluster names a context the kubeconfig lacks before changing anything (exit 2, not 6 halfway)', async () => {
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(planned.stdout) as { clusters: { context: string | null }[] };
    plan.clusters[0]!.context = 'prod-ci';
    writeFileSync(planFile, JSON.stringify(plan));
    await clearSandboxCalls(sb);
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--journal-dir', dir], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^podid: the plan's cluster prod names kubeconfig context "prod-ci", which is not in the kubeconfig — use the kubeconfig the plan was made with .*nothing was changed\n$/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  it.each(edits)('refuses %s: exit 2, one line, nothing changed', async (_what, edit, message) => {
    const dir = journalDir();
    const planFile = join(dir, 'plan.json');
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    const plan = JSON.parse(planned.stdout) as { steps: Step[] };
    plan.steps = edit(plan.steps);
    writeFileSync(planFile, JSON.stringify(plan));
    await clearSandboxCalls(sb);
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--journal-dir', dir], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^podid: [^\n]* — pass a plan written by podid migrate --dry-run --out FILE, unedited\n$/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });
});

describe('a hand-edited plan that re-points an association at another role admitting the SA', () => {
  it('is refused at the association (the live annotation is not the plan\'s): drifted, exit 4, no association to that role', async () => {
    // Role twin admits shop/cart through IRSA and already through Pod Identity, so an edited plan
    // needs no trust step for it and passes the integrity checks: only the SA's live annotation
    // (role shop) says the association's role is not the SA's.
    const world = smallWorld({ withAddon: false }) as { iam: { roles: { name: string; assumeRolePolicyDocument: { Statement: object[] } }[] } };
    const twin = structuredClone(world.iam.roles.find((r) => r.name === 'shop')!);
    twin.name = 'twin';
    twin.assumeRolePolicyDocument.Statement.push({
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`, 'aws:RequestTag/kubernetes-namespace': 'shop', 'aws:RequestTag/kubernetes-service-account': 'cart' } },
    });
    world.iam.roles.push(twin);
    const sb = await sandboxServer(world);
    try {
      const dir = journalDir();
      const planFile = join(dir, 'plan.json');
      const planned = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
      const plan = JSON.parse(planned.stdout) as { steps: { kind: string; serviceAccount?: string; roleArn?: string; annotationRoleArn?: string; dependsOn: string[] }[] };
      const cart = plan.steps.find((s) => s.kind === 'create-association' && s.serviceAccount === 'cart')!;
      cart.roleArn = cart.annotationRoleArn = `arn:aws:iam::${ACCOUNT}:role/twin`;
      cart.dependsOn = [];
      writeFileSync(planFile, JSON.stringify(plan));
      const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(4);
      const step = result(r).steps.find((s) => s.kind === 'create-association' && s.target.startsWith('shop/cart '))!;
      expect(step.status).toBe('drifted');
      expect(step.message).toBe(`ServiceAccount shop/cart is annotated with arn:aws:iam::${ACCOUNT}:role/shop, not the plan's arn:aws:iam::${ACCOUNT}:role/twin; make a new plan and review it`);
      expect((await state(sb)).clusters[0]!.podIdentityAssociations.map((a) => `${a.serviceAccount} -> ${a.roleArn}`)).toEqual([`orders -> arn:aws:iam::${ACCOUNT}:role/shop`]);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});

describe('a full migration of the demo world (the binary)', () => {
  let sb: SandboxEndpoint;
  let dir: string;
  let first: ReturnType<typeof result>;

  beforeAll(async () => {
    let r: Awaited<ReturnType<typeof applyBinary>>;
    ({ sb, dir, r } = await demoWorld);
    first = result(r);
    expect(r.code, r.stderr).toBe(0);
  }, 300_000);

  it('ends with every eligible ServiceAccount migrated, and says why the bare Pod is not', () => {
    const outcomes = Object.fromEntries(first.serviceAccounts.map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]));
    expect(outcomes).toEqual({
      'analytics/reports': 'migrated',
      'kube-system/aws-node': 'migrated',
      'kube-system/efs-csi-controller-sa': 'migrated',
      'kube-system/efs-csi-node-sa': 'migrated',
      'logging/log-shipper': 'migrated',
      'payments/ledger': 'migrated',
      'platform/external-dns': 'migrated',
      'shop/cart': 'migrated',
      'shop/orders': 'migrated',
      'tools/debug-tools': 'needs-restart',
    });
    expect(first.serviceAccounts.find((s) => s.serviceAccount === 'debug-tools')?.reason).toContain('toolbox');
    expect(first.status).toBe('succeeded');
  });

  it('counts in words: "1 workload", "2 workloads", never "workload(s)"', () => {
    const restarts = first.steps.filter((s) => s.kind === 'restart');
    expect(restarts.length).toBeGreaterThan(0);
    for (const s of restarts) expect(s.target).toMatch(/^(1 workload|([02-9]|\d\d+) workloads) on /);
    expect(JSON.stringify(first)).not.toMatch(/[a-z]\(s\)/);
  });

  it('leaves the sandbox in the migrated state: trust, associations, and new pods on Pod Identity', async () => {
    const s = await state(sb);
    const prod = s.clusters.find((c) => c.name === 'prod')!;
    for (const sa of first.serviceAccounts) {
      expect(prod.podIdentityAssociations.some((a) => a.namespace === sa.namespace && a.serviceAccount === sa.serviceAccount), `${sa.namespace}/${sa.serviceAccount}`).toBe(true);
    }
    const cart = s.iam.roles.find((r) => r.name === 'cart')!;
    expect(cart.assumeRolePolicyDocument.Statement.some((st) => JSON.stringify(st['Principal']).includes('pods.eks.amazonaws.com'))).toBe(true);
    // The IRSA statement is still there (dual trust).
    expect(cart.assumeRolePolicyDocument.Statement.some((st) => JSON.stringify(st['Principal']).includes('oidc-provider'))).toBe(true);
    const restarted = first.serviceAccounts.flatMap((sa) => sa.workloads.filter((w) => w.status === 'restarted'));
    expect(restarted.map((w) => `${w.kind}/${w.namespace}/${w.name}`).sort()).toEqual([
      'DaemonSet/kube-system/efs-csi-node', 'DaemonSet/logging/log-shipper', 'Deployment/kube-system/efs-csi-controller',
      'Deployment/payments/ledger', 'Deployment/platform/external-dns', 'Deployment/shop/cart', 'StatefulSet/shop/orders-db-sync',
    ]);
    for (const ns of ['shop', 'payments', 'platform', 'logging']) {
      const pods = prod.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === ns);
      expect(pods.length).toBeGreaterThan(0);
      for (const p of pods) expect(podIdentity(p), `${ns}/${p.metadata.name}`).toBe('pod-identity');
    }
  });

  it('every new pod obtains exactly its role through Pod Identity (the sandbox credential probe)', async () => {
    const s = await state(sb);
    const prod = s.clusters.find((c) => c.name === 'prod')!;
    let probed = 0;
    for (const sa of first.serviceAccounts.filter((x) => x.outcome === 'migrated' && x.via !== 'addon')) {
      for (const pod of sa.pods.verified) {
        const r = await fetch(`${sb.endpoint}/_sandbox/credentials?cluster=prod&namespace=${sa.namespace}&pod=${pod}`);
        const probe = (await r.json()) as { ok: boolean; mechanism: string; effectiveRoleArn: string | null; message: string };
        expect(probe, `${sa.namespace}/${pod}: ${probe.message}`).toMatchObject({ ok: true, mechanism: 'pod-identity', effectiveRoleArn: sa.roleArn });
        probed++;
      }
    }
    // Every pod of every restarted workload was verified and probed.
    const restartedPods = prod.objects.filter((o) => o.kind === 'Pod' && first.serviceAccounts.some((sa) => sa.workloads.some((w) => w.status === 'restarted' && o.metadata.namespace === w.namespace && o.metadata.name.startsWith(`${w.name}-`))));
    expect(probed).toBe(restartedPods.length);
    expect(probed).toBeGreaterThan(10);
  });

  it('journals the exact previous state before the first mutation, then every step', () => {
    expect(first.journal).toMatch(/\.jsonl$/);
    expect(statSync(first.journal!).mode & 0o777).toBe(0o600);
    const records = readJournal(first.journal!);
    const run = records[0]!;
    expect(run.record === 'run' && (run.command ?? 'apply')).toBe('apply');
    // Narrowed for the compiler; the line above fails the test first for any other record.
    if (run.record !== 'run' || run.command === 'rollback' || run.command === 'finalize') throw new Error('not an apply run record');
    const cart = run.previous.roles.find((r) => r.roleArn.endsWith(':role/cart'))!;
    expect(JSON.stringify(cart.trustPolicy)).not.toContain('pods.eks.amazonaws.com');
    expect(run.previous.associations.every((a) => a.existing.length === 0)).toBe(true);
    expect(run.previous.addons.find((a) => a.addonName === 'vpc-cni')?.addon?.serviceAccountRoleArn).toContain('prod-vpc-cni');
    expect(run.previous.workloads.length).toBe(7);
    const created = records.filter((r) => r.record === 'step' && r.action === 'create-association' && r.status === 'done');
    expect(created).toHaveLength(9);
    expect(records.at(-1)).toMatchObject({ record: 'finished', status: 'succeeded', exitCode: 0 });
  });

  it('a second apply makes no mutating call', async () => {
    await clearSandboxCalls(sb);
    const r = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(result(r).status).toBe('no-changes');
    const calls = await sandboxCalls(sb);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });

  it('then the bare Pod left on IRSA is said as what is left: the dry run never claims everything uses Pod Identity, finalize says to recreate it', async () => {
    const planned = await podid(['migrate', '--dry-run', '-n', 'tools'], { env: sb.clientEnv });
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('  ? pod/toolbox in tools on prod (service account debug-tools)\n');
    expect(planned.stdout.endsWith('\nNo changes. Not everything selected uses EKS Pod Identity yet: 1 workload to restart or recreate yourself (see Manual above).\n')).toBe(true);
    expect(planned.stdout).not.toContain('already uses EKS Pod Identity');

    await clearSandboxCalls(sb);
    const finalized = await podid(['finalize', '--apply', '-n', 'tools', '--yes', '--journal-dir', dir], { env: sb.clientEnv });
    expect(finalized.code, finalized.stderr).toBe(4);
    expect(finalized.stdout).toContain('tools/debug-tools: refused, 1 running pod still uses IRSA credentials (toolbox): delete and recreate Pod toolbox (no controller restarts it), then finalize');
    expect(finalized.stdout).not.toContain('rollout restart');
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });
});
