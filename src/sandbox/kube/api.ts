/**
 * The HTTP surface of one cluster's API server: path and verb resolution (without touching
 * state, so the server can log and inject faults first), then list/get/create/update/patch/
 * delete/watch against the core.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpReply } from '../aws/common.js';
import { deflatePart, storedPart, type DeflatedPart } from '../gzip-parts.js';
import type { JsonObject } from '../world-types.js';
import type { KubeCore } from './cluster.js';
import { JsonBodyWriter } from './json-body.js';
import { applyPatch, patchTypeOf } from './patch.js';
import { apiVersionOf, discoveryDocument, resourceByPlural, versionInfo, type ResourceType } from './resources.js';
import { labelsOf, matches, matchesFields, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { KubeError, badRequest, errorReply, jsonReply, statusBody } from './status.js';
import { includeObjectOf, negotiate, table, type IncludeObject } from './table.js';
import type { Entry } from './store.js';
import { clone, getPath, isObj } from './util.js';

export interface KubeRequest {
  method: string;
  /** Relative to the cluster's kubePath, e.g. /api/v1/namespaces/shop/pods. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface KubeRouted {
  /** list | get | patch | create | update | delete | deletecollection | watch */
  verb: string;
  /** Plural resource name, or 'version' / 'discovery' / 'unknown'. */
  resource: string;
  /** The namespace of the request path, if any (fault scoping). */
  namespace?: string;
  mutating: boolean;
  run(): HttpReply | KubeStream;
}

/**
 * A watch: a 200 answer whose body is a stream of JSON lines (`{"type":...,"object":...}`),
 * written as objects change. `start` begins it; the function it returns stops it (client gone).
 */
export interface KubeStream {
  status: 200;
  headers: Record<string, string>;
  start(write: (chunk: string) => void, end: () => void): () => void;
}

export function isStream(r: HttpReply | KubeStream): r is KubeStream {
  return 'start' in r;
}

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Split `/api/v1/namespaces/shop/pods/x` into resource, namespace and name; undefined when not a resource path. */
function parseResourcePath(path: string): Target | { unknownPlural: string } | undefined {
  const segs = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segs[0] === 'api') {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  if (!version || rest.length === 0) return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural = '', name, subresource, ...extra] = rest;
  const type = resourceByPlural(group, version, plural);
  if (!type || extra.length > 0) return { unknownPlural: plural };
  // Namespaced resources are addressed by name only inside a namespace; cluster-scoped never are.
  if (type.namespaced && namespace === undefined && name !== undefined) return { unknownPlural: plural };
  if (!type.namespaced && namespace !== undefined) return { unknownPlural: plural };
  return { type, namespace, name, subresource };
}

