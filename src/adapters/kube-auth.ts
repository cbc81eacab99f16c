/**
 * A kubeconfig context's credentials for one request, as @kubernetes/client-node's
 * KubeConfig.applyToHTTPSOptions fills in request options (config.js, exec_auth.js in the
 * installed version): TLS (insecure-skip-tls-verify, tls-server-name, the CA and the client
 * certificate and key, from a file or inline), impersonation, then the Authorization header (an
 * exec plugin's ExecCredential, cached until its expirationTimestamp; a `token`, which wins), basic
 * auth. The plain-HTTP refusal and the scheme are decided once per cluster entry (clusterTransport
 * in kubeconfig.ts).
 *
 * Without loading client-node for those (what EKS kubeconfigs use): a user with an `auth-provider`
 * (azure, gcp, oidc, a token file, exec through a provider) or a cluster with a `proxy-url` is
 * handed to client-node itself, loaded then, whose agent carries the proxy.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { User } from '@kubernetes/client-node';
import type { Kubeconfig } from './kubeconfig.js';

export type TlsOptions = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;
/** What applyToHTTPSOptions fills in: TLS options, `auth`, `headers` (a plain object), `agent` (client-node's path only). */
export interface Applied extends TlsOptions {
  auth?: string;
  headers?: Record<string, string | string[] | number>;
  agent?: unknown;
}

/** An exec plugin's answer (client.authentication.k8s.io ExecCredential), as client-node reads it. */
interface ExecCredential {
  status: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string };
}

/** The credentials of `context` for each request. */
export function credentialsOf(kc: Kubeconfig, context: string): () => Promise<Applied> {
  const ctx = kc.getContext(context);
  const cluster = ctx ? kc.getCluster(ctx.cluster) : null;
  const user = ctx ? kc.getUser(ctx.user) : null;
  if (user?.authProvider || cluster?.proxyUrl) return viaClientNode(kc, context);
  const exec = execCredentials();
  return async () => {
    const opts: Applied = {};
    if (user) {
      // applyHTTPSOptions (nothing at all without a user, as there).
      if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false;
      if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName;
      const ca = cluster ? fileOrData(cluster.caFile, cluster.caData) : null;
      if (ca) opts.ca = ca;
      const cert = fileOrData(user.certFile, user.certData);
      if (cert) opts.cert = cert;
      const key = fileOrData(user.keyFile, user.keyData);
      if (key) opts.key = key;
      if (user.impersonateUser != null) {
        opts.headers ??= {};
        opts.headers['Impersonate-User'] = user.impersonateUser;
      }
      // applyAuthorizationHeader: the exec plugin's credential, then a token (which wins).
      opts.headers ??= {};
      if (user.exec) {
        const credential = await exec(user);
        if (credential) {
          if (credential.status.clientCertificateData) opts.cert = credential.status.clientCertificateData;
          if (credential.status.clientKeyData) opts.key = credential.status.clientKeyData;
          if (credential.status.token) opts.headers['Authorization'] = `Bearer ${credential.status.token}`;
        }
      }
      if (user.token) opts.headers['Authorization'] = `Bearer ${user.token}`;
      if (user.username) opts.auth = `${user.username}:${user.password}`;
    }
    return opts;
  };
}

/** client-node's bufferFromFileOrString: the file's bytes, else the base64 data, else null. */
function fileOrData(file: string | undefined, data: string | undefined): Buffer | null {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return null;
}

/**
 * client-node's ExecAuth: runs the user's exec command (its env added to this process's) and
 * reads the ExecCredential it prints; kept per user name until its expirationTimestamp (one
 * without is not kept). Requests that need one while it runs wait for the same run.
 */
function execCredentials(): (user: User) => Promise<ExecCredential | null> {
  const cache = new Map<string, ExecCredential>();
  const running = new Map<string, Promise<ExecCredential | null>>();
  return (user) => {
    const cached = cache.get(user.name);
    if (cached) {
      if (Date.parse(cached.status.expirationTimestamp ?? '') > Date.now()) return Promise.resolve(cached);
      cache.delete(user.name);
    }
    let run = running.get(user.name);
    if (!run) {
      run = runExec(user).then(
        (credential) => {
          running.delete(user.name);
          if (credential) cache.set(user.name, credential);
          return credential;
        },
        (err: unknown) => {
          running.delete(user.name);
          throw err;
        },
      );
      running.set(user.name, run);
    }
    return run;
  };
}

function runExec(user: User): Promise<ExecCredential | null> {
  const exec = user.exec as { command?: string; args?: string[]; env?: { name: string; value: string }[] } | null | undefined;
  if (!exec) return Promise.resolve(null);
  if (!exec.command) return Promise.reject(new Error('No command was specified for exec authProvider!'));
  const env = exec.env ? { ...process.env, ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])) } : undefined;
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let failed: unknown;
    const child = spawn(exec.command!, exec.args ?? [], env ? { env } : {});
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', (err) => (failed = err));
    child.on('close', (code) => {
      if (failed) return reject(failed);
      if (code !== 0) return reject(new Error(stderr));
      try {
        resolve(JSON.parse(stdout) as ExecCredential | null);
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** The context's credentials through client-node's own KubeConfig (loaded on the first request). */
function viaClientNode(kc: Kubeconfig, context: string): () => Promise<Applied> {
  let pinned: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  return async () => {
    pinned ??= import('./k8s-client.js').then((k8s) => {
      const c = new k8s.KubeConfig();
      c.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: context });
      return c;
    });
    const opts: Applied = {};
    await (await pinned).applyToHTTPSOptions(opts as Parameters<import('@kubernetes/client-node').KubeConfig['applyToHTTPSOptions']>[0]);
    return opts;
  };
}
