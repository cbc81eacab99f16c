import { describe, expect, it } from 'vitest';
import { isStream } from '../../src/sandbox/kube/index.js';
import type { JsonObject } from '../../src/sandbox/world-types.js';
import { ACCOUNT, cluster, deployment, harness, items, serviceAccount, world, type Harness } from './kube-world.js';

const CART_ROLE = `arn:aws:iam::${ACCOUNT}:role/cart`;

function shopWorld(extra: Partial<Parameters<typeof cluster>[0]> = {}) {
  return world([
    cluster({
      objects: [
        deployment('shop', 'cart', 'cart', 2),
        serviceAccount('shop', 'cart', CART_ROLE),
        deployment('shop', 'web', 'web', 1),
        serviceAccount('shop', 'web'),
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'tools', labels: { app: 'debug', tier: 'ops' } }, spec: { containers: [{ name: 'sh', image: 'busybox' }] } },
      ],
      ...extra,
    }),
  ]);
}

function names(list: JsonObject[]): string[] {
  return list.map((o) => String((o.metadata as JsonObject).name));
}

function meta(o: JsonObject): JsonObject {
  return o.metadata as JsonObject;
}

describe('discovery and version', () => {
  const h = harness(shopWorld());

  it('reports an EKS version built from the cluster version', () => {
    const r = h.call('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ major: '1', minor: '29+', platform: 'linux/amd64' });
    expect(r.body.gitVersion).toMatch(/^v1\.29\.\d+-eks-[0-9a-f]{7}$/);
  });

  it('serves the core and group discovery documents', () => {
    expect(h.call('GET', '/api').body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = h.call('GET', '/apis').body.groups as JsonObject[];
    expect(groups.map((g) => g.name)).toEqual(['apps', 'batch']);
    const core = h.call('GET', '/api/v1').body;
    expect((core.resources as JsonObject[]).map((r) => r.name)).toEqual(['namespaces', 'nodes', 'serviceaccounts', 'pods']);
    const apps = h.call('GET', '/apis/apps/v1').body;
    expect(apps.groupVersion).toBe('apps/v1');
    expect((apps.resources as JsonObject[]).find((r) => r.name === 'deployments')).toMatchObject({ kind: 'Deployment', namespaced: true });
    expect((h.call('GET', '/apis/batch/v1').body.resources as JsonObject[]).map((r) => r.name)).toEqual(['jobs', 'cronjobs']);
  });

  it('answers unknown paths and resources with a 404 Status', () => {
    for (const path of ['/api/v1/configmaps', '/apis/networking.k8s.io/v1/ingresses', '/healthz/nope', '/api/v1/namespaces/shop/pods/x/log']) {
      const r = h.call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
    }
  });

  it('routes without changing state and names verb and resource', () => {
    const before = h.call('GET', '/api/v1/namespaces').body.metadata as JsonObject;
    const cases: [string, string, string, string, boolean][] = [
      ['GET', '/api/v1/pods', 'list', 'pods', false],
      ['GET', '/api/v1/namespaces/shop/pods/x', 'get', 'pods', false],
      ['PATCH', '/apis/apps/v1/namespaces/shop/deployments/cart', 'patch', 'deployments', true],
      ['PUT', '/apis/apps/v1/namespaces/shop/deployments/cart', 'update', 'deployments', true],
      ['POST', '/apis/batch/v1/namespaces/shop/jobs', 'create', 'jobs', true],
      ['DELETE', '/api/v1/namespaces/shop/pods/x', 'delete', 'pods', true],
      ['GET', '/version', 'get', 'version', false],
      ['GET', '/apis', 'get', 'discovery', false],
    ];
    for (const [method, path, verb, resource, mutating] of cases) {
      const r = h.kube.route({ method, path, query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
      expect({ verb: r.verb, resource: r.resource, mutating: r.mutating }).toEqual({ verb, resource, mutating });
    }
    const w = h.kube.route({ method: 'GET', path: '/api/v1/pods', query: new URLSearchParams('watch=true'), headers: {}, body: Buffer.alloc(0) });
    expect(w.verb).toBe('watch');
    expect((h.call('GET', '/api/v1/namespaces').body.metadata as JsonObject).resourceVersion).toBe(before.resourceVersion);
  });

  it('renders injected faults as Status objects', () => {
    const r = h.kube.renderError(429, 'TooManyRequests', 'slow down');
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('1');
    expect(JSON.parse(String(r.body))).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down', code: 429 });
  });
});

describe('lists', () => {
  const h = harness(shopWorld());

  it('lists across namespaces with list kind, resourceVersion and items without kind', () => {
    const r = h.call('GET', '/api/v1/pods');
    expect(r.body).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect((r.body.metadata as JsonObject).resourceVersion).toMatch(/^\d+$/);
    const pods = items(r.body);
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => p.kind === undefined && p.apiVersion === undefined)).toBe(true);
    expect(new Set(pods.map((p) => meta(p).namespace))).toEqual(new Set(['shop', 'tools']));
    const nss = names(items(h.call('GET', '/api/v1/namespaces').body));
    expect(nss).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop', 'tools']);
    // Every namespace gets its default ServiceAccount, as the ServiceAccount controller makes.
    expect(names(items(h.call('GET', '/api/v1/namespaces/tools/serviceaccounts').body))).toEqual(['default']);
    expect(items(h.call('GET', '/apis/apps/v1/namespaces/tools/deployments').body)).toEqual([]);
  });

  it('filters by label selector', () => {
    const sel = (s: string) => names(items(h.call('GET', '/api/v1/pods', { query: { labelSelector: s } }).body)).map((n) => n.split('-')[0]);
    expect(sel('app=cart')).toEqual(['cart', 'cart']);
    expect(sel('app==web')).toEqual(['web']);
    expect(sel('app!=cart').sort()).toEqual(['debug', 'web']);
    expect(sel('app in (web, debug)').sort()).toEqual(['debug', 'web']);
    expect(sel('app notin (web,debug)')).toEqual(['cart', 'cart']);
    expect(sel('tier')).toEqual(['debug']);
    expect(sel('!tier').sort()).toEqual(['cart', 'cart', 'web']);
    expect(sel('app=debug,tier=ops')).toEqual(['debug']);
    expect(h.call('GET', '/api/v1/pods', { query: { labelSelector: 'app in web' } }).status).toBe(400);
  });

  it('filters by field selector', () => {
    const f = (path: string, s: string) => names(items(h.call('GET', path, { query: { fieldSelector: s } }).body));
    expect(f('/api/v1/pods', 'metadata.namespace=tools')).toEqual(['debug']);
    expect(f('/apis/apps/v1/deployments', 'metadata.name=web')).toEqual(['web']);
    expect(f('/apis/apps/v1/deployments', 'metadata.name!=web')).toEqual(['cart']);
    expect(f('/api/v1/pods', 'status.phase=Running,metadata.namespace=tools')).toEqual(['debug']);
    expect(f('/api/v1/namespaces/shop/serviceaccounts', 'metadata.name=cart')).toEqual(['cart']);
    const bad = h.call('GET', '/api/v1/pods', { query: { fieldSelector: 'spec.containers=x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('field label not supported');
  });

  it('pages with limit and continue over a consistent snapshot', () => {
    const first = h.call('GET', '/api/v1/namespaces', { query: { limit: '4' } });
    const m1 = first.body.metadata as JsonObject;
    expect(items(first.body)).toHaveLength(4);
    expect(m1.remainingItemCount).toBe(2);
    expect(typeof m1.continue).toBe('string');
    // A namespace created between pages is not in the snapshot being paged.
    expect(h.call('POST', '/api/v1/namespaces', { body: { metadata: { name: 'zzz' } } }).status).toBe(201);
    const second = h.call('GET', '/api/v1/namespaces', { query: { limit: '4', continue: String(m1.continue) } });
    const m2 = second.body.metadata as JsonObject;
    expect(names(items(second.body))).toEqual(['shop', 'tools']);
    expect(m2.continue).toBeUndefined();
    expect(m2.resourceVersion).toBe(m1.resourceVersion);
    expect(names(items(h.call('GET', '/api/v1/namespaces').body))).toContain('zzz');
    const bad = h.call('GET', '/api/v1/namespaces', { query: { continue: 'not-a-token' } });
    expect(bad.status).toBe(400);
  });

  it('encodes each page when asked for, showing objects changed or deleted since the first page as they were', () => {
    const h = harness(shopWorld());
    // Non-ASCII text goes through the page encoder as UTF-8.
    const labelled = { metadata: { labels: { owner: 'équipe-café' }, annotations: { note: 'デプロイ ✓ 🚀' } } };
    expect(h.call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web', { contentType: 'application/merge-patch+json', body: labelled }).status).toBe(200);
    const all = items(h.call('GET', '/apis/apps/v1/deployments').body);
    expect(names(all)).toEqual(['cart', 'web']);
    // Listed again, objects are copied from the bytes kept the second time: the same JSON.
    for (let i = 0; i < 3; i++) expect(items(h.call('GET', '/apis/apps/v1/deployments').body)).toEqual(all);
    const first = h.call('GET', '/apis/apps/v1/deployments', { query: { limit: '1' } });
    expect(names(items(first.body))).toEqual(['cart']);
    // After the first page: web changes, then cart and web are deleted.
    const web = all[1] as JsonObject;
    expect(h.call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web', { contentType: 'application/merge-patch+json', body: { metadata: { labels: { owner: 'someone-else' } } } }).status).toBe(200);
    expect(meta(items(h.call('GET', '/apis/apps/v1/deployments').body)[1] as JsonObject).labels).toEqual({ owner: 'someone-else' });
    expect(h.call('DELETE', '/apis/apps/v1/namespaces/shop/deployments/web').status).toBe(200);
    expect(h.call('DELETE', '/apis/apps/v1/namespaces/shop/deployments/cart').status).toBe(200);
    const second = h.call('GET', '/apis/apps/v1/deployments', { query: { limit: '1', continue: String((first.body.metadata as JsonObject).continue) } });
    expect(second.body.items).toEqual([web]);
    expect((meta(web).annotations as JsonObject).note).toBe('デプロイ ✓ 🚀');
    expect(items(h.call('GET', '/apis/apps/v1/deployments').body)).toEqual([]);
  });

  it('gets single objects with kind, or a NotFound Status', () => {
    const ok = h.call('GET', '/apis/apps/v1/namespaces/shop/deployments/cart');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'cart', namespace: 'shop', generation: 1 } });
    expect(meta(ok.body).uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta(ok.body).creationTimestamp).toBe('2025-01-01T00:00:00Z');
    const missing = h.call('GET', '/apis/apps/v1/namespaces/shop/deployments/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'deployments.apps "nope" not found', details: { name: 'nope', group: 'apps', kind: 'deployments' } });
    expect(h.call('GET', '/api/v1/nodes').body.kind).toBe('NodeList');
  });
});

describe('writes', () => {
  function fresh(): Harness {
    return harness(shopWorld());
  }
  const path = '/apis/apps/v1/namespaces/shop/deployments/web';

  it('merge-patches, bumping resourceVersion and generation only for spec changes', () => {
    const h = fresh();
    const before = h.call('GET', path).body;
    const labelled = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: 'shop' } } } });
    expect(labelled.status).toBe(200);
    expect(meta(labelled.body).labels).toEqual({ team: 'shop' });
    expect(Number(meta(labelled.body).resourceVersion)).toBeGreaterThan(Number(meta(before).resourceVersion));
    expect(meta(labelled.body).generation).toBe(1);
    const scaled = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { spec: { replicas: 3 } } });
    expect(meta(scaled.body).generation).toBe(2);
    expect(items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body)).toHaveLength(3);
    // A patch that changes nothing does not write.
    const again = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { spec: { replicas: 3 } } });
    expect(meta(again.body).resourceVersion).toBe(meta(h.call('GET', path).body).resourceVersion);
    const removed = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { team: null } } } });
    expect(meta(removed.body).labels).toEqual({});
  });

  it('strategic-merge-patches containers and env by name', () => {
    const h = fresh();
    const r = h.call('PATCH', path, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 'envoy' }] } } } },
    });
    expect(r.status).toBe(200);
    const containers = ((((r.body.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]);
    expect(containers).toEqual([
      { name: 'app', image: 'example/web:1.0', env: [{ name: 'A', value: '1' }] },
      { name: 'sidecar', image: 'envoy' },
    ]);
    const del = h.call('PATCH', path, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    });
    expect(((((del.body.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[]).map((c) => c.name)).toEqual(['app']);
  });

  it('applies JSON patches (the client-node default) and rejects failed tests', () => {
    const h = fresh();
    const r = h.call('PATCH', path, {
      contentType: 'application/json-patch+json',
      body: [
        { op: 'add', path: '/metadata/annotations', value: { 'a/b': 'x' } },
        { op: 'replace', path: '/spec/replicas', value: 2 },
        { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'b', image: 'b' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(meta(r.body).annotations).toEqual({ 'a/b': 'x' });
    expect((r.body.spec as JsonObject).replicas).toBe(2);
    const t = h.call('PATCH', path, { contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/metadata/annotations/a~1b', value: 'y' }] });
    expect(t.status).toBe(422);
    expect(h.call('PATCH', path, { contentType: 'text/plain', body: {} }).status).toBe(415);
  });

  it('answers 409 Conflict to a write carrying a stale resourceVersion', () => {
    const h = fresh();
    const rv = String(meta(h.call('GET', path).body).resourceVersion);
    h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { x: '1' } } } });
    const stale = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { resourceVersion: rv, labels: { x: '2' } } } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    expect(String(stale.body.message)).toContain('the object has been modified');
    const current = h.call('GET', path).body;
    const put = h.call('PUT', path, { body: { ...current, metadata: { ...meta(current), labels: { x: '3' } } } });
    expect(put.status).toBe(200);
    expect(meta(put.body).labels).toEqual({ x: '3' });
    const stalePut = h.call('PUT', path, { body: current });
    expect(stalePut.status).toBe(409);
  });

  it('refuses changes to immutable fields', () => {
    const h = fresh();
    const sel = h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { spec: { selector: { matchLabels: { app: 'other' } } } } });
    expect(sel.status).toBe(422);
    const pod = names(items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body))[0];
    const env = h.call('PATCH', `/api/v1/namespaces/shop/pods/${pod}`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { containers: [{ name: 'app', env: [{ name: 'AWS_ROLE_ARN', value: 'x' }] }] } },
    });
    expect(env.status).toBe(422);
    const image = h.call('PATCH', `/api/v1/namespaces/shop/pods/${pod}`, {
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { containers: [{ name: 'app', image: 'example/web:2.0' }] } },
    });
    expect(image.status).toBe(200);
  });

  it('creates and deletes through the API; controllers replace deleted pods', () => {
    const h = fresh();
    const created = h.call('POST', '/api/v1/namespaces/shop/serviceaccounts', { body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'new' } } });
    expect(created.status).toBe(201);
    expect(meta(created.body).namespace).toBe('shop');
    expect(h.call('POST', '/api/v1/namespaces/shop/serviceaccounts', { body: { metadata: { name: 'new' } } }).body.reason).toBe('AlreadyExists');
    expect(h.call('POST', '/api/v1/namespaces/nope/serviceaccounts', { body: { metadata: { name: 'x' } } }).status).toBe(404);
    const dry = h.call('POST', '/api/v1/namespaces/shop/serviceaccounts', { query: { dryRun: 'All' }, body: { metadata: { name: 'dry' } } });
    expect(dry.status).toBe(201);
    expect(h.call('GET', '/api/v1/namespaces/shop/serviceaccounts/dry').status).toBe(404);

    const pods = items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body);
    const victim = pods[0] as JsonObject;
    const del = h.call('DELETE', `/api/v1/namespaces/shop/pods/${String(meta(victim).name)}`);
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('Pod');
    expect(meta(del.body)).toMatchObject({ deletionGracePeriodSeconds: 30 });
    // The deleted pod is Terminating for its grace period; its replacement starts at once.
    const after = items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body);
    expect(after).toHaveLength(2);
    const replacement = after.find((p) => meta(p).uid !== meta(victim).uid) as JsonObject;
    expect(meta(replacement).deletionTimestamp).toBeUndefined();
    expect(meta(after.find((p) => meta(p).uid === meta(victim).uid) as JsonObject).deletionTimestamp).toBeDefined();
    // gracePeriodSeconds=0 deletes at once.
    expect(h.call('DELETE', `/api/v1/namespaces/shop/pods/${String(meta(victim).name)}`, { query: { gracePeriodSeconds: '0' } }).status).toBe(200);
    expect(items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body).map((p) => meta(p).uid)).toEqual([meta(replacement).uid]);

    const gone = h.call('DELETE', '/apis/apps/v1/namespaces/shop/deployments/web');
    expect(gone.body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect(items(h.call('GET', '/apis/apps/v1/namespaces/shop/replicasets', { query: { labelSelector: 'app=web' } }).body)).toEqual([]);
    // The garbage collector deletes the pods gracefully too.
    expect(items(h.call('GET', '/api/v1/namespaces/shop/pods', { query: { labelSelector: 'app=web' } }).body).every((p) => meta(p).deletionTimestamp !== undefined)).toBe(true);
  });

  it('lists everything for /_sandbox/state with kind and apiVersion', () => {
    const h = fresh();
    const all = h.kube.allObjects();
    expect(all.every((o) => typeof o.kind === 'string' && typeof o.apiVersion === 'string')).toBe(true);
    const kinds = new Set(all.map((o) => o.kind));
    for (const k of ['Namespace', 'Node', 'ServiceAccount', 'Pod', 'Deployment', 'ReplicaSet']) expect(kinds.has(k), k).toBe(true);
    expect(all.filter((o) => o.kind === 'Pod')).toHaveLength(4);
  });

  it('answers watches with the events after a resourceVersion', () => {
    const h = fresh();
    const rv = String((h.call('GET', '/apis/apps/v1/namespaces/shop/deployments').body.metadata as JsonObject).resourceVersion);
    h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { w: '1' } } } });
    const reply = h.kube.route({ method: 'GET', path: '/apis/apps/v1/namespaces/shop/deployments', query: new URLSearchParams({ watch: 'true', resourceVersion: rv }), headers: {}, body: Buffer.alloc(0) }).run();
    if (!isStream(reply)) throw new Error(`expected a stream, got HTTP ${reply.status}`);
    const chunks: string[] = [];
    let ended = false;
    const stop = reply.start((c) => chunks.push(c), () => { ended = true; });
    const events = () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as JsonObject);
    expect(events()[0]).toMatchObject({ type: 'MODIFIED', object: { kind: 'Deployment', metadata: { name: 'web', labels: { w: '1' } } } });
    // Later changes arrive on the open stream.
    h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: { metadata: { labels: { w: '2' } } } });
    expect(events().at(-1)).toMatchObject({ type: 'MODIFIED', object: { metadata: { labels: { w: '2' } } } });
    stop();
    expect(ended).toBe(false);
    // A resourceVersion older than the history answers 200 with an ERROR event (410 Expired), as the watch cache does.
    const old = h.kube.route({ method: 'GET', path: '/apis/apps/v1/namespaces/shop/deployments', query: new URLSearchParams({ watch: 'true', resourceVersion: '1' }), headers: {}, body: Buffer.alloc(0) }).run();
    if (!isStream(old)) throw new Error('expected a stream');
    const lines: string[] = [];
    old.start((c) => lines.push(c), () => { ended = true; });
    expect(JSON.parse(lines.join(''))).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    expect(ended).toBe(true);
  });

  it('rejects world objects of unsupported kinds', () => {
    expect(() => harness(world([cluster({ objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] })]))).toThrow(/unsupported kind ConfigMap/);
  });
});