function notFoundReply(): HttpReply {
  return jsonReply(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
}

function guarded<R>(k: KubeCore, fn: () => R | HttpReply): () => R | HttpReply {
  return () => {
    try {
      k.reconcile();
      return fn();
    } catch (err) {
      if (err instanceof KubeError) return errorReply(err);
      const message = err instanceof Error ? err.message : String(err);
      return errorReply(new KubeError(500, 'InternalError', `Internal error occurred: ${message}`));
    }
  };
}

export function route(k: KubeCore, req: KubeRequest): KubeRouted {
  const method = req.method.toUpperCase();
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  if (method === 'GET' && (path === '/version' || path === '/version/')) {
    return { verb: 'get', resource: 'version', mutating: false, run: () => jsonReply(200, versionInfo(k.cluster.version)) };
  }
  const doc = method === 'GET' ? discoveryDocument(path) : undefined;
  if (doc) return { verb: 'get', resource: 'discovery', mutating: false, run: () => jsonReply(200, doc) };

  let parsedPath = path;
  let legacyWatch = false;
  const watchPrefix = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/watch\//.exec(path);
  if (watchPrefix) {
    legacyWatch = true;
    parsedPath = path.replace('/watch/', '/');
  }
  const target = parseResourcePath(parsedPath);
  const fallbackVerb = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? method.toLowerCase();
  if (target && !('unknownPlural' in target) && target.type.plural === 'pods' && target.subresource === 'log' && target.name !== undefined && method === 'GET') {
    const t = target;
    return { verb: 'get', resource: 'pods/log', namespace: t.namespace, mutating: false, run: guarded(k, () => podLog(k, t.namespace ?? '', t.name ?? '')) };
  }
  if (!target || 'unknownPlural' in target || target.subresource !== undefined) {
    const plural = !target ? 'unknown' : 'unknownPlural' in target ? target.unknownPlural || 'unknown' : target.type.plural;
    return { verb: fallbackVerb, resource: plural, mutating: method !== 'GET', run: notFoundReply };
  }
  const t = target;
  const plural = t.type.plural;
  const isCollection = t.name === undefined;
  const watch = legacyWatch || ['true', '1'].includes(req.query.get('watch') ?? '');
  const verb =
    method === 'GET' ? (watch ? 'watch' : isCollection ? 'list' : 'get')
      : method === 'POST' ? (isCollection ? 'create' : 'invalid')
        : method === 'PUT' ? (isCollection ? 'invalid' : 'update')
          : method === 'PATCH' ? (isCollection ? 'invalid' : 'patch')
            : method === 'DELETE' ? (isCollection ? 'deletecollection' : 'delete')
              : 'invalid';
  const mutating = ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb);
  const run = (): HttpReply | KubeStream => {
    switch (verb) {
      case 'list': {
        const rendering = negotiate(req.headers.accept);
        return rendering.as === 'Table' ? listTable(k, t, req.query, parsedPath, rendering.version) : list(k, t, req.query, parsedPath);
      }
      case 'watch': {
        const rendering = negotiate(req.headers.accept);
        return watchStream(k, t, req.query, rendering.as === 'Table' ? { version: rendering.version, include: includeObjectOf(req.query) } : undefined);
      }
      case 'get': {
        const rendering = negotiate(req.headers.accept);
        const obj = k.entry(plural, t.namespace ?? '', t.name ?? '').obj;
        if (rendering.as === 'plain') return jsonReply(200, manifestView(obj, t.type));
        const metadata = { resourceVersion: String(getPath(obj, 'metadata.resourceVersion') ?? '') };
        return jsonReply(200, table({ type: t.type, objects: [obj], metadata, version: rendering.version, include: includeObjectOf(req.query), now: k.now() }));
      }
      case 'create':
        return write(k, req, 201, (dryRun) => {
          const body = parseBody(req.body);
          if (t.type.namespaced) {
            const meta = isObj(body.metadata) ? body.metadata : (body.metadata = {});
            if (meta.namespace !== undefined && meta.namespace !== t.namespace) {
              throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
            }
            meta.namespace = t.namespace;
          }
          return k.create(t.type, body, { dryRun });
        });
      case 'update':
        return write(k, req, 200, (dryRun) => k.replace(t.type, t.namespace ?? '', t.name ?? '', parseBody(req.body), { dryRun }));
      case 'patch':
        return write(k, req, 200, (dryRun) => {
          const patchType = patchTypeOf(req.headers['content-type']);
          if (patchType === 'apply') throw new KubeError(415, 'UnsupportedMediaType', 'server-side apply is not supported by the podid sandbox; use a merge, strategic merge or JSON patch');
          if (!patchType) throw new KubeError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
          const current = clone(k.entry(plural, t.namespace ?? '', t.name ?? '').obj);
          const patched = applyPatch(patchType, current, parseJson(req.body));
          return k.replace(t.type, t.namespace ?? '', t.name ?? '', patched, { dryRun });
        });
      case 'delete':
        return write(k, req, 200, (dryRun) => {
          if (plural === 'pods') {
            // A pod is deleted gracefully: the API answers with the pod, marked for deletion
            // (Terminating for its grace period, from the query or DeleteOptions, else the pod's own).
            const entry = k.entry(plural, t.namespace ?? '', t.name ?? '');
            const grace = gracePeriod(req);
            if (dryRun) return clone(entry.obj);
            return manifest(k.deletePod(entry, grace), t.type);
          }
          const gone = k.remove(t.type, t.namespace ?? '', t.name ?? '', { dryRun });
          const meta = gone.metadata as JsonObject;
          return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: meta.name, group: t.type.group || undefined, kind: plural, uid: meta.uid } };
        });
      default:
        throw new KubeError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  };
  return { verb: verb === 'invalid' ? fallbackVerb : verb, resource: plural, namespace: t.namespace, mutating, run: guarded(k, run) };
}

/**
 * `GET .../pods/NAME/log`: what the pod's container printed (text/plain; exec.ts), empty for
 * containers the sandbox does not run; 400 while the container has not started, as the kubelet says.
 */
