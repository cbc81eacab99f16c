/**
 * `podid sandbox`: one HTTP server on 127.0.0.1 that answers as AWS (IAM, STS: query protocol;
 * EKS: REST-JSON; dispatched by the SigV4 signature's service) and as one Kubernetes API server
 * per cluster (under /k8s/<account>/<region>/<cluster>). `/_sandbox/state` and `/_sandbox/calls`
 * let tests and users see what happened.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { gzipMember } from './gzip-parts.js';
import { stringify as toYaml } from 'yaml';
import { AwsServiceError, type AwsRequest, type AwsServiceModule, type AwsServiceName, type HttpReply } from './aws/common.js';
import { createEksService } from './aws/eks.js';
import { createIamService } from './aws/iam.js';
import { createStsService } from './aws/sts.js';
import { probeCredentials, type CredentialAnswer } from './credentials.js';
import { actionAllowed, nextFault } from './faults.js';
import { createKubeCluster, isStream, type KubeCluster, type KubeStream } from './kube/index.js';
import { looksLikeAws, parseSigV4 } from './sigv4.js';
import { SandboxState, systemClock, type Clock, type ClusterState } from './state.js';
import type { FaultKind, World } from './world-types.js';

export interface SandboxOptions {
  world: World;
  /** 0 (default) picks a free port. */
  port?: number;
  clock?: Clock;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT — the AWS endpoint (AWS_ENDPOINT_URL) and the base of every cluster's API server. */
  endpoint: string;
  state: SandboxState;
  /** A kubeconfig (YAML) with one context per cluster, named by cluster ARN. */
  kubeconfig(): string;
  /** An env file (KEY=value lines) pointing AWS SDKs and kubectl at this sandbox. */
  envFile(kubeconfigPath: string): string;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024 * 1024;
