/**
 * A kubeconfig context's credentials for one request, as @kubernetes/client-node's
 * KubeConfig.applyToHTTPSOptions fills in request options (config.js in the installed version):
 * TLS (insecure-skip-tls-verify, tls-server-name, the CA and the client certificate and key,
 * from a file or inline), impersonation, then the Authorization header, and basic auth. Where
 * client-node and client-go (kubectl) differ, client-go's rules hold:
 * - an exec plugin runs only for a user without a token, token-file, basic auth or client
 *   certificate and key; its ExecCredential is checked (a status, a token or a certificate and
 *   key pair) and kept until its expirationTimestamp, or for the run when it has none; it gets
 *   KUBERNETES_EXEC_INFO (non-interactive), no stdin, and is killed after the request timeout
 *   (EXEC_CEILING_MS without one); a failure is one line naming the plugin (KubeCredentialError);
 * - a token-file is read when a request needs it, trimmed, and read again after a minute;
 * - a credential from an exec plugin or a token-file that the server rejects (401) is dropped
 *   (`renew`): the next request runs the plugin, or reads the file, again (kube-http.ts).
 * The plain-HTTP refusal and the scheme are decided once per cluster entry (clusterTransport in
 * kubeconfig.ts).
 *
 * Without loading client-node for those (what EKS kubeconfigs use): a user with an `auth-provider`
 * (azure, gcp, oidc, exec through a provider) or a cluster with a `proxy-url` is handed to
 * client-node itself, loaded then, whose agent carries the proxy.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { basename } from 'node:path';
import { PodidError } from '../core/errors.js';
import type { KubeUser, Kubeconfig } from './kubeconfig.js';

export type TlsOptions = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;
/** What applyToHTTPSOptions fills in: TLS options, `auth`, `headers` (a plain object), `agent` (client-node's path only). */
export interface Applied extends TlsOptions {
  auth?: string;
  headers?: Record<string, string | string[] | number>;
  agent?: unknown;
  /**
   * Drops these credentials, so that the next request gets new ones: set when they came from an
   * exec plugin or a token-file, which can give other credentials when asked again (client-go's
   * refresh after a 401). Dropping credentials that were already replaced does nothing.
   */
  renew?: () => void;
}

/** An exec plugin's answer (client.authentication.k8s.io ExecCredential), checked as client-go checks it. */
interface ExecCredential {
  apiVersion?: string;
  status: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string };
}

/** A user's exec plugin, as the kubeconfig gives it. */
interface ExecConfig {
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  installHint?: string;
}

/**
 * The context's credentials could not be had: its exec plugin failed, timed out, is missing or
 * printed no usable ExecCredential, or its token-file cannot be read. One line, with a hint;
 * never retried (kube.ts maps it to KUBE_CREDENTIALS_UNAVAILABLE). It has no `code`, so it is
 * never taken for a network failure.
 */
export class KubeCredentialError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'KubeCredentialError';
  }
}

/** KUBE_CREDENTIALS_UNAVAILABLE for the scan's reads and apply's writes alike. */
export function credentialsUnavailable(err: KubeCredentialError, context: string, what?: string): PodidError {
  return new PodidError('KUBE_CREDENTIALS_UNAVAILABLE', `cannot get the credentials of context ${JSON.stringify(context)}${what ? ` (${what})` : ''}: ${err.message}`, { hint: err.hint, cause: err });
}

/** The plugin's deadline when --request-timeout is 0 (none): a plugin never holds a scan forever. */
const EXEC_CEILING_MS = 60_000;
/** client-go re-reads a token-file after a minute (cachingTokenSource). */
const TOKEN_FILE_TTL_MS = 60_000;

