/**
 * kube-auth.ts and kubeconfig.ts's per-cluster decisions, against client-go's rules: the
 * transport (https, or http only with insecure-skip-tls-verify, whatever the scheme's case), no
 * CA with insecure-skip-tls-verify, and exec credential plugins (small sh scripts written here
 * into a temporary directory): bounded, no stdin, one-line failures, checked ExecCredentials,
 * cached for the run without an expiry, skipped for a user with a static credential; token-file
 * and exec command paths relative to the kubeconfig, the token-file read lazily and trimmed;
 * the run's environment and directory passed to the plugin; a 401 to credentials from a plugin
 * or a token-file renews them once and sends the request (a write too, body and all) again.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsOf, KubeCredentialError } from '../../src/adapters/kube-auth.js';
import { kubeApplyPortFactory } from '../../src/adapters/kube-write.js';
import { describeKubeFailure, isRetryable } from '../../src/adapters/kube.js';
import { clusterTransport, loadKubeconfig } from '../../src/adapters/kubeconfig.js';
import { PodidError, UsageError } from '../../src/core/errors.js';
import type { KubeApplyPort } from '../../src/core/apply/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'podid-kube-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** An executable sh script in the temp dir; returns its path. */
function script(body: string, name = `plugin-${++n}`): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const CREDENTIAL = (token: string, extra = '') => `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${token}"${extra}}}`;

