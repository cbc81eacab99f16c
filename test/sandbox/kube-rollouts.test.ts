/**
 * Rollouts, watches and faults as an unmodified @kubernetes/client-node 1.4 sees them over HTTP:
 * a Deployment rolled step by step within maxSurge/maxUnavailable (watched by an informer), a
 * StatefulSet partition, a stuck rollout reaching ProgressDeadlineExceeded, `rollout undo` by
 * revision, watch bookmarks/timeouts/410, 401, continue-token binding, and a post-commit fault.
 */
import {
  AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, makeInformer, setHeaderOptions,
  type V1Deployment, type V1Pod,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import type { JsonObject, World } from '../../src/sandbox/world-types.js';
import { FakeClock, cluster, serviceAccount, world } from './kube-world.js';

const DELAY = 10_000;
const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function start(w: World, clock = new FakeClock()): Promise<{ sandbox: Sandbox; kc: KubeConfig; core: CoreV1Api; apps: AppsV1Api; clock: FakeClock }> {
  const sandbox = await startSandbox({ world: w, clock });
  sandboxes.push(sandbox);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return { sandbox, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), clock };
}

function app(name: string, replicas: number, spec: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: `example/${name}:1` }] } },
      ...spec,
    },
  };
}

const restart = (at: string) => ({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });
const smp = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const counts = (d: V1Deployment) => ({
  gen: d.status?.observedGeneration, replicas: d.status?.replicas ?? 0, updated: d.status?.updatedReplicas ?? 0,
  ready: d.status?.readyReplicas ?? 0, available: d.status?.availableReplicas ?? 0,
});
const until = async (what: string, test: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a Deployment rollout, step by step', () => {
  it('surges and drains within maxSurge/maxUnavailable, as an informer watching the pods sees it', async () => {
    const { kc, core, apps, clock } = await start(world([cluster({
      objects: [serviceAccount('shop', 'app'), app('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } })],
    })], { rolloutDelayMs: DELAY }));
    const informer = makeInformer(kc, '/api/v1/namespaces/shop/pods', () => core.listNamespacedPod({ namespace: 'shop' }));
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (p: V1Pod) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p: V1Pod) => seen.push(`update ${p.metadata?.name}`));
    informer.on('delete', (p: V1Pod) => seen.push(`delete ${p.metadata?.name}`));
    informer.on('error', (e: unknown) => errors.push(e));
    await informer.start();
    try {
      await until('the initial list', () => informer.list('shop').length === 4);
      const old = new Set(informer.list('shop').map((p) => p.metadata?.uid));
      const patched = await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: restart('t1') }, smp);
      expect(patched.metadata?.generation).toBe(2);

      // maxSurge 1: 5 pods at most; maxUnavailable 1: at least 3 ready. One old pod goes, two new start.
      let d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
      expect(counts(d)).toEqual({ gen: 2, replicas: 5, updated: 2, ready: 3, available: 3 });
      expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
      expect(d.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
        ['Available', 'True', 'MinimumReplicasAvailable'],
        ['Progressing', 'True', 'ReplicaSetUpdated'],
      ]);
      const live = () => informer.list('shop').filter((p) => !p.metadata?.deletionTimestamp);
      await until('the informer to see the surge', () => live().length === 5 && informer.list('shop').length === 6);
      const terminating = informer.list('shop').filter((p) => p.metadata?.deletionTimestamp);
      expect(terminating).toHaveLength(1);
      expect(old.has(terminating[0]?.metadata?.uid)).toBe(true);
      expect(live().filter((p) => !old.has(p.metadata?.uid)).every((p) => p.status?.phase === 'Pending')).toBe(true);

      // The new pods become ready: the next step drains two more old pods and starts the last two new ones.
      clock.advance(DELAY);
      await until('two new pods ready', () => live().filter((p) => !old.has(p.metadata?.uid) && p.status?.phase === 'Running').length === 2);
      d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
      expect(counts(d)).toEqual({ gen: 2, replicas: 5, updated: 4, ready: 3, available: 3 });
      clock.advance(DELAY);
      await until('all new pods ready', () => live().every((p) => !old.has(p.metadata?.uid) && p.status?.phase === 'Running') && live().length === 4);
      d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
      expect(counts(d)).toEqual({ gen: 2, replicas: 4, updated: 4, ready: 4, available: 4 });
      expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });

      // Old pods leave after their 30 s grace period: the informer sees them deleted.
      clock.advance(30_000);
      await until('old pods gone', () => informer.list('shop').length === 4);
      expect(seen.filter((e) => e.startsWith('delete'))).toHaveLength(4);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('rolls back with the revision annotations, as kubectl rollout undo does', async () => {
    const { apps } = await start(world([cluster({ objects: [serviceAccount('shop', 'app'), app('web', 2)] })]));
    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'example/web:2' }] } } } } }, smp);
    const rses = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' });
    const rev1 = rses.items.find((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1');
    expect(rev1?.spec?.template?.spec?.containers[0]?.image).toBe('example/web:1');
    // kubectl rollout undo: the template of revision 1, without pod-template-hash, as a JSON patch.
    const template = structuredClone(rev1?.spec?.template) as JsonObject;
    delete ((template.metadata as JsonObject).labels as JsonObject)['pod-template-hash'];
    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: [{ op: 'replace', path: '/spec/template', value: template }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const after = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' });
    const reused = after.items.find((r) => r.metadata?.uid === rev1?.metadata?.uid);
    expect(reused?.metadata?.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(reused?.spec?.replicas).toBe(2);
    expect(after.items).toHaveLength(2);
  });

  it('a stuck rollout never gets ready and reports ProgressDeadlineExceeded after progressDeadlineSeconds', async () => {
    const { core, apps, clock, sandbox } = await start(world([cluster({
      objects: [serviceAccount('shop', 'app'), app('web', 2, { progressDeadlineSeconds: 60 })],
      stuckWorkloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web', reason: 'CrashLoopBackOff' }],
    })], { rolloutDelayMs: DELAY }));
    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: restart('t1') }, smp);
    clock.advance(59_000);
    let d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    const stuck = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items.filter((p) => p.metadata?.labels?.['pod-template-hash'] !== undefined && !p.metadata?.deletionTimestamp && p.status?.containerStatuses?.[0]?.ready === false);
    expect(stuck).toHaveLength(1);
    expect(stuck[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    clock.advance(1_000);
    d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False', reason: 'ProgressDeadlineExceeded', message: expect.stringMatching(/^ReplicaSet "web-\w+" has timed out progressing\.$/),
    });
    // The old pods keep serving: the Deployment stays available.
    expect(counts(d)).toMatchObject({ gen: 2, updated: 1, ready: 2, available: 2 });
    // The option survives a state dump, so the dump reloads as the same world.
    const state = (await (await fetch(`${sandbox.endpoint}/_sandbox/state`)).json()) as { clusters: JsonObject[] };
    expect(state.clusters[0]?.stuckWorkloads).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'web', reason: 'CrashLoopBackOff' }]);
  });

  it('pods for a missing ServiceAccount are refused: the ReplicaSet reports FailedCreate and the rollout times out', async () => {
    const { apps, clock } = await start(world([cluster({ objects: [serviceAccount('shop', 'app'), app('web', 1, { progressDeadlineSeconds: 30 })] })]));
    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { spec: { template: { spec: { serviceAccountName: 'ghost' } } } } }, smp);
    clock.advance(30_000);
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'False', 'ProgressDeadlineExceeded'],
      ['ReplicaFailure', 'True', 'FailedCreate'],
    ]);
    expect(d.status?.conditions?.[2]?.message).toMatch(/^pods "web-\w+-\w+" is forbidden: error looking up service account shop\/ghost: serviceaccount "ghost" not found$/);
  });
});

