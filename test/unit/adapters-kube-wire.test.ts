/**
 * The Kubernetes port over the wire: a tiny local API server answering as kube-apiserver does,
 * driven through kubePortFactory (the kubeconfig's auth over kube-http.ts, pages parsed by
 * json-keep.ts). Checks what is sent (path, limit/continue, auth, Accept), the connection reuse,
 * compressed answers, and how failures map (401, 403, 410, 429, 5xx, timeouts, not JSON).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeconfigFromString } from '../../src/adapters/kubeconfig.js';
import { kubePortFactory, type KubeOptions } from '../../src/adapters/kube.js';
import { ExitCode, exitCodeOf, PodidError } from '../../src/core/errors.js';

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves `replies` in order and records each request (a function reply answers as it likes). */
async function apiServer(replies: (Reply | ((req: IncomingMessage, res: ServerResponse) => void))[]): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  server = createServer((req, res) => {
    requests.push(req);
    const r = replies.shift() ?? { status: 500, body: { kind: 'Status', message: 'no more replies' } };
    if (typeof r === 'function') return r(req, res);
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
    res.end(JSON.stringify(r.body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/prefix`, requests };
}

async function port(url: string, opts: KubeOptions = {}) {
  const kc = await kubeconfigFromString(
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'clusters: [{ name: c, cluster: { server: "' + url + '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: u, user: { token: secret-token } }]',
      'contexts: [{ name: c, context: { cluster: c, user: u } }]',
    ].join('\n'),
  );
  return (await kubePortFactory(kc, opts))('c');
}

const pod = (name: string, env: string[] = []) => ({
  metadata: { name, namespace: 'shop', labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-rs`, uid: 'u', controller: true }], creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { serviceAccountName: 'cart', nodeName: 'n1', containers: [{ name: 'c', env: env.map((e) => ({ name: e, value: 'x' })) }] },
  status: { phase: 'Running' },
});
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
const noSleep = async () => undefined;

