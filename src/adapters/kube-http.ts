/**
 * Lean requests for one kubeconfig context: the kubeconfig's TLS and auth as
 * @kubernetes/client-node applies them, over ONE keep-alive agent per context. The scan's list
 * pages (`get`: the body's bytes, gunzipped when the server compressed them) and apply's reads
 * and writes (`request`, kube-write.ts) go through here: client-node's own request path builds a
 * new agent (a new TCP/TLS connection) for every request, hands back the body as a string (a
 * second copy of every page that the scan only parses a few fields out of; json-keep.ts parses
 * the bytes directly), and runs an exec plugin without a deadline, with this process's stdin and
 * environment.
 *
 * Credentials are applied on every request as client-node's KubeConfig.applyToHTTPSOptions
 * applies them (kube-auth.ts, without loading client-node for what EKS kubeconfigs use: a token,
 * an exec plugin such as `aws eks get-token`, client certificates, basic auth, impersonation);
 * a user with an `auth-provider` or a cluster with a `proxy-url` goes through client-node itself
 * (loaded then), its proxy agent reused. The TLS material (CA, client certificate, key,
 * insecure-skip-tls-verify, tls-server-name) is read for the context's agent, made again only
 * when an exec plugin hands out another client certificate.
 *
 * A 401 answer to credentials from an exec plugin or a token-file drops them, gets new ones and
 * sends the request once more (see `exchange`).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createGunzip, type Gunzip } from 'node:zlib';
import { credentialsOf, type Applied, type TlsOptions } from './kube-auth.js';
import { clusterTransport, type Kubeconfig } from './kubeconfig.js';

/** An HTTP answer outside 2xx: the status, headers and body, as describeKubeFailure reads them. */
export class KubeHttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
    this.name = 'KubeHttpStatusError';
  }
}

/** No answer: the connection failed (code ECONNREFUSED, a TLS error, ...), or the deadline passed. */
export class KubeTransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly timedOut: boolean,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'KubeTransportError';
  }
}

/** One request of `KubeHttp.request`. */
export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path under the server, with its query. */
  path: string;
  /** The request body (JSON text), sent with `contentType`. */
  body?: string;
  contentType?: string;
  /** The Accept header (default application/json). */
  accept?: string;
  /** Bounds the request, answer included, and an exec plugin run for it (0: no request deadline). */
  timeoutMs: number;
}

/** An answer of any status: lower-case headers (repeated ones joined), the body's bytes (its own). */
export interface KubeAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface KubeHttp {
  /** The context's API server URL (with any path prefix). */
  readonly server: string;
  /** The kubeconfig cluster's `proxy-url`, when the server is reached through a proxy. */
  readonly proxyUrl?: string;
  /** Where proxyUrl comes from: the entry's proxy-url, or HTTPS_PROXY / HTTP_PROXY. */
  readonly proxyFrom?: 'proxy-url' | 'HTTPS_PROXY' | 'HTTP_PROXY';
  /**
   * GETs `path` (with query) under the server and resolves with what `read` makes of the 2xx
   * body (any other status: KubeHttpStatusError). `read` runs synchronously and must not keep
   * the buffer: it is reused for later pages.
   */
  get<T>(path: string, timeoutMs: number, read: (body: Buffer) => T): Promise<T>;
  /** Sends one request and resolves with its answer, whatever the status. */
  request(req: KubeRequest): Promise<KubeAnswer>;
}

/** The answer `exchange` sends again after new credentials. */
const RENEW = Symbol('renew');

