/**
 * The sandbox's Kubernetes API driven by an unmodified @kubernetes/client-node 1.4 over HTTP,
 * through the kubeconfig the sandbox writes.
 */
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { ClusterState } from '../../src/sandbox/state.js';
import { ACCOUNT, AGENT_ADDON, FakeClock, cluster, deployment, serviceAccount, world } from './kube-world.js';

const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
const DELAY = 20_000;

function env(pod: V1Pod): Record<string, string> {
  return Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));
}

async function expectStatus(p: Promise<unknown>, code: number): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe('client-node against the sandbox', () => {
  let sandbox: Sandbox;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let batch: BatchV1Api;
  const clock = new FakeClock();

  beforeAll(async () => {
    sandbox = await startSandbox({
      clock,
      world: world(
        [
          cluster({
            addons: [AGENT_ADDON],
            objects: [
              serviceAccount('shop', 'cart', role('cart')),
              deployment('shop', 'cart', 'cart', 2),
              deployment('shop', 'web', 'web', 1),
              serviceAccount('shop', 'web'),
              { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: 'shop' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'm' }] } } } },
            ],
          }),
        ],
        { rolloutDelayMs: DELAY },
      ),
    });
    const kc = new KubeConfig();
    kc.loadFromString(sandbox.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    batch = kc.makeApiClient(BatchV1Api);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('lists across namespaces, by label, and in pages', async () => {
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop']);
    const all = await core.listPodForAllNamespaces();
    expect(all.items.filter((p) => p.metadata?.namespace === 'shop')).toHaveLength(4);
    expect(all.metadata?.resourceVersion).toMatch(/^\d+$/);
    const cart = await core.listPodForAllNamespaces({ labelSelector: 'app in (cart)' });
    expect(cart.items).toHaveLength(2);
    expect(cart.items[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespace({ limit: 2, _continue: token });
      seen.push(...page.items.map((n) => n.metadata?.name ?? ''));
      token = page.metadata?._continue;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(ns.items.map((n) => n.metadata?.name));
  });

  it('gets objects and reports missing ones as 404', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(d.spec?.replicas).toBe(2);
    expect(d.status?.readyReplicas).toBe(2);
    const jobs = await batch.listNamespacedJob({ namespace: 'shop' });
    expect(jobs.items.map((j) => j.metadata?.name)).toEqual(['migrate']);
    await expectStatus(core.readNamespacedServiceAccount({ name: 'nope', namespace: 'shop' }), 404);
    const v = sandbox.state.clusters[0]?.kube.allObjects();
    expect(v?.some((o) => o.kind === 'Node')).toBe(true);
  });

  it('patches with merge and strategic merge patch, and answers 409 to a stale resourceVersion', async () => {
    const before = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    const merged = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { metadata: { labels: { team: 'shop' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ team: 'shop' });
    const smp = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'example/web:2.0' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.template.spec?.containers).toEqual([expect.objectContaining({ name: 'app', image: 'example/web:2.0' })]);
    expect(smp.metadata?.generation).toBe(2);
    const json = await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] });
    expect(json.spec?.replicas).toBe(1);
    await expectStatus(
      apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'shop', body: { metadata: { resourceVersion: before.metadata?.resourceVersion, labels: { team: 'other' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      409,
    );
    await expectStatus(apps.replaceNamespacedDeployment({ name: 'web', namespace: 'shop', body: before }), 409);
  });

  it('sets credentials env when pods are created, never afterwards, and rolls out with the delay', async () => {
    const c = sandbox.state.clusters[0] as ClusterState;
    const old = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    expect(old.items.every((p) => env(p).AWS_ROLE_ARN === role('cart'))).toBe(true);

    c.associations.push(sandbox.state.newAssociation(c, { namespace: 'shop', serviceAccount: 'cart', roleArn: role('cart'), targetRoleArn: null, disableSessionTags: false }, new Date(clock.now())));
    const unchanged = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    expect(unchanged.items.map((p) => p.metadata?.uid)).toEqual(old.items.map((p) => p.metadata?.uid));
    expect(unchanged.items.every((p) => env(p).AWS_ROLE_ARN === role('cart') && !env(p).AWS_CONTAINER_CREDENTIALS_FULL_URI)).toBe(true);

    const restarted = await apps.patchNamespacedDeployment(
      { name: 'cart', namespace: 'shop', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date(clock.now()).toISOString() } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const gen = restarted.metadata?.generation;
    // The controller observes the change at once; the rollout then surges one pod at a time.
    const mid = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(mid.status).toMatchObject({ observedGeneration: gen, replicas: 3, updatedReplicas: 1, readyReplicas: 2 });
    clock.advance(DELAY);
    expect((await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' })).status).toMatchObject({ updatedReplicas: 2, readyReplicas: 2 });
    clock.advance(DELAY);
    const done = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(done.status).toMatchObject({ observedGeneration: gen, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const listed = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=cart' });
    const fresh = { items: listed.items.filter((p) => !p.metadata?.deletionTimestamp) };
    expect(fresh.items).toHaveLength(2);
    expect(fresh.items.some((p) => old.items.some((o) => o.metadata?.uid === p.metadata?.uid))).toBe(false);
    for (const p of fresh.items) {
      expect(env(p)).toMatchObject({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
      });
      expect(env(p).AWS_ROLE_ARN).toBeUndefined();
    }
  });

  it('shows the agent DaemonSet the add-on installs', async () => {
    const ds = await apps.readNamespacedDaemonSet({ name: 'eks-pod-identity-agent', namespace: 'kube-system' });
    expect(ds.spec?.template.spec?.hostNetwork).toBe(true);
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3 });
    const list = await apps.listDaemonSetForAllNamespaces({ labelSelector: 'app.kubernetes.io/name=eks-pod-identity-agent' });
    expect(list.items).toHaveLength(1);
  });
});

describe('faults and the call log', () => {
  it('logs Kubernetes calls as verb:resource and lets injected throttling through to the client', async () => {
    const sandbox = await startSandbox({
      clock: new FakeClock(),
      world: world([cluster({ objects: [serviceAccount('shop', 'web'), deployment('shop', 'web', 'web', 1)] })], {
        faults: [{ target: 'k8s:patch:deployments', error: 'throttle', after: 0, times: 1 }],
      }),
    });
    try {
      const kc = new KubeConfig();
      kc.loadFromString(sandbox.kubeconfig());
      const apps = kc.makeApiClient(AppsV1Api);
      const patch = () =>
        apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { metadata: { labels: { a: 'b' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await expectStatus(patch(), 429);
      expect((await patch()).metadata?.labels).toEqual({ a: 'b' });
      await apps.listDeploymentForAllNamespaces();
      const calls = (await (await fetch(`${sandbox.endpoint}/_sandbox/calls`)).json()) as { service: string; operation: string; mutating: boolean; status: number }[];
      expect(calls).toEqual([
        { service: 'k8s:prod', operation: 'patch:deployments', mutating: true, status: 429 },
        { service: 'k8s:prod', operation: 'patch:deployments', mutating: true, status: 200 },
        { service: 'k8s:prod', operation: 'list:deployments', mutating: false, status: 200 },
      ]);
      const stateDoc = (await (await fetch(`${sandbox.endpoint}/_sandbox/state`)).json()) as { clusters: { objects: { kind: string; metadata: { name: string } }[] }[] };
      const objects = stateDoc.clusters[0]?.objects ?? [];
      expect(objects.filter((o) => o.kind === 'Pod')).toHaveLength(1);
      expect(objects.find((o) => o.kind === 'Deployment')?.metadata.name).toBe('web');
    } finally {
      await sandbox.close();
    }
  });
});
