/**
 * Server-side printing, as kubectl gets it: the sandbox served over HTTP exactly as `podid sandbox`
 * serves it, asked with kubectl's own Accept header (a meta.k8s.io/v1 Table, then v1beta1, then
 * plain JSON), answers a Table with kube-apiserver's built-in columns and cells (pods: READY
 * STATUS RESTARTS AGE and the -o wide ones; deployments; service accounts; nodes; the rest), pages
 * it with limit/continue, honours includeObject, streams a watch as Tables, and answers 406 to a
 * Table of a version it cannot produce. Without `as=Table` the answer is the plain list it always was.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxServer, ManualClock } from '../helpers/sandbox.js';
import type { JsonObject } from '../../src/sandbox/world-types.js';
import { AGENT_ADDON, cluster, deployment, serviceAccount, world } from '../sandbox/kube-world.js';

/** What kubectl 1.2x sends on `kubectl get`. */
const KUBECTL_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

let sb: Awaited<ReturnType<typeof sandboxServer>>;
let server = '';
let token = '';
const clock = new ManualClock();

beforeAll(async () => {
  sb = await sandboxServer(
    world([
      cluster({
        addons: [AGENT_ADDON],
        objects: [serviceAccount('shop', 'cart'), serviceAccount('shop', 'web'), deployment('shop', 'cart', 'cart', 3), deployment('shop', 'web', 'web', 1)],
      }),
    ]),
    clock,
  );
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfig);
  server = kc.getCurrentCluster()?.server ?? '';
  token = kc.getCurrentUser()?.token ?? '';
  // Everything was created at the clock's start; ages are read 3m20s later.
  clock.advance(200_000);
}, 60_000);

afterAll(async () => {
  await sb?.stop();
});