/** A client for `context` of the kubeconfig. */
export function kubeHttp(kc: Kubeconfig, context: string): KubeHttp {
  const ctx = kc.getContext(context);
  const cluster = ctx ? kc.getCluster(ctx.cluster) : null;
  const server = cluster?.server ?? '';
  // https, or http with insecure-skip-tls-verify, decided once from the parsed URL; anything
  // else is refused on the first request (a usage error naming the cluster entry).
  let refused: unknown;
  let secure = true;
  try {
    if (cluster) secure = clusterTransport(cluster) === 'https:';
  } catch (err) {
    refused = err;
  }
  const base = refused === undefined ? new URL(server || 'https://invalid.') : new URL('https://invalid.');
  const prefix = base.pathname.replace(/\/+$/, '');
  const credentials = credentialsOf(kc, context);
  let agent: HttpAgent | undefined;
  /** The client certificate and key the agent presents. */
  let agentIdentity: { cert: Applied['cert']; key: Applied['key'] } | undefined;

  /** The kubeconfig's credentials for one request (and the context's agent for them). */
  async function apply(timeoutMs: number): Promise<Applied> {
    if (refused !== undefined) throw refused;
    const opts = await credentials(timeoutMs);
    if (cluster?.proxyUrl) {
      // client-node's agent for a proxy (SOCKS or HTTP CONNECT), built with the same TLS options.
      agent ??= opts.agent as HttpAgent;
    } else if (!agent || (secure && (!same(opts.cert, agentIdentity?.cert) || !same(opts.key, agentIdentity?.key)))) {
      // The first request, or an exec plugin handed out another client certificate: its
      // connections present the new one (those of the old agent close once idle).
      agent = makeAgent(opts);
      agentIdentity = { cert: opts.cert, key: opts.key };
    }
    return opts;
  }

  function makeAgent(opts: Applied): HttpAgent {
    if (!secure) return new HttpAgent({ keepAlive: true });
    const tls: TlsOptions = {};
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
      if (opts[k] !== undefined) (tls as Record<string, unknown>)[k] = opts[k];
    }
    return new HttpsAgent({ keepAlive: true, ...tls });
  }

  /**
   * Sends one request with the context's credentials and hands its answer to `answer`
   * (synchronously; the body is valid only during the call). A 401 to credentials from an exec
   * plugin or a token-file is client-go's cue to drop them (exec.go's roundTripper calls
   * maybeRefreshCreds on a 401); podid also sends the request once more with the new ones, so
   * that a token that expired early (clock skew, a revoked session) does not fail a scan or an
   * apply halfway. A second 401 is the answer. Sending again is safe for every method, writes
   * included: authentication is the API server's first step, and a request it cannot
   * authenticate is rejected with 401 before authorization, admission or storage see it
   * (kubernetes.io/docs/concepts/security/controlling-access, "Authentication"), so nothing of
   * it was applied.
   */
  async function exchange<T>(req: KubeRequest, answer: (status: number, headers: IncomingHttpHeaders, body: Buffer) => T): Promise<T> {
    for (let renewed = false; ; renewed = true) {
      const applied = await apply(req.timeoutMs);
      const headers: Record<string, string | string[] | number> = { ...(applied.headers ?? {}), accept: req.accept ?? 'application/json', 'accept-encoding': 'gzip' };
      const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
      if (body) {
        headers['content-type'] = req.contentType ?? 'application/json';
        headers['content-length'] = body.length;
      }
      const options: RequestOptions = {
        protocol: secure ? 'https:' : 'http:',
        hostname: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port || (secure ? 443 : 80),
        path: `${prefix}${req.path}`,
        method: req.method,
        headers,
        agent: agent!,
        ...(applied.auth ? { auth: applied.auth } : {}),
      };
      const renew = renewed ? undefined : applied.renew;
      const out = await send(secure ? httpsRequest : httpRequest, options, req.timeoutMs, `${server}${req.path}`, body, (status, h, b) => (status === 401 && renew ? RENEW : answer(status, h, b)));
      if (out !== RENEW) return out;
      renew!();
    }
  }

  return {
    server,
    ...(cluster?.proxyUrl ? { proxyUrl: cluster.proxyUrl, proxyFrom: kc.proxyFrom.get(cluster.name) ?? 'proxy-url' } : {}),
    get<T>(path: string, timeoutMs: number, read: (body: Buffer) => T): Promise<T> {
      return exchange({ method: 'GET', path, timeoutMs }, (status, headers, body) => {
        if (status >= 200 && status <= 299) return read(body);
        throw new KubeHttpStatusError(status, flatHeaders(headers), body.toString('utf8'));
      });
    },
    request(req: KubeRequest): Promise<KubeAnswer> {
      // A copy: the body may be in a pooled page buffer.
      return exchange(req, (status, headers, body) => ({ status, headers: flatHeaders(headers), body: Buffer.from(body) }));
    },
  };
}