/** A kubeconfig file (in its own directory under the temp dir) with one context `c`. */
async function kubeconfig(user: string, cluster = 'server: https://127.0.0.1:1', opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const sub = join(dir, `kc-${++n}`);
  mkdirSync(sub);
  const file = join(sub, 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
    ${cluster.split('\n').join('\n    ')}
contexts:
- name: c
  context: {cluster: k, user: u}
users:
- name: u
  user:
    ${user.split('\n').join('\n    ')}
`,
  );
  const kc = await loadKubeconfig(file, {}, dir, opts.cwd, opts.env);
  return { kc, dir: sub };
}

function execUser(command: string, extra = ''): string {
  return `exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: ${JSON.stringify(command)}\n  args: []${extra ? `\n  ${extra}` : ''}`;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('clusterTransport', () => {
  const cluster = (server: string, extra: object = {}) => ({ name: 'arn:k', server, skipTLSVerify: false, ...extra });

  it('takes https (any case) and http only with insecure-skip-tls-verify', () => {
    expect(clusterTransport(cluster('https://a'))).toBe('https:');
    expect(clusterTransport(cluster('HTTPS://a'))).toBe('https:');
    expect(clusterTransport(cluster('http://a', { skipTLSVerify: true }))).toBe('http:');
    expect(clusterTransport(cluster('HTTP://a', { skipTLSVerify: true }))).toBe('http:');
  });

  it('refuses plain HTTP without insecure-skip-tls-verify whatever the case, and other schemes, naming the entry', () => {
    for (const server of ['http://a', 'HTTP://a', 'Http://a', 'ftp://a', 'not a url']) {
      const err = (() => {
        try {
          clusterTransport(cluster(server));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, server).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('KUBECONFIG_INVALID');
      expect((err as UsageError).message).toContain('"arn:k"');
      expect((err as UsageError).message).not.toContain('\n');
    }
  });

  it('refuses insecure-skip-tls-verify with a certificate authority (client-go)', () => {
    for (const extra of [{ caFile: '/ca.crt' }, { caData: 'Zm9v' }]) {
      expect(() => clusterTransport(cluster('https://a', { skipTLSVerify: true, ...extra }))).toThrow(/"arn:k".*specifying a root certificates file with the insecure flag is not allowed/);
    }
  });
});

describe('exec credential plugins', () => {
  it('runs the plugin with no stdin, KUBERNETES_EXEC_INFO, the run environment and directory', async () => {
    const log = join(dir, 'env.log');
    const cmd = script(`read line; echo "read=$? info=$KUBERNETES_EXEC_INFO marker=$MARKER cwd=$PWD" > ${log}; echo '${CREDENTIAL('t1')}'`);
    const runDir = mkdtempSync(join(dir, 'cwd-'));
    const { kc } = await kubeconfig(execUser(cmd), undefined, { env: { PATH: process.env['PATH'], MARKER: 'run-env' }, cwd: runDir });
    const applied = await credentialsOf(kc, 'c')(5_000);
    expect(applied.headers?.['Authorization']).toBe('Bearer t1');
    const seen = readFileSync(log, 'utf8');
    // `read` hits end-of-file at once (status 1): the plugin has no terminal or pipe to wait on.
    expect(seen).toContain('read=1');
    expect(seen).toContain('info={"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}}');
    expect(seen).toContain('marker=run-env');
    expect(seen).toContain(`cwd=${runDir}`);
  });

  it('a failure is one line: the exit code and the first non-empty stderr line; not retried', async () => {
    const log = join(dir, 'fail.log');
    const cmd = script(`echo run >> ${log}; printf '\\nAn error occurred (ExpiredTokenException): the token is expired\\nmore\\n' >&2; exit 255`);
    const { kc } = await kubeconfig(execUser(cmd));
    const creds = credentialsOf(kc, 'c');
    const err = await failure(creds(5_000));
    // Kept for the run: the next request fails the same way without running it again.
    expect(await failure(creds(5_000))).toBe(err);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(err).toBeInstanceOf(KubeCredentialError);
    expect(err.message).toBe(`exec plugin ${JSON.stringify(cmd)} failed with exit code 255: An error occurred (ExpiredTokenException): the token is expired`);
    expect(isRetryable(describeKubeFailure(err))).toBe(false);
  });

  it('a plugin not on PATH is named, with the installHint, and not retried', async () => {
    const { kc } = await kubeconfig(execUser('podid-no-such-plugin', 'installHint: "Install the AWS CLI:\\n  https://example.invalid/cli"'));
    const err = (await failure(credentialsOf(kc, 'c')(5_000))) as KubeCredentialError;
    expect(err.message).toBe('exec plugin "podid-no-such-plugin" not found on PATH');
    expect(err.hint).toBe('Install the AWS CLI: https://example.invalid/cli');
    expect(isRetryable(describeKubeFailure(err))).toBe(false);
  });

  it('a plugin that does not answer is killed after the request timeout', async () => {
    const cmd = script('exec sleep 1000');
    const { kc } = await kubeconfig(execUser(cmd));
    const err = await failure(credentialsOf(kc, 'c')(300));
    expect(err.message).toBe(`exec plugin ${JSON.stringify(cmd)} did not answer within 300 ms`);
  });

  it.runIf(existsSync('/proc/self/stat'))('what a plugin that does not answer started is killed with it (a wrapper script and its hung child)', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const cmd = script(`sleep 1000 & echo $! > ${pidFile}; wait`);
    const { kc } = await kubeconfig(execUser(cmd));
    const err = await failure(credentialsOf(kc, 'c')(300));
    expect(err.message).toBe(`exec plugin ${JSON.stringify(cmd)} did not answer within 300 ms`);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    /** Its state letter, or 'gone'; a zombie (Z, X) waits only to be reaped: no longer running. */
    const state = (): string => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.charAt(stat.lastIndexOf(')') + 2);
      } catch {
        return 'gone';
      }
    };
    // SIGKILL is delivered asynchronously: wait for it (bounded), then judge.
    for (let i = 0; i < 100 && !['gone', 'Z', 'X'].includes(state()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(['gone', 'Z', 'X']).toContain(state());
  });

  it.each([
    ['Enter MFA code:', 'printed no ExecCredential (decoding stdout: not JSON)'],
    ['null', "didn't return a status field"],
    ['{}', "didn't return a status field"],
    ['{"status":{}}', "didn't return a token or cert/key pair"],
    ['{"status":{"clientCertificateData":"x"}}', 'returned only certificate or key, not both'],
    ['{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t"}}', 'is configured to use API version client.authentication.k8s.io/v1beta1, plugin returned version client.authentication.k8s.io/v1'],
  ])('checks the ExecCredential: %s', async (out, says) => {
    const cmd = script(`echo '${out}'`);
    const { kc } = await kubeconfig(execUser(cmd));
    const err = await failure(credentialsOf(kc, 'c')(5_000));
    expect(err).toBeInstanceOf(KubeCredentialError);
    expect(err.message).toBe(`exec plugin ${JSON.stringify(cmd)} ${says}`);
  });

  it('keeps a credential without expirationTimestamp for the run', async () => {
    const log = join(dir, 'runs.log');
    const cmd = script(`echo run >> ${log}; echo '${CREDENTIAL('t2')}'`);
    const { kc } = await kubeconfig(execUser(cmd));
    const creds = credentialsOf(kc, 'c');
    for (let i = 0; i < 3; i++) expect((await creds(5_000)).headers?.['Authorization']).toBe('Bearer t2');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('runs again once the credential has expired', async () => {
    const log = join(dir, 'expired.log');
    const cmd = script(`echo run >> ${log}; echo '${CREDENTIAL('t3', ',"expirationTimestamp":"2000-01-01T00:00:00Z"')}'`);
    const { kc } = await kubeconfig(execUser(cmd));
    const creds = credentialsOf(kc, 'c');
    await creds(5_000);
    await creds(5_000);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('a relative command with a path separator is relative to the kubeconfig directory', async () => {
    const { kc, dir: kdir } = await kubeconfig(execUser('./bin/token'), undefined, { cwd: tmpdir() });
    mkdirSync(join(kdir, 'bin'));
    writeFileSync(join(kdir, 'bin', 'token'), `#!/bin/sh\necho '${CREDENTIAL('rel')}'\n`);
    chmodSync(join(kdir, 'bin', 'token'), 0o755);
    expect((await credentialsOf(kc, 'c')(5_000)).headers?.['Authorization']).toBe('Bearer rel');
  });
});