describe('a StatefulSet rollout', () => {
  it('updates ordinals from the highest down to the partition, one at a time', async () => {
    const { core, apps, clock } = await start(world([cluster({
      objects: [serviceAccount('shop', 'app'), {
        apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop' },
        spec: {
          replicas: 4, serviceName: 'db', selector: { matchLabels: { app: 'db' } },
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
          template: { metadata: { labels: { app: 'db' } }, spec: { serviceAccountName: 'app', containers: [{ name: 'db', image: 'pg:15' }] } },
        },
      }],
    })], { rolloutDelayMs: DELAY }));
    const rev = async () => Object.fromEntries((await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=db' })).items
      .map((p) => [p.metadata?.name, `${p.metadata?.labels?.['controller-revision-hash']}${p.metadata?.deletionTimestamp ? ' terminating' : ''}`]));
    const before = await rev();
    await apps.patchNamespacedStatefulSet({ name: 'db', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'db', image: 'pg:16' }] } } } } }, smp);
    const s = await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'shop' });
    const [from, to] = [s.status?.currentRevision, s.status?.updateRevision];
    expect(from).not.toBe(to);
    expect(await rev()).toEqual({ ...before, 'db-3': `${String(from)} terminating` });
    clock.advance(30_000);
    await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'shop' });
    clock.advance(DELAY);
    expect((await rev())['db-3']).toBe(String(to));
    expect((await rev())['db-2']).toBe(`${String(from)} terminating`);
    clock.advance(30_000);
    await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'shop' });
    clock.advance(DELAY);
    const done = await apps.readNamespacedStatefulSet({ name: 'db', namespace: 'shop' });
    // Ordinals below the partition keep the old revision; the rollout stops there.
    expect(await rev()).toEqual({ 'db-0': String(from), 'db-1': String(from), 'db-2': String(to), 'db-3': String(to) });
    expect(done.status).toMatchObject({ observedGeneration: 2, replicas: 4, readyReplicas: 4, updatedReplicas: 2, currentReplicas: 2, currentRevision: from, updateRevision: to });
  });
});