/** Whether two TLS values (a PEM string or its bytes; absent) are the same. */
function same(a: Applied['cert'] | Applied['key'], b: Applied['cert'] | Applied['key']): boolean {
  if (a === b) return true;
  if ((typeof a !== 'string' && !Buffer.isBuffer(a)) || (typeof b !== 'string' && !Buffer.isBuffer(b))) return false;
  return Buffer.from(a).equals(Buffer.from(b));
}

function send<T>(
  request: typeof httpRequest,
  options: RequestOptions,
  timeoutMs: number,
  url: string,
  body: Buffer | undefined,
  answer: (status: number, headers: IncomingHttpHeaders, body: Buffer) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (err: unknown, value?: T) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    };
    const req = request(options, (res) => {
      readBody(res).then(
        ({ body, pooled }) => {
          try {
            finish(null, answer(res.statusCode ?? 0, res.headers, body));
          } catch (err) {
            finish(err);
          } finally {
            if (pooled) release(pooled);
          }
        },
        (err: unknown) => finish(transportError(err, url)),
      );
    });
    req.on('error', (err) => finish(transportError(err, url)));
    // --request-timeout bounds the whole request, body included (0: none, as kubectl).
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        finish(new KubeTransportError(`no answer from ${url} within ${timeoutMs} ms`, undefined, true));
        req.destroy();
      }, timeoutMs);
    }
    req.end(body);
  });
}

/**
 * Page buffers, reused: a fleet scan reads a few hundred pages of about a megabyte each, and a
 * fresh buffer per page costs page faults and external-memory pressure on the GC (measured: 40
 * MB more peak RSS without reuse). A page is parsed synchronously as soon as it is in
 * (json-keep.ts copies out what it keeps), so its buffer is free again at once.
 *
 * The buffers are SLOTS slots of SLOT_BYTES in one slab: one allocation the allocator maps on
 * its own and unmaps when it is freed, instead of a dozen 2 MB blocks in its heap that stay
 * resident once freed. Not zero-filled (a page is read only as far as it was written, as with
 * Buffer.allocUnsafe below): once a slab has been freed, the allocator may serve the next from
 * its heap, and clearing 16 MB cost ~4 ms each time a long-lived process (a test worker running
 * hundreds of scans) made one again. A page larger than a slot, or read while every slot is busy (more
 * requests in flight than slots), gets a buffer of its own. Once no page has been read for
 * IDLE_MS the slab is dropped: the lists are over.
 */
const SLOTS = 8;
const SLOT_BYTES = 2 * 1024 * 1024;
const IDLE_MS = 200;
let slab: ArrayBuffer | undefined;
let freeSlots: number[] = [];
let inUse = 0;
let idle: NodeJS.Timeout | undefined;

/** A buffer of at least `size` bytes, and whether it is a slot to release. */
function acquire(size: number): { buffer: Buffer; slot: boolean } {
  if (size > SLOT_BYTES) return { buffer: Buffer.allocUnsafe(size), slot: false };
  if (slab === undefined) {
    slab = Buffer.allocUnsafeSlow(SLOTS * SLOT_BYTES).buffer as ArrayBuffer;
    freeSlots = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);
  }
  const i = freeSlots.pop();
  if (i === undefined) return { buffer: Buffer.allocUnsafe(size), slot: false };
  inUse++;
  return { buffer: Buffer.from(slab, i * SLOT_BYTES, SLOT_BYTES), slot: true };
}

function release(b: Buffer): void {
  if (b.buffer !== slab) return;
  freeSlots.push(b.byteOffset / SLOT_BYTES);
  inUse--;
  if (inUse === 0) {
    if (idle) idle.refresh();
    else idle = setTimeout(dropIdleSlab, IDLE_MS).unref();
  }
}

function dropIdleSlab(): void {
  idle = undefined;
  if (inUse === 0) {
    slab = undefined;
    freeSlots = [];
  }
}

/**
 * The body's bytes in one buffer (`pooled` when that buffer is a slot, to release once read).
 * Read in place into a slot when the length is announced; a gzip answer is decompressed as it
 * arrives, into a slot as well. API servers compress large answers for clients that accept it
 * (kube-apiserver: gzip level 1 for answers over 128 KB, KEP-2338 "API gzip compression
 * support", beta and on by default since 1.16), so against a real cluster nearly every page of a
 * fleet's pod list comes compressed: the decompression runs on libuv's thread pool while the
 * next chunk arrives, and its output lands in the reused slots instead of a fresh buffer per
 * page (measured against a compressing sandbox: 20-25 MB more peak RSS with one per page).
 */