/** The plugin environment and directory: the run's (Kubeconfig.plugin), else this process's. */
interface PluginContext {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * The credentials of `context` for each request; `timeoutMs` (the request timeout, 0 for
 * none) also bounds an exec plugin's run.
 */
export function credentialsOf(kc: Kubeconfig, context: string): (timeoutMs: number) => Promise<Applied> {
  const ctx = kc.getContext(context);
  const cluster = ctx ? kc.getCluster(ctx.cluster) : null;
  const user = ctx ? kc.getUser(ctx.user) : null;
  if (user?.authProvider || cluster?.proxyUrl) return viaClientNode(kc, context);
  const exec = execCredentialsOf(kc);
  const tokenFile = user?.tokenFile ? tokenFileReader(user.tokenFile) : undefined;
  return async (timeoutMs) => {
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
      opts.headers ??= {};
      // client-go runs the exec plugin only for a user without other credentials: a token (or
      // token-file), basic auth, or a client certificate and key.
      const fileToken = !user.token && tokenFile ? tokenFile.read() : undefined;
      const token = user.token || fileToken;
      const hasOther = !!token || !!user.username || (!!cert && !!key);
      if (user.exec && !hasOther) {
        const credential = await exec.get(user, timeoutMs);
        if (credential) {
          if (credential.status.clientCertificateData) opts.cert = credential.status.clientCertificateData;
          if (credential.status.clientKeyData) opts.key = credential.status.clientKeyData;
          if (credential.status.token) opts.headers['Authorization'] = `Bearer ${credential.status.token}`;
          opts.renew = () => exec.drop(user, credential);
        }
      }
      if (token) opts.headers['Authorization'] = `Bearer ${token}`;
      if (fileToken !== undefined) opts.renew = () => tokenFile!.drop(fileToken);
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
 * client-go's token-file: read when a request needs it, trimmed, read again after a minute, or
 * at the next request once `drop` is told the token was rejected.
 */
function tokenFileReader(file: string): { read: () => string; drop: (token: string) => void } {
  let cached: { token: string; at: number } | undefined;
  const drop = (token: string) => {
    if (cached?.token === token) cached = undefined;
  };
  const read = () => {
    if (cached && Date.now() - cached.at < TOKEN_FILE_TTL_MS) return cached.token;
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
      throw new KubeCredentialError(`cannot read the token-file ${file}: ${reason}`, "fix the user's token-file in the kubeconfig", { cause: err });
    }
    cached = { token, at: Date.now() };
    return token;
  };
  return { read, drop };
}

/**
 * client-go's exec authenticator: runs the user's exec command and reads the ExecCredential it
 * prints; kept per user name until its expirationTimestamp, or for the whole run when it has
 * none, or until `drop` is told the server rejected it (client-go's maybeRefreshCreds: only if it
 * is still the cached one, so that requests rejected together run the plugin once). Requests
 * that need one while it runs wait for the same run; a failure is kept for the run (podid never
 * retries it).
 */
function execCredentials(plugin: PluginContext): {
  get: (user: KubeUser, timeoutMs: number) => Promise<ExecCredential | null>;
  drop: (user: KubeUser, credential: ExecCredential) => void;
} {
  const cache = new Map<string, ExecCredential>();
  const running = new Map<string, Promise<ExecCredential | null>>();
  const drop = (user: KubeUser, credential: ExecCredential) => {
    if (cache.get(user.name) === credential) cache.delete(user.name);
  };
  const get = (user: KubeUser, timeoutMs: number) => {
    const cached = cache.get(user.name);
    if (cached) {
      const expires = cached.status.expirationTimestamp;
      if (!expires || Date.parse(expires) > Date.now()) return Promise.resolve(cached);
      cache.delete(user.name);
    }
    let run = running.get(user.name);
    if (!run) {
      // A rejected run stays in `running` for the run: a plugin that failed or hung fails the
      // same way again, and each of the cluster's lists would wait for it anew.
      run = runExec(user.exec as ExecConfig | null | undefined, plugin, timeoutMs > 0 ? timeoutMs : EXEC_CEILING_MS).then((credential) => {
        running.delete(user.name);
        if (credential) cache.set(user.name, credential);
        return credential;
      });
      running.set(user.name, run);
    }
    return run;
  };
  return { get, drop };
}

/**
 * One exec credential cache per loaded Kubeconfig, as client-go keeps one authenticator per exec
 * config for the process: every context of a user, and the scan and the writes of one run
 * (cli/live-scan.ts loads a run's kubeconfig once), share a credential and a run of the plugin.
 */
const execCaches = new WeakMap<Kubeconfig, ReturnType<typeof execCredentials>>();

function execCredentialsOf(kc: Kubeconfig): ReturnType<typeof execCredentials> {
  let cache = execCaches.get(kc);
  if (!cache) execCaches.set(kc, (cache = execCredentials(kc.plugin)));
  return cache;
}

const DEFAULT_EXEC_API_VERSION = 'client.authentication.k8s.io/v1beta1';

/** "500 ms", "30 s". */
function duration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** What to do about a plugin that failed: the AWS tools' usual cause, else run it by hand. */
function failureHint(command: string): string {
  const tool = basename(command).replace(/\.exe$/i, '');
  return tool === 'aws' || tool === 'aws-iam-authenticator'
    ? 'check the AWS credentials the plugin uses (aws sso login, AWS_PROFILE)'
    : 'run the command of the kubeconfig user yourself to see what it needs';
}

/**
 * Runs the exec plugin once, killed after `deadlineMs`. Its stdin is not connected: client-go
 * passes its stdin to a plugin only in interactive mode with a terminal, and podid runs
 * non-interactively (spec.interactive false in KUBERNETES_EXEC_INFO), so a plugin that prompts
 * (an MFA code, an SSO login) reads end-of-file and fails instead of waiting unseen. Its stderr
 * is read for the failure message.
 */
function runExec(exec: ExecConfig | null | undefined, plugin: PluginContext, deadlineMs: number): Promise<ExecCredential | null> {
  if (!exec) return Promise.resolve(null);
  const command = exec.command;
  if (!command) return Promise.reject(new KubeCredentialError("the kubeconfig user's exec plugin has no command", 'set exec.command in the kubeconfig user'));
  const name = `exec plugin ${JSON.stringify(command)}`;
  const apiVersion = exec.apiVersion || DEFAULT_EXEC_API_VERSION;
  const env: NodeJS.ProcessEnv = {
    ...(plugin.env ?? process.env),
    ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])),
    KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }),
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (err: KubeCredentialError | null, value?: ExecCredential) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value!);
    };
    const child = spawn(command, exec.args ?? [], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(plugin.cwd !== undefined ? { cwd: plugin.cwd } : {}) });
    const timer = setTimeout(() => {
      // The plugin and what it started (a wrapper's `aws eks get-token`, a helper waiting for a
      // login): each is killed, or a hung grandchild would outlive podid.
      for (const pid of descendants(child.pid)) killQuietly(pid);
      child.kill('SIGKILL');
      // A child of the plugin may still hold its pipes: stop reading them.
      child.stdout.destroy();
      child.stderr.destroy();
      finish(
        new KubeCredentialError(
          `${name} did not answer within ${duration(deadlineMs)}`,
          'it may be waiting for input podid cannot give (an MFA code, an SSO login): run it yourself, or raise --request-timeout',
        ),
      );
    }, deadlineMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const where = command.includes('/') || command.includes('\\') ? '' : ' on PATH';
        const hint = exec.installHint ? exec.installHint.replace(/\s+/g, ' ').trim() : 'install it, or fix exec.command in the kubeconfig user';
        finish(new KubeCredentialError(`${name} not found${where}`, hint, { cause: err }));
      } else if (err.code === 'EACCES') {
        finish(new KubeCredentialError(`${name} cannot be run: permission denied`, 'make it executable (chmod +x), or fix exec.command in the kubeconfig user', { cause: err }));
      } else {
        finish(new KubeCredentialError(`${name} cannot be run: ${err.message}`, failureHint(command), { cause: err }));
      }
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const said = stderr
          .split('\n')
          .map((l) => l.trim())
          .find((l) => l !== '');
        const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `failed with exit code ${code}`;
        return finish(new KubeCredentialError(`${name} ${how}${said ? `: ${said}` : ''}`, failureHint(command)));
      }
      const invalid = (what: string) =>
        finish(new KubeCredentialError(`${name} ${what}`, 'run the command of the kubeconfig user yourself: it may be asking for input (an MFA code) or printing something else'));
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return invalid('printed no ExecCredential (decoding stdout: not JSON)');
      }
      const credential = parsed as Partial<ExecCredential> | null;
      if (credential === null || typeof credential !== 'object' || typeof credential.status !== 'object' || credential.status === null) return invalid("didn't return a status field");
      if (credential.apiVersion !== undefined && credential.apiVersion !== apiVersion) {
        return invalid(`is configured to use API version ${apiVersion}, plugin returned version ${String(credential.apiVersion)}`);
      }
      const { token, clientCertificateData: cert, clientKeyData: key } = credential.status;
      if (!token && !cert && !key) return invalid("didn't return a token or cert/key pair");
      if (!!cert !== !!key) return invalid('returned only certificate or key, not both');
      finish(null, credential as ExecCredential);
    });
  });
}