describe('static credentials', () => {
  it.each([
    ['a token', 'token: static'],
    ['basic auth', 'username: me\npassword: pw'],
  ])('%s skips the exec plugin (client-go)', async (_what, user) => {
    const log = join(dir, `static-${++n}.log`);
    const cmd = script(`echo run >> ${log}; echo '${CREDENTIAL('from-exec')}'`);
    const { kc } = await kubeconfig(`${user}\n${execUser(cmd)}`);
    const applied = await credentialsOf(kc, 'c')(5_000);
    expect(applied.headers?.['Authorization']).not.toBe('Bearer from-exec');
    expect(() => readFileSync(log)).toThrow();
  });

  it('a token-file is relative to the kubeconfig, trimmed, and read only when a request needs it', async () => {
    const { kc, dir: kdir } = await kubeconfig('token-file: token.txt', undefined, { cwd: tmpdir() });
    // Not there at load: only the request needs it.
    const creds = credentialsOf(kc, 'c');
    const missing = await failure(creds(5_000));
    expect(missing).toBeInstanceOf(KubeCredentialError);
    expect(missing.message).toBe(`cannot read the token-file ${join(kdir, 'token.txt')}: no such file`);
    writeFileSync(join(kdir, 'token.txt'), '  file-token\n');
    expect((await creds(5_000)).headers?.['Authorization']).toBe('Bearer file-token');
  });

  it('a token-file skips the exec plugin', async () => {
    const log = join(dir, 'tf.log');
    const cmd = script(`echo run >> ${log}; echo '${CREDENTIAL('from-exec')}'`);
    const { kc, dir: kdir } = await kubeconfig(`token-file: t\n${execUser(cmd)}`);
    writeFileSync(join(kdir, 't'), 'tf');
    expect((await credentialsOf(kc, 'c')(5_000)).headers?.['Authorization']).toBe('Bearer tf');
    expect(() => readFileSync(log)).toThrow();
  });
});