function podLog(k: KubeCore, namespace: string, name: string): HttpReply {
  const e = k.entry('pods', namespace, name);
  const first = getPath(e.obj, 'spec.containers');
  const container = Array.isArray(first) && isObj(first[0]) ? String(first[0].name ?? '') : '';
  if (String(getPath(e.obj, 'status.phase') ?? '') === 'Pending') {
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  }
  const log = k.podLogs.get(String(getPath(e.obj, 'metadata.uid') ?? '')) ?? '';
  return { status: 200, headers: { 'content-type': 'text/plain', 'cache-control': 'no-cache, private' }, body: log };
}

/** gracePeriodSeconds from the query or a DeleteOptions body; undefined when neither sets it. */
function gracePeriod(req: KubeRequest): number | undefined {
  const q = req.query.get('gracePeriodSeconds');
  if (q !== null) {
    const n = Number(q);
    if (!Number.isInteger(n) || n < 0) throw badRequest(`gracePeriodSeconds: Invalid value: "${q}"`);
    return n;
  }
  if (req.body.length === 0) return undefined;
  const body = parseJson(req.body);
  return isObj(body) && typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || 'null');
  } catch (err) {
    throw badRequest(`error decoding the request body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseBody(body: Buffer): JsonObject {
  const v = parseJson(body);
  if (!isObj(v)) throw badRequest('the request body must be a JSON object');
  return v;
}

function isDryRun(req: KubeRequest): boolean {
  const values = req.query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function write(k: KubeCore, req: KubeRequest, status: number, fn: (dryRun: boolean) => JsonObject): HttpReply {
  const dryRun = isDryRun(req);
  const result = fn(dryRun);
  if (!dryRun) k.reconcile();
  return jsonReply(status, result);
}

/** A stored object as the API returns it from get/create/patch: with kind and apiVersion. */
export function manifest(obj: JsonObject, type: ResourceType): JsonObject {
  return { apiVersion: apiVersionOf(type), kind: type.kind, ...clone(obj) };
}

/** `manifest(obj, type)` for serialising at once: no deep copy, as stored objects never change. */
function manifestView(obj: JsonObject, type: ResourceType): JsonObject {
  return { apiVersion: apiVersionOf(type), kind: type.kind, ...obj };
}

/** A stored object as a list item: the real API omits kind and apiVersion inside lists. */
function listItem(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(obj)) if (k !== 'kind' && k !== 'apiVersion') out[k] = obj[k];
  return out;
}

function selectedEntries(k: KubeCore, t: Target, query: URLSearchParams): readonly Entry[] {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '', t.type);
  const all = k.store.list(t.type.plural, t.type.namespaced ? t.namespace : undefined);
  if (labels.length === 0 && fields.length === 0) return all;
  return all.filter((e) => matches(labels, labelsOf(e.obj)) && matchesFields(fields, e.obj));
}

function selected(k: KubeCore, t: Target, query: URLSearchParams): JsonObject[] {
  return selectedEntries(k, t, query).map((e) => e.obj);
}

/**
 * The page a list request selects: the first page snapshots the selected objects (references:
 * stored objects never change) and later pages, by continue token, continue that snapshot.
 */
function listPage(k: KubeCore, t: Target, query: URLSearchParams, path: string) {
  const limitRaw = query.get('limit');
  const limit = limitRaw ? Number(limitRaw) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: "${limitRaw}"`);
  const token = query.get('continue');
  let entries: readonly Entry[];
  let items: readonly JsonObject[];
  let offset = 0;
  let rv = Number(k.store.resourceVersion);
  // A continue token belongs to the list it came from: the same path and selectors.
  const listKey = `${path}?labelSelector=${query.get('labelSelector') ?? ''}&fieldSelector=${query.get('fieldSelector') ?? ''}`;
  if (token) {
    ({ entries, items, offset, rv } = k.store.loadSnapshot(token, listKey));
  } else {
    entries = selectedEntries(k, t, query);
    items = entries.map((e) => e.obj);
  }
  const end = limit > 0 ? Math.min(items.length, offset + limit) : items.length;
  const metadata: JsonObject = { resourceVersion: String(rv) };
  if (end < items.length) {
    metadata.continue = k.store.saveSnapshot(entries, items, end, rv, listKey);
    metadata.remainingItemCount = items.length - end;
  }
  return { entries, items, offset, end, rv, metadata, listKey };
}