describe('Kubernetes port over HTTP', () => {
  it('walks limit/continue pages with the kubeconfig credentials and maps each object', async () => {
    const api = await apiServer([
      { body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9', continue: 'tok-1', remainingItemCount: 1 }, items: [pod('a', ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'])] } },
      { body: { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items: [pod('b')] } },
    ]);
    const pods = await (await port(api.url, { pageSize: 1 })).listPods();
    expect(pods).toEqual([
      { namespace: 'shop', name: 'a', serviceAccount: 'cart', nodeName: 'n1', phase: 'Running', owner: { kind: 'ReplicaSet', name: 'a-rs' }, identity: 'irsa', labels: { app: 'a' }, tokenFiles: [{ container: 'c', path: 'x' }] },
      { namespace: 'shop', name: 'b', serviceAccount: 'cart', nodeName: 'n1', phase: 'Running', owner: { kind: 'ReplicaSet', name: 'b-rs' }, identity: 'none', labels: { app: 'b' } },
    ]);
    const urls = api.requests.map((r) => new URL(r.url ?? '', 'http://x'));
    expect(urls.map((u) => u.pathname)).toEqual(['/prefix/api/v1/pods', '/prefix/api/v1/pods']);
    expect(urls.map((u) => [u.searchParams.get('limit'), u.searchParams.get('continue')])).toEqual([['1', null], ['1', 'tok-1']]);
    expect(api.requests[0]?.headers.authorization).toBe('Bearer secret-token');
    expect(api.requests[0]?.headers.accept).toContain('application/json');
  });

  it('lists each kind at its all-namespaces path', async () => {
    const empty = (kind: string) => ({ body: { kind, metadata: {}, items: [] } });
    const api = await apiServer(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(empty));
    const p = await port(api.url);
    await p.listServiceAccounts();
    await p.listNodes();
    await p.listDeployments();
    await p.listReplicaSets();
    await p.listStatefulSets();
    await p.listDaemonSets();
    await p.listJobs();
    await p.listCronJobs();
    expect(api.requests.map((r) => new URL(r.url ?? '', 'http://x').pathname.replace('/prefix', ''))).toEqual([
      '/api/v1/serviceaccounts',
      '/api/v1/nodes',
      '/apis/apps/v1/deployments',
      '/apis/apps/v1/replicasets',
      '/apis/apps/v1/statefulsets',
      '/apis/apps/v1/daemonsets',
      '/apis/batch/v1/jobs',
      '/apis/batch/v1/cronjobs',
    ]);
  });

  it('401 and 403 are environment failures (exit 6); 403 names the forbidden list with the API server message', async () => {
    const api = await apiServer([
      { status: 401, body: status(401, 'Unauthorized', 'Unauthorized') },
      { status: 403, body: status(403, 'Forbidden', 'pods is forbidden: User "ci" cannot list resource "pods"') },
    ]);
    const p = await port(api.url, { sleep: noSleep });
    const unauthorized = await p.listPods().catch((e: unknown) => e);
    expect((unauthorized as PodidError).code).toBe('KUBE_UNAUTHORIZED');
    expect(exitCodeOf(unauthorized)).toBe(ExitCode.environment);
    const forbidden = await p.listPods().catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(PodidError);
    expect((forbidden as PodidError).code).toBe('KUBE_FORBIDDEN');
    expect((forbidden as PodidError).message).toContain('pods is forbidden: User "ci" cannot list resource "pods"');
    expect(api.requests).toHaveLength(2);
  });

  it('retries 429 after Retry-After, and restarts a list whose continue token expired (410)', async () => {
    const api = await apiServer([
      { status: 429, headers: { 'retry-after': '2' }, body: status(429, 'TooManyRequests', 'slow down') },
      { body: { kind: 'PodList', metadata: { continue: 'old' }, items: [pod('a')] } },
      { status: 410, body: status(410, 'Expired', 'continue token too old') },
      { body: { kind: 'PodList', metadata: { continue: 'new' }, items: [pod('a')] } },
      { body: { kind: 'PodList', metadata: {}, items: [pod('b')] } },
    ]);
    const slept: number[] = [];
    const pods = await (await port(api.url, { pageSize: 1, sleep: async (ms) => void slept.push(ms) })).listPods();
    expect(pods.map((p) => p.name)).toEqual(['a', 'b']);
    expect(slept).toEqual([2000]);
    expect(api.requests.map((r) => new URL(r.url ?? '', 'http://x').searchParams.get('continue'))).toEqual([null, null, 'old', null, 'new']);
  });

  it('a 500 after every attempt fails the list with the status', async () => {
    const api = await apiServer([0, 1].map(() => ({ status: 500, body: status(500, 'InternalError', 'etcd is down') })));
    const err = await (await port(api.url, { maxAttempts: 2, sleep: noSleep })).listNodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodidError);
    expect((err as PodidError).code).toBe('KUBE_ERROR');
    expect((err as PodidError).message).toContain('(HTTP 500): etcd is down');
    expect(api.requests).toHaveLength(2);
  });

  it('reuses one keep-alive connection for the pages of a list, and reads gzip answers', async () => {
    const page = (items: unknown[], cont?: string) => JSON.stringify({ kind: 'PodList', metadata: cont ? { continue: cont } : {}, items });
    const api = await apiServer([
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(page([pod('a')], 't1')));
      },
      { body: JSON.parse(page([pod('b')], 't2')) as unknown },
      { body: JSON.parse(page([pod('c')])) as unknown },
    ]);
    const pods = await (await port(api.url, { pageSize: 1 })).listPods();
    expect(pods.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(api.requests[0]?.headers['accept-encoding']).toContain('gzip');
    expect(new Set(api.requests.map((r) => r.socket.remotePort)).size).toBe(1);
  });

  it('reads gzip answers streamed in pieces, small and larger than a page slot, interleaved with plain ones', async () => {
    // Many pods with distinct names: the largest page decompresses to more than one 2 MB slot.
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => pod(`${prefix}-${i}`, ['AWS_ROLE_ARN']));
    const page = (items: unknown[], cont?: string) => JSON.stringify({ kind: 'PodList', metadata: cont ? { continue: cont } : {}, items });
    const chunked = (text: string) => (_req: IncomingMessage, res: ServerResponse) => {
      // No Content-Length (a compressed answer streams, as kube-apiserver's does), sent in pieces.
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      const z = gzipSync(text);
      for (let at = 0; at < z.length; at += 1000) res.write(z.subarray(at, at + 1000));
      res.end();
    };
    const large = many('big', 12_000);
    expect(Buffer.byteLength(page(large, 't2'))).toBeGreaterThan(2 * 1024 * 1024);
    const api = await apiServer([chunked(page(many('a', 50), 't1')), chunked(page(large, 't2')), { body: JSON.parse(page(many('c', 3), 't3')) as unknown }, chunked(page(many('d', 2)))]);
    const pods = await (await port(api.url)).listPods();
    expect(pods.map((p) => p.name)).toEqual([...many('a', 50), ...large, ...many('c', 3), ...many('d', 2)].map((p) => p.metadata.name));
  });

  it('a gzip answer that is corrupt, or cut off, is retried as a network failure, then one clear error; never a hang', async () => {
    const corrupt = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(Buffer.from('this is not gzip at all'));
    };
    const cutOff = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      const z = gzipSync(JSON.stringify({ kind: 'NodeList', metadata: {}, items: [] }));
      res.write(z.subarray(0, z.length - 5));
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const nodes = { kind: 'NodeList', metadata: {}, items: [{ metadata: { name: 'n1' } }] };
    // Retried: the next attempt's answer is read.
    const api = await apiServer([corrupt, cutOff, { body: nodes }]);
    expect((await (await port(api.url, { sleep: noSleep })).listNodes()).map((n) => n.name)).toEqual(['n1']);
    expect(api.requests).toHaveLength(3);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    // Every attempt corrupt: one error naming the list and the reason.
    const bad = await apiServer([corrupt, corrupt, corrupt, corrupt, corrupt, corrupt]);
    const err = await (await port(bad.url, { sleep: noSleep })).listNodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodidError);
    expect((err as PodidError).code).toBe('KUBE_UNREACHABLE');
    expect((err as PodidError).message).toMatch(/list nodes.*incorrect header check/);
  });

  it('a server that does not answer fails after the request timeout, tried twice', async () => {
    const api = await apiServer([() => undefined, () => undefined]);
    const err = await (await port(api.url, { requestTimeoutMs: 100, sleep: noSleep })).listNodes().catch((e: unknown) => e);
    expect((err as PodidError).code).toBe('KUBE_UNREACHABLE');
    expect((err as PodidError).message).toContain('no answer before the request timeout');
    expect(api.requests).toHaveLength(2);
  });

  it('an answer that is not JSON (a login page, a proxy error) is one clear error', async () => {
    const api = await apiServer([
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>sign in</html>');
      },
    ]);
    const err = await (await port(api.url)).listPods().catch((e: unknown) => e);
    expect((err as PodidError).code).toBe('KUBE_ERROR');
    expect((err as PodidError).message).toMatch(/list pods in context "c": the API server's answer is not valid JSON/);
  });

  it('an object of a shape Kubernetes never serves is a KUBE_ERROR naming the object and the field, never a TypeError', async () => {
    const bad = (change: (p: ReturnType<typeof pod>) => unknown) => {
      const p = pod('odd');
      change(p);
      return { body: { kind: 'PodList', metadata: {}, items: [pod('fine'), p] } };
    };
    const cases: [ReturnType<typeof bad> | { body: unknown }, string, string][] = [
      [bad((p) => ((p.spec.containers[0] as Record<string, unknown>)['env'] = 7)), 'list pods', 'Pod shop/odd in a shape podid cannot read: spec.containers[0].env is not a list'],
      [bad((p) => ((p.spec as Record<string, unknown>)['containers'] = [null])), 'list pods', 'Pod shop/odd in a shape podid cannot read: spec.containers[0] is not an object (null)'],
      [{ body: { kind: 'PodList', metadata: {}, items: [null] } }, 'list pods', 'Pod (no name) in a shape podid cannot read: the object is not an object (null)'],
      [{ body: { kind: 'DeploymentList', metadata: {}, items: [{ metadata: { name: 'web', namespace: 'shop', ownerReferences: 3 }, spec: {} }] } }, 'list deployments', 'Deployment shop/web in a shape podid cannot read: metadata.ownerReferences is not a list'],
    ];
    for (const [reply, what, message] of cases) {
      const api = await apiServer([reply]);
      const p = await port(api.url, { sleep: noSleep });
      const err = await (what === 'list pods' ? p.listPods() : p.listDeployments()).catch((e: unknown) => e);
      expect(err, message).toBeInstanceOf(PodidError);
      expect((err as PodidError).code).toBe('KUBE_ERROR');
      expect((err as PodidError).message).toBe(`${what} in context "c": the API server sent ${message}`);
      expect((err as PodidError).message).not.toMatch(/TypeError|not iterable|Cannot read/);
      expect(api.requests).toHaveLength(1);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
    // What the mappers can read around (a spec that is not an object holds no containers) is read.
    const api = await apiServer([bad((p) => ((p as Record<string, unknown>)['spec'] = 5))]);
    const pods = await (await port(api.url)).listPods();
    expect(pods.map((p) => [p.name, p.serviceAccount, p.identity])).toEqual([['fine', 'cart', 'none'], ['odd', 'default', 'none']]);
  });

  it('a connection cut in the middle of a page is retried as a network failure', async () => {
    const api = await apiServer([
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"kind":"PodList","items":[');
        setTimeout(() => res.socket?.destroy(), 10);
      },
      { body: { kind: 'PodList', metadata: {}, items: [pod('a')] } },
    ]);
    const pods = await (await port(api.url, { sleep: noSleep })).listPods();
    expect(pods.map((p) => p.name)).toEqual(['a']);
    expect(api.requests).toHaveLength(2);
  });

  describe('credentials as client-node applies them, read without it', () => {
    const config = (url: string, cluster: string, user: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: c',
        `clusters: [{ name: c, cluster: { server: "${url}"${cluster} } }]`,
        `users: [{ name: u, user: ${user} }]`,
        'contexts: [{ name: c, context: { cluster: c, user: u } }]',
      ].join('\n');

    it('runs an exec plugin once for the pages of several lists while its token is valid, with its env', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'podid-exec-'));
      const runs = join(dir, 'runs');
      const script = `require('fs').appendFileSync(${JSON.stringify(runs)}, 'x'); process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential', status: { token: 'exec-' + process.env.PODID_TEST_TOKEN, expirationTimestamp: new Date(Date.now() + 600000).toISOString() } }))`;
      const user = `{ exec: { apiVersion: client.authentication.k8s.io/v1beta1, command: ${JSON.stringify(process.execPath)}, args: ["-e", ${JSON.stringify(script)}], env: [{ name: PODID_TEST_TOKEN, value: t0k }] } }`;
      const page = (name: string, cont?: string) => ({ body: { kind: 'PodList', metadata: cont ? { continue: cont } : {}, items: [pod(name)] } });
      const api = await apiServer([page('a', 't1'), page('b'), { body: { kind: 'NodeList', metadata: {}, items: [] } }]);
      const p = (await kubePortFactory(await kubeconfigFromString(config(api.url, ', insecure-skip-tls-verify: true', user)), { pageSize: 1 }))('c');
      await Promise.all([p.listPods(), p.listNodes()]);
      expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer exec-t0k', 'Bearer exec-t0k', 'Bearer exec-t0k']);
      expect(readFileSync(runs, 'utf8')).toBe('x');
    });

    it('an exec plugin that fails is the list\'s error, with what it printed on stderr', async () => {
      const api = await apiServer([]);
      const user = `{ exec: { command: ${JSON.stringify(process.execPath)}, args: ["-e", "process.stderr.write('no SSO session'); process.exit(1)"] } }`;
      const err = await (await kubePortFactory(await kubeconfigFromString(config(api.url, ', insecure-skip-tls-verify: true', user)), { sleep: noSleep }))('c').listPods().catch((e: unknown) => e);
      expect((err as PodidError).code).toBe('KUBE_CREDENTIALS_UNAVAILABLE');
      expect((err as PodidError).message).toContain(`exec plugin ${JSON.stringify(process.execPath)} failed with exit code 1: no SSO session`);
      expect(api.requests).toHaveLength(0);
    });

    it('refuses a plain-HTTP server unless insecure-skip-tls-verify is set, whatever the scheme\'s case', async () => {
      const api = await apiServer([]);
      for (const url of [api.url, api.url.replace(/^http:/, 'HTTP:')]) {
        const err = await (await kubePortFactory(await kubeconfigFromString(config(url, '', '{ token: t }'))))('c').listPods().catch((e: unknown) => e);
        expect((err as PodidError).code).toBe('KUBECONFIG_INVALID');
        expect((err as PodidError).message).toContain('is plain HTTP');
      }
      expect(api.requests).toHaveLength(0);
    });

    it('sends basic auth and the impersonated user; a token-file is read for the request', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'podid-token-'));
      writeFileSync(join(dir, 'token'), 'from-file');
      const api = await apiServer([{ body: { kind: 'PodList', metadata: {}, items: [] } }, { body: { kind: 'PodList', metadata: {}, items: [] } }]);
      await (await kubePortFactory(await kubeconfigFromString(config(api.url, ', insecure-skip-tls-verify: true', '{ username: ada, password: pw, as: bob }'))))('c').listPods();
      await (await kubePortFactory(await kubeconfigFromString(config(api.url, ', insecure-skip-tls-verify: true', `{ token-file: ${JSON.stringify(join(dir, 'token'))} }`))))('c').listPods();
      expect(api.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('ada:pw').toString('base64')}`);
      expect(api.requests[0]?.headers['impersonate-user']).toBe('bob');
      expect(api.requests[1]?.headers.authorization).toBe('Bearer from-file');
    });

    it('a user with an auth-provider goes through client-node (its token file provider here)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'podid-provider-'));
      writeFileSync(join(dir, 'token'), 'provider-token');
      const api = await apiServer([{ body: { kind: 'PodList', metadata: {}, items: [] } }]);
      const user = `{ auth-provider: { name: file, config: { tokenFile: ${JSON.stringify(join(dir, 'token'))} } } }`;
      await (await kubePortFactory(await kubeconfigFromString(config(api.url, ', insecure-skip-tls-verify: true', user))))('c').listPods();
      expect(api.requests[0]?.headers.authorization).toBe('Bearer provider-token');
    });
  });

  describe('over TLS, with the kubeconfig\'s CA and client certificate', () => {
    const tls = (f: string) => readFileSync(new URL(`../fixtures/tls/${f}`, import.meta.url));
    const b64 = (f: string) => tls(f).toString('base64');
    let https: TlsServer | undefined;
    afterEach(async () => {
      await new Promise<void>((resolve) => (https ? https.close(() => resolve()) : resolve()));
      https = undefined;
    });

    async function tlsServer(): Promise<{ url: string; requests: IncomingMessage[] }> {
      const requests: IncomingMessage[] = [];
      const pages = [
        { kind: 'PodList', metadata: { continue: 't1' }, items: [pod('a')] },
        { kind: 'PodList', metadata: {}, items: [pod('b')] },
      ];
      https = createTlsServer({ key: tls('server.key'), cert: tls('server.crt'), ca: tls('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
        requests.push(req);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(pages.shift() ?? { kind: 'PodList', metadata: {}, items: [] }));
      });
      await new Promise<void>((resolve) => https!.listen(0, '127.0.0.1', resolve));
      return { url: `https://127.0.0.1:${(https!.address() as AddressInfo).port}`, requests };
    }

    const kubeconfig = (url: string, cluster: string) =>
      kubeconfigFromString(
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: c',
          `clusters: [{ name: c, cluster: { server: "${url}"${cluster} } }]`,
          `users: [{ name: u, user: { client-certificate-data: ${b64('client.crt')}, client-key-data: ${b64('client.key')} } }]`,
          'contexts: [{ name: c, context: { cluster: c, user: u } }]',
        ].join('\n'),
      );

    it('verifies the server against certificate-authority-data, presents the client certificate, and keeps one connection for the pages', async () => {
      const api = await tlsServer();
      const kc = await kubeconfig(api.url, `, certificate-authority-data: ${b64('ca.crt')}`);
      const pods = await (await kubePortFactory(kc, { pageSize: 1 }))('c').listPods();
      expect(pods.map((p) => p.name)).toEqual(['a', 'b']);
      expect(api.requests.map((r) => (r.socket as TLSSocket).getPeerCertificate().subject.CN)).toEqual(['podid-scanner', 'podid-scanner']);
      expect(new Set(api.requests.map((r) => r.socket.remotePort)).size).toBe(1);
    });

    it('refuses a server its CA did not sign (no CA in the kubeconfig): unreachable, with the TLS reason', async () => {
      const api = await tlsServer();
      const kc = await kubeconfig(api.url, '');
      const err = await (await kubePortFactory(kc, { sleep: noSleep, maxAttempts: 2 }))('c').listPods().catch((e: unknown) => e);
      expect((err as PodidError).code).toBe('KUBE_UNREACHABLE');
      expect((err as PodidError).message).toMatch(/certificate/);
      expect(api.requests).toHaveLength(0);
    });
  });
});
