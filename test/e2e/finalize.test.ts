/**
 * `podid finalize` end to end against the sandbox over HTTP, the built CLI in-process
 * (helpers/podid.ts; the binary's finalize on a terminal is in finalize-oidc-provider.test.ts). Only this cluster's
 * OIDC grant of the finalized ServiceAccounts leaves a role's trust; other clusters' statements
 * and other ServiceAccounts' `sub` values stay; pods still on IRSA are refused; GitOps owners are
 * named; a second finalize changes nothing; rollback puts it all back.
 */
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearSandboxCalls, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, state } from './apply-helpers.js';

const ACCOUNT = '111122223333';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const PROD_HOST = 'oidc.eks.us-east-1.amazonaws.com/id/FINALIZEPROD00000000000000000001';
const STAGING_HOST = 'oidc.eks.us-east-1.amazonaws.com/id/FINALIZESTAGING000000000000000002';
const provider = (host: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;

const podIdentityStatement = {
  Sid: 'PodIdentity',
  Effect: 'Allow',
  Principal: { Service: 'pods.eks.amazonaws.com' },
  Action: ['sts:AssumeRole', 'sts:TagSession'],
  Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/eks-cluster-arn': PROD } },
};
const oidc = (host: string, subs: string[]) => ({
  Effect: 'Allow',
  Principal: { Federated: provider(host) },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com', [`${host}:sub`]: subs.map((s) => `system:serviceaccount:${s}`) } },
});
const dual = (subs: string[]) => ({ Version: '2012-10-17', Statement: [oidc(PROD_HOST, subs), podIdentityStatement] });

const sa = (ns: string, name: string, role: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => ({
  apiVersion: 'v1', kind: 'ServiceAccount',
  metadata: { name, namespace: ns, labels: meta.labels ?? {}, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/${role}`, ...meta.annotations } },
});
const deploy = (ns: string, name: string, saName: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: saName, containers: [{ name: 'app', image: `example/${name}:1` }] } } },
});
const assoc = (namespace: string, serviceAccount: string, role: string) => ({ namespace, serviceAccount, roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}` });

const cluster = (name: string, host: string, objects: object[], associations: object[]) => ({
  name, version: '1.30', platformVersion: 'eks.9', oidcIssuer: `https://${host}`,
  addons: [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }],
  nodegroups: [{ name: 'ng', nodeRole: `arn:aws:iam::${ACCOUNT}:role/node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 1 }],
  podIdentityAssociations: associations,
  objects,
});

/**
 * prod: shop/cart (role `shared`, on Pod Identity), shop/orders (role `shared`, still IRSA: no
 * association), tools/debug (role `debug`: associated after its pod started, so the pod is on
 * IRSA), platform/ext-dns (Helm) and platform/api (Argo CD), both on Pod Identity.
 * Role `shared` is also trusted by staging's provider for shop/cart.
 */
function world(): object {
  return {
    account: ACCOUNT, region: 'us-east-1', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters: [
      cluster('prod', PROD_HOST, [
        sa('shop', 'cart', 'shared'), deploy('shop', 'cart', 'cart'),
        sa('shop', 'orders', 'shared'), deploy('shop', 'orders', 'orders'),
        sa('tools', 'debug', 'debug'), deploy('tools', 'debug', 'debug'),
        sa('platform', 'ext-dns', 'ext-dns', { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'external-dns' } }), deploy('platform', 'ext-dns', 'ext-dns'),
        sa('platform', 'api', 'api', { labels: { 'argocd.argoproj.io/instance': 'platform-api' } }), deploy('platform', 'api', 'api'),
      ], [assoc('shop', 'cart', 'shared'), assoc('platform', 'ext-dns', 'ext-dns'), assoc('platform', 'api', 'api')]),
      cluster('staging', STAGING_HOST, [], []),
    ],
    iam: {
      roles: [
        { name: 'shared', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [oidc(PROD_HOST, ['shop:cart', 'shop:orders']), oidc(STAGING_HOST, ['shop:cart']), podIdentityStatement] } },
        { name: 'debug', assumeRolePolicyDocument: dual(['tools:debug']) },
        { name: 'ext-dns', assumeRolePolicyDocument: dual(['platform:ext-dns']) },
        { name: 'api', assumeRolePolicyDocument: dual(['platform:api']) },
        { name: 'node', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] }, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'] },
      ],
      openIdConnectProviders: [{ url: `https://${PROD_HOST}`, clientIds: ['sts.amazonaws.com'] }, { url: `https://${STAGING_HOST}`, clientIds: ['sts.amazonaws.com'] }],
    },
  };
}

const trustOf = async (sb: SandboxEndpoint, role: string) => (await state(sb)).iam.roles.find((r) => r.name === role)!.assumeRolePolicyDocument;
const annotationsOf = async (sb: SandboxEndpoint, ns: string, name: string) =>
  (await state(sb)).clusters.find((c) => c.name === 'prod')!.objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === ns && o.metadata.name === name)!.metadata.annotations ?? {};

/** `podid finalize --context prod ...`, in-process. */
function finalize(sb: SandboxEndpoint, dir: string, args: string[]) {
  return podid(['finalize', '--context', PROD, '--journal-dir', dir, ...args], { env: sb.clientEnv, timeoutMs: 60_000 });
}

describe('podid finalize', () => {
  let sb: SandboxEndpoint;
  const dir = journalDir();
  let before: Record<string, unknown>;

  beforeAll(async () => {
    sb = await sandboxServer(world());
    // debug's association comes after its pod: the pod keeps IRSA until it is restarted.
    const eks = new EKSClient({ region: 'us-east-1', endpoint: sb.endpoint, credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'tools', serviceAccount: 'debug', roleArn: `arn:aws:iam::${ACCOUNT}:role/debug` }));
    before = { shared: await trustOf(sb, 'shared'), debug: await trustOf(sb, 'debug'), cart: await annotationsOf(sb, 'shop', 'cart'), api: await annotationsOf(sb, 'platform', 'api') };
  }, 30_000);
  afterAll(async () => {
    await sb?.stop();
  });

  it('--dry-run shows the review, refuses what is not on Pod Identity, names the owners, and changes nothing; --apply without a terminal or --yes exits 2', async () => {
    await clearSandboxCalls(sb);
    const r = await finalize(sb, dir, ['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/- prod shop\/cart: remove eks.amazonaws.com\/role-arn/);
    expect(r.stdout).toMatch(/! prod shop\/orders: refused, it has no pod identity association/);
    expect(r.stdout).toMatch(/! prod tools\/debug: refused, 1 running pod still uses IRSA credentials \(debug-/);
    expect(r.stdout).toMatch(/prod platform\/ext-dns: remove[^\n]*\n\s+warning: managed by Helm \(release external-dns\): eks.amazonaws.com\/role-arn comes back/);
    expect(r.stdout).toMatch(/prod platform\/api: remove[^\n]*\n\s+warning: managed by Argo CD \(application platform-api\)/);
    expect(r.stdout).toMatch(/-\s+"system:serviceaccount:shop:cart"/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    const noTty = await finalize(sb, dir, ['--apply']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/no terminal to confirm on — review it \(podid finalize --dry-run\), then pass --yes/);
  });

  it('removes only this cluster\'s grant of the finalized SAs: the other cluster\'s statement and other SAs\' sub values stay; refuses the SA on IRSA (exit 4)', async () => {
    const r = await finalize(sb, dir, ['--apply', '--yes', '-o', 'json']);
    expect(r.code, r.stderr).toBe(4);
    const res = JSON.parse(r.stdout) as { serviceAccounts: { namespace: string; serviceAccount: string; outcome: string; warnings: string[] }[] };
    expect(Object.fromEntries(res.serviceAccounts.map((s) => [`${s.namespace}/${s.serviceAccount}`, s.outcome]))).toEqual({
      'shop/cart': 'finalized', 'shop/orders': 'refused', 'tools/debug': 'refused', 'platform/ext-dns': 'finalized', 'platform/api': 'finalized',
    });
    expect(res.serviceAccounts.find((s) => s.serviceAccount === 'ext-dns')!.warnings.join()).toContain('Helm (release external-dns)');
    const shared = await trustOf(sb, 'shared');
    expect(shared).toEqual({ Version: '2012-10-17', Statement: [oidc(PROD_HOST, ['shop:orders']), oidc(STAGING_HOST, ['shop:cart']), podIdentityStatement] });
    // A statement left without subjects is dropped; the Pod Identity one stays.
    expect(await trustOf(sb, 'api')).toEqual({ Version: '2012-10-17', Statement: [podIdentityStatement] });
    expect(await trustOf(sb, 'debug')).toEqual(before['debug']);
    expect(await annotationsOf(sb, 'shop', 'cart')).toEqual({});
    expect((await annotationsOf(sb, 'tools', 'debug'))['eks.amazonaws.com/role-arn']).toBe(`arn:aws:iam::${ACCOUNT}:role/debug`);
    // The pods still obtain their roles, through Pod Identity.
    const pods = (await state(sb)).clusters.find((c) => c.name === 'prod')!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop' && o.metadata.name.startsWith('cart-'));
    for (const p of pods) {
      const probe = (await (await fetch(`${sb.endpoint}/_sandbox/credentials?cluster=prod&namespace=shop&pod=${p.metadata.name}`)).json()) as { ok: boolean; mechanism: string };
      expect(probe).toMatchObject({ ok: true, mechanism: 'pod-identity' });
    }
  });

  it('a second finalize changes nothing', async () => {
    await clearSandboxCalls(sb);
    const r = await finalize(sb, dir, ['--apply', '--yes']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toContain('refused, it has no pod identity association');
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  it('a selection: a finalized ServiceAccount has nothing left to finalize (exit 0); a namespace or ServiceAccount that does not exist is a usage error (exit 2), nothing changed', async () => {
    await clearSandboxCalls(sb);
    const done = await podid(['finalize', '--context', PROD, '--dry-run', '--service-account', 'shop/cart'], { env: sb.clientEnv });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^Nothing to finalize: no ServiceAccount in scope carries an IRSA annotation\./);
    const typoNs = await podid(['finalize', '--context', PROD, '--dry-run', '-n', 'shpo'], { env: sb.clientEnv });
    expect(typoNs.code).toBe(2);
    expect(typoNs.stderr).toBe('podid: -n shpo: no namespace shpo (not even its default ServiceAccount) in cluster prod — check the namespace; kubectl get serviceaccounts -A lists them\n');
    const typoSa = await podid(['finalize', '--context', PROD, '--apply', '--yes', '--journal-dir', dir, '--service-account', 'shop/crat'], { env: sb.clientEnv });
    expect(typoSa.code).toBe(2);
    expect(typoSa.stderr).toBe('podid: --service-account shop/crat: no ServiceAccount shop/crat in cluster prod — check the name; kubectl get serviceaccounts -A lists them\n');
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  it('is reversible: rollback restores the trust policies and annotations exactly', async () => {
    const runs = JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { runId: string; command: string; outcomes: Record<string, number> }[] };
    const run = runs.runs.find((x) => x.command === 'finalize' && (x.outcomes['finalized'] ?? 0) > 0)!;
    expect(run.outcomes).toEqual({ finalized: 3, refused: 2 });
    const r = await podid(['rollback', run.runId, '--apply', '--yes', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The summary counts what came back: each finalized ServiceAccount, verified (it said 0 before).
    expect(r.stdout).toContain('Back as before: 3 trust policies restored, IRSA annotations of 3 ServiceAccounts restored.');
    expect(r.stdout).toContain('Result: 3 restored, 0 need a restart, 0 drifted, 0 failed, 0 skipped');
    expect(r.stdout).toMatch(/restored\s+prod\s+platform\/api\n\s+verified: eks.amazonaws.com\/role-arn is back, the trust policy of arn:aws:iam::111122223333:role\/api admits/);
    expect(await trustOf(sb, 'shared')).toEqual(before['shared']);
    expect(await annotationsOf(sb, 'shop', 'cart')).toEqual(before['cart']);
    expect(await annotationsOf(sb, 'platform', 'api')).toEqual(before['api']);
    const after = JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { rollbackOf: string | null; outcomes: Record<string, number> }[] };
    expect(after.runs.find((x) => x.rollbackOf === run.runId)!.outcomes).toEqual({ restored: 3 });
  });
});