async function get(path: string, accept = KUBECTL_ACCEPT): Promise<{ status: number; type: string; body: JsonObject }> {
  const res = await fetch(`${server}${path}`, { headers: { accept, authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as JsonObject };
}

type Row = { cells: unknown[]; object: JsonObject | null };
const rows = (t: JsonObject) => t.rows as Row[];
const columns = (t: JsonObject) => (t.columnDefinitions as JsonObject[]).map((c) => [c.name, c.type, c.format, c.priority]);

describe('Table answers (server-side printing)', () => {
  it('pods: the apiserver columns, READY/STATUS/RESTARTS/AGE and the wide cells', async () => {
    const { status, type, body } = await get('/api/v1/namespaces/shop/pods');
    expect(status).toBe(200);
    expect(type).toBe('application/json');
    expect(body.kind).toBe('Table');
    expect(body.apiVersion).toBe('meta.k8s.io/v1');
    expect(columns(body)).toEqual([
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ]);
    expect((body.columnDefinitions as JsonObject[])[0]?.description).toMatch(/^Name must be unique within a namespace/);
    expect(rows(body)).toHaveLength(4);
    const cart = rows(body)[0] as Row;
    expect(cart.cells[0]).toMatch(/^cart-[a-z0-9]{10}-[a-z0-9]{5}$/);
    expect(cart.cells.slice(1, 5)).toEqual(['1/1', 'Running', '0', '3m20s']);
    expect(cart.cells[5]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(cart.cells[6]).toMatch(/\.ec2\.internal$/);
    expect(cart.cells.slice(7)).toEqual(['<none>', '<none>']);
    // includeObject defaults to Metadata: each row carries the object's PartialObjectMetadata.
    expect(cart.object?.kind).toBe('PartialObjectMetadata');
    expect(cart.object?.apiVersion).toBe('meta.k8s.io/v1');
    expect((cart.object?.metadata as JsonObject).name).toBe(cart.cells[0]);
    expect((cart.object?.metadata as JsonObject).namespace).toBe('shop');
    expect(cart.object?.spec).toBeUndefined();
    expect((body.metadata as JsonObject).resourceVersion).toMatch(/^\d+$/);
  });

  it('a deployment, and -o wide cells', async () => {
    const { body } = await get('/apis/apps/v1/namespaces/shop/deployments');
    expect(columns(body).map((c) => c[0])).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(rows(body).map((r) => r.cells)).toEqual([
      ['cart', '3/3', 3, 3, '3m20s', 'app', 'example/cart:1.0', 'app=cart'],
      ['web', '1/1', 1, 1, '3m20s', 'app', 'example/web:1.0', 'app=web'],
    ]);
  });

  it('service accounts, namespaces, nodes and daemon sets', async () => {
    const sa = (await get('/api/v1/namespaces/shop/serviceaccounts')).body;
    expect(columns(sa).map((c) => c[0])).toEqual(['Name', 'Secrets', 'Age']);
    expect(rows(sa).map((r) => r.cells)).toEqual([
      ['cart', 0, '3m20s'],
      ['default', 0, '3m20s'],
      ['web', 0, '3m20s'],
    ]);
    const ns = (await get('/api/v1/namespaces')).body;
    expect(rows(ns).find((r) => r.cells[0] === 'shop')?.cells).toEqual(['shop', 'Active', '3m20s']);
    const nodes = (await get('/api/v1/nodes')).body;
    expect(columns(nodes).map((c) => c[0])).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
    const node = rows(nodes)[0] as Row;
    expect(node.cells.slice(1, 4)).toEqual(['Ready', '<none>', '3m20s']);
    expect(node.cells[4]).toMatch(/^v1\.29\.\d+-eks-/);
    expect(node.cells[5]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const ds = (await get('/apis/apps/v1/namespaces/kube-system/daemonsets')).body;
    expect(rows(ds).find((r) => r.cells[0] === 'eks-pod-identity-agent')?.cells.slice(0, 8)).toEqual(['eks-pod-identity-agent', 3, 3, 3, 3, 3, '<none>', '3m20s']);
  });

  it('one object is a one-row Table at its resourceVersion', async () => {
    const { body } = await get('/apis/apps/v1/namespaces/shop/deployments/cart');
    expect(body.kind).toBe('Table');
    expect(rows(body)).toHaveLength(1);
    expect(rows(body)[0]?.cells.slice(0, 2)).toEqual(['cart', '3/3']);
    expect((body.metadata as JsonObject).resourceVersion).toBe((rows(body)[0]?.object?.metadata as JsonObject).resourceVersion);
    expect((await get('/apis/apps/v1/namespaces/shop/deployments/nope')).status).toBe(404);
  });

  it('pages with limit and continue, as kubectl get --chunk-size does', async () => {
    const all = rows((await get('/api/v1/pods')).body).map((r) => r.cells[0]);
    const seen: unknown[] = [];
    let cont = '';
    let pages = 0;
    do {
      const { body } = await get(`/api/v1/pods?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      expect(body.kind).toBe('Table');
      expect(columns(body)).toHaveLength(9);
      seen.push(...rows(body).map((r) => r.cells[0]));
      const meta = body.metadata as JsonObject;
      cont = String(meta.continue ?? '');
      if (cont) expect(meta.remainingItemCount).toBe(all.length - seen.length);
      pages++;
    } while (cont);
    expect(pages).toBe(Math.ceil(all.length / 3));
    expect(seen).toEqual(all);
  });

  it('includeObject=None|Object|Metadata; anything else is 400', async () => {
    const none = (await get('/apis/apps/v1/namespaces/shop/deployments?includeObject=None')).body;
    expect(rows(none)[0]?.object).toBeNull();
    const whole = (await get('/apis/apps/v1/namespaces/shop/deployments?includeObject=Object')).body;
    expect(rows(whole)[0]?.object).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'cart' }, spec: { replicas: 3 } });
    const meta = (await get('/apis/apps/v1/namespaces/shop/deployments?includeObject=Metadata')).body;
    expect(rows(meta)[0]?.object?.kind).toBe('PartialObjectMetadata');
    const bad = await get('/apis/apps/v1/namespaces/shop/deployments?includeObject=All');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'unrecognized includeObject value: "All"' });
  });

  it('content negotiation: the first acceptable range wins; an unknown Table version alone is 406', async () => {
    const beta = (await get('/api/v1/namespaces/shop/serviceaccounts', 'application/json;as=Table;v=v1beta1;g=meta.k8s.io')).body;
    expect(beta.apiVersion).toBe('meta.k8s.io/v1beta1');
    expect(rows(beta)[0]?.object?.apiVersion).toBe('meta.k8s.io/v1beta1');
    const skipped = (await get('/api/v1/namespaces/shop/serviceaccounts', 'application/json;as=Table;v=v2;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io')).body;
    expect(skipped.apiVersion).toBe('meta.k8s.io/v1');
    const plainFirst = (await get('/api/v1/namespaces/shop/serviceaccounts', `application/json,${KUBECTL_ACCEPT}`)).body;
    expect(plainFirst.kind).toBe('ServiceAccountList');
    const fallback = (await get('/api/v1/namespaces/shop/serviceaccounts', 'application/json;as=Table;v=v2;g=meta.k8s.io,application/json')).body;
    expect(fallback.kind).toBe('ServiceAccountList');
    for (const accept of ['application/json;as=Table;v=v2;g=meta.k8s.io', 'application/json;as=Table;v=v1;g=example.com']) {
      const refused = await get('/api/v1/namespaces/shop/pods', accept);
      expect(refused.status).toBe(406);
      expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotAcceptable', code: 406 });
    }
  });

  it('a watch as Tables (kubectl get -w): one-row Tables, column definitions on the first event only', async () => {
    const res = await fetch(`${server}/api/v1/namespaces/shop/pods?watch=true&timeoutSeconds=1`, { headers: { accept: KUBECTL_ACCEPT, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const events = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: JsonObject });
    expect(events).toHaveLength(4);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED']);
    expect(events.map((e) => e.object.kind)).toEqual(['Table', 'Table', 'Table', 'Table']);
    expect(columns(events[0]?.object as JsonObject)).toHaveLength(9);
    expect(events.slice(1).map((e) => e.object.columnDefinitions)).toEqual([null, null, null]);
    for (const e of events) {
      expect(rows(e.object)).toHaveLength(1);
      expect(rows(e.object)[0]?.cells.slice(1, 3)).toEqual(['1/1', 'Running']);
      expect((e.object.metadata as JsonObject).resourceVersion).toBe((rows(e.object)[0]?.object?.metadata as JsonObject).resourceVersion);
    }
  });

  it('a plain JSON list is unchanged', async () => {
    const { body } = await get('/api/v1/namespaces/shop/serviceaccounts', 'application/json');
    expect(body.kind).toBe('ServiceAccountList');
    expect(body.apiVersion).toBe('v1');
    expect((body.items as JsonObject[]).map((i) => (i.metadata as JsonObject).name)).toEqual(['cart', 'default', 'web']);
    expect((body.items as JsonObject[])[0]?.kind).toBeUndefined();
    const one = (await get('/apis/apps/v1/namespaces/shop/deployments/cart', 'application/json')).body;
    expect(one).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1', spec: { replicas: 3 } });
    const none = (await get('/api/v1/namespaces/shop/pods', '*/*')).body;
    expect(none.kind).toBe('PodList');
  });
});