/**
 * The processes below `root` (its children, theirs, ...), read from /proc (Linux) before any is killed: once
 * the plugin dies its children are re-parented and can no longer be told apart. Elsewhere (no
 * /proc) none are found and only the plugin itself is killed.
 */
function descendants(root: number | undefined): number[] {
  if (root === undefined) return [];
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command (which may hold spaces and parentheses): state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * The users for client-node's KubeConfig (which reads no `tokenFile`): the context's user with
 * its token-file read now, as a token.
 */
function clientNodeUsers(kc: Kubeconfig, context: string): KubeUser[] {
  const name = kc.getContext(context)?.user;
  return kc.users.map((u) => (u.name === name && u.tokenFile && !u.token ? { ...u, token: tokenFileReader(u.tokenFile).read() } : u));
}

/** The context's credentials through client-node's own KubeConfig (loaded on the first request). */
function viaClientNode(kc: Kubeconfig, context: string): () => Promise<Applied> {
  let pinned: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  return async () => {
    pinned ??= import('./k8s-client.js').then((k8s) => {
      const c = new k8s.KubeConfig();
      c.loadFromOptions({ clusters: kc.clusters, users: clientNodeUsers(kc, context), contexts: kc.contexts, currentContext: context });
      return c;
    });
    const opts: Applied = {};
    await (await pinned).applyToHTTPSOptions(opts as Parameters<import('@kubernetes/client-node').KubeConfig['applyToHTTPSOptions']>[0]);
    return opts;
  };
}