describe('watch streams', () => {
  it('sends bookmarks when asked, ends at timeoutSeconds, and answers a too-old resourceVersion with 410 Expired', async () => {
    const { kc, core } = await start(world([cluster({ objects: [serviceAccount('shop', 'app'), app('web', 1)] })]));
    const list = await core.listNamespacedPod({ namespace: 'shop' });
    const events: { type: string; rv?: string }[] = [];
    const ended = await new Promise<unknown>((resolve) => {
      void new Watch(kc).watch('/api/v1/namespaces/shop/pods', { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 1 },
        (type, obj: V1Pod) => events.push({ type, rv: obj.metadata?.resourceVersion }), resolve);
    });
    expect(ended).toBeNull();
    expect(events).toEqual([{ type: 'BOOKMARK', rv: list.metadata?.resourceVersion }]);

    const expired: { type: string; code?: number }[] = [];
    await new Promise<unknown>((resolve) => {
      void new Watch(kc).watch('/api/v1/namespaces/shop/pods', { resourceVersion: '1' }, (type, obj: { code?: number }) => expired.push({ type, code: obj.code }), resolve);
    });
    expect(expired).toEqual([{ type: 'ERROR', code: 410 }]);
  });
});

describe('authentication and paging', () => {
  it('answers a request without a bearer token with 401, and binds continue tokens to their list', async () => {
    const { sandbox, core } = await start(world([cluster({ objects: [serviceAccount('shop', 'app'), app('web', 3), app('api', 3)] })]));
    const server = `${sandbox.endpoint}${sandbox.state.clusters[0]?.kubePath}`;
    const anon = await fetch(`${server}/api/v1/pods`);
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    expect((await fetch(`${server}/readyz`)).status).toBe(200);
    // kubectl (client-go) never sends kubeconfig credentials over plain HTTP: it is let in.
    expect((await fetch(`${server}/api/v1/pods`, { headers: { 'user-agent': 'kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07' } })).status).toBe(200);

    const page = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web', limit: 2 });
    expect(page.items).toHaveLength(2);
    const token = page.metadata?._continue;
    expect(token).toBeDefined();
    const rest = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web', limit: 2, _continue: token });
    expect(rest.items).toHaveLength(1);
    // The same token on another selector or path is refused.
    await expect(core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api', limit: 2, _continue: token })).rejects.toMatchObject({ code: 400 });
    await expect(core.listNamespacedServiceAccount({ namespace: 'shop', limit: 2, _continue: token })).rejects.toMatchObject({ code: 400 });
  });
});

describe('post-commit faults', () => {
  it('applies the change and drops the answer; a retry converges', async () => {
    const w = world([cluster({ objects: [serviceAccount('shop', 'app'), app('web', 1)] })], {
      faults: [{ target: 'k8s:patch:deployments', error: 'reset', after: 0, times: 1, when: 'after-commit', cluster: 'prod', namespace: 'shop' }],
    });
    const { sandbox, apps } = await start(w);
    const patch = () => apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { metadata: { labels: { migrated: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await expect(patch()).rejects.toThrow();
    // The change was made although the client never heard.
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(d.metadata?.labels).toEqual({ migrated: 'yes' });
    // The retry (idempotent) converges on the same object.
    const again = await patch();
    expect(again.metadata?.labels).toEqual({ migrated: 'yes' });
    expect(again.metadata?.resourceVersion).toBe(d.metadata?.resourceVersion);
    const calls = (await (await fetch(`${sandbox.endpoint}/_sandbox/calls`)).json()) as { operation: string; status: number }[];
    expect(calls.filter((c) => c.operation === 'patch:deployments').map((c) => c.status)).toEqual([0, 200]);
  });

  it('scopes faults to a cluster and a namespace', async () => {
    const w = world([
      cluster({ name: 'prod', objects: [serviceAccount('shop', 'app'), app('web', 1), serviceAccount('other', 'app'), { ...app('web', 1), metadata: { name: 'web', namespace: 'other' } }] }),
    ], { faults: [{ target: 'k8s:*:deployments', error: 'server-error', after: 0, times: 5, when: 'after-commit', namespace: 'shop' }] });
    const { apps } = await start(w);
    await expect(apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).rejects.toMatchObject({ code: 500 });
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: 'other' })).metadata?.name).toBe('web');
  });
});

describe('the controllers under a clock that moves while they run', () => {
  // A loaded machine: the system clock moves between two readings within one request (here 1 ms
  // a reading). The controllers' passes and the check of their work list
  // (PODID_SANDBOX_CHECK_CONTROLLERS, on in these tests) see one instant per request; a check
  // reading the clock later than the passes it checks found pods falling ready in between and
  // failed every later request (500): the demo test failed so under load.
  class CreepingClock extends FakeClock {
    override now(): number {
      return (this.t += 1);
    }
  }

  it('rolls a Deployment to the end with every request answered', async () => {
    const { apps } = await start(world([cluster({
      objects: [serviceAccount('shop', 'app'), app('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } })],
    })], { rolloutDelayMs: 50 }), new CreepingClock());
    await apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: restart('t1') }, smp);
    let d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    for (let reads = 0; counts(d).available < 4 || counts(d).updated < 4 || counts(d).replicas !== 4; reads++) {
      expect(reads).toBeLessThan(200);
      d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    }
    expect(counts(d)).toEqual({ gen: 2, replicas: 4, updated: 4, ready: 4, available: 4 });
  });
});