/**
 * A list (or one page of it) as a meta.k8s.io Table (table.ts): the same page, continue token and
 * resourceVersion as the plain list, a row per object. Sent as one JSON body (gzipped whole when
 * large, server.ts); the compressed-page cache is for plain lists only.
 */
function listTable(k: KubeCore, t: Target, query: URLSearchParams, path: string, version: 'v1' | 'v1beta1'): HttpReply {
  const include = includeObjectOf(query);
  const { items, offset, end, metadata } = listPage(k, t, query, path);
  return jsonReply(200, table({ type: t.type, objects: items.slice(offset, end), metadata, version, include, now: k.now() }));
}

/**
 * A list, or one page of it. The first page selects the objects (a snapshot of references: stored
 * objects never change) and later pages continue that snapshot, so a paged list is consistent as
 * the API server's is; each page encodes only its own items, the real API's list items without
 * kind and apiVersion.
 */
function list(k: KubeCore, t: Target, query: URLSearchParams, path: string): HttpReply {
  const { entries, items, offset, end, rv, metadata, listKey } = listPage(k, t, query, path);
  // What jsonReply would write for { kind, apiVersion, metadata, items }, an item at a time. An
  // object's bytes are kept the second time it is encoded (if it is still its entry's current
  // object) and copied from then on: keeping them costs about as much again as encoding (fresh
  // memory), so an object listed once, as a first list is, is only encoded.
  const out = new JsonBodyWriter();
  const head = JSON.stringify({ kind: `${t.type.kind}List`, apiVersion: apiVersionOf(t.type), metadata });
  out.text(`${head.slice(0, -1)},"items":[`);
  const itemsAt = out.length;
  for (let i = offset; i < end; i++) {
    if (i > offset) out.ascii(',');
    const e = entries[i] as Entry;
    const o = items[i] as JsonObject;
    if (e.encodedOf === o && e.encoded) {
      out.copy(e.encoded, e.encodedAt ?? 0, e.encodedLength ?? 0);
      continue;
    }
    const start = out.length;
    out.json(listItem(o));
    if (e.obj === o && e.listedOf !== o) e.listedOf = o;
    else if (e.obj === o) {
      const kept = out.keep(start);
      e.encoded = kept.buf;
      e.encodedAt = kept.at;
      e.encodedLength = kept.length;
      e.encodedOf = o;
      e.listedOf = undefined;
    }
  }
  out.ascii(']}');
  const { body, release } = out.finish();
  // Compressed (server.ts), the head (it holds this call's continue token) and the end go as
  // stored blocks, made per call, and the items are compressed once per resourceVersion (the
  // next listing sends the same bytes).
  const compressParts = async (level: number): Promise<DeflatedPart[]> => {
    const parts = [storedPart(body.subarray(0, itemsAt))];
    const pageKey = `${listKey}&offset=${offset}&end=${end}&level=${level}`;
    parts.push(await k.store.compressedPage(pageKey, rv, () => deflatePart(body.subarray(itemsAt, body.length - 2), level)));
    parts.push(storedPart(body.subarray(body.length - 2)));
    return parts;
  };
  return { ...jsonReply(200, ''), body, release, compressParts };
}

/** How often an open watch lets the controllers catch up with the clock (pods ready, deadlines). */
const WATCH_TICK_MS = 200;
/** The API server's default watch length when the client sets no timeoutSeconds (minRequestTimeout 1800 s). */
const DEFAULT_WATCH_SECONDS = 1800;
/** Bookmarks, when asked for, come about once a minute (and just before the watch ends). */
const BOOKMARK_MS = 60_000;

/**
 * A watch as the API server streams it: with no resourceVersion (or "0"), an ADDED event per
 * current object first; with one, every change after it (an ERROR event with a 410 Expired
 * Status when history no longer reaches back that far). Then each change as it happens, as
 * seen through the selectors (an object that stops matching is DELETED, one that starts is
 * ADDED); BOOKMARK events with allowWatchBookmarks; the stream ends after timeoutSeconds.
 */