function readBody(res: IncomingMessage): Promise<{ body: Buffer; pooled: Buffer | undefined }> {
  const gzipped = /^\s*gzip\s*$/i.test(res.headers['content-encoding'] ?? '');
  return new Promise((resolve, reject) => {
    const announced = Number(res.headers['content-length']);
    const sink = new BodySink(gzipped ? undefined : Number.isSafeInteger(announced) && announced > 0 && announced <= MAX_PREALLOCATE ? announced : undefined);
    let done = false;
    let gunzip: Gunzip | undefined;
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      // Nothing more may land in the slot once it is returned.
      gunzip?.destroy();
      sink.free();
      reject(err);
    };
    const succeed = () => {
      if (done) return;
      done = true;
      resolve(sink.take());
    };
    if (gzipped) {
      const g = (gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK }));
      g.on('data', (chunk: Buffer) => {
        if (done) return;
        if (!sink.add(chunk)) {
          res.destroy();
          fail(new Error(`the decompressed answer is larger than ${MAX_PREALLOCATE / 1024 / 1024} MB`));
        }
      });
      g.on('error', fail);
      g.on('end', succeed);
      res.on('data', (chunk: Buffer) => {
        if (!done) g.write(chunk);
      });
      res.on('end', () => g.end());
    } else {
      res.on('data', (chunk: Buffer) => {
        if (!done) sink.add(chunk);
      });
      res.on('end', succeed);
    }
    res.on('error', fail);
    res.on('close', () => {
      if (res.complete) return;
      fail(Object.assign(new Error('the connection closed before the whole answer arrived'), { code: 'ECONNRESET' }));
    });
  });
}

/** Decompressed output per callback: a pod page of about a megabyte in a few pieces. */
const GUNZIP_CHUNK = 256 * 1024;

/**
 * Where a body's chunks go: a slot while they fit in one (from the announced length, or as they
 * come when none is announced: a compressed answer's size is known only at its end), else
 * collected and joined once.
 */
class BodySink {
  private whole: Buffer | undefined;
  private pooled: Buffer | undefined;
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly announced: number | undefined) {
    const acquired = acquire(announced ?? SLOT_BYTES);
    this.whole = acquired.buffer;
    this.pooled = acquired.slot ? acquired.buffer : undefined;
  }

  /** Adds a chunk; false when the body grew past MAX_PREALLOCATE (the caller gives up). */
  add(chunk: Buffer): boolean {
    const whole = this.whole;
    if (whole !== undefined && this.length + chunk.length <= (this.announced ?? whole.length)) chunk.copy(whole, this.length);
    else {
      // More than announced, or than a slot holds: collect the chunks instead.
      if (whole !== undefined) {
        this.chunks.push(Buffer.from(whole.subarray(0, this.length)));
        this.whole = undefined;
        this.free();
      }
      this.chunks.push(chunk);
    }
    this.length += chunk.length;
    return this.length <= MAX_PREALLOCATE;
  }

  /** The body, and the slot it is in (handed on: the caller releases it once the body is read). */
  take(): { body: Buffer; pooled: Buffer | undefined } {
    if (this.whole !== undefined) {
      const pooled = this.pooled;
      this.pooled = undefined;
      return { body: this.whole.subarray(0, this.length), pooled };
    }
    return { body: this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length), pooled: undefined };
  }

  /** Returns the slot (once), when the body is not handed on in it. */
  free(): void {
    if (this.pooled !== undefined) release(this.pooled);
    this.pooled = undefined;
  }
}

/** Bodies up to this size are read into one buffer allocated from their Content-Length. */
const MAX_PREALLOCATE = 256 * 1024 * 1024;

function transportError(err: unknown, url: string): KubeTransportError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reason = typeof e.message === 'string' ? e.message : String(err);
  return new KubeTransportError(`request to ${url} failed, reason: ${reason}`, code, false, { cause: err });
}

function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
