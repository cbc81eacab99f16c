/**
 * A kubeconfig cluster with `proxy-url` (kubectl's field: the API server is reached through an
 * HTTP CONNECT or SOCKS proxy, as behind a bastion or a corporate proxy). podid reads and writes
 * through its own lean client (adapters/kube-http.ts; kube-write.ts for apply's writes), with
 * client-node's proxy agent: both must go through the proxy, or a user behind one gets timeouts (or reaches what they must
 * not). A CONNECT proxy in this process forwards to the sandbox and counts its tunnels.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { unusedPort } from '../helpers/ports.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { apply, journalDir, podIdentity, result, smallWorld, state } from './apply-helpers.js';

interface Proxy {
  url: string;
  /** host:port of every CONNECT tunnel opened so far. */
  tunnels: string[];
  close(): Promise<void>;
}

/** A CONNECT proxy; `resolve` maps a tunnel's host to where the proxy connects (default itself). */
function startConnectProxy(resolve: (host: string) => string = (h) => h): Promise<Proxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    // Only CONNECT is served: a client that sent a plain request past the proxy would show here.
    res.writeHead(405).end();
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const upstream = connect(port, resolve(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('error', () => client.destroy());
  });
  return new Promise((listening) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      listening({
        url: `http://127.0.0.1:${port}`,
        tunnels,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The sandbox's kubeconfig with `proxy-url` set on every cluster, written beside it. */
function proxiedKubeconfig(sb: SandboxEndpoint, proxyUrl: string): string {
  const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const c of kc.clusters) c.cluster['proxy-url'] = proxyUrl;
  const path = `${sb.kubeconfig}.proxied`;
  writeFileSync(path, stringify(kc), { mode: 0o600 });
  return path;
}

describe('a kubeconfig cluster with proxy-url', () => {
  let sb: SandboxEndpoint;
  let proxy: Proxy;
  let kubeconfig: string;
  const apiServer = (): string => new URL(sb.endpoint).host;

  beforeAll(async () => {
    sb = await sandboxServer(smallWorld());
    proxy = await startConnectProxy();
    kubeconfig = proxiedKubeconfig(sb, proxy.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await sb?.stop();
  });

  it('scan reads every cluster through the proxy, with the same inventory as without it', async () => {
    const direct = await podid(['scan', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
    expect(direct.code, direct.stderr).toBe(0);
    expect(proxy.tunnels).toEqual([]);

    const viaProxy = await podid(['scan', '--all-contexts', '-o', 'json'], { env: { ...sb.clientEnv, KUBECONFIG: kubeconfig } });
    expect(viaProxy.code, viaProxy.stderr).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([apiServer()]));
    const strip = (s: string): unknown => ({ ...(JSON.parse(s) as object), generatedAt: null });
    expect(strip(viaProxy.stdout)).toEqual(strip(direct.stdout));
  });

  it('migrate --apply restarts workloads through the proxy (the write path), and the pods move', async () => {
    const before = proxy.tunnels.length;
    const r = await apply(sb, ['-o', 'json', '--journal-dir', journalDir()], { env: { KUBECONFIG: kubeconfig } });
    expect(r.code, r.stderr).toBe(0);
    expect(result(r).status).toBe('succeeded');
    expect(proxy.tunnels.length).toBeGreaterThan(before);
    expect(new Set(proxy.tunnels)).toEqual(new Set([apiServer()]));
    const prod = (await state(sb)).clusters[0]!;
    const shopPods = prod.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop');
    expect(shopPods.length).toBeGreaterThan(0);
    for (const p of shopPods) expect(podIdentity(p), p.metadata.name).toBe('pod-identity');
  });

  it('a proxy that is down: one line naming the context and the proxy, the environment exit code (6), no stack trace', async () => {
    const dead = await startConnectProxy();
    await dead.close();
    const r = await podid(['scan', '--all-contexts', '-o', 'json'], { env: { ...sb.clientEnv, KUBECONFIG: proxiedKubeconfig(sb, dead.url) } });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^podid: cannot reach the Kubernetes API of context "[^"]+/prod" at \\S+ through the proxy ${dead.url.replace(/\./g, '\\.')} \\(the cluster's proxy-url\\) \\(list serviceaccounts\\): [^\\n]*ECONNREFUSED[^\\n]* — check the network, the proxy, [^\\n]*\\n$`));
  });
});


/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as kubectl and the AWS CLI honour them. Loopback servers
 * are never proxied (Go's rule), so the sandbox is named by hosts under proxied.test, which do not
 * resolve: only the proxy (which maps them to the sandbox) can reach them, and a request that
 * skipped it fails. The clusters' apiServerUrl and AWS_ENDPOINT_URL use those names; the sandbox
 * routes by path and checks SigV4 against the Host the client signed.
 */
describe('HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment', () => {
  const DOMAIN = 'proxied.test';
  let sb: SandboxEndpoint;
  let proxy: Proxy;
  let port: number;
  let env: NodeJS.ProcessEnv;
  const host = (name: string) => `${name}.${DOMAIN}:${port}`;

  beforeAll(async () => {
    port = await unusedPort();
    const world = smallWorld() as { account: string; region: string; clusters: { name: string; apiServerUrl?: string }[] };
    for (const c of world.clusters) c.apiServerUrl = `http://${c.name}.${DOMAIN}:${port}/k8s/${world.account}/${world.region}/${c.name}`;
    sb = await sandboxServer(world, undefined, port);
    proxy = await startConnectProxy((h) => (h.endsWith(`.${DOMAIN}`) ? '127.0.0.1' : h));
    // Whatever proxy variables the machine running the tests has are blanked (empty is unset).
    const blank = Object.fromEntries(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'REQUEST_METHOD'].map((k) => [k, '']));
    env = { ...sb.clientEnv, ...blank, AWS_ENDPOINT_URL: `http://${host('aws')}`, HTTP_PROXY: proxy.url };
  });
  afterAll(async () => {
    await proxy?.close();
    await sb?.stop();
  });

  it('scan sends the AWS calls and the Kubernetes requests through HTTP_PROXY (the URLs are http://)', async () => {
    const r = await podid(['scan', '--all-contexts', '-o', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const inv = JSON.parse(r.stdout) as { clusters: { name: string; scanned?: boolean }[]; serviceAccounts: unknown[] };
    expect(inv.clusters.map((c) => [c.name, c.scanned ?? true])).toEqual([['prod', true]]);
    expect(inv.serviceAccounts.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([host('aws'), host('prod')]));
  });

  it('lower-case http_proxy is read too', async () => {
    const before = proxy.tunnels.length;
    const r = await podid(['scan', '--all-contexts', '-o', 'json'], { env: { ...env, HTTP_PROXY: '', http_proxy: proxy.url } });
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(before);
  });

  it('NO_PROXY sends the hosts it names direct: the API server (which only the proxy reaches) fails in one line naming no proxy, exit 6', async () => {
    const before = proxy.tunnels.length;
    const r = await podid(['scan', '--context', `arn:aws:eks:us-east-1:111122223333:cluster/prod`, '--request-timeout', '5s'], { env: { ...env, NO_PROXY: `prod.${DOMAIN}` } });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach the Kubernetes API of context "arn:aws:eks:us-east-1:111122223333:cluster/prod" at http://${host('prod')}/k8s/`);
    expect(r.stderr).not.toContain('through the proxy');
    // The AWS calls still went through the proxy; the API server was never asked for.
    expect(new Set(proxy.tunnels.slice(before))).toEqual(new Set([host('aws')]));
  });

  it('migrate --apply writes through the proxy too (AWS and Kubernetes), and the pods move', async () => {
    const before = proxy.tunnels.length;
    const r = await apply(sb, ['-o', 'json', '--journal-dir', journalDir()], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(result(r).status).toBe('succeeded');
    expect(new Set(proxy.tunnels.slice(before))).toEqual(new Set([host('aws'), host('prod')]));
    const shopPods = (await state(sb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop');
    expect(shopPods.length).toBeGreaterThan(0);
    for (const p of shopPods) expect(podIdentity(p), p.metadata.name).toBe('pod-identity');
  });

  it('a proxy from the environment that is down is named with the variable it came from, exit 6', async () => {
    const dead = await startConnectProxy();
    await dead.close();
    // AWS on the sandbox's loopback endpoint (never proxied), the API server through the dead proxy.
    const r = await podid(['scan', '--all-contexts'], { env: { ...env, AWS_ENDPOINT_URL: sb.endpoint, HTTP_PROXY: dead.url }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain(`through the proxy ${dead.url} (from HTTP_PROXY)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('a socks5:// proxy for the AWS calls is one usage line (PROXY_UNSUPPORTED, exit 2)', async () => {
    const r = await podid(['scan', '--all-contexts'], { env: { ...env, HTTP_PROXY: 'socks5://127.0.0.1:1080' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^podid: HTTP_PROXY is socks5:\/\/127\.0\.0\.1:1080: podid sends AWS calls through http:\/\/ or https:\/\/ proxies only/)]);
  });
});