describe('a 401 renews credentials from a plugin or a token-file once', () => {
  /** A plain-HTTP API server that takes only `Bearer good`, recording each request. */
  async function server(): Promise<{ url: string; seen: { method: string; auth: string; body: string }[]; close: () => void }> {
    const seen: { method: string; auth: string; body: string }[] = [];
    const srv = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', auth: req.headers.authorization ?? '', body });
        const ok = req.headers.authorization === 'Bearer good';
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? '{"metadata":{}}' : '{"kind":"Status","message":"Unauthorized"}');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen, close: () => srv.close() };
  }
  const cluster = (url: string) => `server: ${url}\ninsecure-skip-tls-verify: true`;

  it('a write rejected with a stale plugin token is sent again, body and all, with the new one', async () => {
    const api = await server();
    try {
      const log = join(dir, `runs-${++n}.log`);
      // First run: a token the server refuses; then a good one.
      const plugin = script(`echo run >> ${log}\nif [ "$(wc -l < ${log})" -eq 1 ]; then echo '${CREDENTIAL('stale')}'; else echo '${CREDENTIAL('good')}'; fi`);
      const { kc } = await kubeconfig(execUser(plugin), cluster(api.url));
      const port = (await kubeApplyPortFactory(kc, { requestTimeoutMs: 5_000 }))('c');
      await port.patchServiceAccountAnnotations('shop', 'cart', { a: 'b' });
      expect(api.seen.map((r) => `${r.method} ${r.auth} ${r.body}`)).toEqual([
        'PATCH Bearer stale {"metadata":{"annotations":{"a":"b"}}}',
        'PATCH Bearer good {"metadata":{"annotations":{"a":"b"}}}',
      ]);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      api.close();
    }
  });

  it('a second 401 is KUBE_UNAUTHORIZED; a static token is not sent again', async () => {
    const api = await server();
    try {
      const log = join(dir, `runs-${++n}.log`);
      const plugin = script(`echo run >> ${log}\necho '${CREDENTIAL('stale')}'`);
      const { kc } = await kubeconfig(execUser(plugin), cluster(api.url));
      const port = (await kubeApplyPortFactory(kc, { requestTimeoutMs: 5_000 }))('c');
      const err = (await failure(port.getServiceAccount('shop', 'cart'))) as PodidError;
      expect(err.code).toBe('KUBE_UNAUTHORIZED');
      expect(api.seen).toHaveLength(2);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);

      api.seen.length = 0;
      const { kc: staticKc } = await kubeconfig('token: stale', cluster(api.url));
      const staticErr = (await failure((await kubeApplyPortFactory(staticKc, { requestTimeoutMs: 5_000 }))('c').getServiceAccount('shop', 'cart'))) as PodidError;
      expect(staticErr.code).toBe('KUBE_UNAUTHORIZED');
      expect(api.seen).toHaveLength(1);
    } finally {
      api.close();
    }
  });

  it('a token-file is read again after a 401', async () => {
    const api = await server();
    try {
      const { kc, dir: kdir } = await kubeconfig('token-file: token', cluster(api.url));
      writeFileSync(join(kdir, 'token'), 'stale\n');
      const port = (await kubeApplyPortFactory(kc, { requestTimeoutMs: 5_000 }))('c');
      const first = (await failure(port.getServiceAccount('shop', 'cart'))) as PodidError;
      expect(first.code).toBe('KUBE_UNAUTHORIZED');
      // Rotated on disk (as a projected token is): the next 401 reads it again.
      writeFileSync(join(kdir, 'token'), 'good\n');
      await port.getServiceAccount('shop', 'cart');
      expect(api.seen.map((r) => r.auth)).toEqual(['Bearer stale', 'Bearer stale', 'Bearer stale', 'Bearer good']);
    } finally {
      api.close();
    }
  });
});

describe("apply's reads of an object in a shape Kubernetes never serves", () => {
  /** A plain-HTTP API server answering every GET with `body(path)`. */
  async function serving(body: (path: string) => unknown): Promise<{ url: string; close: () => void }> {
    const srv = createServer((req: IncomingMessage, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body(req.url ?? '')));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() };
  }
  const pod = (extra: object) => ({ metadata: { namespace: 'shop', name: 'cart-1' }, spec: { containers: [{ name: 'a' }] }, status: { phase: 'Running' }, ...extra });

  it('is one KUBE_ERROR naming the object and the field, never a TypeError', async () => {
    const cases: [string, (port: KubeApplyPort) => Promise<unknown>, unknown, string][] = [
      ['pods', (p) => p.listPods('shop', 'cart'), { items: [pod({ spec: { containers: 5 } })] }, 'list pods in shop in context "c": the API server sent Pod shop/cart-1 in a shape podid cannot read: spec.containers is not a list'],
      ['pod conditions', (p) => p.listPods('shop', 'cart'), { items: [pod({ status: { conditions: { type: 'Ready' } } })] }, 'Pod shop/cart-1 in a shape podid cannot read: status.conditions is not a list'],
      ['env', (p) => p.getPodRun!('shop', 'cart-1'), pod({ spec: { containers: [{ name: 'a', env: 7 }] } }), 'get pod shop/cart-1 in context "c": the API server sent Pod shop/cart-1 in a shape podid cannot read: spec.containers[0].env is not a list'],
      ['workload', (p) => p.getWorkload('Deployment', 'shop', 'cart'), { metadata: { namespace: 'shop', name: 'cart' }, status: { conditions: 'Available' } }, 'get deployments shop/cart in context "c": the API server sent Deployment shop/cart in a shape podid cannot read: status.conditions is not a list'],
      ['items', (p) => p.listNodes(), { items: { a: 1 } }, 'list nodes in context "c": the API server sent a list whose items are not a list'],
    ];
    for (const [label, call, body, message] of cases) {
      const api = await serving(() => body);
      try {
        const { kc } = await kubeconfig('token: good', `server: ${api.url}\ninsecure-skip-tls-verify: true`);
        const port = (await kubeApplyPortFactory(kc, { requestTimeoutMs: 5_000 }))('c');
        const err = (await failure(call(port))) as PodidError;
        expect(err, label).toBeInstanceOf(PodidError);
        expect(err.code, label).toBe('KUBE_ERROR');
        expect(err.message, label).toContain(message);
        expect(err.message, label).not.toMatch(/TypeError|is not a function|is not iterable/);
      } finally {
        api.close();
      }
    }
  });
});
