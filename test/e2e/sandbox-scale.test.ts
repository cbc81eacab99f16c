/**
 * A generated fleet (bench/generate-world.mjs, the benchmarks' generator) served by the built
 * `podid sandbox`: it loads, and every cluster lists exactly the pods its Deployments ask for,
 * page by page, with the env the webhook gives each ServiceAccount. Sized to take seconds here;
 * load and list times at full scale (100,000 pods) are measured by bench/sandbox-scale.mjs.
 */
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorld, worldSize } from '../../bench/generate-world.mjs';
import { startSandboxProcess, type SandboxProcess } from '../helpers/cli.js';

const world = generateWorld({ seed: 7, clusters: 2, serviceAccounts: 600, pods: 6000, roles: 180, nodesPerCluster: 20 });
let sb: SandboxProcess;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'podid-scale-test-'));
  const file = join(dir, 'world.json');
  writeFileSync(file, JSON.stringify(world));
  sb = await startSandboxProcess(['--world', file, '--kubeconfig-out', join(dir, 'kubeconfig'), '--env-out', join(dir, 'env'), '--quiet'], 60_000);
}, 90_000);

afterAll(async () => {
  await sb?.stop();
});

describe('a generated fleet', () => {
  it('is deterministic by seed and has the asked size', () => {
    expect(worldSize(world)).toEqual({ clusters: 2, serviceAccounts: 600, pods: 6000, roles: 180 });
    expect(JSON.stringify(generateWorld({ seed: 7, clusters: 2, serviceAccounts: 600, pods: 6000, roles: 180, nodesPerCluster: 20 }))).toBe(JSON.stringify(world));
    expect(JSON.stringify(generateWorld({ seed: 8, clusters: 2, serviceAccounts: 600, pods: 6000, roles: 180, nodesPerCluster: 20 }))).not.toBe(JSON.stringify(world));
  });

  it('loads and lists every cluster\'s pods in pages, each with its ServiceAccount\'s credentials env', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    for (const [i, spec] of world.clusters.entries()) {
      kc.setCurrentContext(kc.getContexts()[i]!.name);
      const core = kc.makeApiClient(CoreV1Api);
      const pods: V1Pod[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await core.listPodForAllNamespaces({ limit: 500, _continue: token });
        pods.push(...page.items);
        token = page.metadata?._continue;
        pages++;
      } while (token);
      const workloads = pods.filter((p) => p.metadata?.namespace !== 'kube-system');
      const expected = spec.objects.filter((o) => o.kind === 'Deployment').reduce((n, o) => n + (o.spec?.replicas ?? 0), 0);
      expect(workloads).toHaveLength(expected);
      expect(pages).toBe(Math.ceil(pods.length / 500));
      expect(new Set(pods.map((p) => p.metadata?.uid)).size).toBe(pods.length);
      expect(workloads.every((p) => p.status?.phase === 'Running')).toBe(true);
      // Associated ServiceAccounts' pods get Pod Identity, the others IRSA.
      const associated = new Set(spec.podIdentityAssociations.map((a) => `${a.namespace}/${a.serviceAccount}`));
      for (const p of workloads) {
        const env = Object.fromEntries((p.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value]));
        const key = `${p.metadata?.namespace}/${p.spec?.serviceAccountName}`;
        if (associated.has(key)) expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, key).toBe('http://169.254.170.23/v1/credentials');
        else expect(env.AWS_ROLE_ARN, key).toMatch(/^arn:aws:iam::111122223333:role\/gen-role-\d+$/);
      }
    }
  });

  it('compresses a large answer as kube-apiserver does: gzip for a client that accepts it, over 128 KB only', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    const server = kc.getCurrentCluster()!.server;
    const token = kc.getCurrentUser()!.token!;
    const get = async (path: string, acceptEncoding?: string) => {
      const res = await new Promise<IncomingMessage>((resolve, reject) =>
        httpGet(`${server}${path}`, { headers: { authorization: `Bearer ${token}`, ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) } }, resolve).on('error', reject),
      );
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { headers: res.headers, body: Buffer.concat(chunks) };
    };
    const page = '/api/v1/pods?limit=500';
    const plain = await get(page);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(128 * 1024);
    const zipped = await get(page, 'gzip, deflate');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-length']).toBeUndefined();
    expect(zipped.body.length).toBeLessThan(plain.body.length / 5);
    const items = (b: Buffer) => (JSON.parse(b.toString('utf8')) as { items: { metadata: { uid: string } }[] }).items.map((i) => i.metadata.uid);
    expect(items(gunzipSync(zipped.body))).toEqual(items(plain.body));
    // Refused (q=0), or too small to be worth it: plain.
    expect((await get(page, 'gzip;q=0')).headers['content-encoding']).toBeUndefined();
    expect((await get('/api/v1/pods?limit=5', 'gzip')).headers['content-encoding']).toBeUndefined();
  });

  it('sends the same page again from its kept compressed items: one gzip member, and a write shows at once', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfig);
    const server = kc.getCurrentCluster()!.server;
    const token = kc.getCurrentUser()!.token!;
    const request = async (path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) => {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest(`${server}${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip', ...init.headers } }, resolve);
        req.on('error', reject);
        req.end(init.body);
      });
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
    };
    type Page = { metadata: { continue?: string }; items: { metadata: { name: string; namespace: string; labels?: Record<string, string> } }[] };
    const read = async (path: string) => {
      const r = await request(path);
      expect(r.headers['content-encoding']).toBe('gzip');
      const text = gunzipSync(r.body);
      // One member: a single deflate stream, header to trailer, holds the whole page.
      expect(inflateRawSync(r.body.subarray(10, r.body.length - 8)).equals(text)).toBe(true);
      return JSON.parse(text.toString('utf8')) as Page;
    };
    const first = await read('/api/v1/pods?limit=500');
    const second = await read('/api/v1/pods?limit=500');
    expect(second.metadata.continue).not.toBe(first.metadata.continue);
    expect(second.items).toEqual(first.items);
    // The next page follows its own token, from the kept items too.
    const next = await read(`/api/v1/pods?limit=500&continue=${encodeURIComponent(second.metadata.continue!)}`);
    expect(next.items[0]!.metadata.name).not.toBe(first.items[0]!.metadata.name);
    // A write changes what the page holds: the kept bytes are not served again.
    const pod = first.items[3]!.metadata;
    const patched = await request(`/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { 'podid-test': 'patched' } } }),
    });
    expect(patched.status).toBe(200);
    // An answer that is not a list page (an object with 150 KB of annotations) is gzipped whole.
    const big = 'x'.repeat(150 * 1024);
    const created = await request(`/api/v1/namespaces/${pod.namespace}/serviceaccounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'big', annotations: { 'example.com/big': big } } }) });
    expect(created.status, created.body.toString()).toBe(201);
    const sa = await request(`/api/v1/namespaces/${pod.namespace}/serviceaccounts/big`);
    expect(sa.headers['content-encoding']).toBe('gzip');
    expect((JSON.parse(gunzipSync(sa.body).toString('utf8')) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['example.com/big']).toBe(big);
    const after = await read('/api/v1/pods?limit=500');
    expect(after.items[3]!.metadata.labels?.['podid-test']).toBe('patched');
    expect(after.items.filter((i) => i.metadata.labels?.['podid-test'] === 'patched')).toHaveLength(1);
  });

  it('serves the generated roles through IAM', async () => {
    const { IAMClient, GetRoleCommand } = await import('@aws-sdk/client-iam');
    const iam = new IAMClient({ endpoint: sb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });
    try {
      const role = await iam.send(new GetRoleCommand({ RoleName: 'gen-role-0' }));
      const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '{}')) as { Statement: unknown[] };
      // Role 0 is shared: every cluster's OIDC provider may assume it.
      expect(trust.Statement).toHaveLength(2);
    } finally {
      iam.destroy();
    }
  });
});