function watchStream(k: KubeCore, t: Target, query: URLSearchParams, asTable?: { version: 'v1' | 'v1beta1'; include: IncludeObject }): HttpReply | KubeStream {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '', t.type);
  const rvParam = query.get('resourceVersion') ?? '';
  const ns = t.type.namespaced ? t.namespace : undefined;
  const timeoutRaw = query.get('timeoutSeconds');
  const timeout = timeoutRaw === null ? DEFAULT_WATCH_SECONDS : Number(timeoutRaw);
  if (!Number.isFinite(timeout) || timeout < 0) throw badRequest(`timeoutSeconds: Invalid value: "${timeoutRaw}"`);
  const bookmarks = ['true', '1'].includes(query.get('allowWatchBookmarks') ?? '');
  const since = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
  if (since !== undefined && !Number.isInteger(since)) throw badRequest(`invalid resource version: ${rvParam}`);
  const match = (o: JsonObject) => matches(labels, labelsOf(o)) && matchesFields(fields, o);
  const keyOf = (o: JsonObject) => `${String(getPath(o, 'metadata.namespace') ?? '')}/${String(getPath(o, 'metadata.name') ?? '')}`;
  const line = (type: string, object: JsonObject) => `${JSON.stringify({ type, object })}\n`;
  // As a Table (kubectl get -w), each event's object is a one-row Table; only the first carries
  // the column definitions (later ones have null), as the API server's watch sets NoHeaders.
  let headers = true;
  const tableOf = (objects: JsonObject[], resourceVersion: string): JsonObject => {
    if (!asTable) throw new Error('not a Table watch');
    const out = table({ type: t.type, objects, metadata: { resourceVersion }, version: asTable.version, include: asTable.include, now: k.now() });
    if (!headers) out.columnDefinitions = null;
    headers = false;
    return out;
  };
  const objectLine = (type: string, o: JsonObject) =>
    line(type, asTable ? tableOf([o], String(getPath(o, 'metadata.resourceVersion') ?? '')) : manifestView(o, t.type));

  // Everything the watch starts with is computed now, before any later write.
  let initial: string[];
  let expired: KubeError | undefined;
  const visible = new Set<string>();
  try {
    if (since === undefined) {
      initial = selected(k, t, query).map((o) => {
        visible.add(keyOf(o));
        return objectLine('ADDED', o);
      });
    } else {
      for (const o of selected(k, t, query)) visible.add(keyOf(o));
      initial = k.store.eventsSince(since, t.type.plural, ns).filter((e) => match(e.obj)).map((e) => objectLine(e.type, e.obj));
    }
  } catch (err) {
    if (!(err instanceof KubeError) || err.code !== 410) throw err;
    initial = [];
    expired = err;
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' },
    start(write, end) {
      for (const l of initial) write(l);
      if (expired) {
        write(line('ERROR', statusBody(410, 'Expired', expired.message)));
        end();
        return () => undefined;
      }
      const bookmark = () => {
        if (!bookmarks) return;
        // A Table watch's bookmark is a Table holding only the resourceVersion.
        if (asTable) write(line('BOOKMARK', { kind: 'Table', apiVersion: `meta.k8s.io/${asTable.version}`, metadata: { resourceVersion: k.store.resourceVersion }, columnDefinitions: null, rows: null }));
        else write(line('BOOKMARK', { kind: t.type.kind, apiVersion: apiVersionOf(t.type), metadata: { resourceVersion: k.store.resourceVersion } }));
      };
      const unsubscribe = k.store.subscribe((e) => {
        if (e.plural !== t.type.plural || (ns !== undefined && e.namespace !== ns)) return;
        const key = keyOf(e.obj);
        const now = e.type !== 'DELETED' && match(e.obj);
        const was = visible.has(key);
        if (e.type === 'DELETED') {
          if (!was) return;
          visible.delete(key);
          write(objectLine('DELETED', e.obj));
        } else if (now) {
          visible.add(key);
          write(objectLine(was ? 'MODIFIED' : 'ADDED', e.obj));
        } else if (was) {
          // No longer selected: the watcher sees it leave.
          visible.delete(key);
          write(objectLine('DELETED', e.obj));
        }
      });
      const tick = setInterval(() => {
        try {
          k.reconcile();
        } catch {
          // a failing controller pass must not kill the stream; the next request reports it
        }
      }, WATCH_TICK_MS);
      const marks = bookmarks ? setInterval(bookmark, BOOKMARK_MS) : undefined;
      const stop = () => {
        clearInterval(tick);
        if (marks) clearInterval(marks);
        clearTimeout(timer);
        unsubscribe();
      };
      const timer = setTimeout(() => {
        bookmark();
        stop();
        end();
      }, timeout * 1000);
      return stop;
    },
  };
}