const SANDBOX_ACCESS_KEY = 'AKIDSANDBOXEXAMPLE';
const SANDBOX_SECRET_KEY = 'sandbox-secret-key-not-a-real-secret';

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const kubes = new Map<ClusterState, KubeCluster>();
  const state = new SandboxState(opts.world, opts.clock ?? systemClock, (s, cluster, spec) => {
    const kube = createKubeCluster(s, cluster, spec);
    kubes.set(cluster, kube);
    return kube;
  });
  const services: Record<AwsServiceName, AwsServiceModule> = {
    iam: createIamService(state),
    sts: createStsService(state),
    eks: createEksService(state),
  };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
      timers.add(t);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const body = await readBody(req);
    // Finish the EKS changes whose time has come, so every client sees the state as of now.
    state.settle();
    if (url.pathname.startsWith('/_sandbox/')) return send(res, await sandboxEndpoint(req.method ?? 'GET', url.pathname, url.searchParams));
    if (state.settings.latencyMs > 0) await sleep(state.settings.latencyMs);

    const kubeMatch = /^\/k8s\/([^/]+)\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (kubeMatch) {
      const cluster = state.clusters.find((c) => c.account === kubeMatch[1] && c.region === kubeMatch[2] && c.name === kubeMatch[3]);
      if (cluster) {
        await runCallerIdentityPods(cluster);
        return handleKube(req, res, cluster, kubeMatch[4] ?? '/', url, body);
      }
    }

    const scope = parseSigV4(req.headers);
    const svcName = scope?.service;
    if (!scope || (svcName !== 'iam' && svcName !== 'sts' && svcName !== 'eks')) {
      const message = scope
        ? `The sandbox does not emulate the AWS service "${scope.service}".`
        : looksLikeAws(req.headers)
          ? 'Request is missing a valid SigV4 Authorization header.'
          : `No route for ${req.method} ${url.pathname}.`;
      const status = scope ? 400 : 403;
      state.calls.push({ service: scope?.service ?? 'unknown', operation: 'unsigned', mutating: false, status });
      return send(res, {
        status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ __type: scope ? 'UnknownServiceException' : 'MissingAuthenticationTokenException', message }),
      });
    }
    const service = services[svcName];
    const awsReq: AwsRequest = {
      service: svcName, region: scope.region, accessKeyId: scope.accessKeyId, method: req.method ?? 'GET',
      path: url.pathname, query: url.searchParams, headers: req.headers, body,
    };
    let operation = 'unknown';
    let mutating = false;
    let reply: HttpReply | undefined;
    try {
      const routed = service.route(awsReq);
      operation = routed.operation;
      mutating = routed.mutating;
      const action = `${svcName}:${operation}`;
      if (state.caller && !actionAllowed(state.caller.allow, action)) {
        throw accessDenied(svcName, state.caller.arn, action);
      }
      // EKS paths name their cluster (/clusters/NAME/...): faults may be scoped to one.
      const eksCluster = svcName === 'eks' ? /^\/clusters\/([^/]+)/.exec(url.pathname)?.[1] : undefined;
      const fault = nextFault(state.faults, action, { cluster: eksCluster ? decodeURIComponent(eksCluster) : undefined });
      if (fault?.when === 'after-commit') {
        // The change is made; only the answer is lost (a reset, a timeout, an error).
        await routed.run();
        if (fault.error === 'reset' || fault.error === 'timeout') {
          state.calls.push({ service: svcName, operation, mutating, status: 0 });
          return breakConnection(req, res, fault.error);
        }
        throw awsFault(svcName, fault.error);
      }
      if (fault?.error === 'reset' || fault?.error === 'timeout') {
        state.calls.push({ service: svcName, operation, mutating, status: 0 });
        return breakConnection(req, res, fault.error);
      }
      if (fault) throw awsFault(svcName, fault.error);
      reply = await routed.run();
    } catch (err) {
      reply = service.renderError(err instanceof AwsServiceError ? err : internalError(svcName, err));
    }
    state.calls.push({ service: svcName, operation, mutating, status: reply.status });
    send(res, reply);
  }

  /**
   * Pods that call `aws sts get-caller-identity` run once started (kube/exec.ts): their answer is
   * the credential model's (GET /_sandbox/credentials) for that pod, printed as the AWS CLI would.
   */
  async function runCallerIdentityPods(cluster: ClusterState): Promise<void> {
    const kube = kubes.get(cluster);
    if (!kube) return;
    for (const pod of kube.callerIdentityPodsToRun()) {
      const probe = await probeCredentials(state, new URLSearchParams({ cluster: cluster.name, region: cluster.region, namespace: pod.namespace, pod: pod.name }));
      const run = callerIdentityOutput(state, probe.body);
      kube.finishPod(pod.namespace, pod.name, run.exitCode, run.log);
    }
  }

  function handleKube(req: IncomingMessage, res: ServerResponse, cluster: ClusterState, path: string, url: URL, body: Buffer): void {
    const kube = kubes.get(cluster)!;
    const service = `k8s:${cluster.name}`;
    // EKS authenticates every request but the health checks (anonymous access is limited to
    // /healthz, /livez and /readyz); any bearer token is accepted (the kubeconfig's). client-go
    // tools (kubectl, helm: User-Agent ".../<version> (<os>/<arch>) kubernetes/<commit>") never
    // send a kubeconfig's credentials over plain HTTP (kubernetes/kubectl#744), and the sandbox
    // speaks plain HTTP, so they are taken as the kubeconfig's user.
    const clientGo = / kubernetes\/[0-9a-f]+$/.test(String(req.headers['user-agent'] ?? ''));
    const bearer = /^Bearer (\S+)/i.exec(req.headers.authorization ?? '')?.[1];
    const health = /^\/(healthz|livez|readyz)(\/|$)/.test(path);
    if (!clientGo && !health && (bearer === undefined || !eksTokenCurrent(bearer, state.clock.now()))) {
      state.calls.push({ service, operation: 'unauthenticated', mutating: false, status: 401 });
      return send(res, kube.renderError(401, 'Unauthorized', 'Unauthorized'));
    }
    if (/^\/(healthz|livez|readyz)\/?$/.test(path) && req.method === 'GET') {
      return send(res, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' });
    }
    const routed = kube.route({ method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body });
    const operation = `${routed.verb}:${routed.resource}`;
    const fault = nextFault(state.faults, `k8s:${operation}`, { cluster: cluster.name, namespace: routed.namespace });
    const before = fault?.when !== 'after-commit' ? fault?.error : undefined;
    if (before === 'reset' || before === 'timeout') {
      state.calls.push({ service, operation, mutating: routed.mutating, status: 0 });
      return breakConnection(req, res, before);
    }
    let reply: HttpReply | KubeStream;
    if (before === 'throttle') reply = kube.renderError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later');
    else if (before === 'server-error') reply = kube.renderError(500, 'InternalError', 'an error on the server ("injected fault") has prevented the request from succeeding');
    else {
      try {
        reply = routed.run();
      } catch (err) {
        reply = kube.renderError(500, 'InternalError', `sandbox error: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (fault?.when === 'after-commit') {
        // The change is made; only the answer is lost.
        if (fault.error === 'reset' || fault.error === 'timeout') {
          state.calls.push({ service, operation, mutating: routed.mutating, status: 0 });
          return breakConnection(req, res, fault.error);
        }
        reply = fault.error === 'throttle'
          ? kube.renderError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later')
          : kube.renderError(500, 'InternalError', 'an error on the server ("injected fault") has prevented the request from succeeding');
      }
    }
    state.calls.push({ service, operation, mutating: routed.mutating, status: reply.status });
    if (isStream(reply)) return stream(res, reply);
    if (acceptsGzip(req)) sendCompressed(res, reply);
    else send(res, reply);
  }

  /** A watch: headers now, then each event as a chunk, until the watch ends or the client goes. */
  function stream(res: ServerResponse, reply: KubeStream): void {
    const { 'transfer-encoding': _te, ...headers } = reply.headers;
    res.writeHead(reply.status, headers);
    res.flushHeaders();
    let ended = false;
    const stop = reply.start(
      (chunk) => { if (!ended) res.write(chunk); },
      () => { if (!ended) { ended = true; res.end(); } },
    );
    res.on('close', () => { ended = true; stop(); });
  }

  async function sandboxEndpoint(method: string, path: string, query: URLSearchParams): Promise<HttpReply> {
    const json = (status: number, value: unknown): HttpReply => ({
      status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value, null, 2),
    });
    if (path === '/_sandbox/state' && method === 'GET') return json(200, state.toWorld());
    if (path === '/_sandbox/calls' && method === 'GET') return json(200, state.calls);
    if (path === '/_sandbox/calls' && method === 'DELETE') { state.calls.length = 0; return json(200, []); }
    if (path === '/_sandbox/health') return json(200, { ok: true });
    if (path === '/_sandbox/credentials' && method === 'GET') {
      const probe = await probeCredentials(state, query);
      return json(probe.status, probe.body);
    }
    return json(404, { message: `No sandbox endpoint ${method} ${path}. Known: GET /_sandbox/state, GET|DELETE /_sandbox/calls, GET /_sandbox/credentials, GET /_sandbox/health.` });
  }

  function breakConnection(req: IncomingMessage, res: ServerResponse, fault: FaultKind): void {
    // reset: drop the TCP connection now; timeout: hold it open and never answer (closed on shutdown).
    if (fault === 'reset') req.socket.destroy();
    else res.on('close', () => undefined);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `sandbox error: ${String(err)}` }) });
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  state.endpoint = endpoint;

  return {
    endpoint,
    state,
    kubeconfig: () => renderKubeconfig(state),
    envFile: (kubeconfigPath) => renderEnvFile(state, kubeconfigPath),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * kube-apiserver compresses an answer when the client accepts gzip and the answer is larger than
 * 128 KB, at gzip level 1, streaming it (no Content-Length): KEP-2338 "API gzip compression
 * support" (beta, on by default since Kubernetes 1.16), and kubernetes/kubernetes#112299 (level
 * 4 -> 1). So a client listing a large cluster reads compressed pages; the sandbox does the same.
 */
const GZIP_THRESHOLD = 128 * 1024;
const GZIP_LEVEL = 1;
const gzipAsync = promisify(gzip);

/** Whether the request's Accept-Encoding lists gzip (with a q-value above 0, when it has one). */
function acceptsGzip(req: IncomingMessage): boolean {
  for (const part of String(req.headers['accept-encoding'] ?? '').split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim());
    if (coding.toLowerCase() !== 'gzip') continue;
    const q = params.find((p) => p.toLowerCase().startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

function sendCompressed(res: ServerResponse, reply: HttpReply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  if (body.length <= GZIP_THRESHOLD) return send(res, { ...reply, body });
  // A list page comes in parts, some kept compressed (gzip-parts.ts); anything else is gzipped whole.
  const compressed = reply.compressParts ? reply.compressParts(GZIP_LEVEL).then(gzipMember) : gzipAsync(body, { level: GZIP_LEVEL }).then((out) => [out]);
  compressed.then(
    (buffers) => {
      reply.release?.();
      if (res.headersSent || res.destroyed) return;
      const { 'content-length': _length, ...headers } = reply.headers;
      res.writeHead(reply.status, { ...headers, 'content-encoding': 'gzip', vary: 'Accept-Encoding', 'transfer-encoding': 'chunked' });
      for (let i = 0; i < buffers.length - 1; i++) res.write(buffers[i]);
      res.end(buffers[buffers.length - 1]);
    },
    (err: unknown) => {
      reply.release?.();
      if (res.headersSent || res.destroyed) return;
      send(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `sandbox error: ${err instanceof Error ? err.message : String(err)}` }) });
    },
  );
}

function send(res: ServerResponse, reply: HttpReply): void {
  if (res.headersSent || res.destroyed) return;
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
  // A pooled body is reused only once the socket has written it ('finish').
  if (reply.release) res.end(body, reply.release);
  else res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function accessDenied(svc: AwsServiceName, callerArn: string, action: string): AwsServiceError {
  const message = `User: ${callerArn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`;
  return svc === 'eks' ? new AwsServiceError('AccessDeniedException', message, 403) : new AwsServiceError('AccessDenied', message, 403);
}

function awsFault(svc: AwsServiceName, fault: 'throttle' | 'server-error'): AwsServiceError {
  if (fault === 'throttle') {
    return svc === 'eks' ? new AwsServiceError('ThrottlingException', 'Rate exceeded', 429) : new AwsServiceError('Throttling', 'Rate exceeded', 400);
  }
  if (svc === 'eks') return new AwsServiceError('ServerException', 'Internal server error (injected fault)', 500);
  return new AwsServiceError(svc === 'iam' ? 'ServiceFailure' : 'InternalFailure', 'Internal failure (injected fault)', 500);
}

function internalError(svc: AwsServiceName, err: unknown): AwsServiceError {
  const message = `sandbox error: ${err instanceof Error ? err.message : String(err)}`;
  return svc === 'eks' ? new AwsServiceError('ServerException', message, 500) : new AwsServiceError('ServiceFailure', message, 500);
}

export function renderKubeconfig(state: SandboxState): string {
  const clusters = state.clusters;
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': clusters[0]?.arn ?? '',
    clusters: clusters.map((c) => ({
      name: c.arn,
      cluster: { server: state.apiServer(c), 'insecure-skip-tls-verify': true },
    })),
    users: clusters.map((c) => ({ name: c.arn, user: { token: `sandbox-token-${c.name}` } })),
    contexts: clusters.map((c) => ({ name: c.arn, context: { cluster: c.arn, user: c.arn } })),
  });
}

/**
 * What `aws sts get-caller-identity --output json` prints in a pod the credential model answered:
 * the caller identity of a session of the effective role, or the CLI's error (exit code 255).
 */
export function callerIdentityOutput(state: SandboxState, answer: CredentialAnswer | { error: string }): { exitCode: number; log: string } {
  if ('error' in answer) return { exitCode: 255, log: `\nUnable to locate credentials. You can configure credentials by running "aws configure".\n` };
  if (!answer.ok || answer.effectiveRoleArn === null) {
    if (answer.mechanism === null) return { exitCode: 255, log: `\nUnable to locate credentials. You can configure credentials by running "aws configure".\n` };
    if (answer.mechanism === 'irsa') return { exitCode: 255, log: `\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity (${answer.message})\n` };
    return { exitCode: 255, log: `\nError when retrieving credentials from container-role: Error retrieving metadata: Received error when attempting to retrieve container metadata: ${answer.message}\n` };
  }
  const role = state.roleByArn(answer.effectiveRoleArn);
  const [, partition = 'aws', , , account = ''] = answer.effectiveRoleArn.split(':');
  const name = answer.effectiveRoleArn.slice(answer.effectiveRoleArn.lastIndexOf('/') + 1);
  // Pod Identity names the session after the pod (eks-<cluster>-<pod>-<uuid>); IRSA's SDK default is botocore-session-<epoch>.
  const session = (answer.mechanism === 'pod-identity' ? `eks-${answer.cluster}-${answer.pod}` : `botocore-session-${Math.floor(state.clock.now() / 1000)}`).slice(0, 64);
  const doc = { UserId: `${role?.roleId ?? 'AROA'}:${session}`, Account: account, Arn: `arn:${partition}:sts::${account}:assumed-role/${name}/${session}` };
  return { exitCode: 0, log: `${JSON.stringify(doc, null, 4)}\n` };
}

export function renderEnvFile(state: SandboxState, kubeconfigPath: string): string {
  const q = (v: string) => (/^[A-Za-z0-9_./:@-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const vars: [string, string][] = [
    ['AWS_ENDPOINT_URL', state.endpoint],
    ['AWS_REGION', state.settings.region],
    ['AWS_DEFAULT_REGION', state.settings.region],
    ['AWS_ACCESS_KEY_ID', SANDBOX_ACCESS_KEY],
    ['AWS_SECRET_ACCESS_KEY', SANDBOX_SECRET_KEY],
    ['KUBECONFIG', kubeconfigPath],
    ['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true'],
  ];
  return vars.map(([k, v]) => `${k}=${q(v)}`).join('\n') + '\n';
}

/**
 * Whether a bearer token is accepted: any token, but one in the form `aws eks get-token` prints
 * (`k8s-aws-v1.` and a base64url presigned STS GetCallerIdentity URL) only while it is current,
 * as EKS's authenticator (aws-iam-authenticator, pkg/token Verify) takes it: at most 15 minutes
 * after its X-Amz-Date. The signature is not checked.
 */
function eksTokenCurrent(token: string, now: number): boolean {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return true;
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  const date = [...url.searchParams].find(([k]) => k.toLowerCase() === 'x-amz-date')?.[1];
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date ?? '');
  if (!m) return false;
  const signed = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return now <= signed + EKS_TOKEN_LIFETIME_MS;
}

const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
